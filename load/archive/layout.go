package archive

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/transform/schema"
)

// Layout names every file of an archive rooted at Dir.
type Layout struct {
	Dir string
}

// RawPath is where the exact API items of one source (its name: the
// directory under raw/), project, day and run are kept, in a directory
// named by the source's day column (created_date for ARGOS, snapshot_date
// for Fractal), as its Parquet partitions are. The path functions do not
// check their arguments: validate a project name with ValidateProject
// before it names a file.
func (l Layout) RawPath(source, dayColumn, project string, day time.Time, runID string) string {
	return filepath.Join(l.Dir, "raw", source, "project="+project,
		dayColumn+"="+argos.FormatDate(day), runID+rawExt)
}

// ErrNotRaw is RawSource's error for a path that is not a raw file's.
var ErrNotRaw = errors.New("not a raw file's path")

// RawSource returns the source whose raw archive holds the file at rel, a
// manifest's relative path (RawPath's, relative to the archive root): its
// directory under raw/.
func RawSource(rel string) (string, error) {
	parts := strings.SplitN(rel, "/", 3)
	if len(parts) < 3 || parts[0] != "raw" || parts[1] == "" {
		return "", fmt.Errorf("reading the source of %q: %w: want raw/SOURCE/...", rel, ErrNotRaw)
	}
	return parts[1], nil
}

// ParquetPath is where one table's rows of one project, day and run are
// kept, in a directory named by the table's day column.
func (l Layout) ParquetPath(t *schema.Table, project string, day time.Time, runID string) string {
	return filepath.Join(l.Dir, "parquet", t.Name, "project="+project,
		t.DayColumn().Name+"="+argos.FormatDate(day), runID+parquetExt)
}

// ManifestPath is where a run's manifest is kept.
func (l Layout) ManifestPath(runID string) string {
	return filepath.Join(l.Dir, "manifests", runID+".json")
}

// DuckDBPath is the embedded warehouse file.
func (l Layout) DuckDBPath() string {
	return filepath.Join(l.Dir, "kyc.duckdb")
}

// Rel returns path relative to the archive root, slash-separated, as
// manifests store it so that an archive can be moved or copied whole.
func (l Layout) Rel(path string) (string, error) {
	rel, err := filepath.Rel(l.Dir, path)
	if err != nil {
		return "", fmt.Errorf("relating %s to archive %s: %w", path, l.Dir, err)
	}
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("relating %s to archive %s: file is outside the archive", path, l.Dir)
	}
	return filepath.ToSlash(rel), nil
}

// Abs resolves a manifest's relative path against the archive root. It
// refuses a path that would leave the archive.
func (l Layout) Abs(rel string) (string, error) {
	p := filepath.FromSlash(rel)
	if !filepath.IsLocal(p) {
		return "", fmt.Errorf("resolving %q: path leaves the archive", rel)
	}
	return filepath.Join(l.Dir, p), nil
}

const (
	rawExt     = ".ndjson.zst"
	parquetExt = ".parquet"
)

// ValidateProject checks that a project name can name a Hive partition
// directory: not empty, no path separator, no "=", not "." or "..".
func ValidateProject(p string) error {
	switch {
	case p == "":
		return errors.New("project name is empty")
	case strings.ContainsAny(p, `/\=`):
		return fmt.Errorf("project name %q contains '/', '\\' or '='", p)
	case strings.Contains(p, ".."), p == ".":
		return fmt.Errorf("project name %q contains '..' or is '.'", p)
	case strings.ContainsFunc(p, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return fmt.Errorf("project name %q contains a control character", p)
	}
	return nil
}

// Time parts of run IDs, UTC and sortable as text: runIDTime since run IDs
// are ordered, legacyRunIDTime before (seconds only, so that two runs of
// one second sorted by their random part).
const (
	runIDTime       = "20060102T150405.000000Z"
	legacyRunIDTime = "20060102T150405Z"
)

// NewRunID returns the ID of a run that starts at now and comes after the
// run ID after ("" when there is none), such as
// 20261123T110400.123456Z-1a2b3c: the UTC start time to the microsecond
// and 6 random hex digits. Run IDs are the order of runs, as text: the
// time part is made later than after's even when the clock says otherwise
// (two runs in one microsecond, a clock set back), so the order never
// depends on a clock's resolution. Given the newest run ID of an archive
// (LastRunID), under the directory lock, a new run sorts after every run
// before it, those of older kycetl versions (seconds only) included.
func NewRunID(now time.Time, after string) string {
	t := now.UTC().Truncate(time.Microsecond)
	if prev, step, ok := runIDStart(after); ok && t.Before(prev.Add(step)) {
		t = prev.Add(step)
	}
	var b [3]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return t.Format(runIDTime) + "-" + hex.EncodeToString(b[:])
}

// runIDStart reads the time part of a run ID, and the step to the first
// time whose run ID sorts after it: a microsecond, or for a legacy ID a
// second (a run ID with a fraction sorts before the legacy ID of its
// second, as '.' < 'Z').
func runIDStart(id string) (time.Time, time.Duration, bool) {
	head, _, _ := strings.Cut(id, "-")
	if t, err := time.Parse(runIDTime, head); err == nil {
		return t, time.Microsecond, true
	}
	if t, err := time.Parse(legacyRunIDTime, head); err == nil {
		return t, time.Second, true
	}
	return time.Time{}, 0, false
}

// validateRunID keeps a run ID usable as a file name.
func validateRunID(id string) error {
	if id == "" || strings.ContainsAny(id, `/\`) || strings.HasPrefix(id, ".") {
		return fmt.Errorf("run ID %q is empty, starts with '.' or contains a path separator", id)
	}
	return nil
}
