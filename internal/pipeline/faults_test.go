package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/argos/sandbox"
	"github.com/kycetl/kycetl/extract/argos/synth"
	"github.com/kycetl/kycetl/internal/cli"
	"github.com/kycetl/kycetl/internal/kyctest"
	"github.com/kycetl/kycetl/internal/pipeline"
	"github.com/kycetl/kycetl/load/archive"
)

// asKycetl makes the test binary run as the kycetl command. main is one
// call, cli.Main, so the crash test kills a real kycetl process without
// linking a second binary against DuckDB.
const asKycetl = "KYCETL_TEST_RUN_AS_KYCETL"

func TestMain(m *testing.M) {
	if os.Getenv(asKycetl) == "1" {
		os.Exit(cli.Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func serveHandler(t *testing.T, h http.Handler) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}

// sumLedger sums a column of load_runs for one project.
func (e *env) sumLedger(t *testing.T, column, project string) int64 {
	t.Helper()
	return e.count(t, fmt.Sprintf("SELECT CAST(COALESCE(SUM(%s), 0) AS BIGINT) FROM load_runs WHERE project = '%s'", column, project))
}

// TestLoadUnderFaults loads a window from an API that fails 30% of its
// answers (429, 500, 502, truncated bodies, malformed JSON) and repeats a
// nextpageKey now and then: the statistics equal a fault-free run's and an
// independent count, and the ledger accounts for every call and retry.
func TestLoadUnderFaults(t *testing.T) {
	ctx := context.Background()
	gen := synth.New(21, synth.WithVolume(60, 120), synth.WithAsOf(to.AddDate(0, 0, 3)))
	want := expected(t, gen, from, to)

	clean := open(t, t.TempDir())
	if _, err := clean.pl.Load(ctx, startAPI(t, gen), "run", "acme", from, to); err != nil {
		t.Fatal(err)
	}

	f := sandbox.FaultMix(0.3)
	// "Retry-After: 0" leaves the wait to the client's (tiny) backoff; stalls
	// are made common enough to be met in a short window.
	f.RetryAfter, f.RateRepeatKey, f.Seed = 0, 0.05, 3
	srv := sandbox.New(gen, sandbox.WithAPIKey(apiKey), sandbox.WithFaults(f))
	c, err := argos.NewClient(serveHandler(t, srv), apiKey, argos.WithPageSize(10), argos.WithRetry(12, time.Millisecond, 4*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	e := open(t, t.TempDir())
	sum, err := e.pl.Load(ctx, argos.NewExtractor(c, argos.WithConcurrency(4)), "run", "acme", from, to)
	if err != nil {
		t.Fatal(err)
	}
	got := actual(t, e.wh.DB(), "acme")
	compare(t, "under 30% faults vs a fault-free run", actual(t, clean.wh.DB(), "acme"), got)
	compare(t, "under 30% faults vs an independent count", want, got)

	in := srv.Injected()
	t.Logf("%d calls, faults injected: %+v", srv.Calls(), in)
	if in.TooManyRequests == 0 || in.InternalError == 0 || in.BadGateway == 0 || in.Truncated == 0 || in.Malformed == 0 || in.RepeatedKeys == 0 {
		t.Errorf("not every fault was met: %+v", in)
	}
	if n := e.sumLedger(t, "api_calls", "acme"); n != srv.Calls() || sum.APICalls != n {
		t.Errorf("load_runs counts %d API calls, the summary %d, the server saw %d", n, sum.APICalls, srv.Calls())
	}
	if n := e.sumLedger(t, "retries", "acme"); n != in.Total() {
		t.Errorf("load_runs counts %d retries, the server injected %d faults", n, in.Total())
	}
	if e.count(t, "SELECT COUNT(*) FROM submissions") != e.count(t, "SELECT COUNT(DISTINCT submission_id) FROM submissions") {
		t.Error("duplicate submissions")
	}
}

// TestFailedDayKeepsItsPartition: an API day that fails after retries
// leaves the partitions of the days that need it as they were, and the
// other days are loaded.
func TestFailedDayKeepsItsPartition(t *testing.T) {
	ctx := context.Background()
	gen := synth.New(23, synth.WithVolume(40, 80), synth.WithAsOf(to.AddDate(0, 0, 3)))
	e := open(t, t.TempDir())
	first, err := e.pl.Load(ctx, startAPI(t, gen), "run", "acme", from, to)
	if err != nil {
		t.Fatal(err)
	}

	const broken = "2025-02-02"
	api := sandbox.New(gen, sandbox.WithAPIKey(apiKey))
	base := serveHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("start_date") == broken {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		api.ServeHTTP(w, r)
	}))
	c, err := argos.NewClient(base, apiKey, argos.WithPageSize(100), argos.WithRetry(3, time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.pl.Load(ctx, argos.NewExtractor(c), "run", "acme", from, to)
	var de *argos.DayErrors
	if !errors.As(err, &de) {
		t.Fatalf("error %v, want the failed days (*extract.DayErrors)", err)
	}
	loadErr := err
	var failed []string
	for _, f := range de.Failed() {
		failed = append(failed, argos.FormatDate(f.Day))
	}
	if fmt.Sprint(failed) != "[2025-02-01 2025-02-02 2025-02-03]" {
		t.Fatalf("failed days %v", failed)
	}
	compare(t, "after a failed day", expected(t, gen, from, to), actual(t, e.wh.DB(), "acme"))
	// The failed days still hold the first run's rows; the others the second's.
	rows, err := e.wh.DB().Query(`SELECT CAST(created_date AS VARCHAR), MIN(run_id), MAX(run_id) FROM submissions GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var day, lo, hi string
		if err := rows.Scan(&day, &lo, &hi); err != nil {
			t.Fatal(err)
		}
		wantRun := second.RunID
		if strings.Contains(fmt.Sprint(failed), day) {
			wantRun = first.RunID
		}
		if lo != wantRun || hi != wantRun {
			t.Errorf("%s holds rows of runs %s..%s, want only %s", day, lo, hi, wantRun)
		}
	}
	if !errors.Is(loadErr, pipeline.ErrDaysFailed) {
		t.Errorf("error %v does not say that days failed", loadErr)
	}
	if len(second.Failed) != 3 {
		t.Errorf("summary lists %d failed days, want 3", len(second.Failed))
	}
	// The failed days are on record, with the error.
	if n := e.count(t, "SELECT COUNT(*) FROM load_runs WHERE run_id = '"+second.RunID+"' AND outcome = 'failed' AND error IS NOT NULL"); n != 3 {
		t.Errorf("load_runs has %d failed rows for the second run, want 3", n)
	}
	rep, err := archive.Verify(ctx, e.layout)
	if err != nil || !rep.OK() {
		t.Errorf("verify: %v %v", err, rep)
	}
}

// gate lets through the requests of the API days up to through (and any
// request without a start_date) and holds the others until it opens (or
// their client goes away). It goes by day, not by count: which slice's
// request comes first is a race, and letting the first n through made the
// test hang whenever the first day's second API day came late.
type gate struct {
	next    http.Handler
	through string // an API day, YYYY-MM-DD
	calls   atomic.Int64
	opened  chan struct{}
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.calls.Add(1)
	if day := r.URL.Query().Get("start_date"); day > g.through {
		select {
		case <-g.opened:
		case <-r.Context().Done():
			return
		}
	}
	g.next.ServeHTTP(w, r)
}

// TestKilledRunRerun kills a real `kycetl run` process (SIGKILL) after it
// completed some days and while others are in flight, runs the same
// command again, and checks that the archive and the warehouse hold every
// submission of the window exactly once.
func TestKilledRunRerun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts kycetl processes")
	}
	ctx := context.Background()
	// An API load commits day by day. The API days up to the window's
	// second get through (the vendor's days are +09:00: the first UTC day
	// needs its own API day and the next), so that the first day commits,
	// the next are in flight, and the run hangs on the rest until it is
	// killed.
	first := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 0, 9)
	gen := synth.New(31, synth.WithVolume(40, 80), synth.WithAsOf(last.AddDate(0, 0, 5)))
	g := &gate{next: sandbox.New(gen, sandbox.WithAPIKey(apiKey)), through: argos.FormatDate(first.AddDate(0, 0, 1)), opened: make(chan struct{})}
	base := serveHandler(t, g)
	dir := t.TempDir()
	layout := archive.Layout{Dir: dir}

	kycetl := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "run", "--from", argos.FormatDate(first), "--to", argos.FormatDate(last), "--dir", dir, "--project", "acme")
		cmd.Env = append(os.Environ(), asKycetl+"=1", "ARGOS_API_URL="+base, "ARGOS_API_KEY="+apiKey, "KYCETL_PII_KEY=crash-test-pii-key")
		return cmd
	}
	var out bytes.Buffer
	cmd := kycetl()
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Generous: on a loaded 2-core machine the child's start and first pages
	// have taken minutes; the limit only bounds a run that truly hangs.
	deadline := time.Now().Add(5 * time.Minute)
	for !dayCommitted(layout) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no day committed within 5 minutes (%d API requests reached the gate):\n%s", g.calls.Load(), out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no cleanup runs
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatalf("the killed run exited cleanly: the gate did not hold it:\n%s", out.String())
	}
	killed, err := layout.ReadManifests()
	if err != nil || len(killed) != 1 || killed[0].Complete || len(killed[0].Days) == 0 {
		t.Fatalf("after the kill: %d manifests (%v), want one incomplete with some days", len(killed), err)
	}
	// status calls the killed run interrupted, and is unhealthy until the
	// days it left are loaded.
	status := func() (int, string) {
		cmd := exec.Command(os.Args[0], "status", "--dir", dir)
		cmd.Env = append(os.Environ(), asKycetl+"=1")
		b, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), string(b)
	}
	if code, out := status(); code != cli.ExitFailed || !strings.Contains(out, "interrupted") || !strings.Contains(out, "UNHEALTHY") {
		t.Errorf("status after the kill: exit %d, want 1, an interrupted run and UNHEALTHY:\n%s", code, out)
	}

	close(g.opened)
	again := kycetl()
	if b, err := again.CombinedOutput(); err != nil {
		t.Fatalf("re-run: %v\n%s", err, b)
	}
	if code, out := status(); code != cli.ExitOK {
		t.Errorf("status after the re-run: exit %d, want 0:\n%s", code, out)
	}

	e := open(t, dir)
	want, err := kyctest.Expected(gen, first, last)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, c := range want {
		total += c.Total
	}
	if n, distinct := e.count(t, "SELECT COUNT(*) FROM submissions"), e.count(t, "SELECT COUNT(DISTINCT submission_id) FROM submissions"); n != total || distinct != total {
		t.Errorf("submissions: %d rows, %d distinct, want %d", n, distinct, total)
	}
	compare(t, "after kill and re-run", want, actual(t, e.wh.DB(), "acme"))
	rep, err := archive.Verify(ctx, layout)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("verify after kill and re-run: %v", rep)
	}
	t.Logf("killed after %d committed days; %d files checked, %d unlisted left by the kill", len(killed[0].Days), rep.Files, len(rep.Unlisted))
}

// dayCommitted reports whether some manifest lists a completed day.
func dayCommitted(l archive.Layout) bool {
	ms, err := l.ReadManifests()
	if err != nil {
		return false
	}
	for _, m := range ms {
		for _, d := range m.Days {
			if d.Outcome == archive.OutcomeOK {
				return true
			}
		}
	}
	return false
}
