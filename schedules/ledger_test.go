package schedules

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/kycetl/kycetl/internal/config"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/load/duckdb"
)

// attempt is a load of day that started at started ("" = 06:00 that day)
// and ended a minute later.
func attempt(d, outcome, started string) Attempt {
	s := day(d).Add(6 * time.Hour)
	if started != "" {
		s = at(started)
	}
	return Attempt{Day: day(d), Outcome: outcome, StartedAt: s, FinishedAt: s.Add(time.Minute), RunID: s.Format("20060102T150405Z")}
}

func TestSummarize(t *testing.T) {
	h := Summarize(day("2025-03-01"), []Attempt{
		// Loaded during the day, then again the next night: complete.
		attempt("2025-03-01", "ok", "2025-03-01T10:00:00Z"),
		attempt("2025-03-01", "ok", "2025-03-02T02:00:00Z"),
		// Loaded only during the day: OK, not complete.
		attempt("2025-03-02", "ok", "2025-03-02T02:00:00Z"),
		// Succeeded, then failed later: to be loaded again.
		attempt("2025-03-03", "ok", "2025-03-04T02:00:00Z"),
		{Day: day("2025-03-03"), Outcome: "failed", StartedAt: at("2025-03-05T02:00:00Z"), FinishedAt: at("2025-03-05T02:01:00Z"), Error: "boom", RunID: "r5"},
		// Failed, then succeeded: fine. Given out of order on purpose.
		attempt("2025-03-04", "ok", "2025-03-06T02:00:00Z"),
		attempt("2025-03-04", "failed", "2025-03-05T02:00:00Z"),
		// Abandoned on stop after a success: still loaded.
		attempt("2025-03-05", "ok", "2025-03-06T02:00:00Z"),
		attempt("2025-03-05", "skipped", "2025-03-07T02:00:00Z"),
	})
	want := map[string]DayState{
		"2025-03-01": {OK: true, Complete: true, RunID: "20250302T020000Z"},
		"2025-03-02": {OK: true, RunID: "20250302T020000Z"},
		"2025-03-03": {OK: true, Complete: true, Failed: true, Error: "boom", RunID: "r5"},
		"2025-03-04": {OK: true, Complete: true, RunID: "20250306T020000Z"},
		"2025-03-05": {OK: true, Complete: true, RunID: "20250306T020000Z"},
	}
	if len(h.Days) != len(want) {
		t.Errorf("days %v", h.Days)
	}
	for d, w := range want {
		if got := h.Days[day(d)]; got != w {
			t.Errorf("%s: %+v, want %+v", d, got, w)
		}
	}
	if h.Days[day("2025-03-03")].Loaded() || !h.Days[day("2025-03-04")].Loaded() || h.Days[day("2025-03-02")].Loaded() {
		t.Error("Loaded disagrees with the states")
	}
}

// TestCatchUp drives catch-up with a fake clock: the ledger as a run at
// `now` would find it, the window that run loads.
func TestCatchUp(t *testing.T) {
	// nightlyRuns are the ledger rows of nightly runs (look-back 7) at
	// 02:00 on each day of [first, last].
	nightlyRuns := func(first, last string) []Attempt {
		var out []Attempt
		for r := day(first); !r.After(day(last)); r = r.AddDate(0, 0, 1) {
			for d := r.AddDate(0, 0, -7); !d.After(r); d = d.AddDate(0, 0, 1) {
				out = append(out, attempt(d.Format(time.DateOnly), "ok", r.Add(2*time.Hour).Format(time.RFC3339)))
			}
		}
		return out
	}
	fail := func(d, started string) Attempt { return attempt(d, "failed", started) }
	for _, tc := range []struct {
		name     string
		attempts []Attempt
		now      string
		lastOK   string // "" for none
		from     string
		job      *config.Job // nil: nightly
	}{
		{"fresh: nothing in the ledger", nil, "2025-03-10T02:00:00Z", "", "2025-03-03", nil},
		{"every night ran", nightlyRuns("2025-02-28", "2025-03-09"), "2025-03-10T02:00:00Z", "2025-03-08", "2025-03-03", nil},
		{"down 3 nights: the look-back covers it", nightlyRuns("2025-02-28", "2025-03-06"), "2025-03-10T02:00:00Z", "2025-03-05", "2025-03-03", nil},
		{"down 12 nights: reaches back", nightlyRuns("2025-02-20", "2025-02-25"), "2025-03-10T02:00:00Z", "2025-02-24", "2025-02-25", nil},
		{"down 60 nights: capped at 30 days", nightlyRuns("2025-01-01", "2025-01-09"), "2025-03-10T02:00:00Z", "2025-02-07", "2025-02-08", nil},
		{"a day that failed after it succeeded is loaded again",
			append(nightlyRuns("2025-02-20", "2025-03-09"), fail("2025-02-25", "2025-03-09T02:00:30Z")),
			"2025-03-10T02:00:00Z", "2025-02-24", "2025-02-25", nil},
		{"a day that failed, then succeeded, is done",
			append(nightlyRuns("2025-02-20", "2025-03-09"), fail("2025-02-25", "2025-02-26T01:00:00Z")),
			"2025-03-10T02:00:00Z", "2025-03-08", "2025-03-03", nil},
		{"a gap inside the ledger is filled",
			append(nightlyRuns("2025-02-01", "2025-02-10"), nightlyRuns("2025-02-25", "2025-03-09")...),
			"2025-03-10T02:00:00Z", "2025-02-09", "2025-02-10", nil},
		{"hourly-only project: yesterday's last hour is caught after midnight",
			[]Attempt{attempt("2025-03-09", "ok", "2025-03-09T23:00:00Z")}, "2025-03-10T00:00:00Z", "2025-03-08", "2025-03-09", &hourly},
	} {
		var first time.Time // what the ledger's min(day) says
		for _, a := range tc.attempts {
			if first.IsZero() || a.Day.Before(first) {
				first = a.Day
			}
		}
		now := at(tc.now)
		since := horizon(nightly, now)
		h := Summarize(first, keepSince(tc.attempts, since))
		lastOK := h.LastOK(since, now)
		if want := tc.lastOK; (want == "" && !lastOK.IsZero()) || (want != "" && !lastOK.Equal(day(want))) {
			t.Errorf("%s: LastOK = %s, want %q", tc.name, lastOK.Format(time.DateOnly), want)
		}
		job := nightly
		if tc.job != nil {
			job = *tc.job
		}
		from, to := Window(job, now, lastOK)
		if !from.Equal(day(tc.from)) || !to.Equal(argosDay(now)) {
			t.Errorf("%s: window %s..%s, want %s..%s", tc.name, from.Format(time.DateOnly), to.Format(time.DateOnly), tc.from, argosDay(now).Format(time.DateOnly))
		}
	}
}

func argosDay(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

// keepSince is what LoadRuns.History queries: the rows of days from since on.
func keepSince(as []Attempt, since time.Time) []Attempt {
	var out []Attempt
	for _, a := range as {
		if !a.Day.Before(since) {
			out = append(out, a)
		}
	}
	return out
}

// TestLoadRuns reads a real DuckDB ledger written by the warehouse's own
// RecordRuns.
func TestLoadRuns(t *testing.T) {
	ctx := context.Background()
	wh, err := duckdb.Open(ctx, filepath.Join(t.TempDir(), "kyc.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	if err := wh.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	l := LoadRuns{DB: wh.DB()}
	record := func(runID, command string, from, to string, started time.Time, outcomes map[string]string) {
		t.Helper()
		m := &archive.Manifest{RunID: runID, Command: command, WindowFrom: from, WindowTo: to, StartedAt: started}
		var days []archive.DayRecord
		for d, o := range outcomes {
			rec := archive.DayRecord{Project: "p", Day: d, StartedAt: started, FinishedAt: started.Add(time.Second), Outcome: o}
			if o == archive.OutcomeFailed {
				rec.Error = "fetching " + d + ": 500"
			}
			days = append(days, rec)
		}
		if err := wh.RecordRuns(ctx, m, days); err != nil {
			t.Fatal(err)
		}
	}
	record("20250309T020000Z-aaaaaa", "schedule:nightly", "2025-03-07", "2025-03-09", at("2025-03-09T02:00:00Z"),
		map[string]string{"2025-03-07": "ok", "2025-03-08": "ok", "2025-03-09": "ok"})
	record("20250310T020000Z-bbbbbb", "schedule:nightly", "2025-03-08", "2025-03-10", at("2025-03-10T02:00:00Z"),
		map[string]string{"2025-03-08": "failed", "2025-03-09": "ok", "2025-03-10": "skipped"})
	record("20250310T090000Z-cccccc", "run", "2025-03-01", "2025-03-01", at("2025-03-10T09:00:00Z"),
		map[string]string{"2025-03-01": "ok"})
	// Another source's day of the project is not ARGOS's: 2025-03-05
	// stays a gap of ARGOS, and the first day of fractal is its own.
	snap := archive.DayRecord{Source: "fractal", Project: "p", Day: "2025-03-05", StartedAt: at("2025-03-06T00:30:00Z"), Outcome: "ok"}
	if err := wh.RecordRuns(ctx, &archive.Manifest{RunID: "20250306T003000Z-dddddd", Command: "fractal"}, []archive.DayRecord{snap}); err != nil {
		t.Fatal(err)
	}
	if h, err := l.History(ctx, "fractal", "p", day("2025-03-01")); err != nil || !h.First.Equal(day("2025-03-05")) || len(h.Days) != 1 {
		t.Errorf("fractal's history: %+v, %v; want its one day", h, err)
	}

	h, err := l.History(ctx, LegacySource, "p", day("2025-03-05"))
	if err != nil {
		t.Fatal(err)
	}
	if !h.First.Equal(day("2025-03-01")) || len(h.Days) != 3 {
		t.Errorf("history %+v", h)
	}
	if s := h.Days[day("2025-03-08")]; !s.Failed || !s.OK || s.Error != "fetching 2025-03-08: 500" {
		t.Errorf("2025-03-08: %+v", s)
	}
	if s := h.Days[day("2025-03-09")]; !s.Loaded() {
		t.Errorf("2025-03-09: %+v", s)
	}
	if got := h.LastOK(day("2025-03-05"), at("2025-03-10T12:00:00Z")); !got.Equal(day("2025-03-04")) {
		// 2025-03-05 has no row at all: a gap, since the project's first day is 2025-03-01.
		t.Errorf("LastOK = %s", got)
	}
	if h, err := l.History(ctx, LegacySource, "nobody", day("2025-03-05")); err != nil || !h.First.IsZero() || len(h.Days) != 0 {
		t.Errorf("unknown project: %+v, %v", h, err)
	}

	runs, err := l.Runs(ctx, "p", "schedule:nightly", 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 {
		t.Fatalf("runs %+v", runs)
	}
	r := runs[0]
	if r.RunID != "20250310T020000Z-bbbbbb" || r.Days != 3 || r.OK != 1 || r.Failed != 1 || r.Left != 1 || r.Outcome() != "failed" ||
		!r.From.Equal(day("2025-03-08")) || !r.To.Equal(day("2025-03-10")) || r.Error != "fetching 2025-03-08: 500" ||
		!r.StartedAt.Equal(at("2025-03-10T02:00:00Z")) {
		t.Errorf("latest run %+v", r)
	}
	if runs[1].Outcome() != "ok" || runs[1].OK != 3 {
		t.Errorf("older run %+v", runs[1])
	}
	if runs, err := l.Runs(ctx, "p", "schedule:nightly", 1); err != nil || len(runs) != 1 {
		t.Errorf("limit 1: %d runs, %v", len(runs), err)
	}
	srcs, err := l.Sources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 3 || srcs[0] != (Source{"p", "fractal"}) || srcs[1] != (Source{"p", "run"}) || srcs[2] != (Source{"p", "schedule:nightly"}) {
		t.Errorf("sources %+v", srcs)
	}
}

func TestRunOutcome(t *testing.T) {
	for _, tc := range []struct {
		r    Run
		want string
	}{
		{Run{Days: 3, OK: 3}, "ok"},
		{Run{Days: 3, OK: 2, Failed: 1}, "failed"},
		{Run{Days: 3, OK: 1, Left: 2}, "stopped"},
		{Run{Days: 3, Failed: 1, Left: 2}, "failed"},
	} {
		if got := tc.r.Outcome(); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.r, got, tc.want)
		}
	}
}
