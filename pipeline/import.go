package pipeline

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/klauspost/compress/zstd"
	"github.com/valyala/fastjson"
	"golang.org/x/sync/errgroup"

	"github.com/kycetl/kycetl/archive"
	"github.com/kycetl/kycetl/argos"
)

// maxLine bounds one NDJSON line (one submission).
const maxLine = 64 << 20

// Import loads exported submissions from files: NDJSON (one submission per
// line) or API pages ({"Items": [...]}, one or several per file, or a JSON
// array of submissions), plain, gzip or zstd (told by their magic bytes).
// Items are first split by their created_at day into raw archive files, then
// every day is derived from its file, so memory stays bounded whatever the
// input size.
func (p *Pipeline) Import(ctx context.Context, project string, files []string) (*Summary, error) {
	if err := archive.ValidateProject(project); err != nil {
		return nil, err
	}
	r := p.begin("import", time.Time{}, time.Time{})
	r.batch.deferred = true
	sp := &splitter{p: p, r: r, project: project, days: map[time.Time]*dayBucket{}}
	var err error
	for _, name := range files {
		if err = sp.file(ctx, name); err != nil {
			break
		}
	}
	if err == nil {
		err = sp.close()
	} else {
		sp.abort()
	}
	if err != nil {
		return r.finish(err)
	}
	p.log.Info().Str("run_id", r.m.RunID).Int("days", len(sp.days)).Float64("seconds", p.now().Sub(r.start).Seconds()).Msg("import split into raw day files")
	days := make([]time.Time, 0, len(sp.days))
	for d := range sp.days {
		days = append(days, d)
	}
	sort.Slice(days, func(i, j int) bool { return days[i].Before(days[j]) })
	if len(days) > 0 {
		r.m.WindowFrom, r.m.WindowTo = argos.FormatDate(days[0]), argos.FormatDate(days[len(days)-1])
	}
	err = inParallel(ctx, p.workers, days, func(ctx context.Context, d time.Time) error {
		b := sp.days[d]
		rec := r.newDay(project, d)
		e, err := p.layout.Entry(archive.RawTable, b.fi)
		if err != nil {
			return err
		}
		rec.Files, rec.Bytes = append(rec.Files, e), b.fi.Bytes
		return r.loadDay(ctx, rec, b.fi.Path, b.copies.skip)
	})
	if err == nil {
		err = ctx.Err()
	}
	return r.finish(err)
}

// maxOpenDays bounds the day files being written at once during a split;
// the least recently used is suspended (and resumed when its day comes
// back), so memory does not grow with the number of days in an export.
const maxOpenDays = 8

// dayBucket is one day's raw file being written, with what dedupe needs.
type dayBucket struct {
	day     time.Time
	lastUse int64 // for the LRU of open files
	w       *archive.RawWriter
	fi      archive.FileInfo
	n       int     // items written
	copies  *copies // superseded copies, by raw ordinal
}

// splitter routes items to their day's raw file.
type splitter struct {
	p       *Pipeline
	r       *run
	project string
	days    map[time.Time]*dayBucket
	last    *dayBucket // bucket of the previous routable item
	orphans [][]byte   // unroutable items met before any routable one
	open    []*dayBucket
	clock   int64
}

func (s *splitter) bucket(day time.Time) (*dayBucket, error) {
	s.clock++
	b, ok := s.days[day]
	if !ok {
		w, err := archive.NewRawWriter(s.p.layout.RawPath(s.project, day, s.r.m.RunID))
		if err != nil {
			return nil, err
		}
		b = &dayBucket{day: day, w: w, copies: newCopies()}
		s.days[day] = b
	}
	if b.lastUse == 0 || !s.isOpen(b) {
		if err := s.makeRoom(); err != nil {
			return nil, err
		}
		s.open = append(s.open, b)
	}
	b.lastUse = s.clock
	return b, nil
}

func (s *splitter) isOpen(b *dayBucket) bool {
	for _, o := range s.open {
		if o == b {
			return true
		}
	}
	return false
}

// makeRoom suspends the least recently used open day file when the limit is
// reached.
func (s *splitter) makeRoom() error {
	if len(s.open) < maxOpenDays {
		return nil
	}
	lru := 0
	for i, o := range s.open {
		if o.lastUse < s.open[lru].lastUse {
			lru = i
		}
	}
	b := s.open[lru]
	s.open = append(s.open[:lru], s.open[lru+1:]...)
	return b.w.Suspend()
}

// keyed is one item ready to route: compacted, with its identity read
// (or the reason it cannot be).
type keyed struct {
	item []byte
	key  argos.Key
	err  error
}

// readItem trims an item, compacts one that spans lines (a raw file holds
// one item per line) and reads its identity. It touches no splitter state,
// so that items can be read in parallel; p must be the caller's own.
func readItem(p *fastjson.Parser, item []byte) keyed {
	item = bytes.TrimSpace(item)
	if len(item) == 0 {
		return keyed{}
	}
	if bytes.IndexByte(item, '\n') >= 0 {
		var buf bytes.Buffer
		if json.Compact(&buf, item) == nil {
			item = buf.Bytes()
		}
	}
	key, err := argos.ReadKey(p, item)
	return keyed{item: item, key: key, err: err}
}

// route writes an item to its day's raw file. An item without a readable
// submission_id and created_at cannot be routed by day; it goes to the day
// of the item before it (exports are in time order), where the flattener
// quarantines it.
func (s *splitter) route(k keyed) error {
	item, key := k.item, k.key
	if len(item) == 0 {
		return nil
	}
	if k.err != nil {
		if s.last == nil {
			s.orphans = append(s.orphans, append([]byte(nil), item...))
			return nil
		}
		b, err := s.bucket(s.last.day)
		if err != nil {
			return err
		}
		b.n++
		return b.w.Write(item)
	}
	b, err := s.bucket(argos.Day(key.CreatedAt))
	if err != nil {
		return err
	}
	b.dedupe(key)
	if err := b.w.Write(item); err != nil {
		return err
	}
	if s.last == nil {
		if err := s.flushOrphans(b); err != nil {
			return err
		}
	}
	s.last = b
	return nil
}

// dedupe counts the day's next item, of identity key: of several copies of
// a submission, all but the newest by updated_at are skipped when derived.
func (b *dayBucket) dedupe(key argos.Key) {
	b.copies.add(b.n, key)
	b.n++
}

// flushOrphans writes the items met before any item could be placed in a
// day to b, the first day placed.
func (s *splitter) flushOrphans(b *dayBucket) error {
	for _, o := range s.orphans {
		b.n++
		if err := b.w.Write(o); err != nil {
			return err
		}
	}
	s.orphans = nil
	return nil
}

func (s *splitter) close() error {
	if len(s.orphans) > 0 {
		return fmt.Errorf("importing: none of the %d items has a readable submission_id and created_at, so none can be placed in a day", len(s.orphans))
	}
	var first error
	for _, b := range s.days {
		b.copies.drop()
		fi, err := b.w.Close()
		if err != nil && first == nil {
			first = err
		}
		b.fi = fi
	}
	return first
}

func (s *splitter) abort() {
	for _, b := range s.days {
		b.w.Abort()
	}
}

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
	if err := s.read(ctx, br); err != nil {
		return fmt.Errorf("importing %s: %w", name, err)
	}
	return nil
}

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

// lineBatch is a run of NDJSON lines read together: the reader fills it, a
// worker reads every item's identity and compresses the items of each day
// into one zstd frame, and the splitter files them in order once done is
// closed.
type lineBatch struct {
	unit    string // what an input is called in errors: "line" (NDJSON) or "item"
	first   int    // number of lines[0], from 1
	buf     []byte
	lines   [][]byte
	keyed   []keyed
	leading int        // items before the first routable one: routed one by one
	groups  []dayFrame // the other items, by day, in order of first appearance
	lastDay time.Time  // day of the last routable item
	err     error      // the worker's, with the line it concerns
	done    chan struct{}
}

// dayFrame is the items of one day in a batch, in order, as one zstd frame.
// An unroutable item goes with the routable one before it.
type dayFrame struct {
	day   time.Time
	items []int // indices into keyed
	frame []byte
}

// Batch bounds: large enough to amortise the hand-offs and keep frames
// compressing well, small enough that the batches in flight stay a few
// megabytes.
const (
	batchLines = 1024
	batchBytes = 1 << 20
)

// batched splits items on two stages that overlap: produce cuts the input
// into batches of items; workers parse each item's identity and compress
// the raw items (the costly parts, on every core), while the splitter
// dedupes and writes the frames in input order.
func (s *splitter) batched(ctx context.Context, unit string, produce func(*cutter) error) error {
	g, ctx := errgroup.WithContext(ctx)
	ordered := make(chan *lineBatch, 2)
	work := make(chan *lineBatch, 2)
	g.Go(func() error {
		defer close(ordered)
		defer close(work)
		c := &cutter{unit: unit, emit: func(b *lineBatch) error {
			for _, ch := range []chan *lineBatch{work, ordered} {
				select {
				case ch <- b:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		}}
		if err := produce(c); err != nil {
			return err
		}
		return c.close()
	})
	for range max(1, s.p.workers) {
		g.Go(func() error {
			var p fastjson.Parser
			for b := range work {
				b.prepare(&p)
				close(b.done)
			}
			return nil
		})
	}
	g.Go(func() error {
		for b := range ordered {
			select {
			case <-b.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			if err := s.fileBatch(b); err != nil {
				return err
			}
		}
		return nil
	})
	return g.Wait()
}

// prepare reads the identity of every line, groups the items by day and
// compresses each group.
func (b *lineBatch) prepare(p *fastjson.Parser) {
	b.keyed = make([]keyed, len(b.lines))
	for i, line := range b.lines {
		b.keyed[i] = readItem(p, line)
	}
	b.leading = len(b.keyed)
	var cur *dayFrame
	for i, k := range b.keyed {
		switch {
		case len(k.item) == 0:
			continue
		case k.err == nil:
			day := argos.Day(k.key.CreatedAt)
			if cur == nil || !cur.day.Equal(day) {
				cur = nil
				for j := range b.groups {
					if b.groups[j].day.Equal(day) {
						cur = &b.groups[j]
					}
				}
				if cur == nil {
					if len(b.groups) == 0 {
						b.leading = i
					}
					b.groups = append(b.groups, dayFrame{day: day})
					cur = &b.groups[len(b.groups)-1]
				}
			}
			b.lastDay = day
		case cur == nil:
			continue // leading: routed by the splitter, which knows the day before
		}
		cur.items = append(cur.items, i)
	}
	items := make([][]byte, 0, len(b.keyed))
	for j := range b.groups {
		g := &b.groups[j]
		items = items[:0]
		for _, i := range g.items {
			items = append(items, b.keyed[i].item)
		}
		frame, err := archive.EncodeRawFrame(nil, items)
		if err != nil {
			b.err = fmt.Errorf("%s %d and after: %w", b.unit, b.first+g.items[0], err)
			return
		}
		g.frame = frame
	}
}

// fileBatch writes a prepared batch: its leading unroutable items one by one,
// then each day's frame, keeping the dedupe bookkeeping of every item.
func (s *splitter) fileBatch(b *lineBatch) error {
	if b.err != nil {
		return b.err
	}
	for i := 0; i < b.leading; i++ {
		if err := s.route(b.keyed[i]); err != nil {
			return fmt.Errorf("%s %d: %w", b.unit, b.first+i, err)
		}
	}
	for _, g := range b.groups {
		bk, err := s.bucket(g.day)
		if err != nil {
			return fmt.Errorf("%s %d: %w", b.unit, b.first+g.items[0], err)
		}
		if s.last == nil { // the items no day could be told for so far go here
			s.last = bk
			if err := s.flushOrphans(bk); err != nil {
				return fmt.Errorf("%s %d: %w", b.unit, b.first+g.items[0], err)
			}
		}
		for _, i := range g.items {
			if k := b.keyed[i]; k.err == nil {
				bk.dedupe(k.key)
			} else {
				bk.n++
			}
		}
		if err := bk.w.WriteFrame(g.frame, len(g.items)); err != nil {
			return fmt.Errorf("%s %d: %w", b.unit, b.first+g.items[0], err)
		}
	}
	if len(b.groups) > 0 {
		s.last = s.days[b.lastDay]
	}
	return nil
}

// cutter copies items into batches and hands each full batch to emit.
type cutter struct {
	unit string
	emit func(*lineBatch) error
	b    *lineBatch
	n    int // items so far
}

// add copies item into the current batch, first sending it if full. The
// batch's buffer is never reallocated while items point into it.
func (c *cutter) add(item []byte) error {
	if c.b != nil && (len(c.b.lines) == batchLines || len(c.b.buf)+len(item) > cap(c.b.buf) && len(c.b.lines) > 0) {
		if err := c.emit(c.b); err != nil {
			return err
		}
		c.b = nil
	}
	if c.b == nil {
		c.b = &lineBatch{unit: c.unit, first: c.n + 1, buf: make([]byte, 0, batchBytes), done: make(chan struct{})}
	}
	c.n++
	if len(c.b.buf)+len(item) > cap(c.b.buf) {
		c.b.lines = append(c.b.lines, append([]byte(nil), item...)) // longer than a batch
		return nil
	}
	start := len(c.b.buf)
	c.b.buf = append(c.b.buf, item...)
	c.b.lines = append(c.b.lines, c.b.buf[start:len(c.b.buf):len(c.b.buf)])
	return nil
}

// close sends the last batch.
func (c *cutter) close() error {
	if c.b == nil || len(c.b.lines) == 0 {
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
// submission. Items keep their exact bytes. A token-level decoder reads the
// stream without decoding values (encoding/json made page files seven
// times as slow as NDJSON); it accepts what the API may send and
// encoding/json accepted, invalid UTF-8 and repeated keys included.
func readValues(ctx context.Context, br *bufio.Reader, c *cutter) error {
	dec := jsontext.NewDecoder(br, lenient...)
	inner := jsontext.NewDecoder(bytes.NewReader(nil), lenient...)
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
			err = elements(inner, v, c.add)
		case '{':
			var page bool
			if page, err = pageItems(inner, v, c.add); err == nil && !page {
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

// elements yields the elements of the JSON array v.
func elements(dec *jsontext.Decoder, v jsontext.Value, yield func([]byte) error) error {
	dec.Reset(bytes.NewReader(v), lenient...)
	if _, err := dec.ReadToken(); err != nil { // [
		return err
	}
	return yieldUntilEnd(dec, yield)
}

func yieldUntilEnd(dec *jsontext.Decoder, yield func([]byte) error) error {
	for dec.PeekKind() != ']' {
		e, err := dec.ReadValue()
		if err != nil {
			return err
		}
		if err := yield(e); err != nil {
			return err
		}
	}
	return nil
}

// pageItems yields the elements of the "Items" array of the JSON object v,
// and reports whether it has one.
func pageItems(dec *jsontext.Decoder, v jsontext.Value, yield func([]byte) error) (bool, error) {
	dec.Reset(bytes.NewReader(v), lenient...)
	if _, err := dec.ReadToken(); err != nil { // {
		return false, err
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return false, err
		}
		if name.String() == "Items" && dec.PeekKind() == '[' {
			if _, err := dec.ReadToken(); err != nil {
				return false, err
			}
			return true, yieldUntilEnd(dec, yield)
		}
		if err := dec.SkipValue(); err != nil {
			return false, err
		}
	}
	return false, nil
}

// Rebuild re-derives every current partition (the newest complete version
// of each project and day) from the raw archive, with no API call, and
// reloads the warehouse.
func (p *Pipeline) Rebuild(ctx context.Context) (*Summary, error) {
	ms, err := p.layout.ReadManifests()
	if err != nil {
		return nil, fmt.Errorf("reading manifests: %w", err)
	}
	cur := archive.Current(ms)
	keys := make([]archive.PartitionKey, 0, len(cur))
	for k := range cur {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].Project < keys[j].Project || keys[i].Project == keys[j].Project && keys[i].Day < keys[j].Day
	})
	r := p.begin("rebuild", time.Time{}, time.Time{})
	r.batch.deferred = true
	if len(keys) > 0 {
		r.m.WindowFrom, r.m.WindowTo = keys[0].Day, keys[len(keys)-1].Day
	}
	err = inParallel(ctx, p.workers, keys, func(ctx context.Context, k archive.PartitionKey) error {
		day, _ := argos.ParseDate(k.Day)
		rec := r.newDay(k.Project, day)
		var raw *archive.FileEntry
		for i, f := range cur[k].Files {
			if f.Table == archive.RawTable {
				raw = &cur[k].Files[i]
			}
		}
		if raw == nil {
			return r.commit(ctx, rec, fmt.Errorf("no raw file recorded for %s %s", k.Project, k.Day))
		}
		path, err := p.layout.Abs(raw.Path)
		if err != nil {
			return r.commit(ctx, rec, err)
		}
		skip, err := supersededCopies(path)
		if err != nil {
			return r.commit(ctx, rec, err)
		}
		rec.Files = append(rec.Files, *raw)
		return r.loadDay(ctx, rec, path, skip)
	})
	if err == nil {
		err = ctx.Err()
	}
	return r.finish(err)
}

// supersededCopies scans a raw file for submissions present more than once
// (an import keeps every copy it was given) and names the ordinals of all
// but the newest, by updated_at.
func supersededCopies(rawPath string) (map[int]bool, error) {
	var p fastjson.Parser
	c := newCopies()
	err := archive.ReadRaw(rawPath, func(ord int, item []byte) error {
		if k, err := argos.ReadKey(&p, item); err == nil {
			c.add(ord, k)
		} // else quarantined when derived
		return nil
	})
	return c.skip, err
}
