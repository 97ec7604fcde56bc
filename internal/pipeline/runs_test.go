package pipeline_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/argos/synth"
	"github.com/kycetl/kycetl/internal/config"
	"github.com/kycetl/kycetl/internal/pipeline"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/load/duckdb"
	"github.com/kycetl/kycetl/schedules"
	"github.com/kycetl/kycetl/transform/pii"
)

// writeExport writes the generator's submissions of [first, last] as an
// NDJSON export file and returns its path.
func writeExport(t *testing.T, gen *synth.Generator, dir, name string, first, last time.Time) string {
	t.Helper()
	var nd bytes.Buffer
	if _, err := gen.WriteNDJSON(&nd, first, last); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, nd.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRebuildWindowSpansProjects: a rebuild of two projects, the first by
// name holding the later days, records the window from the earliest day to
// the latest, never an inverted one.
func TestRebuildWindowSpansProjects(t *testing.T) {
	ctx := context.Background()
	gen := synth.New(13, synth.WithVolume(5, 10))
	dir := t.TempDir()
	late := writeExport(t, gen, dir, "late.ndjson", to.AddDate(0, 0, -1), to)
	early := writeExport(t, gen, dir, "early.ndjson", from, from.AddDate(0, 0, 1))
	e := open(t, filepath.Join(dir, "wh"))
	if _, err := e.pl.Import(ctx, "alpha", []string{late}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pl.Import(ctx, "beta", []string{early}); err != nil {
		t.Fatal(err)
	}
	sum, err := e.pl.Rebuild(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var wfrom, wto string
	if err := e.wh.DB().QueryRow("SELECT DISTINCT CAST(window_from AS VARCHAR), CAST(window_to AS VARCHAR) FROM load_runs WHERE run_id = ?", sum.RunID).Scan(&wfrom, &wto); err != nil {
		t.Fatal(err)
	}
	if want := [2]string{from.Format(time.DateOnly), to.Format(time.DateOnly)}; [2]string{wfrom, wto} != want {
		t.Errorf("rebuild window %s..%s, want %s..%s", wfrom, wto, want[0], want[1])
	}
}

// cancelOnReplace stops the run as the warehouse is asked to load a day.
type cancelOnReplace struct {
	*duckdb.Warehouse
	cancel context.CancelFunc
}

func (c cancelOnReplace) Replace(ctx context.Context, parts []load.PartitionFiles) error {
	c.cancel()
	return c.Warehouse.Replace(ctx, parts)
}

// TestStoppedReplaceRecordsNoDayOK: a run stopped as Replace starts loads
// nothing, and no day is ok in load_runs, the manifest or archive.Current.
func TestStoppedReplaceRecordsNoDayOK(t *testing.T) {
	gen := synth.New(17, synth.WithVolume(5, 10), synth.WithAsOf(to.AddDate(0, 0, 3)))
	ext := startAPI(t, gen)
	e := open(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pol, err := pii.New(pii.WithKey([]byte("pipeline-test-pii-key")))
	if err != nil {
		t.Fatal(err)
	}
	pl, err := pipeline.New(e.layout, cancelOnReplace{e.wh, cancel}, pipeline.WithPolicy(pol), pipeline.WithWorkers(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pl.Load(ctx, ext, "run", "acme", from, from.AddDate(0, 0, 1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := e.count(t, "SELECT COUNT(*) FROM submissions"); n != 0 {
		t.Fatalf("%d submissions loaded by a run stopped before Replace", n)
	}
	if n := e.count(t, "SELECT COUNT(*) FROM load_runs WHERE outcome = 'ok'"); n != 0 {
		t.Errorf("load_runs records %d days ok that were never loaded", n)
	}
	ms, err := e.layout.ReadManifests()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		for _, d := range m.Days {
			if d.Outcome == archive.OutcomeOK {
				t.Errorf("the manifest records %s ok", d.Day)
			}
		}
	}
	if cur := archive.Current(ms); len(cur) != 0 {
		t.Errorf("archive.Current names %d partitions never loaded", len(cur))
	}
}

// lines writes lines as an NDJSON file and returns its path.
func lines(t *testing.T, dir, name string, ls [][]byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, append(bytes.Join(ls, []byte("\n")), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestImportMergesWithTheDay: an export file is not a whole day. Two
// imports of one export's halves give every submission; importing a
// truncated copy over the whole changes nothing; a newer copy of a
// submission replaces the older; a rebuild gives the same numbers.
func TestImportMergesWithTheDay(t *testing.T) {
	ctx := context.Background()
	gen := synth.New(19, synth.WithVolume(30, 40))
	var nd bytes.Buffer
	if _, err := gen.WriteNDJSON(&nd, from, to); err != nil {
		t.Fatal(err)
	}
	all := bytes.Split(bytes.TrimSpace(nd.Bytes()), []byte("\n"))
	if len(all) < 200 {
		t.Fatalf("the generator made %d submissions, want at least 200", len(all))
	}
	all = all[:200]
	dir := t.TempDir()
	a, b := lines(t, dir, "a.ndjson", all[:75]), lines(t, dir, "b.ndjson", all[75:])
	e := open(t, filepath.Join(dir, "wh"))
	total := func() int64 { return e.count(t, "SELECT COALESCE(SUM(total), 0) FROM stats_totals") }
	perDay := func() map[string]counts { return actual(t, e.wh.DB(), "p") }

	for _, f := range []string{a, b} {
		if _, err := e.pl.Import(ctx, "p", []string{f}); err != nil {
			t.Fatal(err)
		}
	}
	if n := total(); n != 200 {
		t.Errorf("a then b: total %d, want 200", n)
	}
	whole := perDay()

	// A truncated copy of the whole export, imported over it.
	if _, err := e.pl.Import(ctx, "p", []string{lines(t, dir, "truncated.ndjson", all[:45])}); err != nil {
		t.Fatal(err)
	}
	compare(t, "truncated copy over the whole", whole, perDay())

	// A newer copy of one submission replaces the older one.
	var item map[string]any
	if err := json.Unmarshal(all[0], &item); err != nil {
		t.Fatal(err)
	}
	id := item["submission_id"].(string)
	item["updated_at"] = "2099-01-01T00:00:00Z"
	item["kyc"] = map[string]any{"result": "rejected"}
	newer, _ := json.Marshal(item)
	if _, err := e.pl.Import(ctx, "p", []string{lines(t, dir, "newer.ndjson", [][]byte{newer})}); err != nil {
		t.Fatal(err)
	}
	if n := total(); n != 200 {
		t.Errorf("after the newer copy: total %d, want 200", n)
	}
	var status string
	if err := e.wh.DB().QueryRow("SELECT status FROM submissions WHERE submission_id = ?", id).Scan(&status); err != nil || status != "rejected" {
		t.Errorf("the newer copy: status %q (%v), want rejected", status, err)
	}
	merged := perDay()

	if _, err := e.pl.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	compare(t, "rebuild after the imports", merged, perDay())
}

// TestImportRefusesAFileWithoutItems: an empty file, a blank one and an
// empty gzip stream are errors naming the file, and write nothing.
func TestImportRefusesAFileWithoutItems(t *testing.T) {
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Close()
	files := map[string][]byte{"empty.ndjson": nil, "blank.ndjson": []byte("\n  \n"), "empty.ndjson.gz": gz.Bytes(), "nothing.gz": nil,
		"empty-page.json": []byte(`{"Items": []}`)}
	e := open(t, filepath.Join(dir, "wh"))
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := e.pl.Import(context.Background(), "p", []string{path})
		if !errors.Is(err, pipeline.ErrNoItems) || !strings.Contains(err.Error(), name) {
			t.Errorf("import of %s: err = %v, want ErrNoItems naming the file", name, err)
		}
	}
	if n := e.count(t, "SELECT COUNT(*) FROM load_runs WHERE outcome = 'ok'"); n != 0 {
		t.Errorf("%d days recorded ok from files without items", n)
	}
}

// TestRunsInOneInstantKeepTheirOrder: runs whose clock reads the same
// instant still follow each other — in run IDs, the manifests, the
// ledger's latest run, and the version a rebuild takes as current.
func TestRunsInOneInstantKeepTheirOrder(t *testing.T) {
	ctx := context.Background()
	gen := synth.New(23, synth.WithVolume(30, 40))
	var nd bytes.Buffer
	if _, err := gen.WriteNDJSON(&nd, from, from.AddDate(0, 0, 2)); err != nil {
		t.Fatal(err)
	}
	all := bytes.Split(bytes.TrimSpace(nd.Bytes()), []byte("\n"))
	dir := t.TempDir()
	e := open(t, filepath.Join(dir, "wh"))
	pol, err := pii.New(pii.WithKey([]byte("pipeline-test-pii-key")))
	if err != nil {
		t.Fatal(err)
	}
	instant := time.Date(2026, 12, 1, 22, 29, 23, 0, time.UTC)
	pl, err := pipeline.New(e.layout, e.wh, pipeline.WithPolicy(pol), pipeline.WithClock(func() time.Time { return instant }))
	if err != nil {
		t.Fatal(err)
	}
	const pieces = 5
	var ids []string
	for i := 0; i < pieces; i++ {
		piece := all[i*len(all)/pieces : (i+1)*len(all)/pieces]
		sum, err := pl.Import(ctx, "p", []string{lines(t, dir, fmt.Sprintf("piece%d.ndjson", i), piece)})
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) > 0 && sum.RunID <= ids[len(ids)-1] {
			t.Errorf("run %d has ID %s, not after the run before it, %s", i+1, sum.RunID, ids[len(ids)-1])
		}
		ids = append(ids, sum.RunID)
	}
	var latest string
	if err := e.wh.DB().QueryRow("SELECT max(run_id) FROM load_runs").Scan(&latest); err != nil || latest != ids[pieces-1] {
		t.Errorf("the ledger's latest run is %s (%v), want %s", latest, err, ids[pieces-1])
	}
	if _, err := pl.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, "SELECT COALESCE(SUM(total), 0) FROM stats_totals"); n != int64(len(all)) {
		t.Errorf("after the rebuild: total %d, want %d", n, len(all))
	}
}

// TestStoppedRunShowsItsWholeWindow: a run stopped part-way (Ctrl-C)
// leaves a ledger row for every day of its window — the days it did not
// finish skipped, none ok that was not loaded, none still planned — so the
// run reads as stopped, not as ok with fewer days.
func TestStoppedRunShowsItsWholeWindow(t *testing.T) {
	gen := synth.New(29, synth.WithVolume(5, 10), synth.WithAsOf(to.AddDate(0, 0, 3)))
	ext := startAPI(t, gen)
	e := open(t, t.TempDir())
	pol, err := pii.New(pii.WithKey([]byte("pipeline-test-pii-key")))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := 0
	pl, err := pipeline.New(e.layout, e.wh, pipeline.WithPolicy(pol), pipeline.WithDayHook(func(archive.DayRecord) {
		if done++; done == 2 {
			cancel()
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	last := from.AddDate(0, 0, 9)
	sum, err := pl.Load(ctx, ext, "run", "acme", from, last)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	var rows, planned, ok int
	if err := e.wh.DB().QueryRow("SELECT count(*), count(*) FILTER (outcome = 'planned'), count(*) FILTER (outcome = 'ok') FROM load_runs WHERE run_id = ?", sum.RunID).
		Scan(&rows, &planned, &ok); err != nil {
		t.Fatal(err)
	}
	if rows != 10 || planned != 0 {
		t.Errorf("load_runs: %d rows (%d still planned) for a window of 10 days, want 10 (0)", rows, planned)
	}
	if n := e.count(t, "SELECT COUNT(DISTINCT created_date) FROM submissions"); int(n) != ok {
		t.Errorf("%d days recorded ok, %d loaded", ok, n)
	}
	runs, err := schedules.LoadRuns{DB: e.wh.DB()}.Runs(context.Background(), "acme", "run", 1)
	if err != nil || len(runs) != 1 || runs[0].Outcome() != schedules.RunStopped {
		t.Errorf("the ledger's run: %+v, %v; want one, stopped", runs, err)
	}
}

// stopAfter is a Window that hands on n empty days, then stops the run.
type stopAfter struct {
	n      int
	cancel context.CancelFunc
}

func (s stopAfter) Window(ctx context.Context, from, to time.Time, fn func(context.Context, argos.DayItems) error) error {
	for d := from; !d.After(to) && s.n > 0; d, s.n = d.AddDate(0, 0, 1), s.n-1 {
		if err := fn(ctx, argos.DayItems{Day: d}); err != nil {
			return err
		}
	}
	s.cancel()
	return ctx.Err()
}

// batchingLedgerDown loads many days at once and cannot record the first
// days recorded skipped: those a stopped run abandons (derived, not loaded).
type batchingLedgerDown struct {
	*duckdb.Warehouse
	failed *bool
}

var errLedgerDown = errors.New("the ledger is down")

func (batchingLedgerDown) BatchDays() int { return 100 }

func (w batchingLedgerDown) RecordRuns(ctx context.Context, m *archive.Manifest, days []archive.DayRecord) error {
	for _, d := range days {
		if d.Outcome == archive.OutcomeSkipped && !*w.failed {
			*w.failed = true
			return errLedgerDown
		}
	}
	return w.Warehouse.RecordRuns(ctx, m, days)
}

// TestAbandonReportsTheLedger: when a stopped run cannot record the days it
// abandons, its error says so.
func TestAbandonReportsTheLedger(t *testing.T) {
	e := open(t, t.TempDir())
	pol, err := pii.New(pii.WithKey([]byte("pipeline-test-pii-key")))
	if err != nil {
		t.Fatal(err)
	}
	pl, err := pipeline.New(e.layout, batchingLedgerDown{e.wh, new(bool)}, pipeline.WithPolicy(pol))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := pl.Load(ctx, stopAfter{n: 2, cancel: cancel}, "run", "acme", from, to); !errors.Is(err, errLedgerDown) || !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want the stop and the ledger's failure", err)
	}
}

// TestEmptyTablesHaveNoFile: a table with no rows in a day gets no file
// (nor a directory, nor a manifest entry), and a new version of the day in
// which a table has no rows any more takes that table's old rows away;
// verify passes and a rebuild agrees.
func TestEmptyTablesHaveNoFile(t *testing.T) {
	ctx := context.Background()
	gen := synth.New(23, synth.WithVolume(20, 30))
	var nd bytes.Buffer
	if _, err := gen.WriteNDJSON(&nd, from, from); err != nil {
		t.Fatal(err)
	}
	var item map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(nd.Bytes()), []byte("\n")) {
		var it map[string]any
		if err := json.Unmarshal(line, &it); err != nil {
			t.Fatal(err)
		}
		if l, ok := it["additional_list"].([]any); ok && len(l) > 0 {
			item = it
			break
		}
	}
	if item == nil {
		t.Fatal("the generator made no submission with an additional_list")
	}
	dir := t.TempDir()
	e := open(t, filepath.Join(dir, "wh"))
	first, _ := json.Marshal(item)
	if _, err := e.pl.Import(ctx, "p", []string{lines(t, dir, "first.ndjson", [][]byte{first})}); err != nil {
		t.Fatal(err)
	}
	tables := func() map[string]bool {
		t.Helper()
		ms, err := e.layout.ReadManifests()
		if err != nil {
			t.Fatal(err)
		}
		cur := archive.Current(ms)
		if len(cur) != 1 {
			t.Fatalf("%d current days, want 1", len(cur))
		}
		out := map[string]bool{}
		for _, rec := range cur {
			for _, f := range rec.Files {
				out[f.Table] = true
				if f.Rows == 0 && f.Table != archive.RawTable {
					t.Errorf("the manifest lists %s, a file of no rows", f.Path)
				}
			}
		}
		return out
	}
	before := tables()
	if !before["submissions"] || !before["additional_fields"] || before["aml_matches"] {
		t.Errorf("files of the first import: %v; want submissions and additional_fields, no aml_matches", before)
	}
	if _, err := os.Stat(filepath.Join(e.layout.Dir, "parquet", "aml_matches")); !os.IsNotExist(err) {
		t.Errorf("parquet/aml_matches exists (%v), though no day has a row of it", err)
	}
	if n := e.count(t, "SELECT count(*) FROM additional_fields"); n == 0 {
		t.Fatal("no additional_fields rows after the first import")
	}

	item["additional_list"] = []any{}
	item["updated_at"] = "2099-01-01T00:00:00Z"
	newer, _ := json.Marshal(item)
	if _, err := e.pl.Import(ctx, "p", []string{lines(t, dir, "newer.ndjson", [][]byte{newer})}); err != nil {
		t.Fatal(err)
	}
	if after := tables(); after["additional_fields"] || !after["submissions"] {
		t.Errorf("files of the newer version: %v; want submissions, no additional_fields", after)
	}
	if n := e.count(t, "SELECT count(*) FROM additional_fields"); n != 0 {
		t.Errorf("%d additional_fields rows after a version with none, want 0", n)
	}
	if n := e.count(t, "SELECT count(*) FROM submissions"); n != 1 {
		t.Errorf("%d submissions, want 1", n)
	}
	rep, err := archive.Verify(ctx, e.layout)
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v\n%v", err, rep)
	}
	if _, err := e.pl.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, "SELECT count(*) FROM additional_fields"); n != 0 {
		t.Errorf("%d additional_fields rows after the rebuild, want 0", n)
	}

	// Pruning the superseded versions takes the first import's
	// additional_fields file, and with it the day's directory of that
	// table, which no current version has a file in any more.
	dayDir := filepath.Join(e.layout.Dir, "parquet", "additional_fields", "project=p", "created_date="+from.Format(time.DateOnly))
	if _, err := os.Stat(dayDir); err != nil {
		t.Fatalf("before the prune: %v", err)
	}
	pr, err := pipeline.Prune(ctx, e.layout, e.wh, config.Retention{SupersededDays: 0}, time.Now().Add(time.Hour), false, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dayDir); !os.IsNotExist(err) {
		t.Errorf("%s is left after the prune (%v; pruned %+v)", dayDir, err, pr)
	}
	if rep, err := archive.Verify(ctx, e.layout); err != nil || !rep.OK() {
		t.Fatalf("verify after the prune: %v\n%v", err, rep)
	}
	if n := e.count(t, "SELECT count(*) FROM submissions"); n != 1 {
		t.Errorf("%d submissions after the prune, want 1", n)
	}
}
