package pipeline_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/kycetl/kycetl/internal/pipeline"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/load/duckdb"
	"github.com/kycetl/kycetl/transform/pii"
	"github.com/kycetl/kycetl/transform/schema"
)

// TestHashedPIINeverStored imports the fully populated fixtures with the
// default policy and searches every Parquet file (decoded, row by row), every
// warehouse table, the DuckDB file and the debug log for the raw value of
// every hashed path of both field sets, and for the same values where a
// vendor might move them: under unknown keys (extra), inside JSON columns and
// as OCR_raw items. The raw archive keeps the exact API items by design (it
// is what rebuild reads) and is not searched.
func TestHashedPIINeverStored(t *testing.T) {
	var export bytes.Buffer
	raw := map[string]string{} // path → raw value, from the fixtures
	for _, f := range []string{"submission_id_document.json", "submission_knowledge_based.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		for _, p := range hashedPaths(t) {
			if v, ok := lookup(doc, p).(string); ok && v != "" {
				raw[p] = v
			}
		}
		if err := json.Compact(&export, b); err != nil {
			t.Fatal(err)
		}
		export.WriteByte('\n')
	}
	// Every hashed path the fixtures leave empty (a US licence has no CURP)
	// is filled in one more item, so that each is searched for.
	filled := map[string]any{"submission_id": "filled-pii", "created_at": "2025-03-14T09:00:00Z"}
	for i, p := range hashedPaths(t) {
		if raw[p] == "" {
			raw[p] = fmt.Sprintf("FILLED-PII-%03d", i)
			set(filled, p, raw[p])
		}
	}
	b, err := json.Marshal(filled)
	if err != nil {
		t.Fatal(err)
	}
	export.Write(append(b, '\n'))
	// The same kind of values where no column expects them; their keys are
	// apart from the paths above.
	moved := map[string]string{"moved to extra: identityNumber": "MOVED-ID-771", "moved into an object: account_number": "MOVED-ACCT-772",
		"moved into a JSON column: documentNumber": "MOVED-DOC-773", "moved to an OCR item: curpNumber": "MOVED-CURP-774",
		"moved deep into extra: ssnNumber": "MOVED-SSN-775", "moved to extra: serialNumber": "MOVED-SER-776"}
	fmt.Fprintf(&export, `{"submission_id":"moved-pii","created_at":"2025-03-14T10:00:00Z","data":{"identityNumber2":1},"serialNumber":%q,`+
		`"legacy":{"identityNumber":%q,"deep":[{"ssnNumber":%q}]},"bank_verification":{"account_number":{"v":%q}},`+
		`"Injection_action":[{"type":"t","option":{"ipRisk":{"documentNumber":%q}}}],"OCR_raw":{"curpNumber":{"value":%q}}}`+"\n",
		moved["moved to extra: serialNumber"], moved["moved to extra: identityNumber"], moved["moved deep into extra: ssnNumber"],
		moved["moved into an object: account_number"], moved["moved into a JSON column: documentNumber"], moved["moved to an OCR item: curpNumber"])
	for k, v := range moved {
		raw[k] = v
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "fixtures.ndjson")
	if err := os.WriteFile(in, export.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

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
	search := map[string][]byte{"log": logs.Bytes()}
	// Every table as the warehouse shows it, and every Parquet file decoded:
	// the files are compressed, so their bytes alone would hide a raw value.
	for _, tb := range schema.Partitioned() {
		search["table "+tb.Name] = tableText(t, wh.DB(), "SELECT * FROM "+tb.Name)
	}
	parquetFiles := 0
	filepath.WalkDir(l.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(path, string(filepath.Separator)+"raw"+string(filepath.Separator)) {
			return err
		}
		if strings.HasSuffix(path, ".parquet") {
			parquetFiles++
			search[path] = tableText(t, wh.DB(), "SELECT * FROM read_parquet('"+path+"')")
		}
		return nil
	})
	if err := wh.Close(); err != nil { // flush the WAL into the file
		t.Fatal(err)
	}
	duck, err := os.ReadFile(l.DuckDBPath())
	if err != nil {
		t.Fatal(err)
	}
	search[l.DuckDBPath()] = duck
	if logs.Len() == 0 {
		t.Fatal("no log captured: the log check would prove nothing")
	}
	for where, b := range search {
		for what, v := range raw {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("the raw %s %q is in %s", what, v, where)
			}
		}
	}
	if parquetFiles < len(schema.Partitioned()) {
		t.Errorf("searched %d Parquet files, want one per table and day", parquetFiles)
	}
	// The moved values were hashed, not dropped: each is in extra or a JSON
	// column as an "hmac:" value.
	if got := tableText(t, openAgain(t, l), "SELECT extra FROM submissions WHERE submission_id = 'moved-pii'"); bytes.Count(got, []byte(`hmac:`)) < 4 {
		t.Errorf("moved-pii extra = %s, want the moved values as hmac: hashes", got)
	}
}

// hashedPaths lists every path the default policy must hash: government
// ID, document, licence, CURP, serial, SSN and bank-account numbers and
// phone numbers, wherever the reference puts them.
// Written out, not read from the schema, so that a column losing its hash
// fails the test.
func hashedPaths(t *testing.T) []string {
	t.Helper()
	out := []string{"data.identityNumber", "data.documentNumber", "data.ssnNumber", "data.phoneNumber",
		"ocr.number", "ocr.identityNumber", "ocr.licenseNumber", "ocr.curpNumber", "ocr.serialNumber",
		"review.documentNumber", "review.licenseNumber", "review.identityNumber", "review.curpNumber",
		"bank_verification.account_number"}
	for _, item := range []string{"number", "identityNumber", "licenseNumber", "curpNumber", "serialNumber", "documentNumber"} {
		out = append(out, "OCR_raw."+item+".value")
	}
	return out
}

// set puts v at a dotted path, making the objects on the way.
func set(m map[string]any, path string, v any) {
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = v
}

// lookup follows a dotted path through nested objects.
func lookup(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// tableText renders every row of a query as JSON lines.
func tableText(t *testing.T, db *sql.DB, query string) []byte {
	t.Helper()
	rows, err := db.Query("SELECT to_json(q)::VARCHAR FROM (" + query + ") q")
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var b bytes.Buffer
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		b.WriteString(s)
		b.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func openAgain(t *testing.T, l archive.Layout) *sql.DB {
	t.Helper()
	wh, err := duckdb.Open(context.Background(), l.DuckDBPath())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	return wh.DB()
}
