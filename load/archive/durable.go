package archive

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// A SyncGroup makes many committed files durable together. A file written
// with WithSyncGroup is renamed into place at Close without an fsync of its
// own (its writeback only starts); Sync then makes every such file, and its
// rename, durable at once, with one syncfs(2) of the archive's filesystem
// where the system has it, else an fsync of each file and directory.
//
// An fsync per file and per directory (1,064 of them, 1.12 s waited, for
// an import of 480 files) cost that import 5–9% of its time, and a 1M
// import 19% (docs/benchmarks.md). The order of commits is kept: a caller
// calls Sync before anything durable names the files (a manifest, a
// warehouse load), so after a crash a manifest never names a file that is
// not on disk; files committed since the last Sync may be lost, as a file
// not yet committed is.
type SyncGroup struct {
	dir *os.File // opened first, so that syncfs reports writeback errors since then

	mu      sync.Mutex
	pending []string // files committed since the last Sync
}

// NewSyncGroup starts a group for files under dir, which it creates.
func NewSyncGroup(dir string) (*SyncGroup, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("opening %s to sync it: %w", dir, err)
	}
	return &SyncGroup{dir: d}, nil
}

// committed records a file renamed into place and not yet durable.
func (g *SyncGroup) committed(path string) {
	g.mu.Lock()
	g.pending = append(g.pending, path)
	g.mu.Unlock()
}

// Sync makes every file committed in the group so far durable, renames
// included. It is cheap when nothing was committed since the last Sync.
func (g *SyncGroup) Sync() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.pending) == 0 {
		return nil
	}
	err := syncFS(g.dir)
	if errors.Is(err, errors.ErrUnsupported) {
		err = syncEach(g.pending)
	}
	if err != nil {
		return fmt.Errorf("syncing %d files under %s: %w", len(g.pending), g.dir.Name(), err)
	}
	g.pending = g.pending[:0]
	return nil
}

// Close releases the group; files committed since the last Sync are left
// to the system's own writeback.
func (g *SyncGroup) Close() error { return g.dir.Close() }

// syncEach fsyncs each file and, once each, their directories: the
// portable way, where the system has no syncfs.
func syncEach(paths []string) error {
	dirs := map[string]bool{}
	for _, p := range paths {
		if err := syncPath(p); err != nil {
			return err
		}
		dirs[filepath.Dir(p)] = true
	}
	for d := range dirs {
		if err := syncPath(d); err != nil {
			return err
		}
	}
	return nil
}

func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
