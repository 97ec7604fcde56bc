package pipeline_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract"
	argos "github.com/kycetl/kycetl/extract/argos/source"
	"github.com/kycetl/kycetl/internal/pipeline"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/load/duckdb"
	"github.com/kycetl/kycetl/transform/pii"
)

// renamed is ARGOS under another name: a source the pipeline was not
// written for.
type renamed struct{ argos.Source }

func (renamed) Name() string { return "argos_copy" }

// TestPipelineRunsAnySource loads a window of a source through its own
// sandbox: its raw archive is under its name, its tables are loaded, and
// nothing is written under another source's name.
func TestPipelineRunsAnySource(t *testing.T) {
	if s, ok := pipeline.Sources.Get(argos.Name); !ok || s != pipeline.DefaultSource {
		t.Fatalf("the sources list %v lacks ARGOS as its default", pipeline.Sources)
	}
	ctx := context.Background()
	src := renamed{}
	asOf := time.Date(2025, 2, 10, 12, 0, 0, 0, time.UTC)
	fetch, srv, err := src.Sandbox(ctx, extract.SandboxOptions{Seed: 3, AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	l := archive.Layout{Dir: t.TempDir()}
	wh, err := duckdb.Open(ctx, l.DuckDBPath())
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	if err := wh.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	pol, err := pii.New(pii.WithKey([]byte("sources-test-key")))
	if err != nil {
		t.Fatal(err)
	}
	pl, err := pipeline.New(l, wh, pipeline.WithSource(src), pipeline.WithPolicy(pol))
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2025, 2, 3, 0, 0, 0, 0, time.UTC)
	if _, err := pl.Load(ctx, fetch, "run", "acme", day, day.AddDate(0, 0, 1)); err != nil {
		t.Fatal(err)
	}
	mine, _ := filepath.Glob(filepath.Join(l.Dir, "raw", "argos_copy", "project=acme", "*", "*.ndjson.zst"))
	other, _ := filepath.Glob(filepath.Join(l.Dir, "raw", argos.Name, "*"))
	if len(mine) != 2 || len(other) != 0 {
		t.Errorf("raw files under the source's name: %v; under another: %v", mine, other)
	}
	var n int
	if err := wh.DB().QueryRow("SELECT count(*) FROM submissions WHERE project = 'acme'").Scan(&n); err != nil || n == 0 {
		t.Errorf("%d submissions loaded, %v", n, err)
	}
}
