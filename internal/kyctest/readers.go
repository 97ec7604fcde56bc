package kyctest

import (
	"context"

	"github.com/kycetl/kycetl/sql/stats"
)

// Reads are every reader of sql/stats, by name, each reading under the
// filter f (the Range readers over its period and project, the peak times
// in a time zone with daylight saving time): the tests that compare the
// engines, or parse every query of BigQuery's dialect, run them all.
func Reads(ctx context.Context, f stats.Filter) map[string]func(stats.DB) (any, error) {
	r := stats.Range{From: f.From, To: f.To, Project: f.Project}
	column := "total"
	if f.Status != "" {
		column = string(f.Status)
	}
	return map[string]func(stats.DB) (any, error){
		"Query":                func(db stats.DB) (any, error) { return stats.Query(ctx, db, f) },
		"QueryOverview":        func(db stats.DB) (any, error) { return stats.QueryOverview(ctx, db, f) },
		"Projects":             func(db stats.DB) (any, error) { return stats.Projects(ctx, db) },
		"Hourly":               func(db stats.DB) (any, error) { return stats.Hourly(ctx, db, r) },
		"CreditForecast":       func(db stats.DB) (any, error) { return stats.CreditForecast(ctx, db, r) },
		"CreditBacktest":       func(db stats.DB) (any, error) { return stats.CreditBacktest(ctx, db, r) },
		"Anomalies":            func(db stats.DB) (any, error) { return stats.Anomalies(ctx, db, r) },
		"TimeToDecision":       func(db stats.DB) (any, error) { return stats.TimeToDecision(ctx, db, r) },
		"PendingBacklog":       func(db stats.DB) (any, error) { return stats.PendingBacklog(ctx, db, r) },
		"Abandonment":          func(db stats.DB) (any, error) { return stats.Abandonment(ctx, db, r) },
		"RejectReasons":        func(db stats.DB) (any, error) { return stats.RejectReasons(ctx, db, r) },
		"PeakTimes":            func(db stats.DB) (any, error) { return stats.PeakTimes(ctx, db, r, column, "America/New_York") },
		"BacklogByAge":         func(db stats.DB) (any, error) { return stats.BacklogByAge(ctx, db, r) },
		"AbandonmentSteps":     func(db stats.DB) (any, error) { return stats.AbandonmentSteps(ctx, db, r) },
		"RejectReasonsRanked":  func(db stats.DB) (any, error) { return stats.RejectReasonsRanked(ctx, db, r) },
		"FractalStatusDaily":   func(db stats.DB) (any, error) { return stats.FractalStatusDaily(ctx, db, r) },
		"FractalCountryLatest": func(db stats.DB) (any, error) { return stats.FractalCountryLatest(ctx, db, r) },
		"FractalChangesDaily":  func(db stats.DB) (any, error) { return stats.FractalChangesDaily(ctx, db, r) },
	}
}
