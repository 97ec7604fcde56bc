package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/kycetl/kycetl/extract"
	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/argos/sandbox"
	"github.com/kycetl/kycetl/extract/argos/synth"
	fsource "github.com/kycetl/kycetl/extract/fractal/source"
	"github.com/kycetl/kycetl/internal/kyctest"
	"github.com/kycetl/kycetl/internal/pipeline"
	"github.com/kycetl/kycetl/internal/window"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/load/duckdb"
	"github.com/kycetl/kycetl/sql/stats"
	"github.com/kycetl/kycetl/transform/pii"
)

// fixture is a warehouse loaded over the real extraction path from two
// ARGOS sandboxes the demo never uses (seeds and volumes of their own),
// up to today: north 32 days, so that the page's default period (30 days)
// has data on each day, south the last 12.
type fixture struct {
	dir      string // the archive directory
	path     string // its DuckDB file
	from, to time.Time
	gens     map[string]*synth.Generator // per project
	firsts   map[string]time.Time        // each project's first day
}

var fx *fixture

// projects of the fixture.
var projects = []string{"north", "south"}

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "kycetl-web-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if fx, err = load(dir); err != nil {
			fmt.Fprintln(os.Stderr, "loading the test warehouse:", err)
			return 1
		}
		defer closeBrowser()
		return m.Run()
	}()
	os.Exit(code)
}

func load(dir string) (*fixture, error) {
	ctx := context.Background()
	const key = "web-test-api-key-5521"
	now := time.Now().UTC()
	f := &fixture{dir: dir, path: archive.Layout{Dir: dir}.DuckDBPath(), to: window.Day(now), gens: map[string]*synth.Generator{}, firsts: map[string]time.Time{}}
	f.from = f.to.AddDate(0, 0, -31)
	wh, err := duckdb.Open(ctx, f.path)
	if err != nil {
		return nil, err
	}
	defer wh.Close()
	if err := wh.Prepare(ctx); err != nil {
		return nil, err
	}
	pol, err := pii.New(pii.WithKey([]byte("web-test-pii-key-0123456789")))
	if err != nil {
		return nil, err
	}
	pl, err := pipeline.New(archive.Layout{Dir: dir}, wh, pipeline.WithPolicy(pol))
	if err != nil {
		return nil, err
	}
	for i, p := range projects {
		gen := synth.New(int64(7301+i*17), synth.WithVolume(8+i*6, 30+i*10), synth.WithAsOf(now))
		f.gens[p] = gen
		srv := sandbox.New(gen, sandbox.WithAPIKey(key))
		url, err := srv.Start()
		if err != nil {
			return nil, err
		}
		c, err := argos.NewClient(url, key, argos.WithPageSize(500))
		if err != nil {
			srv.Close()
			return nil, err
		}
		from := f.from
		if i > 0 {
			from = f.to.AddDate(0, 0, -11)
		}
		f.firsts[p] = from
		sum, err := pl.Load(ctx, argos.NewExtractor(c), "run", p, from, f.to)
		srv.Close()
		if err != nil {
			return nil, err
		}
		if len(sum.Failed) > 0 {
			return nil, fmt.Errorf("loading %s: days failed: %v", p, sum.Failed)
		}
	}
	// Fractal's snapshots of north, the last fractalDays days, pulled from
	// the built-in Fractal-compatible API; south has none.
	fetcher, closer, err := fsource.Source{}.Sandbox(ctx, extract.SandboxOptions{Seed: 4409, AsOf: now})
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	fp, err := pipeline.New(archive.Layout{Dir: dir}, wh, pipeline.WithPolicy(pol), pipeline.WithSource(fsource.Source{}))
	if err != nil {
		return nil, err
	}
	if sum, err := fp.Load(ctx, fetcher, "fractal", "north", f.to.AddDate(0, 0, -(fractalDays-1)), f.to); err != nil {
		return nil, err
	} else if len(sum.Failed) > 0 {
		return nil, fmt.Errorf("pulling Fractal snapshots: days failed: %v", sum.Failed)
	}
	return f, nil
}

// fractalDays are the days of north's Fractal snapshots.
const fractalDays = 4

// db opens the fixture's warehouse read-only, as the page does.
func (f *fixture) db(t testing.TB) stats.DB {
	t.Helper()
	wh, err := duckdb.Open(context.Background(), f.path, duckdb.WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	return stats.DuckDB.On(wh.DB())
}

// views reads the overview the views give under the request, with the
// page's default period.
func (f *fixture) views(t testing.TB, q url.Values) *stats.Overview {
	t.Helper()
	flt, err := request(q).Filter(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	o, err := stats.QueryOverview(context.Background(), f.db(t), flt)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// expected counts the default period's days from the generators' items,
// independently of the flattener and the views, summed over the projects.
func (f *fixture) expected(t testing.TB, from, to time.Time) map[string]kyctest.Counts {
	t.Helper()
	out := map[string]kyctest.Counts{}
	for _, p := range projects {
		days, err := kyctest.Expected(f.gens[p], later(from, f.firsts[p]), to)
		if err != nil {
			t.Fatal(err)
		}
		for d, c := range days {
			out[d] = out[d].Plus(c)
		}
	}
	return out
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func serve(t testing.TB, opts ...Option) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(New(ReadOnly(fx.path, zerolog.Nop()), opts...))
	t.Cleanup(srv.Close)
	return srv
}

var get = kyctest.Get

// TestAPIAndCSVAreTheViews: /api/overview gives the views' numbers under
// the filter in the query, and /daily.csv is kycetl stats --format csv.
func TestAPIAndCSVAreTheViews(t *testing.T) {
	srv := serve(t)
	for _, q := range []url.Values{
		{},
		{"status": {"rejected"}},
		{"period": {"all"}},
		{"from": {window.FormatDate(fx.to.AddDate(0, 0, -20))}, "to": {window.FormatDate(fx.to.AddDate(0, 0, -10))}, "project": {"south"}, "sort": {"credits"}},
	} {
		want := fx.views(t, q)
		resp, body := get(t, nil, srv.URL+"/api/overview?"+q.Encode(), nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%v: %d %s", q, resp.StatusCode, body)
		}
		var got struct {
			Cards        stats.Cards   `json:"cards"`
			Daily        []stats.Day   `json:"daily"`
			Days         []stats.Day   `json:"days"`
			Distribution []stats.Share `json:"distribution"`
			Projects     []stats.Day   `json:"projects"`
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		for name, pair := range map[string][2]any{
			"cards": {got.Cards, want.Cards}, "daily": {got.Daily, want.Daily}, "days": {got.Days, want.Days},
			"distribution": {got.Distribution, want.Distribution}, "projects": {got.Projects, want.Projects},
		} {
			g, _ := json.Marshal(pair[0])
			w, _ := json.Marshal(pair[1])
			if !bytes.Equal(g, w) {
				t.Errorf("%v: api %s\n%s\nwant\n%s", q, name, g, w)
			}
		}
		if len(want.Daily) == 0 {
			t.Errorf("%v: no days: the fixture does not reach the filter", q)
		}
		if days := len(want.Daily); q.Get("period") == "all" && days != 32 {
			t.Errorf("period=all: %d days, want the fixture's 32", days)
		}
		if q.Get("sort") == "" {
			continue
		}
		resp, body = get(t, nil, srv.URL+"/daily.csv?"+q.Encode(), nil)
		var csv bytes.Buffer
		stats.Print(&csv, "csv", &want.Page)
		if resp.StatusCode != http.StatusOK || body != csv.String() || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("%v: csv %d %q\n%s\nwant\n%s", q, resp.StatusCode, resp.Header.Get("Content-Disposition"), body, csv.String())
		}
	}
}

// TestBadFilters: a filter that cannot be read is a 400 naming it; a
// project the warehouse does not hold, a 404 listing those it holds.
func TestBadFilters(t *testing.T) {
	srv := serve(t)
	for q, want := range map[string]string{
		"from=2025-13-01":                 "from: ",
		"from=2025-03-02&to=2025-03-01":   "to: ",
		"period=2w":                       "period: ",
		"period=7d&from=2025-03-01":       "period: ",
		"status=lost":                     "status: ",
		"sort=size":                       "sort: ",
		"project=nowhere":                 "north, south",
		"project=nowhere&from=2025-03-01": "north, south",
	} {
		for _, path := range []string{"/", "/api/overview", "/daily.csv"} {
			resp, body := get(t, nil, srv.URL+path+"?"+q, nil)
			wantCode := http.StatusBadRequest
			if strings.HasPrefix(q, "project") {
				wantCode = http.StatusNotFound
			}
			if resp.StatusCode != wantCode || !strings.Contains(body, want) {
				t.Errorf("%s?%s: %d %q; want %d naming %q", path, q, resp.StatusCode, body, wantCode, want)
			}
		}
	}
}

// TestLockedWarehouse: while a load holds the warehouse, the page answers
// 503 with a Retry-After, and says why.
func TestLockedWarehouse(t *testing.T) {
	locked := func(ctx context.Context) (stats.DB, func() error, error) {
		return stats.DB{}, nil, fmt.Errorf("opening DuckDB warehouse x: %w", duckdb.ErrLocked)
	}
	srv := httptest.NewServer(New(locked))
	defer srv.Close()
	resp, body := get(t, nil, srv.URL+"/", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "load is writing") {
		t.Errorf("locked: %d %q %q", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
}

// TestToken: with a token, every path asks for it; a bearer header, the
// token query parameter (kept as a cookie, then dropped from the address)
// and the cookie are accepted; a wrong one never is; the token is in no
// log line.
func TestToken(t *testing.T) {
	const token = "serve-token-7f3a9c"
	var logs kyctest.SyncBuffer
	srv := serve(t, WithToken(token), WithLogger(zerolog.New(&logs).Level(zerolog.DebugLevel)))
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/", "/api/overview", "/daily.csv", "/assets/page.js"} {
		if resp, _ := get(t, noRedirect, srv.URL+path, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d", path, resp.StatusCode)
		}
		if resp, _ := get(t, noRedirect, srv.URL+path, http.Header{"Authorization": {"Bearer wrong"}}); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s with a wrong bearer token: %d", path, resp.StatusCode)
		}
		if resp, _ := get(t, noRedirect, srv.URL+path, http.Header{"Cookie": {TokenCookie + "=wrong"}}); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s with a wrong cookie: %d", path, resp.StatusCode)
		}
	}
	// Accepted (on an asset, which reads no warehouse, and once on the page).
	for _, h := range []http.Header{{"Authorization": {"Bearer " + token}}, {"Cookie": {TokenCookie + "=" + token}}} {
		if resp, _ := get(t, noRedirect, srv.URL+"/assets/page.js", h); resp.StatusCode != http.StatusOK {
			t.Errorf("with %v: %d", h, resp.StatusCode)
		}
	}
	if resp, _ := get(t, noRedirect, srv.URL+"/", http.Header{"Authorization": {"Bearer " + token}}); resp.StatusCode != http.StatusOK {
		t.Errorf("the page with the bearer token: %d", resp.StatusCode)
	}
	resp, _ := get(t, noRedirect, srv.URL+"/?status=approved&token="+token, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/?status=approved" || len(resp.Cookies()) != 1 || resp.Cookies()[0].Value != token {
		t.Errorf("token in the query: %d, Location %q, cookies %v; want 303 to /?status=approved with the cookie", resp.StatusCode, resp.Header.Get("Location"), resp.Cookies())
	}
	if resp, _ := get(t, noRedirect, srv.URL+"/?token=wrong", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a wrong token in the query: %d", resp.StatusCode)
	}
	if strings.Contains(logs.String(), token) || !strings.Contains(logs.String(), "request") {
		t.Errorf("the log names the token, or logs no request:\n%s", logs.String())
	}
}

// TestSections: an optional section is drawn only when its query has rows.
func TestSections(t *testing.T) {
	rows := func(n int) Section {
		id := fmt.Sprintf("optional-%d", n)
		return Section{ID: id, Title: "Optional " + id, Query: func(ctx context.Context, db stats.DB, f stats.Filter) (*Table, error) {
			tb := &Table{Columns: []string{"a"}}
			for i := range n {
				tb.Rows = append(tb.Rows, []string{fmt.Sprint(i)})
			}
			return tb, nil
		}}
	}
	srv := serve(t, WithSections(rows(0), rows(2)))
	_, body := get(t, nil, srv.URL+"/", nil)
	if strings.Contains(body, `data-section="optional-0"`) || !strings.Contains(body, `data-section="optional-2"`) {
		t.Errorf("sections: want optional-2 only:\n%s", body[:min(len(body), 3000)])
	}
	_, body = get(t, nil, srv.URL+"/api/overview", nil)
	if strings.Contains(body, `"optional-0"`) || !strings.Contains(body, `"optional-2"`) {
		t.Errorf("sections in the JSON: want optional-2 only:\n%s", body)
	}
}

// TestReportNeedsNothingElse: the report holds its script, style, chart
// library and numbers, and names no other file or host.
func TestReportNeedsNothingElse(t *testing.T) {
	var b bytes.Buffer
	if err := Report(context.Background(), &b, fx.db(t), stats.Request{Status: "approved"}); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, bad := range []string{"<script src", `<link rel="stylesheet"`, "<iframe src"} {
		if strings.Contains(html, bad) {
			t.Errorf("the report refers to another file: it holds %q", bad)
		}
	}
	if !strings.Contains(html, "echarts") || !strings.Contains(html, `id="kycetl-data"`) || !strings.Contains(html, "data:text/csv") {
		t.Error("the report lacks its chart library, data or CSV")
	}
	var fe *stats.FieldError
	if err := Report(context.Background(), io.Discard, fx.db(t), stats.Request{Period: "2w"}); !errors.As(err, &fe) || fe.Field != "period" {
		t.Errorf("a bad period: %v; want a FieldError on period", err)
	}
}

func writeFile(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTimeZone: the heat map's zone is the server's (WithTimeZone), or the
// tz parameter's; the JSON's cells are the reader's in that zone; a name
// that is no zone answers 400 naming tz, and fails a report.
func TestTimeZone(t *testing.T) {
	srv := serve(t, WithTimeZone("Europe/Paris"))
	for tz, query := range map[string]string{"Europe/Paris": "", "America/Sao_Paulo": "?tz=America/Sao_Paulo"} {
		resp, body := get(t, nil, srv.URL+"/api/overview"+query, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", query, resp.StatusCode, body)
		}
		var got struct {
			Insights struct {
				TZ        string           `json:"tz"`
				PeakTimes []stats.PeakCell `json:"peak_times"`
			} `json:"insights"`
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		flt, _ := request(url.Values{}).Filter(time.Now())
		want, err := stats.PeakTimes(context.Background(), fx.db(t), stats.Range{From: flt.From, To: flt.To}, "total", tz)
		if err != nil {
			t.Fatal(err)
		}
		if got.Insights.TZ != tz || fmt.Sprint(got.Insights.PeakTimes) != fmt.Sprint(want) {
			t.Errorf("%s: the heat map in %s: %v; the reader in %s: %v", query, got.Insights.TZ, got.Insights.PeakTimes, tz, want)
		}
	}
	for _, bad := range []string{"Mars/Olympus", "Local", "../etc/passwd"} {
		resp, body := get(t, nil, srv.URL+"/?tz="+url.QueryEscape(bad), nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "tz") {
			t.Errorf("tz=%s: %d %s; want 400 naming tz", bad, resp.StatusCode, body)
		}
	}
	if err := Report(context.Background(), io.Discard, fx.db(t), stats.Request{}, WithTimeZone("Mars/Olympus")); err == nil || !strings.Contains(err.Error(), "Mars/Olympus") {
		t.Errorf("a report in no zone: %v", err)
	}
}
