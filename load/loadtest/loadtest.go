// Package loadtest is the conformance suite of load.Warehouse: what every
// warehouse (DuckDB, BigQuery, and BigQuery's in-process fake) must show
// through the interface — Prepare is idempotent and creates every table and
// view, Replace swaps whole partitions idempotently, a failed partition
// keeps its previous version and names itself, Outcome tells each
// partition of the last Replace apart (a stopped one included), RecordRuns
// replaces a run's rows. Each engine supplies a Harness that opens warehouses and tells what
// they hold.
package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/sql"
	"github.com/kycetl/kycetl/transform/schema"
)

// Harness opens warehouses of one engine and observes them.
type Harness struct {
	// Open returns a new, empty, unprepared warehouse; the suite closes it.
	Open func(t *testing.T) load.Warehouse
	// Columns lists a table's columns in storage order; nil when it is missing.
	Columns func(t *testing.T, w load.Warehouse, table string) []string
	// IsView reports whether the named view exists.
	IsView func(t *testing.T, w load.Warehouse, name string) bool
	// SubmissionIDs lists, sorted, the submission_id of the rows the
	// submissions table shows for a partition.
	SubmissionIDs func(t *testing.T, w load.Warehouse, p load.Partition) []string
	// Count counts the rows a partitioned table shows for a partition.
	Count func(t *testing.T, w load.Warehouse, table string, p load.Partition) int
	// LoadRuns lists the load_runs rows as "run_id|project|day|outcome|error"
	// (error empty when NULL), sorted.
	LoadRuns func(t *testing.T, w load.Warehouse) []string
	// Break, when set, makes the engine itself fail every load of p (as a
	// failed BigQuery job does) until restore is called.
	Break func(t *testing.T, w load.Warehouse, p load.Partition) (restore func())
}

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	t.Run("PrepareIsIdempotent", func(t *testing.T) { testPrepare(t, h) })
	t.Run("ReplaceSwapsPartitions", func(t *testing.T) { testReplace(t, h) })
	t.Run("FailureKeepsThePreviousPartition", func(t *testing.T) { testFailure(t, h) })
	if h.Break != nil {
		t.Run("EngineFailureKeepsThePreviousPartition", func(t *testing.T) { testEngineFailure(t, h) })
	}
	t.Run("OutcomeTellsPartitionsApart", func(t *testing.T) { testOutcome(t, h) })
	t.Run("RecordRunsReplacesRows", func(t *testing.T) { testRecordRuns(t, h) })
}

func open(t *testing.T, h Harness, prepare bool) load.Warehouse {
	t.Helper()
	w := h.Open(t)
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if prepare {
		if err := w.Prepare(context.Background()); err != nil {
			t.Fatalf("Prepare: %v", err)
		}
	}
	return w
}

func testPrepare(t *testing.T, h Harness) {
	w := open(t, h, false)
	for i := 0; i < 2; i++ {
		if err := w.Prepare(context.Background()); err != nil {
			t.Fatalf("Prepare #%d: %v", i+1, err)
		}
	}
	for _, tbl := range schema.All() {
		var want []string
		for _, c := range tbl.AllColumns() {
			want = append(want, c.Name)
		}
		if got := h.Columns(t, w, tbl.Name); !slices.Equal(got, want) {
			t.Errorf("columns of %s:\n got %v\nwant %v", tbl.Name, got, want)
		}
	}
	for _, v := range sql.Views() {
		if !h.IsView(t, w, v.Name) {
			t.Errorf("view %s is missing", v.Name)
		}
	}
}

// Day is a UTC day of the suite's data.
func Day(year int, month time.Month, day int) time.Time {
	return time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
}

// Submission is a submissions row of a partition.
func Submission(p load.Partition, id string) map[string]any {
	day := p.Day.Format(time.DateOnly)
	return map[string]any{"project": p.Project, "created_date": day, "run_id": "R", "submission_id": id,
		"kind": "id_document", "status": "approved", "created_at": day + "T10:00:00Z"}
}

// QuarantineRow is a quarantine row of a partition.
func QuarantineRow(p load.Partition, source string) map[string]any {
	return map[string]any{"project": p.Project, "created_date": p.Day.Format(time.DateOnly), "run_id": "R",
		"source": source, "ordinal": 1, "reason": "no id", "raw": "e30="}
}

// WriteFile writes rows (JSON objects) as a Parquet file of the table,
// the way the pipeline does.
func WriteFile(t *testing.T, path string, table *schema.Table, rows []map[string]any) string {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	js := []byte("[]")
	if len(rows) > 0 {
		var err error
		if js, err = json.Marshal(rows); err != nil {
			t.Fatal(err)
		}
	}
	sc := table.ArrowSchema()
	rec, _, err := array.RecordFromJSON(mem, sc, strings.NewReader(string(js)))
	if err != nil {
		t.Fatalf("building %s record: %v", table.Name, err)
	}
	defer rec.Release()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	pw, err := archive.NewParquetWriter(path, sc)
	if err != nil {
		t.Fatal(err)
	}
	if err := pw.Write(rec); err != nil {
		t.Fatal(err)
	}
	if _, err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// files writes a partition's submissions (and quarantine rows, when any).
func files(t *testing.T, dir string, p load.Partition, quarantined []string, ids ...string) load.PartitionFiles {
	t.Helper()
	var subs, quar []map[string]any
	for _, id := range ids {
		subs = append(subs, Submission(p, id))
	}
	for _, q := range quarantined {
		quar = append(quar, QuarantineRow(p, q))
	}
	name := p.Project + "-" + p.Day.Format(time.DateOnly) + "-" + strings.Join(ids, "_")
	f := map[string]string{"submissions": WriteFile(t, filepath.Join(dir, name+"-s.parquet"), argos.Submissions, subs)}
	if quarantined != nil { // nil: the partition has no quarantine table; empty: no rows
		f["quarantine"] = WriteFile(t, filepath.Join(dir, name+"-q.parquet"), schema.Quarantine, quar)
	}
	return load.PartitionFiles{Partition: p, Files: f}
}

func expectIDs(t *testing.T, h Harness, w load.Warehouse, what string, p load.Partition, want ...string) {
	t.Helper()
	got := h.SubmissionIDs(t, w, p)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: %s %s shows %v, want %v", what, p.Project, p.Day.Format(time.DateOnly), got, want)
	}
}

func replace(t *testing.T, w load.Warehouse, parts ...load.PartitionFiles) {
	t.Helper()
	if err := w.Replace(context.Background(), parts); err != nil {
		t.Fatalf("Replace: %v", err)
	}
}

func testReplace(t *testing.T, h Harness) {
	w := open(t, h, true)
	dir := t.TempDir()
	a1 := load.Partition{Project: "acme", Day: Day(2025, 2, 1)}
	a2 := load.Partition{Project: "acme", Day: Day(2025, 2, 2)}
	b1 := load.Partition{Project: "beta", Day: Day(2025, 2, 1)}
	replace(t, w, files(t, dir, a1, []string{"page 1"}, "s1", "s2"), files(t, dir, a2, nil, "o1"), files(t, dir, b1, nil, "b1"))
	expectIDs(t, h, w, "first load", a1, "s1", "s2")
	expectIDs(t, h, w, "first load", a2, "o1")
	expectIDs(t, h, w, "first load", b1, "b1")
	if n := h.Count(t, w, "quarantine", a1); n != 1 {
		t.Errorf("first load: %d quarantine rows, want 1", n)
	}

	// A new version of a1 with an empty quarantine file: its quarantine
	// rows go, the other partitions (same day of another project included)
	// stay.
	second := files(t, dir, a1, []string{}, "s3")
	for i := 0; i < 2; i++ { // and again: idempotent
		replace(t, w, second)
		expectIDs(t, h, w, "second load", a1, "s3")
		expectIDs(t, h, w, "second load", a2, "o1")
		expectIDs(t, h, w, "second load", b1, "b1")
		if n := h.Count(t, w, "quarantine", a1); n != 0 {
			t.Errorf("second load #%d: %d quarantine rows, want 0", i+1, n)
		}
	}

	// Another source's day of a1 replaces the tables it names only: a1's
	// submissions stay.
	other := load.Partition{Source: "other", Project: a1.Project, Day: a1.Day}
	replace(t, w, load.PartitionFiles{Partition: other, Files: map[string]string{
		"quarantine": WriteFile(t, filepath.Join(dir, "other-q.parquet"), schema.Quarantine, []map[string]any{QuarantineRow(a1, "snapshot")})}})
	expectIDs(t, h, w, "another source's load", a1, "s3")
	if n := h.Count(t, w, "quarantine", a1); n != 1 {
		t.Errorf("another source's load: %d quarantine rows, want its 1", n)
	}

	// A table named with no file (the partition has no rows in it) loses
	// the partition's rows, beside a partition of the same batch that has
	// a file; the tables not named keep theirs.
	replace(t, w, load.PartitionFiles{Partition: a1, Files: map[string]string{"submissions": ""}}, files(t, dir, a2, nil, "o2"))
	expectIDs(t, h, w, "load with no file", a1)
	expectIDs(t, h, w, "load with no file", a2, "o2")
	if n := h.Count(t, w, "quarantine", a1); n != 1 {
		t.Errorf("load with no file: %d quarantine rows, want the 1 it did not name", n)
	}
	replace(t, w, files(t, dir, a1, nil, "s4"))
	expectIDs(t, h, w, "load after no file", a1, "s4")

	// A day whose file has no rows is empty.
	replace(t, w, files(t, dir, a1, nil))
	expectIDs(t, h, w, "empty load", a1)
	expectIDs(t, h, w, "empty load", a2, "o2")
}

// expectErr asserts err names every string of want.
func expectErr(t *testing.T, what string, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: Replace succeeded", what)
		return
	}
	for _, s := range want {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%s: error %q does not name %q", what, err, s)
		}
	}
}

func testFailure(t *testing.T, h Harness) {
	ctx := context.Background()
	w := open(t, h, true)
	dir := t.TempDir()
	p := load.Partition{Project: "acme", Day: Day(2025, 2, 1)}
	prev := load.Partition{Project: "acme", Day: Day(2025, 1, 31)}
	replace(t, w, files(t, dir, prev, nil, "p1"), files(t, dir, p, nil, "s1"))

	newer := files(t, dir, p, nil, "s2").Files["submissions"]
	wrongDay := files(t, dir, load.Partition{Project: "acme", Day: Day(2025, 2, 2)}, nil, "x").Files["submissions"]
	cases := []struct {
		name  string
		files map[string]string
		kind  error    // what failed
		want  []string // what the error names
	}{
		{"missing file", map[string]string{"submissions": newer, "quarantine": filepath.Join(dir, "absent.parquet")},
			fs.ErrNotExist, []string{"quarantine", "acme", "2025-02-01", "absent.parquet"}},
		{"rows of another day", map[string]string{"submissions": wrongDay}, load.ErrStrayRows, []string{"submissions", "acme", "2025-02-01"}},
		{"unknown table", map[string]string{"submissions": newer, "nonesuch": newer}, load.ErrUnknownTable, []string{"nonesuch"}},
		{"unpartitioned table", map[string]string{"submissions": newer, "credit_rates": newer}, load.ErrUnpartitioned, []string{"credit_rates"}},
	}
	for _, c := range cases {
		err := w.Replace(ctx, []load.PartitionFiles{{Partition: p, Files: c.files}})
		if err != nil && !errors.Is(err, c.kind) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.kind)
		}
		expectErr(t, c.name, err, c.want...)
		expectIDs(t, h, w, c.name, p, "s1")
	}

	// A failure does not undo the partitions before it.
	next := files(t, dir, prev, nil, "p2")
	err := w.Replace(ctx, []load.PartitionFiles{next, {Partition: p, Files: map[string]string{"submissions": wrongDay}}})
	expectErr(t, "second of two", err, "acme", "2025-02-01")
	if err != nil && strings.Contains(err.Error(), "2025-01-31") {
		t.Errorf("second of two: the error names the good day: %v", err)
	}
	expectIDs(t, h, w, "first of two", prev, "p2")
	expectIDs(t, h, w, "second of two", p, "s1")

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := w.Replace(cancelled, []load.PartitionFiles{files(t, dir, p, nil, "s9")}); err == nil {
		t.Error("Replace ignored a cancelled context")
	}
	expectIDs(t, h, w, "cancelled", p, "s1")
}

// testOutcome: every warehouse is a load.Reporter whose Outcome answers nil
// only for a partition its last Replace loaded — not for one that Replace
// failed, nor for one a stopped Replace never got to (even when an earlier
// Replace had loaded it), nor for one no Replace included.
func testOutcome(t *testing.T, h Harness) {
	ctx := context.Background()
	w := open(t, h, true)
	rep, ok := w.(load.Reporter)
	if !ok {
		t.Fatalf("%T does not implement load.Reporter", w)
	}
	dir := t.TempDir()
	good := load.Partition{Project: "acme", Day: Day(2025, 2, 1)}
	bad := load.Partition{Project: "acme", Day: Day(2025, 2, 2)}
	other := load.Partition{Project: "acme", Day: Day(2025, 2, 3)}
	err := w.Replace(ctx, []load.PartitionFiles{files(t, dir, good, nil, "g1"),
		{Partition: bad, Files: map[string]string{"submissions": filepath.Join(dir, "absent.parquet")}}})
	expectErr(t, "one bad partition", err, "2025-02-02")
	if _, err := rep.Outcome(good); err != nil {
		t.Errorf("Outcome of the loaded partition: %v", err)
	}
	if _, err := rep.Outcome(bad); err == nil || !strings.Contains(err.Error(), "2025-02-02") {
		t.Errorf("Outcome of the failed partition = %v, want an error naming its day", err)
	}
	if _, err := rep.Outcome(other); !errors.Is(err, load.ErrNotReplaced) {
		t.Errorf("Outcome of a partition no Replace included = %v, want load.ErrNotReplaced", err)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := w.Replace(cancelled, []load.PartitionFiles{files(t, dir, good, nil, "g2"), files(t, dir, other, nil, "o1")}); err == nil {
		t.Error("Replace ignored a cancelled context")
	}
	for _, p := range []load.Partition{good, other} {
		if _, err := rep.Outcome(p); err == nil {
			t.Errorf("Outcome of %s after a cancelled Replace is nil: a day not loaded would be recorded ok", p.Day.Format(time.DateOnly))
		}
	}
	expectIDs(t, h, w, "cancelled", good, "g1")
	expectIDs(t, h, w, "cancelled", other)

	// A later Replace that loads them answers nil again.
	replace(t, w, files(t, dir, good, nil, "g3"), files(t, dir, other, nil, "o2"))
	for _, p := range []load.Partition{good, other} {
		if _, err := rep.Outcome(p); err != nil {
			t.Errorf("Outcome of %s after it was loaded: %v", p.Day.Format(time.DateOnly), err)
		}
	}
}

func testEngineFailure(t *testing.T, h Harness) {
	ctx := context.Background()
	w := open(t, h, true)
	dir := t.TempDir()
	p := load.Partition{Project: "acme", Day: Day(2025, 2, 1)}
	other := load.Partition{Project: "acme", Day: Day(2025, 2, 2)}
	replace(t, w, files(t, dir, p, []string{"q"}, "s1"), files(t, dir, other, nil, "o1"))

	restore := h.Break(t, w, p)
	err := w.Replace(ctx, []load.PartitionFiles{files(t, dir, p, nil, "s2"), files(t, dir, other, nil, "o2")})
	expectErr(t, "engine failure", err, "acme", "2025-02-01")
	expectIDs(t, h, w, "broken day", p, "s1")
	if n := h.Count(t, w, "quarantine", p); n != 1 {
		t.Errorf("broken day: %d quarantine rows, want 1 (the previous version)", n)
	}
	restore()

	// A retry of the day repairs it.
	replace(t, w, files(t, dir, p, nil, "s3"))
	expectIDs(t, h, w, "retried day", p, "s3")
}

func testRecordRuns(t *testing.T, h Harness) {
	ctx := context.Background()
	w := open(t, h, true)
	t0 := time.Date(2026, 11, 23, 11, 4, 0, 0, time.UTC)
	m := &archive.Manifest{RunID: "20261123T110400Z-abcdef", Command: "run", SchemaVersion: schema.Version,
		WindowFrom: "2026-11-16", WindowTo: "2026-11-17", StartedAt: t0}
	days := []archive.DayRecord{
		{Project: "acme", Day: "2026-11-16", StartedAt: t0, FinishedAt: t0.Add(time.Second), Pages: 2, Submissions: 40,
			Rows: map[string]int64{"submissions": 40}, Outcome: archive.OutcomeOK,
			Jobs: []archive.Job{{Warehouse: "test", ID: "job-1", Outcome: archive.OutcomeOK, BytesProcessed: 10}}},
		{Project: "acme", Day: "2026-11-17", StartedAt: t0, Outcome: archive.OutcomeFailed, Error: "fetching page 1 of 2026-11-17: 500"},
	}
	for i := 0; i < 2; i++ { // recording again replaces
		if err := w.RecordRuns(ctx, m, days); err != nil {
			t.Fatal(err)
		}
	}
	days[1].Outcome, days[1].Error = archive.OutcomeOK, "" // a resumed run fixed the day
	if err := w.RecordRuns(ctx, m, days[1:]); err != nil {
		t.Fatal(err)
	}
	other := *m
	other.RunID = "20261124T110400Z-abcdef"
	if err := w.RecordRuns(ctx, &other, days[:1]); err != nil {
		t.Fatal(err)
	}
	got := h.LoadRuns(t, w)
	want := []string{
		"20261123T110400Z-abcdef|acme|2026-11-16|ok|",
		"20261123T110400Z-abcdef|acme|2026-11-17|ok|",
		"20261124T110400Z-abcdef|acme|2026-11-16|ok|",
	}
	if !slices.Equal(got, want) {
		t.Errorf("load_runs:\n got %v\nwant %v", got, want)
	}
}
