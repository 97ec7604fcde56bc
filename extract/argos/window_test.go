package argos_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/argos/sandbox"
	"github.com/kycetl/kycetl/extract/argos/synth"
)

// collect runs a window and returns its days in ascending order.
func collect(t *testing.T, e *argos.Extractor, from, to time.Time) []argos.DayItems {
	t.Helper()
	days, err := collectErr(e, from, to)
	if err != nil {
		t.Fatal(err)
	}
	return days
}

// collectErr runs a window and returns the days handed on, in ascending
// order, and its error.
func collectErr(e *argos.Extractor, from, to time.Time) ([]argos.DayItems, error) {
	var mu sync.Mutex
	var days []argos.DayItems
	err := e.Window(context.Background(), from, to, func(_ context.Context, d argos.DayItems) error {
		mu.Lock()
		defer mu.Unlock()
		days = append(days, d)
		return nil
	})
	sort.Slice(days, func(i, j int) bool { return days[i].Day.Before(days[j].Day) })
	return days, err
}

func sortedCopy(items [][]byte) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = string(it)
	}
	sort.Strings(out)
	return out
}

func TestWindowGetsEveryItemOfEachUTCDay(t *testing.T) {
	g := gen()
	for _, zone := range []*time.Location{sandbox.Seoul, time.UTC, time.FixedZone("EST", -5*3600)} {
		t.Run(zone.String(), func(t *testing.T) {
			s := sandbox.New(g, sandbox.WithAPIKey(key), sandbox.WithZone(zone))
			c := client(t, serve(t, s), nil, argos.WithPageSize(13))
			days := collect(t, argos.NewExtractor(c), day0, day0.AddDate(0, 0, 2))
			if len(days) != 3 {
				t.Fatalf("%d days, want 3", len(days))
			}
			var calls int64
			for i, d := range days {
				want := g.Day(day0.AddDate(0, 0, i))
				if !d.Day.Equal(day0.AddDate(0, 0, i)) {
					t.Fatalf("day %d is %s", i, d.Day)
				}
				got := make([][]byte, len(d.Items))
				for j, it := range d.Items {
					got[j] = it.Raw
					if j > 0 {
						p := d.Items[j-1].Key
						if it.Key.CreatedAt.Before(p.CreatedAt) || it.Key.CreatedAt.Equal(p.CreatedAt) && it.Key.SubmissionID < p.SubmissionID {
							t.Fatalf("items of %s out of order at %d", argos.FormatDate(d.Day), j)
						}
					}
				}
				if fmt.Sprint(sortedCopy(got)) != fmt.Sprint(sortedCopy(want)) {
					t.Errorf("%s: %d items, want the source's %d, byte for byte", argos.FormatDate(d.Day), len(got), len(want))
				}
				if len(d.Bad) != 0 {
					t.Errorf("%s: %d bad items", argos.FormatDate(d.Day), len(d.Bad))
				}
				if d.Stats.Pages < 2 {
					t.Errorf("%s: %d pages, want several with page size 13", argos.FormatDate(d.Day), d.Stats.Pages)
				}
				calls += d.Stats.Calls
			}
			if calls != s.Calls() {
				t.Errorf("days account for %d calls, the server saw %d", calls, s.Calls())
			}
		})
	}
}

func TestWithoutMarginTheVendorZoneLosesItems(t *testing.T) {
	g := gen()
	s := sandbox.New(g, sandbox.WithAPIKey(key), sandbox.WithZone(sandbox.Seoul))
	c := client(t, serve(t, s), nil)
	got, want := 0, 0
	for _, d := range collect(t, argos.NewExtractor(c, argos.WithMargin(0)), day0, day0.AddDate(0, 0, 1)) {
		got += len(d.Items)
		want += len(g.Day(d.Day))
	}
	if got >= want {
		t.Fatalf("without margin got %d of %d items; the +09:00 API should hide some", got, want)
	}
}

func TestDaysAreHandedOnAsSoonAsComplete(t *testing.T) {
	api := fake()
	var mu sync.Mutex
	var asked []string
	base := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if d := r.URL.Query().Get("start_date"); len(asked) == 0 || asked[len(asked)-1] != d {
			asked = append(asked, d)
		}
		mu.Unlock()
		api.ServeHTTP(w, r)
	}))
	// One slice at a time: fetching and handing on alternate.
	e := argos.NewExtractor(client(t, base, nil, argos.WithPageSize(20)), argos.WithConcurrency(1))
	err := e.Window(context.Background(), day0, day0.AddDate(0, 0, 3), func(_ context.Context, d argos.DayItems) error {
		mu.Lock()
		defer mu.Unlock()
		// Day D needs API days D-1..D+1 and nothing later.
		if want := argos.FormatDate(d.Day.AddDate(0, 0, 1)); asked[len(asked)-1] != want {
			t.Errorf("%s handed on after API day %s, want right after %s", argos.FormatDate(d.Day), asked[len(asked)-1], want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"2025-01-31", "2025-02-01", "2025-02-02", "2025-02-03", "2025-02-04", "2025-02-05"}; fmt.Sprint(asked) != fmt.Sprint(want) {
		t.Errorf("API days %v, want %v", asked, want)
	}
}

// fixed is a Source of hand-made items.
type fixed map[time.Time][]string

func (f fixed) Day(d time.Time) [][]byte {
	var out [][]byte
	for _, s := range f[d] {
		out = append(out, []byte(s))
	}
	return out
}

func item(id, created, updated string) string {
	return `{"submission_id":"` + id + `","created_at":"` + created + `","updated_at":"` + updated + `","kyc":{"result":"approved"}}`
}

func TestDedupeKeepsTheNewest(t *testing.T) {
	old1, new1 := item("s1", "2025-02-01-10-00-00-000", "2025-02-01-10-05-00-000"), item("s1", "2025-02-01-10-00-00-000", "2025-02-04-09-00-00-000")
	new2, old2 := item("s2", "2025-02-01-11-00-00-000", "2025-02-03T00:00:00Z"), item("s2", "2025-02-01-11-00-00-000", "2025-02-01-11-00-00-000")
	tieA, tieB := item("s3", "2025-02-01-12-00-00-000", "2025-02-01-12-00-00-000"), `{"submission_id":"s3","created_at":"2025-02-01-12-00-00-000","updated_at":"2025-02-01-12-00-00-000","memo":{"text":"second"}}`
	src := fixed{day0: {old1, new1, new2, old2, tieA, tieB}}
	s := sandbox.New(src, sandbox.WithAPIKey(key), sandbox.WithZone(time.UTC))
	// Page size 1 puts every copy on its own page.
	days := collect(t, argos.NewExtractor(client(t, serve(t, s), nil, argos.WithPageSize(1))), day0, day0)
	got := map[string]string{}
	for _, it := range days[0].Items {
		got[it.Key.SubmissionID] = string(it.Raw)
	}
	if len(days[0].Items) != 3 || got["s1"] != new1 || got["s2"] != new2 || got["s3"] != tieB {
		t.Fatalf("kept %v", got)
	}
}

func TestUnreadableItemsGoToBad(t *testing.T) {
	src := fixed{
		day0.AddDate(0, 0, -1): {`"a bare string"`},
		day0: {
			item("ok", "2025-02-01-08-00-00-000", "2025-02-01-08-00-00-000"),
			`{"created_at":"2025-02-01-08-00-00-000"}`,
			`{"submission_id":"x","created_at":"the day after"}`,
			`[1,2,3]`,
		},
	}
	s := sandbox.New(src, sandbox.WithAPIKey(key), sandbox.WithZone(time.UTC))
	days := collect(t, argos.NewExtractor(client(t, serve(t, s), nil)), day0, day0.AddDate(0, 0, 1))
	if len(days) != 2 || len(days[0].Items) != 1 || len(days[1].Items) != 0 {
		t.Fatalf("days %+v", days)
	}
	bad := days[0].Bad
	if len(bad) != 4 || len(days[1].Bad) != 0 {
		t.Fatalf("bad items %+v / %+v, want 4 on the first day", bad, days[1].Bad)
	}
	sources := map[string]bool{}
	for _, b := range bad {
		sources[b.Source] = true
		if b.Reason == "" || len(b.Raw) == 0 {
			t.Errorf("bad item without reason or bytes: %+v", b)
		}
	}
	// The margin day's bad item is clamped into the window.
	if !sources["api 2025-01-31 page 1 item 1"] || !sources["api 2025-02-01 page 1 item 2"] {
		t.Errorf("sources %v", sources)
	}
	for _, b := range bad {
		if b.Source == "api 2025-01-31 page 1 item 1" && string(b.Raw) != `"a bare string"` {
			t.Errorf("raw %s", b.Raw)
		}
	}
}

func TestLateItemsAreNotLostSilently(t *testing.T) {
	// An API that returns an item of 2025-02-01 with API day 2025-02-03,
	// after 2025-02-01 was handed on.
	base := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("start_date") == "2025-02-03" {
			status(200, `{"Items":[`+item("late", "2025-02-01-23-00-00-000", "2025-02-01-23-00-00-000")+`]}`)(w, r)
			return
		}
		status(200, `{"Items":[]}`)(w, r)
	}))
	days := collect(t, argos.NewExtractor(client(t, base, nil)), day0, day0.AddDate(0, 0, 1))
	if len(days[1].Bad) != 1 || !strings.HasPrefix(days[1].Bad[0].Reason, "late: created on 2025-02-01") {
		t.Fatalf("late item not reported: %+v", days[1].Bad)
	}
}

func TestWindowStopsOnCancelAndOnError(t *testing.T) {
	c := client(t, serve(t, fake()), nil)
	e := argos.NewExtractor(c, argos.WithConcurrency(1))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	err := e.Window(ctx, day0, day0.AddDate(0, 0, 5), func(ctx context.Context, d argos.DayItems) error {
		n++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Fatalf("error %v after %d days, want context.Canceled after 1", err, n)
	}
	boom := errors.New("boom")
	err = e.Window(context.Background(), day0, day0.AddDate(0, 0, 5), func(context.Context, argos.DayItems) error { return boom })
	if !errors.Is(err, boom) || err.Error() != "handling 2025-02-01: boom" {
		t.Fatalf("error %v", err)
	}
	if err := e.Window(context.Background(), day0, day0.AddDate(0, 0, -1), nil); err == nil {
		t.Fatal("a window ending before it starts was accepted")
	}
}

func ExampleExtractor_Window() {
	g := synth.New(1, synth.WithAsOf(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)), synth.WithVolume(20, 20))
	api := sandbox.New(g) // serves in +09:00, like the vendor
	base, err := api.Start()
	if err != nil {
		panic(err)
	}
	defer api.Close()
	c, err := argos.NewClient(base, sandbox.DefaultAPIKey)
	if err != nil {
		panic(err)
	}
	from := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	// With concurrency 1, fn runs on one goroutine, in day order; with more,
	// calls overlap and fn must be safe for concurrent use.
	e := argos.NewExtractor(c, argos.WithConcurrency(1))
	err = e.Window(context.Background(), from, from.AddDate(0, 0, 1), func(ctx context.Context, d argos.DayItems) error {
		fmt.Println(argos.FormatDate(d.Day), len(d.Items), "items,", len(d.Bad), "bad")
		return nil
	})
	if err != nil {
		panic(err)
	}
	// Output:
	// 2025-02-01 20 items, 0 bad
	// 2025-02-02 20 items, 0 bad
}
