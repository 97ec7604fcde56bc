package argos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// Day pages through API day apiDay (start_date = end_date = apiDay, read by
// the API in its own zone) to the end, handing each page's items to fn in
// order. It returns the work done, also on error. Errors name the page:
// "fetching page 3 of 2025-02-01: ...".
//
// A count the API refuses (ErrCountRefused) is asked for again with half
// the page size, down to 1, and the smaller size is kept for the rest of
// the call (an Extractor keeps it for the rest of its window, across its
// day slices). A page the API finds too large (413, ErrPageTooLarge) is
// asked for again with half the count, and the smaller count is kept for
// the rest of the day. Either repeated request is an API call (Stats.Calls)
// but not a retry.
func (c *Client) Day(ctx context.Context, apiDay time.Time, fn func(items []json.RawMessage) error) (Stats, error) {
	return c.day(ctx, apiDay, newPageSize(c.pageSize), fn)
}

// day is Day with the page size of the run.
func (c *Client) day(ctx context.Context, apiDay time.Time, size *pageSize, fn func(items []json.RawMessage) error) (Stats, error) {
	var st Stats
	day := FormatDate(apiDay)
	q := Query{StartDate: apiDay, EndDate: apiDay}
	dayMax := math.MaxInt // lowered by 413 answers, for this day only
	seen := map[PageKey]int{}
	for n := 1; ; n++ {
		if err := context.Cause(ctx); err != nil {
			return st, fmt.Errorf("fetching page %d of %s: %w", n, day, err)
		}
		p, err := c.fittedPage(ctx, q, size, &dayMax, &st, day, n)
		if err != nil {
			return st, fmt.Errorf("fetching page %d of %s: %w", n, day, err)
		}
		if p.Next != nil {
			if prev, ok := seen[*p.Next]; ok {
				return st, fmt.Errorf("fetching page %d of %s: %w: nextpageKey (id %q, created_at %q) was already returned with page %d",
					n, day, ErrPageStall, p.Next.ID, p.Next.CreatedAt, prev)
			}
			seen[*p.Next] = n
		}
		c.log.Debug().Str("day", day).Int("page", n).Int("items", len(p.Items)).Bool("more", p.Next != nil).Msg("fetched page")
		if err := fn(p.Items); err != nil {
			return st, fmt.Errorf("handling page %d of %s: %w", n, day, err)
		}
		if p.Next == nil {
			return st, nil
		}
		q.Next = p.Next
	}
}

// fittedPage fetches page n of day q with the run's page size (at most
// dayMax), asking again with fewer items while the API refuses the count
// or finds the page too large.
func (c *Client) fittedPage(ctx context.Context, q Query, size *pageSize, dayMax *int, st *Stats, day string, n int) (Page, error) {
	q.page = n
	for {
		q.Count = min(*dayMax, size.get())
		p, err := c.page(ctx, q, st)
		switch {
		case err == nil:
			if before, now, changed := size.settled(); changed {
				c.log.Warn().Int("page_size_before", before).Int("page_size", now).Str("day", day).Int("page", n).
					Msg("the API refused the page size: asking for fewer items per page for the rest of the run (set page_size or --page-size to skip the refused calls)")
			}
			return p, nil
		case errors.Is(err, ErrCountRefused):
			next, ok := size.refused(q.Count)
			if !ok {
				return Page{}, fmt.Errorf("asking for 1 item: %w", err)
			}
			c.log.Debug().Str("day", day).Int("page", n).Int("refused", q.Count).Int("page_size", next).Msg("the API refused the page size, asking for fewer items")
		case errors.Is(err, ErrPageTooLarge) && q.Count > 1:
			*dayMax = q.Count / 2
			c.log.Warn().Str("day", day).Int("page", n).Int("count", *dayMax).Msg("page too large for the API, asking for fewer items")
		default:
			return Page{}, err
		}
	}
}
