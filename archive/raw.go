package archive

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"
)

// RawWriter writes the exact API items of one day as zstd-compressed NDJSON:
// one item per line, byte for byte as received.
type RawWriter struct {
	f    *atomicFile
	enc  *zstd.Encoder
	rows int64
	err  error // first write error; the file can only be aborted after it
}

// NewRawWriter starts a raw archive file at path; nothing is visible at path
// until Close.
func NewRawWriter(path string) (*RawWriter, error) {
	f, err := createAtomic(path)
	if err != nil {
		return nil, err
	}
	// One encoder goroutine keeps memory bounded when many days are written
	// in parallel.
	enc, err := zstd.NewWriter(f, zstd.WithEncoderConcurrency(1))
	if err != nil {
		f.abort()
		return nil, fmt.Errorf("starting zstd encoder for %s: %w", path, err)
	}
	return &RawWriter{f: f, enc: enc}, nil
}

// Write appends one item. Items are compact JSON and so never hold a raw
// newline; one that does is refused, since it would read back as two.
func (w *RawWriter) Write(item []byte) error {
	if w.err != nil {
		return w.err
	}
	if w.f.done {
		return fmt.Errorf("writing raw item to %s: %w", w.f.path, errClosed)
	}
	if i := bytes.IndexByte(item, '\n'); i >= 0 {
		return fmt.Errorf("writing raw item %d to %s: item contains a newline at byte %d", w.rows, w.f.path, i)
	}
	if _, err := w.enc.Write(item); err != nil {
		w.err = fmt.Errorf("writing raw item %d to %s: %w", w.rows, w.f.path, err)
		return w.err
	}
	if _, err := w.enc.Write(newline); err != nil {
		w.err = fmt.Errorf("writing raw item %d to %s: %w", w.rows, w.f.path, err)
		return w.err
	}
	w.rows++
	return nil
}

var newline = []byte{'\n'}

// Close finishes the stream and renames the file into place. Rows in the
// FileInfo is the number of items.
func (w *RawWriter) Close() (FileInfo, error) {
	if w.err != nil {
		w.Abort()
		return FileInfo{}, w.err
	}
	if w.f.done {
		return FileInfo{}, fmt.Errorf("closing %s: %w", w.f.path, errClosed)
	}
	if err := w.enc.Close(); err != nil {
		w.f.abort()
		return FileInfo{}, fmt.Errorf("finishing zstd stream of %s: %w", w.f.path, err)
	}
	return w.f.commit(w.rows)
}

// Abort drops the file; nothing is left behind. It is safe after Close.
func (w *RawWriter) Abort() {
	if w.f.done {
		return
	}
	_ = w.enc.Close()
	w.f.abort()
}

// MaxRawItem bounds one item read back by ReadRaw, so that a corrupt file
// cannot make it allocate without limit. Real items are around 100 KB.
const MaxRawItem = 64 << 20

// ReadRaw streams the items of a raw archive file to fn in order, with their
// 0-based ordinal. item is valid only during the call. An error from fn
// stops the reading and is returned as is.
func ReadRaw(path string, fn func(ordinal int, item []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening raw archive: %w", err)
	}
	defer f.Close()
	return readRaw(f, path, fn)
}

func readRaw(r io.Reader, name string, fn func(int, []byte) error) error {
	dec, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
	if err != nil {
		return fmt.Errorf("starting zstd decoder for %s: %w", name, err)
	}
	defer dec.Close()
	br := bufio.NewReaderSize(dec, 1<<20)
	var long []byte // an item longer than the buffer, assembled here
	for ordinal := 0; ; {
		chunk, err := br.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			if len(long)+len(chunk) > MaxRawItem {
				return fmt.Errorf("reading item %d of %s: item is longer than %d bytes", ordinal, name, MaxRawItem)
			}
			long = append(long, chunk...)
			continue
		case err != nil && !errors.Is(err, io.EOF):
			return fmt.Errorf("reading item %d of %s: %w", ordinal, name, err)
		}
		item := chunk
		if len(long) > 0 {
			long = append(long, chunk...)
			item = long
		}
		if len(item) > 0 || err == nil {
			item = bytes.TrimSuffix(item, newline)
			if ferr := fn(ordinal, item); ferr != nil {
				return ferr
			}
			ordinal++
		}
		long = long[:0]
		if err != nil { // io.EOF
			return nil
		}
	}
}
