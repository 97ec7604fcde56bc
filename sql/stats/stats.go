// Package stats reads the statistics page — the indicator cards and the
// daily table — from the warehouse with the dashboard's filters (period,
// status, project, sort by credit usage) and prints it as a table, CSV or
// JSON. Every number is computed by the views of sql/ over the rows the
// filter selects (sql.Inline): this package chooses rows and formats
// numbers, it defines no indicator. The readers read DuckDB or BigQuery
// alike: each takes a DB, the database/sql handle with its engine's
// Dialect, and sends the same query text to both but for the dialect's
// few spellings.
package stats

import (
	"context"
	gosql "database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/sql"
)

// Filter is the dashboard's filter bar.
type Filter struct {
	From, To  time.Time    // inclusive; zero means open
	Project   string       // empty means all
	Status    argos.Status // empty means all statuses
	ByCredits bool         // sort by credit usage, highest first
}

// Indicators are the numbers of the statistics page, named as the views
// name their columns. With a status filter, the counts, aml_count and
// credits are those of the submissions of that status; the ratios and
// approval_rate stay those of all the selected submissions (a status's
// share of them, approved over approved plus rejected), which a filter on
// one status would make 1, 0 or NULL.
type Indicators struct {
	Total           int64    `json:"total"`
	Approved        int64    `json:"approved"`
	Rejected        int64    `json:"rejected"`
	Incomplete      int64    `json:"incomplete"`
	Pending         int64    `json:"pending"`
	AMLCount        int64    `json:"aml_count"`
	Credits         float64  `json:"credits"`
	ApprovedRatio   *float64 `json:"approved_ratio"`
	RejectedRatio   *float64 `json:"rejected_ratio"`
	IncompleteRatio *float64 `json:"incomplete_ratio"`
	PendingRatio    *float64 `json:"pending_ratio"`
	ApprovalRate    *float64 `json:"approval_rate"`
}

// dest are the scan destinations of the columns counts, then ratios.
func (in *Indicators) dest() []any {
	return []any{&in.Total, &in.Approved, &in.Rejected, &in.Incomplete, &in.Pending, &in.AMLCount, &in.Credits,
		&in.ApprovedRatio, &in.RejectedRatio, &in.IncompleteRatio, &in.PendingRatio, &in.ApprovalRate}
}

// Day is one row of the daily table: a row of stats_daily.
type Day struct {
	Project string `json:"project"`
	Day     string `json:"day"`
	Indicators
}

// Cards are the indicator cards over every day and project the filter
// selects: a row of stats_totals.
type Cards = Indicators

// Page is the statistics page under a filter.
type Page struct {
	Status argos.Status // the status filter, empty for all
	Cards  Cards
	Days   []Day
}

// UnknownProjectError is the error of a filter on a project the warehouse
// does not hold.
type UnknownProjectError struct {
	Project string
	Known   []string // the projects it holds
}

func (e *UnknownProjectError) Error() string {
	if len(e.Known) == 0 {
		return fmt.Sprintf("no project %q: the warehouse holds no project yet", e.Project)
	}
	return fmt.Sprintf("no project %q in the warehouse; its projects: %s", e.Project, strings.Join(e.Known, ", "))
}

// Projects lists the projects the warehouse holds: those with submissions
// or a recorded load.
func Projects(ctx context.Context, db DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT project FROM submissions UNION DISTINCT SELECT project FROM load_runs ORDER BY project")
	if err != nil {
		return nil, fmt.Errorf("listing the projects: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("listing the projects: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing the projects: %w", err)
	}
	return out, nil
}

// selection is the filter as a query of submission_facts in a dialect,
// with the named arguments of its period and project (args) and of its
// status (status, nil without a status filter).
type selection struct {
	f      Filter
	d      Dialect
	where  string
	args   []any
	status []any
}

func newSelection(f Filter, d Dialect) *selection {
	s := &selection{f: f, d: d}
	s.where, s.args = Range{From: f.From, To: f.To, Project: f.Project}.where(d)
	if f.Status != "" {
		s.status = []any{gosql.Named("status", string(f.Status))}
	}
	return s
}

// facts is the query of the submission_facts rows of the period and
// project, of the status filter too when ofStatus. With oneProject, every
// row's project is the same, so that the views sum over all the projects
// selected (submission_id then carries the project, which keeps
// submissions of two projects apart).
func (s *selection) facts(ofStatus, oneProject bool) string {
	q := "SELECT * FROM submission_facts" + s.where
	if ofStatus {
		q += " AND status = " + s.d.param("status")
	}
	if oneProject {
		q = "SELECT * REPLACE ('' AS project, project || '/' || submission_id AS submission_id) FROM (" + q + ") AS selected"
	}
	return q
}

// view is the view name computed over the facts query.
func view(name, facts string) (string, error) {
	return sql.Inline(name, func(table string) string { return table }, map[string]string{"submission_facts": facts})
}

// Query reads the page under the filter. A project the warehouse does not
// hold is an *UnknownProjectError.
func Query(ctx context.Context, db DB, f Filter) (*Page, error) {
	var known []string
	if f.Project != "" {
		var err error
		if known, err = Projects(ctx, db); err != nil {
			return nil, err
		}
	}
	return query(ctx, db, f, known)
}

// query is Query with the projects the warehouse holds already listed
// (needed only with a project filter).
func query(ctx context.Context, db DB, f Filter, known []string) (*Page, error) {
	if f.Project != "" && !slices.Contains(known, f.Project) {
		return nil, &UnknownProjectError{Project: f.Project, Known: known}
	}
	s := newSelection(f, db.Dialect)
	days, err := s.days(ctx, db)
	if err != nil {
		return nil, err
	}
	cards, err := s.cards(ctx, db)
	if err != nil {
		return nil, err
	}
	return &Page{Status: f.Status, Cards: *cards, Days: days}, nil
}

// counts are the columns of stats_daily and stats_totals that follow the
// status filter; ratios those that stay over all statuses.
var (
	counts = []string{"total", "approved", "rejected", "incomplete", "pending", "aml_count", "credits"}
	ratios = []string{"approved_ratio", "rejected_ratio", "incomplete_ratio", "pending_ratio", "approval_rate"}
)

// columns are the indicators' columns, in the order of Indicators.dest.
var indicatorColumns = append(append([]string{}, counts...), ratios...)

// columnsOf selects every column of counts and ratios from a query of
// all statuses (aliased a) or, for the counts under a status filter, of
// that status (aliased s, 0 where it has no row).
func (s *selection) columnsOf() map[string]string {
	cols := map[string]string{}
	for _, c := range counts {
		cols[c] = "a." + c
		if s.f.Status != "" {
			cols[c] = "COALESCE(s." + c + ", 0)"
		}
	}
	for _, c := range ratios {
		cols[c] = "a." + c
	}
	return cols
}

// joined is the query of name over all statuses (a), joined with the same
// over the filter's status (s) on the keys, or a alone without a status
// filter.
func (s *selection) joined(name string, keys []string, oneProject bool) (string, error) {
	all, err := view(name, s.facts(false, oneProject))
	if err != nil {
		return "", err
	}
	q := "(" + all + ") AS a"
	if s.f.Status == "" {
		return q, nil
	}
	of, err := view(name, s.facts(true, oneProject))
	if err != nil {
		return "", err
	}
	on := "true"
	for i, k := range keys {
		if i == 0 {
			on = ""
		} else {
			on += " AND "
		}
		on += "s." + k + " = a." + k
	}
	return q + " LEFT JOIN (" + of + ") AS s ON " + on, nil
}

// rows reads the indicator columns of view (stats_daily or stats_totals)
// over the selection, one row per key (project, and day for stats_daily).
// With oneProject the rows are over every project selected, their project
// empty. byCredits sorts by credit usage, highest first; otherwise the rows
// come by project and day.
func (s *selection) rows(ctx context.Context, db DB, view string, oneProject, byCredits bool) ([]Day, error) {
	keys, day := []string{"project"}, "''"
	if view == "stats_daily" {
		keys, day = []string{"project", "day"}, "CAST(a.day AS STRING)"
	}
	from, err := s.joined(view, keys, oneProject)
	if err != nil {
		return nil, err
	}
	c := s.columnsOf()
	q := "SELECT a.project, " + day
	for _, name := range indicatorColumns {
		q += ", " + c[name]
	}
	q += " FROM " + from + " ORDER BY "
	if byCredits {
		q += c["credits"] + " DESC, "
	}
	q += strings.Join(prefixed("a.", keys), ", ")
	rows, err := db.QueryContext(ctx, q, append(append([]any{}, s.args...), s.status...)...)
	if err != nil {
		return nil, fmt.Errorf("querying %s: %w", view, err)
	}
	defer rows.Close()
	var out []Day
	for rows.Next() {
		var d Day
		if err := rows.Scan(append([]any{&d.Project, &d.Day}, d.dest()...)...); err != nil {
			return nil, fmt.Errorf("reading %s: %w", view, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", view, err)
	}
	return out, nil
}

func prefixed(prefix string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + n
	}
	return out
}

func (s *selection) days(ctx context.Context, db DB) ([]Day, error) {
	return s.rows(ctx, db, "stats_daily", false, s.f.ByCredits)
}

func (s *selection) cards(ctx context.Context, db DB) (*Cards, error) {
	rows, err := s.rows(ctx, db, "stats_totals", true, false)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return &Cards{}, nil // nothing selected: every count 0, every ratio undefined
	}
	return &rows[0].Indicators, nil
}

// Formats names the output formats.
var Formats = []string{"table", "csv", "json"}

// columns lists the printed columns, narrowed to one status when filtered.
func columns(status argos.Status) []string {
	if status == "" {
		return []string{"project", "day", "total", "approved", "rejected", "incomplete", "pending", "aml_count", "approval_rate", "credits"}
	}
	return []string{"project", "day", string(status), string(status) + "_ratio", "aml_count", "credits"}
}

// number formats a ratio: exact for machines, a rounded percentage for
// people; empty when undefined.
func number(p *float64, human bool) string {
	switch {
	case p == nil:
		return ""
	case human:
		return strconv.FormatFloat(*p*100, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}

// Percent formats a ratio for people: a percentage rounded to one decimal,
// "" when undefined.
func Percent(p *float64) string { return number(p, true) }

// Cell is the column col (a column of stats_daily, or project or day) of a
// row, formatted for people (human: ratios as rounded percentages) or for
// machines (exact fractions); "" when undefined.
func Cell(d Day, col string, human bool) string {
	switch col {
	case "project":
		return d.Project
	case "day":
		return d.Day
	case "total":
		return strconv.FormatInt(d.Total, 10)
	case "approved":
		return strconv.FormatInt(d.Approved, 10)
	case "rejected":
		return strconv.FormatInt(d.Rejected, 10)
	case "incomplete":
		return strconv.FormatInt(d.Incomplete, 10)
	case "pending":
		return strconv.FormatInt(d.Pending, 10)
	case "aml_count":
		return strconv.FormatInt(d.AMLCount, 10)
	case "approval_rate":
		return number(d.ApprovalRate, human)
	case "approved_ratio":
		return number(d.ApprovedRatio, human)
	case "rejected_ratio":
		return number(d.RejectedRatio, human)
	case "incomplete_ratio":
		return number(d.IncompleteRatio, human)
	case "pending_ratio":
		return number(d.PendingRatio, human)
	case "credits":
		return strconv.FormatFloat(d.Credits, 'f', -1, 64)
	}
	return ""
}

// Print writes the page in the given format: JSON (cards and days, with
// the view's column names), CSV (the daily table) or a table for people
// (the cards, then the daily table). Machine formats give ratios as exact
// fractions; only the table rounds them, to percentages.
func Print(w io.Writer, format string, p *Page) error {
	cols := columns(p.Status)
	switch format {
	case "json":
		out := struct {
			Status       argos.Status `json:"status,omitempty"`
			Cards        Cards        `json:"cards"`
			ApprovalRate *float64     `json:"approval_rate"` // cards.approval_rate, for earlier readers
			Days         []Day        `json:"days"`
		}{Status: p.Status, Cards: p.Cards, ApprovalRate: p.Cards.ApprovalRate, Days: p.Days}
		if out.Days == nil {
			out.Days = []Day{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write(cols)
		for _, d := range p.Days {
			row := make([]string, len(cols))
			for i, c := range cols {
				row[i] = Cell(d, c, false)
			}
			cw.Write(row)
		}
		cw.Flush()
		return cw.Error()
	case "table":
		PrintCards(w, p.Status, p.Cards)
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, strings.Join(cols, "\t")+"\t")
		for _, d := range p.Days {
			row := make([]string, len(cols))
			for i, c := range cols {
				row[i] = Cell(d, c, true)
			}
			fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
		}
		return tw.Flush()
	}
	return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

// PrintCards writes the indicator cards for people; under a status filter,
// that status's count with its share of all submissions, its AML count and
// credits, and the approval rate of all submissions.
func PrintCards(w io.Writer, status argos.Status, c Cards) {
	rate := number(c.ApprovalRate, true)
	if rate == "" {
		rate = "n/a"
	}
	share := func(r *float64) string {
		if r == nil {
			return ""
		}
		return " (" + number(r, true) + ")"
	}
	credits := strconv.FormatFloat(c.Credits, 'f', -1, 64)
	if status != "" {
		ratio := map[argos.Status]*float64{argos.StatusApproved: c.ApprovedRatio, argos.StatusRejected: c.RejectedRatio,
			argos.StatusIncomplete: c.IncompleteRatio, argos.StatusPending: c.PendingRatio}[status]
		of := ""
		if ratio != nil {
			of = " (" + number(ratio, true) + " of all)"
		}
		fmt.Fprintf(w, "Status %s: %d submissions%s | AML %d | Credits %s | Approval rate %s (all statuses)\n",
			status, c.Total, of, c.AMLCount, credits, rate)
		return
	}
	fmt.Fprintf(w, "Total %d | Approved %d%s | Rejected %d%s | Incomplete %d%s | Pending %d%s | AML %d | Credits %s | Approval rate %s\n",
		c.Total, c.Approved, share(c.ApprovedRatio), c.Rejected, share(c.RejectedRatio), c.Incomplete, share(c.IncompleteRatio),
		c.Pending, share(c.PendingRatio), c.AMLCount, credits, rate)
}

// Periods names the presets of a period ending today ("all": every day
// up to today, the warehouse's whole history).
var Periods = []string{"7d", "30d", "90d", "month", "all"}

// ErrUnknownPeriod is the error of a period that is not one of Periods.
var ErrUnknownPeriod = errors.New("unknown period")

// Period is the window of a preset, by the UTC day of now: "7d", "30d" and
// "90d" are that many days up to and including today, "month" the days of
// this calendar month up to today, "all" every day up to today (from is
// zero: open).
func Period(name string, now time.Time) (from, to time.Time, err error) {
	y, m, d := now.UTC().Date()
	to = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	switch name {
	case "7d":
		return to.AddDate(0, 0, -6), to, nil
	case "30d":
		return to.AddDate(0, 0, -29), to, nil
	case "90d":
		return to.AddDate(0, 0, -89), to, nil
	case "month":
		return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC), to, nil
	case "all":
		return time.Time{}, to, nil
	}
	return time.Time{}, time.Time{}, fmt.Errorf("period %q: %w (want %s)", name, ErrUnknownPeriod, strings.Join(Periods, ", "))
}
