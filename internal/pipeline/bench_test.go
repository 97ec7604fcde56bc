package pipeline_test

import (
	"bytes"
	"context"
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

func benchmarkImport(b *testing.B, wh func(*testing.B, archive.Layout) load.Warehouse) {
	dir := b.TempDir()
	var nd bytes.Buffer
	from := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	n, err := synth.New(3, synth.WithVolume(2500, 2500)).WriteNDJSON(&nd, from, from.AddDate(0, 0, 7))
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "export.ndjson")
	if err := os.WriteFile(path, nd.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	pol, err := pii.New(pii.WithKey([]byte("bench-pii-key-0123456789")))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(nd.Len()))
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
