package stats

import (
	"context"
	"fmt"
)

// Share is one row of stats_status_distribution over the selection: a
// status, its submissions and its share of them all.
type Share struct {
	Status      string   `json:"status"`
	Submissions int64    `json:"submissions"`
	Share       *float64 `json:"share"`
}

// Overview is everything the statistics page draws under a filter, each
// part read from a view over the rows the filter selects:
//   - Page: the cards (stats_totals over every project selected) and the
//     days per project (stats_daily), as kycetl stats prints them;
//   - Daily: stats_daily over every project selected, one row per day (the
//     page's daily table and its trend charts), its project empty;
//   - Distribution: stats_status_distribution over every submission
//     selected, of all statuses (like the ratios, it ignores the status
//     filter, which would make it one slice);
//   - Projects: stats_totals per project selected, for the comparison of
//     projects;
//   - Known: the projects the warehouse holds, for the project filter.
type Overview struct {
	Page
	Daily        []Day    `json:"daily"`
	Distribution []Share  `json:"distribution"`
	Projects     []Day    `json:"projects"`
	Known        []string `json:"known_projects"`
}

// QueryOverview reads the overview under the filter. A project the
// warehouse does not hold is an *UnknownProjectError.
func QueryOverview(ctx context.Context, db DB, f Filter) (*Overview, error) {
	known, err := Projects(ctx, db)
	if err != nil {
		return nil, err
	}
	page, err := query(ctx, db, f, known)
	if err != nil {
		return nil, err
	}
	o := &Overview{Page: *page, Known: known}
	s := newSelection(f, db.Dialect)
	if o.Daily, err = s.rows(ctx, db, "stats_daily", true, f.ByCredits); err != nil {
		return nil, err
	}
	if o.Projects, err = s.rows(ctx, db, "stats_totals", false, false); err != nil {
		return nil, err
	}
	if o.Distribution, err = s.distribution(ctx, db); err != nil {
		return nil, err
	}
	return o, nil
}

// distribution reads stats_status_distribution over every submission
// selected, of all statuses, in the order of the page's statuses (then any
// other status by name).
func (s *selection) distribution(ctx context.Context, db DB) ([]Share, error) {
	q, err := view("stats_status_distribution", s.facts(false, true))
	if err != nil {
		return nil, err
	}
	q = "SELECT status, submissions, share FROM (" + q + ") AS d ORDER BY CASE status" +
		" WHEN 'approved' THEN 1 WHEN 'rejected' THEN 2 WHEN 'incomplete' THEN 3 WHEN 'pending' THEN 4 ELSE 5 END, status"
	rows, err := db.QueryContext(ctx, q, s.args...)
	if err != nil {
		return nil, fmt.Errorf("querying stats_status_distribution: %w", err)
	}
	defer rows.Close()
	out := []Share{}
	for rows.Next() {
		var sh Share
		if err := rows.Scan(&sh.Status, &sh.Submissions, &sh.Share); err != nil {
			return nil, fmt.Errorf("reading stats_status_distribution: %w", err)
		}
		out = append(out, sh)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading stats_status_distribution: %w", err)
	}
	return out, nil
}
