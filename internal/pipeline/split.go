package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/kycetl/kycetl/extract"
	"github.com/kycetl/kycetl/internal/pool"
	"github.com/kycetl/kycetl/internal/window"
	"github.com/kycetl/kycetl/load/archive"
)

// maxOpenDays bounds the day files being written at once during a split;
// the least recently used is suspended (and resumed when its day comes
// back), so memory does not grow with the number of days in an export.
const maxOpenDays = 8

// rawDayFile is one day's raw file being written, with what dedupe needs.
type rawDayFile struct {
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
	// current is every partition's current version: an export file is not
	// a whole day, so each day's file starts with the items of the day's
	// current raw file, and the import's items merge with them.
	current map[archive.PartitionKey]*archive.DayRecord
	days    map[time.Time]*rawDayFile
	last    *rawDayFile // bucket of the previous routable item
	orphans [][]byte    // unroutable items met before any routable one
	open    []*rawDayFile
	clock   int64
	items   int // items read so far, of all files
}

func (s *splitter) bucket(day time.Time) (*rawDayFile, error) {
	s.clock++
	b, ok := s.days[day]
	if !ok {
		w, err := archive.NewRawWriter(s.p.layout.RawPath(s.p.source.Name(), rawDayColumn(s.p.source), s.project, day, s.r.m.RunID), s.r.rawOptions()...)
		if err != nil {
			return nil, err
		}
		b = &rawDayFile{day: day, w: w, copies: newCopies()}
		s.days[day] = b
		if err := s.carryOver(b); err != nil {
			w.Abort()
			return nil, err
		}
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

func (s *splitter) isOpen(b *rawDayFile) bool {
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
	key  window.Key
	err  error
}

// readItem trims an item, compacts one that spans lines (a raw file holds
// one item per line) and reads its identity. It touches no splitter state,
// so that items can be read in parallel; kr must be the caller's own.
func readItem(kr extract.KeyReader, item []byte) keyed {
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
	key, err := kr.Scan(item)
	return keyed{item: item, key: key, err: err}
}

// carryOver starts a new day file with the items of the day's current raw
// file, if the day has a current version, counted for dedupe like the
// import's own: the import's items come after them, so that a copy of equal
// updated_at from the import wins.
func (s *splitter) carryOver(b *rawDayFile) error {
	day := window.FormatDate(b.day)
	cur, ok := s.current[archive.PartitionKey{Source: s.p.source.Name(), Project: s.project, Day: day}]
	if !ok {
		return nil
	}
	var raw *archive.FileEntry
	for i, f := range cur.Files {
		if f.Table == archive.RawTable {
			raw = &cur.Files[i]
		}
	}
	if raw == nil {
		return fmt.Errorf("merging with %s %s: its current version names no raw file to merge with", s.project, day)
	}
	path, err := s.p.layout.Abs(raw.Path)
	if err != nil {
		return fmt.Errorf("merging with %s %s: %w", s.project, day, err)
	}
	kr := s.p.source.NewKeyReader()
	err = archive.ReadRaw(path, func(_ int, item []byte) error {
		if key, err := kr.Scan(item); err == nil {
			b.dedupe(key)
		} else {
			b.n++ // quarantined again when derived
		}
		return b.w.Write(item)
	}, s.r.readKeys())
	if err != nil {
		return fmt.Errorf("merging with %s %s: %w", s.project, day, err)
	}
	s.p.log.Debug().Str("run_id", s.r.m.RunID).Str("project", s.project).Str("day", day).Int64("items", raw.Rows).
		Msg("import merges with the day's current version")
	return nil
}

// routeUnplaced writes an item whose submission_id or created_at cannot be
// read, so that no day can be told from it: it goes to the day of the item
// before it (exports are in time order), where the flattener quarantines
// it, or waits for the first day when no item before it had one.
func (s *splitter) routeUnplaced(item []byte) error {
	if len(item) == 0 {
		return nil
	}
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

// dedupe counts the day's next item, of identity key: of several copies of
// a submission, all but the newest by updated_at are skipped when derived.
func (b *rawDayFile) dedupe(key window.Key) {
	b.copies.add(b.n, key)
	b.n++
}

// flushOrphans writes the items met before any item could be placed in a
// day to b, the first day placed.
func (s *splitter) flushOrphans(b *rawDayFile) error {
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

// itemBatch is a run of items read together (NDJSON lines, or elements of
// pages): the reader fills it, a worker reads every item's identity and
// compresses the items of each day into one zstd frame, and the splitter
// files them in order once done is closed.
type itemBatch struct {
	unit    string // what an input is called in errors: "line" (NDJSON) or "item"
	first   int    // number of items[0], from 1
	buf     []byte
	items   [][]byte
	keyed   []keyed
	leading int        // items before the first routable one: routed one by one
	groups  []dayFrame // the other items, by day, in order of first appearance
	lastDay time.Time  // day of the last routable item
	err     error      // the worker's, naming the item it concerns
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
	ordered := make(chan *itemBatch, 2)
	work := make(chan *itemBatch, 2)
	g.Go(func() error {
		defer close(ordered)
		defer close(work)
		c := &cutter{unit: unit, emit: func(b *itemBatch) error {
			for _, ch := range []chan *itemBatch{work, ordered} {
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
			kr := s.p.source.NewKeyReader()
			for b := range work {
				b.prepare(kr)
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
			b.recycle()
		}
		return nil
	})
	return g.Wait()
}

// prepare reads the identity of every item, groups the items by day and
// compresses each group. Unplaced items go with the group of the item
// before them; those before the batch's first placed item are left to the
// splitter (leading), which knows the day of the batch before.
func (b *itemBatch) prepare(kr extract.KeyReader) {
	b.keyed = make([]keyed, len(b.items))
	for i, line := range b.items {
		b.keyed[i] = readItem(kr, line)
	}
	b.leading = len(b.keyed)
	var cur *dayFrame
	for i, k := range b.keyed {
		switch {
		case len(k.item) == 0:
			continue
		case k.err == nil:
			day := window.Day(k.key.CreatedAt)
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
		frame, err := archive.EncodeRawFrame(frameBufs.Get()[:0], items)
		if err != nil {
			b.err = fmt.Errorf("%s %d and after: %w", b.unit, b.first+g.items[0], err)
			return
		}
		g.frame = frame
	}
}

// Buffers of the batches in flight, reused: a batch's items and frames are
// a megabyte or so each, and an import cuts thousands of batches.
var (
	batchBufs = pool.New(8, func() []byte { return make([]byte, 0, batchBytes) })
	frameBufs = pool.New(8, func() []byte { return make([]byte, 0, batchBytes) })
)

// recycle returns a filed batch's buffers; nothing may use b afterwards.
func (b *itemBatch) recycle() {
	if cap(b.buf) == batchBytes {
		batchBufs.Put(b.buf[:0])
	}
	for _, g := range b.groups {
		frameBufs.Put(g.frame[:0])
	}
	*b = itemBatch{}
}

// fileBatch writes a prepared batch: its leading unroutable items one by one,
// then each day's frame, keeping the dedupe bookkeeping of every item.
func (s *splitter) fileBatch(b *itemBatch) error {
	if b.err != nil {
		return b.err
	}
	for _, k := range b.keyed {
		if len(k.item) > 0 {
			s.items++
		}
	}
	for i := 0; i < b.leading; i++ { // none has a day: see prepare
		if err := s.routeUnplaced(b.keyed[i].item); err != nil {
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
