package bigquery

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	_ "github.com/duckdb/duckdb-go/v2"
	bq "google.golang.org/api/bigquery/v2"

	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/load/bigquery/bqfake"
	"github.com/kycetl/kycetl/transform"
	"github.com/kycetl/kycetl/transform/pii"
	"github.com/kycetl/kycetl/transform/schema"
)

// poisonSeeds are values that once made a Parquet file unreadable or a
// column's averages meaningless (issue 21), and the fixtures.
func poisonSeeds(f *testing.F) {
	for _, s := range []string{
		"{\"submission_id\":\"utf8\",\"created_at\":\"2025-02-01T00:00:00Z\",\"email\":\"a\xff\xfe\xc3@x\",\"x\xffkey\":\"v\xfe\",\"aml\":{\"raw_data\":{\"k\":\"\xc3\"}},\"OCR_raw\":{\"n\xffum\":{\"value\":\"\xff\"}},\"kyc\":{\"comment\":\"\xfe\"}}",
		"{\"submission_id\":\"id\xff\",\"created_at\":\"2025-02-01T00:00:00Z\",\"duplicated_users\":[\"\xfe\"]}",
		`{"submission_id":"num","created_at":"2025-02-01T00:00:00Z","recognition_score":1e400,"argos_score":"NaN","kyc":{"attempts":[{"attemptCnt":1e30,"livenessScore":"Infinity"},{"attemptCnt":"99999999999999999999"}]}}`,
		`{"submission_id":"deep","created_at":"2025-02-01T00:00:00Z","x":` + strings.Repeat("[", 400) + strings.Repeat("]", 400) + `}`,
		"not json \xff",
	} {
		f.Add([]byte(s))
	}
	for _, name := range []string{"submission_id_document.json", "submission_knowledge_based.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			f.Fatal(err)
		}
		b, _ = json.Marshal(v)
		f.Add(b)
	}
}

// FuzzNoValuePoisonsAFile: whatever an item holds, every Parquet file the
// flattener's records are written to is read back whole by DuckDB
// (SELECT *) and passes the BigQuery fake's load checks (columns, types,
// UTF-8), so no value can make a day unreadable in either warehouse.
func FuzzNoValuePoisonsAFile(f *testing.F) {
	poisonSeeds(f)
	db, err := sql.Open("duckdb", "")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	pol, err := pii.New(pii.WithKey([]byte("poison-test-key-0123456789")))
	if err != nil {
		f.Fatal(err)
	}
	schemas := map[string]*bq.TableSchema{}
	for _, t := range schema.Partitioned() {
		sc, err := Schema(t)
		if err != nil {
			f.Fatal(err)
		}
		ts := &bq.TableSchema{}
		for _, fs := range sc {
			ts.Fields = append(ts.Fields, &bq.TableFieldSchema{Name: fs.Name, Type: string(fs.Type)})
		}
		schemas[t.Name] = ts
	}
	f.Fuzz(func(t *testing.T, item []byte) {
		dir := t.TempDir()
		sink := &parquetSink{dir: dir, files: map[string]*archive.ParquetWriter{}}
		fl, err := transform.New("acme", "run-1", time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), sink, transform.WithPolicy(pol))
		if err != nil {
			t.Fatal(err)
		}
		if err := fl.Add(item, "fuzz", 0); err != nil {
			t.Fatal(err)
		}
		if _, err := fl.Close(); err != nil {
			t.Fatal(err)
		}
		for name, w := range sink.files {
			info, err := w.Close()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			path := filepath.Join(dir, name+".parquet")
			rows, err := db.QueryContext(context.Background(), "SELECT * FROM read_parquet('"+path+"')")
			if err != nil {
				t.Fatalf("%s: DuckDB cannot read the file: %v", name, err)
			}
			var n int64
			for rows.Next() {
				n++
			}
			if err := rows.Err(); err != nil {
				t.Fatalf("%s: DuckDB fails on row %d: %v", name, n, err)
			}
			rows.Close()
			if n != info.Rows {
				t.Fatalf("%s: DuckDB read %d rows of %d", name, n, info.Rows)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := bqfake.CheckParquet(b, schemas[name], name); err != nil {
				t.Fatalf("%s: a BigQuery load would fail: %v", name, err)
			}
		}
	})
}

// parquetSink writes each table's records to one Parquet file.
type parquetSink struct {
	dir   string
	files map[string]*archive.ParquetWriter
}

func (s *parquetSink) Write(t *schema.Table, rec arrow.RecordBatch) error {
	w, ok := s.files[t.Name]
	if !ok {
		var err error
		if w, err = archive.NewParquetWriter(filepath.Join(s.dir, t.Name+".parquet"), t.ArrowSchema()); err != nil {
			return err
		}
		s.files[t.Name] = w
	}
	return w.Write(rec)
}
