package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kycetl/kycetl/archive"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/duckdb"
	"github.com/kycetl/kycetl/pii"
	"github.com/kycetl/kycetl/pipeline"
	"github.com/kycetl/kycetl/synth"
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
