// Package pool keeps a bounded number of reusable values, such as zstd
// encoders or batch buffers, across garbage collections. sync.Pool empties
// at every collection, and an import collects often: making megabyte
// buffers and encoders again after each one was a third of the bytes it
// allocated.
package pool

// Pool holds up to its capacity of free values; Get makes a new one when
// none is free, and Put drops a value when the pool is full. Safe for
// concurrent use.
type Pool[T any] struct {
	free  chan T
	fresh func() T
}

// New makes a pool of at most size free values, made by fresh.
func New[T any](size int, fresh func() T) *Pool[T] {
	return &Pool[T]{free: make(chan T, size), fresh: fresh}
}

// Get returns a free value, or a fresh one.
func (p *Pool[T]) Get() T {
	select {
	case v := <-p.free:
		return v
	default:
		return p.fresh()
	}
}

// Put returns v for reuse; the caller must not use it afterwards.
func (p *Pool[T]) Put(v T) {
	select {
	case p.free <- v:
	default:
	}
}
