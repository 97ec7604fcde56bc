package argos_test

import (
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/argos/synth"
)

// BenchmarkKey reads the identity of one synthetic day's submissions: by a
// full parse (ReadKey, what the split did before), and by ScanKey.
func BenchmarkKey(b *testing.B) {
	items := synth.New(1, synth.WithVolume(2000, 2000)).Day(time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC))
	var size int64
	for _, it := range items {
		size += int64(len(it))
	}
	for _, c := range []struct {
		name string
		read func(*fastjson.Parser, []byte) (argos.Key, error)
	}{{"ReadKey", argos.ReadKey}, {"ScanKey", argos.ScanKey}} {
		b.Run(c.name, func(b *testing.B) {
			var p fastjson.Parser
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				for _, it := range items {
					if _, err := c.read(&p, it); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
