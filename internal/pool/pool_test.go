package pool

import "testing"

func TestPoolReusesUpToItsSize(t *testing.T) {
	made := 0
	p := New(2, func() *int { made++; n := made; return &n })
	a, b, c := p.Get(), p.Get(), p.Get()
	if made != 3 {
		t.Fatalf("made %d values for 3 gets from an empty pool, want 3", made)
	}
	p.Put(a)
	p.Put(b)
	p.Put(c) // the pool is full: dropped
	if got := []*int{p.Get(), p.Get()}; got[0] != a || got[1] != b {
		t.Errorf("got %v, %v back; want the first two put", *got[0], *got[1])
	}
	if p.Get(); made != 4 {
		t.Errorf("made %d values, want a fourth once the pool is empty", made)
	}
}
