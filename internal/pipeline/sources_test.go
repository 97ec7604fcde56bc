package pipeline_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract"
	argos "github.com/kycetl/kycetl/extract/argos/source"
	"github.com/kycetl/kycetl/internal/config"
	"github.com/kycetl/kycetl/internal/pipeline"
	"github.com/kycetl/kycetl/load"
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

// TestSchedulerRunsProjectsSource: the daemon's runs of a project load it
// through the source SetSources gives it — its raw archive under that
// source's name — and a project without one through DefaultSource.
func TestSchedulerRunsProjectsSource(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2025, 2, 10, 12, 0, 0, 0, time.UTC)
	l := archive.Layout{Dir: t.TempDir()}
	windows := map[string]pipeline.Window{}
	for _, p := range []struct {
		name string
		src  extract.Source
	}{{"acme", renamed{}}, {"other", pipeline.DefaultSource}} {
		fetch, srv, err := p.src.Sandbox(ctx, extract.SandboxOptions{Seed: 3, AsOf: asOf})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		windows[p.name] = fetch
	}
	pol, err := pii.New(pii.WithKey([]byte("sources-test-key")))
	if err != nil {
		t.Fatal(err)
	}
	open := func(ctx context.Context) (load.Warehouse, error) {
		wh, err := duckdb.Open(ctx, l.DuckDBPath())
		if err != nil {
			return nil, err
		}
		return wh, wh.Prepare(ctx)
	}
	s := pipeline.NewScheduler(l, open, windows, pipeline.WithPolicy(pol))
	s.SetSources(map[string]extract.Source{"acme": renamed{}})
	day := time.Date(2025, 2, 3, 0, 0, 0, 0, time.UTC)
	job := config.Job{Name: "nightly", Kind: config.Nightly}
	for _, p := range []string{"acme", "other"} {
		if err := s.Run(ctx, job, config.Project{Name: p}, day, day); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ source, project string }{
		{"argos_copy", "acme"}, {argos.Name, "other"},
	} {
		for _, src := range []string{"argos_copy", argos.Name} {
			files, _ := filepath.Glob(filepath.Join(l.Dir, "raw", src, "project="+tc.project, "*", "*.ndjson.zst"))
			if (src == tc.source) != (len(files) > 0) {
				t.Errorf("project %s: raw files under %s: %v", tc.project, src, files)
			}
		}
	}
}

// TestFractalSourceName: the configuration's name of the Fractal source,
// which gives its projects their keys and jobs, is the source's.
func TestFractalSourceName(t *testing.T) {
	if _, err := pipeline.SourceNamed(config.FractalSource); err != nil {
		t.Errorf("config.FractalSource %q: %v", config.FractalSource, err)
	}
	if s, _ := pipeline.SourceNamed(config.FractalSource); s != nil && !extract.IsSnapshot(s) {
		t.Errorf("%s is not a snapshot source", s.Name())
	}
}
