package transform

import (
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/kycetl/kycetl/extract/argos/synth"
	"github.com/kycetl/kycetl/transform/schema"
)

type discardSink struct{}

func (discardSink) Write(*schema.Table, arrow.RecordBatch) error { return nil }

// BenchmarkFlatten measures the flattener alone on one synthetic day:
// bytes/s of input JSON, allocations per submission.
func BenchmarkFlatten(b *testing.B) {
	day := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	items := synth.New(1, synth.WithVolume(2000, 2000)).Day(day)
	var size int64
	for _, it := range items {
		size += int64(len(it))
	}
	pol := policy(b)
	sizes := NewSizes() // shared by the days of a run, as in an import
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f, err := New("acme", "run-1", day, discardSink{}, WithPolicy(pol), WithSizes(sizes))
		if err != nil {
			b.Fatal(err)
		}
		for j, it := range items {
			if err := f.Add(it, "bench", int64(j)); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(items))*float64(b.N)/b.Elapsed().Seconds(), "submissions/s")
}
