package extract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/kycetl/kycetl/argos"
)

// Day pages through API day apiDay (start_date = end_date = apiDay, read by
// the API in its own zone) to the end, handing each page's items to fn in
// order. It returns the work done, also on error. Errors name the page:
// "fetching page 3 of 2025-02-01: ...".
//
// A page the API finds too large (413) is asked for again with half the
// count, and the smaller count is kept for the rest of the day.
func (c *Client) Day(ctx context.Context, apiDay time.Time, fn func(items []json.RawMessage) error) (Stats, error) {
	var st Stats
	day := argos.FormatDate(apiDay)
	q := Query{StartDate: apiDay, EndDate: apiDay, Count: c.pageSize}
	seen := map[PageKey]int{}
	for n := 1; ; n++ {
		if err := context.Cause(ctx); err != nil {
			return st, fmt.Errorf("fetching page %d of %s: %w", n, day, err)
		}
		p, err := c.page(ctx, q, &st)
		var apiErr *APIError
		for err != nil && errors.As(err, &apiErr) && apiErr.Status == http.StatusRequestEntityTooLarge && q.Count > 1 {
			q.Count /= 2
			c.log.Warn().Str("day", day).Int("page", n).Int("count", q.Count).Msg("page too large for the API, asking for fewer items")
			p, err = c.page(ctx, q, &st)
		}
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
