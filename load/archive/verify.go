package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/kycetl/kycetl/transform/schema"
)

// ProblemKind classifies what is wrong with a file.
type ProblemKind string

// The kinds of problem Verify reports.
const (
	ProblemMissing  ProblemKind = "missing"        // listed in a manifest, absent on disk
	ProblemCorrupt  ProblemKind = "corrupt"        // size or SHA-256 differ, or unreadable
	ProblemRows     ProblemKind = "rows mismatch"  // row count differs from the manifest
	ProblemSchema   ProblemKind = "schema version" // schema version unknown or differs
	ProblemManifest ProblemKind = "manifest"       // the manifest itself is inconsistent
)

// Problem is one finding of Verify.
type Problem struct {
	RunID  string      `json:"run_id"`
	Path   string      `json:"path"` // relative to the archive root
	Kind   ProblemKind `json:"kind"`
	Detail string      `json:"detail"`
}

func (p Problem) String() string {
	return fmt.Sprintf("%s: %s (run %s): %s", p.Kind, p.Path, p.RunID, p.Detail)
}

// Report is the outcome of Verify.
type Report struct {
	Manifests int       `json:"manifests"`
	Files     int       `json:"files"` // files checked
	Bytes     int64     `json:"bytes"` // bytes read
	Problems  []Problem `json:"problems"`
	// Unlisted are files under raw/ and parquet/ that no manifest lists:
	// the output of a day that was cut short, or temporary files of a
	// crash. They are not problems: no partition points at them.
	Unlisted []string `json:"unlisted"`
	// Prunes are the archive's prune records, oldest first: every file
	// they list was deleted on purpose (superseded versions past the
	// retention limit), and a manifest naming one reports it pruned, not
	// missing.
	Prunes []*PruneRecord `json:"prunes"`
	// PrunedListed counts the files that a manifest still lists and a
	// prune deleted.
	PrunedListed int `json:"pruned_listed"`
}

// OK reports whether every listed file is present and intact.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// String is the report as kycetl verify prints it: one line per problem,
// the files no manifest lists, and a closing summary line.
func (r *Report) String() string {
	var b strings.Builder
	for _, p := range r.Problems {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	for _, u := range r.Unlisted {
		fmt.Fprintf(&b, "unlisted (no manifest points at it; left by a day cut short): %s\n", u)
	}
	for _, p := range r.Prunes {
		fmt.Fprintf(&b, "pruned by %s (record pruned/%s.json)\n", p, p.PruneID)
	}
	verdict := "OK"
	if !r.OK() {
		verdict = fmt.Sprintf("%d PROBLEMS", len(r.Problems))
	}
	prunedNote := ""
	if n := r.PrunedListed; n > 0 {
		prunedNote = fmt.Sprintf(", %d listed files pruned", n)
	}
	fmt.Fprintf(&b, "verified %d files (%.1f MB) of %d manifests%s: %s\n", r.Files, float64(r.Bytes)/1e6, r.Manifests, prunedNote, verdict)
	return b.String()
}

// Verify re-checks every file of every manifest of the archive: present,
// same size, same SHA-256, same row count (from the Parquet footer, or by
// counting the raw file's items), and written with the manifest's schema
// version.
func Verify(ctx context.Context, l Layout) (*Report, error) {
	ms, err := l.ReadManifests()
	if err != nil {
		return nil, fmt.Errorf("verifying archive %s: %w", l.Dir, err)
	}
	prunes, err := l.ReadPruneRecords()
	if err != nil {
		return nil, fmt.Errorf("verifying archive %s: %w", l.Dir, err)
	}
	pruned := map[string]PrunedFile{}
	for _, p := range prunes {
		for _, f := range p.Files {
			pruned[f.Path] = f
		}
	}
	r := &Report{Manifests: len(ms), Prunes: prunes}
	listed := make(map[string]bool)
	for _, m := range ms {
		if m.SchemaVersion < 1 || m.SchemaVersion > schema.Version {
			r.Problems = append(r.Problems, Problem{RunID: m.RunID, Path: relManifest(m.RunID), Kind: ProblemSchema,
				Detail: fmt.Sprintf("schema version %d is not between 1 and %d, the newest this kycetl knows", m.SchemaVersion, schema.Version)})
		}
		for _, d := range m.Days {
			for _, fe := range d.Files {
				if err := ctx.Err(); err != nil {
					return nil, fmt.Errorf("verifying archive %s: %w", l.Dir, err)
				}
				listed[fe.Path] = true
				if pf, ok := pruned[fe.Path]; ok && pf.SHA256 == fe.SHA256 && pf.Bytes == fe.Bytes && l.absent(fe.Path) {
					r.PrunedListed++ // deleted by a prune, as its record says
					continue
				}
				r.Files++
				if p, ok := l.verifyFile(m, fe, &r.Bytes); !ok {
					r.Problems = append(r.Problems, p)
				}
			}
		}
	}
	unlisted, err := l.unlisted(listed)
	if err != nil {
		return nil, fmt.Errorf("verifying archive %s: %w", l.Dir, err)
	}
	r.Unlisted = unlisted
	return r, nil
}

func relManifest(runID string) string { return "manifests/" + runID + ".json" }

// absent reports whether the file at rel does not exist.
func (l Layout) absent(rel string) bool {
	path, err := l.Abs(rel)
	if err != nil {
		return false
	}
	_, err = os.Lstat(path)
	return errors.Is(err, fs.ErrNotExist)
}

// verifyFile checks one file, returning the first problem found.
func (l Layout) verifyFile(m *Manifest, fe FileEntry, read *int64) (Problem, bool) {
	problem := func(k ProblemKind, format string, args ...any) (Problem, bool) {
		return Problem{RunID: m.RunID, Path: fe.Path, Kind: k, Detail: fmt.Sprintf(format, args...)}, false
	}
	path, err := l.Abs(fe.Path)
	if err != nil {
		return problem(ProblemManifest, "%v", err)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return problem(ProblemMissing, "file is absent")
	}
	if err != nil {
		return problem(ProblemCorrupt, "opening: %v", err)
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	f.Close()
	*read += n
	if err != nil {
		return problem(ProblemCorrupt, "reading: %v", err)
	}
	if n != fe.Bytes {
		return problem(ProblemCorrupt, "size is %d bytes, manifest says %d", n, fe.Bytes)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != fe.SHA256 {
		return problem(ProblemCorrupt, "SHA-256 is %s, manifest says %s", sum, fe.SHA256)
	}
	switch {
	case strings.HasSuffix(path, rawExt):
		var rows int64
		err := ReadRaw(path, func(int, []byte) error { rows++; return nil })
		if errors.Is(err, ErrNoIdentity) {
			break // encrypted: its stored bytes' sha256 and size are what can be checked without the key
		}
		if err != nil {
			return problem(ProblemCorrupt, "%v", err)
		}
		if rows != fe.Rows {
			return problem(ProblemRows, "file holds %d items, manifest says %d", rows, fe.Rows)
		}
	case strings.HasSuffix(path, parquetExt):
		footer, err := ReadParquetFooter(path)
		if err != nil {
			return problem(ProblemCorrupt, "%v", err)
		}
		if footer.Rows != fe.Rows {
			return problem(ProblemRows, "file holds %d rows, manifest says %d", footer.Rows, fe.Rows)
		}
		if v := strconv.Itoa(m.SchemaVersion); footer.SchemaVersion != v {
			return problem(ProblemSchema, "file was written with schema version %q, manifest says %s", footer.SchemaVersion, v)
		}
	default:
		return problem(ProblemManifest, "unknown kind of file (want %s or %s)", rawExt, parquetExt)
	}
	return Problem{}, true
}

// unlisted walks raw/ and parquet/ for files that are not in listed.
func (l Layout) unlisted(listed map[string]bool) ([]string, error) {
	var out []string
	for _, top := range []string{"raw", "parquet"} {
		root := filepath.Join(l.Dir, top)
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) && path == root {
				return fs.SkipDir
			}
			if err != nil || d.IsDir() {
				return err
			}
			rel, err := l.Rel(path)
			if err != nil {
				return err
			}
			if !listed[rel] {
				out = append(out, rel)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", root, err)
		}
	}
	sort.Strings(out)
	return out, nil
}
