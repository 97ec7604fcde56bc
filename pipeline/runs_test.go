package pipeline_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

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
