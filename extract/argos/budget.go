package argos

import (
	"fmt"
	"sync"
	"time"

	// Named: this package has a type window of its own.
	iw "github.com/kycetl/kycetl/internal/window"
)

// DefaultDailyCalls is the vendor's quota: 500,000 calls per project and UTC
// day (reset at 00:00 UTC), GET and POST together.
const DefaultDailyCalls = 500_000

// Budget counts API calls against a daily limit per project. Calls are
// counted on the UTC day the clock shows when they are settled; the count
// starts again at 00:00 UTC. An Extractor reserves an estimate before it
// starts an API day and settles the reservation with the calls actually
// made when the day is fetched; one Budget may be shared by the extractors
// of one project. It is safe for concurrent use.
type Budget struct {
	mu       sync.Mutex
	limit    int64
	now      func() time.Time
	day      time.Time // the UTC day spent counts
	spent    int64
	reserved int64
	seeds    []seed
}

// BudgetOption configures a Budget.
type BudgetOption func(*Budget)

// WithBudgetClock sets the clock that decides the UTC day (default
// time.Now).
func WithBudgetClock(now func() time.Time) BudgetOption {
	return func(b *Budget) {
		if now != nil {
			b.now = now
		}
	}
}

// WithSpent seeds the budget with calls already made on UTC day day, by
// earlier runs (the sum of load_runs.api_calls of today's work): a second
// run of the day starts from what is left. Calls of another day than the
// current one are ignored; seeds of the same day add up.
func WithSpent(day time.Time, calls int64) BudgetOption {
	return func(b *Budget) { b.seeds = append(b.seeds, seed{Day(day), max(calls, 0)}) }
}

type seed struct {
	day   time.Time
	calls int64
}

// ErrBudgetTooSmall is NewBudget's error for a limit below MinDailyCalls.
var ErrBudgetTooSmall = iw.ErrBudgetTooSmall

// NewBudget returns a budget of limit calls per UTC day.
func NewBudget(limit int64, opts ...BudgetOption) (*Budget, error) {
	if limit < MinDailyCalls {
		return nil, fmt.Errorf("%w: a call budget of %d calls a day cannot cover one API day: %d calls are set aside before a day's cost is known, so give at least %d", ErrBudgetTooSmall, limit, MinDailyCalls, MinDailyCalls)
	}
	b := &Budget{limit: limit, now: time.Now}
	for _, o := range opts {
		o(b)
	}
	b.day = Day(b.now())
	for _, s := range b.seeds {
		if s.day.Equal(b.day) {
			b.spent += s.calls
		}
	}
	return b, nil
}

// roll starts a new count when the UTC day changed. Reservations in flight
// carry over: they are settled into the new day.
func (b *Budget) roll() {
	if d := Day(b.now()); !d.Equal(b.day) {
		b.day, b.spent = d, 0
	}
}

// Limit is the number of calls allowed per UTC day.
func (b *Budget) Limit() int64 { return b.limit }

// Day is the UTC day being counted.
func (b *Budget) Day() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll()
	return b.day
}

// Spent is the number of calls counted on the current UTC day.
func (b *Budget) Spent() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll()
	return b.spent
}

// Remaining is the number of calls left today, after the calls spent and
// those reserved by API days in flight; never negative.
func (b *Budget) Remaining() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll()
	return max(b.limit-b.spent-b.reserved, 0)
}

// Spend counts calls made outside an Extractor with the same key.
func (b *Budget) Spend(calls int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll()
	b.spent += max(calls, 0)
}

// reserve sets n calls aside if that many are left today.
func (b *Budget) reserve(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll()
	if b.spent+b.reserved+n > b.limit {
		return false
	}
	b.reserved += n
	return true
}

// settle replaces a reservation by the calls actually made.
func (b *Budget) settle(reserved, calls int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll()
	b.reserved = max(b.reserved-reserved, 0)
	b.spent += max(calls, 0)
}
