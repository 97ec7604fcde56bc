package argos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fastjson"
)

// errList is several causes in one line.
type errList []error

func (l errList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "; ")
}

func (l errList) Unwrap() []error { return l }

// err is the one error of a list of one, or the list.
func (l errList) err() error {
	if len(l) == 1 {
		return l[0]
	}
	return l
}

// Extractor extracts windows of UTC days through a Client.
type Extractor struct {
	c           *Client
	margin      int
	concurrency int
	restarts    int
	budget      *Budget
	optErrors   []error
	// checked is the work of Check calls not yet counted in a window: the
	// next window adds it to its first API day, so that days' Stats count
	// every call.
	checkedMu sync.Mutex
	checked   Stats
}

// ExtractorOption configures an Extractor.
type ExtractorOption func(*Extractor)

// WithMargin sets how many API days are fetched beyond each end of a window
// (default 1, enough for any API zone within ±24h of UTC). Negative values
// are read as 0.
func WithMargin(days int) ExtractorOption {
	return func(e *Extractor) { e.margin = max(days, 0) }
}

// DefaultConcurrency is how many API days are fetched at once by default.
const DefaultConcurrency = 4

// WithConcurrency sets how many API days (day slices) are fetched at once
// and how many days the Window callback may handle at once (default 4).
// With 1, fetching and handling alternate, one day at a time.
func WithConcurrency(n int) ExtractorOption {
	return func(e *Extractor) {
		if n < 1 {
			e.optErrors = append(e.optErrors, fmt.Errorf("%w: concurrency %d is below 1", ErrInvalidOption, n))
			return
		}
		e.concurrency = n
	}
}

// WithBudget sets the daily call budget the extractor spends from (default:
// its own budget of DefaultDailyCalls, counting only its own calls).
func WithBudget(b *Budget) ExtractorOption {
	return func(e *Extractor) {
		if b == nil {
			e.optErrors = append(e.optErrors, fmt.Errorf("%w: the call budget is nil", ErrInvalidOption))
			return
		}
		e.budget = b
	}
}

// WithChainRestarts sets how often an API day whose page chain stalls (a
// repeated nextpageKey, ErrPageStall) is fetched again from its first page
// before the day fails (default 3).
func WithChainRestarts(n int) ExtractorOption {
	return func(e *Extractor) {
		if n < 0 {
			e.optErrors = append(e.optErrors, fmt.Errorf("chain restarts %d is negative", n))
			return
		}
		e.restarts = n
	}
}

// NewExtractor returns an extractor over c. Invalid options make Window
// fail.
func NewExtractor(c *Client, opts ...ExtractorOption) *Extractor {
	e := &Extractor{c: c, margin: 1, concurrency: DefaultConcurrency, restarts: 3}
	for _, o := range opts {
		o(e)
	}
	if e.budget == nil {
		e.budget, _ = NewBudget(DefaultDailyCalls) // a positive constant cannot fail
	}
	return e
}

// Budget returns the call budget the extractor spends from.
func (e *Extractor) Budget() *Budget { return e.budget }

// firstDayEstimate is the reservation for an API day before any day of the
// window was fetched; later days reserve the most calls any fetched day
// took.
const firstDayEstimate = MinDailyCalls

// Check makes sure that a window starting on day from can start, before a
// run writes anything: that the call budget covers its first API day
// (else a *BudgetError that says nothing was done), and, with one call of
// one item of that API day counted on the budget, that the API accepts the
// client's keys (else an error of kind ErrCredentials). Other errors of
// that call are returned too, after the client's retries. With no budget
// left for the call, the keys are not checked; Window then stops at once
// anyway.
func (e *Extractor) Check(ctx context.Context, from time.Time) error {
	if err := errors.Join(e.optErrors...); err != nil {
		return fmt.Errorf("configuring the extractor: %w", err)
	}
	from = Day(from)
	if e.budget.Remaining() < firstDayEstimate {
		return &BudgetError{Limit: e.budget.Limit(), Day: e.budget.Day(), ContinueFrom: from, WindowFrom: from, Left: e.budget.Remaining()}
	}
	if !e.budget.reserve(1) {
		return nil
	}
	var st Stats
	apiDay := from.AddDate(0, 0, -e.margin)
	_, err := e.c.page(ctx, Query{StartDate: apiDay, EndDate: apiDay, Count: 1}, &st)
	e.budget.settle(1, st.Calls)
	st.Pages = 0 // a probe, not a page of the window
	e.checkedMu.Lock()
	e.checked.Add(st)
	e.checkedMu.Unlock()
	if err != nil {
		return fmt.Errorf("checking the API with one call for %s: %w", FormatDate(apiDay), err)
	}
	return nil
}

// Window extracts the UTC days from..to (inclusive) and calls fn once for
// each complete day.
//
// Days and order: API days from-margin..to+margin are fetched by up to
// concurrency day slices at once, started in ascending order. Their items
// are merged in ascending API-day order whatever order they arrive in, so
// the result is the same at every concurrency. Day D is complete when API
// days up to D+margin are merged. fn is called exactly once for each
// complete day, never for a failed or skipped one, from up to concurrency
// goroutines at once; the calls are launched in ascending day order, but
// with concurrency > 1 they overlap and may begin and end in any order, so
// fn must be safe for concurrent use. With concurrency 1, fn runs for one
// day after the other and the next API day is fetched only after it
// returns. Every fn call has returned when Window returns. At most
// 2×concurrency−1 API days are held (being fetched, waiting to be merged,
// or being handled) at once, so memory does not grow with the window.
//
// Items are kept by their own created_at; copies of one submission_id keep
// the newest updated_at (on a tie, the copy from the later API day, or the
// later page). Items that cannot be read (not an object, no submission_id,
// no readable created_at) go to Bad of the day of the API day that
// returned them, clamped into the window. An item that arrives after its
// day was handed on (possible only when the API shifts days by more than
// the margin) goes to Bad of the current day with a reason saying so, never
// silently away.
//
// Page size: the window asks for the client's page size. When the API
// refuses that count (ErrCountRefused), the window goes on with half of
// it, down to 1, for the rest of the window and in every day slice: the
// refused call is counted (Stats.Calls, and so the call budget) and the
// same page is asked for again. The lowered size is logged once at warn
// level. A refusal of a count of 1 fails the day like any other error.
//
// Errors: an error from fn, or the end of ctx, stops the window (no fn call
// starts after it) and is returned; so does an API day that fails with an
// error of kind ErrCredentials (wrong keys fail every day alike), at once:
// no fn call starts after it. An API day that still fails after the
// client's retries (and, for a stalled chain, the extractor's restarts)
// does not stop the window: the days that need it (D−margin..D+margin) are
// never handed to fn, so their previous partitions stay, and the window
// goes on with the other days. Before each API day an estimate of its calls
// is reserved from the call budget; when the budget cannot cover it, no
// further API day starts and the window stops at that day boundary. Both
// end in a *DayErrors listing every day not handed on, with its cause and
// the work spent on it, and (for the budget) a *BudgetError saying from
// which day to continue.
func (e *Extractor) Window(ctx context.Context, from, to time.Time, fn func(ctx context.Context, d DayItems) error) error {
	if err := errors.Join(e.optErrors...); err != nil {
		return fmt.Errorf("configuring the extractor: %w", err)
	}
	from, to = Day(from), Day(to)
	if to.Before(from) {
		return fmt.Errorf("extracting %s..%s: the window ends before it starts", FormatDate(from), FormatDate(to))
	}
	inner, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &sliceScheduler{
		e: e, fn: fn, ctx: inner, cancel: cancel,
		w:         &window{from: from, to: to, margin: e.margin, days: map[time.Time]*dayCollector{}, next: from, failed: map[time.Time]errList{}},
		last:      to.AddDate(0, 0, e.margin),
		pending:   map[time.Time]fetchResult{},
		reserved:  map[time.Time]int64{},
		results:   make(chan fetchResult),
		handled:   make(chan handledDay),
		maxHeld:   2*e.concurrency - 1,
		nextStart: from.AddDate(0, 0, -e.margin),
	}
	s.nextMerge = s.nextStart
	e.checkedMu.Lock()
	s.checked, e.checked = e.checked, Stats{}
	e.checkedMu.Unlock()
	s.size = newPageSize(e.c.pageSize)
	s.run()
	switch {
	case s.fnErr != nil:
		return s.fnErr
	case s.credErr != nil:
		return fmt.Errorf("extracting %s..%s: %w", FormatDate(from), FormatDate(to), s.credErr)
	case context.Cause(ctx) != nil:
		return fmt.Errorf("extracting %s..%s: %w", FormatDate(from), FormatDate(to), context.Cause(ctx))
	}
	return s.result()
}

// sliceScheduler schedules the day slices of one Window call. Only its run loop
// touches its fields; fetches and fn calls run on their own goroutines and
// report back over channels.
type sliceScheduler struct {
	e      *Extractor
	fn     func(context.Context, DayItems) error
	ctx    context.Context
	cancel context.CancelFunc
	w      *window
	size   *pageSize // shared by the window's day slices

	last      time.Time // the last API day
	nextStart time.Time // the next API day to fetch
	nextMerge time.Time // the next API day to merge
	pending   map[time.Time]fetchResult
	reserved  map[time.Time]int64 // budget reservations of fetches in flight
	estimate  int64               // most calls an API day of the window took; 0 before the first
	queue     []DayItems          // complete days waiting for a handler

	fetching, handling, held, maxHeld int

	results chan fetchResult
	handled chan handledDay

	checked   Stats // Check's work, added to the first API day
	stopped   bool  // the budget stopped the window
	budgetErr *BudgetError
	credErr   error // the API refused the credentials (ErrCredentials)
	fnErr     error
	failures  []DayFailure
}

type fetchResult struct {
	f   fetched
	err error
}

type handledDay struct {
	day time.Time
	err error
}

func (s *sliceScheduler) aborted() bool {
	return s.fnErr != nil || s.credErr != nil || s.ctx.Err() != nil
}

func (s *sliceScheduler) run() {
	for {
		s.dispatch()
		if s.fetching == 0 && s.handling == 0 &&
			(s.aborted() || len(s.queue) == 0 && (s.stopped || s.nextStart.After(s.last))) {
			return
		}
		select {
		case r := <-s.results:
			s.fetching--
			s.e.budget.settle(s.reserved[r.f.day], r.f.stats.Calls)
			delete(s.reserved, r.f.day)
			s.estimate = max(s.estimate, r.f.stats.Calls)
			if r.f.day.Equal(s.w.from.AddDate(0, 0, -s.e.margin)) {
				r.f.stats.Add(s.checked) // already settled on the budget
			}
			if r.err != nil && s.ctx.Err() != nil {
				s.held-- // cut short by the end of the window, not a failure
				continue
			}
			if errors.Is(r.err, ErrCredentials) {
				// No call can succeed with these keys: stop the window
				// rather than fail every day the same way.
				s.held--
				s.credErr = r.err
				s.cancel()
				continue
			}
			s.pending[r.f.day] = r
			s.merge()
		case h := <-s.handled:
			s.handling--
			s.held--
			if h.err != nil && s.fnErr == nil {
				s.fnErr = fmt.Errorf("handling %s: %w", FormatDate(h.day), h.err)
				s.cancel()
			}
		}
	}
}

// dispatch hands complete days to fn and starts API days, within the
// limits of concurrency, memory and budget.
func (s *sliceScheduler) dispatch() {
	if s.aborted() {
		return
	}
	for len(s.queue) > 0 && s.handling < s.e.concurrency {
		d := s.queue[0]
		s.queue = s.queue[1:]
		s.handling++
		go func() { s.handled <- handledDay{d.Day, s.fn(s.ctx, d)} }()
	}
	for !s.stopped && !s.nextStart.After(s.last) && s.fetching < s.e.concurrency && s.held < s.maxHeld {
		est := s.estimate
		if est == 0 {
			est = firstDayEstimate
		}
		if !s.e.budget.reserve(est) {
			// Slices in flight may settle below their reservation; stop
			// only when none is left to do so.
			if s.fetching == 0 {
				s.stopped = true
				s.budgetErr = &BudgetError{Limit: s.e.budget.Limit(), Day: s.e.budget.Day(), WindowFrom: s.w.from, Left: s.e.budget.Remaining()}
				s.e.c.log.Warn().Str("api_day", FormatDate(s.nextStart)).Int64("limit", s.e.budget.Limit()).
					Int64("spent", s.e.budget.Spent()).Msg("call budget reached, stopping at a day boundary")
			}
			return
		}
		a := s.nextStart
		s.reserved[a] = est
		s.nextStart = a.AddDate(0, 0, 1)
		s.fetching++
		s.held++
		go func() {
			f, err := s.e.fetch(s.ctx, s.size, a)
			s.results <- fetchResult{f, err}
		}()
	}
}

// merge merges fetched API days in ascending order and queues (or fails)
// each window day that becomes complete.
func (s *sliceScheduler) merge() {
	for {
		r, ok := s.pending[s.nextMerge]
		if !ok {
			return
		}
		delete(s.pending, s.nextMerge)
		if r.err != nil {
			s.w.fail(r.f, r.err)
		} else {
			s.w.merge(r.f)
		}
		d := s.nextMerge.AddDate(0, 0, -s.e.margin)
		s.nextMerge = s.nextMerge.AddDate(0, 0, 1)
		if d.Before(s.w.from) || d.After(s.w.to) {
			s.held--
			continue
		}
		items, failure := s.w.take(d)
		if failure != nil {
			s.failures = append(s.failures, *failure)
			s.held--
			continue
		}
		s.queue = append(s.queue, items)
	}
}

// result reports the days not handed on after a window that ran to its end
// or to the budget's day boundary.
func (s *sliceScheduler) result() error {
	if s.stopped {
		s.budgetErr.ContinueFrom = s.w.next
		for d := s.w.next; !d.After(s.w.to); d = d.AddDate(0, 0, 1) {
			f := DayFailure{Day: d, Err: s.budgetErr}
			if b := s.w.days[d]; b != nil {
				f.Stats = b.stats
			}
			if errs := s.w.failed[d]; len(errs) > 0 {
				f.Err = errs.err()
			}
			s.failures = append(s.failures, f)
		}
	}
	if len(s.failures) == 0 {
		return nil
	}
	sort.Slice(s.failures, func(i, j int) bool { return s.failures[i].Day.Before(s.failures[j].Day) })
	return &DayErrors{Days: s.failures, Budget: s.budgetErr}
}

// fetched is one API day: its items, read, in the order the API sent them.
type fetched struct {
	day   time.Time
	items []Item
	bad   []BadItem
	stats Stats
}

// fetch reads one API day with the window's page size, fetching it again
// from its first page when its chain stalls, at most e.restarts times.
func (e *Extractor) fetch(ctx context.Context, size *pageSize, apiDay time.Time) (fetched, error) {
	f := fetched{day: apiDay}
	var p fastjson.Parser
	for restart := 0; ; restart++ {
		f.items, f.bad = f.items[:0], f.bad[:0]
		page := 0
		st, err := e.c.day(ctx, apiDay, size, func(items []json.RawMessage) error {
			page++
			for i, raw := range items {
				k, err := ReadKey(&p, raw)
				if err != nil {
					f.bad = append(f.bad, BadItem{
						Raw:    raw,
						Reason: err.Error(),
						Source: fmt.Sprintf("api %s page %d item %d", FormatDate(apiDay), page, i+1),
					})
					continue
				}
				f.items = append(f.items, Item{Key: k, Raw: raw})
			}
			return nil
		})
		f.stats.Add(st)
		if errors.Is(err, ErrPageStall) && ctx.Err() == nil {
			if restart < e.restarts {
				f.stats.Retries++
				e.c.log.Warn().Err(err).Str("api_day", FormatDate(apiDay)).Int("restart", restart+1).Msg("page chain stalled, fetching the day again from its first page")
				continue
			}
			err = fmt.Errorf("%w (the day's chain was fetched %d times)", err, restart+1)
		}
		return f, err
	}
}

// window is the state of one Window call: the days not yet handed on.
type window struct {
	from, to time.Time
	margin   int
	next     time.Time // the first day not yet handed on
	days     map[time.Time]*dayCollector
	failed   map[time.Time]errList // days that need a failed API day
}

// dayCollector collects one day's items until the day is handed on: one
// copy per submission_id (the newest), the unreadable items and the fetch statistics.
type dayCollector struct {
	items map[string]int // submission_id → index in list
	list  []Item
	bad   []BadItem
	stats Stats
}

func (w *window) bucket(d time.Time) *dayCollector {
	b := w.days[d]
	if b == nil {
		b = &dayCollector{items: map[string]int{}}
		w.days[d] = b
	}
	return b
}

// clamp moves an API day into the window and past the days handed on.
func (w *window) clamp(d time.Time) time.Time {
	if d.Before(w.next) {
		d = w.next
	}
	if d.After(w.to) {
		d = w.to
	}
	return d
}

// fail records a failed API day: its work goes to its day, and every day
// whose items it could hold cannot be complete.
func (w *window) fail(f fetched, err error) {
	w.bucket(w.clamp(f.day)).stats.Add(f.stats)
	for d := f.day.AddDate(0, 0, -w.margin); !d.After(f.day.AddDate(0, 0, w.margin)); d = d.AddDate(0, 0, 1) {
		if !d.Before(w.next) && !d.After(w.to) {
			w.failed[d] = append(w.failed[d], err)
		}
	}
}

func (w *window) merge(f fetched) {
	home := w.clamp(f.day)
	hb := w.bucket(home)
	hb.stats.Add(f.stats)
	hb.bad = append(hb.bad, f.bad...)
	for _, it := range f.items {
		d := Day(it.Key.CreatedAt)
		if d.Before(w.from) || d.After(w.to) {
			continue // another window's day, fetched only as margin
		}
		if d.Before(w.next) {
			hb.bad = append(hb.bad, BadItem{
				Raw: it.Raw,
				Reason: fmt.Sprintf("late: created on %s but returned by API day %s after that day was complete; re-run %s with a wider margin",
					FormatDate(d), FormatDate(f.day), FormatDate(d)),
				Source: "api " + FormatDate(f.day),
			})
			continue
		}
		b := w.bucket(d)
		if i, ok := b.items[it.Key.SubmissionID]; ok {
			if Newer(it.Key, b.list[i].Key) {
				b.list[i] = it
			}
			continue
		}
		b.items[it.Key.SubmissionID] = len(b.list)
		b.list = append(b.list, it)
	}
}

// take removes complete day d from the window: its items, sorted, or its
// failure when an API day it needs failed.
func (w *window) take(d time.Time) (DayItems, *DayFailure) {
	b := w.bucket(d)
	delete(w.days, d)
	w.next = d.AddDate(0, 0, 1)
	if errs := w.failed[d]; len(errs) > 0 {
		delete(w.failed, d)
		return DayItems{}, &DayFailure{Day: d, Err: errs.err(), Stats: b.stats}
	}
	sort.Slice(b.list, func(i, j int) bool {
		a, c := b.list[i].Key, b.list[j].Key
		if !a.CreatedAt.Equal(c.CreatedAt) {
			return a.CreatedAt.Before(c.CreatedAt)
		}
		return a.SubmissionID < c.SubmissionID
	})
	return DayItems{Day: d, Items: b.list, Bad: b.bad, Stats: b.stats}, nil
}
