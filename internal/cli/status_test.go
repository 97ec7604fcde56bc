package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/load/archive"
)

// loads is a run's outcome per day.
type loads struct {
	runID, command string
	started        time.Time
	days           map[string]string // day → ok | failed | skipped
}

// recordLedger writes load_runs rows with the warehouse's own RecordRuns,
// and closes the warehouse so that status can open it.
func recordLedger(t *testing.T, dir string, runs ...loads) {
	t.Helper()
	e := &env{now: time.Now}
	w, err := e.open(context.Background(), dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, r := range runs {
		m := &archive.Manifest{RunID: r.runID, Command: r.command, StartedAt: r.started}
		var days []archive.DayRecord
		for d, o := range r.days {
			if m.WindowFrom == "" || d < m.WindowFrom {
				m.WindowFrom = d
			}
			if d > m.WindowTo {
				m.WindowTo = d
			}
			rec := archive.DayRecord{Project: "acme", Day: d, StartedAt: r.started, FinishedAt: r.started.Add(90 * time.Second), Outcome: o}
			if o == archive.OutcomeFailed {
				rec.Error = "fetching " + d + ": the API answered 500"
			}
			days = append(days, rec)
		}
		if err := w.wh.RecordRuns(context.Background(), m, days); err != nil {
			t.Fatal(err)
		}
	}
}

// span is ok loads of every day of [from, to].
func span(from, to, outcome string) map[string]string {
	out := map[string]string{}
	f, _ := argos.ParseDate(from)
	l, _ := argos.ParseDate(to)
	for d := f; !d.After(l); d = d.AddDate(0, 0, 1) {
		out[argos.FormatDate(d)] = outcome
	}
	return out
}

func with(m map[string]string, day, outcome string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	out[day] = outcome
	return out
}

func TestStatus(t *testing.T) {
	// Monday 2025-03-10 09:00 UTC: the nightly (look-back 3) last fired
	// at 02:00 today and should find 2025-03-07..2025-03-09 loaded.
	now := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	nightlyAt := func(day string) loads {
		started := at(day + "T02:00:00Z")
		f := started.AddDate(0, 0, -3)
		return loads{runID: started.Format("20060102T150405Z") + "-aaaaaa", command: "schedule:nightly", started: started,
			days: span(argos.FormatDate(f), day, "ok")}
	}
	for _, tc := range []struct {
		name string
		runs []loads
		code int
		want []string
	}{
		{"healthy", []loads{nightlyAt("2025-03-08"), nightlyAt("2025-03-09"), nightlyAt("2025-03-10")}, ExitOK,
			[]string{"job nightly (nightly, \"0 2 * * *\" in UTC, look-back 3 days)", "next: Tue 2025-03-11 02:00 UTC",
				"20250310T020000Z-aaaaaa  2025-03-07..2025-03-10  4 days  ok", "20250308T020000Z-aaaaaa",
				"job reconcile", "last runs: none yet", "failed days: none", "missing days: none", "status: ok"}},
		{"the latest run failed", []loads{nightlyAt("2025-03-09"),
			{runID: "20250310T020000Z-bbbbbb", command: "schedule:nightly", started: at("2025-03-10T02:00:00Z"),
				days: with(span("2025-03-07", "2025-03-10", "ok"), "2025-03-08", "failed")}}, ExitFailed,
			[]string{"20250310T020000Z-bbbbbb  2025-03-07..2025-03-10  4 days  failed", "1 failed: fetching 2025-03-08",
				"failed days:\n    2025-03-08  run 20250310T020000Z-bbbbbb: fetching 2025-03-08: the API answered 500",
				"status: UNHEALTHY: acme job nightly: the latest run 20250310T020000Z-bbbbbb failed on 1 of 4 days; acme: 1 days failed (2025-03-08)"}},
		{"a failed day fixed by a later run", []loads{
			{runID: "20250309T020000Z-bbbbbb", command: "schedule:nightly", started: at("2025-03-09T02:00:00Z"),
				days: with(span("2025-03-06", "2025-03-09", "ok"), "2025-03-08", "failed")},
			nightlyAt("2025-03-10")}, ExitOK, []string{"failed days: none", "status: ok"}},
		{"days never loaded", []loads{
			{runID: "20250301T100000Z-cccccc", command: "run", started: at("2025-03-01T10:00:00Z"), days: span("2025-03-01", "2025-03-01", "ok")},
			{runID: "20250310T020000Z-aaaaaa", command: "schedule:nightly", started: at("2025-03-10T02:00:00Z"), days: span("2025-03-09", "2025-03-10", "ok")}},
			ExitFailed, []string{"missing days: 2025-03-02..2025-03-08", "acme: 7 days never loaded (2025-03-02..2025-03-08)"}},
		{"a stopped run leaves its window incomplete", []loads{nightlyAt("2025-03-09"),
			{runID: "20250310T020000Z-dddddd", command: "schedule:nightly", started: at("2025-03-10T02:00:00Z"),
				days: with(span("2025-03-07", "2025-03-10", "ok"), "2025-03-10", "skipped")}}, ExitFailed,
			[]string{"stopped", "1 days left when the run was stopped", "days of interrupted runs not loaded: 2025-03-10",
				"acme: 1 days of interrupted or stopped runs were never loaded (2025-03-10)"}},
		{"a stopped run's days loaded before are not a failure", []loads{nightlyAt("2025-03-10"),
			{runID: "20250310T030000Z-dddddd", command: "schedule:nightly", started: at("2025-03-10T03:00:00Z"),
				days: with(span("2025-03-07", "2025-03-10", "ok"), "2025-03-10", "skipped")}}, ExitOK,
			[]string{"stopped", "days of interrupted runs not loaded: none", "status: ok"}},
		{"a killed run is interrupted until a later run loads its days", []loads{
			{runID: "20250309T100000Z-eeeeee", command: "run", started: at("2025-03-09T10:00:00Z"),
				days: with(with(span("2025-02-01", "2025-03-06", "ok"), "2025-03-05", "planned"), "2025-03-06", "planned")},
			nightlyAt("2025-03-10")}, ExitFailed,
			[]string{"days of interrupted runs not loaded: 2025-03-05..2025-03-06", "acme: 2 days of interrupted or stopped runs were never loaded (2025-03-05..2025-03-06)"}},
		{"an interrupted run's days loaded later", []loads{
			{runID: "20250309T100000Z-eeeeee", command: "run", started: at("2025-03-09T10:00:00Z"),
				days: with(with(span("2025-02-01", "2025-03-06", "ok"), "2025-03-05", "planned"), "2025-03-06", "planned")},
			{runID: "20250309T120000Z-ffffff", command: "run", started: at("2025-03-09T12:00:00Z"), days: span("2025-03-05", "2025-03-06", "ok")},
			nightlyAt("2025-03-10")}, ExitOK,
			[]string{"days of interrupted runs not loaded: none", "status: ok"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			dir := filepath.Join(tmp, "wh")
			recordLedger(t, dir, tc.runs...)
			cfg := writeFile(t, filepath.Join(tmp, "kycetl.yaml"), "dir: "+dir+`
projects:
  - name: acme
    jobs:
      - {kind: nightly, lookback_days: 3, max_catchup_days: 10}
      - {kind: reconcile}
`)
			code, out, stderr := cli(t, now, nil, "status", "--config", cfg)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s\n%s", code, tc.code, out, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("status lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestStatusWithoutConfig(t *testing.T) {
	now := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	// A directory with nothing loaded yet is healthy.
	code, out, _ := cli(t, now, nil, "status", "--dir", dir)
	if code != ExitOK || !strings.Contains(out, "no load recorded yet") || strings.Contains(out, "kyc.duckdb") {
		t.Errorf("empty directory: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "kyc.duckdb")); err == nil {
		t.Error("status created a warehouse")
	}
	started := time.Date(2025, 3, 9, 10, 0, 0, 0, time.UTC)
	recordLedger(t, dir,
		loads{runID: "20250309T100000Z-aaaaaa", command: "run", started: started, days: span("2025-03-01", "2025-03-05", "ok")},
		loads{runID: "20250309T110000Z-bbbbbb", command: "import", started: started.Add(time.Hour), days: with(span("2025-03-06", "2025-03-07", "ok"), "2025-03-07", "failed")})
	code, out, _ = cli(t, now, nil, "status", "--dir", dir)
	for _, w := range []string{"command import", "command run", "20250309T100000Z-aaaaaa  2025-03-01..2025-03-05  5 days  ok",
		"2025-03-07  run 20250309T110000Z-bbbbbb", "UNHEALTHY"} {
		if !strings.Contains(out, w) {
			t.Errorf("status --dir lacks %q:\n%s", w, out)
		}
	}
	if code != ExitFailed {
		t.Errorf("exit %d, want 1", code)
	}

	// A run killed after 12 of 34 days: interrupted, unhealthy until a
	// later run loads the 22 days it left.
	dir = t.TempDir()
	killed := with(span("2025-01-01", "2025-02-03", "planned"), "2025-01-01", "ok")
	for d := range span("2025-01-01", "2025-01-12", "ok") {
		killed[d] = "ok"
	}
	recordLedger(t, dir, loads{runID: "20250309T100000Z-aaaaaa", command: "run", started: started, days: killed})
	code, out, _ = cli(t, now, nil, "status", "--dir", dir)
	for _, w := range []string{"20250309T100000Z-aaaaaa  2025-01-01..2025-02-03  34 days  interrupted", "22 days never finished",
		"days of interrupted runs not loaded: 2025-01-13..2025-02-03", "UNHEALTHY"} {
		if !strings.Contains(out, w) {
			t.Errorf("status --dir after a killed run lacks %q:\n%s", w, out)
		}
	}
	if code != ExitFailed {
		t.Errorf("after a killed run: exit %d, want 1", code)
	}
	recordLedger(t, dir, loads{runID: "20250309T120000Z-bbbbbb", command: "run", started: started.Add(2 * time.Hour), days: span("2025-01-13", "2025-02-03", "ok")})
	code, out, _ = cli(t, now, nil, "status", "--dir", dir)
	if code != ExitOK || !strings.Contains(out, "days of interrupted runs not loaded: none") {
		t.Errorf("after the missing days were loaded: exit %d, want 0\n%s", code, out)
	}
}
