package argos_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/argos/sandbox"
)

// BenchmarkWindowLatency extracts 30 days (a backfill) and 7 days (the
// nightly look-back) from the built-in API answering every page after
// 100 ms, with 4 day slices, and reports the time against the lower bound
// max(pages × 100 ms / 4, longest page chain × 100 ms). Recorded in
// docs/benchmarks.md.
func BenchmarkWindowLatency(b *testing.B) {
	for _, days := range []int{30, 7} {
		b.Run(fmt.Sprintf("days=%d", days), func(b *testing.B) { benchWindowLatency(b, days) })
	}
}

func benchWindowLatency(b *testing.B, days int) {
	const (
		latency     = 100 * time.Millisecond
		concurrency = 4
	)
	from, to := day0, day0.AddDate(0, 0, days-1)
	var runs, pages, longest int
	var took, bound time.Duration
	for b.Loop() {
		b.StopTimer()
		s := sandbox.New(gen(), sandbox.WithAPIKey(key), sandbox.WithFaults(sandbox.Faults{Latency: latency}))
		var mu sync.Mutex
		chain := map[string]int{} // API day → pages
		base := serve(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			chain[r.URL.Query().Get("start_date")]++
			mu.Unlock()
			s.ServeHTTP(w, r)
		}))
		c, err := argos.NewClient(base, key, argos.WithPageSize(15))
		if err != nil {
			b.Fatal(err)
		}
		e := argos.NewExtractor(c, argos.WithConcurrency(concurrency))
		b.StartTimer()
		started := time.Now()
		err = e.Window(context.Background(), from, to, func(context.Context, argos.DayItems) error { return nil })
		took += time.Since(started)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		p, l := 0, 0
		for _, n := range chain {
			p += n
			l = max(l, n)
		}
		runs, pages, longest = runs+1, p, l
		bound += max(time.Duration(p)*latency/concurrency, time.Duration(l)*latency)
		b.StartTimer()
	}
	b.ReportMetric(float64(pages), "pages")
	b.ReportMetric(float64(longest), "longest-chain")
	b.ReportMetric(bound.Seconds()/float64(runs), "bound-s")
	b.ReportMetric(took.Seconds()/float64(runs), "took-s")
	b.ReportMetric(took.Seconds()/bound.Seconds(), "x-bound")
}
