// Package kyctest holds what tests share: the statistics page computed from raw
// items with nothing but encoding/json, independently of kycetl's
// flattener and views, to compare the warehouse against; a log buffer
// safe for concurrent writers; a description of a directory tree, to
// prove that nothing in it was written; and the test binary run as a
// second process that holds a lock or a file; a GET with its body read;
// every reader of sql/stats, to run them all on each engine.
package kyctest

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Counts is one day of the statistics page.
type Counts struct {
	Total, Approved, Rejected, Incomplete, Pending, AML int64
}

// Plus is c and o added up: the counts of two projects' day, say.
func (c Counts) Plus(o Counts) Counts {
	return Counts{Total: c.Total + o.Total, Approved: c.Approved + o.Approved, Rejected: c.Rejected + o.Rejected,
		Incomplete: c.Incomplete + o.Incomplete, Pending: c.Pending + o.Pending, AML: c.AML + o.AML}
}

// DaySource yields the items created on a UTC day (synth.Generator does).
type DaySource interface {
	Day(day time.Time) [][]byte
}

// Expected counts every day of [from, to] from src's items, by the
// definitions of the statistics page: status = lower-cased kyc.result, missing or
// empty = incomplete; AML = carries an aml object.
func Expected(src DaySource, from, to time.Time) (map[string]Counts, error) {
	out := map[string]Counts{}
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		var c Counts
		for _, raw := range src.Day(d) {
			var item struct {
				Kyc *struct {
					Result any `json:"result"`
				} `json:"kyc"`
				AML any `json:"aml"`
			}
			if err := json.Unmarshal(raw, &item); err != nil {
				return nil, fmt.Errorf("reading a generated item: %w", err)
			}
			c.Total++
			status := ""
			if item.Kyc != nil {
				if s, ok := item.Kyc.Result.(string); ok {
					status = strings.ToLower(strings.TrimSpace(s))
				}
			}
			switch status {
			case "approved":
				c.Approved++
			case "rejected":
				c.Rejected++
			case "pending":
				c.Pending++
			case "", "incomplete":
				c.Incomplete++
			}
			if _, ok := item.AML.(map[string]any); ok {
				c.AML++
			}
		}
		out[d.Format("2006-01-02")] = c
	}
	return out, nil
}
