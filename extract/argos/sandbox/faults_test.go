package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract/argos/argoscrypt"
	"github.com/kycetl/kycetl/extract/argos/sandbox"
)

// outcome is what a client saw for one request.
type outcome struct {
	status  int
	header  http.Header
	body    []byte
	readErr error
}

func call(t *testing.T, base, key string, q url.Values) outcome {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+sandbox.Path+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-api-key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return outcome{resp.StatusCode, resp.Header, body, err}
}

// kind names the fault an outcome shows.
func (o outcome) kind() string {
	switch {
	case o.readErr != nil:
		return "truncated"
	case o.status == http.StatusOK && !json.Valid(o.body):
		return "malformed"
	default:
		return strconv.Itoa(o.status)
	}
}

func dayQuery(i int) url.Values {
	d := day0.AddDate(0, 0, i%30)
	return url.Values{"start_date": {d.Format("2006-01-02")}, "end_date": {d.Format("2006-01-02")}, "count": {strconv.Itoa(1 + i/30)}}
}

func TestFaultsAreDeterministicAndAtTheirRates(t *testing.T) {
	f := sandbox.Faults{Rate429: 0.10, Rate500: 0.05, Rate502: 0.05, RateTruncate: 0.05, RateMalformed: 0.05, Seed: 42}
	const n = 1500
	sequence := func(f sandbox.Faults) ([]string, map[string]int, sandbox.FaultCounts) {
		s := sandbox.New(gen(), sandbox.WithFaults(f))
		base := start(t, s)
		var seq []string
		counts := map[string]int{}
		for i := range n {
			// Each query twice: a repeated request draws again.
			k := call(t, base, sandbox.DefaultAPIKey, dayQuery(i/2)).kind()
			seq = append(seq, k)
			counts[k]++
		}
		return seq, counts, s.Injected()
	}
	a, counts, injected := sequence(f)
	b, _, _ := sequence(f)
	if len(a) != len(b) {
		t.Fatal("different lengths")
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("request %d: %s, then %s with the same seed", i, a[i], b[i])
		}
	}
	f.Seed = 43
	c, _, _ := sequence(f)
	same := 0
	for i := range a {
		if a[i] == c[i] {
			same++
		}
	}
	if same == n {
		t.Error("another seed gives the same faults")
	}
	for kind, rate := range map[string]float64{"429": 0.10, "500": 0.05, "502": 0.05, "truncated": 0.05, "malformed": 0.05, "200": 0.70} {
		want := rate * n
		if got := float64(counts[kind]); got < 0.7*want || got > 1.3*want {
			t.Errorf("%s: %v of %d requests, want about %v", kind, got, n, want)
		}
	}
	want := sandbox.FaultCounts{TooManyRequests: int64(counts["429"]), InternalError: int64(counts["500"]), BadGateway: int64(counts["502"]),
		Truncated: int64(counts["truncated"]), Malformed: int64(counts["malformed"])}
	if injected != want {
		t.Errorf("Injected() = %+v, clients saw %+v", injected, want)
	}
}

func TestEachFaultLooksLikeTheRealThing(t *testing.T) {
	s := sandbox.New(gen())
	base := start(t, s)
	q := url.Values{"start_date": {"2025-02-01"}, "end_date": {"2025-02-01"}, "count": {"5"}}

	s.SetFaults(sandbox.Faults{Rate429: 1, RetryAfter: 1500 * time.Millisecond})
	o := call(t, base, sandbox.DefaultAPIKey, q)
	if o.status != http.StatusTooManyRequests || o.header.Get("Retry-After") != "2" {
		t.Errorf("429: %d, Retry-After %q; want 429 and 2 (seconds, rounded up)", o.status, o.header.Get("Retry-After"))
	}
	if o := call(t, base, "wrong", q); o.status != http.StatusForbidden {
		t.Errorf("a wrong key got %d under faults, want 403", o.status)
	}
	s.SetFaults(sandbox.Faults{Rate500: 1})
	if o := call(t, base, sandbox.DefaultAPIKey, q); o.status != 500 || string(o.body) != `{"errorCode":"processing_error","message":"Internal server error"}` {
		t.Errorf("500: %d %s", o.status, o.body)
	}
	s.SetFaults(sandbox.Faults{Rate502: 1})
	if o := call(t, base, sandbox.DefaultAPIKey, q); o.status != 502 {
		t.Errorf("502: %d", o.status)
	}
	s.SetFaults(sandbox.Faults{RateTruncate: 1})
	if o := call(t, base, sandbox.DefaultAPIKey, q); !errors.Is(o.readErr, io.ErrUnexpectedEOF) {
		t.Errorf("truncated: read error %v, want unexpected EOF", o.readErr)
	}
	s.SetFaults(sandbox.Faults{RateMalformed: 1})
	if o := call(t, base, sandbox.DefaultAPIKey, q); o.kind() != "malformed" || len(o.body) == 0 {
		t.Errorf("malformed: %d %q", o.status, o.body)
	}

	// A repeated key: the first page is fine, the second points back.
	s.SetFaults(sandbox.Faults{RateRepeatKey: 1})
	var p1, p2 page
	json.Unmarshal(call(t, base, sandbox.DefaultAPIKey, q).body, &p1)
	if p1.NextpageKey == nil || len(p1.Items) != 5 {
		t.Fatalf("first page %+v", p1)
	}
	q.Set("nextpage_id", p1.NextpageKey.ID)
	q.Set("nextpage_date", p1.NextpageKey.CreatedAt)
	json.Unmarshal(call(t, base, sandbox.DefaultAPIKey, q).body, &p2)
	if p2.NextpageKey == nil || *p2.NextpageKey != *p1.NextpageKey || len(p2.Items) != 5 {
		t.Errorf("second page's key %+v, want the request's own %+v", p2.NextpageKey, p1.NextpageKey)
	}
	if got := s.Injected(); got != (sandbox.FaultCounts{1, 1, 1, 1, 1, 1}) || got.Total() != 6 {
		t.Errorf("Injected() = %+v, want one of each", got)
	}

	s.SetFaults(sandbox.Faults{})
	items, _ := all(t, base, url.Values{"start_date": {"2025-02-01"}, "end_date": {"2025-02-01"}, "count": {"7"}})
	if len(items) != len(seoulDay(gen(), day0)) {
		t.Errorf("faults off: %d items", len(items))
	}
}

func TestFaultsAreNormalized(t *testing.T) {
	s := sandbox.New(gen(), sandbox.WithFaults(sandbox.Faults{Rate429: 3, Rate500: 0.5, Rate502: -1, RateRepeatKey: 2, Latency: -time.Second}))
	f := s.Faults()
	if f.Rate429 != 2.0/3 || f.Rate500 != 1.0/3 || f.Rate502 != 0 || f.RateRepeatKey != 1 || f.Latency != 0 {
		t.Errorf("normalized %+v", f)
	}
	m := sandbox.FaultMix(0.3)
	if m.Rate429 != 0.06 || m.RateMalformed != 0.06 || m.RateRepeatKey != 0.015 || m.RetryAfter != time.Second {
		t.Errorf("FaultMix(0.3) = %+v", m)
	}
}

func TestLatencyEndsWithTheClient(t *testing.T) {
	s := sandbox.New(gen(), sandbox.WithFaults(sandbox.Faults{Latency: time.Hour}))
	base := start(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+sandbox.Path, nil)
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the client's deadline (the hour of latency still running)", err)
	}
	// Close must not wait for the hour.
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestSecureTransfer(t *testing.T) {
	const secret = "project-secret-key"
	plainBase := start(t, sandbox.New(gen()))
	s := sandbox.New(gen(), sandbox.WithSecureTransfer(secret))
	base := start(t, s)
	c, err := argoscrypt.New(secret)
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"start_date": {"2025-02-01"}, "end_date": {"2025-02-01"}, "count": {"9"}}
	want := call(t, plainBase, sandbox.DefaultAPIKey, q).body

	params, _ := json.Marshal(map[string]any{"start_date": "2025-02-01", "end_date": "2025-02-01", "count": 9})
	for name, query := range map[string]url.Values{"plain parameters": q, "encrypted parameters": {"data": {c.Encrypt(params)}}} {
		o := call(t, base, sandbox.DefaultAPIKey, query)
		var env struct {
			IsEncrypted bool   `json:"isEncrypted"`
			Data        string `json:"data"`
		}
		if err := json.Unmarshal(o.body, &env); err != nil || o.status != 200 || !env.IsEncrypted {
			t.Fatalf("%s: %d %s", name, o.status, o.body)
		}
		got, err := c.Decrypt(env.Data)
		if err != nil || string(got) != string(want) {
			t.Errorf("%s: decrypted answer differs from the plain server's page (%v)", name, err)
		}
	}

	other, _ := argoscrypt.New("not-the-secret")
	o := call(t, base, sandbox.DefaultAPIKey, url.Values{"data": {other.Encrypt(params)}})
	if o.status != http.StatusBadRequest || string(o.body) != `{"errorCode":"invalid_payload","message":"data could not be decrypted"}` {
		t.Errorf("wrong key: %d %s, want 400 invalid_payload", o.status, o.body)
	}
	if _, err := sandbox.New(gen(), sandbox.WithSecureTransfer("")).Start(); err == nil {
		t.Error("an empty secret was accepted")
	}
}

// FuzzSecureQuery: any data parameter gets a JSON answer of 200 or 400
// from a server with secure data transfer on, never a panic.
func FuzzSecureQuery(f *testing.F) {
	c, _ := argoscrypt.New("fuzz-secret")
	for _, p := range []string{
		`{"start_date":"2025-02-01","end_date":"2025-02-01","count":3}`,
		`{"start_date":null,"count":"x"}`,
		`[1,2]`,
		`{"nextpage_id":"a","nextpage_date":"2025-02-01-00-00-00-000"}`,
	} {
		f.Add(c.Encrypt([]byte(p)))
	}
	f.Add("not base64 at all")
	s := sandbox.New(gen(), sandbox.WithSecureTransfer("fuzz-secret"), sandbox.WithClock(func() time.Time { return day0 }))
	f.Fuzz(func(t *testing.T, data string) {
		answersJSON(t, s, url.Values{"data": {data}}.Encode())
	})
}

func TestFaultSwitch(t *testing.T) {
	s := sandbox.New(gen(), sandbox.WithFaultSwitch(), sandbox.WithFaults(sandbox.Faults{Seed: 9}))
	base := start(t, s)
	do := func(method, query, key string) (int, string) {
		req, _ := http.NewRequest(method, base+sandbox.FaultsPath+"?"+query, nil)
		req.Header.Set("x-api-key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := do(http.MethodPost, "rate=1", "wrong"); code != http.StatusForbidden {
		t.Errorf("wrong key: %d", code)
	}
	for _, q := range []string{"rate=2", "rate=x", "latency=-1s", "retry_after=soon"} {
		if code, body := do(http.MethodPost, q, sandbox.DefaultAPIKey); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", q, code, body)
		}
	}
	code, body := do(http.MethodPost, "rate=1&latency=1ms&retry_after=2s", sandbox.DefaultAPIKey)
	want := `{"rate_429":0.2,"rate_500":0.2,"rate_502":0.2,"rate_truncate":0.2,"rate_malformed":0.2,"rate_repeat_key":0.05,"latency":"1ms","retry_after":"2s","seed":9,"injected":{"429":0,"500":0,"502":0,"truncated":0,"malformed":0,"repeated_keys":0}}`
	if code != http.StatusOK || body != want {
		t.Errorf("POST: %d %s, want %s", code, body, want)
	}
	if o := call(t, base, sandbox.DefaultAPIKey, dayQuery(0)); o.kind() == "200" {
		t.Error("a request was served normally at a fault rate of 1")
	}
	if code, body := do(http.MethodPost, "rate=0", sandbox.DefaultAPIKey); code != 200 || !strings.Contains(body, `"rate_429":0,`) || !strings.Contains(body, `"latency":"1ms"`) {
		t.Errorf("rate=0 keeps the latency: %d %s", code, body)
	}
	if o := call(t, base, sandbox.DefaultAPIKey, dayQuery(0)); o.kind() != "200" {
		t.Errorf("faults off: %s", o.kind())
	}
	if code, _ := do(http.MethodGet, "", sandbox.DefaultAPIKey); code != http.StatusOK {
		t.Errorf("GET: %d", code)
	}
	resp, err := http.Get(start(t, sandbox.New(gen())) + sandbox.FaultsPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("without the switch: %d, want 404", resp.StatusCode)
	}
}
