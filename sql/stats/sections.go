package stats

import (
	"context"
	gosql "database/sql"
	"fmt"
	"time"
)

// The readers below give the statistics page's sections over a period:
// the views of issue 19 summed over the days of a Range (in SQL: a count
// summed, a rank over the sums), and Fractal's snapshots (issue 15). Like
// the readers above, they compute no indicator of their own.

// PeakCell is the submissions of one weekday and hour of a time zone,
// summed over the days of a range (stats_hourly).
type PeakCell struct {
	Weekday     int64 `json:"weekday"` // ISO: 1 Monday .. 7 Sunday
	Hour        int64 `json:"hour"`
	Submissions int64 `json:"submissions"`
}

// HourlyColumns are the columns of stats_hourly PeakTimes can sum.
var HourlyColumns = []string{"total", "approved", "rejected", "incomplete", "pending"}

// PeakTimes sums column (one of HourlyColumns) of stats_hourly over r by
// weekday and hour in the time zone tz (an IANA name). The view's hours
// are UTC; each one is shifted to tz's local time of that moment, daylight
// saving time included, for display only. Cells without submissions have
// no row.
func PeakTimes(ctx context.Context, db DB, r Range, column, tz string) ([]PeakCell, error) {
	known := false
	for _, c := range HourlyColumns {
		known = known || c == column
	}
	if !known {
		return nil, fmt.Errorf("reading stats_hourly: no column %q to sum (want one of %v)", column, HourlyColumns)
	}
	if _, err := time.LoadLocation(tz); err != nil || tz == "" || tz == "Local" {
		return nil, fmt.Errorf("reading stats_hourly in time zone %q: not an IANA time zone name", tz)
	}
	where, args := r.where(db.Dialect)
	weekday, hour := db.Dialect.localParts("CAST(day AS TIMESTAMP) + INTERVAL (hour) HOUR", db.Dialect.param("tz"))
	q := `SELECT weekday, hour, CAST(SUM(n) AS BIGINT) AS submissions
FROM (
  SELECT ` + weekday + ` AS weekday, ` + hour + ` AS hour, ` + column + ` AS n
  FROM stats_hourly` + where + `
) AS local
GROUP BY weekday, hour HAVING SUM(n) > 0 ORDER BY weekday, hour`
	return readRows(ctx, db, "stats_hourly", q, append(args, gosql.Named("tz", tz)), func(c *PeakCell) []any {
		return []any{&c.Weekday, &c.Hour, &c.Submissions}
	})
}

// BacklogAge is the submissions of a range still pending in one age
// bucket of pending_backlog.
type BacklogAge struct {
	AgeBucket string `json:"age_bucket"`
	Pending   int64  `json:"pending"`
}

// BacklogByAge sums pending_backlog over r by age bucket, the youngest
// first.
func BacklogByAge(ctx context.Context, db DB, r Range) ([]BacklogAge, error) {
	where, args := r.where(db.Dialect)
	q := `SELECT age_bucket, CAST(SUM(pending) AS BIGINT) FROM pending_backlog` + where + ` GROUP BY age_bucket ORDER BY MIN(age_days)`
	return readRows(ctx, db, "pending_backlog", q, args, func(b *BacklogAge) []any { return []any{&b.AgeBucket, &b.Pending} })
}

// FunnelTotal is a camera process step of abandonment_funnel summed over
// a range; Step is nil for incomplete submissions without any process.
type FunnelTotal struct {
	Step      *string `json:"step"`
	Reached   int64   `json:"reached"`
	Abandoned int64   `json:"abandoned"`
	Errors    int64   `json:"errors"`
}

// AbandonmentSteps sums abandonment_funnel over r by step, the step most
// reached first (the submissions without a process last).
func AbandonmentSteps(ctx context.Context, db DB, r Range) ([]FunnelTotal, error) {
	where, args := r.where(db.Dialect)
	q := `SELECT step, CAST(SUM(reached) AS BIGINT) AS reached, CAST(SUM(abandoned) AS BIGINT) AS abandoned, CAST(SUM(errors) AS BIGINT) AS errors
FROM abandonment_funnel` + where + ` GROUP BY step ORDER BY step IS NULL, reached DESC, abandoned DESC, step`
	return readRows(ctx, db, "abandonment_funnel", q, args, func(s *FunnelTotal) []any {
		return []any{&s.Step, &s.Reached, &s.Abandoned, &s.Errors}
	})
}

// RankedReason is a reject code of reject_reasons_daily summed over a
// range and ranked (1 the most frequent; ties share a rank); Reason is
// nil for rejected submissions without a code.
type RankedReason struct {
	Reason      *string `json:"reason"`
	Submissions int64   `json:"submissions"`
	Rank        int64   `json:"rank"`
}

// RejectReasonsRanked sums reject_reasons_daily over r by reason and
// ranks the sums.
func RejectReasonsRanked(ctx context.Context, db DB, r Range) ([]RankedReason, error) {
	where, args := r.where(db.Dialect)
	q := `SELECT reason, CAST(SUM(submissions) AS BIGINT) AS submissions, CAST(RANK() OVER (ORDER BY SUM(submissions) DESC) AS BIGINT) AS rank
FROM reject_reasons_daily` + where + ` GROUP BY reason ORDER BY rank, reason IS NULL, reason`
	return readRows(ctx, db, "reject_reasons_daily", q, args, func(x *RankedReason) []any {
		return []any{&x.Reason, &x.Submissions, &x.Rank}
	})
}

// FractalDay is a row of fractal_status_daily: a project's Fractal
// verifications per status in the snapshot of a day, and the change
// since its previous snapshot (nil for the first).
type FractalDay struct {
	Project         string  `json:"project"`
	Day             string  `json:"day"`
	Approved        int64   `json:"approved"`
	Rejected        int64   `json:"rejected"`
	Pending         int64   `json:"pending"`
	Contacted       int64   `json:"contacted"`
	Expired         int64   `json:"expired"`
	Total           int64   `json:"total"`
	Other           int64   `json:"other"`
	PreviousDay     *string `json:"previous_day"`
	TotalChange     *int64  `json:"total_change"`
	ApprovedChange  *int64  `json:"approved_change"`
	RejectedChange  *int64  `json:"rejected_change"`
	PendingChange   *int64  `json:"pending_change"`
	ContactedChange *int64  `json:"contacted_change"`
	ExpiredChange   *int64  `json:"expired_change"`
}

// FractalStatusDaily reads fractal_status_daily, by project and day.
func FractalStatusDaily(ctx context.Context, db DB, r Range) ([]FractalDay, error) {
	return readView(ctx, db, "fractal_status_daily", r, "project, day", func(d *FractalDay) []any {
		return []any{&d.Project, &d.Day, &d.Approved, &d.Rejected, &d.Pending, &d.Contacted, &d.Expired, &d.Total, &d.Other,
			&d.PreviousDay, &d.TotalChange, &d.ApprovedChange, &d.RejectedChange, &d.PendingChange, &d.ContactedChange, &d.ExpiredChange}
	})
}

// FractalCountry is a row of fractal_country_latest: a project's
// verifications of a country and status in its latest snapshot.
type FractalCountry struct {
	Project       string    `json:"project"`
	Country       string    `json:"country"`
	Status        string    `json:"status"`
	Verifications int64     `json:"verifications"`
	Day           string    `json:"day"`
	SnapshotAt    time.Time `json:"snapshot_at"`
}

// FractalCountryLatest reads fractal_country_latest, by project, country
// and status (r narrows its latest snapshots' days).
func FractalCountryLatest(ctx context.Context, db DB, r Range) ([]FractalCountry, error) {
	return readView(ctx, db, "fractal_country_latest", r, "project, country, status", func(c *FractalCountry) []any {
		return []any{&c.Project, &c.Country, &c.Status, &c.Verifications, &c.Day, &c.SnapshotAt}
	})
}

// CredentialChanges is the number of users whose credential changed in a
// project's snapshot of a day (rows of fractal_credential_changes).
type CredentialChanges struct {
	Project string `json:"project"`
	Day     string `json:"day"`
	Changes int64  `json:"changes"`
}

// FractalChangesDaily counts fractal_credential_changes over r by project
// and day.
func FractalChangesDaily(ctx context.Context, db DB, r Range) ([]CredentialChanges, error) {
	where, args := r.where(db.Dialect)
	q := `SELECT project, CAST(day AS STRING), CAST(COUNT(*) AS BIGINT) FROM fractal_credential_changes` + where + ` GROUP BY project, day ORDER BY project, day`
	return readRows(ctx, db, "fractal_credential_changes", q, args, func(c *CredentialChanges) []any {
		return []any{&c.Project, &c.Day, &c.Changes}
	})
}
