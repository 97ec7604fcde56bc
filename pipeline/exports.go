package pipeline

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/klauspost/compress/zstd"
	"github.com/kycetl/kycetl/internal/jsonskim"
	"github.com/valyala/fastjson"
)

// maxLine bounds one NDJSON line (one submission).
const maxLine = 64 << 20

// file reads one export file.
func (s *splitter) file(ctx context.Context, name string) error {
	fh, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("importing: %w", err)
	}
	defer fh.Close()
	r, closeFn, err := decompress(bufio.NewReaderSize(fh, 1<<20))
	if err != nil {
		return fmt.Errorf("importing %s: %w", name, err)
	}
	defer closeFn()
	br := bufio.NewReaderSize(r, 1<<20)
	before := s.items
	if err := s.read(ctx, br); err != nil {
		return fmt.Errorf("importing %s: %w", name, err)
	}
	if s.items == before {
		return fmt.Errorf("importing %s: %w", name, ErrNoItems)
	}
	return nil
}

// ErrNoItems is returned (wrapped, naming the file) by Import for a file
// that holds no item at all: empty, blank, or only empty pages and arrays.
var ErrNoItems = errors.New("the file holds no submissions")

// decompress wraps r according to its magic bytes: gzip, zstd or plain.
func decompress(r *bufio.Reader) (io.Reader, func(), error) {
	magic, _ := r.Peek(4)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("reading gzip: %w", err)
		}
		return z, func() { z.Close() }, nil
	case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		z, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, nil, fmt.Errorf("reading zstd: %w", err)
		}
		return z, z.Close, nil
	}
	return r, func() {}, nil
}

// read tells NDJSON from page files by the first line: a complete object
// without "Items" means NDJSON, read line by line (the fast path); anything
// else is read as a stream of JSON values (pages, arrays or submissions).
func (s *splitter) read(ctx context.Context, br *bufio.Reader) error {
	first, err := peekLine(br)
	if err != nil {
		return err
	}
	var fp fastjson.Parser
	if v, err := fp.ParseBytes(first); err == nil && v.Type() == fastjson.TypeObject && v.Get("Items") == nil {
		return s.batched(ctx, "line", func(c *cutter) error { return readLines(ctx, br, c) })
	}
	return s.batched(ctx, "item", func(c *cutter) error { return readValues(ctx, br, c) })
}

func peekLine(br *bufio.Reader) ([]byte, error) {
	for n := 4096; ; n *= 2 {
		b, err := br.Peek(n)
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			return b[:i], nil
		}
		if err != nil { // the whole input is one line
			if errors.Is(err, io.EOF) || errors.Is(err, bufio.ErrBufferFull) && n >= br.Size() {
				return b, nil
			}
			return nil, err
		}
		if n >= br.Size() {
			return b, nil
		}
	}
}

// cutter copies items into batches and hands each full batch to emit.
type cutter struct {
	unit string
	emit func(*itemBatch) error
	b    *itemBatch
	n    int // items so far
}

// add copies item into the current batch, first sending it if full. The
// batch's buffer is never reallocated while items point into it.
func (c *cutter) add(item []byte) error {
	if c.b != nil && (len(c.b.items) == batchLines || len(c.b.buf)+len(item) > cap(c.b.buf) && len(c.b.items) > 0) {
		if err := c.emit(c.b); err != nil {
			return err
		}
		c.b = nil
	}
	if c.b == nil {
		c.b = &itemBatch{unit: c.unit, first: c.n + 1, buf: batchBufs.Get()[:0], done: make(chan struct{})}
	}
	c.n++
	if len(c.b.buf)+len(item) > cap(c.b.buf) {
		c.b.items = append(c.b.items, append([]byte(nil), item...)) // longer than a batch
		return nil
	}
	start := len(c.b.buf)
	c.b.buf = append(c.b.buf, item...)
	c.b.items = append(c.b.items, c.b.buf[start:len(c.b.buf):len(c.b.buf)])
	return nil
}

// close sends the last batch.
func (c *cutter) close() error {
	if c.b == nil || len(c.b.items) == 0 {
		return nil
	}
	b := c.b
	c.b = nil
	return c.emit(b)
}

// readLines cuts NDJSON into one item per line.
func readLines(ctx context.Context, br *bufio.Reader, c *cutter) error {
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 0, 1<<20), maxLine)
	for sc.Scan() {
		if c.n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := c.add(sc.Bytes()); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("after line %d: %w", c.n, err)
	}
	return nil
}

// readValues cuts concatenated JSON values into items: each element of an
// {"Items": [...]} page or of an array, or a value that is itself a
// submission. Items keep their exact bytes. A token-level decoder reads and
// checks each top-level value without decoding it (encoding/json made page
// files seven times as slow as NDJSON); it accepts what the API may send
// and encoding/json accepted, invalid UTF-8 and repeated keys included.
// The items of a value so checked are then found by jsonskim, which only
// matches quotes and brackets (a second decoder pass made the split of
// page files half as fast again as NDJSON's).
func readValues(ctx context.Context, br *bufio.Reader, c *cutter) error {
	dec := jsontext.NewDecoder(br, lenient...)
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		at := dec.InputOffset()
		v, err := dec.ReadValue()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading JSON value %d at byte %d: %w", n, at, err)
		}
		switch v.Kind() {
		case '[':
			err = elements(v, 0, c.add)
		case '{':
			var page bool
			if page, err = pageItems(v, c.add); err == nil && !page {
				err = c.add(v) // a submission
			}
		default:
			err = c.add(v)
		}
		if err != nil {
			return fmt.Errorf("reading JSON value %d at byte %d: %w", n, at, err)
		}
	}
}

// lenient accepts what encoding/json did.
var lenient = []jsontext.Options{jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true)}

// errSkim: a value the decoder accepted did not skim as JSON, which would
// be a bug in jsonskim; the import stops rather than cut items wrongly.
var errSkim = errors.New("value does not skim as the decoder read it")

// elements yields the elements of the checked JSON array whose '[' is
// v[i].
func elements(v []byte, i int, yield func([]byte) error) error {
	i = jsonskim.Space(v, i+1)
	if i < len(v) && v[i] == ']' {
		return nil
	}
	for i < len(v) {
		end, ok := jsonskim.Value(v, i)
		if !ok {
			return errSkim
		}
		if err := yield(v[i:end]); err != nil {
			return err
		}
		i = jsonskim.Space(v, end)
		if i < len(v) && v[i] == ']' {
			return nil
		}
		if i >= len(v) || v[i] != ',' {
			return errSkim
		}
		i = jsonskim.Space(v, i+1)
	}
	return errSkim
}

// pageItems yields the elements of the "Items" array of the checked JSON
// object v, and reports whether it has one.
func pageItems(v []byte, yield func([]byte) error) (bool, error) {
	i := jsonskim.Space(v, 1)
	for i < len(v) && v[i] != '}' {
		end, ok := jsonskim.String(v, i)
		if !ok {
			return false, errSkim
		}
		name := v[i+1 : end-1]
		if bytes.IndexByte(name, '\\') >= 0 {
			// An escaped name ("\u0049tems" is "Items"). The decoder has
			// checked it; what can still be reported is invalid UTF-8,
			// which comes out as U+FFFD, so not as "Items".
			name, _ = jsontext.AppendUnquote(nil, v[i:end])
		}
		i = jsonskim.Space(v, end)
		if i >= len(v) || v[i] != ':' {
			return false, errSkim
		}
		i = jsonskim.Space(v, i+1)
		if string(name) == "Items" && i < len(v) && v[i] == '[' {
			return true, elements(v, i, yield)
		}
		if end, ok = jsonskim.Value(v, i); !ok {
			return false, errSkim
		}
		i = jsonskim.Space(v, end)
		if i < len(v) && v[i] == ',' {
			i = jsonskim.Space(v, i+1)
		}
	}
	return false, nil
}
