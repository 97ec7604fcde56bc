// Package web is the statistics page: the vendor's dashboard page drawn
// from the warehouse views (sql/stats), live over HTTP (Server, behind
// kycetl serve: the page, its numbers as JSON under /api/ and the daily
// table as CSV) and as one self-contained HTML file (Report, behind kycetl
// report). The page is an html/template with its script, style and chart
// library (Apache ECharts) embedded in the binary; no byte comes from
// another host. The page computes no indicator: every number is a view's.
package web

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/felixge/httpsnoop"
	"github.com/rs/zerolog"

	"github.com/kycetl/kycetl/load/duckdb"
	"github.com/kycetl/kycetl/sql/stats"
)

// Opener opens the warehouse for one request and returns the database
// with the function that closes it.
type Opener func(ctx context.Context) (stats.DB, func() error, error)

// ReadOnly opens the DuckDB file at path read-only, anew for each call:
// the server holds no file open between requests, so a load (which needs
// the file alone, and may replace it) is never blocked by the page for
// longer than one request.
func ReadOnly(path string, log zerolog.Logger) Opener {
	return func(ctx context.Context) (stats.DB, func() error, error) {
		wh, err := duckdb.Open(ctx, path, duckdb.WithReadOnly(), duckdb.WithLogger(log))
		if err != nil {
			return stats.DB{}, nil, err
		}
		return stats.DuckDB.On(wh.DB()), wh.Close, nil
	}
}

// Shared hands every request the same handle on the warehouse, which its
// owner closes: BigQuery's (load/bigquery's query jobs), where a request
// opens nothing and holds nothing between its queries. Only the data
// requests (the page, /api/overview, /daily.csv) query; the page's assets
// are served from the binary.
func Shared(db stats.DB) Opener {
	return func(context.Context) (stats.DB, func() error, error) {
		return db, func() error { return nil }, nil
	}
}

// TokenCookie is the cookie that carries the access token once a browser
// gave it as the token query parameter.
const TokenCookie = "kycetl_token"

// DefaultPeriod is the period the page shows when no period, from or to
// is asked for.
const DefaultPeriod = "30d"

// Server serves the statistics page over the warehouse.
type Server struct {
	settings
	open Opener
	mux  *http.ServeMux
}

var _ http.Handler = (*Server)(nil)

// Option configures a Server or a Report.
type Option func(*settings)

type settings struct {
	log      zerolog.Logger
	now      func() time.Time
	token    string
	tz       string
	sections []Section
}

func defaults(opts []Option) settings {
	s := settings{log: zerolog.Nop(), now: time.Now, tz: DefaultTimeZone}
	for _, o := range opts {
		o(&s)
	}
	return s
}

// WithLogger logs each request (method, path without its query, status,
// duration) and each failure; default none.
func WithLogger(l zerolog.Logger) Option { return func(s *settings) { s.log = l } }

// WithClock sets the clock that periods and "today" are read from;
// default time.Now.
func WithClock(now func() time.Time) Option { return func(s *settings) { s.now = now } }

// WithToken makes the server ask every request for token: as a bearer
// Authorization header, a token query parameter (which a browser then
// keeps as a cookie) or the TokenCookie. Default: no token.
func WithToken(token string) Option { return func(s *settings) { s.token = token } }

// DefaultTimeZone is the time zone the peak-times heat map is shown in
// when none is asked for.
const DefaultTimeZone = "UTC"

// WithTimeZone sets the time zone (an IANA name) the peak-times heat map
// is shown in: the served page's default (its tz query parameter chooses
// another), a report's zone. Default DefaultTimeZone. A name that is no
// zone fails the page or report with an error naming it.
func WithTimeZone(tz string) Option { return func(s *settings) { s.tz = tz } }

// WithSections adds optional sections to the page (see Section).
func WithSections(sections ...Section) Option {
	return func(s *settings) { s.sections = append(s.sections, sections...) }
}

// New returns a Server that opens the warehouse with open for each request.
func New(open Opener, opts ...Option) *Server {
	s := &Server{settings: defaults(opts), open: open, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /{$}", s.page)
	s.mux.HandleFunc("GET /api/overview", s.api)
	s.mux.HandleFunc("GET /daily.csv", s.csv)
	s.mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.HandlerFunc(serveAsset)))
	return s
}

// ServeHTTP checks the token, when there is one, and serves the page, its
// API, its CSV or an asset.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := httpsnoop.CaptureMetricsFn(w, func(w http.ResponseWriter) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		if s.token != "" && !s.authorized(w, r) {
			return
		}
		s.mux.ServeHTTP(w, r)
	})
	// The path only: the query may hold the token.
	s.log.Debug().Str("method", r.Method).Str("path", r.URL.Path).Int("status", m.Code).
		Dur("duration", m.Duration).Msg("request")
}

// authorized checks the request's token, in constant time. A token given
// as a query parameter is kept as a cookie and the browser sent to the
// same address without it, so that it stays out of bookmarks and history.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if q := r.URL.Query(); q.Has("token") {
		if !s.tokenIs(q.Get("token")) {
			http.Error(w, "wrong token: give the value of KYCETL_SERVE_TOKEN", http.StatusUnauthorized)
			return false
		}
		http.SetCookie(w, &http.Cookie{Name: TokenCookie, Value: q.Get("token"), Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		q.Del("token")
		u := *r.URL
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
		return false
	}
	if auth := r.Header.Get("Authorization"); len(auth) > len("Bearer ") && auth[:len("Bearer ")] == "Bearer " {
		if s.tokenIs(auth[len("Bearer "):]) {
			return true
		}
	} else if c, err := r.Cookie(TokenCookie); err == nil && s.tokenIs(c.Value) {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="kycetl"`)
	http.Error(w, "this page asks for a token: add ?token=<KYCETL_SERVE_TOKEN> to the address, or send it as a bearer Authorization header", http.StatusUnauthorized)
	return false
}

func (s *Server) tokenIs(given string) bool {
	return subtle.ConstantTimeCompare([]byte(given), []byte(s.token)) == 1
}

// request reads the filter bar from the query parameters (stats.Request);
// period "custom", which the page's form sends with from and to, is no
// preset. Without any period, from or to the page shows DefaultPeriod.
func request(q url.Values) stats.Request {
	r := stats.Request{From: q.Get("from"), To: q.Get("to"), Period: q.Get("period"),
		Status: q.Get("status"), Project: q.Get("project"), Sort: q.Get("sort")}
	if r.Period == "custom" {
		r.Period = ""
	}
	return withDefaultPeriod(r)
}

// withDefaultPeriod is r, with DefaultPeriod when it asks for no period,
// from or to.
func withDefaultPeriod(r stats.Request) stats.Request {
	if r.Period == "" && r.From == "" && r.To == "" {
		r.Period = DefaultPeriod
	}
	return r
}

// overview opens the warehouse and reads the page under the request's
// filter, with its optional sections. Its error carries the HTTP status.
func (s *Server) overview(ctx context.Context, q url.Values) (*data, error) {
	req := request(q)
	f, err := req.Filter(s.now())
	if err != nil {
		return nil, &httpError{http.StatusBadRequest, err}
	}
	tz := s.tz
	if q.Has("tz") {
		tz = q.Get("tz")
	}
	if err := CheckTimeZone(tz); err != nil {
		return nil, &httpError{http.StatusBadRequest, err}
	}
	db, closeDB, err := s.open(ctx)
	if errors.Is(err, duckdb.ErrLocked) {
		return nil, &httpError{http.StatusServiceUnavailable, errors.New("a load is writing the warehouse right now: reload the page when it is done")}
	}
	if err != nil {
		return nil, &httpError{http.StatusInternalServerError, fmt.Errorf("opening the warehouse: %w", err)}
	}
	defer closeDB()
	d, err := build(ctx, db, req, f, tz, s.now(), s.sections)
	var unknown *stats.UnknownProjectError
	if errors.As(err, &unknown) {
		return nil, &httpError{http.StatusNotFound, err}
	}
	if err != nil {
		return nil, &httpError{http.StatusInternalServerError, err}
	}
	return d, nil
}

// httpError is a failure with the HTTP status it is answered with.
type httpError struct {
	status int
	err    error
}

func (e *httpError) Error() string { return e.err.Error() }
func (e *httpError) Unwrap() error { return e.err }

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	he := &httpError{http.StatusInternalServerError, err}
	errors.As(err, &he)
	if he.status >= 500 {
		s.log.Error().Err(err).Str("path", r.URL.Path).Msg("serving the statistics page")
	}
	if he.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	http.Error(w, err.Error(), he.status)
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	d, err := s.overview(r.Context(), r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Query = r.URL.Query()
	d.Query.Del("token")
	var b bytes.Buffer
	if err := render(&b, d, false); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
	w.Write(b.Bytes())
}

func (s *Server) api(w http.ResponseWriter, r *http.Request) {
	d, err := s.overview(r.Context(), r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(d.JSON())
}

func (s *Server) csv(w http.ResponseWriter, r *http.Request) {
	d, err := s.overview(r.Context(), r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b bytes.Buffer
	if err := stats.Print(&b, "csv", &d.Overview.Page); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+d.FileName()+`.csv"`)
	w.Write(b.Bytes())
}

// contentSecurityPolicy lets the page load nothing from another origin.
const contentSecurityPolicy = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'"
