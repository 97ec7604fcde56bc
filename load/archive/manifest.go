package archive

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Outcomes of a day. OutcomePlanned is the ledger's only: a day a run set
// out to load and has not finished; it stays so when the run is killed,
// which is how a killed run shows as interrupted. A run that stops records
// the days it did not finish skipped.
const (
	OutcomeOK      = "ok"
	OutcomeFailed  = "failed"
	OutcomeSkipped = "skipped"
	OutcomePlanned = "planned"
)

// RawTable is the Table of a raw archive file's FileEntry.
const RawTable = "raw"

// Manifest describes one run: its window and every day it completed, with
// every file written. It is rewritten after each completed day, so after a
// crash it lists exactly the days that completed; Complete is set on the
// final write.
type Manifest struct {
	RunID         string    `json:"run_id"`
	Command       string    `json:"command"`
	SchemaVersion int       `json:"schema_version"`
	WindowFrom    string    `json:"window_from"` // YYYY-MM-DD
	WindowTo      string    `json:"window_to"`   // YYYY-MM-DD
	StartedAt     time.Time `json:"started_at"`
	FinishedAt    time.Time `json:"finished_at"`
	Complete      bool      `json:"complete"`
	// PIIKey is the fingerprint of the key the run hashed PII columns
	// with (pii.Policy.Fingerprint; never the key), "" when it hashed
	// nothing or predates fingerprints.
	PIIKey string      `json:"pii_key_fingerprint,omitempty"`
	Days   []DayRecord `json:"days"`
}

// DayRecord is what one run did for one project and day.
type DayRecord struct {
	// Source names the source whose day this is (its raw directory);
	// empty in manifests written before there was more than one source,
	// whose days are ARGOS's: Key reads it from the raw file's path then.
	Source      string    `json:"source,omitempty"`
	Project     string    `json:"project"`
	Day         string    `json:"day"` // YYYY-MM-DD
	StartedAt   time.Time `json:"started_at"`
	FinishedAt  time.Time `json:"finished_at"`
	Pages       int64     `json:"pages"`
	APICalls    int64     `json:"api_calls"`
	Retries     int64     `json:"retries"`
	WaitSeconds float64   `json:"wait_seconds"`
	// ThrottledSeconds is the part of WaitSeconds spent on 429 answers.
	ThrottledSeconds float64          `json:"throttled_seconds"`
	Submissions      int64            `json:"submissions"`
	Quarantined      int64            `json:"quarantined"`
	Rows             map[string]int64 `json:"rows"` // per table
	Bytes            int64            `json:"bytes"`
	Coercions        []Coercion       `json:"coercions"`
	Outcome          string           `json:"outcome"` // OutcomeOK, OutcomeFailed or OutcomeSkipped
	Error            string           `json:"error,omitempty"`
	Files            []FileEntry      `json:"files"`
	Jobs             []Job            `json:"jobs,omitempty"`
}

// Key is the partition the record describes. A record of a manifest
// written before records named their source takes its raw file's.
func (d *DayRecord) Key() PartitionKey {
	src := d.Source
	for _, f := range d.Files {
		if src != "" {
			break
		}
		if f.Table == RawTable {
			src, _ = RawSource(f.Path)
		}
	}
	return PartitionKey{Source: src, Project: d.Project, Day: d.Day}
}

// Coercion counts values set to NULL because they could not be read as
// their column's type.
type Coercion struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
	Count  int64  `json:"count"`
}

// FileEntry is one archive file of a day, its path relative to the archive
// root and slash-separated.
type FileEntry struct {
	Table  string `json:"table"` // a schema table name, or RawTable
	Path   string `json:"path"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Job is one warehouse load job of a day.
type Job struct {
	Warehouse      string `json:"warehouse"`
	ID             string `json:"id"`
	Outcome        string `json:"outcome"`
	BytesProcessed int64  `json:"bytes_processed"`
}

// PartitionKey names a partition: a source, a project and a UTC day
// (YYYY-MM-DD). Two sources' days of one project are two partitions.
type PartitionKey struct {
	Source  string
	Project string
	Day     string
}

// Entry turns a committed file into a manifest entry, with its path made
// relative to the archive root.
func (l Layout) Entry(table string, fi FileInfo) (FileEntry, error) {
	rel, err := l.Rel(fi.Path)
	if err != nil {
		return FileEntry{}, err
	}
	return FileEntry{Table: table, Path: rel, Rows: fi.Rows, Bytes: fi.Bytes, SHA256: fi.SHA256}, nil
}

// WriteManifest writes m atomically to its place, replacing an earlier
// version of the same run's manifest.
func (l Layout) WriteManifest(m *Manifest) error {
	if err := validateRunID(m.RunID); err != nil {
		return fmt.Errorf("writing manifest: %w", err)
	}
	return writeJSON(l.ManifestPath(m.RunID), "manifest of run "+m.RunID, m)
}

// writeJSON writes v as indented JSON atomically at path; what names it in
// errors.
func writeJSON(path, what string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", what, err)
	}
	if _, err := WriteFileAtomic(path, append(data, '\n')); err != nil {
		return fmt.Errorf("writing %s: %w", what, err)
	}
	return nil
}

// LastRunID is the newest run ID that has a manifest, "" when there is
// none: what NewRunID must come after. It reads only the directory.
func (l Layout) LastRunID() (string, error) {
	entries, err := os.ReadDir(filepath.Join(l.Dir, "manifests"))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("listing manifests: %w", err)
	}
	last := ""
	for _, e := range entries {
		name := e.Name()
		if id, ok := strings.CutSuffix(name, ".json"); ok && !e.IsDir() && !strings.HasPrefix(name, ".") && id > last {
			last = id
		}
	}
	return last, nil
}

// ReadManifests reads every manifest of the archive, sorted by run ID (that
// is, in the order the runs started: see NewRunID). An archive with no
// manifests directory has none.
func (l Layout) ReadManifests() ([]*Manifest, error) {
	var ms []*Manifest
	err := readJSONDir(filepath.Join(l.Dir, "manifests"), "manifest", func(path string, data []byte) error {
		m, err := decodeManifest(data)
		if err != nil {
			return fmt.Errorf("reading manifest %s: %w", path, err)
		}
		ms = append(ms, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].RunID < ms[j].RunID })
	return ms, nil
}

// readJSONDir calls fn with every *.json file of dir (what names them in
// errors), skipping hidden (temporary) files; a missing dir has none.
func readJSONDir(dir, what string, fn func(path string, data []byte) error) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing %ss: %w", what, err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".json") {
			continue
		}
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("reading %s: %w", what, err)
		}
		if err := fn(path, data); err != nil {
			return err
		}
	}
	return nil
}

func decodeManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	if err := validateRunID(m.RunID); err != nil {
		return nil, err
	}
	return &m, nil
}

// Current selects the current version of every partition: for each
// (source, project, day), the DayRecord with outcome ok of the newest run (by run
// ID, which orders runs: see NewRunID). ms need not be sorted. The records
// point into ms.
func Current(ms []*Manifest) map[PartitionKey]*DayRecord {
	sorted := append([]*Manifest(nil), ms...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].RunID < sorted[j].RunID })
	cur := make(map[PartitionKey]*DayRecord)
	for _, m := range sorted {
		for i := range m.Days {
			if d := &m.Days[i]; d.Outcome == OutcomeOK {
				cur[d.Key()] = d
			}
		}
	}
	return cur
}
