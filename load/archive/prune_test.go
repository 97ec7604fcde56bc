package archive

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycetl/kycetl/transform/schema"
)

// pruneArchive builds an archive of raw files only (Verify reads them in
// full) whose versions are superseded at known times.
type pruneArchive struct {
	t  *testing.T
	l  Layout
	t0 time.Time
	ms map[string]*Manifest
}

func newPruneArchive(t *testing.T) *pruneArchive {
	return &pruneArchive{t: t, l: Layout{Dir: t.TempDir()}, t0: time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC), ms: map[string]*Manifest{}}
}

// day records that run (started at t0 plus at days) loaded project a's
// day with outcome; it writes the run's raw file of the day unless shared
// names another run whose file the record lists instead.
func (a *pruneArchive) day(run string, at int, day, outcome, shared string) string {
	a.t.Helper()
	when := a.t0.AddDate(0, 0, at)
	m, ok := a.ms[run]
	if !ok {
		m = &Manifest{RunID: run, Command: "run", SchemaVersion: schema.Version, StartedAt: when, FinishedAt: when.Add(time.Minute), Complete: true}
		a.ms[run] = m
	}
	d, _ := time.Parse("2006-01-02", day)
	owner := run
	if shared != "" {
		owner = shared
	}
	path := a.l.RawPath("argos", "a", d, owner)
	rel, _ := a.l.Rel(path)
	var fe FileEntry
	if shared == "" {
		w, err := NewRawWriter(path)
		if err != nil {
			a.t.Fatal(err)
		}
		if err := w.Write([]byte(`{"submission_id":"` + run + `"}`)); err != nil {
			a.t.Fatal(err)
		}
		fi, err := w.Close()
		if err != nil {
			a.t.Fatal(err)
		}
		fe = FileEntry{Table: RawTable, Path: rel, Rows: 1, Bytes: fi.Bytes, SHA256: fi.SHA256}
	} else {
		for _, om := range a.ms {
			for _, od := range om.Days {
				for _, f := range od.Files {
					if f.Path == rel {
						fe = f
					}
				}
			}
		}
	}
	m.Days = append(m.Days, DayRecord{Project: "a", Day: day, StartedAt: when, FinishedAt: when.Add(time.Second), Outcome: outcome, Files: []FileEntry{fe}})
	if err := a.l.WriteManifest(m); err != nil {
		a.t.Fatal(err)
	}
	return rel
}

func (a *pruneArchive) exists(rel string) bool {
	_, err := os.Stat(filepath.Join(a.l.Dir, filepath.FromSlash(rel)))
	return err == nil
}

func TestPruneKeepsCurrentAndRecent(t *testing.T) {
	ctx := context.Background()
	a := newPruneArchive(t)
	r1 := a.day("R1", 0, "2025-01-01", OutcomeOK, "")
	r1b := a.day("R1", 0, "2025-01-02", OutcomeOK, "")
	r2 := a.day("R2", 10, "2025-01-01", OutcomeOK, "")
	r3 := a.day("R3", 11, "2025-01-01", OutcomeFailed, "")
	r4 := a.day("R4", 40, "2025-01-01", OutcomeOK, "")
	a.day("R4", 40, "2025-01-02", OutcomeOK, "R1") // a rebuild names R1's raw file
	r5 := a.day("R5", 41, "2025-01-01", OutcomeFailed, "")
	now := a.t0.AddDate(0, 0, 45)

	// 30 days: only R1's version of 01-01, superseded on day 10, goes.
	dry, err := a.l.Prune(ctx, now, 30, WithDryRun())
	if err != nil {
		t.Fatal(err)
	}
	if len(dry.Files) != 1 || dry.Files[0].Path != r1 || !a.exists(r1) {
		t.Fatalf("dry run planned %+v (R1 present: %v), want R1's 2025-01-01 only and nothing deleted", dry.Files, a.exists(r1))
	}
	if _, err := os.Stat(filepath.Join(a.l.Dir, "pruned")); err == nil {
		t.Error("a dry run wrote a prune record")
	}
	rec, err := a.l.Prune(ctx, now, 30)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Files) != 1 || rec.Files[0].Path != r1 || rec.Files[0].SupersededBy != "R2" || len(rec.Manifests) != 0 {
		t.Fatalf("30-day prune deleted %+v and manifests %+v", rec.Files, rec.Manifests)
	}
	for _, p := range []string{r1b, r2, r3, r4, r5} {
		if !a.exists(p) {
			t.Errorf("30-day prune deleted %s", p)
		}
	}
	if a.exists(r1) {
		t.Errorf("%s is still there", r1)
	}
	rep, err := Verify(ctx, a.l)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.PrunedListed != 1 || len(rep.Prunes) != 1 {
		t.Fatalf("verify after the prune: %s", rep)
	}
	if s := rep.String(); !strings.Contains(s, "pruned by prune "+rec.PruneID) || !strings.Contains(s, "1 listed files pruned") {
		t.Errorf("verify's report does not list the prune:\n%s", s)
	}

	// No superseded version kept: R2 and R3 go (and their manifests); R1's
	// raw file of 01-02 stays, as R4 names it; R5's failed retry, newer
	// than the current version, stays; so does what the warehouse reads.
	rec, err = a.l.Prune(ctx, now, 0, WithProtected(a.l, []string{filepath.Join(a.l.Dir, filepath.FromSlash(r3))}))
	if err != nil {
		t.Fatal(err)
	}
	if got := paths(rec.Files); !slices.Equal(got, []string{r2}) {
		t.Errorf("0-day prune with R3 protected deleted %v, want %v", got, []string{r2})
	}
	if got := paths(rec.Manifests); !slices.Equal(got, []string{"manifests/R2.json"}) {
		t.Errorf("0-day prune with R3 protected deleted manifests %v", got)
	}
	rec, err = a.l.Prune(ctx, now, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := paths(rec.Files); !slices.Equal(got, []string{r3}) {
		t.Errorf("0-day prune deleted %v, want %v", got, []string{r3})
	}
	if got := paths(rec.Manifests); !slices.Equal(got, []string{"manifests/R3.json"}) {
		t.Errorf("0-day prune deleted manifests %v", got)
	}
	for _, p := range []string{r1b, r4, r5, "manifests/R1.json", "manifests/R5.json"} {
		if !a.exists(p) {
			t.Errorf("0-day prune deleted %s", p)
		}
	}
	rep, err = Verify(ctx, a.l)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || len(rep.Prunes) != 3 || rep.Manifests != 3 || len(rep.Unlisted) != 0 {
		t.Fatalf("verify after the second prune: %s", rep)
	}
	if rec, err := a.l.Prune(ctx, now, 0); err != nil || !rec.Empty() {
		t.Errorf("a prune with nothing left to prune gave %+v, %v", rec, err)
	}
	if _, err := a.l.Prune(ctx, now, -1); err == nil {
		t.Error("a negative limit was accepted")
	}
}

// A file missing without a prune stays a problem: Prune does not record
// it, and Verify reports it missing.
func TestPruneLeavesMissingFilesMissing(t *testing.T) {
	ctx := context.Background()
	a := newPruneArchive(t)
	r1 := a.day("R1", 0, "2025-01-01", OutcomeOK, "")
	a.day("R2", 1, "2025-01-01", OutcomeOK, "")
	if err := os.Remove(filepath.Join(a.l.Dir, filepath.FromSlash(r1))); err != nil {
		t.Fatal(err)
	}
	rec, err := a.l.Prune(ctx, a.t0.AddDate(0, 0, 10), 0)
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Empty() {
		t.Errorf("prune recorded a file it did not delete: %+v", rec)
	}
	rep, err := Verify(ctx, a.l)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || rep.Problems[0].Kind != ProblemMissing {
		t.Errorf("a file gone without a prune is not reported missing: %s", rep)
	}
}

func TestUsage(t *testing.T) {
	a := newPruneArchive(t)
	a.day("R1", 0, "2025-01-01", OutcomeOK, "")
	u, err := a.l.Usage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if u.Files != 2 || u.Parts["raw"].Files != 1 || u.Parts["manifests"].Files != 1 || u.Bytes <= 0 {
		t.Errorf("usage of one raw file and one manifest: %+v", u)
	}
}

func paths(fs []PrunedFile) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Path)
	}
	slices.Sort(out)
	return out
}

func FuzzDecodePruneRecord(f *testing.F) {
	f.Add([]byte(`{"prune_id":"P","files":[{"run_id":"R","path":"raw/a/x.ndjson.zst","bytes":3,"sha256":"ab"}]}`))
	f.Add([]byte(`{"prune_id":"P","manifests":[{"path":"../etc/passwd"}]}`))
	f.Add([]byte(`{"prune_id":""}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := decodePruneRecord(data)
		if err != nil {
			return
		}
		if validateRunID(r.PruneID) != nil {
			t.Fatalf("accepted prune ID %q", r.PruneID)
		}
		for _, p := range append(r.Files, r.Manifests...) {
			if _, err := (Layout{Dir: "/archive"}).Abs(p.Path); err != nil {
				t.Fatalf("accepted path %q: %v", p.Path, err)
			}
		}
	})
}

// A prune record that names a path outside the archive is refused, with
// the record named.
func TestReadPruneRecordsRefusesEscapes(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	if err := os.MkdirAll(filepath.Join(l.Dir, "pruned"), 0o755); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(l.Dir, "pruned", "P.json")
	if err := os.WriteFile(bad, []byte(`{"prune_id":"P","files":[{"path":"../../x"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ReadPruneRecords(); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("a record listing ../../x gave %v", err)
	}
	if _, err := Verify(context.Background(), l); err == nil {
		t.Error("verify accepted a broken prune record")
	}
}

// The warehouse names its files by absolute path; the archive root is
// often relative (the default --dir is ./warehouse): the files are kept
// all the same.
func TestPruneProtectsAbsolutePathsOfARelativeArchive(t *testing.T) {
	parent := t.TempDir()
	t.Chdir(parent)
	a := newPruneArchive(t)
	a.l = Layout{Dir: "warehouse"}
	r1 := a.day("R1", 0, "2025-01-01", OutcomeOK, "")
	a.day("R2", 1, "2025-01-01", OutcomeOK, "")
	abs := filepath.Join(parent, "warehouse", filepath.FromSlash(r1))
	rec, err := a.l.Prune(context.Background(), a.t0.AddDate(0, 0, 10), 0, WithProtected(a.l, []string{abs}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abs); !rec.Empty() || err != nil {
		t.Errorf("a file the warehouse reads (%s) was pruned: %+v", abs, rec.Files)
	}
}
