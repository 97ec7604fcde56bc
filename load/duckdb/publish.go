package duckdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kycetl/kycetl/load/archive"
)

// A writable warehouse never opens the file that readers open. kycetl's own
// state (partition_files, load_runs, credit_rates and the views) lives in
// the state file, StatePath, which only a writing kycetl opens; after each
// change the whole catalog is copied into a new file beside the published
// one and renamed over it. A reader (a BI tool, `kycetl stats`, the web
// page) holding the published file keeps its snapshot until it reopens and
// never makes a load wait or fail, and the load never makes it wait: the
// tables it reads are views over Parquet files that are never rewritten,
// and the small tables are copied. DuckDB allows one writing process per
// file; the state file has that one writer, the published file none.

// StateDir is the directory, beside the published DuckDB file, of the
// state file.
const StateDir = "state"

// StatePath is the state file of the warehouse published at path: the
// DuckDB file a writing kycetl opens, which no reader should.
func StatePath(path string) string {
	dir, name := filepath.Split(path)
	return filepath.Join(dir, StateDir, name)
}

// adoptPublished makes a copy of the published file the state file when
// there is no state file yet: a warehouse an earlier kycetl wrote in place
// keeps its ledger, rate card and partition list. The copy is made under a
// temporary name and renamed into place.
func adoptPublished(published, state string) error {
	if _, err := os.Stat(state); err == nil || !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(state), 0o755); err != nil {
		return fmt.Errorf("creating the state directory: %w", err)
	}
	if _, err := os.Stat(published); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if _, err := os.Stat(published + ".wal"); err == nil {
		return fmt.Errorf("adopting %s as the state file: it has a write-ahead log (%s.wal) an earlier writer left; open it once with that kycetl or the duckdb CLI to fold it in", published, published)
	}
	tmp := archive.TempPath(state)
	if err := copyFile(published, tmp); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("adopting %s as the state file: %w", published, err)
	}
	if err := archive.ReplaceFile(tmp, state); err != nil {
		return fmt.Errorf("adopting %s as the state file: %w", published, err)
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// removeStaleTemps removes the temporary catalogs a killed publish left
// beside the published file (and their write-ahead logs). Only the single
// writer of the state file calls it, so none of them is being written.
func removeStaleTemps(published string) error {
	stale, err := archive.TempsOf(published)
	if err != nil {
		return err
	}
	for _, f := range stale {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing the unfinished catalog %s: %w", f, err)
		}
	}
	return nil
}

// Publish makes changes written through DB() visible to readers of the
// published file; kycetl's own writes publish themselves.
func (w *Warehouse) Publish(ctx context.Context) error { return w.publish(ctx) }

// HoldPublishing defers publishing until the returned release, which
// publishes once if anything changed meanwhile (load.Publisher). Holds
// nest; the last release publishes.
func (w *Warehouse) HoldPublishing() func(context.Context) error {
	w.mu.Lock()
	w.holds++
	w.mu.Unlock()
	var once sync.Once
	return func(ctx context.Context) error {
		var err error
		once.Do(func() {
			w.mu.Lock()
			w.holds--
			due := w.holds == 0 && w.unpublished
			if due {
				w.unpublished = false
			}
			w.mu.Unlock()
			if due {
				err = w.publish(ctx)
			}
		})
		return err
	}
}

// publish copies the state file, checkpointed (its write-ahead log folded
// in), to a new file beside the published one, makes it durable and
// renames it over the published file. Transactions hold pubMu, so that the
// file is copied between them, whole.
func (w *Warehouse) publish(ctx context.Context) error {
	if w.published == "" {
		return nil
	}
	w.mu.Lock()
	held := w.holds > 0
	w.unpublished = w.unpublished || held
	w.mu.Unlock()
	if held {
		return nil
	}
	w.pubMu.Lock()
	defer w.pubMu.Unlock()
	tmp := archive.TempPath(w.published)
	start := time.Now()
	err := func() error {
		if _, err := w.db.ExecContext(ctx, "CHECKPOINT"); err != nil {
			return fmt.Errorf("checkpointing the state file: %w", err)
		}
		if err := copyFile(w.state, tmp); err != nil {
			return fmt.Errorf("copying the state file: %w", err)
		}
		return archive.ReplaceFile(tmp, w.published)
	}()
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("publishing the DuckDB catalog %s: %w", w.published, err)
	}
	w.log.Debug().Dur("took", time.Since(start)).Msg("published the catalog")
	return nil
}
