package web

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"time"
	_ "time/tzdata" // the display zones, wherever the binary runs

	"golang.org/x/sync/errgroup"

	"github.com/kycetl/kycetl/sql/stats"
)

// insights are the page's sections beyond the vendor's page (issue 19)
// and Fractal's snapshots (issue 15), as the sql/stats readers give them
// under the page's filter. The page's script draws them; nothing here is
// computed.
type insights struct {
	TimeZone     string               `json:"tz"`          // the heat map's display zone
	PeakColumn   string               `json:"peak_column"` // the stats_hourly column summed: total, or the status filtered on
	PeakTimes    []stats.PeakCell     `json:"peak_times"`
	Forecast     []stats.Forecast     `json:"forecast"` // the next 30 days, whatever the period
	Anomalies    []stats.Anomaly      `json:"anomalies"`
	Decisions    []stats.DecisionTime `json:"time_to_decision"`
	Backlog      []stats.BacklogAge   `json:"backlog"`
	Abandonment  []stats.FunnelTotal  `json:"abandonment"`
	RejectReason []stats.RankedReason `json:"reject_reasons"`
	Fractal      *fractalSnapshots    `json:"fractal"` // null when the warehouse holds no snapshot of the projects shown
}

// fractalSnapshots are Fractal's snapshots: status counts per snapshot day
// of the period, the latest snapshot by country and the credential changes
// per day of the period.
type fractalSnapshots struct {
	Status    []stats.FractalDay        `json:"status_daily"`
	Countries []stats.FractalCountry    `json:"country_latest"`
	Changes   []stats.CredentialChanges `json:"credential_changes"`
}

// CheckTimeZone says whether tz names an IANA time zone (the heat map's
// display zone); its error names the tz parameter.
func CheckTimeZone(tz string) error {
	if _, err := time.LoadLocation(tz); err != nil || tz == "" || tz == "Local" {
		return fmt.Errorf("tz %q: want an IANA time zone name, e.g. UTC or Europe/Paris", tz)
	}
	return nil
}

// readInsights reads the sections under the filter f, the heat map in the
// time zone tz.
func readInsights(ctx context.Context, db stats.DB, f stats.Filter, tz string) (insights, error) {
	if err := CheckTimeZone(tz); err != nil {
		return insights{}, err
	}
	r := stats.Range{From: f.From, To: f.To, Project: f.Project}
	in := insights{TimeZone: tz, PeakColumn: "total"}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	if f.Status != "" {
		in.PeakColumn = string(f.Status)
	}
	for _, read := range []struct {
		name string
		read func() error
	}{
		{"peak times", func() (err error) { in.PeakTimes, err = stats.PeakTimes(ctx, db, r, in.PeakColumn, tz); return }},
		{"credit forecast", func() (err error) {
			in.Forecast, err = stats.CreditForecast(ctx, db, stats.Range{Project: f.Project})
			return
		}},
		{"anomalies", func() (err error) { in.Anomalies, err = stats.Anomalies(ctx, db, r); return }},
		{"time to decision", func() (err error) { in.Decisions, err = stats.TimeToDecision(ctx, db, r); return }},
		{"pending backlog", func() (err error) { in.Backlog, err = stats.BacklogByAge(ctx, db, r); return }},
		{"abandonment", func() (err error) { in.Abandonment, err = stats.AbandonmentSteps(ctx, db, r); return }},
		{"reject reasons", func() (err error) { in.RejectReason, err = stats.RejectReasonsRanked(ctx, db, r); return }},
		{"Fractal snapshots", func() error {
			latest, err := stats.FractalCountryLatest(ctx, db, stats.Range{Project: f.Project})
			if err != nil || len(latest) == 0 {
				return err
			}
			fr := &fractalSnapshots{Countries: latest}
			if fr.Status, err = stats.FractalStatusDaily(ctx, db, r); err != nil {
				return err
			}
			if fr.Changes, err = stats.FractalChangesDaily(ctx, db, r); err != nil {
				return err
			}
			in.Fractal = fr
			return nil
		}},
	} {
		// The readers fill fields of their own, in parallel (DuckDB
		// answers a connection each).
		g.Go(func() error {
			if err := read.read(); err != nil {
				return fmt.Errorf("reading the page's %s: %w", read.name, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return insights{}, err
	}
	return in, nil
}

// MAPE is a project's backtest error, printed beside its forecast.
type MAPE struct {
	Project string
	MAPE    *float64
}

// ForecastMAPEs are the backtest errors of the projects forecast, in the
// forecast's order (credit_forecast repeats a project's on each row).
func (d *data) ForecastMAPEs() []MAPE {
	var out []MAPE
	for _, f := range d.Insights.Forecast {
		if len(out) == 0 || out[len(out)-1].Project != f.Project {
			out = append(out, MAPE{f.Project, f.BacktestMAPE})
		}
	}
	return out
}

// metricValue formats a value of an anomalies metric: volume as a count,
// the others (shares) as a percentage.
func metricValue(metric string, v float64) string {
	if metric == "volume" {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return stats.Percent(&v)
}

// metricNames name the anomalies metrics for people.
var metricNames = map[string]string{
	"volume": "Volume", "approval_rate": "Approval rate", "rejection_share": "Rejection share", "aml_red_flag_share": "AML red-flag share",
}

// Zones are the time zones the page suggests for the heat map (any IANA
// name may be typed).
func (d *data) Zones() []string {
	return []string{"UTC", "Europe/London", "Europe/Paris", "Europe/Berlin", "America/New_York", "America/Chicago",
		"America/Los_Angeles", "America/Sao_Paulo", "Asia/Seoul", "Asia/Tokyo", "Asia/Singapore", "Asia/Kolkata", "Australia/Sydney"}
}

// change formats a day-over-day change: signed, "–" when there is no
// previous snapshot.
func change(c *int64) string {
	switch {
	case c == nil:
		return "–"
	case *c > 0:
		return "+" + strconv.FormatInt(*c, 10)
	}
	return strconv.FormatInt(*c, 10)
}
