// Package window is what a source and the pipeline share, in no vendor's
// terms: a window's UTC days (Day, FormatDate, ParseDate), a day's items
// with their identities (DayItems, Item, Key, Newer), the work fetching
// them took (Stats), the errors of a window whose days were not all handed
// on (DayErrors, BudgetError, ErrBudgetExhausted), and the settings a
// source's fetcher is made from (Settings, SettingError).
//
// It imports nothing of kycetl, so that both the extract seam and the
// vendor packages beneath it (which transform, and so extract, import) can
// share it without a cycle; extract/argos keeps its own names for these
// as aliases.
package window

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// DateLayout is how a day is spelt in partitions, manifests and the ledger.
const DateLayout = "2006-01-02"

// Day truncates t to its UTC calendar day.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// FormatDate renders a day as partitions spell it.
func FormatDate(t time.Time) string { return t.UTC().Format(DateLayout) }

// ErrBadDate is wrapped by ParseDate's errors.
var ErrBadDate = errors.New("not a date")

// ParseDate reads a day as FormatDate spells it, YYYY-MM-DD, as midnight
// UTC.
func ParseDate(s string) (time.Time, error) {
	t, err := time.ParseInLocation(DateLayout, s, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: want YYYY-MM-DD, got %q", ErrBadDate, s)
	}
	return t, nil
}

// ParseDay reads a day as a person may type it: YYYY-MM-DD, or YYYYMMDD
// as some vendor documents show it, surrounding space ignored; the result
// is midnight UTC. Its errors are *DayError, of kind ErrBadDate.
func ParseDay(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	layout := DateLayout
	if len(s) == 8 && strings.Trim(s, "0123456789") == "" {
		layout = "20060102"
	}
	t, err := time.ParseInLocation(layout, s, time.UTC)
	if err != nil {
		return time.Time{}, &DayError{Text: s}
	}
	return t, nil
}

// DayError is text ParseDay cannot read as a day.
type DayError struct{ Text string }

func (e *DayError) Error() string {
	s := e.Text
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return fmt.Sprintf("unrecognised time format: want YYYY-MM-DD, got %q", s)
}

// Is makes a DayError of kind ErrBadDate.
func (e *DayError) Is(target error) bool { return target == ErrBadDate }

// Key is what the pipeline must know of an item before flattening it: its
// identity, the UTC day it belongs to, and its version for deduplication.
type Key struct {
	SubmissionID string
	CreatedAt    time.Time
	UpdatedAt    time.Time // zero when the item carries no usable updated_at
}

// Newer reports whether a is a newer version of an item than b, by
// updated_at; on a tie the later-seen copy (a) wins, so a re-fetch replaces.
func Newer(a, b Key) bool {
	return !a.UpdatedAt.Before(b.UpdatedAt)
}

// Item is one item kept for its day.
type Item struct {
	Key Key
	Raw []byte // exact API bytes
}

// BadItem is an item that could not be read, for quarantine.
type BadItem struct {
	Raw    []byte
	Reason string
	Source string // where it came from: "api 2025-02-01 page 2 item 17"
}

// DayItems is one complete UTC day of a window.
type DayItems struct {
	Day   time.Time
	Items []Item // one per identity, sorted by created_at, then submission_id
	Bad   []BadItem
	// Stats is the work of fetching the day. The margin days' work is
	// added to the window's first and last day, so that the days' Stats add
	// up to the window's.
	Stats Stats
	// Stream, when set, yields items after Items, as they arrive, each to
	// yield until it fails: a day too large to hold (Fractal's user list of
	// millions) is written to the raw archive as it is read. It returns the
	// work it did, added to Stats. An error fails the day, and nothing of
	// it is kept.
	Stream func(ctx context.Context, yield func(item []byte) error) (Stats, error)
}

// Stats is the work of fetching: pages, calls, retries and waits.
type Stats struct {
	Pages   int64         // pages received
	Calls   int64         // HTTP requests made, retries and page sizes the API refused included
	Retries int64         // requests repeated after a failure, and restarts of a stalled chain
	Waited  time.Duration // time slept before retries, Throttled included
	// Throttled is the part of Waited that followed a 429 Too Many
	// Requests (the Retry-After the API asked for, or the backoff).
	Throttled time.Duration
}

// Add adds o to s.
func (s *Stats) Add(o Stats) {
	s.Pages += o.Pages
	s.Calls += o.Calls
	s.Retries += o.Retries
	s.Waited += o.Waited
	s.Throttled += o.Throttled
}

// DayFailure is a window day that was not handed on: a fetch it needs
// failed, or the call budget stopped the window before it.
type DayFailure struct {
	Day time.Time
	// Err is the failure of the fetch(es) the day needs (errors.Is finds
	// the cause), or the window's *BudgetError for a day skipped for the
	// budget.
	Err error
	// Stats is the work spent for the day (a failed fetch's calls and
	// retries included), so that handed-on and failed days add up to the
	// window's calls.
	Stats Stats
}

// Skipped reports whether the day was left out for the call budget rather
// than failed.
func (f DayFailure) Skipped() bool {
	var be *BudgetError
	return errors.As(f.Err, &be)
}

// DayErrors is the error of a window whose other days were handed on: it
// lists every day that was not, in ascending order. errors.Is and
// errors.As reach each day's cause and the *BudgetError.
type DayErrors struct {
	Days   []DayFailure
	Budget *BudgetError // set when the window stopped for the call budget
}

// Failed returns the days that failed (not those skipped for the budget).
func (e *DayErrors) Failed() []DayFailure {
	var out []DayFailure
	for _, f := range e.Days {
		if !f.Skipped() {
			out = append(out, f)
		}
	}
	return out
}

func (e *DayErrors) Error() string {
	var parts []string
	if e.Budget != nil {
		parts = append(parts, e.Budget.Error())
	}
	if failed := e.Failed(); len(failed) > 0 {
		days := make([]string, len(failed))
		for i, f := range failed {
			days[i] = FormatDate(f.Day)
		}
		noun := "days"
		if len(failed) == 1 {
			noun = "day"
		}
		parts = append(parts, fmt.Sprintf("%d %s failed (%s): %v", len(failed), noun, strings.Join(days, ", "), failed[0].Err))
	}
	return strings.Join(parts, "; ")
}

// Unwrap returns the budget error and every failed day's error.
func (e *DayErrors) Unwrap() []error {
	var out []error
	if e.Budget != nil {
		out = append(out, e.Budget)
	}
	for _, f := range e.Failed() {
		out = append(out, f.Err)
	}
	return out
}

// MinDailyCalls is the smallest daily call budget: what a fetcher sets
// aside for a day before it knows what the window's days cost. A smaller
// budget could never start a window.
const MinDailyCalls = 10

// ErrBudgetTooSmall is the error of a daily call budget below
// MinDailyCalls.
var ErrBudgetTooSmall = errors.New("the call budget is too small")

// Settings are what a source's fetcher is made from: a project's endpoint,
// keys and limits, read from the configuration or the command line. A zero
// number is the source's default.
type Settings struct {
	URL    string // the API's base URL
	Key    string // the API key (Fractal: the OAuth2 client id)
	Secret string // a second secret the API may use (ARGOS: secure data transfer; Fractal: the client secret); "" for none
	// AuthURL is the base URL of the API's token endpoint, for a source
	// behind OAuth2 (Fractal); "" for the source's default.
	AuthURL string
	// Clock is the fetcher's now, for a source whose API answers for now
	// only (Fractal); nil for time.Now.
	Clock func() time.Time
	// PageSize is the items asked for per page.
	PageSize int
	// Concurrency is how many API days are fetched at once.
	Concurrency int
	// DailyCalls is the call budget per project and UTC day, at least
	// MinDailyCalls (ErrBudgetTooSmall).
	DailyCalls int64
	Log        zerolog.Logger
}

// Kinds of errors that say which of the Settings a source's error is
// about, so that a caller that knows where it read them can say so: the URL,
// the Key, the Secret (each wrong, or refused by the API), or the
// credentials the API refused, so that no call of a run can succeed.
var (
	ErrAPIURL      = errors.New("the API base URL is wrong")
	ErrAPIKey      = errors.New("the API key is wrong")
	ErrSecretKey   = errors.New("the secret key is wrong")
	ErrCredentials = errors.New("the API refused the credentials")
)

// SettingError is a source's refusal of one of its Settings.
type SettingError struct {
	Setting string // the field of Settings: "DailyCalls", ...
	Err     error
}

func (e *SettingError) Error() string { return "setting " + e.Setting + ": " + e.Err.Error() }

// Unwrap returns the refusal's cause.
func (e *SettingError) Unwrap() error { return e.Err }

// ErrBudgetExhausted is matched (errors.Is) by a window that stopped at a
// day boundary because the day's call budget could not cover the next
// day; errors.As with *BudgetError tells from which day to continue.
var ErrBudgetExhausted = errors.New("call budget exhausted")

// BudgetError says that a window stopped for the call budget, and where to
// continue.
type BudgetError struct {
	Limit        int64     // calls per UTC day
	Day          time.Time // the UTC day whose budget is spent
	ContinueFrom time.Time // the first window day not handed on
	WindowFrom   time.Time // the first day of the window
	Left         int64     // calls left when the window stopped (Check)
}

// NothingDone reports whether the window stopped before its first day:
// there is nothing to continue from, only the same window to run again.
func (e *BudgetError) NothingDone() bool { return !e.ContinueFrom.After(e.WindowFrom) }

func (e *BudgetError) Error() string {
	if e.NothingDone() {
		return fmt.Sprintf("call budget of %d for %s (UTC) reached before the first day of the window: nothing was loaded "+
			"(%d calls left, %d needed to start a day); run the window again after 00:00 UTC, or with a larger --daily-calls",
			e.Limit, FormatDate(e.Day), e.Left, MinDailyCalls)
	}
	return fmt.Sprintf("call budget of %d for %s (UTC) reached; continue with --from %s",
		e.Limit, FormatDate(e.Day), FormatDate(e.ContinueFrom))
}

// Is makes errors.Is(err, ErrBudgetExhausted) true.
func (e *BudgetError) Is(target error) bool { return target == ErrBudgetExhausted }
