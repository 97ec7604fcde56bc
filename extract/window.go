package extract

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/valyala/fastjson"

	"github.com/kycetl/kycetl/argos"
)

// Item is one submission kept for its day.
type Item struct {
	Key argos.Key
	Raw []byte // exact API bytes
}

// BadItem is an item that could not be read as a submission, for quarantine.
type BadItem struct {
	Raw    []byte
	Reason string
	Source string // where it came from: "api 2025-02-01 page 2 item 17"
}

// DayItems is one complete UTC day of a window.
type DayItems struct {
	Day   time.Time
	Items []Item // one per submission_id, sorted by created_at, then submission_id
	Bad   []BadItem
	// Stats is the work of fetching API day Day. The margin days' work is
	// added to the window's first and last day, so that the days' Stats add
	// up to the window's.
	Stats Stats
}

// Extractor extracts windows of UTC days through a Client.
type Extractor struct {
	c      *Client
	margin int
}

// ExtractorOption configures an Extractor.
type ExtractorOption func(*Extractor)

// WithMargin sets how many API days are fetched beyond each end of a window
// (default 1, enough for any API zone within ±24h of UTC). Negative values
// are read as 0.
func WithMargin(days int) ExtractorOption {
	return func(e *Extractor) { e.margin = max(days, 0) }
}

// NewExtractor returns an extractor over c.
func NewExtractor(c *Client, opts ...ExtractorOption) *Extractor {
	e := &Extractor{c: c, margin: 1}
	for _, o := range opts {
		o(e)
	}
	return e
}

// Window extracts the UTC days from..to (inclusive) and calls fn once per
// day, in ascending order, as soon as the day is complete. An error from fn
// stops the window and is returned.
//
// Items are kept by their own created_at; copies of one submission_id keep
// the newest updated_at (on a tie, the one fetched last). Items that cannot
// be read (not an object, no submission_id, no readable created_at) go to Bad
// of the day of the API day that returned them, clamped into the window. An
// item that arrives after its day was handed on (possible only when the API
// shifts days by more than the margin) goes to Bad of the current day with a
// reason saying so, never silently away.
func (e *Extractor) Window(ctx context.Context, from, to time.Time, fn func(ctx context.Context, d DayItems) error) error {
	from, to = argos.Day(from), argos.Day(to)
	if to.Before(from) {
		return fmt.Errorf("extracting %s..%s: the window ends before it starts", argos.FormatDate(from), argos.FormatDate(to))
	}
	w := &window{from: from, to: to, days: map[time.Time]*dayBucket{}, next: from}
	first, last := from.AddDate(0, 0, -e.margin), to.AddDate(0, 0, e.margin)
	// API days are fetched one after the other; a parallel version fetches
	// ahead and merges the fetched days in this same order.
	for a := first; !a.After(last); a = a.AddDate(0, 0, 1) {
		if err := context.Cause(ctx); err != nil {
			return fmt.Errorf("extracting %s: %w", argos.FormatDate(a), err)
		}
		f, err := e.fetch(ctx, a)
		if err != nil {
			return err
		}
		w.merge(f)
		if d := a.AddDate(0, 0, -e.margin); !d.Before(from) && !d.After(to) {
			if err := w.emit(ctx, d, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// fetched is one API day: its items, read, in the order the API sent them.
type fetched struct {
	day   time.Time
	items []Item
	bad   []BadItem
	stats Stats
}

func (e *Extractor) fetch(ctx context.Context, apiDay time.Time) (fetched, error) {
	f := fetched{day: apiDay}
	var p fastjson.Parser
	page := 0
	st, err := e.c.Day(ctx, apiDay, func(items []json.RawMessage) error {
		page++
		for i, raw := range items {
			k, err := argos.ReadKey(&p, raw)
			if err != nil {
				f.bad = append(f.bad, BadItem{
					Raw:    raw,
					Reason: err.Error(),
					Source: fmt.Sprintf("api %s page %d item %d", argos.FormatDate(apiDay), page, i+1),
				})
				continue
			}
			f.items = append(f.items, Item{Key: k, Raw: raw})
		}
		return nil
	})
	f.stats = st
	return f, err
}

// window is the state of one Window call: the days not yet handed on.
type window struct {
	from, to time.Time
	next     time.Time // the first day not yet handed on
	days     map[time.Time]*dayBucket
}

type dayBucket struct {
	items map[string]int // submission_id → index in list
	list  []Item
	bad   []BadItem
	stats Stats
}

func (w *window) bucket(d time.Time) *dayBucket {
	b := w.days[d]
	if b == nil {
		b = &dayBucket{items: map[string]int{}}
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

func (w *window) merge(f fetched) {
	home := w.clamp(f.day)
	hb := w.bucket(home)
	hb.stats.Add(f.stats)
	hb.bad = append(hb.bad, f.bad...)
	for _, it := range f.items {
		d := argos.Day(it.Key.CreatedAt)
		if d.Before(w.from) || d.After(w.to) {
			continue // another window's day, fetched only as margin
		}
		if d.Before(w.next) {
			hb.bad = append(hb.bad, BadItem{
				Raw: it.Raw,
				Reason: fmt.Sprintf("late: created on %s but returned by API day %s after that day was complete; re-run %s with a wider margin",
					argos.FormatDate(d), argos.FormatDate(f.day), argos.FormatDate(d)),
				Source: "api " + argos.FormatDate(f.day),
			})
			continue
		}
		b := w.bucket(d)
		if i, ok := b.items[it.Key.SubmissionID]; ok {
			if argos.Newer(it.Key, b.list[i].Key) {
				b.list[i] = it
			}
			continue
		}
		b.items[it.Key.SubmissionID] = len(b.list)
		b.list = append(b.list, it)
	}
}

func (w *window) emit(ctx context.Context, d time.Time, fn func(context.Context, DayItems) error) error {
	b := w.bucket(d)
	delete(w.days, d)
	w.next = d.AddDate(0, 0, 1)
	sort.Slice(b.list, func(i, j int) bool {
		a, c := b.list[i].Key, b.list[j].Key
		if !a.CreatedAt.Equal(c.CreatedAt) {
			return a.CreatedAt.Before(c.CreatedAt)
		}
		return a.SubmissionID < c.SubmissionID
	})
	if err := fn(ctx, DayItems{Day: d, Items: b.list, Bad: b.bad, Stats: b.stats}); err != nil {
		return fmt.Errorf("handling %s: %w", argos.FormatDate(d), err)
	}
	return nil
}
