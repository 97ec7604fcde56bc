package archive

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/kycetl/kycetl/transform/schema"
)

// allTypes has one column of every schema column type.
var allTypes = arrow.NewSchema([]arrow.Field{
	{Name: "s", Type: schema.String, Nullable: true},
	{Name: "i", Type: schema.Int64, Nullable: true},
	{Name: "f", Type: schema.Float64, Nullable: true},
	{Name: "b", Type: schema.Bool, Nullable: true},
	{Name: "ts", Type: schema.Timestamp, Nullable: true},
	{Name: "d", Type: schema.Date, Nullable: true},
	{Name: "bin", Type: schema.Binary, Nullable: true},
}, nil)

// recordFromJSON builds a record from a JSON array fixture.
func recordFromJSON(t *testing.T, mem memory.Allocator, sc *arrow.Schema, js string) arrow.RecordBatch {
	t.Helper()
	rec, _, err := array.RecordFromJSON(mem, sc, strings.NewReader(js))
	if err != nil {
		t.Fatalf("building record: %v", err)
	}
	return rec
}

func writeParquet(t *testing.T, path string, sc *arrow.Schema, fixtures ...string) FileInfo {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	w, err := NewParquetWriter(path, sc)
	if err != nil {
		t.Fatal(err)
	}
	for _, js := range fixtures {
		rec := recordFromJSON(t, mem, sc, js)
		err := w.Write(rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	fi, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

func openDuckDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1) // the session time zone is per connection
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec("SET TimeZone='UTC'"); err != nil {
		t.Fatal(err)
	}
	return db
}

func queryStrings(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, v := range vals {
			if v.Valid {
				parts = append(parts, v.String)
			} else {
				parts = append(parts, "NULL")
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestParquetReadByDuckDB(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p", "t.parquet")
	fi := writeParquet(t, path, allTypes,
		`[{"s":"a","i":1,"f":1.5,"b":true,"ts":"2025-02-01T23:59:58.123456Z","d":"2025-02-01","bin":"AAE="},
		  {"s":null,"i":null,"f":null,"b":null,"ts":null,"d":null,"bin":null}]`,
		`[{"s":"é","i":-9007199254740993,"f":-0.25,"b":false,"ts":"1999-12-31T00:00:00Z","d":"1999-12-31","bin":""}]`)
	if fi.Rows != 3 {
		t.Errorf("Rows = %d, want 3", fi.Rows)
	}
	assertOnly(t, filepath.Dir(path), "t.parquet")

	db := openDuckDB(t)
	types := queryStrings(t, db, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))", path)
	want := []string{"s|VARCHAR", "i|BIGINT", "f|DOUBLE", "b|BOOLEAN", "ts|TIMESTAMP WITH TIME ZONE", "d|DATE", "bin|BLOB"}
	if strings.Join(types, ",") != strings.Join(want, ",") {
		t.Errorf("DuckDB reads the types as\n%v\nwant\n%v", types, want)
	}
	got := queryStrings(t, db, `SELECT s, i, f, b, CAST(CAST(ts AS TIMESTAMP) AS VARCHAR), CAST(d AS VARCHAR), hex(bin)
		FROM read_parquet(?) ORDER BY i NULLS LAST`, path)
	wantRows := []string{
		"é|-9007199254740993|-0.25|false|1999-12-31 00:00:00|1999-12-31|",
		"a|1|1.5|true|2025-02-01 23:59:58.123456|2025-02-01|0001",
		"NULL|NULL|NULL|NULL|NULL|NULL|NULL",
	}
	if strings.Join(got, "\n") != strings.Join(wantRows, "\n") {
		t.Errorf("DuckDB reads\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantRows, "\n"))
	}

	footer, err := ReadParquetFooter(path)
	if err != nil {
		t.Fatal(err)
	}
	if footer.Rows != 3 || footer.SchemaVersion != fmt.Sprint(schema.Version) {
		t.Errorf("footer = %+v", footer)
	}
	rowGroups := queryStrings(t, db, "SELECT count(DISTINCT row_group_id) FROM parquet_metadata(?)", path)
	if rowGroups[0] != "2" {
		t.Errorf("%s row groups, want one per record (2)", rowGroups[0])
	}
	// Every column of these records holds a few bytes: stored as they are
	// (tinyValues); TestParquetBuffered sees ZSTD.
	codecs := queryStrings(t, db, "SELECT DISTINCT compression FROM parquet_metadata(?)", path)
	if strings.Join(codecs, ",") != "UNCOMPRESSED" {
		t.Errorf("compression %v, want UNCOMPRESSED for columns of a few bytes", codecs)
	}
	logical := queryStrings(t, db, "SELECT name, logical_type FROM parquet_schema(?) WHERE name IN ('ts', 'd') ORDER BY name", path)
	if len(logical) != 2 || !strings.Contains(logical[0], "DateType") ||
		!strings.Contains(logical[1], "isAdjustedToUTC=1") || !strings.Contains(logical[1], "MICROS") {
		t.Errorf("logical types %v, want DATE and TIMESTAMP(MICROS, UTC-adjusted)", logical)
	}
}

func TestParquetEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.parquet")
	fi := writeParquet(t, path, allTypes, `[]`)
	if fi.Rows != 0 || fi.Bytes == 0 {
		t.Errorf("FileInfo %+v, want 0 rows and some bytes", fi)
	}
	db := openDuckDB(t)
	if n := queryStrings(t, db, "SELECT count(*) FROM read_parquet(?)", path); n[0] != "0" {
		t.Errorf("count = %s, want 0", n[0])
	}
	if cols := queryStrings(t, db, "SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(?))", path); len(cols) != 7 {
		t.Errorf("columns %v, want the 7 of the schema", cols)
	}
}

// TestParquetOmitEmpty: with OmitEmpty a file closed with no rows leaves
// nothing behind, not even its directory; one with rows is written as
// always, with the hash and size of its bytes on disk.
func TestParquetOmitEmpty(t *testing.T) {
	dir := t.TempDir()
	w, err := NewParquetWriter(filepath.Join(dir, "day", "empty.parquet"), allTypes, OmitEmpty())
	if err != nil {
		t.Fatal(err)
	}
	fi, err := w.Close()
	if err != nil || fi != (FileInfo{}) {
		t.Errorf("Close of an empty file = %+v, %v; want no file", fi, err)
	}
	assertOnly(t, dir)

	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	path := filepath.Join(dir, "day", "rows.parquet")
	if w, err = NewParquetWriter(path, allTypes, OmitEmpty()); err != nil {
		t.Fatal(err)
	}
	rec := recordFromJSON(t, mem, allTypes, `[{"s":"a","i":1}]`)
	defer rec.Release()
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if fi, err = w.Close(); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, filepath.Join(dir, "day"), "rows.parquet")
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if fi.Path != path || fi.Rows != 1 || fi.Bytes != int64(len(body)) || fi.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("FileInfo %+v does not describe the %d bytes written", fi, len(body))
	}
}

// TestParquetBuffered: a Parquet file collects its bytes before it is
// created; one larger than the buffer is written in several flushes and
// reads back whole, and a file that cannot be created fails at the
// flush that creates it, leaving nothing.
func TestParquetBuffered(t *testing.T) {
	dir := t.TempDir()
	var rows []string
	for i := range 20000 {
		rows = append(rows, fmt.Sprintf(`{"s":"%x-%d","i":%d}`, sha256.Sum256([]byte{byte(i), byte(i >> 8)}), i, i))
	}
	path := filepath.Join(dir, "big.parquet")
	fi := writeParquet(t, path, allTypes, "["+strings.Join(rows[:10000], ",")+"]", "["+strings.Join(rows[10000:], ",")+"]")
	if fi.Bytes < 2*flushAt {
		t.Fatalf("the file is %d bytes, want more than two flushes (%d)", fi.Bytes, 2*flushAt)
	}
	db := openDuckDB(t)
	if n := queryStrings(t, db, "SELECT count(DISTINCT s) FROM read_parquet(?)", path); n[0] != "20000" {
		t.Errorf("%s distinct rows read back, want 20000", n[0])
	}
	// Columns with values are compressed; those all null (f) are not.
	codecs := queryStrings(t, db, "SELECT DISTINCT path_in_schema, compression FROM parquet_metadata(?) WHERE path_in_schema IN ('s', 'i', 'f') ORDER BY 1", path)
	if want := "f|UNCOMPRESSED,i|ZSTD,s|ZSTD"; strings.Join(codecs, ",") != want {
		t.Errorf("compression %v, want %s", codecs, want)
	}

	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := NewParquetWriter(filepath.Join(blocker, "t.parquet"), allTypes)
	if err != nil {
		t.Fatalf("NewParquetWriter: %v; a buffered file is created at its first flush", err)
	}
	if _, err := w.Close(); err == nil || !strings.Contains(err.Error(), "t.parquet") {
		t.Errorf("Close under a file: %v, want an error naming the file", err)
	}
	assertOnly(t, dir, "big.parquet", "file")
}

func TestParquetAbortAndBadRecord(t *testing.T) {
	dir := t.TempDir()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	w, err := NewParquetWriter(filepath.Join(dir, "t.parquet"), allTypes)
	if err != nil {
		t.Fatal(err)
	}
	other := arrow.NewSchema([]arrow.Field{{Name: "x", Type: schema.Int64, Nullable: true}}, nil)
	rec := recordFromJSON(t, mem, other, `[{"x":1}]`)
	defer rec.Release()
	if err := w.Write(rec); err == nil {
		t.Error("a record of another schema was accepted")
	}
	if _, err := w.Close(); err == nil {
		t.Error("Close after a failed Write succeeded")
	}
	assertOnly(t, dir)

	w, err = NewParquetWriter(filepath.Join(dir, "t.parquet"), other)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	assertOnly(t, dir)
}

// TestTheDayIsTheTablesOwn: a table partitioned by a day column of its own
// (a snapshot's day) is filed under that column's name, and its footer
// gives its project and day, as a created_date table's does.
func TestTheDayIsTheTablesOwn(t *testing.T) {
	snapshot := schema.Column{Name: "snapshot_date", Type: schema.Date, Doc: "UTC day of the pull."}
	for _, tb := range []*schema.Table{
		{Name: "snapshots", Day: &snapshot, Columns: []schema.Column{{Name: "n", Type: schema.Int64, Doc: "n"}}},
		{Name: "created", Columns: []schema.Column{{Name: "n", Type: schema.Int64, Doc: "n"}}},
	} {
		day := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
		l := Layout{Dir: t.TempDir()}
		path := l.ParquetPath(tb, "acme", day, "R1")
		col := tb.DayColumn().Name
		if !strings.Contains(filepath.ToSlash(path), "/"+col+"=2026-11-30/") {
			t.Errorf("%s: path %s is not under %s=", tb.Name, path, col)
		}
		writeParquet(t, path, tb.ArrowSchema(), `[{"project":"acme","`+col+`":"2026-11-30","run_id":"R1","n":1},{"project":"acme","`+col+`":"2026-11-30","run_id":"R1","n":2}]`)
		footer, err := ReadParquetFooter(path)
		if err != nil {
			t.Fatal(err)
		}
		if footer.Project != "acme" || footer.Day != "2026-11-30" || footer.Rows != 2 {
			t.Errorf("%s: footer %+v, want project acme, day 2026-11-30, 2 rows", tb.Name, footer)
		}
	}
}
