package pipeline_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract"
	argos "github.com/kycetl/kycetl/extract/argos/source"
	"github.com/kycetl/kycetl/internal/pipeline"
	"github.com/kycetl/kycetl/transform"
	"github.com/kycetl/kycetl/transform/pii"
)

// counted is ARGOS under another name, counting the days it flattens.
type counted struct {
	argos.Source
	days *atomic.Int64
}

func (counted) Name() string { return "argos_counted" }

func (c counted) NewFlattener(project, runID string, day time.Time, sink transform.Sink, opts ...transform.Option) (extract.Flattener, error) {
	c.days.Add(1)
	return c.Source.NewFlattener(project, runID, day, sink, opts...)
}

// with is a pipeline on e's archive and warehouse with open's PII key and
// opts.
func (e *env) with(t *testing.T, opts ...pipeline.Option) *pipeline.Pipeline {
	t.Helper()
	pol, err := pii.New(pii.WithKey([]byte("pipeline-test-pii-key")))
	if err != nil {
		t.Fatal(err)
	}
	pl, err := pipeline.New(e.layout, e.wh, append([]pipeline.Option{pipeline.WithPolicy(pol)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return pl
}

// TestRebuildDerivesEachDayWithItsSource archives two days of ARGOS and
// two of another source, then rebuilds: each day is derived by the source
// whose raw archive holds it, and a pipeline that does not know a source
// found under raw/ refuses to rebuild, naming it and the known ones.
func TestRebuildDerivesEachDayWithItsSource(t *testing.T) {
	ctx := context.Background()
	e := open(t, t.TempDir())
	other := counted{days: new(atomic.Int64)}
	day := time.Date(2025, 2, 3, 0, 0, 0, 0, time.UTC)
	asOf := time.Date(2025, 2, 10, 12, 0, 0, 0, time.UTC)
	for project, src := range map[string]extract.Source{"a": pipeline.DefaultSource, "b": other} {
		fetch, srv, err := src.Sandbox(ctx, extract.SandboxOptions{Seed: 3, AsOf: asOf})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.with(t, pipeline.WithSource(src)).Load(ctx, fetch, "run", project, day, day.AddDate(0, 0, 1))
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
	}

	_, err := e.pl.Rebuild(ctx)
	var unknown *pipeline.UnknownSourceError
	if !errors.As(err, &unknown) || unknown.Name != other.Name() || !slices.Contains(unknown.Known, argos.Name) {
		t.Fatalf("rebuilding days of an unlisted source: %v, want an *UnknownSourceError naming %s and %s", err, other.Name(), argos.Name)
	}

	other.days.Store(0)
	sum, err := e.with(t, pipeline.WithSource(other)).Rebuild(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Days != 4 || other.days.Load() != 2 {
		t.Errorf("rebuilt %d days, %d of them by %s; want 4, 2 (the other two by %s)", sum.Days, other.days.Load(), other.Name(), argos.Name)
	}
}

// TestImportArchivesUnderItsSource imports an export as another source's:
// the raw files are under its name and its flattener derives the days.
func TestImportArchivesUnderItsSource(t *testing.T) {
	e := open(t, t.TempDir())
	other := counted{days: new(atomic.Int64)}
	sum, err := e.with(t, pipeline.WithSource(other)).Import(context.Background(), "acme", []string{filepath.Join("..", "..", "testdata", "pages", "drift.ndjson")})
	if err != nil {
		t.Fatal(err)
	}
	mine, _ := filepath.Glob(filepath.Join(e.dir, "raw", other.Name(), "project=acme", "*", "*.ndjson.zst"))
	elsewhere, _ := filepath.Glob(filepath.Join(e.dir, "raw", argos.Name, "*"))
	if sum.Days == 0 || len(mine) != sum.Days || len(elsewhere) != 0 || other.days.Load() != int64(sum.Days) {
		t.Errorf("imported %d days: %d raw files under %s, %d under %s, %d days flattened by %s",
			sum.Days, len(mine), other.Name(), len(elsewhere), argos.Name, other.days.Load(), other.Name())
	}
}
