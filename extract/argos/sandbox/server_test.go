package sandbox_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/argos/sandbox"
	"github.com/kycetl/kycetl/extract/argos/synth"
)

var day0 = time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)

var _ sandbox.Source = (*synth.Generator)(nil)

func gen() *synth.Generator {
	return synth.New(1, synth.WithAsOf(time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)), synth.WithVolume(40, 60))
}

type page struct {
	Items       []json.RawMessage
	NextpageKey *struct {
		ID        string `json:"id"`
		CreatedAt string `json:"created_at"`
	} `json:"nextpageKey"`
}

// get calls the server over loopback and returns status and body.
func get(t *testing.T, base, key string, q url.Values) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+sandbox.Path+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func start(t *testing.T, s *sandbox.Server) string {
	t.Helper()
	base, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return base
}

// all pages through one query and returns every item in order.
func all(t *testing.T, base string, q url.Values) (items [][]byte, pages int) {
	t.Helper()
	for {
		status, body := get(t, base, sandbox.DefaultAPIKey, q)
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, body)
		}
		var p page
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		pages++
		for _, it := range p.Items {
			items = append(items, it)
		}
		if p.NextpageKey == nil {
			return items, pages
		}
		q.Set("nextpage_id", p.NextpageKey.ID)
		q.Set("nextpage_date", p.NextpageKey.CreatedAt)
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
	}
}

func TestAuthAndRouting(t *testing.T) {
	s := sandbox.New(gen(), sandbox.WithAPIKey("k1"))
	base := start(t, s)
	q := url.Values{"start_date": {"2025-02-01"}, "end_date": {"2025-02-01"}}
	for _, key := range []string{"", "wrong"} {
		status, body := get(t, base, key, q)
		if status != http.StatusForbidden || string(body) != `{"message":"Forbidden"}` {
			t.Errorf("key %q: %d %s, want 403 Forbidden", key, status, body)
		}
	}
	if status, _ := get(t, base, "k1", q); status != http.StatusOK {
		t.Errorf("right key: status %d", status)
	}
	resp, err := http.Get(base + "/v3/other")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("other path: %d, want 404", resp.StatusCode)
	}
	resp, err = http.Post(base+sandbox.Path, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET" {
		t.Errorf("POST: %d, want 405 with Allow: GET", resp.StatusCode)
	}
	if s.Calls() != 5 {
		t.Errorf("Calls() = %d, want 5", s.Calls())
	}
}

func TestBadRequests(t *testing.T) {
	base := start(t, sandbox.New(gen()))
	for _, c := range []struct {
		query string
		code  string
	}{
		{"start_date=2025/02/01&end_date=2025-02-01", "invalid_format"},
		{"start_date=2025-02-30&end_date=2025-03-01", "invalid_format"},
		{"start_date=2025-02-01&end_date=yesterday", "invalid_format"},
		{"start_date=2025-02-02&end_date=2025-02-01", "invalid_parameter"},
		{"start_date=2025-02-01&end_date=2025-02-01&count=0", "invalid_parameter"},
		{"start_date=2025-02-01&end_date=2025-02-01&count=2001", "invalid_parameter"},
		{"start_date=2025-02-01&end_date=2025-02-01&count=ten", "invalid_parameter"},
		{"start_date=2025-02-01&end_date=2025-02-01&request_type=all", "invalid_parameter"},
		{"start_date=2025-02-01&end_date=2025-02-01&nextpage_id=abc", "missing_data"},
		{"start_date=2025-02-01&end_date=2025-02-01&nextpage_id=abc&nextpage_date=soon", "invalid_format"},
	} {
		q, _ := url.ParseQuery(c.query)
		status, body := get(t, base, sandbox.DefaultAPIKey, q)
		var e struct{ ErrorCode, Message string }
		if err := json.Unmarshal(body, &e); err != nil || status != http.StatusBadRequest || e.ErrorCode != c.code || e.Message == "" {
			t.Errorf("%s: %d %s, want 400 %s", c.query, status, body, c.code)
		}
	}
}

// TestMaxCount: a count above the server's maximum gets 400
// invalid_parameter with a message naming count; WithMaxCount(0) sets no
// maximum, as the vendor documents none.
func TestMaxCount(t *testing.T) {
	day := url.Values{"start_date": {"2025-02-01"}, "end_date": {"2025-02-01"}}
	ask := func(base, count string) (int, string, string, int) {
		q := url.Values{"count": {count}}
		for k, v := range day {
			q[k] = v
		}
		status, body := get(t, base, sandbox.DefaultAPIKey, q)
		var r struct {
			ErrorCode, Message string
			Items              []json.RawMessage
		}
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("count=%s: %s", count, body)
		}
		return status, r.ErrorCode, r.Message, len(r.Items)
	}
	limited := start(t, sandbox.New(gen(), sandbox.WithMaxCount(30)))
	if status, code, msg, _ := ask(limited, "31"); status != http.StatusBadRequest || code != "invalid_parameter" || msg != "count must be an integer from 1 to 30" {
		t.Errorf("count 31 over a maximum of 30: %d %s %q", status, code, msg)
	}
	if status, _, _, n := ask(limited, "30"); status != http.StatusOK || n != 30 {
		t.Errorf("count 30 at a maximum of 30: %d with %d items", status, n)
	}
	unlimited := start(t, sandbox.New(gen(), sandbox.WithMaxCount(0)))
	if status, _, _, n := ask(unlimited, "1000000"); status != http.StatusOK || n != len(seoulDay(gen(), day0)) {
		t.Errorf("count 1000000 without a maximum: %d with %d items", status, n)
	}
	for _, bad := range []string{"0", "-3", "ten"} {
		if status, code, msg, _ := ask(unlimited, bad); status != http.StatusBadRequest || code != "invalid_parameter" || !strings.Contains(msg, "count") {
			t.Errorf("count %s without a maximum: %d %s %q", bad, status, code, msg)
		}
	}
}

// seoulDay lists the items of a Seoul calendar day straight from the source.
func seoulDay(g *synth.Generator, d time.Time) map[string][]byte {
	from := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, sandbox.Seoul)
	to := from.AddDate(0, 0, 1)
	out := map[string][]byte{}
	var p fastjson.Parser
	for u := argos.Day(from); u.Before(to); u = u.AddDate(0, 0, 1) {
		for _, it := range g.Day(u) {
			k, err := argos.ReadKey(&p, it)
			if err != nil {
				panic(err)
			}
			if !k.CreatedAt.Before(from) && k.CreatedAt.Before(to) {
				out[k.SubmissionID] = it
			}
		}
	}
	return out
}

func TestPagingServesTheZoneDayByteExact(t *testing.T) {
	g := gen()
	base := start(t, sandbox.New(g))
	want := seoulDay(g, day0)
	items, pages := all(t, base, url.Values{"start_date": {"2025-02-01"}, "end_date": {"2025-02-01"}, "count": {"7"}})
	if wantPages := (len(want) + 6) / 7; pages != wantPages {
		t.Errorf("%d pages, want %d", pages, wantPages)
	}
	if len(items) != len(want) {
		t.Fatalf("%d items, want %d", len(items), len(want))
	}
	var p fastjson.Parser
	var prev argos.Key
	for i, it := range items {
		k, err := argos.ReadKey(&p, it)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(it, want[k.SubmissionID]) {
			t.Fatalf("item %s is not served byte for byte", k.SubmissionID)
		}
		if i > 0 && (k.CreatedAt.Before(prev.CreatedAt) || k.CreatedAt.Equal(prev.CreatedAt) && k.SubmissionID <= prev.SubmissionID) {
			t.Fatalf("items out of order at %d", i)
		}
		prev = k
	}
	// The Seoul day starts at 15:00 UTC the day before.
	first, _ := argos.ReadKey(&p, items[0])
	if !first.CreatedAt.Before(day0) {
		t.Errorf("first item of Seoul's 2025-02-01 created %s, want before UTC midnight", first.CreatedAt)
	}
}

func TestDefaultsRangesAndZones(t *testing.T) {
	g := synth.New(1, synth.WithAsOf(time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)), synth.WithVolume(60, 80))
	now := time.Date(2025, 2, 10, 3, 0, 0, 0, time.UTC)
	base := start(t, sandbox.New(g, sandbox.WithZone(time.UTC), sandbox.WithClock(func() time.Time { return now })))
	status, body := get(t, base, sandbox.DefaultAPIKey, url.Values{"start_date": {"20250201"}, "end_date": {"20250201"}})
	var p page
	if err := json.Unmarshal(body, &p); err != nil || status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	if len(p.Items) != 50 || p.NextpageKey == nil {
		t.Errorf("default count: %d items, next %v; want 50 and a next page", len(p.Items), p.NextpageKey)
	}
	// Two days in UTC are exactly the source's two days.
	items, _ := all(t, base, url.Values{"start_date": {"2025-02-01"}, "end_date": {"2025-02-02"}, "count": {"2000"}})
	if n := len(g.Day(day0)) + len(g.Day(day0.AddDate(0, 0, 1))); len(items) != n {
		t.Errorf("two UTC days: %d items, want %d", len(items), n)
	}
	// Without dates: the 7 days up to today.
	items, _ = all(t, base, url.Values{"count": {"2000"}})
	n := 0
	for i := range 7 {
		n += len(g.Day(argos.Day(now).AddDate(0, 0, -i)))
	}
	if len(items) != n {
		t.Errorf("no dates: %d items, want %d (7 days)", len(items), n)
	}
}

func TestFiltersAndRequestTypes(t *testing.T) {
	g := gen()
	base := start(t, sandbox.New(g))
	src := g.Day(day0)
	var p fastjson.Parser
	v, err := p.ParseBytes(src[len(src)/3]) // created before 15:00 UTC: on Seoul's 2025-02-01
	if err != nil {
		t.Fatal(err)
	}
	id := string(v.GetStringBytes("submission_id"))
	for _, q := range []url.Values{
		{"submission_id": {id}},
		{"userid": {string(v.GetStringBytes("userid"))}},
		{"email": {string(v.GetStringBytes("email"))}},
	} {
		q.Set("start_date", "2025-02-01")
		q.Set("end_date", "2025-02-01")
		items, _ := all(t, base, q)
		found := false
		for _, it := range items {
			found = found || bytes.Equal(it, src[len(src)/3])
		}
		if !found || len(items) > 3 {
			t.Errorf("filter %v: %d items, target found %v", q, len(items), found)
		}
	}
	for rt, allowed := range map[string]func(string) bool{
		"kyc":    func(k string) bool { return k == "kyc" || k == "submission_id" },
		"aml":    func(k string) bool { return k == "aml" || k == "submission_id" },
		"data":   func(k string) bool { return k == "data" || k == "submission_id" },
		"others": func(k string) bool { return k != "kyc" && k != "aml" && k != "data" },
	} {
		items, _ := all(t, base, url.Values{"start_date": {"2025-02-01"}, "end_date": {"2025-02-01"}, "request_type": {rt}, "count": {"2000"}})
		if len(items) == 0 {
			t.Fatalf("request_type %s: no items", rt)
		}
		for _, it := range items {
			v, err := p.ParseBytes(it)
			if err != nil {
				t.Fatalf("request_type %s: %v", rt, err)
			}
			o, _ := v.Object()
			o.Visit(func(k []byte, _ *fastjson.Value) {
				if !allowed(string(k)) {
					t.Errorf("request_type %s: field %s", rt, k)
				}
			})
			if !v.Exists("submission_id") {
				t.Errorf("request_type %s: no submission_id", rt)
			}
		}
	}
}

type fixed map[time.Time][][]byte

func (f fixed) Day(d time.Time) [][]byte { return f[d] }

func TestUnreadableAndRepeatedItemsAreServed(t *testing.T) {
	src := fixed{day0: {
		[]byte(`not json`),
		[]byte(`{"submission_id":"a","created_at":"2025-02-01-03-00-00-000","updated_at":"2025-02-01-03-00-00-000"}`),
		[]byte(`{"submission_id":"a","created_at":"2025-02-01-03-00-00-000","updated_at":"2025-02-03-03-00-00-000"}`),
		[]byte(`{"submission_id":"b"}`),
	}}
	base := start(t, sandbox.New(src, sandbox.WithZone(time.UTC)))
	items, pages := all(t, base, url.Values{"start_date": {"2025-02-01"}, "end_date": {"2025-02-01"}, "count": {"1"}})
	if len(items) != 4 || pages != 4 {
		t.Fatalf("%d items in %d pages, want 4 in 4", len(items), pages)
	}
}

func TestStartClose(t *testing.T) {
	s := sandbox.New(gen())
	base, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start(); err == nil {
		t.Error("second Start succeeded")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(base + sandbox.Path); err == nil {
		t.Error("server still answers after Close")
	}
}

// FuzzQuery: any query string gets a JSON answer of 200 or 400, never a
// panic, with the default maximum count and with none.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{
		"start_date=2025-02-01&end_date=2025-02-01&count=999999999",
		"start_date=2025-02-01&end_date=2025-02-01",
		"start_date=2025-02-01&end_date=2025-02-01&count=3&nextpage_id=x&nextpage_date=2025-02-01-01-00-00-000",
		"start_date=20250201&request_type=kyc&count=2000",
		"count=-1&end_date=9999-99-99",
		"nextpage_date=%00&nextpage_id=%ff",
	} {
		f.Add(s)
	}
	src := synth.New(1, synth.WithAsOf(day0.AddDate(0, 3, 0)), synth.WithVolume(5, 10))
	clock := sandbox.WithClock(func() time.Time { return day0 })
	servers := []*sandbox.Server{sandbox.New(src, clock), sandbox.New(src, clock, sandbox.WithMaxCount(0))}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		for _, s := range servers {
			answersJSON(t, s, rawQuery)
		}
	})
}

// answersJSON asks s with the default key and the given raw query, and
// fails unless the answer is 200 or 400 with a JSON body.
func answersJSON(t *testing.T, s *sandbox.Server, rawQuery string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, sandbox.Path, nil)
	r.URL.RawQuery = rawQuery
	r.Header.Set("x-api-key", sandbox.DefaultAPIKey)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != http.StatusOK && w.Code != http.StatusBadRequest {
		t.Fatalf("status %d for %q", w.Code, rawQuery)
	}
	if !json.Valid(w.Body.Bytes()) {
		t.Fatalf("invalid JSON for %q: %s", rawQuery, w.Body.String())
	}
}

func ExampleServer() {
	s := sandbox.New(synth.New(1, synth.WithAsOf(day0.AddDate(0, 1, 0))), sandbox.WithAPIKey("k"))
	base, err := s.Start()
	if err != nil {
		panic(err)
	}
	defer s.Close()
	req, _ := http.NewRequest(http.MethodGet, base+"/v3/submission?start_date=2025-02-01&end_date=2025-02-01&count=2", nil)
	req.Header.Set("x-api-key", "k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var p page
	_ = json.NewDecoder(resp.Body).Decode(&p)
	fmt.Println(resp.StatusCode, len(p.Items), p.NextpageKey != nil)
	// Output: 200 2 true
}
