package archive

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"
	"github.com/kycetl/kycetl/internal/pool"
)

// RawWriter writes the exact API items of one day as zstd-compressed NDJSON:
// one item per line, byte for byte as received.
type RawWriter struct {
	f    *atomicFile
	out  io.Writer      // f, or seal over it
	seal io.WriteCloser // the age encryption, when the file has recipients
	enc  *zstd.Encoder  // nil while suspended
	rows int64
	err  error // first write error; the file can only be aborted after it
}

func takeEncoder(w io.Writer) *zstd.Encoder {
	enc := rawEncoders.Get()
	enc.Reset(w)
	return enc
}

// NewRawWriter starts a raw archive file at path; nothing is visible at path
// until Close.
func NewRawWriter(path string, opts ...WriterOption) (*RawWriter, error) {
	f, err := createAtomic(path, opts...)
	if err != nil {
		return nil, err
	}
	w := &RawWriter{f: f, out: f}
	if len(f.recipients) > 0 {
		if w.seal, err = age.Encrypt(f, f.recipients...); err != nil {
			f.abort()
			return nil, fmt.Errorf("encrypting %s: %w", path, err)
		}
		w.out = w.seal
	}
	w.enc = takeEncoder(w.out)
	return w, nil
}

// Suspend ends the current zstd frame and gives back the encoder and the
// file handle, so that many day files can be in progress at once in
// bounded memory. The next Write resumes by appending a new frame; zstd
// readers read concatenated frames as one stream.
func (w *RawWriter) Suspend() error {
	if w.err != nil || w.enc == nil || w.f.done {
		return w.err
	}
	err := w.enc.Close()
	rawEncoders.Put(w.enc)
	w.enc = nil
	if err == nil {
		err = w.f.suspend()
	}
	if err != nil {
		w.err = fmt.Errorf("suspending %s: %w", w.f.path, err)
	}
	return w.err
}

func (w *RawWriter) resume() error {
	if err := w.f.resume(); err != nil {
		w.err = fmt.Errorf("resuming %s: %w", w.f.path, err)
		return w.err
	}
	w.enc = takeEncoder(w.out)
	return nil
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
		return fmt.Errorf("writing raw item %d to %s: %w at byte %d", w.rows, w.f.path, ErrNewline, i)
	}
	if w.enc == nil {
		if err := w.resume(); err != nil {
			return err
		}
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

// ErrNewline is the error of an item holding a raw newline: the archive
// holds one item per line, so it would read back as two.
var ErrNewline = errors.New("item contains a newline")

// EncodeRawFrame compresses items as one complete zstd frame of NDJSON
// lines, appended to dst, for WriteFrame. It is safe for concurrent use, so
// that the items of a large import are compressed on every core while one
// goroutine writes the frames in order. An item holding a raw newline is
// refused, as Write refuses it.
func EncodeRawFrame(dst []byte, items [][]byte) ([]byte, error) {
	size := 0
	for i, item := range items {
		if j := bytes.IndexByte(item, '\n'); j >= 0 {
			return dst, fmt.Errorf("encoding raw item %d of %d: %w at byte %d", i, len(items), ErrNewline, j)
		}
		size += len(item) + 1
	}
	src := frameSources.Get()[:0]
	if cap(src) < size {
		src = make([]byte, 0, size)
	}
	defer func() { frameSources.Put(src) }()
	for _, item := range items {
		src = append(append(src, item...), '\n')
	}
	enc := rawEncoders.Get()
	defer rawEncoders.Put(enc)
	return enc.EncodeAll(src, dst), nil
}

// frameSources are EncodeRawFrame's buffers for the items it compresses.
var frameSources = pool.New(8, func() []byte { return make([]byte, 0, 1<<20) })

// WriteFrame appends a frame made by EncodeRawFrame that holds n items,
// after ending the frame that Write may have started; zstd readers read
// concatenated frames as one stream.
func (w *RawWriter) WriteFrame(frame []byte, n int) error {
	if w.err != nil {
		return w.err
	}
	if w.f.done {
		return fmt.Errorf("writing a raw frame to %s: %w", w.f.path, errClosed)
	}
	if w.enc != nil {
		err := w.enc.Close()
		rawEncoders.Put(w.enc)
		w.enc = nil
		if err != nil {
			w.err = fmt.Errorf("ending a zstd frame of %s: %w", w.f.path, err)
			return w.err
		}
	}
	if err := w.f.resume(); err != nil {
		w.err = fmt.Errorf("resuming %s: %w", w.f.path, err)
		return w.err
	}
	if _, err := w.out.Write(frame); err != nil {
		w.err = fmt.Errorf("writing a raw frame of %d items to %s: %w", n, w.f.path, err)
		return w.err
	}
	w.rows += int64(n)
	return nil
}

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
	if w.enc == nil && w.rows == 0 { // an empty file is still one (empty) frame
		if err := w.resume(); err != nil {
			w.f.abort()
			return FileInfo{}, err
		}
	}
	if w.enc != nil {
		err := w.enc.Close()
		rawEncoders.Put(w.enc)
		w.enc = nil
		if err != nil {
			w.f.abort()
			return FileInfo{}, fmt.Errorf("finishing zstd stream of %s: %w", w.f.path, err)
		}
	} else if err := w.f.resume(); err != nil { // frames only, suspended since
		w.f.abort()
		return FileInfo{}, fmt.Errorf("resuming %s: %w", w.f.path, err)
	}
	if w.seal != nil {
		if err := w.seal.Close(); err != nil {
			w.f.abort()
			return FileInfo{}, fmt.Errorf("finishing the encryption of %s: %w", w.f.path, err)
		}
	}
	return w.f.commit(w.rows)
}

// Abort drops the file; nothing is left behind. It is safe after Close.
func (w *RawWriter) Abort() {
	if w.f.done {
		return
	}
	if w.enc != nil {
		_ = w.enc.Close()
		rawEncoders.Put(w.enc)
		w.enc = nil
	}
	w.f.abort()
}

// MaxRawItem bounds one item read back by ReadRaw, so that a corrupt file
// cannot make it allocate without limit. Real items are around 100 KB.
const MaxRawItem = 64 << 20

// ReadRaw streams the items of a raw archive file to fn in order, with their
// 0-based ordinal. item is valid only during the call. An error from fn
// stops the reading and is returned as is. An encrypted file is read with
// the identities of WithIdentities (ErrNoIdentity without any).
func ReadRaw(path string, fn func(ordinal int, item []byte) error, opts ...ReadOption) error {
	var c readConfig
	for _, o := range opts {
		o(&c)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening raw archive: %w", err)
	}
	defer f.Close()
	plain, err := c.open(f, path)
	if err != nil {
		return err
	}
	return readRaw(plain, path, fn)
}

func readRaw(r io.Reader, name string, fn func(int, []byte) error) error {
	dec := rawDecoders.Get()
	if err := dec.Reset(r); err != nil {
		return fmt.Errorf("starting zstd decoder for %s: %w", name, err)
	}
	defer func() {
		_ = dec.Reset(nil) // lets go of r
		rawDecoders.Put(dec)
	}()
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
