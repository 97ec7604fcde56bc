package cli

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/kycetl/kycetl/extract/argos/sandbox"
	"github.com/kycetl/kycetl/extract/argos/synth"
	"github.com/kycetl/kycetl/internal/config"
	"github.com/kycetl/kycetl/internal/kyctest"
	"github.com/kycetl/kycetl/internal/lock"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/schedules"
)

// runWith runs the command line in-process with e.
func runWith(ctx context.Context, e *env, args ...string) int { return run(ctx, e, args) }

// cli runs one command with vars and a fixed clock.
func cli(t *testing.T, now time.Time, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut kyctest.SyncBuffer
	e := &env{stdout: &out, stderr: &errOut, now: func() time.Time { return now }, getenv: func(k string) string { return vars[k] }}
	code = runWith(context.Background(), e, args...)
	return code, out.String(), errOut.String()
}

func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestScheduleUsage(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, filepath.Join(dir, "good.yaml"), "dir: "+filepath.Join(dir, "wh")+"\nprojects:\n  - name: p\n    api_key_env: P_KEY\n")
	bad := writeFile(t, filepath.Join(dir, "bad.yaml"), "projects:\n  - name: p\n    jobs:\n      - kind: nightly\n        schedule: \"0 0 2 * * *\"\n")
	secret := writeFile(t, filepath.Join(dir, "secret.yaml"), "projects:\n  - name: p\n    api_key_env: P_KEY\n    secret_key_env: P_SECRET\n")
	pii := map[string]string{"KYCETL_PII_KEY": "a-pii-key-for-tests"}
	for _, tc := range []struct {
		args []string
		vars map[string]string
		want string
	}{
		{[]string{"schedule"}, nil, "--config is required"},
		{[]string{"schedule", "--config", filepath.Join(dir, "none.yaml")}, nil, "none.yaml"},
		{[]string{"schedule", "--config", bad}, nil, "bad.yaml:5: projects[0].jobs[0].schedule"},
		{[]string{"schedule", "--config", good}, nil, "KYCETL_PII_KEY"},
		{[]string{"schedule", "--config", good}, pii, "P_KEY is not set"},
		{[]string{"schedule", "--config", secret}, map[string]string{"KYCETL_PII_KEY": "a-pii-key-for-tests", "P_KEY": "k"}, "P_SECRET is not set"},
		{[]string{"schedule", "--config", bad, "--dry-run"}, nil, "bad.yaml:5:"},
		{[]string{"status", "--dir", filepath.Join(dir, "nowhere")}, nil, "no archive directory"},
		{[]string{"status", "--dir", dir, "--runs", "0"}, nil, "--runs"},
		{[]string{"status", "--config", bad}, nil, "bad.yaml:5:"},
	} {
		code, _, stderr := cli(t, time.Now(), tc.vars, tc.args...)
		if code != ExitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("kycetl %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
	// A configuration error leaves nothing behind: no directory, no lock.
	if _, err := os.Stat(filepath.Join(dir, "wh")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused start created the warehouse directory: %v", err)
	}
}

func TestScheduleDryRun(t *testing.T) {
	now := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC) // a Monday
	vars := map[string]string{"KYCETL_DIR": t.TempDir(), "ARGOS_EU_API_URL": "https://eu.example.com", "ARGOS_API_KEY": "k"}
	code, out, stderr := cli(t, now, vars, "schedule", "--config", filepath.Join("..", "..", "kycetl.example.yaml"), "--dry-run")
	if code != ExitOK {
		t.Fatalf("dry run: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		"kycetl.example.yaml is valid",
		"PII key in $KYCETL_PII_KEY (NOT SET)",
		"project acme: https://rest-api.argosidentity.com, API key in $ARGOS_API_KEY (set)",
		"API key in $ARGOS_EU_API_KEY (NOT SET), secret key in $ARGOS_EU_SECRET_KEY (NOT SET)",
		"job nightly (nightly): \"0 2 * * *\", look-back 7 days",
		"Tue 2025-03-11 02:00 UTC  loads 2025-03-04..2025-03-11",
		"Sat 2025-03-15 02:00 UTC  loads 2025-03-08..2025-03-15",
		"Sun 2025-03-16 03:00 UTC  loads 2024-12-16..2025-03-16",
		"Mon 2025-03-10 10:00 UTC  loads 2025-03-10..2025-03-10", // @every 1h from now
		"project acme-fractal: fractal, client id in $FRACTAL_CLIENT_ID (NOT SET), client secret in $FRACTAL_CLIENT_SECRET (NOT SET)",
		"Tue 2025-03-11 00:30 UTC  loads 2025-03-11..2025-03-11",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	// Five fire times for each of the six jobs.
	if n := strings.Count(out, "  loads "); n != 30 {
		t.Errorf("%d fire times, want 30:\n%s", n, out)
	}
	if entries, _ := os.ReadDir(vars["KYCETL_DIR"]); len(entries) != 0 {
		t.Errorf("the dry run wrote %v", entries)
	}
}

// gate holds the built-in API's requests while shut, to keep a run going.
type gate struct {
	h       http.Handler
	mu      sync.Mutex
	opened  chan struct{} // closed while the gate is open
	blocked chan struct{} // gets a value when a request waits at the shut gate
}

func newGate(h http.Handler) *gate {
	return &gate{h: h, opened: make(chan struct{}), blocked: make(chan struct{}, 1000)}
}

func (g *gate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.opened:
	default:
		close(g.opened)
	}
}

func (g *gate) shut() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.opened:
		g.opened = make(chan struct{})
	default:
	}
	for len(g.blocked) > 0 {
		<-g.blocked
	}
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	opened := g.opened
	g.mu.Unlock()
	select {
	case <-opened:
	default:
		g.blocked <- struct{}{}
		select {
		case <-opened:
		case <-r.Context().Done():
			http.Error(w, "client gone", http.StatusServiceUnavailable)
			return
		}
	}
	g.h.ServeHTTP(w, r)
}

func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(40 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

// TestScheduleDaemon runs the daemon with an @every 1s job against the
// built-in API and a DuckDB warehouse: a run held up by the API makes the
// next tick skip; a second daemon is refused by the lock; a SIGTERM while a
// run is fetching stops the daemon cleanly; the ledger shows it all.
func TestScheduleDaemon(t *testing.T) {
	const key = "schedule-test-api-key-5521"
	gen := synth.New(7, synth.WithVolume(5, 10), synth.WithAsOf(time.Now()))
	g := newGate(sandbox.New(gen, sandbox.WithAPIKey(key)))
	srv := httptest.NewServer(g)
	defer srv.Close()
	defer g.open()

	tmp := t.TempDir()
	dir := filepath.Join(tmp, "warehouse")
	path := writeFile(t, filepath.Join(tmp, "kycetl.yaml"), `dir: `+dir+`
pii:
  key_env: TEST_PII_KEY
credit_rates:
  - {item: id_check, credits: 2, valid_from: "2025-02-01"}
  - {item: knowledge_check, credits: 1, valid_from: "2025-02-01"}
  - {item: aml_screening, credits: 1, valid_from: "2025-02-01"}
projects:
  - name: acme
    api_url: `+srv.URL+`
    api_key_env: TEST_ARGOS_KEY
    jobs:
      - name: tick
        kind: hourly
        schedule: "@every 1s"
        lookback_days: 1
`)
	vars := map[string]string{"TEST_ARGOS_KEY": key, "TEST_PII_KEY": "a-pii-key-for-tests"}
	getenv := func(k string) string { return vars[k] }
	cfg, err := config.Load(path, getenv)
	if err != nil {
		t.Fatal(err)
	}
	var logs, out kyctest.SyncBuffer
	e := &env{stdout: &out, stderr: &logs, now: time.Now, getenv: getenv, log: zerolog.New(&logs)}

	ctx, stopSignals := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stopSignals()
	started, finished, skipped := make(chan schedules.Event, 1000), make(chan schedules.Event, 1000), make(chan schedules.Event, 1000)
	done := make(chan error, 1)
	go func() {
		done <- e.schedule(ctx, cfg, schedules.WithEvents(func(ev schedules.Event) {
			map[schedules.EventKind]chan schedules.Event{schedules.Started: started, schedules.Finished: finished, schedules.Skipped: skipped}[ev.Kind] <- ev
		}))
	}()

	// The first run (nothing in the ledger yet: yesterday and today) waits
	// at the shut gate; the next tick is skipped.
	first := waitFor(t, started, "the first run")
	if first.To.Sub(first.From) != 24*time.Hour {
		t.Errorf("first window %s..%s, want yesterday and today", first.From, first.To)
	}
	waitFor(t, g.blocked, "the first run's request")
	if ev := waitFor(t, skipped, "a skipped tick"); ev.Job != "tick" || ev.Project != "acme" {
		t.Errorf("skip event %+v", ev)
	}
	if !strings.Contains(logs.String(), "tick skipped") {
		t.Error("the skipped tick is not in the log")
	}

	// The lock refuses a second daemon, naming our pid.
	_, err = lock.Acquire(dir)
	pid := strconv.Itoa(os.Getpid())
	if !errors.Is(err, lock.ErrLocked) || !strings.Contains(err.Error(), "in use by kycetl pid "+pid) {
		t.Errorf("lock while the daemon runs: %v", err)
	}
	var out2, err2 kyctest.SyncBuffer
	e2 := &env{stdout: &out2, stderr: &err2, now: time.Now, getenv: getenv}
	if code := runWith(context.Background(), e2, "schedule", "--config", path); code != ExitFailed || !strings.Contains(err2.String(), "is in use by kycetl pid "+pid) {
		t.Errorf("second daemon: exit %d, stderr %q", code, err2.String())
	}

	// Let the first run through.
	g.open()
	if ev := waitFor(t, finished, "the first run's end"); ev.Err != nil || !ev.From.Equal(first.From) {
		t.Fatalf("first run: %+v", ev)
	}

	// Hold a later run in its fetch and send SIGTERM.
	g.shut()
	waitFor(t, g.blocked, "a later run's request")
	stoppedAt := time.Now()
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(t, done, "the daemon to stop"); err != nil {
		t.Fatalf("schedule returned %v", err)
	}
	if took := time.Since(stoppedAt); took > schedules.DefaultStopTimeout {
		t.Errorf("stopping took %s", took)
	}
	g.open()
	if _, held, _ := lock.Holder(dir); held {
		t.Error("the lock is still held after the daemon stopped")
	}

	// The ledger: the first run loaded both days; the run stopped by the
	// signal left its days as skipped, none failed.
	w, err := e.open(context.Background(), dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	db := w.wh.(load.Queryable).DB()
	var okFirst, failed, skippedDays, stoppedRuns int
	if err := db.QueryRow(`SELECT count(*) FROM load_runs WHERE outcome = 'ok' AND run_id = (SELECT min(run_id) FROM load_runs WHERE command = 'schedule:tick')`).
		Scan(&okFirst); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT count(*) FILTER (outcome = 'failed'), count(*) FILTER (outcome = 'skipped'), count(DISTINCT run_id) FILTER (outcome = 'skipped') FROM load_runs`).
		Scan(&failed, &skippedDays, &stoppedRuns); err != nil {
		t.Fatal(err)
	}
	if okFirst != 2 || failed != 0 || skippedDays < 1 || stoppedRuns != 1 {
		t.Errorf("load_runs: %d ok days of the first window, %d failed, %d skipped in %d runs", okFirst, failed, skippedDays, stoppedRuns)
	}
	var msg string
	if err := db.QueryRow(`SELECT min(error) FROM load_runs WHERE outcome = 'skipped'`).Scan(&msg); err != nil || !strings.Contains(msg, "stopping") {
		t.Errorf("skipped rows say %q, %v", msg, err)
	}
	var credits float64
	if err := db.QueryRow(`SELECT credits FROM credit_rates WHERE item = 'id_check'`).Scan(&credits); err != nil || credits != 2 {
		t.Errorf("credit rate card: id_check %v, %v; want the file's 2", credits, err)
	}
	var subs int
	if err := db.QueryRow(`SELECT count(*) FROM submissions WHERE project = 'acme'`).Scan(&subs); err != nil || subs == 0 {
		t.Errorf("%d submissions loaded, %v", subs, err)
	}
	w.Close()

	// No partial partition: every file is listed in a manifest and intact.
	rep, err := archive.Verify(context.Background(), archive.Layout{Dir: dir})
	if err != nil || !rep.OK() {
		t.Errorf("verify after the stop: %v\n%+v", err, rep)
	}
	// The key is in no log and no file.
	if strings.Contains(logs.String(), key) || strings.Contains(err2.String(), key) {
		t.Error("the API key appears in the log")
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(key)) {
				t.Errorf("the API key appears in %s", p)
			}
		}
		return err
	})

	// status reads it all back: healthy, the stopped run shown as such.
	code, status, stderr := cli(t, time.Now(), vars, "status", "--config", path)
	if code != ExitOK {
		t.Errorf("status: exit %d\n%s\n%s", code, status, stderr)
	}
	for _, want := range []string{"job tick (hourly, \"@every 1s\"", "  ok  ", "stopped", "failed days: none", "status: ok"} {
		if !strings.Contains(status, want) {
			t.Errorf("status lacks %q:\n%s", want, status)
		}
	}
}
