package archive

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestSyncGroupHoldsItsFilesUntilSync(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "archive") // created by the group
	g, err := NewSyncGroup(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()

	rawPath := filepath.Join(dir, "raw", "d.ndjson.zst")
	rw, err := NewRawWriter(rawPath, WithSyncGroup(g))
	if err != nil {
		t.Fatal(err)
	}
	if err := rw.Write([]byte(`{"submission_id":"a"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := rw.Close(); err != nil {
		t.Fatal(err)
	}
	pqPath := filepath.Join(dir, "parquet", "t.parquet")
	pw, err := NewParquetWriter(pqPath, arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.BinaryTypes.String}}, nil), WithSyncGroup(g))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	// A file outside the group is made durable by its own commit.
	if _, err := WriteFileAtomic(filepath.Join(dir, "own.json"), []byte("{}")); err != nil {
		t.Fatal(err)
	}

	assertOnly(t, filepath.Join(dir, "raw"), "d.ndjson.zst")
	assertOnly(t, filepath.Join(dir, "parquet"), "t.parquet")
	if want := []string{rawPath, pqPath}; !slices.Equal(g.pending, want) {
		t.Fatalf("pending %v, want %v", g.pending, want)
	}
	if err := syncEach(g.pending); err != nil { // the path of systems without syncfs
		t.Fatalf("syncEach: %v", err)
	}
	if err := g.Sync(); err != nil {
		t.Fatal(err)
	}
	if len(g.pending) != 0 {
		t.Fatalf("pending after Sync: %v", g.pending)
	}
	if err := g.Sync(); err != nil { // nothing new: no sync at all
		t.Fatal(err)
	}
}

func TestSyncGroupReportsAFailedSync(t *testing.T) {
	dir := t.TempDir()
	g, err := NewSyncGroup(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewRawWriter(filepath.Join(dir, "d.ndjson.zst"), WithSyncGroup(g))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil { // the sync below has no directory left
		t.Fatal(err)
	}
	err = g.Sync()
	if err == nil || !strings.Contains(err.Error(), "syncing 1 files under "+dir) {
		t.Fatalf("Sync on a closed group: %v, want an error naming the files and the directory", err)
	}
	if len(g.pending) != 1 {
		t.Fatalf("a failed Sync forgot its files: pending %v", g.pending)
	}
	if err := syncEach([]string{filepath.Join(dir, "absent")}); !os.IsNotExist(err) {
		t.Fatalf("syncEach of a missing file: %v, want not-exist", err)
	}
}
