package duckdb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/internal/kyctest"
)

// snapshot describes every file and directory under dir (kyctest.Tree).
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	s, err := kyctest.Tree(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestReadOnly opens a warehouse read-only from several goroutines at once:
// each reads the views, none writes (every file and directory keeps its
// bytes and times, and no WAL, lock or temporary file appears), and a write
// is refused with ErrReadOnly. The directory is moved first: the read-only
// views follow the files to their new place, which only a writer could
// record in the file.
func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	old := filepath.Join(t.TempDir(), "old")
	w := openWarehouse(t, filepath.Join(old, "kyc.duckdb"))
	if err := w.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	rows := []map[string]any{submission("acme", "2025-02-01", "s1"), submission("acme", "2025-02-02", "s2"), submission("beta", "2025-02-02", "s3")}
	if err := w.Replace(ctx, partitionsOf(t, filepath.Join(old, "parquet"), argos.Submissions, rows)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "moved")
	if err := os.Rename(old, dir); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)

	const readers = 4
	var wg sync.WaitGroup
	errs := make([]error, readers)
	for i := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = func() error {
				ro, err := Open(ctx, filepath.Join(dir, "kyc.duckdb"), WithReadOnly())
				if err != nil {
					return err
				}
				defer ro.Close()
				var got string
				q := "SELECT string_agg(project || '|' || total || '|' || approval_rate, ' ' ORDER BY project) FROM stats_totals"
				if err := ro.DB().QueryRowContext(ctx, q).Scan(&got); err != nil {
					return err
				}
				if want := "acme|2|1.0 beta|1|1.0"; got != want {
					return fmt.Errorf("stats_totals %q, want %q", got, want)
				}
				if err := ro.Prepare(ctx); !errors.Is(err, ErrReadOnly) {
					return fmt.Errorf("Prepare on a read-only warehouse: %v, want ErrReadOnly", err)
				}
				if err := ro.Replace(ctx, nil); !errors.Is(err, ErrReadOnly) {
					return fmt.Errorf("Replace on a read-only warehouse: %v, want ErrReadOnly", err)
				}
				return nil
			}()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("reader %d: %v", i, err)
		}
	}
	if after := snapshot(t, dir); after != before {
		t.Errorf("reading changed the directory:\nbefore\n%s\nafter\n%s", before, after)
	}
}

// TestReadOnlyNeedsTheFile: a read-only warehouse is never created.
func TestReadOnlyNeedsTheFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "none")
	_, err := Open(context.Background(), filepath.Join(dir, "kyc.duckdb"), WithReadOnly())
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open read-only of a missing file: %v, want fs.ErrNotExist", err)
	}
	if _, serr := os.Stat(dir); !errors.Is(serr, fs.ErrNotExist) {
		t.Errorf("Open read-only created %s", dir)
	}
}

// TestReadOnlyUsesStoredViews: a reader of a file this kycetl prepared in
// this directory reads its stored views, creating no temporary ones; a
// file prepared with other definitions gets temporary views of this
// kycetl's.
func TestReadOnlyUsesStoredViews(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kyc.duckdb")
	w := openWarehouse(t, path)
	if err := w.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	rows := []map[string]any{submission("acme", "2025-02-01", "s1"), submission("acme", "2025-02-02", "s2")}
	if err := w.Replace(ctx, partitionsOf(t, filepath.Join(filepath.Dir(path), "parquet"), argos.Submissions, rows)); err != nil {
		t.Fatal(err)
	}
	read := func() (temporary int, total string) {
		t.Helper()
		ro, err := Open(ctx, path, WithReadOnly())
		if err != nil {
			t.Fatal(err)
		}
		defer ro.Close()
		if err := ro.DB().QueryRowContext(ctx, "SELECT count(*) FROM duckdb_views() WHERE temporary AND NOT internal").Scan(&temporary); err != nil {
			t.Fatal(err)
		}
		if err := ro.DB().QueryRowContext(ctx, "SELECT string_agg(project || '|' || total, ' ') FROM stats_totals").Scan(&total); err != nil {
			t.Fatal(err)
		}
		return temporary, total
	}
	if n, total := read(); n != 0 || total != "acme|2" {
		t.Errorf("reading a file prepared here: %d temporary views, stats_totals %q; want 0 and acme|2", n, total)
	}
	if _, err := w.DB().ExecContext(ctx, "UPDATE "+preparedTable+" SET fingerprint = 'an older kycetl'"); err != nil {
		t.Fatal(err)
	}
	if err := w.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	if n, total := read(); n == 0 || total != "acme|2" {
		t.Errorf("reading a file prepared by other definitions: %d temporary views, stats_totals %q; want some and acme|2", n, total)
	}
}
