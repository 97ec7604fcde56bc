package archive

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycetl/kycetl/transform/schema"
)

func TestManifestRoundTrip(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	t0 := time.Date(2026, 11, 23, 11, 4, 0, 0, time.UTC)
	m := &Manifest{RunID: "20261123T110400Z-aaaaaa", Command: "run", SchemaVersion: schema.Version,
		WindowFrom: "2026-11-16", WindowTo: "2026-11-22", StartedAt: t0}
	if err := l.WriteManifest(m); err != nil {
		t.Fatal(err)
	}
	m.Days = append(m.Days, DayRecord{Project: "acme", Day: "2026-11-16", StartedAt: t0, FinishedAt: t0.Add(time.Second),
		Pages: 3, APICalls: 4, Retries: 1, WaitSeconds: 0.5, Submissions: 120, Quarantined: 1,
		Rows: map[string]int64{"submissions": 120, "quarantine": 1}, Bytes: 999,
		Coercions: []Coercion{{Path: "kyc.score", Reason: "not a number", Count: 2}}, Outcome: OutcomeOK,
		Files: []FileEntry{{Table: "submissions", Path: "parquet/submissions/x.parquet", Rows: 120, Bytes: 999, SHA256: "ab"}},
		Jobs:  []Job{{Warehouse: "duckdb", ID: "j1", Outcome: "ok", BytesProcessed: 10}}})
	m.Complete, m.FinishedAt = true, t0.Add(time.Minute)
	if err := l.WriteManifest(m); err != nil { // rewritten in place
		t.Fatal(err)
	}
	other := &Manifest{RunID: "20261122T000000Z-bbbbbb", SchemaVersion: 1}
	if err := l.WriteManifest(other); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, filepath.Join(l.Dir, "manifests"), "20261122T000000Z-bbbbbb.json", "20261123T110400Z-aaaaaa.json")

	ms, err := l.ReadManifests()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].RunID != other.RunID || ms[1].RunID != m.RunID {
		t.Fatalf("ReadManifests gave %d manifests, not sorted by run ID", len(ms))
	}
	a, _ := json.Marshal(ms[1])
	b, _ := json.Marshal(m)
	if string(a) != string(b) {
		t.Errorf("manifest changed on the way:\n%s\n%s", a, b)
	}
	raw, err := os.ReadFile(l.ManifestPath(m.RunID))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"run_id"`, `"schema_version"`, `"window_from"`, `"api_calls"`, `"wait_seconds"`,
		`"coercions"`, `"sha256"`, `"bytes_processed"`, `"complete": true`} {
		if !strings.Contains(string(raw), key) {
			t.Errorf("manifest JSON lacks %s", key)
		}
	}

	if err := l.WriteManifest(&Manifest{RunID: "../escape"}); err == nil {
		t.Error("a run ID with a path separator was accepted")
	}
	if err := os.WriteFile(filepath.Join(l.Dir, "manifests", "broken.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ReadManifests(); err == nil || !strings.Contains(err.Error(), "broken.json") {
		t.Errorf("a broken manifest gave %v, want an error naming it", err)
	}
	if ms, err := (Layout{Dir: t.TempDir()}).ReadManifests(); err != nil || len(ms) != 0 {
		t.Errorf("an empty archive gave %v, %v", ms, err)
	}
}

func TestCurrent(t *testing.T) {
	day := func(p, d, outcome string) DayRecord { return DayRecord{Project: p, Day: d, Outcome: outcome} }
	ms := []*Manifest{ // deliberately out of order
		{RunID: "R3", Days: []DayRecord{day("a", "2025-01-01", OutcomeOK)}}, // crashed run: its completed day counts
		{RunID: "R1", Days: []DayRecord{day("a", "2025-01-01", OutcomeOK), day("a", "2025-01-02", OutcomeOK), day("b", "2025-01-01", OutcomeOK)}},
		{RunID: "R2", Complete: true, Days: []DayRecord{day("a", "2025-01-02", OutcomeFailed), day("b", "2025-01-01", OutcomeOK), day("c", "2025-01-01", OutcomeFailed)}},
	}
	cur := Current(ms)
	want := map[PartitionKey]string{
		{"", "a", "2025-01-01"}: "R3",
		{"", "a", "2025-01-02"}: "R1", // R2 failed it: R1's version stays current
		{"", "b", "2025-01-01"}: "R2",
	}
	if len(cur) != len(want) {
		t.Errorf("Current has %d partitions, want %d", len(cur), len(want))
	}
	for k, run := range want {
		d := cur[k]
		if d == nil {
			t.Errorf("%v missing", k)
			continue
		}
		var owner string
		for _, m := range ms {
			for i := range m.Days {
				if &m.Days[i] == d {
					owner = m.RunID
				}
			}
		}
		if owner != run {
			t.Errorf("%v: current version from run %s, want %s", k, owner, run)
		}
	}
}

func FuzzDecodeManifest(f *testing.F) {
	f.Add([]byte(`{"run_id":"R","days":[{"project":"a","files":[{"path":"x"}]}]}`))
	f.Add([]byte(`{"run_id":"../x"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeManifest(data)
		if err == nil && validateRunID(m.RunID) != nil {
			t.Fatalf("accepted run ID %q", m.RunID)
		}
	})
}

// buildArchive writes a run with a raw and a Parquet file for one day and
// its manifest, as a run would.
func buildArchive(t *testing.T) (Layout, *Manifest) {
	t.Helper()
	l := Layout{Dir: t.TempDir()}
	runID := "20250203T000000Z-000001"
	day := time.Date(2025, 2, 2, 0, 0, 0, 0, time.UTC)
	rw, err := NewRawWriter(l.RawPath("argos", "created_date", "acme", day, runID))
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range []string{`{"submission_id":"1"}`, `{"submission_id":"2"}`} {
		if err := rw.Write([]byte(it)); err != nil {
			t.Fatal(err)
		}
	}
	rawInfo, err := rw.Close()
	if err != nil {
		t.Fatal(err)
	}
	pqInfo := writeParquet(t, l.ParquetPath(&schema.Table{Name: "t"}, "acme", day, runID), allTypes, `[{"s":"1"},{"s":"2"}]`)
	rawEntry, err := l.Entry(RawTable, rawInfo)
	if err != nil {
		t.Fatal(err)
	}
	pqEntry, err := l.Entry("t", pqInfo)
	if err != nil {
		t.Fatal(err)
	}
	m := &Manifest{RunID: runID, SchemaVersion: schema.Version, Complete: true, Days: []DayRecord{{
		Project: "acme", Day: "2025-02-02", Outcome: OutcomeOK, Files: []FileEntry{rawEntry, pqEntry}}}}
	if err := l.WriteManifest(m); err != nil {
		t.Fatal(err)
	}
	return l, m
}

func verify(t *testing.T, l Layout) *Report {
	t.Helper()
	r, err := Verify(context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestVerifyIntact(t *testing.T) {
	l, m := buildArchive(t)
	r := verify(t, l)
	if !r.OK() || r.Manifests != 1 || r.Files != 2 || len(r.Unlisted) != 0 {
		t.Fatalf("intact archive: %+v", r)
	}
	if r.Bytes != m.Days[0].Files[0].Bytes+m.Days[0].Files[1].Bytes {
		t.Errorf("read %d bytes, want the files' total", r.Bytes)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Verify(ctx, l); err == nil {
		t.Error("Verify ignored a cancelled context")
	}
}

func TestVerifyFindsProblems(t *testing.T) {
	l, m := buildArchive(t)
	raw, pq := m.Days[0].Files[0], m.Days[0].Files[1]
	abs := func(rel string) string { p, _ := l.Abs(rel); return p }

	// Flip one byte in the middle of the Parquet file.
	data, err := os.ReadFile(abs(pq.Path))
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(abs(pq.Path), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(abs(raw.Path)); err != nil {
		t.Fatal(err)
	}
	orphan := filepath.Join(filepath.Dir(abs(pq.Path)), ".tmp-left-by-a-crash")
	if err := os.WriteFile(orphan, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := verify(t, l)
	if r.OK() || len(r.Problems) != 2 {
		t.Fatalf("want 2 problems, got %+v", r.Problems)
	}
	got := map[string]ProblemKind{}
	for _, p := range r.Problems {
		got[p.Path] = p.Kind
	}
	if got[raw.Path] != ProblemMissing || got[pq.Path] != ProblemCorrupt {
		t.Errorf("problems %v, want raw missing and Parquet corrupt", got)
	}
	if len(r.Unlisted) != 1 || !strings.HasSuffix(r.Unlisted[0], ".tmp-left-by-a-crash") {
		t.Errorf("unlisted %v, want the temporary file", r.Unlisted)
	}
}

func TestVerifyRowsAndSchemaVersion(t *testing.T) {
	l, m := buildArchive(t)
	m.Days[0].Files[0].Rows = 3
	m.Days[0].Files[1].Rows = 1
	m.Days[0].Files = append(m.Days[0].Files, FileEntry{Table: "t", Path: "../outside.parquet"})
	if err := l.WriteManifest(m); err != nil {
		t.Fatal(err)
	}
	next := &Manifest{RunID: "20250204T000000Z-000002", SchemaVersion: schema.Version + 1}
	if err := l.WriteManifest(next); err != nil {
		t.Fatal(err)
	}
	r := verify(t, l)
	kinds := map[ProblemKind]int{}
	for _, p := range r.Problems {
		kinds[p.Kind]++
	}
	if kinds[ProblemRows] != 2 || kinds[ProblemManifest] != 1 || kinds[ProblemSchema] != 1 || len(r.Problems) != 4 {
		t.Errorf("problems %v", r.Problems)
	}

	// A file written under another schema version than its manifest says.
	l2, m2 := buildArchive(t)
	m2.SchemaVersion = schema.Version + 1
	if err := l2.WriteManifest(m2); err != nil {
		t.Fatal(err)
	}
	r2 := verify(t, l2)
	var mismatch bool
	for _, p := range r2.Problems {
		mismatch = mismatch || (p.Kind == ProblemSchema && p.Path == m2.Days[0].Files[1].Path)
	}
	if !mismatch {
		t.Errorf("Parquet schema version mismatch not reported: %v", r2.Problems)
	}
}

// Two sources' days of one project are two partitions: a newer run of one
// source does not supersede the other's day. A record written before
// records named their source takes its raw file's directory.
func TestCurrentKeepsEachSourcesDay(t *testing.T) {
	legacy := DayRecord{Project: "a", Day: "2025-01-01", Outcome: OutcomeOK,
		Files: []FileEntry{{Table: RawTable, Path: "raw/argos/project=a/created_date=2025-01-01/R1.ndjson.zst"}}}
	snap := DayRecord{Source: "fractal", Project: "a", Day: "2025-01-01", Outcome: OutcomeOK}
	cur := Current([]*Manifest{{RunID: "R1", Days: []DayRecord{legacy}}, {RunID: "R2", Days: []DayRecord{snap}}})
	if len(cur) != 2 || cur[PartitionKey{"argos", "a", "2025-01-01"}] == nil || cur[PartitionKey{"fractal", "a", "2025-01-01"}] == nil {
		t.Errorf("Current = %v, want argos's and fractal's day of a 2025-01-01 both current", cur)
	}
}
