package stats

import (
	"context"
	gosql "database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/sql"
)

// The readers below return the rows of the views beyond the vendor's page
// (issue 19) as typed rows, for the statistics page and kycetl status: each
// selects the view's columns as sql.Views declares them, in their order,
// narrowed by a Range, and computes nothing. Day columns are YYYY-MM-DD.

// Range narrows a view's rows to the days From..To (inclusive; zero means
// open) and to one project (empty means all).
type Range struct {
	From, To time.Time
	Project  string
}

// Hour is a row of stats_hourly: submissions of one UTC hour of one day.
type Hour struct {
	Project    string `json:"project"`
	Day        string `json:"day"`
	Hour       int64  `json:"hour"`
	Weekday    int64  `json:"weekday"` // ISO: 1 Monday .. 7 Sunday
	Total      int64  `json:"total"`
	Approved   int64  `json:"approved"`
	Rejected   int64  `json:"rejected"`
	Incomplete int64  `json:"incomplete"`
	Pending    int64  `json:"pending"`
}

// Forecast is a row of credit_forecast: the predicted credits of a day.
type Forecast struct {
	Project      string   `json:"project"`
	Day          string   `json:"day"`
	Credits      float64  `json:"credits"`
	Low          float64  `json:"low"`
	High         float64  `json:"high"`
	BacktestMAPE *float64 `json:"backtest_mape"`
}

// Backtest is a row of credit_forecast_backtest: the method's forecast of
// a past day beside its actual credits.
type Backtest struct {
	Project string   `json:"project"`
	Day     string   `json:"day"`
	Credits float64  `json:"credits"`
	Low     float64  `json:"low"`
	High    float64  `json:"high"`
	Actual  float64  `json:"actual"`
	APE     *float64 `json:"ape"`
}

// Anomaly is a row of anomalies: a day whose metric left its usual range.
type Anomaly struct {
	Project  string  `json:"project"`
	Day      string  `json:"day"`
	Metric   string  `json:"metric"`
	Value    float64 `json:"value"`
	Expected float64 `json:"expected"`
	Score    float64 `json:"score"`
}

// DecisionTime is a row of time_to_decision_daily.
type DecisionTime struct {
	Project       string  `json:"project"`
	Day           string  `json:"day"`
	Decided       int64   `json:"decided"`
	MedianMinutes float64 `json:"median_minutes"`
	P90Minutes    float64 `json:"p90_minutes"`
	Reviewer      string  `json:"reviewer"`
}

// PendingAge is a row of pending_backlog.
type PendingAge struct {
	Project   string `json:"project"`
	Day       string `json:"day"`
	AgeDays   int64  `json:"age_days"`
	AgeBucket string `json:"age_bucket"`
	Pending   int64  `json:"pending"`
}

// FunnelStep is a row of abandonment_funnel; Step is nil for incomplete
// submissions without any camera process.
type FunnelStep struct {
	Project   string  `json:"project"`
	Day       string  `json:"day"`
	Step      *string `json:"step"`
	Reached   int64   `json:"reached"`
	Abandoned int64   `json:"abandoned"`
	Errors    int64   `json:"errors"`
}

// RejectReason is a row of reject_reasons_daily; Reason is nil for
// rejected submissions without a code.
type RejectReason struct {
	Project     string  `json:"project"`
	Day         string  `json:"day"`
	Reason      *string `json:"reason"`
	Submissions int64   `json:"submissions"`
	Rank        int64   `json:"rank"`
}

// Hourly reads stats_hourly, by project, day and hour.
func Hourly(ctx context.Context, db DB, r Range) ([]Hour, error) {
	return readView(ctx, db, "stats_hourly", r, "project, day, hour", func(h *Hour) []any {
		return []any{&h.Project, &h.Day, &h.Hour, &h.Weekday, &h.Total, &h.Approved, &h.Rejected, &h.Incomplete, &h.Pending}
	})
}

// CreditForecast reads credit_forecast, by project and day.
func CreditForecast(ctx context.Context, db DB, r Range) ([]Forecast, error) {
	return readView(ctx, db, "credit_forecast", r, "project, day", func(f *Forecast) []any {
		return []any{&f.Project, &f.Day, &f.Credits, &f.Low, &f.High, &f.BacktestMAPE}
	})
}

// CreditBacktest reads credit_forecast_backtest, by project and day.
func CreditBacktest(ctx context.Context, db DB, r Range) ([]Backtest, error) {
	return readView(ctx, db, "credit_forecast_backtest", r, "project, day", func(b *Backtest) []any {
		return []any{&b.Project, &b.Day, &b.Credits, &b.Low, &b.High, &b.Actual, &b.APE}
	})
}

// Anomalies reads anomalies, by project, day and metric.
func Anomalies(ctx context.Context, db DB, r Range) ([]Anomaly, error) {
	return readView(ctx, db, "anomalies", r, "project, day, metric", func(a *Anomaly) []any {
		return []any{&a.Project, &a.Day, &a.Metric, &a.Value, &a.Expected, &a.Score}
	})
}

// TimeToDecision reads time_to_decision_daily, by project, day and reviewer.
func TimeToDecision(ctx context.Context, db DB, r Range) ([]DecisionTime, error) {
	return readView(ctx, db, "time_to_decision_daily", r, "project, day, reviewer", func(d *DecisionTime) []any {
		return []any{&d.Project, &d.Day, &d.Decided, &d.MedianMinutes, &d.P90Minutes, &d.Reviewer}
	})
}

// PendingBacklog reads pending_backlog, by project and day.
func PendingBacklog(ctx context.Context, db DB, r Range) ([]PendingAge, error) {
	return readView(ctx, db, "pending_backlog", r, "project, day", func(p *PendingAge) []any {
		return []any{&p.Project, &p.Day, &p.AgeDays, &p.AgeBucket, &p.Pending}
	})
}

// Abandonment reads abandonment_funnel, by project, day and step (the
// submissions without a camera process last).
func Abandonment(ctx context.Context, db DB, r Range) ([]FunnelStep, error) {
	return readView(ctx, db, "abandonment_funnel", r, "project, day, step IS NULL, step", func(s *FunnelStep) []any {
		return []any{&s.Project, &s.Day, &s.Step, &s.Reached, &s.Abandoned, &s.Errors}
	})
}

// RejectReasons reads reject_reasons_daily, by project, day, rank and reason.
func RejectReasons(ctx context.Context, db DB, r Range) ([]RejectReason, error) {
	return readView(ctx, db, "reject_reasons_daily", r, "project, day, rank, reason IS NULL, reason", func(x *RejectReason) []any {
		return []any{&x.Project, &x.Day, &x.Reason, &x.Submissions, &x.Rank}
	})
}

// readView selects every column of the view, its days (day and *_day) as
// text, within r, ordered by order, scanning each row into the
// destinations dest gives.
func readView[T any](ctx context.Context, db DB, name string, r Range, order string, dest func(*T) []any) ([]T, error) {
	var cols []string
	for _, v := range sql.Views() {
		if v.Name == name {
			cols = v.Columns
		}
	}
	if cols == nil {
		return nil, fmt.Errorf("reading view %s: no such view", name)
	}
	sel := make([]string, len(cols))
	for i, c := range cols {
		sel[i] = c
		if c == "day" || strings.HasSuffix(c, "_day") {
			sel[i] = "CAST(" + c + " AS STRING) AS " + c
		}
	}
	where, args := r.where(db.Dialect)
	return readRows(ctx, db, name, "SELECT "+strings.Join(sel, ", ")+" FROM "+name+where+" ORDER BY "+order, args, dest)
}

// where is the WHERE clause that narrows a view (or submission_facts) to
// r in the dialect d, with its named arguments.
func (r Range) where(d Dialect) (string, []any) {
	q := " WHERE true"
	var args []any
	if !r.From.IsZero() {
		q += " AND day >= CAST(" + d.param("from") + " AS DATE)"
		args = append(args, gosql.Named("from", argos.FormatDate(r.From)))
	}
	if !r.To.IsZero() {
		q += " AND day <= CAST(" + d.param("to") + " AS DATE)"
		args = append(args, gosql.Named("to", argos.FormatDate(r.To)))
	}
	if r.Project != "" {
		q += " AND project = " + d.param("project")
		args = append(args, gosql.Named("project", r.Project))
	}
	return q, args
}

// readRows runs q (a read of view name) and scans each row into the
// destinations dest gives.
func readRows[T any](ctx context.Context, db DB, name, q string, args []any, dest func(*T) []any) ([]T, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("querying %s: %w", name, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var row T
		if err := rows.Scan(dest(&row)...); err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return out, nil
}
