package pipeline_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/argos/sandbox"
	"github.com/kycetl/kycetl/extract/argos/synth"
	"github.com/kycetl/kycetl/internal/config"
	"github.com/kycetl/kycetl/internal/pipeline"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/load/duckdb"
	"github.com/kycetl/kycetl/schedules"
	"github.com/kycetl/kycetl/transform/pii"
)

// daemon is a Scheduler over the built-in API, as kycetl schedule wires it
// (one DuckDB warehouse opened for each run and closed after), with a clock
// the test moves.
type daemon struct {
	s   *pipeline.Scheduler
	l   archive.Layout
	mu  sync.Mutex
	now time.Time
}

func newDaemon(t testing.TB, volume, pageSize int, keep config.Retention) *daemon {
	t.Helper()
	asOf := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	srv := sandbox.New(synth.New(11, synth.WithVolume(volume, volume), synth.WithAsOf(asOf)), sandbox.WithAPIKey("daemon-test-key"))
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c, err := argos.NewClient(url, "daemon-test-key", argos.WithPageSize(pageSize))
	if err != nil {
		t.Fatal(err)
	}
	pol, err := pii.New(pii.WithKey([]byte("daemon-test-pii-key")))
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{l: archive.Layout{Dir: t.TempDir()}, now: time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)}
	open := func(ctx context.Context) (load.Warehouse, error) {
		wh, err := duckdb.Open(ctx, d.l.DuckDBPath())
		if err != nil {
			return nil, err
		}
		if err := wh.Prepare(ctx); err != nil {
			wh.Close()
			return nil, err
		}
		return wh, nil
	}
	d.s = pipeline.NewScheduler(d.l, open, map[string]pipeline.Window{"acme": argos.NewExtractor(c)},
		pipeline.WithPolicy(pol), pipeline.WithClock(d.clock), pipeline.WithLogger(zerolog.Nop()))
	d.s.SetRetention(keep)
	return d
}

func (d *daemon) clock() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.now
}

// tick moves the clock by step and runs job over day as the daemon's fire
// does: the ledger read (with history; it opens the warehouse once more),
// then the run.
func (d *daemon) tick(t testing.TB, step time.Duration, job config.Job, day time.Time, history bool) {
	t.Helper()
	d.mu.Lock()
	d.now = d.now.Add(step)
	d.mu.Unlock()
	ctx := context.Background()
	p := config.Project{Name: "acme"}
	if history {
		h, err := d.s.History(ctx, p.Source, p.Name, day)
		if err != nil {
			t.Fatal(err)
		}
		schedules.Window(job, d.clock(), h.LastOK(day, d.clock()))
	}
	if err := d.s.Run(ctx, job, p, day, day); err != nil {
		t.Fatal(err)
	}
}

func (d *daemon) versions(t testing.TB, day string) int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(d.l.Dir, "raw", "argos", "project=acme", "created_date="+day, "*"))
	if err != nil {
		t.Fatal(err)
	}
	return len(files)
}

// TestSchedulerPrunesAfterNightly: the daemon prunes after a nightly job's
// run, not after an hourly one's, and keeps the versions superseded inside
// the limit.
func TestSchedulerPrunesAfterNightly(t *testing.T) {
	d := newDaemon(t, 5, 50, config.Retention{SupersededDays: 1})
	day := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	hourly := config.Job{Name: "today", Kind: config.Hourly}
	nightly := config.Job{Name: "nightly", Kind: config.Nightly}
	for range 4 {
		d.tick(t, time.Hour, hourly, day, true)
	}
	if n := d.versions(t, "2025-03-03"); n != 4 {
		t.Fatalf("after 4 hourly runs: %d versions, want 4 (hourly runs do not prune)", n)
	}
	d.tick(t, 48*time.Hour, nightly, day, true)
	// The three superseded 2 days ago go; the fourth, superseded by this
	// run, stays inside the limit, beside the current one.
	if n := d.versions(t, "2025-03-03"); n != 2 {
		t.Errorf("after the nightly run: %d versions, want 2", n)
	}
	rep, err := archive.Verify(context.Background(), d.l)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || len(rep.Prunes) != 1 {
		t.Errorf("verify after the daemon's prune: %s", rep)
	}
}

// TestSchedulerCompactsAfterNightly: with retention.compact_after_days the
// daemon compacts after a nightly job's run, and the views read the month
// file with the same rows as the day files hold.
func TestSchedulerCompactsAfterNightly(t *testing.T) {
	d := newDaemon(t, 5, 50, config.Retention{SupersededDays: config.KeepAll, CompactAfterDays: 30})
	hourly := config.Job{Name: "today", Kind: config.Hourly}
	nightly := config.Job{Name: "nightly", Kind: config.Nightly}
	for _, day := range []int{25, 26} {
		d.tick(t, time.Hour, hourly, time.Date(2025, 2, day, 0, 0, 0, 0, time.UTC), false)
	}
	compacted := func() []string {
		t.Helper()
		m, err := filepath.Glob(filepath.Join(d.l.Dir, duckdb.CompactedDir, "submissions", "project=acme", "month=2025-02", "*.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := compacted(); len(m) != 0 {
		t.Fatalf("hourly runs compacted: %v", m)
	}
	d.tick(t, time.Hour, nightly, time.Date(2025, 2, 27, 0, 0, 0, 0, time.UTC), false)
	if m := compacted(); len(m) != 1 {
		t.Fatalf("after the nightly run: %d month files of February's submissions, want 1", len(m))
	}
	ctx := context.Background()
	wh, err := duckdb.Open(ctx, d.l.DuckDBPath(), duckdb.WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	var view, files int64
	var text string
	if err := wh.DB().QueryRowContext(ctx, "SELECT count(*) FROM submissions").Scan(&view); err != nil {
		t.Fatal(err)
	}
	glob := filepath.Join(d.l.Dir, "parquet", "submissions", "**", "*.parquet")
	if err := wh.DB().QueryRowContext(ctx, "SELECT count(*) FROM read_parquet('"+glob+"')").Scan(&files); err != nil {
		t.Fatal(err)
	}
	if err := wh.DB().QueryRowContext(ctx, "SELECT sql FROM duckdb_views() WHERE view_name = 'submissions'").Scan(&text); err != nil {
		t.Fatal(err)
	}
	if view != files || view == 0 || !strings.Contains(text, "/compacted/") {
		t.Errorf("submissions: %d rows through the view, %d in the day files; the view reads the month file: %v", view, files, strings.Contains(text, "/compacted/"))
	}
}

// TestDaemonMemoryStaysFlat runs 500 daemon runs against the built-in API,
// an hourly job of one day with a nightly one every 24th run, and a
// retention of 30 days (the runs span 21 days: every version is kept, and
// each nightly prune reads them all). It fails when the heap after the
// 500th run exceeds the heap after the 50th by more than a small margin, or
// when the last 50 runs allocate much more per run than runs 51 to 100 (work
// growing with the archive's history). It logs the heap and RSS curve.
func TestDaemonMemoryStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("500 daemon runs: skipped in -short")
	}
	const runs, base = 500, 50
	d := newDaemon(t, 4, 2, config.Retention{SupersededDays: 30})
	day := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	hourly := config.Job{Name: "today", Kind: config.Hourly}
	nightly := config.Job{Name: "nightly", Kind: config.Nightly}
	var heapBase, allocBase, perRunBase, lastTotal uint64
	start := time.Now()
	for i := 1; i <= runs; i++ {
		job := hourly
		if i%24 == 0 {
			job = nightly
		}
		// The ledger is read on nightly ticks only: each read opens and
		// prepares the warehouse once more, which would double the time.
		d.tick(t, time.Hour, job, day, job.Kind == config.Nightly)
		if i%base != 0 {
			continue
		}
		heap, alloc := heapAfterGC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		perRun := (ms.TotalAlloc - lastTotal) / base
		lastTotal = ms.TotalAlloc
		t.Logf("run %3d: heap in use %6.2f MB, heap alloc %6.2f MB, RSS %6.1f MB, allocated %5.2f MB/run, %d goroutines, %d versions on disk, %.0f s",
			i, mb(heap), mb(alloc), mb(rss(t)), mb(perRun), runtime.NumGoroutine(), d.versions(t, "2025-03-03"), time.Since(start).Seconds())
		switch i {
		case base:
			heapBase, allocBase = heap, alloc
		case 2 * base:
			perRunBase = perRun
		case runs:
			if perRun > perRunBase+perRunBase/4 {
				t.Errorf("runs %d-%d allocated %.2f MB each, runs %d-%d %.2f MB: a run's work grows with the archive",
					runs-base+1, runs, mb(perRun), base+1, 2*base, mb(perRunBase))
			}
		}
	}
	heap, alloc := heapAfterGC()
	// A small margin: 10% and 2 MB for the runtime's own bookkeeping.
	limit := func(b uint64) uint64 { return b + b/10 + 2<<20 }
	if heap > limit(heapBase) || alloc > limit(allocBase) {
		t.Errorf("the heap grew from run %d to run %d: in use %.2f → %.2f MB, alloc %.2f → %.2f MB",
			base, runs, mb(heapBase), mb(heap), mb(allocBase), mb(alloc))
	}
}

func heapAfterGC() (inUse, alloc uint64) {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, ms.HeapAlloc
}

// rss is the process's resident set size, from /proc (0 elsewhere).
func rss(t testing.TB) uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			var kb uint64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb); err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	return 0
}

func mb(n uint64) float64 { return float64(n) / (1 << 20) }
