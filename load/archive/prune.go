package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Retention of superseded versions. Every run writes new files for the days
// it loads and keeps the files they replace; Prune deletes the replaced
// ("superseded") versions once they have been superseded for longer than a
// limit, and writes a prune record (pruned/<prune_id>.json) listing every
// file it deleted with its size and SHA-256, which Verify reads: a pruned
// file is reported as pruned, never as missing.
//
// A version of a partition (project, day) is a DayRecord of outcome ok. It
// is superseded when a later run (by run ID) has an ok record of the same
// partition, from the moment that record finished. The files of a failed
// or skipped record are superseded the same way by the first ok record
// after them. Prune never deletes:
//   - a file of a current version, nor one of a record newer than the
//     current version (a failed retry keeps its files until a success
//     supersedes them);
//   - a file any record kept by the limit names too (a rebuild names the
//     raw file of the run it re-derived);
//   - a protected file (WithProtected: what the warehouse reads);
//   - a file no manifest lists (Verify's unlisted files).
//
// A manifest is deleted when every file it lists is gone (pruned now or
// before), its run finished before the cutoff, and it is not the newest
// manifest (which orders the next run ID: see LastRunID).
//
// The caller holds the directory lock (internal/lock), as run and import
// do, so that no run in progress names a file Prune deletes.

// PruneRecord is what one prune deleted; it is written, before anything is
// deleted, to pruned/<PruneID>.json.
type PruneRecord struct {
	PruneID string    `json:"prune_id"`
	At      time.Time `json:"at"`
	// OlderThanDays is the limit: versions superseded before Cutoff
	// (At minus that many days) were deleted.
	OlderThanDays int          `json:"older_than_days"`
	Cutoff        time.Time    `json:"cutoff"`
	Files         []PrunedFile `json:"files"`
	Manifests     []PrunedFile `json:"manifests"`
}

// PrunedFile is one deleted file, its path relative to the archive root.
// For a raw or Parquet file, the size and SHA-256 are those its manifest
// recorded and Verify checked; for a manifest, those of the file deleted.
type PrunedFile struct {
	RunID   string `json:"run_id"`
	Table   string `json:"table,omitempty"`
	Project string `json:"project,omitempty"`
	Day     string `json:"day,omitempty"`
	Path    string `json:"path"`
	Rows    int64  `json:"rows,omitempty"`
	Bytes   int64  `json:"bytes"`
	SHA256  string `json:"sha256"`
	// SupersededBy is the run whose version replaced this file's, and
	// SupersededAt when it finished that day.
	SupersededBy string    `json:"superseded_by,omitempty"`
	SupersededAt time.Time `json:"superseded_at,omitzero"`
}

// Bytes is the total size of the files and manifests deleted.
func (r *PruneRecord) Bytes() int64 {
	var n int64
	for _, f := range r.Files {
		n += f.Bytes
	}
	for _, f := range r.Manifests {
		n += f.Bytes
	}
	return n
}

// Empty reports whether the prune deleted nothing.
func (r *PruneRecord) Empty() bool { return len(r.Files) == 0 && len(r.Manifests) == 0 }

// String is a one-line summary.
func (r *PruneRecord) String() string {
	return fmt.Sprintf("prune %s (superseded for more than %d days, before %s): %d files and %d manifests, %.1f MB",
		r.PruneID, r.OlderThanDays, r.Cutoff.UTC().Format(time.RFC3339), len(r.Files), len(r.Manifests), float64(r.Bytes())/1e6)
}

// PrunePath is where the record of a prune is kept.
func (l Layout) PrunePath(pruneID string) string {
	return filepath.Join(l.Dir, "pruned", pruneID+".json")
}

// PruneOption configures Prune.
type PruneOption func(*pruneConfig)

type pruneConfig struct {
	dryRun    bool
	protected map[string]bool
	err       error // of an option
}

// WithDryRun makes Prune plan only: it returns the record of what it would
// delete and deletes and writes nothing.
func WithDryRun() PruneOption { return func(c *pruneConfig) { c.dryRun = true } }

// WithProtected keeps the files at paths (absolute, or relative to the
// archive root), whatever the manifests say: the files the warehouse reads.
// The archive root may be relative (to the working directory) and the
// paths absolute, or the other way round.
func WithProtected(l Layout, paths []string) PruneOption {
	return func(c *pruneConfig) {
		root, err := filepath.Abs(l.Dir)
		if err != nil {
			c.err = fmt.Errorf("resolving archive %s: %w", l.Dir, err)
			return
		}
		for _, p := range paths {
			if !filepath.IsAbs(p) {
				p = filepath.Join(root, filepath.FromSlash(p))
			}
			if rel, err := filepath.Rel(root, p); err == nil && filepath.IsLocal(rel) {
				c.protected[filepath.ToSlash(rel)] = true
			}
		}
	}
}

// ErrBadLimit is Prune's error for a negative limit.
var ErrBadLimit = errors.New("retention limit must be 0 days or more")

// Prune deletes the versions superseded for more than days days before now
// (see the package's retention notes) and returns the record of what it
// deleted, which it wrote to PrunePath unless nothing was deleted. The
// caller holds the directory lock.
func (l Layout) Prune(ctx context.Context, now time.Time, days int, opts ...PruneOption) (*PruneRecord, error) {
	if days < 0 {
		return nil, fmt.Errorf("pruning archive %s: %w, got %d", l.Dir, ErrBadLimit, days)
	}
	cfg := pruneConfig{protected: map[string]bool{}}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.err != nil {
		return nil, fmt.Errorf("pruning archive %s: %w", l.Dir, cfg.err)
	}
	now = now.UTC()
	ms, err := l.ReadManifests()
	if err != nil {
		return nil, fmt.Errorf("pruning archive %s: %w", l.Dir, err)
	}
	before, err := l.ReadPruneRecords()
	if err != nil {
		return nil, fmt.Errorf("pruning archive %s: %w", l.Dir, err)
	}
	lastID := ""
	if len(before) > 0 {
		lastID = before[len(before)-1].PruneID
	}
	// Prune IDs are made as run IDs are: ordered, unique.
	rec := &PruneRecord{PruneID: NewRunID(now, lastID), At: now, OlderThanDays: days, Cutoff: now.AddDate(0, 0, -days)}
	pruned := map[string]bool{}
	for _, r := range before {
		for _, f := range r.Files {
			pruned[f.Path] = true
		}
	}
	plan := planPrune(ms, rec.Cutoff, cfg.protected)
	gone := map[string]bool{} // listed files that are absent: pruned before or now
	for _, f := range plan {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("pruning archive %s: %w", l.Dir, err)
		}
		path, err := l.Abs(f.Path)
		if err != nil {
			return nil, fmt.Errorf("pruning archive %s: run %s: %w", l.Dir, f.RunID, err)
		}
		if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
			// Absent: pruned before, or missing, which Verify must keep
			// reporting; either way not this prune's to record.
			if pruned[f.Path] {
				gone[f.Path] = true
			}
			continue
		} else if err != nil {
			return nil, fmt.Errorf("pruning archive %s: %w", l.Dir, err)
		}
		rec.Files = append(rec.Files, f)
		gone[f.Path] = true
	}
	last := ""
	if len(ms) > 0 {
		last = ms[len(ms)-1].RunID
	}
	for _, m := range ms {
		if m.RunID == last || !finished(m).Before(rec.Cutoff) || !allGone(m, gone) {
			continue
		}
		path := l.ManifestPath(m.RunID)
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("pruning archive %s: reading manifest of run %s: %w", l.Dir, m.RunID, err)
		}
		sum := sha256.Sum256(data)
		rec.Manifests = append(rec.Manifests, PrunedFile{RunID: m.RunID, Path: relManifest(m.RunID), Bytes: int64(len(data)), SHA256: hex.EncodeToString(sum[:])})
	}
	if cfg.dryRun || rec.Empty() {
		return rec, nil
	}
	if err := l.writePruneRecord(rec); err != nil {
		return nil, err
	}
	// The record is written first: a prune cut short leaves files it lists
	// present (Verify checks them as usual) or gone (reported pruned); it
	// never leaves a file gone that no record lists.
	dirs := map[string]bool{}
	for _, f := range rec.Files {
		path, _ := l.Abs(f.Path)
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("pruning archive %s: deleting %s of run %s: %w", l.Dir, f.Path, f.RunID, err)
		}
		dirs[filepath.Dir(path)] = true
	}
	// A partition directory keeps its current version's file, unless that
	// version has no rows in the table (no file: OmitEmpty): then it is
	// empty now, and goes. Removing a directory that still holds a file
	// fails, and leaves it.
	for d := range dirs {
		_ = os.Remove(d)
	}
	for _, f := range rec.Manifests {
		if err := os.Remove(l.ManifestPath(f.RunID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("pruning archive %s: deleting manifest of run %s: %w", l.Dir, f.RunID, err)
		}
	}
	return rec, nil
}

// finished is when a run ended, or started if it never recorded an end.
func finished(m *Manifest) time.Time {
	if !m.FinishedAt.IsZero() {
		return m.FinishedAt
	}
	if t, _, ok := runIDStart(m.RunID); ok && m.StartedAt.IsZero() {
		return t
	}
	return m.StartedAt
}

// allGone reports whether every file m lists is in gone.
func allGone(m *Manifest, gone map[string]bool) bool {
	for _, d := range m.Days {
		for _, f := range d.Files {
			if !gone[f.Path] {
				return false
			}
		}
	}
	return true
}

// version is one DayRecord of a manifest.
type version struct {
	m *Manifest
	d *DayRecord
}

// planPrune lists the files of the records superseded before cutoff that
// no kept record names and that are not protected, each once, sorted by
// path.
func planPrune(ms []*Manifest, cutoff time.Time, protected map[string]bool) []PrunedFile {
	byPart := map[PartitionKey][]version{}
	for _, m := range ms { // sorted by run ID
		for i := range m.Days {
			d := &m.Days[i]
			byPart[d.Key()] = append(byPart[d.Key()], version{m, d})
		}
	}
	keep := map[string]bool{}
	for p := range protected {
		keep[p] = true
	}
	var drop []PrunedFile
	for _, vs := range byPart {
		// Walk back from the newest: next is the oldest ok version after
		// the one looked at.
		var next *version
		for i := len(vs) - 1; i >= 0; i-- {
			v := vs[i]
			superseded := next != nil && next.m.RunID > v.m.RunID && !next.d.FinishedAt.IsZero() && next.d.FinishedAt.Before(cutoff)
			for _, f := range v.d.Files {
				if !superseded {
					keep[f.Path] = true
					continue
				}
				drop = append(drop, PrunedFile{RunID: v.m.RunID, Table: f.Table, Project: v.d.Project, Day: v.d.Day, Path: f.Path,
					Rows: f.Rows, Bytes: f.Bytes, SHA256: f.SHA256, SupersededBy: next.m.RunID, SupersededAt: next.d.FinishedAt})
			}
			if v.d.Outcome == OutcomeOK {
				next = &vs[i]
			}
		}
	}
	seen := map[string]bool{}
	out := drop[:0]
	for _, f := range drop {
		if keep[f.Path] || seen[f.Path] {
			continue
		}
		seen[f.Path] = true
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func (l Layout) writePruneRecord(r *PruneRecord) error {
	return writeJSON(l.PrunePath(r.PruneID), "prune record "+r.PruneID, r)
}

// ReadPruneRecords reads every prune record of the archive, oldest first.
func (l Layout) ReadPruneRecords() ([]*PruneRecord, error) {
	var rs []*PruneRecord
	err := readJSONDir(filepath.Join(l.Dir, "pruned"), "prune record", func(path string, data []byte) error {
		r, err := decodePruneRecord(data)
		if err != nil {
			return fmt.Errorf("reading prune record %s: %w", path, err)
		}
		rs = append(rs, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].PruneID < rs[j].PruneID })
	return rs, nil
}

// decodePruneRecord reads a prune record and checks its ID and that every
// path it lists is inside the archive.
func decodePruneRecord(data []byte) (*PruneRecord, error) {
	var r PruneRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, err
	}
	if err := validateRunID(r.PruneID); err != nil {
		return nil, fmt.Errorf("prune ID: %w", err)
	}
	for _, f := range append(r.Files, r.Manifests...) {
		if !filepath.IsLocal(filepath.FromSlash(f.Path)) {
			return nil, fmt.Errorf("prune %s lists %q, a path outside the archive", r.PruneID, f.Path)
		}
	}
	return &r, nil
}

// Usage is the size of an archive on disk.
type Usage struct {
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
	// By top directory: raw, parquet, manifests, pruned.
	Parts map[string]Usage `json:"parts,omitempty"`
}

// Usage counts the files and bytes under raw/, parquet/, manifests/ and
// pruned/ (the warehouse file is not part of the archive).
func (l Layout) Usage(ctx context.Context) (Usage, error) {
	u := Usage{Parts: map[string]Usage{}}
	for _, top := range []string{"raw", "parquet", "manifests", "pruned"} {
		var part Usage
		root := filepath.Join(l.Dir, top)
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) && path == root {
				return fs.SkipDir
			}
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			part.Files++
			part.Bytes += fi.Size()
			return nil
		})
		if err != nil {
			return Usage{}, fmt.Errorf("measuring %s: %w", root, err)
		}
		u.Parts[top] = part
		u.Files += part.Files
		u.Bytes += part.Bytes
	}
	return u, nil
}
