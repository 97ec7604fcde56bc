package archive

import (
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"

	"github.com/kycetl/kycetl/internal/pool"
)

// The zstd encoders and decoders of the archive are pooled (internal/pool):
// each holds megabytes of history, too much to make again after every
// garbage collection.

// encoders makes a pool of encoders with fixed options.
func encoders(size int, opts ...zstd.EOption) *pool.Pool[*zstd.Encoder] {
	return pool.New(size, func() *zstd.Encoder {
		enc, err := zstd.NewWriter(nil, opts...)
		if err != nil {
			panic("zstd encoder options: " + err.Error()) // fixed options: a bug
		}
		return enc
	})
}

// rawEncoders compress the raw archive: one goroutine each keeps memory
// bounded when many days are written at once, and the fastest level keeps
// the archive off the import's critical path. The split's workers and
// the open day files (maxOpenDays) hold at most a dozen.
var rawEncoders = encoders(16, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest))

// rawDecoders read raw day files back, one goroutine each.
var rawDecoders = pool.New(8, func() *zstd.Decoder {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
	if err != nil {
		panic("zstd decoder options: " + err.Error()) // fixed options: a bug
	}
	return dec
})

// pageEncoders compress Parquet pages, with the options arrow-go's own zstd
// codec uses at kycetl's level (parquetLevel); only the pool differs.
var pageEncoders = encoders(8, zstd.WithZeroFrames(true), zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(parquetLevel)),
	zstd.WithEncoderConcurrency(1), zstd.WithAllLitEntropyCompression(true))

// parquetZstd is arrow-go's zstd codec with pageEncoders for kycetl's level.
type parquetZstd struct{ compress.Codec }

func init() {
	builtin, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		panic("arrow-go has no zstd codec: " + err.Error())
	}
	compress.RegisterCodec(compress.Codecs.Zstd, parquetZstd{builtin})
}

func (z parquetZstd) EncodeLevel(dst, src []byte, level int) []byte {
	if level != parquetLevel {
		return z.Codec.EncodeLevel(dst, src, level)
	}
	enc := pageEncoders.Get()
	defer pageEncoders.Put(enc)
	return enc.EncodeAll(src, dst[:0])
}

// DecodeWithError keeps the built-in codec's error reporting.
func (z parquetZstd) DecodeWithError(dst, src []byte) ([]byte, error) {
	return compress.Decode(z.Codec, dst, src)
}
