package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/kycetl/kycetl/archive"
	"github.com/kycetl/kycetl/load/duckdb"
	"github.com/kycetl/kycetl/pii"
	"github.com/kycetl/kycetl/pipeline"
)

// TestHashedPIINeverStored imports the fully populated fixtures with the
// default policy and searches the bytes of every Parquet file, the DuckDB
// file and the debug log for the raw values of the hashed columns. The raw
// archive keeps the exact API items by design (it is what rebuild reads)
// and is not searched.
func TestHashedPIINeverStored(t *testing.T) {
	raw := map[string]string{ // hashed by default; distinctive enough to search for
		"identity number": "D123-4567-8910",
		"SSN":             "000-12-3456",
		"phone number":    "+15555550142",
		"serial number":   "07PN10",
	}
	dir := t.TempDir()
	var export bytes.Buffer
	for _, f := range []string{"submission_id_document.json", "submission_knowledge_based.json"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Compact(&export, b); err != nil {
			t.Fatal(err)
		}
		export.WriteByte('\n')
	}
	for _, v := range raw {
		if !bytes.Contains(export.Bytes(), []byte(v)) {
			t.Fatalf("fixture lacks %q: the test would prove nothing", v)
		}
	}
	in := filepath.Join(dir, "fixtures.ndjson")
	os.WriteFile(in, export.Bytes(), 0o644)

	ctx := context.Background()
	l := archive.Layout{Dir: filepath.Join(dir, "wh")}
	wh, err := duckdb.Open(ctx, l.DuckDBPath())
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	pol, err := pii.New(pii.WithKey([]byte("pii-test-key-0123456789")))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	pl, err := pipeline.New(l, wh, pipeline.WithPolicy(pol), pipeline.WithLogger(zerolog.New(&logs).Level(zerolog.DebugLevel)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pl.Import(ctx, "acme", []string{in}); err != nil {
		t.Fatal(err)
	}
	// The hashed values are there, as hashes.
	var hashed string
	if err := wh.DB().QueryRow("SELECT identity_number FROM submissions WHERE identity_number IS NOT NULL").Scan(&hashed); err != nil {
		t.Fatal(err)
	}
	if len(hashed) != 64 {
		t.Errorf("identity_number = %q, want a 64-hex HMAC", hashed)
	}
	if err := wh.Close(); err != nil { // flush the WAL into the file
		t.Fatal(err)
	}
	if logs.Len() == 0 {
		t.Fatal("no log captured: the log check would prove nothing")
	}
	search := map[string][]byte{"log": logs.Bytes()}
	filepath.WalkDir(l.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(path, string(filepath.Separator)+"raw"+string(filepath.Separator)) {
			return err
		}
		b, _ := os.ReadFile(path)
		search[path] = b
		return nil
	})
	parquetFiles := 0
	for where, b := range search {
		if strings.HasSuffix(where, ".parquet") {
			parquetFiles++
		}
		for what, v := range raw {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("the raw %s %q is in %s", what, v, where)
			}
		}
	}
	if parquetFiles < 15 {
		t.Errorf("searched %d Parquet files, want one per table and day", parquetFiles)
	}
}
