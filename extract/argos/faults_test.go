package argos_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/argos/sandbox"
)

// sameDays fails unless a and b hold the same days with the same items,
// byte for byte and in the same order.
func sameDays(t *testing.T, what string, a, b []argos.DayItems) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d days, want %d", what, len(a), len(b))
	}
	for i := range a {
		if !a[i].Day.Equal(b[i].Day) || len(a[i].Items) != len(b[i].Items) || len(a[i].Bad) != len(b[i].Bad) {
			t.Fatalf("%s: day %d is %s with %d items, want %s with %d", what, i, argos.FormatDate(a[i].Day), len(a[i].Items), argos.FormatDate(b[i].Day), len(b[i].Items))
		}
		for j := range a[i].Items {
			if !bytes.Equal(a[i].Items[j].Raw, b[i].Items[j].Raw) {
				t.Fatalf("%s: %s item %d differs", what, argos.FormatDate(a[i].Day), j)
			}
		}
	}
}

// sumCalls adds the calls of handed-on and failed days.
func sumCalls(days []argos.DayItems, err error) (calls, retries int64) {
	for _, d := range days {
		calls += d.Stats.Calls
		retries += d.Stats.Retries
	}
	var de *argos.DayErrors
	if errors.As(err, &de) {
		for _, f := range de.Days {
			calls += f.Stats.Calls
			retries += f.Stats.Retries
		}
	}
	return calls, retries
}

func TestConcurrencyGivesTheSameDays(t *testing.T) {
	from, to := day0, day0.AddDate(0, 0, 7)
	var want []argos.DayItems
	for _, n := range []int{1, 2, 4, 9} {
		s := sandbox.New(gen(), sandbox.WithAPIKey(key)) // +09:00: days straddle API days
		c := client(t, serve(t, s), nil, argos.WithPageSize(13))
		days, err := collectErr(argos.NewExtractor(c, argos.WithConcurrency(n)), from, to)
		if err != nil {
			t.Fatal(err)
		}
		if calls, _ := sumCalls(days, nil); calls != s.Calls() {
			t.Errorf("concurrency %d: days account for %d calls, the server saw %d", n, calls, s.Calls())
		}
		if n == 1 {
			want = days
			continue
		}
		sameDays(t, fmt.Sprintf("concurrency %d", n), days, want)
	}
	for i, d := range want {
		if got, src := len(d.Items), len(gen().Day(from.AddDate(0, 0, i))); got != src {
			t.Errorf("%s: %d items, the source has %d", argos.FormatDate(d.Day), got, src)
		}
	}
}

// TestWindowCallsFnConcurrently: up to N calls overlap, each day once.
func TestWindowCallsFnConcurrently(t *testing.T) {
	const n = 3
	c := client(t, serve(t, fake()), nil, argos.WithPageSize(20))
	var mu sync.Mutex
	seen := map[string]int{}
	var running, most atomic.Int64
	second := make(chan struct{})
	var once sync.Once
	err := argos.NewExtractor(c, argos.WithConcurrency(n)).Window(context.Background(), day0, day0.AddDate(0, 0, 9), func(ctx context.Context, d argos.DayItems) error {
		r := running.Add(1)
		defer running.Add(-1)
		for m := most.Load(); r > m && !most.CompareAndSwap(m, r); m = most.Load() {
		}
		mu.Lock()
		seen[argos.FormatDate(d.Day)]++
		mu.Unlock()
		if d.Day.Equal(day0) {
			// The first day waits for another call to start beside it.
			select {
			case <-second:
			case <-time.After(10 * time.Second):
				return errors.New("no second call started while the first ran")
			}
			return nil
		}
		once.Do(func() { close(second) })
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 10 {
		t.Errorf("%d days handed on, want 10", len(seen))
	}
	for d, k := range seen {
		if k != 1 {
			t.Errorf("%s handed on %d times", d, k)
		}
	}
	if m := most.Load(); m < 2 || m > n {
		t.Errorf("at most %d calls ran at once, want 2..%d", m, n)
	}
}

// failDay answers 500 to every request for API day day.
func failDay(next http.Handler, day string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("start_date") == day {
			status(500, `{"errorCode":"processing_error","message":"boom"}`)(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func TestFailedAPIDayFailsOnlyTheDaysThatNeedIt(t *testing.T) {
	from, to := day0, day0.AddDate(0, 0, 7)
	for _, c := range []struct {
		apiDay string
		failed []string
	}{
		{"2025-02-04", []string{"2025-02-03", "2025-02-04", "2025-02-05"}},
		{"2025-01-31", []string{"2025-02-01"}}, // a margin day
	} {
		for _, n := range []int{1, 4} {
			t.Run(fmt.Sprintf("%s/%d", c.apiDay, n), func(t *testing.T) {
				var calls atomic.Int64
				api := fake()
				base := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					calls.Add(1)
					failDay(api, c.apiDay).ServeHTTP(w, r)
				}))
				days, err := collectErr(argos.NewExtractor(client(t, base, nil, argos.WithPageSize(20)), argos.WithConcurrency(n)), from, to)
				var de *argos.DayErrors
				if !errors.As(err, &de) {
					t.Fatalf("error %v, want *DayErrors", err)
				}
				var failed []string
				for _, f := range de.Days {
					failed = append(failed, argos.FormatDate(f.Day))
					if f.Skipped() {
						t.Errorf("%s reported as skipped", argos.FormatDate(f.Day))
					}
				}
				if fmt.Sprint(failed) != fmt.Sprint(c.failed) || de.Budget != nil {
					t.Fatalf("failed days %v, want %v", failed, c.failed)
				}
				var apiErr *argos.APIError
				if !errors.As(err, &apiErr) || apiErr.Status != 500 {
					t.Errorf("error %v does not reach the API's 500", err)
				}
				want := fmt.Sprintf("%d days failed (%s): fetching page 1 of %s: giving up after 4 tries: ARGOS API 500: boom (processing_error)",
					len(c.failed), strings.Join(c.failed, ", "), c.apiDay)
				if len(c.failed) == 1 {
					want = strings.Replace(want, "1 days", "1 day", 1)
				}
				if err.Error() != want {
					t.Errorf("error %q, want %q", err, want)
				}
				// Every other day is handed on, complete.
				if len(days)+len(c.failed) != 8 {
					t.Errorf("%d days handed on, want %d", len(days), 8-len(c.failed))
				}
				for _, d := range days {
					if strings.Contains(fmt.Sprint(c.failed), argos.FormatDate(d.Day)) {
						t.Errorf("failed day %s was handed on", argos.FormatDate(d.Day))
					}
					if len(d.Items) != len(gen().Day(d.Day)) {
						t.Errorf("%s: %d items, want %d", argos.FormatDate(d.Day), len(d.Items), len(gen().Day(d.Day)))
					}
				}
				if got, _ := sumCalls(days, err); got != calls.Load() {
					t.Errorf("days and failures account for %d calls, the server saw %d", got, calls.Load())
				}
			})
		}
	}
}

func TestStalledChainIsFetchedAgain(t *testing.T) {
	from, to := day0, day0.AddDate(0, 0, 5)
	clean := collect(t, argos.NewExtractor(client(t, serve(t, fake()), nil, argos.WithPageSize(10))), from, to)

	s := sandbox.New(gen(), sandbox.WithAPIKey(key), sandbox.WithFaults(sandbox.Faults{RateRepeatKey: 0.05, Seed: 6}))
	days, err := collectErr(argos.NewExtractor(client(t, serve(t, s), nil, argos.WithPageSize(10))), from, to)
	if err != nil {
		t.Fatal(err)
	}
	sameDays(t, "with stalls", days, clean)
	_, retries := sumCalls(days, nil)
	if n := s.Injected().RepeatedKeys; n == 0 || retries != n {
		t.Errorf("%d repeated keys, %d restarts counted as retries; want as many, and some", n, retries)
	}

	// A chain that always stalls fails its days after the restarts.
	s = sandbox.New(gen(), sandbox.WithAPIKey(key), sandbox.WithFaults(sandbox.Faults{RateRepeatKey: 1}))
	days, err = collectErr(argos.NewExtractor(client(t, serve(t, s), nil, argos.WithPageSize(10)), argos.WithChainRestarts(2)), from, from)
	var de *argos.DayErrors
	if !errors.As(err, &de) || len(days) != 0 || !errors.Is(err, argos.ErrPageStall) {
		t.Fatalf("error %v, %d days; want a stalled day", err, len(days))
	}
	if !strings.Contains(err.Error(), "(the day's chain was fetched 3 times)") {
		t.Errorf("error %q does not say how often the chain was fetched", err)
	}
	// 3 API days × 3 chains × (first page + the stalled second).
	if s.Calls() != 18 {
		t.Errorf("%d calls, want 18", s.Calls())
	}
}

func TestWindowUnderFaults(t *testing.T) {
	from, to := day0, day0.AddDate(0, 0, 9)
	clean := collect(t, argos.NewExtractor(client(t, serve(t, fake()), nil, argos.WithPageSize(15))), from, to)
	f := sandbox.FaultMix(0.3)
	f.RetryAfter, f.Seed = 0, 11
	s := sandbox.New(gen(), sandbox.WithAPIKey(key), sandbox.WithFaults(f))
	c := client(t, serve(t, s), nil, argos.WithPageSize(15), argos.WithRetry(12, time.Millisecond, 2*time.Millisecond))
	days, err := collectErr(argos.NewExtractor(c), from, to)
	if err != nil {
		t.Fatal(err)
	}
	sameDays(t, "under 30% faults", days, clean)
	in := s.Injected()
	if in.TooManyRequests == 0 || in.InternalError == 0 || in.BadGateway == 0 || in.Truncated == 0 || in.Malformed == 0 {
		t.Errorf("not every fault was met: %+v", in)
	}
	calls, retries := sumCalls(days, nil)
	if calls != s.Calls() || retries != in.Total() {
		t.Errorf("%d calls and %d retries counted; the server saw %d calls and injected %d faults", calls, retries, s.Calls(), in.Total())
	}
	var throttled time.Duration
	for _, d := range days {
		throttled += d.Stats.Throttled
	}
	if throttled <= 0 {
		t.Error("no wait after a 429 recorded")
	}
}

func TestRateLimitIsSharedByAllSlices(t *testing.T) {
	s := fake()
	// One request an hour after a burst of 3: later requests cannot wait
	// within the deadline, and the limiter says so at once.
	c := client(t, serve(t, s), nil, argos.WithRateLimit(rate.Every(time.Hour), 3))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := argos.NewExtractor(c, argos.WithConcurrency(4)).Window(ctx, day0, day0.AddDate(0, 0, 3), func(context.Context, argos.DayItems) error { return nil })
	if !errors.Is(err, argos.ErrRateLimitWait) {
		t.Fatalf("error %v, want ErrRateLimitWait", err)
	}
	if s.Calls() != 3 {
		t.Errorf("%d calls reached the server, want the burst of 3", s.Calls())
	}
	if _, err := argos.NewClient("http://127.0.0.1:1", key, argos.WithRateLimit(0, 1)); err == nil {
		t.Error("a zero rate was accepted")
	}
}

func TestBudgetStopsAtADayBoundary(t *testing.T) {
	from, to := day0, day0.AddDate(0, 0, 9)
	now := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	b, err := argos.NewBudget(25, argos.WithBudgetClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	s := fake()
	e := argos.NewExtractor(client(t, serve(t, s), nil, argos.WithPageSize(20)), argos.WithBudget(b))
	days, err := collectErr(e, from, to)
	var be *argos.BudgetError
	var de *argos.DayErrors
	if !errors.Is(err, argos.ErrBudgetExhausted) || !errors.As(err, &be) || !errors.As(err, &de) {
		t.Fatalf("error %v, want ErrBudgetExhausted in a *DayErrors", err)
	}
	cont := be.ContinueFrom
	want := fmt.Sprintf("call budget of 25 for 2026-11-23 (UTC) reached; continue with --from %s", argos.FormatDate(cont))
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if !cont.After(from) || !cont.Before(to) {
		t.Fatalf("continue from %s: the budget should cover some days but not all", argos.FormatDate(cont))
	}
	// Days before the boundary are done, complete; the rest are skipped.
	for i, d := range days {
		if wantDay := from.AddDate(0, 0, i); !d.Day.Equal(wantDay) || len(d.Items) != len(gen().Day(wantDay)) {
			t.Errorf("day %d: %s with %d items", i, argos.FormatDate(d.Day), len(d.Items))
		}
	}
	if last := days[len(days)-1].Day; !last.AddDate(0, 0, 1).Equal(cont) {
		t.Errorf("last day done %s, continue from %s", argos.FormatDate(last), argos.FormatDate(cont))
	}
	for i, f := range de.Days {
		if !f.Skipped() || !f.Day.Equal(cont.AddDate(0, 0, i)) {
			t.Errorf("failure %d: %s skipped=%v", i, argos.FormatDate(f.Day), f.Skipped())
		}
	}
	if len(days)+len(de.Days) != 10 || len(de.Failed()) != 0 {
		t.Errorf("%d done + %d skipped, want 10 days, none failed", len(days), len(de.Days))
	}
	if calls, _ := sumCalls(days, err); calls != s.Calls() || b.Spent() != s.Calls() || s.Calls() > 25 {
		t.Errorf("%d calls counted, budget spent %d, server saw %d; want equal and within 25", calls, b.Spent(), s.Calls())
	}

	// The next run of the same day, seeded with what was spent, stops at once.
	b2, _ := argos.NewBudget(25, argos.WithBudgetClock(clock), argos.WithSpent(now, b.Spent()))
	before := s.Calls()
	days, err = collectErr(argos.NewExtractor(client(t, serve(t, s), nil, argos.WithPageSize(20)), argos.WithBudget(b2)), cont, to)
	if !errors.As(err, &be) || !be.ContinueFrom.Equal(cont) || len(days) != 0 || s.Calls() != before {
		t.Errorf("seeded run: %v, %d days, %d calls; want to stop at %s without a call", err, len(days), s.Calls()-before, argos.FormatDate(cont))
	}

	// The next UTC day the budget is fresh; continuing from the day it
	// said completes the window.
	now = now.Add(12 * time.Hour)
	if b2.Spent() != 0 || b2.Remaining() != 25 {
		t.Errorf("the next UTC day: spent %d, remaining %d", b2.Spent(), b2.Remaining())
	}
	rest := collect(t, argos.NewExtractor(client(t, serve(t, s), nil, argos.WithPageSize(20))), cont, to)
	if len(rest)+int(cont.Sub(from).Hours()/24) != 10 {
		t.Errorf("continued run handed on %d days", len(rest))
	}
}

func TestBudgetAccounting(t *testing.T) {
	now := time.Date(2026, 11, 23, 23, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	b, err := argos.NewBudget(100, argos.WithBudgetClock(clock),
		argos.WithSpent(now.AddDate(0, 0, -1), 90), argos.WithSpent(now, 20), argos.WithSpent(now, 5))
	if err != nil {
		t.Fatal(err)
	}
	if b.Spent() != 25 || b.Remaining() != 75 || b.Limit() != 100 || !b.Day().Equal(argos.Day(now)) {
		t.Errorf("seeded: spent %d, remaining %d, day %s", b.Spent(), b.Remaining(), b.Day())
	}
	b.Spend(80)
	if b.Remaining() != 0 {
		t.Errorf("overspent: remaining %d, want 0", b.Remaining())
	}
	now = now.Add(2 * time.Hour) // 01:00 UTC the next day
	if b.Spent() != 0 || b.Remaining() != 100 {
		t.Errorf("after midnight UTC: spent %d, remaining %d", b.Spent(), b.Remaining())
	}
	for _, limit := range []int64{0, -1} {
		if _, err := argos.NewBudget(limit); !errors.Is(err, argos.ErrBudgetTooSmall) {
			t.Errorf("budget %d: %v, want ErrBudgetTooSmall", limit, err)
		}
	}
	if err := argos.NewExtractor(client(t, "http://127.0.0.1:1", nil), argos.WithConcurrency(0)).Window(context.Background(), day0, day0, nil); !errors.Is(err, argos.ErrInvalidOption) {
		t.Errorf("concurrency 0: %v", err)
	}
}
