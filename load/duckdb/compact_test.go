package duckdb

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/loadtest"
)

// TestCompact: months wholly before the cutoff are read from one file per
// table and month, with the same rows; a day replaced after its month was
// compacted is read from its new file, its old rows gone, until the month
// is compacted again; the files no view reads any more are removed by the
// next compaction.
func TestCompact(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kyc.duckdb")
	w := openWarehouse(t, path)
	if err := w.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	for _, d := range []string{"2025-01-03", "2025-01-04", "2025-01-20", "2025-02-01", "2025-02-02", "2025-03-01", "2025-03-02"} {
		rows = append(rows, submission("acme", d, "a"+d), submission("acme", d, "b"+d), submission("beta", d, "c"+d))
	}
	dir := filepath.Dir(path)
	if err := w.Replace(ctx, partitionsOf(t, filepath.Join(dir, "parquet"), argos.Submissions, rows)); err != nil {
		t.Fatal(err)
	}
	all := "SELECT project, created_date, submission_id FROM submissions ORDER BY ALL"
	want := query(t, w.DB(), all)
	viewSQL := func() string {
		t.Helper()
		return query(t, w.DB(), "SELECT sql FROM duckdb_views() WHERE view_name = 'submissions'")[0]
	}
	compactedFiles := func() int {
		t.Helper()
		n := 0
		filepath.WalkDir(filepath.Join(dir, CompactedDir), func(_ string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				n++
			}
			return nil
		})
		return n
	}

	// March is not wholly before the cutoff; January and February are,
	// for both projects.
	done, err := w.Compact(ctx, time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 4 {
		t.Fatalf("compacted %d months, want 4 (2 projects × January, February): %+v", len(done), done)
	}
	assertRows(t, "after compaction", query(t, w.DB(), all), want...)
	if v := viewSQL(); strings.Count(v, "/compacted/") != 4 || strings.Contains(v, "2025-01-03") || !strings.Contains(v, "2025-03-01") {
		t.Errorf("the view does not read the 4 month files in place of their days, and March's days:\n%s", v)
	}
	ro, err := Open(ctx, path, WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	assertRows(t, "a reader of the published file", query(t, ro.DB(), all), want...)
	ro.Close()
	if again, err := w.Compact(ctx, time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC)); err != nil || len(again) != 0 {
		t.Errorf("compacting again: %v, %+v; want nothing to do", err, again)
	}

	// A January day replaced: its new rows only, once.
	day := time.Date(2025, 1, 4, 0, 0, 0, 0, time.UTC)
	next := load.PartitionFiles{Partition: load.Partition{Project: "acme", Day: day}, Files: map[string]string{
		"submissions": loadtest.WriteFile(t, filepath.Join(dir, "parquet", "new.parquet"), argos.Submissions, []map[string]any{submission("acme", "2025-01-04", "new")}),
	}}
	if err := w.Replace(ctx, []load.PartitionFiles{next}); err != nil {
		t.Fatal(err)
	}
	var replaced []string
	for _, r := range want {
		if !strings.HasPrefix(r, "acme|2025-01-04|") {
			replaced = append(replaced, r)
		}
	}
	replaced = append(replaced, "acme|2025-01-04|new")
	slices.Sort(replaced)
	assertRows(t, "after a compacted day is replaced", query(t, w.DB(), all), replaced...)
	if v := viewSQL(); strings.Count(v, "/compacted/") != 3 {
		t.Errorf("the view still reads the stale January file of acme:\n%s", v)
	}
	done, err = w.Compact(ctx, time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC))
	if err != nil || len(done) != 1 || done[0].Project != "acme" || done[0].Month != "2025-01" {
		t.Fatalf("compacting after the replacement: %v, %+v; want acme's January again", err, done)
	}
	assertRows(t, "after compacting again", query(t, w.DB(), all), replaced...)
	if n := compactedFiles(); n != 5 {
		t.Errorf("%d compacted files, want 5 (the stale one stays until the next compaction)", n)
	}
	if _, err := w.Compact(ctx, time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if n := compactedFiles(); n != 4 {
		t.Errorf("%d compacted files after the next compaction, want 4", n)
	}
	assertRows(t, "at the end", query(t, w.DB(), all), replaced...)
}
