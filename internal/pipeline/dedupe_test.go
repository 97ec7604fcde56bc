package pipeline

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract/argos"
)

// TestCopies keeps the newest copy of each submission, the later one on a
// tie, whether or not IDs share a hash.
func TestCopies(t *testing.T) {
	t0 := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	items := []argos.Key{
		{SubmissionID: "a", UpdatedAt: t0},                      // 0: superseded by 2
		{SubmissionID: "b", UpdatedAt: t0.Add(time.Hour)},       // 1: kept (3 is older)
		{SubmissionID: "a", UpdatedAt: t0.Add(time.Minute)},     // 2: superseded by 5 (tie, later)
		{SubmissionID: "b", UpdatedAt: t0},                      // 3: superseded
		{SubmissionID: "c", UpdatedAt: time.Time{}},             // 4: kept
		{SubmissionID: "a", UpdatedAt: t0.Add(time.Minute)},     // 5: kept
		{SubmissionID: "d", UpdatedAt: t0.Add(time.Nanosecond)}, // 6: superseded by 7
		{SubmissionID: "d", UpdatedAt: t0.Add(2 * time.Nanosecond)},
	}
	want, wantWon := []int{0, 2, 3, 6}, []int{1, 5, 7}
	for _, name := range []string{"hashed", "all colliding"} {
		c := newCopies()
		if name == "all colliding" {
			c.hash = func(string) uint64 { return 42 }
		}
		for ord, k := range items {
			c.add(ord, k)
		}
		got := slices.Sorted(maps.Keys(c.skip))
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: superseded %v, want %v", name, got, want)
		}
		if got := slices.Sorted(maps.Keys(c.won)); fmt.Sprint(got) != fmt.Sprint(wantWon) {
			t.Errorf("%s: kept over another copy %v, want %v", name, got, wantWon)
		}
	}
}
