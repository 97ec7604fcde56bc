package archive

import (
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// pool keeps zstd encoders or decoders for reuse across garbage
// collections, which sync.Pool does not: each holds megabytes of history,
// and making them again after every collection was a third of all the
// bytes an import allocated. It keeps at most its capacity; more are made
// when needed and dropped when returned to a full pool.
type pool[T any] struct {
	free  chan T
	fresh func() (T, error)
}

func newPool[T any](size int, fresh func() (T, error)) *pool[T] {
	return &pool[T]{free: make(chan T, size), fresh: fresh}
}

func (p *pool[T]) get() T {
	select {
	case v := <-p.free:
		return v
	default:
		v, err := p.fresh()
		if err != nil {
			panic("zstd options: " + err.Error()) // fixed options: a bug
		}
		return v
	}
}

func (p *pool[T]) put(v T) {
	select {
	case p.free <- v:
	default:
	}
}

func encoders(size int, opts ...zstd.EOption) *pool[*zstd.Encoder] {
	return newPool(size, func() (*zstd.Encoder, error) { return zstd.NewWriter(nil, opts...) })
}

// rawEncoders compress the raw archive: one goroutine each keeps memory
// bounded when many days are written at once, and the fastest level keeps
// the archive off the import's critical path. The split's workers and
// the open day files (maxOpenDays) hold at most a dozen.
var rawEncoders = encoders(16, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest))

// rawDecoders read raw day files back, one goroutine each.
var rawDecoders = newPool(8, func() (*zstd.Decoder, error) {
	return zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
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
	enc := pageEncoders.get()
	defer pageEncoders.put(enc)
	return enc.EncodeAll(src, dst[:0])
}

// DecodeWithError keeps the built-in codec's error reporting.
func (z parquetZstd) DecodeWithError(dst, src []byte) ([]byte, error) {
	return compress.Decode(z.Codec, dst, src)
}
