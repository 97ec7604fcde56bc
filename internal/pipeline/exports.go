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
	var buf []byte
	at := int64(0) // where the previous value ended, as the decoder counted
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		v, skipped, err := jsonskim.ReadValue(br, buf[:0])
		buf = v
		if errors.Is(err, io.EOF) && len(v) == 0 {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading JSON value %d at byte %d: %w", n, at, err)
		}
		if err := cutValue(v, c.add); err != nil {
			return fmt.Errorf("reading JSON value %d at byte %d: %w", n, at, err)
		}
		at += int64(skipped + len(v))
	}
}

// cutValue checks one top-level value and yields its items: the elements
// of an array, the Items of a page, or the value itself. A value nested
// deeper than Go's JSON decoders go (jsonskim.DecoderMaxDepth) is cut by
// skimming alone, each of its items checked on its own, so that one item too
// deep to parse goes to quarantine (the flattener cannot parse it either)
// instead of failing its whole page or file.
func cutValue(v []byte, yield func([]byte) error) error {
	if v[0] != '{' && v[0] != '[' {
		return scalars(v, yield)
	}
	if err := checkValue(v); err != nil {
		if jsonskim.Depth(v, 0) <= jsonskim.DecoderMaxDepth {
			return err
		}
		yield = checkedItems(yield)
	}
	switch v[0] {
	case '[':
		return skimmed(jsonskim.Elements(v, 0, yield))
	case '{':
		page, err := pageItems(v, yield)
		if err == nil && !page {
			err = yield(v) // a submission
		}
		return skimmed(err)
	}
	return nil
}

// scalars yields the top-level values the decoder reads in v, a string or
// a run of other scalars: "000" is three numbers to it. None is a
// submission; each goes to quarantine as the flattener says why.
func scalars(v []byte, yield func([]byte) error) error {
	dec := jsontext.NewDecoder(bytes.NewReader(v), lenient...)
	for {
		s, err := dec.ReadValue()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := yield(s); err != nil {
			return err
		}
	}
}

// checkValue checks one value with the token decoder, as leniently as
// encoding/json (invalid UTF-8 and repeated keys pass).
func checkValue(v []byte) error {
	dec := jsontext.NewDecoder(bytes.NewReader(v), lenient...)
	if _, err := dec.ReadValue(); err != nil {
		return err
	}
	if _, err := dec.ReadValue(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w after the value", jsonskim.ErrNotJSON)
	}
	return nil
}

// checkedItems checks each item of a value too deep for the decoder as a
// whole: the items the decoder can read must be JSON; an item too deep for
// it passes, to be quarantined by the flattener with its reason.
func checkedItems(yield func([]byte) error) func([]byte) error {
	return func(item []byte) error {
		if err := checkValue(item); err != nil && jsonskim.Depth(item, 0) <= jsonskim.DecoderMaxDepth {
			return err
		}
		return yield(item)
	}
}

// skimmed turns jsonskim's refusal of a value the decoder accepted (which
// would be a bug in jsonskim) into errSkim: the import stops rather than
// cut items wrongly.
func skimmed(err error) error {
	if errors.Is(err, jsonskim.ErrNotJSON) {
		return errSkim
	}
	return err
}

// lenient accepts what encoding/json did.
var lenient = []jsontext.Options{jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true)}

// errSkim: a value the decoder accepted did not skim as JSON, which would
// be a bug in jsonskim; the import stops rather than cut items wrongly.
var errSkim = errors.New("value does not skim as the decoder read it")

// pageItems yields the elements of the "Items" array of the JSON object v,
// and reports whether it has one.
func pageItems(v []byte, yield func([]byte) error) (bool, error) {
	var items []byte
	err := jsonskim.Members(v, 0, func(name, value []byte) bool {
		if bytes.IndexByte(name, '\\') >= 0 {
			// An escaped name ("\u0049tems" is "Items"). Invalid UTF-8
			// comes out as U+FFFD, so not as "Items".
			name, _ = jsontext.AppendUnquote(nil, append(append([]byte{'"'}, name...), '"'))
		}
		if string(name) == "Items" && value[0] == '[' {
			items = value
			return false
		}
		return true
	})
	if err != nil || items == nil {
		return false, err
	}
	return true, jsonskim.Elements(items, 0, yield)
}
