package pipeline_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/argos/sandbox"
	"github.com/kycetl/kycetl/extract/argos/synth"
	"github.com/kycetl/kycetl/internal/kyctest"
	"github.com/kycetl/kycetl/internal/pipeline"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/load/duckdb"
	"github.com/kycetl/kycetl/transform/pii"
)

const apiKey = "pipeline-test-key-5f1c"

var (
	from = time.Date(2025, 1, 30, 0, 0, 0, 0, time.UTC)
	to   = time.Date(2025, 2, 5, 0, 0, 0, 0, time.UTC)
)

type counts = kyctest.Counts

func expected(t *testing.T, gen *synth.Generator, from, to time.Time) map[string]counts {
	t.Helper()
	want, err := kyctest.Expected(gen, from, to)
	if err != nil {
		t.Fatal(err)
	}
	return want
}

func actual(t *testing.T, db *sql.DB, project string) map[string]counts {
	t.Helper()
	rows, err := db.Query(`SELECT CAST(day AS VARCHAR), total, approved, rejected, incomplete, pending, aml_count FROM stats_daily WHERE project = ?`, project)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]counts{}
	for rows.Next() {
		var d string
		var c counts
		if err := rows.Scan(&d, &c.Total, &c.Approved, &c.Rejected, &c.Incomplete, &c.Pending, &c.AML); err != nil {
			t.Fatal(err)
		}
		out[d] = c
	}
	return out
}

func compare(t *testing.T, what string, want, got map[string]counts) {
	t.Helper()
	days := make([]string, 0, len(want))
	for d := range want {
		days = append(days, d)
	}
	sort.Strings(days)
	for _, d := range days {
		if want[d] != got[d] {
			t.Errorf("%s %s: stats_daily %+v, independent count %+v", what, d, got[d], want[d])
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: stats_daily has %d days, want %d", what, len(got), len(want))
	}
}

type env struct {
	dir    string
	layout archive.Layout
	wh     *duckdb.Warehouse
	pl     *pipeline.Pipeline
}

func open(t *testing.T, dir string) *env {
	t.Helper()
	ctx := context.Background()
	l := archive.Layout{Dir: dir}
	wh, err := duckdb.Open(ctx, l.DuckDBPath())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	if err := wh.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	pol, err := pii.New(pii.WithKey([]byte("pipeline-test-pii-key")))
	if err != nil {
		t.Fatal(err)
	}
	pl, err := pipeline.New(l, wh, pipeline.WithPolicy(pol))
	if err != nil {
		t.Fatal(err)
	}
	return &env{dir: dir, layout: l, wh: wh, pl: pl}
}

func (e *env) count(t *testing.T, q string) int64 {
	t.Helper()
	var n int64
	if err := e.wh.DB().QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func startAPI(t *testing.T, gen *synth.Generator) *argos.Extractor {
	t.Helper()
	srv := sandbox.New(gen, sandbox.WithAPIKey(apiKey))
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c, err := argos.NewClient(url, apiKey, argos.WithPageSize(100))
	if err != nil {
		t.Fatal(err)
	}
	return argos.NewExtractor(c)
}

// TestEndToEnd loads a window from the built-in API and checks the views
// against an independent count, a re-run, a rebuild and verify.
func TestEndToEnd(t *testing.T) {
	ctx := context.Background()
	gen := synth.New(7, synth.WithVolume(60, 120), synth.WithAsOf(to.AddDate(0, 0, 3)))
	ext := startAPI(t, gen)
	e := open(t, t.TempDir())
	want := expected(t, gen, from, to)

	sum, err := e.pl.Load(ctx, ext, "run", "acme", from, to)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Days != 7 || len(sum.Failed) != 0 {
		t.Fatalf("summary %+v", sum)
	}
	compare(t, "first run", want, actual(t, e.wh.DB(), "acme"))

	rows := e.count(t, "SELECT COUNT(*) FROM submissions")
	children := e.count(t, "SELECT COUNT(*) FROM kyc_attempts")
	if rows != e.count(t, "SELECT COUNT(DISTINCT submission_id) FROM submissions") {
		t.Fatal("duplicate submissions after one run")
	}

	// The same window again: every number unchanged, nothing doubled.
	if _, err := e.pl.Load(ctx, ext, "run", "acme", from, to); err != nil {
		t.Fatal(err)
	}
	compare(t, "re-run", want, actual(t, e.wh.DB(), "acme"))
	if got := e.count(t, "SELECT COUNT(*) FROM submissions"); got != rows {
		t.Errorf("re-run: %d submission rows, want %d", got, rows)
	}
	if got := e.count(t, "SELECT COUNT(*) FROM kyc_attempts"); got != children {
		t.Errorf("re-run: %d attempt rows, want %d", got, children)
	}
	if got := e.count(t, "SELECT COUNT(*) FROM load_runs WHERE outcome = 'ok'"); got != 14 {
		t.Errorf("load_runs has %d ok rows, want 14 (7 days × 2 runs)", got)
	}

	// Rebuild from the raw archive alone.
	if _, err := e.pl.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	compare(t, "rebuild", want, actual(t, e.wh.DB(), "acme"))
	if got := e.count(t, "SELECT COUNT(*) FROM submissions"); got != rows {
		t.Errorf("rebuild: %d submission rows, want %d", got, rows)
	}

	rep, err := archive.Verify(ctx, e.layout)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("verify: %v", rep)
	}
}

// TestImport loads the same submissions from an NDJSON.zst export and a
// page file, duplicates included, and gets the same numbers.
func TestImport(t *testing.T) {
	ctx := context.Background()
	gen := synth.New(11, synth.WithVolume(40, 80))
	dir := t.TempDir()

	var nd bytes.Buffer
	zw, _ := zstd.NewWriter(&nd)
	if _, err := gen.WriteNDJSON(zw, from, to.AddDate(0, 0, -3)); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	ndPath := filepath.Join(dir, "export.ndjson.zst")
	os.WriteFile(ndPath, nd.Bytes(), 0o644)

	// A page file for the last three days, repeating one day's first item.
	last := to.AddDate(0, 0, -2)
	var items []json.RawMessage
	for d := last; !d.After(to); d = d.AddDate(0, 0, 1) {
		for _, it := range gen.Day(d) {
			items = append(items, it)
		}
	}
	items = append(items, gen.Day(last)[0])
	page, _ := json.MarshalIndent(map[string]any{"Items": items}, "", "  ")
	pagePath := filepath.Join(dir, "page.json")
	os.WriteFile(pagePath, page, 0o644)

	e := open(t, filepath.Join(dir, "wh"))
	sum, err := e.pl.Import(ctx, "imported", []string{ndPath, pagePath})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Days != 7 {
		t.Errorf("import covered %d days, want 7", sum.Days)
	}
	compare(t, "import", expected(t, gen, from, to), actual(t, e.wh.DB(), "imported"))
	if e.count(t, "SELECT COUNT(*) FROM submissions") != e.count(t, "SELECT COUNT(DISTINCT submission_id) FROM submissions") {
		t.Error("the repeated item was loaded twice")
	}
	// Rebuild keeps the dedupe.
	if _, err := e.pl.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	compare(t, "import rebuild", expected(t, gen, from, to), actual(t, e.wh.DB(), "imported"))
}

func TestImportRejectsUnreadableFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"Items": [{"submission_id": "a", `), 0o644)
	e := open(t, filepath.Join(dir, "wh"))
	_, err := e.pl.Import(context.Background(), "p", []string{bad})
	if err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Fatalf("err = %v, want one naming the file", err)
	}
	if n := e.count(t, "SELECT COUNT(*) FROM submissions"); n != 0 {
		t.Errorf("%d rows loaded from a broken file", n)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "wh", "raw", "*", "*", "*", "*"))
	if len(matches) != 0 {
		t.Errorf("partial raw files left: %v", matches)
	}
}

func ExampleSummary_String() {
	s := &pipeline.Summary{Command: "run", RunID: "20250201T000000Z-abcdef", Days: 3, Pages: 9, APICalls: 10, Submissions: 420, Bytes: 2_500_000, Duration: 1500 * time.Millisecond}
	fmt.Println(s)
	// Output: run 20250201T000000Z-abcdef: 3 days, 9 pages, 10 API calls, 420 submissions, 0 quarantined, 2.5 MB written in 1.5s
}

// TestImportInterleavedDays imports an export whose items jump between more
// days than the splitter keeps open, so day files are suspended and resumed.
func TestImportInterleavedDays(t *testing.T) {
	gen := synth.New(5, synth.WithVolume(10, 20))
	first, last := from, from.AddDate(0, 0, 11)
	var days [][][]byte
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		days = append(days, gen.Day(d))
	}
	var nd bytes.Buffer
	for i := 0; ; i++ {
		wrote := false
		for _, items := range days {
			if i < len(items) {
				nd.Write(items[i])
				nd.WriteByte('\n')
				wrote = true
			}
		}
		if !wrote {
			break
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "interleaved.ndjson")
	os.WriteFile(path, nd.Bytes(), 0o644)
	e := open(t, filepath.Join(dir, "wh"))
	if _, err := e.pl.Import(context.Background(), "mixed", []string{path}); err != nil {
		t.Fatal(err)
	}
	compare(t, "interleaved import", expected(t, gen, first, last), actual(t, e.wh.DB(), "mixed"))
	rep, err := archive.Verify(context.Background(), e.layout)
	if err != nil || !rep.OK() {
		t.Errorf("verify: %v %v", err, rep)
	}
}

// cancelOnFirstCall stops the run at the first thing it asks of the
// warehouse: for an import, recording the planned days, once the export is
// split into raw day files and before any day is derived.
type cancelOnFirstCall struct {
	*duckdb.Warehouse
	cancel context.CancelFunc
	calls  int
}

func (c *cancelOnFirstCall) RecordRuns(ctx context.Context, m *archive.Manifest, days []archive.DayRecord) error {
	if c.calls++; c.calls == 1 {
		c.cancel()
	}
	return c.Warehouse.RecordRuns(ctx, m, days)
}

func (c *cancelOnFirstCall) Replace(ctx context.Context, parts []load.PartitionFiles) error {
	if c.calls++; c.calls == 1 {
		c.cancel()
	}
	return c.Warehouse.Replace(ctx, parts)
}

// TestStoppedImportLoadsNothing: an import stopped while it runs, after
// splitting the export and before deriving its days, loads none of them and
// records every one skipped, in load_runs and in an incomplete manifest.
func TestStoppedImportLoadsNothing(t *testing.T) {
	gen := synth.New(8, synth.WithVolume(20, 30))
	var nd bytes.Buffer
	if _, err := gen.WriteNDJSON(&nd, from, to); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "export.ndjson")
	if err := os.WriteFile(path, nd.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	e := open(t, filepath.Join(dir, "wh"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wh := &cancelOnFirstCall{Warehouse: e.wh, cancel: cancel}
	pol, err := pii.New(pii.WithKey([]byte("pipeline-test-pii-key")))
	if err != nil {
		t.Fatal(err)
	}
	pl, err := pipeline.New(e.layout, wh, pipeline.WithPolicy(pol))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := pl.Import(ctx, "stopped", []string{path})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if wh.calls == 0 {
		t.Fatal("the import stopped before it asked anything of the warehouse")
	}
	const days = 7 // from..to
	if n := e.count(t, "SELECT COUNT(*) FROM submissions"); n != 0 {
		t.Errorf("%d submissions loaded by a stopped import", n)
	}
	if n := e.count(t, "SELECT COUNT(*) FROM load_runs WHERE project = 'stopped' AND outcome = 'skipped'"); n != days {
		t.Errorf("load_runs records %d days skipped, want %d", n, days)
	}
	if n := e.count(t, "SELECT COUNT(*) FROM load_runs WHERE outcome <> 'skipped'"); n != 0 {
		t.Errorf("load_runs records %d days otherwise than skipped", n)
	}
	if sum == nil || sum.Manifest == nil {
		t.Fatalf("summary %+v, want one with the run's manifest", sum)
	}
	if m := sum.Manifest; m.Complete || len(m.Days) != days || sum.Submissions != 0 {
		t.Errorf("manifest complete=%v with %d days, %d submissions; want incomplete, %d days, none", m.Complete, len(m.Days), sum.Submissions, days)
	}
	for _, d := range sum.Manifest.Days {
		if d.Outcome != archive.OutcomeSkipped || d.Error == "" {
			t.Errorf("the manifest records %s %s with no reason", d.Day, d.Outcome)
		}
	}
	ms, err := e.layout.ReadManifests()
	if err != nil {
		t.Fatal(err)
	}
	if cur := archive.Current(ms); len(cur) != 0 {
		t.Errorf("archive.Current names %d partitions never loaded", len(cur))
	}
}

// TestImportAcrossBatches imports an export longer than several of the
// splitter's batches, with unreadable lines at the very start and at the
// start of later batches, days out of order, exact repeats and an older
// copy of a submission ahead of it: every submission counts once, in its
// newest version, and every unreadable line is quarantined.
func TestImportAcrossBatches(t *testing.T) {
	gen := synth.New(9, synth.WithVolume(200, 220))
	first, last := from, from.AddDate(0, 0, 11)
	var lines [][]byte
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		if d.Equal(first.AddDate(0, 0, 4)) {
			continue // comes last, after later days
		}
		lines = append(lines, gen.Day(d)...)
	}
	lines = append(lines, gen.Day(first.AddDate(0, 0, 4))...)
	// An older, rejected copy of a submission, ahead of the original.
	var orig map[string]any
	if err := json.Unmarshal(lines[1500], &orig); err != nil {
		t.Fatal(err)
	}
	orig["updated_at"] = "2000-01-01-00-00-00-000"
	orig["kyc"] = map[string]any{"result": "rejected"}
	older, _ := json.Marshal(orig)
	// A newer copy of another submission, cut short: it is not JSON, so the
	// original stays and the copy is quarantined.
	var victim map[string]any
	if err := json.Unmarshal(lines[900], &victim); err != nil {
		t.Fatal(err)
	}
	broken := fmt.Appendf(nil, `{"submission_id":%q,"created_at":%q,"updated_at":"2099-01-01-00-00-00-000","kyc":{"result":"rejected"`,
		victim["submission_id"], victim["created_at"])
	// And an older copy of another, cut short: skipped as older, it would
	// vanish; it is quarantined like any broken line.
	var other map[string]any
	if err := json.Unmarshal(lines[1200], &other); err != nil {
		t.Fatal(err)
	}
	brokenOlder := fmt.Appendf(nil, `{"submission_id":%q,"created_at":%q,"updated_at":"2000-01-01-00-00-00-000","kyc":`,
		other["submission_id"], other["created_at"])
	var out [][]byte
	unreadable := 0
	for i, l := range lines {
		if i == 1400 {
			out = append(out, older)
		}
		if i == 901 {
			out = append(out, broken)
			unreadable++
		}
		if i == 1201 {
			out = append(out, brokenOlder)
			unreadable++
		}
		if i%700 == 0 {
			out = append(out, lines[i/2]) // an exact repeat
		}
		// The first line of the export, and of later batches, is unreadable.
		for len(out) == 0 || len(out) == 1024 || len(out) == 2048 {
			out = append(out, []byte(`{"note":"no submission here"}`))
			unreadable++
		}
		out = append(out, l)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "long.ndjson")
	os.WriteFile(path, append(bytes.Join(out, []byte("\n")), '\n'), 0o644)
	e := open(t, filepath.Join(dir, "wh"))
	if _, err := e.pl.Import(context.Background(), "long", []string{path}); err != nil {
		t.Fatal(err)
	}
	compare(t, "import across batches", expected(t, gen, first, last), actual(t, e.wh.DB(), "long"))
	if n := e.count(t, "SELECT COUNT(*) FROM quarantine"); n != int64(unreadable) {
		t.Errorf("%d quarantined, want %d", n, unreadable)
	}
	if _, err := e.pl.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	compare(t, "rebuilt import across batches", expected(t, gen, first, last), actual(t, e.wh.DB(), "long"))
	rep, err := archive.Verify(context.Background(), e.layout)
	if err != nil || !rep.OK() {
		t.Errorf("verify: %v %v", err, rep)
	}
}
