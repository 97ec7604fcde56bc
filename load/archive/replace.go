package archive

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// TempPath is a new temporary name for a file that will replace path: in
// path's own directory (so that the rename is atomic), starting with the
// prefix that marks a file still being written, so that Verify and
// readers skip it. Nothing is created.
func TempPath(path string) string {
	dir, name := filepath.Split(path)
	var r [4]byte
	_, _ = rand.Read(r[:])
	return filepath.Join(dir, tempPrefix+name+"-"+hex.EncodeToString(r[:]))
}

// TempsOf lists the temporary files that TempPath(path) made and nobody
// removed (a process killed while writing one).
func TempsOf(path string) ([]string, error) {
	dir, name := filepath.Split(path)
	pattern := filepath.Join(dir, globEscape(tempPrefix+name)+"-*")
	found, err := filepath.Glob(pattern)
	if err != nil {
		return nil, fmt.Errorf("listing temporary files of %s: %w", path, err)
	}
	return found, nil
}

// globEscape quotes the characters that filepath.Match treats specially.
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`).Replace(s)
}

// ReplaceFile makes the complete file tmp durable and renames it over
// path, then syncs the directory: a reader of path sees the old file or
// the new one, never a part of either, and after a crash path is one of
// them. On error tmp is removed.
func ReplaceFile(tmp, path string) error {
	if err := syncPath(tmp); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("replacing %s: syncing %s: %w", path, tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	if err := syncPath(filepath.Dir(path)); err != nil {
		return fmt.Errorf("replacing %s: syncing its directory: %w", path, err)
	}
	return nil
}
