package pipeline_test

import (
	"bytes"
	"context"
	gosql "database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract/argos/synth"
	"github.com/kycetl/kycetl/internal/pipeline"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/load/duckdb"
	"github.com/kycetl/kycetl/transform/pii"
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
// and from a copy of it compacted to one file per table and month
// (duckdb.Warehouse.Compact, kycetl compact): what compaction buys a reader. Each iteration opens a new connection and reads every row of
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
	// The same warehouse copied, and its months compacted (kycetl compact).
	monthly := archive.Layout{Dir: filepath.Join(dir, "monthly")}
	if err := os.CopyFS(monthly.Dir, os.DirFS(l.Dir)); err != nil {
		b.Fatal(err)
	}
	cw, err := duckdb.Open(ctx, monthly.DuckDBPath())
	if err != nil {
		b.Fatal(err)
	}
	if err := cw.Prepare(ctx); err != nil { // the copy's views point at its own files
		b.Fatal(err)
	}
	done, err := cw.Compact(ctx, from.AddDate(1, 1, 0))
	if err != nil {
		b.Fatal(err)
	}
	files := 0
	for _, m := range done {
		files += m.Days
	}
	if err := cw.Close(); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d day files; compacted: %d files", files, len(done))

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
	b.Run("files=monthly", func(b *testing.B) { read(b, plain(monthly.DuckDBPath())) })
	// kycetl's own readers (stats, serve) open it through load/duckdb,
	// which re-creates the table views as temporary ones first.
	kycetl := func(path string) func() (*gosql.DB, func()) {
		return func() (*gosql.DB, func()) {
			w, err := duckdb.Open(ctx, path, duckdb.WithReadOnly())
			if err != nil {
				b.Fatal(err)
			}
			return w.DB(), func() { w.Close() }
		}
	}
	b.Run("files=daily/reader=kycetl", func(b *testing.B) { read(b, kycetl(l.DuckDBPath())) })
	b.Run("files=monthly/reader=kycetl", func(b *testing.B) { read(b, kycetl(monthly.DuckDBPath())) })
}
