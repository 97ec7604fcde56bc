package argos_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/argos/sandbox"
	"github.com/kycetl/kycetl/extract/argos/synth"
)

const key = "sekrit-key-4242"

var day0 = time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)

func gen() *synth.Generator {
	return synth.New(3, synth.WithAsOf(time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)), synth.WithVolume(40, 70))
}

// fake is the fake API over the test generator, taking the test key.
func fake() *sandbox.Server { return sandbox.New(gen(), sandbox.WithAPIKey(key)) }

// serve starts h on loopback and returns its URL.
func serve(t testing.TB, h http.Handler) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}

// client returns a client with fast retries, logging into log when given.
func client(t *testing.T, base string, log *bytes.Buffer, opts ...argos.ClientOption) *argos.Client {
	t.Helper()
	l := zerolog.Nop()
	if log != nil {
		l = zerolog.New(zerolog.SyncWriter(log)).Level(zerolog.DebugLevel) // day slices log at once
	}
	opts = append([]argos.ClientOption{argos.WithRetry(4, time.Millisecond, 5*time.Millisecond), argos.WithLogger(l)}, opts...)
	c, err := argos.NewClient(base, key, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// faulty wraps a handler with scripted failures: the n-th call (from 1)
// is answered by script[n] when present.
type faulty struct {
	next   http.Handler
	calls  atomic.Int64
	script map[int64]http.HandlerFunc
}

func (f *faulty) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.calls.Add(1)
	if h, ok := f.script[n]; ok {
		h(w, r)
		return
	}
	f.next.ServeHTTP(w, r)
}

func status(code int, body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}
}

func TestNewClientValidates(t *testing.T) {
	for _, c := range []struct {
		url, key string
		want     error
		opts     []argos.ClientOption
	}{
		{"", key, argos.ErrAPIURL, nil},
		{"ftp://example.com", key, argos.ErrAPIURL, nil},
		{"https://user:pw@", key, argos.ErrAPIURL, nil},
		{"::not a url", key, argos.ErrAPIURL, nil},
		{"https://rest-api.argosidentity.com", "", argos.ErrAPIKey, nil},
		{"https://rest-api.argosidentity.com", key, argos.ErrSecretKey, []argos.ClientOption{argos.WithSecureTransfer("")}},
		{"https://rest-api.argosidentity.com", key, argos.ErrInvalidOption, []argos.ClientOption{argos.WithPageSize(0)}},
		{"https://rest-api.argosidentity.com", key, argos.ErrInvalidOption, []argos.ClientOption{argos.WithRetry(0, time.Second, time.Second)}},
		{"https://rest-api.argosidentity.com", key, argos.ErrInvalidOption, []argos.ClientOption{argos.WithRequestTimeout(0)}},
		{"https://rest-api.argosidentity.com", key, argos.ErrInvalidOption, []argos.ClientOption{argos.WithRateLimit(0, 1)}},
	} {
		_, err := argos.NewClient(c.url, c.key, c.opts...)
		if !errors.Is(err, c.want) {
			t.Errorf("NewClient(%q): %v, want %v", c.url, err, c.want)
		}
		if errors.Is(err, argos.ErrCredentials) {
			t.Errorf("NewClient(%q): %v is of kind ErrCredentials: no API refused anything", c.url, err)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("error quotes URL credentials: %v", err)
		}
	}
	for _, u := range []string{"https://rest-api.argosidentity.com", "https://rest-api.argosidentity.com/", "https://rest-api.argosidentity.com/v3/submission"} {
		if _, err := argos.NewClient(u, key); err != nil {
			t.Errorf("NewClient(%q): %v", u, err)
		}
	}
}

func TestForbiddenFailsFastWithoutTheKey(t *testing.T) {
	s := sandbox.New(gen(), sandbox.WithAPIKey("another-key"))
	var log bytes.Buffer
	c := client(t, serve(t, s), &log)
	st, err := c.Day(context.Background(), day0, func([]json.RawMessage) error { return nil })
	var apiErr *argos.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden {
		t.Fatalf("error %v, want a 403 APIError", err)
	}
	if !errors.Is(err, argos.ErrCredentials) || !errors.Is(err, argos.ErrAPIKey) || errors.Is(err, argos.ErrSecretKey) {
		t.Errorf("error %v, want kinds ErrCredentials and ErrAPIKey, not ErrSecretKey", err)
	}
	if s.Calls() != 1 || st.Calls != 1 || st.Retries != 0 {
		t.Errorf("%d server calls, stats %+v; want exactly 1 call", s.Calls(), st)
	}
	if strings.Contains(err.Error()+log.String(), key) {
		t.Error("the API key reached an error or a log")
	}
}

func TestBadRequestFailsFastWithTheAPIsMessage(t *testing.T) {
	s := fake()
	c := client(t, serve(t, s), nil)
	_, err := c.Page(context.Background(), argos.Query{StartDate: day0, EndDate: day0, Count: 5000})
	var apiErr *argos.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 400 || apiErr.Code != "invalid_parameter" || !strings.Contains(apiErr.Message, "count") ||
		!errors.Is(err, argos.ErrCountRefused) {
		t.Fatalf("error %v, want 400 invalid_parameter about count (ErrCountRefused)", err)
	}
	if !strings.HasPrefix(err.Error(), "ARGOS API 400: ") {
		t.Errorf("error %q", err)
	}
	if s.Calls() != 1 {
		t.Errorf("%d calls, want 1", s.Calls())
	}
}

func TestRetriesTransientFailures(t *testing.T) {
	for name, script := range map[string]map[int64]http.HandlerFunc{
		"500 then 502": {1: status(500, `{"errorCode":"processing_error","message":"boom"}`), 2: status(502, `Bad Gateway`)},
		"503 and 504":  {1: status(503, ``), 2: status(504, `<html>gateway timeout</html>`)},
		"truncated body": {1: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100000")
			w.WriteHeader(200)
			_, _ = w.Write([]byte(`{"Items":[{"submission_id":"x"`))
		}},
		"unparseable JSON": {1: status(200, `{"Items":[{"submission_id":`), 2: status(200, `<html>maintenance</html>`)},
		"not a page":       {1: status(200, `{"message":"Internal server error"}`)},
		"timeout": {1: func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done() // hang until the client gives up
		}},
	} {
		t.Run(name, func(t *testing.T) {
			f := &faulty{next: fake(), script: script}
			c := client(t, serve(t, f), nil, argos.WithRequestTimeout(200*time.Millisecond))
			n := 0
			st, err := c.Day(context.Background(), day0, func(items []json.RawMessage) error { n += len(items); return nil })
			if err != nil {
				t.Fatal(err)
			}
			retries := int64(len(script))
			if st.Retries != retries || st.Calls != retries+1 || st.Pages != 1 || n == 0 {
				t.Errorf("stats %+v with %d items; want %d retries", st, n, retries)
			}
			if st.Waited <= 0 {
				t.Error("no wait recorded before retries")
			}
		})
	}
}

func TestGivesUpAfterMaxTries(t *testing.T) {
	var calls atomic.Int64
	base := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		status(500, `{"errorCode":"processing_error","message":"boom"}`)(w, r)
	}))
	_, err := client(t, base, nil).Page(context.Background(), argos.Query{StartDate: day0, EndDate: day0})
	var apiErr *argos.APIError
	var gaveUp *argos.GaveUpError
	if !errors.As(err, &apiErr) || apiErr.Status != 500 || !errors.As(err, &gaveUp) || gaveUp.Tries != 4 {
		t.Fatalf("error %v, want giving up after 4 tries with the 500", err)
	}
	if calls.Load() != 4 {
		t.Errorf("%d calls, want 4", calls.Load())
	}

	// Nothing listens: connection errors are retried as often.
	s := httptest.NewServer(http.NotFoundHandler())
	s.Close()
	_, err = client(t, s.URL, nil).Page(context.Background(), argos.Query{StartDate: day0, EndDate: day0})
	if !errors.As(err, &gaveUp) || gaveUp.Tries != 4 {
		t.Fatalf("error %v, want giving up after 4 tries", err)
	}
}

func TestHonoursRetryAfter(t *testing.T) {
	f := &faulty{next: fake(), script: map[int64]http.HandlerFunc{
		1: status(429, `{"message":"Too Many Requests"}`, "Retry-After", "1"),
	}}
	c := client(t, serve(t, f), nil, argos.WithRetry(3, time.Millisecond, 200*time.Millisecond))
	st, err := c.Day(context.Background(), day0, func([]json.RawMessage) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if st.Retries != 1 || st.Waited != time.Second || st.Throttled != time.Second {
		t.Errorf("stats %+v, want 1 retry after exactly the 1s the API asked for", st)
	}

	// A wait far beyond the retry policy (a spent daily quota) fails at once.
	f = &faulty{next: fake(), script: map[int64]http.HandlerFunc{
		1: status(429, `{"message":"Limit Exceeded"}`, "Retry-After", "3600"),
	}}
	c = client(t, serve(t, f), nil)
	st, err = c.Day(context.Background(), day0, func([]json.RawMessage) error { return nil })
	var apiErr *argos.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 429 || !strings.Contains(err.Error(), "1h0m0s") {
		t.Fatalf("error %v, want the 429 and the asked wait", err)
	}
	if st.Calls != 1 {
		t.Errorf("%d calls, want 1", st.Calls)
	}
}

func TestPageTooLargeHalvesTheCount(t *testing.T) {
	api := fake()
	var counts []int
	base := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("count"))
		counts = append(counts, n)
		if n > 10 {
			status(413, `{"message":"Response payload size exceeded"}`)(w, r)
			return
		}
		api.ServeHTTP(w, r)
	}))
	c := client(t, base, nil, argos.WithPageSize(40))
	items := 0
	st, err := c.Day(context.Background(), day0, func(it []json.RawMessage) error { items += len(it); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if counts[0] != 40 || counts[1] != 20 || counts[2] != 10 || items == 0 || st.Pages < 2 {
		t.Errorf("counts asked %v, %d items, stats %+v", counts, items, st)
	}
	for _, n := range counts[2:] {
		if n != 10 {
			t.Errorf("count went back to %d after halving", n)
		}
	}
}

func TestEncryptedAnswerFailsFast(t *testing.T) {
	var calls atomic.Int64
	base := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		status(200, `{"isEncrypted":true,"data":"q83vEjRWeJA="}`)(w, r)
	}))
	_, err := client(t, base, nil).Page(context.Background(), argos.Query{})
	if !errors.Is(err, argos.ErrEncrypted) || calls.Load() != 1 {
		t.Fatalf("error %v after %d calls, want ErrEncrypted at once", err, calls.Load())
	}
}

func TestPageStall(t *testing.T) {
	for name, keys := range map[string][]string{
		"same key":  {"a", "a"},
		"key cycle": {"a", "b", "a"},
	} {
		t.Run(name, func(t *testing.T) {
			var calls atomic.Int64
			base := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := calls.Add(1)
				if n > int64(len(keys)) {
					t.Error("client followed a repeated key")
					n = int64(len(keys))
				}
				id := keys[n-1]
				status(200, `{"Items":[{"submission_id":"`+id+`","created_at":"2025-02-01-01-00-00-000"}],"nextpageKey":{"id":"`+id+`","created_at":"2025-02-01-01-00-00-000"}}`)(w, r)
			}))
			_, err := client(t, base, nil).Day(context.Background(), day0, func([]json.RawMessage) error { return nil })
			if !errors.Is(err, argos.ErrPageStall) {
				t.Fatalf("error %v, want ErrPageStall", err)
			}
			if want := "fetching page " + strconv.Itoa(len(keys)) + " of 2025-02-01: page stall"; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q, want prefix %q", err, want)
			}
		})
	}
}

func TestCancellationStopsRetries(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int64
	base := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		cancel()
		status(503, ``)(w, r)
	}))
	c := client(t, base, nil, argos.WithRetry(6, time.Hour, time.Hour)) // only cancellation can end the wait
	_, err := c.Day(ctx, day0, func([]json.RawMessage) error { return nil })
	if !errors.Is(err, context.Canceled) || calls.Load() != 1 {
		t.Fatalf("error %v after %d calls, want context.Canceled after 1", err, calls.Load())
	}
}
