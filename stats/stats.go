// Package stats reads the statistics-page views (stats_daily) with the
// dashboard's filters — period, status, project, sort by credit usage — and
// prints them as a table, CSV or JSON.
package stats

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kycetl/kycetl/argos"
)

// Filter is the dashboard's filter bar.
type Filter struct {
	From, To  time.Time    // inclusive; zero means open
	Project   string       // empty means all
	Status    argos.Status // empty means all statuses
	ByCredits bool         // sort by credit usage, highest first
}

// Day is one row of stats_daily.
type Day struct {
	Project       string   `json:"project"`
	Day           string   `json:"day"`
	Total         int64    `json:"total"`
	Approved      int64    `json:"approved"`
	Rejected      int64    `json:"rejected"`
	Incomplete    int64    `json:"incomplete"`
	Pending       int64    `json:"pending"`
	AMLCount      int64    `json:"aml_count"`
	ApprovedRatio *float64 `json:"approved_ratio"`
	RejectedRatio *float64 `json:"rejected_ratio"`
	IncompleteRat *float64 `json:"incomplete_ratio"`
	PendingRatio  *float64 `json:"pending_ratio"`
	ApprovalRate  *float64 `json:"approval_rate"`
	Credits       float64  `json:"credits"`
}

// Daily queries stats_daily with the filter.
func Daily(ctx context.Context, db *sql.DB, f Filter) ([]Day, error) {
	q := `SELECT project, CAST(day AS VARCHAR), total, approved, rejected, incomplete, pending, aml_count,
	approved_ratio, rejected_ratio, incomplete_ratio, pending_ratio, approval_rate, credits
	FROM stats_daily WHERE 1=1`
	var args []any
	if !f.From.IsZero() {
		q += " AND day >= CAST(? AS DATE)"
		args = append(args, argos.FormatDate(f.From))
	}
	if !f.To.IsZero() {
		q += " AND day <= CAST(? AS DATE)"
		args = append(args, argos.FormatDate(f.To))
	}
	if f.Project != "" {
		q += " AND project = ?"
		args = append(args, f.Project)
	}
	if f.ByCredits {
		q += " ORDER BY credits DESC, project, day"
	} else {
		q += " ORDER BY project, day"
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("querying stats_daily: %w", err)
	}
	defer rows.Close()
	var out []Day
	for rows.Next() {
		var d Day
		if err := rows.Scan(&d.Project, &d.Day, &d.Total, &d.Approved, &d.Rejected, &d.Incomplete, &d.Pending, &d.AMLCount,
			&d.ApprovedRatio, &d.RejectedRatio, &d.IncompleteRat, &d.PendingRatio, &d.ApprovalRate, &d.Credits); err != nil {
			return nil, fmt.Errorf("reading stats_daily: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Cards are the indicator cards of the statistics page over a set of days.
type Cards struct {
	Total, Approved, Rejected, Incomplete, Pending, AMLCount int64
	Credits                                                  float64
}

// Sum adds up days into cards. Totals add up because every submission
// belongs to exactly one day.
func Sum(days []Day) Cards {
	var c Cards
	for _, d := range days {
		c.Total += d.Total
		c.Approved += d.Approved
		c.Rejected += d.Rejected
		c.Incomplete += d.Incomplete
		c.Pending += d.Pending
		c.AMLCount += d.AMLCount
		c.Credits += d.Credits
	}
	return c
}

// ApprovalRate is approved / (approved + rejected), or false when both are 0
// (design §5).
func (c Cards) ApprovalRate() (float64, bool) {
	if c.Approved+c.Rejected == 0 {
		return 0, false
	}
	return float64(c.Approved) / float64(c.Approved+c.Rejected), true
}

// Formats names the output formats.
var Formats = []string{"table", "csv", "json"}

// columns lists the printed columns, narrowed to one status when filtered.
func columns(status argos.Status) []string {
	all := []string{"project", "day", "total", "approved", "rejected", "incomplete", "pending", "aml_count", "approval_rate", "credits"}
	if status == "" {
		return all
	}
	return []string{"project", "day", "total", string(status), string(status) + "_ratio", "credits"}
}

func cell(d Day, col string) string {
	f := func(p *float64, pct bool) string {
		if p == nil {
			return ""
		}
		if pct {
			return strconv.FormatFloat(*p*100, 'f', 1, 64) + "%"
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
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
		return f(d.ApprovalRate, true)
	case "approved_ratio":
		return f(d.ApprovedRatio, true)
	case "rejected_ratio":
		return f(d.RejectedRatio, true)
	case "incomplete_ratio":
		return f(d.IncompleteRat, true)
	case "pending_ratio":
		return f(d.PendingRatio, true)
	case "credits":
		return strconv.FormatFloat(d.Credits, 'f', -1, 64)
	}
	return ""
}

// Print writes the cards and the daily table in the given format.
func Print(w io.Writer, format string, status argos.Status, days []Day) error {
	cols := columns(status)
	switch format {
	case "json":
		c := Sum(days)
		rate, ok := c.ApprovalRate()
		out := struct {
			Cards        Cards    `json:"cards"`
			ApprovalRate *float64 `json:"approval_rate"`
			Days         []Day    `json:"days"`
		}{Cards: c, Days: days}
		if ok {
			out.ApprovalRate = &rate
		}
		if out.Days == nil {
			out.Days = []Day{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write(cols)
		for _, d := range days {
			row := make([]string, len(cols))
			for i, c := range cols {
				row[i] = strings.TrimSuffix(cell(d, c), "%")
			}
			cw.Write(row)
		}
		cw.Flush()
		return cw.Error()
	case "table":
		PrintCards(w, Sum(days))
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, strings.Join(cols, "\t")+"\t")
		for _, d := range days {
			row := make([]string, len(cols))
			for i, c := range cols {
				row[i] = cell(d, c)
			}
			fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
		}
		return tw.Flush()
	}
	return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

// PrintCards writes the indicator cards.
func PrintCards(w io.Writer, c Cards) {
	rate := "n/a"
	if r, ok := c.ApprovalRate(); ok {
		rate = strconv.FormatFloat(r*100, 'f', 1, 64) + "%"
	}
	ratio := func(n int64) string {
		if c.Total == 0 {
			return ""
		}
		return fmt.Sprintf(" (%.1f%%)", float64(n)*100/float64(c.Total))
	}
	fmt.Fprintf(w, "Total %d | Approved %d%s | Rejected %d%s | Incomplete %d%s | Pending %d%s | AML %d | Credits %s | Approval rate %s\n",
		c.Total, c.Approved, ratio(c.Approved), c.Rejected, ratio(c.Rejected), c.Incomplete, ratio(c.Incomplete),
		c.Pending, ratio(c.Pending), c.AMLCount, strconv.FormatFloat(c.Credits, 'f', -1, 64), rate)
}
