package argos

import (
	"time"

	// Named: this package has a type window of its own.
	iw "github.com/kycetl/kycetl/internal/window"
)

// The days, items, work and errors of a window are the pipeline's, in no
// vendor's terms (internal/window); these names keep this package's code
// and its callers reading as before.
type (
	Key         = iw.Key
	Item        = iw.Item
	BadItem     = iw.BadItem
	DayItems    = iw.DayItems
	DayFailure  = iw.DayFailure
	DayErrors   = iw.DayErrors
	BudgetError = iw.BudgetError
	Stats       = iw.Stats // the work of a call chain
)

// DateLayout is the API's date format for start_date, end_date and partitions.
const DateLayout = iw.DateLayout

// MinDailyCalls is the smallest daily call budget: what an Extractor sets
// aside for an API day before it knows what the window's days cost.
const MinDailyCalls = iw.MinDailyCalls

// ErrBudgetExhausted is window.ErrBudgetExhausted: a window stopped for the
// call budget.
var ErrBudgetExhausted = iw.ErrBudgetExhausted

// Day truncates t to its UTC calendar day.
func Day(t time.Time) time.Time { return iw.Day(t) }

// FormatDate renders a day as the API and the partitions spell it.
func FormatDate(t time.Time) string { return iw.FormatDate(t) }

// Newer reports whether a is a newer version of a submission than b, by
// updated_at; on a tie the later-seen copy (a) wins, so a re-fetch replaces.
func Newer(a, b Key) bool { return iw.Newer(a, b) }
