package pipeline_test

import (
	"bytes"
	"context"
	gosql "database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract/argos/synth"
	"github.com/kycetl/kycetl/internal/pipeline"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/load/duckdb"
	kycsql "github.com/kycetl/kycetl/sql"
	"github.com/kycetl/kycetl/transform/pii"
	"github.com/kycetl/kycetl/transform/schema"
)

// noWarehouse accepts every partition without loading it, to measure the
// archive and Parquet path alone.
type noWarehouse struct{}

var _ load.Warehouse = noWarehouse{}

func (noWarehouse) Prepare(context.Context) error                        { return nil }
func (noWarehouse) Replace(context.Context, []load.PartitionFiles) error { return nil }
func (noWarehouse) RecordRuns(context.Context, *archive.Manifest, []archive.DayRecord) error {
	return nil
}
func (noWarehouse) Close() error { return nil }

// BenchmarkImportArchive imports an NDJSON export into the raw archive and
// zstd Parquet, every table, without a warehouse: MB/s of input JSON.
func BenchmarkImportArchive(b *testing.B) {
	benchmarkImport(b, func(b *testing.B, l archive.Layout) load.Warehouse { return noWarehouse{} })
}

// benchExport writes a synthetic NDJSON export of the days [from, to) under
// dir: its path, size and submissions.
func benchExport(b *testing.B, dir string, gen *synth.Generator, from, to time.Time) (string, int64, int) {
	b.Helper()
	var nd bytes.Buffer
	n, err := gen.WriteNDJSON(&nd, from, to)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "export.ndjson")
	if err := os.WriteFile(path, nd.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	return path, int64(nd.Len()), n
}

// benchPolicy is the PII policy of the benchmarks: hashing with a fixed key.
func benchPolicy(b *testing.B) *pii.Policy {
	b.Helper()
	pol, err := pii.New(pii.WithKey([]byte("bench-pii-key-0123456789")))
	if err != nil {
		b.Fatal(err)
	}
	return pol
}

func benchmarkImport(b *testing.B, wh func(*testing.B, archive.Layout) load.Warehouse) {
	dir := b.TempDir()
	from := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	path, size, n := benchExport(b, dir, synth.New(3, synth.WithVolume(2500, 2500)), from, from.AddDate(0, 0, 7))
	pol := benchPolicy(b)
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l := archive.Layout{Dir: filepath.Join(dir, "run", string(rune('a'+i%26)), time.Now().Format("150405.000000000"))}
		w := wh(b, l)
		pl, err := pipeline.New(l, w, pipeline.WithPolicy(pol))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := pl.Import(context.Background(), "bench", []string{path}); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "submissions/s")
}

// BenchmarkImportDuckDB is the whole import into the embedded warehouse:
// archive, Parquet, and DuckDB's views switched to the new files.
func BenchmarkImportDuckDB(b *testing.B) {
	benchmarkImport(b, func(b *testing.B, l archive.Layout) load.Warehouse {
		w, err := duckdb.Open(context.Background(), l.DuckDBPath())
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Prepare(context.Background()); err != nil {
			b.Fatal(err)
		}
		return w
	})
}

// BenchmarkStatsDailyYear reads stats_daily over a year of one project
// (366 days, every partitioned table: about 5,800 Parquet files of a few
// KB) from the warehouse as kycetl loads it, one file per table and day,
// and from the same rows compacted to one file per table and month
// (DuckDB's COPY ... PARTITION_BY, zstd): what a compaction step would buy
// a reader. Each iteration opens a new connection and reads every row of
// the view, as a BI tool's new session would.
func BenchmarkStatsDailyYear(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	export, _, _ := benchExport(b, dir, synth.New(5, synth.WithVolume(120, 130)), from, from.AddDate(1, 0, 1))
	pol := benchPolicy(b)
	l := archive.Layout{Dir: filepath.Join(dir, "wh")}
	w, err := duckdb.Open(ctx, l.DuckDBPath())
	if err != nil {
		b.Fatal(err)
	}
	if err := w.Prepare(ctx); err != nil {
		b.Fatal(err)
	}
	pl, err := pipeline.New(l, w, pipeline.WithPolicy(pol))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := pl.Import(ctx, "bench", []string{export}); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	daily, err := duckdb.Open(ctx, l.DuckDBPath(), duckdb.WithReadOnly(), duckdb.WithMemoryLimit("4GB"))
	if err != nil {
		b.Fatal(err)
	}
	files, err := daily.ReadsFiles(ctx)
	if err != nil {
		b.Fatal(err)
	}
	compacted := filepath.Join(dir, "compacted")
	if err := os.Mkdir(compacted, 0o755); err != nil {
		b.Fatal(err)
	}
	var defs []string
	for _, t := range schema.All() {
		out := filepath.Join(compacted, t.Name)
		var n int64
		if err := daily.DB().QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM %q", t.Name)).Scan(&n); err != nil {
			b.Fatal(err)
		}
		if n == 0 || t.Unpartitioned { // one file (PARTITION_BY writes none for no rows)
			if _, err := daily.DB().ExecContext(ctx, fmt.Sprintf(`COPY (SELECT * FROM %q) TO '%s.parquet' (FORMAT parquet)`, t.Name, out)); err != nil {
				b.Fatalf("compacting %s: %v", t.Name, err)
			}
			defs = append(defs, fmt.Sprintf(`CREATE VIEW %q AS SELECT * FROM read_parquet('%s.parquet')`, t.Name, out))
			continue
		}
		if _, err := daily.DB().ExecContext(ctx, fmt.Sprintf(`COPY (SELECT *, strftime(%q, '%%Y-%%m') AS month FROM %q)
			TO '%s' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (month))`, t.DayColumn().Name, t.Name, out)); err != nil {
			b.Fatalf("compacting %s: %v", t.Name, err)
		}
		defs = append(defs, fmt.Sprintf(`CREATE VIEW %q AS SELECT * EXCLUDE (month) FROM read_parquet('%s/*/*.parquet', hive_partitioning = true)`, t.Name, out))
	}
	if err := daily.Close(); err != nil {
		b.Fatal(err)
	}
	for _, v := range kycsql.Views() {
		text, err := kycsql.Render(v, func(name string) string { return fmt.Sprintf("%q", name) })
		if err != nil {
			b.Fatal(err)
		}
		defs = append(defs, fmt.Sprintf("CREATE VIEW %q AS\n%s", v.Name, text))
	}
	monthly := filepath.Join(dir, "monthly.duckdb")
	db, err := gosql.Open("duckdb", monthly)
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range defs {
		if _, err := db.ExecContext(ctx, d); err != nil {
			b.Fatalf("%v\n%s", err, d)
		}
	}
	db.Close()
	b.Logf("%d daily files; compacted: one per table and month", len(files))

	read := func(b *testing.B, open func() (*gosql.DB, func())) {
		var rows int
		for i := 0; i < b.N; i++ {
			db, done := open()
			r, err := db.QueryContext(ctx, "SELECT * FROM stats_daily")
			if err != nil {
				b.Fatal(err)
			}
			rows = 0
			for r.Next() {
				rows++
			}
			if err := r.Err(); err != nil {
				b.Fatal(err)
			}
			r.Close()
			done()
		}
		b.ReportMetric(float64(rows), "rows")
	}
	plain := func(path string) func() (*gosql.DB, func()) {
		return func() (*gosql.DB, func()) {
			db, err := gosql.Open("duckdb", path+"?access_mode=read_only")
			if err != nil {
				b.Fatal(err)
			}
			return db, func() { db.Close() }
		}
	}
	// A BI tool opens the published file and reads its views.
	b.Run("files=daily", func(b *testing.B) { read(b, plain(l.DuckDBPath())) })
	b.Run("files=monthly", func(b *testing.B) { read(b, plain(monthly)) })
	// kycetl's own readers (stats, serve) open it through load/duckdb,
	// which re-creates the table views as temporary ones first.
	b.Run("files=daily/reader=kycetl", func(b *testing.B) {
		read(b, func() (*gosql.DB, func()) {
			w, err := duckdb.Open(ctx, l.DuckDBPath(), duckdb.WithReadOnly())
			if err != nil {
				b.Fatal(err)
			}
			return w.DB(), func() { w.Close() }
		})
	})
}
