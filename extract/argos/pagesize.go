package argos

import "sync/atomic"

// pageSize is the count one run asks for per page: the client's page size,
// halved for the rest of the run whenever the API refuses it
// (ErrCountRefused). The day slices of a run share one, so that a size
// one slice learned is too large is not asked for again by the others. It
// is safe for concurrent use.
type pageSize struct {
	n        atomic.Int64 // the size to ask for
	reported atomic.Int64 // the size last reported as working (see settled)
}

func newPageSize(n int) *pageSize {
	p := &pageSize{}
	p.n.Store(int64(n))
	p.reported.Store(int64(n))
	return p
}

// get is the size to ask for.
func (p *pageSize) get() int { return int(p.n.Load()) }

// refused records that the API refused a page of count items and returns
// the size to ask for next: half of count, or the current size when
// another slice has already lowered it below count. ok is false when count
// was 1: nothing smaller can be asked for.
func (p *pageSize) refused(count int) (next int, ok bool) {
	for {
		cur := p.n.Load()
		if cur < int64(count) {
			return int(cur), true
		}
		if count <= 1 {
			return 0, false
		}
		half := int64(count / 2)
		if p.n.CompareAndSwap(cur, half) {
			return int(half), true
		}
	}
}

// settled is called after a page was served: when the size is lower than
// last reported, it returns the sizes before and now, once for each change
// whatever the number of slices, so that the change is logged once.
func (p *pageSize) settled() (before, now int, changed bool) {
	for {
		r, n := p.reported.Load(), p.n.Load()
		if n >= r {
			return 0, 0, false
		}
		if p.reported.CompareAndSwap(r, n) {
			return int(r), int(n), true
		}
	}
}
