package bigquery_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	gbq "cloud.google.com/go/bigquery"

	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/load/bigquery"
	"github.com/kycetl/kycetl/load/bigquery/bqfake"
	"github.com/kycetl/kycetl/load/duckdb"
	"github.com/kycetl/kycetl/schedules"
)

// ledgerRuns are the rows of a few runs: ok, failed, planned (killed) and
// skipped (stopped) days, a legacy row without a source, another source,
// another project, a day loaded twice by one run (recorded again).
func ledgerRuns() []struct {
	m    archive.Manifest
	days []archive.DayRecord
} {
	at := func(day string, h int) time.Time {
		d, _ := time.Parse(time.DateOnly, day)
		return d.Add(time.Duration(h) * time.Hour)
	}
	rec := func(src, project, day, outcome, msg string, started time.Time, calls int64) archive.DayRecord {
		return archive.DayRecord{Source: src, Project: project, Day: day, StartedAt: started, FinishedAt: started.Add(time.Minute),
			Outcome: outcome, Error: msg, APICalls: calls}
	}
	type run = struct {
		m    archive.Manifest
		days []archive.DayRecord
	}
	return []run{
		{archive.Manifest{RunID: "20250301T020000Z-a", Command: "run", WindowFrom: "2025-02-26", WindowTo: "2025-02-28"}, []archive.DayRecord{
			rec("", "acme", "2025-02-26", archive.OutcomeOK, "", at("2025-03-01", 2), 10),
			rec("argos", "acme", "2025-02-27", archive.OutcomeFailed, "fetching page 2: 500", at("2025-03-01", 2), 7),
			rec("argos", "acme", "2025-02-28", archive.OutcomePlanned, "", at("2025-03-01", 2), 0),
		}},
		{archive.Manifest{RunID: "20250302T020000Z-b", Command: "job nightly", WindowFrom: "2025-02-27", WindowTo: "2025-03-02"}, []archive.DayRecord{
			rec("argos", "acme", "2025-02-27", archive.OutcomeOK, "", at("2025-03-02", 2), 3),
			rec("argos", "acme", "2025-02-28", archive.OutcomeOK, "", at("2025-03-02", 2), 1),
			rec("argos", "acme", "2025-03-01", archive.OutcomeSkipped, "abandoned: kycetl schedule was stopping", at("2025-03-02", 3), 0),
			rec("argos", "acme", "2025-03-02", archive.OutcomeOK, "", at("2025-03-02", 4), 5),
			rec("argos", "other", "2025-03-02", archive.OutcomeFailed, "boom", at("2025-03-02", 6), 1),
		}},
		// Another source's day of the same project.
		{archive.Manifest{RunID: "20250302T050000Z-c", Command: "job snapshot", WindowFrom: "2025-03-02", WindowTo: "2025-03-02"}, []archive.DayRecord{
			rec("fractal", "acme", "2025-03-02", archive.OutcomeOK, "", at("2025-03-02", 5), 3),
		}},
		// Recorded again: replaces the run's row of the day.
		{archive.Manifest{RunID: "20250302T020000Z-b", Command: "job nightly", WindowFrom: "2025-02-27", WindowTo: "2025-03-02"}, []archive.DayRecord{
			rec("argos", "other", "2025-03-02", archive.OutcomeOK, "", at("2025-03-02", 7), 2),
		}},
	}
}

// ledgerAnswers asks every question of the ledger.
func ledgerAnswers(t *testing.T, l schedules.LoadRuns) map[string]any {
	t.Helper()
	ctx := context.Background()
	out := map[string]any{}
	since, _ := time.Parse(time.DateOnly, "2025-02-01")
	day, _ := time.Parse(time.DateOnly, "2025-03-02")
	var err error
	check := func(name string, v any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = v
	}
	for _, src := range []string{"argos", "fractal"} {
		for _, p := range []string{"acme", "other", "none"} {
			h, err := l.History(ctx, src, p, since)
			check("history "+src+" "+p, h, err)
		}
	}
	h, err := l.History(ctx, "argos", "acme", day)
	check("history since", h, err)
	for _, c := range []string{"run", "job nightly"} {
		runs, err := l.Runs(ctx, "acme", c, 5)
		check("runs "+c, runs, err)
	}
	runs, err := l.Runs(ctx, "acme", "job nightly", 0)
	check("runs limit 0", runs, err)
	inc, err := l.Incomplete(ctx, "acme", "")
	check("incomplete", inc, err)
	inc, err = l.Incomplete(ctx, "acme", "20250301T020000Z-a")
	check("incomplete running", inc, err)
	latest, err := l.Latest(ctx)
	check("latest", latest, err)
	srcs, err := l.Sources(ctx)
	check("sources", srcs, err)
	calls, err := l.Calls(ctx, "acme", day)
	check("calls", calls, err)
	calls, err = l.Calls(ctx, "other", day)
	check("calls other", calls, err)
	rd, err := l.RunDays(ctx, "20250302T020000Z-b", "acme")
	check("run days", rd, err)
	return out
}

// TestLedgerReadBack records the same runs in DuckDB and in BigQuery (the
// in-process fake) and reads them back with schedules.LoadRuns over each
// warehouse's LedgerDB: every answer must be the same.
func TestLedgerReadBack(t *testing.T) {
	ctx := context.Background()
	fake := bqfake.New()
	t.Cleanup(fake.Close)
	if err := fake.AnswerLedger(schedules.Queries()); err != nil {
		t.Fatal(err)
	}
	bw, err := bigquery.Open(ctx, bigquery.Config{Project: "kyc-test", Dataset: "kyc"}, bigquery.WithClientOptions(fake.ClientOptions()...))
	if err != nil {
		t.Fatal(err)
	}
	defer bw.Close()
	compareLedgers(t, bw)
	if n := len(fake.LedgerRows("kyc-test", "kyc")); n != 9 {
		t.Errorf("the fake holds %d load_runs rows, want 9", n)
	}
}

// TestLedgerIntegration is TestLedgerReadBack against real BigQuery, in a
// new dataset KYCETL_BQ_DATASET_<random>, deleted afterwards; skipped
// unless KYCETL_BQ_PROJECT and KYCETL_BQ_DATASET are set.
func TestLedgerIntegration(t *testing.T) {
	project, dataset := os.Getenv("KYCETL_BQ_PROJECT"), os.Getenv("KYCETL_BQ_DATASET")
	if project == "" || dataset == "" {
		t.Skip("set KYCETL_BQ_PROJECT and KYCETL_BQ_DATASET (and Google credentials) to run against BigQuery")
	}
	ctx := context.Background()
	cfg := bigquery.Config{Project: project, Dataset: fmt.Sprintf("%s_ledger_%d", dataset, time.Now().UnixNano()), Location: os.Getenv("KYCETL_BQ_LOCATION")}
	bw, err := bigquery.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := bw.Client().Dataset(cfg.Dataset).DeleteWithContents(context.WithoutCancel(ctx)); err != nil {
			t.Errorf("dropping dataset %s: %v", cfg.Dataset, err)
		}
		bw.Close()
	})
	compareLedgers(t, bw)
}

// compareLedgers records the same runs in a new DuckDB warehouse and in
// bw, and checks that every ledger answer is the same.
func compareLedgers(t *testing.T, bw *bigquery.Warehouse) {
	t.Helper()
	ctx := context.Background()
	dw, err := duckdb.Open(ctx, filepath.Join(t.TempDir(), "kyc.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer dw.Close()
	var answers []map[string]any
	for _, w := range []interface {
		load.Warehouse
		load.LedgerReader
	}{dw, bw} {
		if err := w.Prepare(ctx); err != nil {
			t.Fatal(err)
		}
		for _, r := range ledgerRuns() {
			if err := w.RecordRuns(ctx, &r.m, r.days); err != nil {
				t.Fatal(err)
			}
		}
		answers = append(answers, ledgerAnswers(t, schedules.LoadRuns{DB: w.LedgerDB()}))
	}
	for k, want := range answers[0] {
		if got := answers[1][k]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: BigQuery says\n%+v\nDuckDB says\n%+v", k, got, want)
		}
	}
	// Not a blank agreement: the ledger holds what was recorded.
	if h := answers[0]["history argos acme"].(schedules.History); len(h.Days) != 4 || !h.Days[mustDay("2025-02-27")].OK {
		t.Errorf("history of acme: %+v", h)
	}
	if n := answers[0]["calls"].(int64); n != 12 {
		t.Errorf("calls of acme on 2025-03-02: %d, want 12", n)
	}
	if inc := answers[0]["incomplete"].([]time.Time); len(inc) != 1 || !inc[0].Equal(mustDay("2025-03-01")) {
		t.Errorf("incomplete days: %v, want 2025-03-01 (2025-02-28 was loaded since)", inc)
	}
}

func mustDay(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

// TestQueryTheFakeCannotRun: the reader sends one SELECT only; a query with
// the dataset as default that is neither one of the ledger's nor a SELECT,
// or a SELECT that DuckDB cannot run, fails naming the query instead of
// answering nothing; a SELECT of the dataset's tables is answered, after
// every job that changed them.
func TestQueryTheFakeCannotRun(t *testing.T) {
	ctx := context.Background()
	fake := bqfake.New()
	t.Cleanup(fake.Close)
	if err := fake.AnswerLedger(map[string]string{"nope": "SELECT 1"}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("an unknown name: %v", err)
	}
	w, err := bigquery.Open(ctx, bigquery.Config{Project: "kyc-test", Dataset: "kyc"}, bigquery.WithClientOptions(fake.ClientOptions()...))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := w.QueryDB().QueryRowContext(ctx, "SELECT count(*) FROM load_runs").Scan(&n); err != nil || n != 0 {
		t.Errorf("a count of the empty ledger: %d, %v", n, err)
	}
	// A job between two reads: the second sees its rows.
	if err := w.RecordRuns(ctx, &archive.Manifest{RunID: "R", Command: "run"}, []archive.DayRecord{{Project: "acme", Day: "2025-02-01", Outcome: archive.OutcomeOK}}); err != nil {
		t.Fatal(err)
	}
	if err := w.QueryDB().QueryRowContext(ctx, "SELECT count(*) FROM load_runs").Scan(&n); err != nil || n != 1 {
		t.Errorf("a count of the ledger after a run: %d, %v", n, err)
	}
	jobs := len(fake.Jobs())
	for q, want := range map[string]string{
		"DELETE FROM load_runs WHERE true":                 "only runs one SELECT, not DELETE",
		"SELECT 1; DELETE FROM load_runs WHERE true":       "not a script of several statements",
		"/* ; */ (SELECT 'a;b' -- ;\n FROM load_runs) ; x": "not a script",
		"SELECT 'unclosed":                                 "reading the query",
	} {
		err = w.QueryDB().QueryRowContext(ctx, q).Scan(&n)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "kyc-test.kyc") {
			t.Errorf("%s: %v, want an error naming the dataset and %q", q, err, want)
		}
	}
	if n := len(fake.Jobs()) - jobs; n != 0 {
		t.Errorf("the reader sent %d jobs of what it refuses", n)
	}
	if err := w.QueryDB().QueryRowContext(ctx, "(SELECT count(*) -- ;\n FROM load_runs WHERE run_id <> 'a;b');").Scan(&n); err != nil || n != 1 {
		t.Errorf("a SELECT with a semicolon in a comment, in a literal and at its end: %d, %v", n, err)
	}
	// The fake refuses what is no SELECT too (with the dataset as the
	// default: the client's own query), and what DuckDB cannot run.
	for q, want := range map[string]string{
		"DELETE FROM load_runs WHERE true":   "runs only SELECT",
		"SELECT count(*) FROM no_such_table": "no_such_table",
	} {
		raw := w.Client().Query(q)
		raw.DefaultProjectID, raw.DefaultDatasetID = "kyc-test", "kyc"
		raw.JobIDConfig = gbq.JobIDConfig{JobID: "raw", AddJobIDSuffix: true}
		if _, err := raw.Read(ctx); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error saying %q", q, err, want)
		}
	}
}
