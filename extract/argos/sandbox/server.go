package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/valyala/fastjson"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/argos/argoscrypt"
)

// Source produces the submissions created on a UTC day, as raw JSON items.
// It must return the same items for the same day on every call.
type Source interface {
	Day(day time.Time) [][]byte
}

// Path is the only path the server answers.
const Path = "/v3/submission"

// DefaultAPIKey is the key the server accepts unless WithAPIKey says otherwise.
const DefaultAPIKey = "demo-key"

// Server is an ARGOS-compatible submission API over a Source.
type Server struct {
	src      Source
	apiKey   string
	log      zerolog.Logger
	zone     *time.Location
	maxCount int // 0: no maximum
	now      func() time.Time
	cipher   *argoscrypt.Cipher // secure data transfer, when on
	optErr   error

	faultSwitch bool // serve FaultsPath

	calls  atomic.Int64
	faults faultState

	mu    sync.Mutex
	days  map[time.Time]*dayIndex
	order []time.Time // cached days, oldest first, for eviction

	srvMu sync.Mutex
	srv   *http.Server
}

var _ http.Handler = (*Server)(nil)

// Option configures a Server.
type Option func(*Server)

// WithAPIKey sets the key the server accepts (default "demo-key").
func WithAPIKey(key string) Option { return func(s *Server) { s.apiKey = key } }

// WithLogger sets the logger for requests (default: none).
func WithLogger(l zerolog.Logger) Option { return func(s *Server) { s.log = l } }

// WithZone sets the zone in which start_date and end_date are read (default
// Asia/Seoul as the fixed zone +09:00, so that no tzdata is needed).
func WithZone(z *time.Location) Option {
	return func(s *Server) {
		if z != nil {
			s.zone = z
		}
	}
}

// DefaultMaxCount is the largest count the server accepts unless
// WithMaxCount says otherwise. It is the fake's own limit: the vendor
// documents none.
const DefaultMaxCount = 2000

// WithMaxCount sets the largest count a request may ask for (default
// DefaultMaxCount); n < 1 sets no maximum. A larger count gets 400
// {"errorCode":"invalid_parameter","message":"count must be an integer
// from 1 to n"}, as an API with a limit of its own would answer.
func WithMaxCount(n int) Option {
	return func(s *Server) { s.maxCount = max(n, 0) }
}

// WithClock sets the clock that decides "today" for requests without dates
// (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(s *Server) {
		if now != nil {
			s.now = now
		}
	}
}

// WithSecureTransfer turns the project's secure data transfer on with
// secret (its secretKey, or its API key): 200 answers become
// {"isEncrypted":true,"data":"<ciphertext of the page>"}, and a request may
// carry its parameters encrypted in one data parameter (plain parameters
// are still read). A data parameter that does not decrypt gets 400
// invalid_payload. The cipher is argoscrypt's. An empty secret makes every
// request fail with 500 and Start fail.
func WithSecureTransfer(secret string) Option {
	return func(s *Server) {
		s.cipher, s.optErr = nil, nil
		c, err := argoscrypt.New(secret)
		if err != nil {
			s.optErr = fmt.Errorf("configuring secure data transfer: %w", err)
			return
		}
		s.cipher = c
	}
}

// Seoul is the vendor's zone, as a fixed offset.
var Seoul = time.FixedZone("KST", 9*3600)

// New returns a server over src.
func New(src Source, opts ...Option) *Server {
	s := &Server{
		src:      src,
		apiKey:   DefaultAPIKey,
		log:      zerolog.Nop(),
		zone:     Seoul,
		maxCount: DefaultMaxCount,
		now:      time.Now,
		days:     map[time.Time]*dayIndex{},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Calls returns how many requests the server has received, errors included.
func (s *Server) Calls() int64 { return s.calls.Load() }

// Start serves on a free loopback port and returns the base URL to give
// clients (without the /v3/submission path).
func (s *Server) Start() (baseURL string, err error) { return s.StartAt("127.0.0.1:0") }

// StartAt serves on addr (host:port; port 0 picks a free one) and returns
// the base URL to give clients.
func (s *Server) StartAt(addr string) (baseURL string, err error) {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.srv != nil {
		return "", errors.New("starting fake ARGOS server: already started")
	}
	if s.optErr != nil {
		return "", fmt.Errorf("starting fake ARGOS server: %w", s.optErr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("starting fake ARGOS server: %w", err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.srv = srv
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error().Err(err).Msg("fake ARGOS server stopped")
		}
	}()
	return "http://" + l.Addr().String(), nil
}

// Close stops a started server and its connections.
func (s *Server) Close() error {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.srv == nil {
		return nil
	}
	err := s.srv.Close()
	s.srv = nil
	return err
}

// Shutdown stops a started server gracefully, waiting for requests in flight.
func (s *Server) Shutdown(ctx context.Context) error {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.srv == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	s.srv = nil
	return err
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.calls.Add(1)
	switch {
	case r.URL.Path == FaultsPath && s.faultSwitch:
		s.serveFaultSwitch(w, r)
		return
	case r.URL.Path != Path:
		writeJSON(w, http.StatusNotFound, `{"message":"Not Found"}`)
		return
	case r.Method != http.MethodGet:
		w.Header().Set("Allow", http.MethodGet)
		writeJSON(w, http.StatusMethodNotAllowed, `{"message":"Method Not Allowed"}`)
		return
	}
	f, kind, repeatKey := s.faults.draw(r.URL.RawQuery)
	if !wait(r.Context(), f.Latency) {
		return // the client gave up
	}
	switch {
	case subtle.ConstantTimeCompare([]byte(r.Header.Get("x-api-key")), []byte(s.apiKey)) != 1:
		writeJSON(w, http.StatusForbidden, `{"message":"Forbidden"}`)
		return
	case s.optErr != nil:
		writeJSON(w, http.StatusInternalServerError, `{"errorCode":"processing_error","message":"Internal server error"}`)
		return
	case kind == fault429 || kind == fault500 || kind == fault502:
		s.injectFault(w, f, kind, nil)
		return
	}
	q, err := s.parseRequest(r)
	if err != nil {
		var be *badRequest
		if errors.As(err, &be) {
			body, _ := json.Marshal(map[string]string{"errorCode": be.code, "message": be.msg})
			writeJSON(w, http.StatusBadRequest, string(body))
			return
		}
		writeJSON(w, http.StatusInternalServerError, `{"errorCode":"processing_error","message":"Internal server error"}`)
		return
	}
	// A page cut short cannot show its key; the repeat counts only when served.
	body, n, repeated := s.page(q, repeatKey && kind == faultNone)
	if repeated {
		s.faults.counts.repeated.Add(1)
	}
	if s.cipher != nil {
		body, _ = json.Marshal(map[string]any{"isEncrypted": true, "data": s.cipher.Encrypt(body)})
	}
	if kind != faultNone {
		s.injectFault(w, f, kind, body)
		return
	}
	s.log.Debug().Str("start_date", q.start.Format(argos.DateLayout)).Str("end_date", q.end.Format(argos.DateLayout)).
		Int("count", q.count).Int("items", n).Bool("encrypted", s.cipher != nil).Msg("served submission page")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// query is a validated request.
type query struct {
	start, end   time.Time // zone midnights, end inclusive
	count        int
	afterAt      time.Time
	afterID      string
	afterDate    string // nextpage_date as sent
	paged        bool
	submissionID string
	userid       string
	email        string
	requestType  string
}

type badRequest struct{ code, msg string }

func (e *badRequest) Error() string { return e.code + ": " + e.msg }

func bad(code, format string, args ...any) error {
	return &badRequest{code, fmt.Sprintf(format, args...)}
}

const maxRangeDays = 400

// parseRequest reads a request's parameters: plain, or decrypted from its
// data parameter when secure data transfer is on.
func (s *Server) parseRequest(r *http.Request) (query, error) {
	v := r.URL.Query()
	if s.cipher != nil && v.Has("data") {
		plain, err := s.cipher.Decrypt(v.Get("data"))
		if err != nil {
			return query{}, bad("invalid_payload", "data could not be decrypted")
		}
		if v, err = paramsOf(plain); err != nil {
			return query{}, bad("invalid_payload", "data is not a JSON object of parameters")
		}
	}
	return s.parseQuery(v)
}

// paramsOf reads decrypted parameters: a JSON object of strings or numbers
// (null leaves a parameter out).
func paramsOf(plain []byte) (url.Values, error) {
	var m map[string]any
	if err := json.Unmarshal(plain, &m); err != nil {
		return nil, err
	}
	v := url.Values{}
	for k, x := range m {
		switch x := x.(type) {
		case string:
			v.Set(k, x)
		case float64:
			v.Set(k, strconv.FormatFloat(x, 'f', -1, 64))
		case nil:
		default:
			return nil, fmt.Errorf("parameter %s is not a string or a number", k)
		}
	}
	return v, nil
}

func (s *Server) parseQuery(v url.Values) (query, error) {
	q := query{count: 50}
	var err error
	startS, endS := v.Get("start_date"), v.Get("end_date")
	switch {
	case startS == "" && endS == "":
		today := s.now().In(s.zone)
		q.end = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, s.zone)
		q.start = q.end.AddDate(0, 0, -6)
	default:
		if startS == "" {
			startS = endS
		}
		if endS == "" {
			endS = startS
		}
		if q.start, err = s.date("start_date", startS); err != nil {
			return q, err
		}
		if q.end, err = s.date("end_date", endS); err != nil {
			return q, err
		}
	}
	if q.end.Before(q.start) {
		return q, bad("invalid_parameter", "end_date is before start_date")
	}
	if q.end.Sub(q.start) > maxRangeDays*24*time.Hour {
		return q, bad("invalid_parameter", "date range longer than %d days", maxRangeDays)
	}
	if c := v.Get("count"); c != "" {
		n, err := strconv.Atoi(c)
		switch {
		case s.maxCount == 0 && (err != nil || n < 1):
			return q, bad("invalid_parameter", "count must be a positive integer")
		case s.maxCount > 0 && (err != nil || n < 1 || n > s.maxCount):
			return q, bad("invalid_parameter", "count must be an integer from 1 to %d", s.maxCount)
		}
		q.count = n
	}
	id, date := v.Get("nextpage_id"), v.Get("nextpage_date")
	switch {
	case id != "" && date != "":
		t, err := argos.ParseTime(date)
		if err != nil {
			return q, bad("invalid_format", "nextpage_date is not a timestamp")
		}
		q.paged, q.afterAt, q.afterID, q.afterDate = true, t, id, date
	case id != "" || date != "":
		return q, bad("missing_data", "nextpage_id and nextpage_date go together")
	}
	q.submissionID, q.userid, q.email = v.Get("submission_id"), v.Get("userid"), v.Get("email")
	switch rt := v.Get("request_type"); rt {
	case "", "kyc", "aml", "data", "others":
		q.requestType = rt
	default:
		return q, bad("invalid_parameter", "request_type must be kyc, aml, data or others")
	}
	return q, nil
}

func (s *Server) date(name, value string) (time.Time, error) {
	if len(value) != 10 && len(value) != 8 {
		return time.Time{}, bad("invalid_format", "%s must be YYYY-MM-DD", name)
	}
	d, err := argos.ParseDate(value)
	if err != nil {
		return time.Time{}, bad("invalid_format", "%s must be YYYY-MM-DD", name)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, s.zone), nil
}

// entry is one served item with what ordering and filtering need.
type entry struct {
	raw        []byte
	at         time.Time // created_at, or noon of the Source day when unreadable
	cursor     string    // nextpageKey.id: the submission_id, or a stable stand-in
	cursorDate string    // nextpageKey.created_at
	id         string
	userid     string
	email      string
}

func less(a, b *entry) bool {
	if !a.at.Equal(b.at) {
		return a.at.Before(b.at)
	}
	return a.cursor < b.cursor
}

// dayIndex is one Source day, read once.
type dayIndex struct {
	once    sync.Once
	entries []entry
}

// maxCachedDays bounds the memory of the day cache (about 1.5 MB a day with
// synth's default volume).
const maxCachedDays = 64

func (s *Server) day(d time.Time) []entry {
	s.mu.Lock()
	ix, ok := s.days[d]
	if !ok {
		ix = &dayIndex{}
		s.days[d] = ix
		s.order = append(s.order, d)
		if len(s.order) > maxCachedDays {
			delete(s.days, s.order[0])
			s.order = s.order[1:]
		}
	}
	s.mu.Unlock()
	ix.once.Do(func() { ix.entries = index(d, s.src.Day(d)) })
	return ix.entries
}

func index(d time.Time, items [][]byte) []entry {
	var p fastjson.Parser
	out := make([]entry, 0, len(items))
	seen := make(map[string]int, len(items))
	for i, raw := range items {
		if fastjson.ValidateBytes(raw) != nil {
			// One broken item must not break the page around it.
			raw, _ = json.Marshal(string(raw))
		}
		e := entry{raw: raw}
		v, err := p.ParseBytes(raw)
		if err == nil && v.Type() == fastjson.TypeObject {
			e.id = argos.ScalarString(v.Get("submission_id"))
			e.userid = argos.ScalarString(v.Get("userid"))
			e.email = argos.ScalarString(v.Get("email"))
			if c := v.Get("created_at"); c != nil {
				if t, err := argos.TimeOf(c); err == nil {
					e.at = t
					e.cursorDate = argos.ScalarString(c)
				}
			}
		}
		if e.at.IsZero() {
			e.at = d.Add(12 * time.Hour)
			e.cursorDate = e.at.Format(time.RFC3339Nano)
		}
		// The cursor must be unique for paging to be exact, even when a
		// Source repeats a submission (as tests of deduplication do).
		e.cursor = e.id
		if e.cursor == "" {
			sum := sha256.Sum256(raw)
			e.cursor = fmt.Sprintf("~unreadable-%s-%d", hex.EncodeToString(sum[:6]), i)
		} else if n := seen[e.id]; n > 0 {
			e.cursor = fmt.Sprintf("%s~%d", e.id, n)
		}
		seen[e.id]++
		out = append(out, e)
	}
	return out
}

// page renders the page a query asks for and returns it with its item
// count. With repeatKey, a page that continues a chain carries the
// request's own nextpageKey (a fault), and repeated says so.
func (s *Server) page(q query, repeatKey bool) (body []byte, n int, repeated bool) {
	from, to := q.start, q.end.AddDate(0, 0, 1) // [from, to) in absolute time
	var hits []*entry
	for d := argos.Day(from); d.Before(to); d = d.AddDate(0, 0, 1) {
		entries := s.day(d)
		for i := range entries {
			e := &entries[i]
			if e.at.Before(from) || !e.at.Before(to) {
				continue
			}
			if q.submissionID != "" && e.id != q.submissionID ||
				q.userid != "" && e.userid != q.userid ||
				q.email != "" && e.email != q.email {
				continue
			}
			if q.paged && !less(&entry{at: q.afterAt, cursor: q.afterID}, e) {
				continue
			}
			hits = append(hits, e)
		}
	}
	sort.Slice(hits, func(i, j int) bool { return less(hits[i], hits[j]) })
	more := len(hits) > q.count
	if more {
		hits = hits[:q.count]
	}
	var b bytes.Buffer
	b.WriteString(`{"Items":[`)
	var p fastjson.Parser
	for i, e := range hits {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(project(&p, e.raw, q.requestType))
	}
	b.WriteByte(']')
	repeated = repeatKey && q.paged
	if more || repeated {
		var id, date []byte
		if repeated {
			id, _ = json.Marshal(q.afterID)
			date, _ = json.Marshal(q.afterDate)
		} else {
			last := hits[len(hits)-1]
			id, _ = json.Marshal(last.cursor)
			date, _ = json.Marshal(last.cursorDate)
		}
		b.WriteString(`,"nextpageKey":{"id":`)
		b.Write(id)
		b.WriteString(`,"created_at":`)
		b.Write(date)
		b.WriteByte('}')
	}
	b.WriteByte('}')
	return b.Bytes(), len(hits), repeated
}

// project keeps the part of an item a request_type asks for, plus
// submission_id. Items that are not objects are served as they are.
func project(p *fastjson.Parser, raw []byte, requestType string) []byte {
	if requestType == "" {
		return raw
	}
	v, err := p.ParseBytes(raw)
	if err != nil {
		return raw
	}
	o, err := v.Object()
	if err != nil {
		return raw
	}
	keep := func(k string) bool {
		switch requestType {
		case "others":
			return k != "kyc" && k != "aml" && k != "data"
		default:
			return k == requestType || k == "submission_id"
		}
	}
	out := []byte{'{'}
	first := true
	o.Visit(func(k []byte, v *fastjson.Value) {
		if !keep(string(k)) {
			return
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		key, _ := json.Marshal(string(k))
		out = append(out, key...)
		out = append(out, ':')
		out = v.MarshalTo(out)
	})
	return append(out, '}')
}
