package pipeline

import (
	"hash/maphash"
	"time"

	"github.com/kycetl/kycetl/internal/window"
)

// copies finds, among the items of one day in file order, the superseded
// copies of each submission: all but the newest by updated_at, the later
// one winning a tie (window.Newer). The split reads identities with the
// source's KeyReader.Scan, which need not parse the whole item, so the
// copies that won over another are named too: derive checks that they are
// JSON before it leaves the others out. It holds no pointers the garbage
// collector must follow: an import keeps one per day until its split ends,
// a million IDs at 1M submissions, and string keys made every collection
// re-scan them all.
type copies struct {
	index      map[uint64]int32 // hash of submission_id → entry
	collisions map[string]int32 // the rare IDs whose hash another ID holds
	entries    []copyEntry
	ids        []byte       // the IDs, back to back
	skip       map[int]bool // ordinals of superseded copies
	won        map[int]bool // ordinals of the copies kept over another
	hash       func(string) uint64
}

type copyEntry struct {
	idStart, idEnd int32
	ord            int
	sec            int64 // updated_at, exactly
	nsec           int32
}

var idSeed = maphash.MakeSeed()

func hashID(id string) uint64 { return maphash.String(idSeed, id) }

func newCopies() *copies {
	return &copies{index: map[uint64]int32{}, skip: map[int]bool{}, won: map[int]bool{}, hash: hashID}
}

// add counts the item at ordinal ord, of identity key.
func (c *copies) add(ord int, key window.Key) {
	e, ok := c.lookup(key.SubmissionID)
	if !ok {
		c.insert(key.SubmissionID, ord, key.UpdatedAt)
		return
	}
	prev := &c.entries[e]
	if window.Newer(key, window.Key{UpdatedAt: time.Unix(prev.sec, int64(prev.nsec))}) {
		c.skip[prev.ord] = true
		delete(c.won, prev.ord)
		prev.ord, prev.sec, prev.nsec = ord, key.UpdatedAt.Unix(), int32(key.UpdatedAt.Nanosecond())
	} else {
		c.skip[ord] = true
	}
	c.won[prev.ord] = true
}

func (c *copies) lookup(id string) (int32, bool) {
	if e, ok := c.index[c.hash(id)]; ok {
		if en := c.entries[e]; string(c.ids[en.idStart:en.idEnd]) == id {
			return e, true
		}
		e, ok := c.collisions[id]
		return e, ok
	}
	return 0, false
}

func (c *copies) insert(id string, ord int, updated time.Time) {
	e := int32(len(c.entries))
	start := int32(len(c.ids))
	c.ids = append(c.ids, id...)
	c.entries = append(c.entries, copyEntry{idStart: start, idEnd: int32(len(c.ids)), ord: ord,
		sec: updated.Unix(), nsec: int32(updated.Nanosecond())})
	h := c.hash(id)
	if _, taken := c.index[h]; !taken {
		c.index[h] = e
		return
	}
	if c.collisions == nil {
		c.collisions = map[string]int32{}
	}
	c.collisions[id] = e
}

// drop frees the index once no copy can come any more, keeping skip and won.
func (c *copies) drop() {
	c.index, c.collisions, c.entries, c.ids = nil, nil, nil, nil
}
