package argos_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/argos/sandbox"
	"github.com/kycetl/kycetl/extract/argos/synth"
)

// countLog records the count of every request and the status it got.
type countLog struct {
	next http.Handler
	mu   sync.Mutex
	asks []countAsk
}

type countAsk struct{ count, status int }

func (l *countLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.URL.Query().Get("count"))
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	l.next.ServeHTTP(rec, r)
	l.mu.Lock()
	l.asks = append(l.asks, countAsk{n, rec.status})
	l.mu.Unlock()
}

// served and refused split the counts asked by the answer's status.
func (l *countLog) split() (served, refused map[int]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	served, refused = map[int]int{}, map[int]int{}
	for _, a := range l.asks {
		if a.status == http.StatusOK {
			served[a.count]++
		} else {
			refused[a.count]++
		}
	}
	return served, refused
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// warnings returns the warn-level log lines whose message starts with msg.
func warnings(t *testing.T, log *bytes.Buffer, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["level"] == "warn" && strings.HasPrefix(m["message"].(string), msg) {
			out = append(out, m)
		}
	}
	return out
}

const refusedMsg = "the API refused the page size"

// TestRefusedPageSizeIsHalvedForTheRun runs a window at the default page
// size of 2,000 against the in-process API with a maximum count of 300:
// every day completes with the same items as from an API without a
// maximum, the run settles on 250 (2000 → 1000 → 500 → 250), learned once
// for all its day slices and logged once, and the refused calls count
// against the call budget.
func TestRefusedPageSizeIsHalvedForTheRun(t *testing.T) {
	g := synth.New(5, synth.WithAsOf(time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)), synth.WithVolume(280, 420))
	from, to := day0, day0.AddDate(0, 0, 9)
	const concurrency = 4

	unlimited := sandbox.New(g, sandbox.WithAPIKey(key), sandbox.WithMaxCount(0))
	want := collect(t, argos.NewExtractor(client(t, serve(t, unlimited), nil), argos.WithConcurrency(concurrency)), from, to)

	api := sandbox.New(g, sandbox.WithAPIKey(key), sandbox.WithMaxCount(300))
	counts := &countLog{next: api}
	var log bytes.Buffer
	c := client(t, serve(t, counts), &log)
	if c.PageSize() != argos.DefaultPageSize || argos.DefaultPageSize != 2000 {
		t.Fatalf("page size %d, default %d; want 2000", c.PageSize(), argos.DefaultPageSize)
	}
	budget, err := argos.NewBudget(argos.DefaultDailyCalls)
	if err != nil {
		t.Fatal(err)
	}
	days := collect(t, argos.NewExtractor(c, argos.WithConcurrency(concurrency), argos.WithBudget(budget)), from, to)
	sameDays(t, "maximum count 300", days, want)

	served, refused := counts.split()
	if len(served) != 1 || served[250] == 0 {
		t.Errorf("pages served at counts %v, want all at 250", served)
	}
	n := 0
	for count, k := range refused {
		if count != 2000 && count != 1000 && count != 500 {
			t.Errorf("count %d refused %d times; only 2000, 1000 and 500 are over 300", count, k)
		}
		n += k
	}
	// Each size is refused at most once per slice in flight: a size kept
	// per day would be refused 3 times for each of the 12 API days.
	if n < 3 || n > 3*concurrency {
		t.Errorf("%d refused calls (%v), want 3 to %d", n, refused, 3*concurrency)
	}

	logged := warnings(t, &log, refusedMsg)
	if len(logged) != 1 {
		t.Fatalf("%d warnings about the page size, want 1:\n%s", len(logged), log.String())
	}
	if w := logged[0]; w["page_size_before"] != 2000.0 || w["page_size"] != 250.0 {
		t.Errorf("warning %v, want page_size_before 2000 and page_size 250", w)
	}
	if strings.Contains(log.String(), key) {
		t.Error("the API key reached the log")
	}

	// The refused calls are API calls: in the days' stats and the budget.
	calls, retries := sumCalls(days, nil)
	if calls != api.Calls() || budget.Spent() != api.Calls() {
		t.Errorf("days count %d calls, budget spent %d, the server saw %d (%d refused)", calls, budget.Spent(), api.Calls(), n)
	}
	var pages int64
	for _, d := range days {
		pages += d.Stats.Pages
	}
	if retries != 0 || pages+int64(n) != api.Calls() {
		t.Errorf("%d pages + %d refused calls, %d retries; the server saw %d calls", pages, n, retries, api.Calls())
	}
}

// TestWhichAnswersRefuseTheCount: only a 400 invalid_parameter whose
// message names count lowers the page size; any other answer fails the
// day after one call, at the page size asked.
func TestWhichAnswersRefuseTheCount(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		halve  bool
	}{
		{400, `{"errorCode":"invalid_parameter","message":"count must be an integer from 1 to 300"}`, true},
		{400, `{"code":"invalid_parameter","message":"Invalid value for 'count'"}`, true},
		{400, `{"errorCode":"invalid_parameter","message":"COUNT exceeds the limit"}`, true},
		{400, `{"errorCode":"invalid_parameter","message":"start_date is out of range"}`, false},
		{400, `{"errorCode":"invalid_parameter","message":"the account has no access to this project"}`, false},
		{400, `{"errorCode":"invalid_parameter","message":"counts are not available"}`, false},
		{400, `{"errorCode":"invalid_format","message":"count must be a number"}`, false},
		{400, `{"message":"count must be an integer from 1 to 300"}`, false},
		{422, `{"errorCode":"invalid_parameter","message":"count too large"}`, false},
	} {
		t.Run(tc.body, func(t *testing.T) {
			counts := &countLog{next: &faulty{next: fake(), script: map[int64]http.HandlerFunc{1: status(tc.status, tc.body)}}}
			c := client(t, serve(t, counts), nil, argos.WithPageSize(40))
			st, err := c.Day(context.Background(), day0, func([]json.RawMessage) error { return nil })
			served, refused := counts.split()
			if refused[40] != 1 || len(refused) != 1 {
				t.Fatalf("refused counts %v, want 40 once", refused)
			}
			if !tc.halve {
				var apiErr *argos.APIError
				if !errors.As(err, &apiErr) || apiErr.Status != tc.status || errors.Is(err, argos.ErrCountRefused) {
					t.Fatalf("error %v, want the %d as an APIError that is not ErrCountRefused", err, tc.status)
				}
				if want := "fetching page 1 of 2025-02-01: ARGOS API " + strconv.Itoa(tc.status); !strings.HasPrefix(err.Error(), want) {
					t.Errorf("error %q, want prefix %q", err, want)
				}
				if st.Calls != 1 || len(served) != 0 {
					t.Errorf("%d calls, served %v; want 1 call and nothing after it", st.Calls, served)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(served) != 1 || served[20] == 0 {
				t.Errorf("pages served at counts %v, want all at 20", served)
			}
		})
	}
}

// TestCountRefusedAtOneFails: the page size is halved down to 1, and a
// count of 1 refused is an error like any other, of kind ErrCountRefused.
func TestCountRefusedAtOneFails(t *testing.T) {
	counts := &countLog{next: status(400, `{"errorCode":"invalid_parameter","message":"count must be an integer from 1 to 0"}`)}
	var log bytes.Buffer
	c := client(t, serve(t, counts), &log, argos.WithPageSize(5))
	st, err := c.Day(context.Background(), day0, func([]json.RawMessage) error { return nil })
	var apiErr *argos.APIError
	if !errors.Is(err, argos.ErrCountRefused) || !errors.As(err, &apiErr) || apiErr.Status != 400 {
		t.Fatalf("error %v, want a 400 APIError of kind ErrCountRefused", err)
	}
	if want := "fetching page 1 of 2025-02-01: asking for 1 item: ARGOS API 400: count must be"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want prefix %q", err, want)
	}
	if _, refused := counts.split(); len(refused) != 3 || refused[5] != 1 || refused[2] != 1 || refused[1] != 1 || st.Calls != 3 {
		t.Errorf("refused counts %v, %d calls; want 5, 2 and 1 once each", refused, st.Calls)
	}
	if w := warnings(t, &log, refusedMsg); len(w) != 0 {
		t.Errorf("a page size was reported as working: %v", w)
	}
}

func TestPageSizeOption(t *testing.T) {
	for _, n := range []int{0, -1} {
		if _, err := argos.NewClient("https://rest-api.argosidentity.com", key, argos.WithPageSize(n)); !errors.Is(err, argos.ErrInvalidOption) {
			t.Errorf("WithPageSize(%d): %v, want an error about the page size", n, err)
		}
	}
	// No maximum on our side: the reference documents none.
	for _, n := range []int{1, 2001, 1_000_000} {
		c, err := argos.NewClient("https://rest-api.argosidentity.com", key, argos.WithPageSize(n))
		if err != nil || c.PageSize() != n {
			t.Errorf("WithPageSize(%d): %v", n, err)
		}
	}
}
