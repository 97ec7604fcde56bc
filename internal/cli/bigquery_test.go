package cli

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/kycetl/kycetl/extract/argos/sandbox"
	"github.com/kycetl/kycetl/extract/argos/synth"
	"github.com/kycetl/kycetl/internal/config"
	"github.com/kycetl/kycetl/internal/kyctest"
	"github.com/kycetl/kycetl/internal/window"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/load/bigquery"
	"github.com/kycetl/kycetl/load/bigquery/bqfake"
	"github.com/kycetl/kycetl/schedules"
)

// TestScheduleBigQuery runs the daemon on a BigQuery warehouse (the
// in-process endpoint) whose ledger already holds earlier loads: project
// acme misses a day three days ago, which the first run reaches back to;
// project spent made nearly all of today's API calls before the daemon
// started, so its first run stops for the call budget before any day.
// kycetl status then reads it all back from BigQuery's load_runs, and
// its anomalies view (none: too few days for a trailing median).
func TestScheduleBigQuery(t *testing.T) {
	const key = "schedule-bq-test-api-key-7730"
	now := time.Now().UTC()
	today := window.Day(now)
	gen := synth.New(11, synth.WithVolume(3, 6), synth.WithAsOf(now))
	srv := httptest.NewServer(sandbox.New(gen, sandbox.WithAPIKey(key)))
	defer srv.Close()
	fake := bqfake.New()
	defer fake.Close()
	if err := fake.AnswerLedger(schedules.Queries()); err != nil {
		t.Fatal(err)
	}
	bqOpts := []bigquery.Option{bigquery.WithClientOptions(fake.ClientOptions()...), bigquery.WithTempDir(t.TempDir())}

	// The ledger before the daemon: acme loaded every day from 7 days ago
	// but the one 2 days ago; spent spent 499,995 calls today.
	ctx := context.Background()
	wh, err := bigquery.Open(ctx, bigquery.Config{Project: "kyc-test", Dataset: "kyc"}, bqOpts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	var acme []archive.DayRecord
	for d := today.AddDate(0, 0, -7); d.Before(today); d = d.AddDate(0, 0, 1) {
		if !d.Equal(today.AddDate(0, 0, -2)) {
			acme = append(acme, archive.DayRecord{Source: "argos", Project: "acme", Day: window.FormatDate(d), StartedAt: today, FinishedAt: today,
				Outcome: archive.OutcomeOK, APICalls: 2})
		}
	}
	spent := []archive.DayRecord{{Source: "argos", Project: "spent", Day: window.FormatDate(today.AddDate(0, 0, -1)), StartedAt: today, FinishedAt: today,
		Outcome: archive.OutcomeOK, APICalls: 499_995}}
	for _, r := range []struct {
		id   string
		days []archive.DayRecord
	}{{"00000000T000000Z-acme", acme}, {"00000000T000000Z-spent", spent}} {
		m := &archive.Manifest{RunID: r.id, Command: "run", WindowFrom: r.days[0].Day, WindowTo: r.days[len(r.days)-1].Day}
		if err := wh.RecordRuns(ctx, m, r.days); err != nil {
			t.Fatal(err)
		}
	}
	wh.Close()

	tmp := t.TempDir()
	dir := filepath.Join(tmp, "archive")
	job := `    api_url: ` + srv.URL + `
    api_key_env: TEST_ARGOS_KEY
    jobs:
      - name: tick
        kind: hourly
        schedule: "@every 1s"
        lookback_days: 1
        max_catchup_days: 10
`
	path := writeFile(t, filepath.Join(tmp, "kycetl.yaml"), "dir: "+dir+"\nwarehouse: bigquery://kyc-test/kyc\npii:\n  key_env: TEST_PII_KEY\nprojects:\n  - name: acme\n"+job+"  - name: spent\n"+job)
	vars := map[string]string{"TEST_ARGOS_KEY": key, "TEST_PII_KEY": "a-pii-key-for-tests"}
	getenv := func(k string) string { return vars[k] }
	cfg, err := config.Load(path, getenv)
	if err != nil {
		t.Fatal(err)
	}
	var logs, out kyctest.SyncBuffer
	e := &env{stdout: &out, stderr: &logs, now: time.Now, getenv: getenv, log: zerolog.New(&logs), bigquery: bqOpts}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	started, finished := make(chan schedules.Event, 1000), make(chan schedules.Event, 1000)
	done := make(chan error, 1)
	go func() {
		done <- e.schedule(runCtx, cfg, schedules.WithEvents(func(ev schedules.Event) {
			switch ev.Kind {
			case schedules.Started:
				started <- ev
			case schedules.Finished:
				finished <- ev
			}
		}))
	}()
	first := map[string]schedules.Event{}
	ends := map[string]schedules.Event{}
	for len(ends) < 2 {
		select {
		case ev := <-started:
			if _, ok := first[ev.Project]; !ok {
				first[ev.Project] = ev
			}
		case ev := <-finished:
			if _, ok := ends[ev.Project]; !ok {
				ends[ev.Project] = ev
			}
		case err := <-done:
			t.Fatalf("the daemon stopped: %v\n%s", err, logs.String())
		case <-time.After(60 * time.Second):
			t.Fatalf("timed out waiting for the first runs\n%s", logs.String())
		}
	}
	stop()
	if err := waitFor(t, done, "the daemon to stop"); err != nil {
		t.Fatalf("schedule returned %v", err)
	}

	if window.Day(time.Now()) != today {
		t.Skip("the UTC day changed during the test")
	}
	// Catch-up from BigQuery's ledger: acme's first run starts at the
	// missed day, not at yesterday (its look-back), and loads it.
	if ev := first["acme"]; !ev.From.Equal(today.AddDate(0, 0, -2)) || !ev.To.Equal(today) {
		t.Errorf("acme's first window %s..%s, want %s..%s", window.FormatDate(ev.From), window.FormatDate(ev.To),
			window.FormatDate(today.AddDate(0, 0, -2)), window.FormatDate(today))
	}
	if ev := ends["acme"]; ev.Err != nil {
		t.Errorf("acme's first run: %v", ev.Err)
	}
	loaded := false
	for _, r := range fake.LedgerRows("kyc-test", "kyc") {
		if r["project"] == "acme" && r["day"] == window.FormatDate(today.AddDate(0, 0, -2)) && r["outcome"] == archive.OutcomeOK {
			loaded = true
		}
	}
	if !loaded {
		t.Errorf("the missed day is not recorded loaded in BigQuery's load_runs: %v", fake.LedgerRows("kyc-test", "kyc"))
	}
	// The budget seeded from BigQuery's ledger: 5 calls left of 500,000.
	if ev := ends["spent"]; ev.Err == nil || !strings.Contains(ev.Err.Error(), "call budget of 500000") {
		t.Errorf("spent's first run: %v; want it stopped by the call budget", ev.Err)
	}

	// status reads BigQuery's ledger: acme healthy, spent's budget-stopped
	// days not loaded.
	var sout, serr kyctest.SyncBuffer
	se := &env{stdout: &sout, stderr: &serr, now: time.Now, getenv: getenv, bigquery: bqOpts}
	code := runWith(ctx, se, "status", "--config", path)
	status := sout.String()
	if code != ExitFailed {
		t.Errorf("status: exit %d, want 1 (spent's days were not loaded)\n%s\n%s", code, status, serr.String())
	}
	for _, want := range []string{"ledger: bigquery://kyc-test/kyc", "project acme", "job tick (hourly", "  ok  ", "project spent", "stopped",
		"days of interrupted runs not loaded: " + window.FormatDate(today), "anomalies (trailing 28-day median, |score| > 3.5; see the anomalies view):\n  none\n"} {
		if !strings.Contains(status, want) {
			t.Errorf("status lacks %q:\n%s", want, status)
		}
	}
	if strings.Contains(status, "failed days:\n") {
		t.Errorf("status shows failed days:\n%s", status)
	}
}
