package duckdb

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/loadtest"
)

// ReadsFiles names the current file of each partition, never one a later
// Replace superseded: what a prune must keep.
func TestReadsFiles(t *testing.T) {
	ctx := context.Background()
	w := openPrepared(t)
	dir := t.TempDir()
	p := load.Partition{Project: "acme", Day: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)}
	for _, name := range []string{"1.parquet", "2.parquet"} {
		path := loadtest.WriteFile(t, filepath.Join(dir, name), argos.Submissions, []map[string]any{submission("acme", "2025-02-01", name)})
		if err := w.Replace(ctx, []load.PartitionFiles{{Partition: p, Files: map[string]string{"submissions": path}}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := w.ReadsFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(dir, "2.parquet")}; !slices.Equal(got, want) {
		t.Errorf("ReadsFiles = %v, want %v", got, want)
	}
}
