package sql

import (
	_ "embed"
	"fmt"
	"strings"
	"text/template"

	"github.com/kycetl/kycetl/transform/schema"
)

// View is one warehouse view: its name, its query, with table references
// still to be rendered, and its columns in order. The columns of the
// published views are the BI contract: a column is only ever
// added, at the end, never renamed, removed or moved; each engine's tests
// check that its view has exactly these columns.
type View struct {
	Name    string
	Text    string
	Columns []string
}

var (
	//go:embed submission_facts.sql
	submissionFacts string
	//go:embed stats_daily.sql
	statsDaily string
	//go:embed stats_totals.sql
	statsTotals string
	//go:embed stats_status_distribution.sql
	statsStatusDistribution string
	//go:embed credit_usage_daily.sql
	creditUsageDaily string
	//go:embed stats_by_country.sql
	statsByCountry string
	//go:embed stats_by_user.sql
	statsByUser string
	//go:embed fractal_status_daily.sql
	fractalStatusDaily string
	//go:embed fractal_country_latest.sql
	fractalCountryLatest string
	//go:embed fractal_credential_changes.sql
	fractalCredentialChanges string
)

// The views beyond the vendor's page (issue 19): peak times, cost
// forecast, anomalies, time to decision, backlog and abandonment.
var (
	//go:embed calendar_days.sql
	calendarDays string
	//go:embed stats_hourly.sql
	statsHourly string
	//go:embed credit_forecast_runs.sql
	creditForecastRuns string
	//go:embed credit_forecast.sql
	creditForecast string
	//go:embed credit_forecast_backtest.sql
	creditForecastBacktest string
	//go:embed anomalies.sql
	anomalies string
	//go:embed time_to_decision_daily.sql
	timeToDecisionDaily string
	//go:embed pending_backlog.sql
	pendingBacklog string
	//go:embed abandonment_funnel.sql
	abandonmentFunnel string
	//go:embed reject_reasons_daily.sql
	rejectReasonsDaily string
)

// Views lists every view in creation order: each after the views it reads.
// The file of a view is named after it.
func Views() []View {
	return append(pageViews(), analyticsViews()...)
}

// pageViews are the views of the vendor's statistics page.
func pageViews() []View {
	return []View{
		{Name: "submission_facts", Text: submissionFacts, Columns: []string{
			"project", "day", "submission_id", "status", "kind", "has_aml", "country", "userid", "created_at", "credits",
			"aml_red_flag", "reviewer", "kyc_result_at"}},
		{Name: "stats_daily", Text: statsDaily, Columns: []string{
			"project", "day", "total", "approved", "rejected", "incomplete", "pending", "aml_count",
			"approved_ratio", "rejected_ratio", "incomplete_ratio", "pending_ratio", "approval_rate", "credits"}},
		{Name: "stats_totals", Text: statsTotals, Columns: []string{
			"project", "total", "approved", "rejected", "incomplete", "pending", "aml_count", "credits",
			"approved_ratio", "rejected_ratio", "incomplete_ratio", "pending_ratio", "approval_rate"}},
		{Name: "stats_status_distribution", Text: statsStatusDistribution, Columns: []string{
			"project", "status", "submissions", "share"}},
		{Name: "credit_usage_daily", Text: creditUsageDaily, Columns: []string{
			"project", "day", "credits"}},
		{Name: "stats_by_country", Text: statsByCountry, Columns: []string{
			"project", "country", "status", "submissions", "day"}},
		{Name: "stats_by_user", Text: statsByUser, Columns: []string{
			"project", "userid", "status", "submissions", "last_submitted_at", "day"}},
		// Fractal's snapshots.
		{Name: "fractal_status_daily", Text: fractalStatusDaily, Columns: []string{
			"project", "day", "approved", "rejected", "pending", "contacted", "expired", "total", "other", "previous_day",
			"total_change", "approved_change", "rejected_change", "pending_change", "contacted_change", "expired_change"}},
		{Name: "fractal_country_latest", Text: fractalCountryLatest, Columns: []string{
			"project", "country", "status", "verifications", "day", "snapshot_at"}},
		{Name: "fractal_credential_changes", Text: fractalCredentialChanges, Columns: []string{
			"project", "user_id", "level", "from_credential", "to_credential", "day", "previous_day"}},
	}
}

// analyticsViews are the views beyond the vendor's page (issue 19); they
// read the page's views, so they come after them.
func analyticsViews() []View {
	return []View{
		{Name: "calendar_days", Text: calendarDays, Columns: []string{"project", "day", "days_ago", "weekday"}},
		{Name: "stats_hourly", Text: statsHourly, Columns: []string{
			"project", "day", "hour", "weekday", "total", "approved", "rejected", "incomplete", "pending"}},
		{Name: "credit_forecast_runs", Text: creditForecastRuns, Columns: []string{
			"project", "run", "day", "credits", "low", "high", "actual"}},
		{Name: "credit_forecast", Text: creditForecast, Columns: []string{
			"project", "day", "credits", "low", "high", "backtest_mape"}},
		{Name: "credit_forecast_backtest", Text: creditForecastBacktest, Columns: []string{
			"project", "day", "credits", "low", "high", "actual", "ape"}},
		{Name: "anomalies", Text: anomalies, Columns: []string{
			"project", "day", "metric", "value", "expected", "score"}},
		{Name: "time_to_decision_daily", Text: timeToDecisionDaily, Columns: []string{
			"project", "day", "decided", "median_minutes", "p90_minutes", "reviewer"}},
		{Name: "pending_backlog", Text: pendingBacklog, Columns: []string{
			"project", "day", "age_days", "age_bucket", "pending"}},
		{Name: "abandonment_funnel", Text: abandonmentFunnel, Columns: []string{
			"project", "day", "step", "reached", "abandoned", "errors"}},
		{Name: "reject_reasons_daily", Text: rejectReasonsDaily, Columns: []string{
			"project", "day", "reason", "submissions", "rank"}},
	}
}

// Render fills in the view's table references: table is called with each
// name written {{table "name"}} and returns the engine's reference to it
// (the bare name for DuckDB, `project.dataset.name` for BigQuery). A name
// that is neither a schema table nor a view is an error, so that a typo
// fails when the views are created rather than when they are queried.
func Render(v View, table func(name string) string) (string, error) {
	tmpl, err := template.New(v.Name).Funcs(template.FuncMap{
		"table": func(name string) (string, error) {
			if !known(name) {
				return "", fmt.Errorf("unknown table or view %q", name)
			}
			return table(name), nil
		},
	}).Parse(v.Text)
	if err != nil {
		return "", fmt.Errorf("parsing view %s: %w", v.Name, err)
	}
	var b strings.Builder
	// An empty struct, not nil, so that a stray {{.Field}} is an error.
	if err := tmpl.Execute(&b, struct{}{}); err != nil {
		return "", fmt.Errorf("rendering view %s: %w", v.Name, err)
	}
	return b.String(), nil
}

// Inline renders the view name as one query, each view it reads written in
// place as a subquery (recursively) and each table filled in by table, so
// that a caller can put rows of its own in the place of a table or view:
// over maps a name to the query that stands for it there (submission_facts
// of one period, say). The indicators stay defined once, in the views; the
// query in over only chooses the rows they are computed from.
func Inline(name string, table func(string) string, over map[string]string) (string, error) {
	v, ok := view(name)
	if !ok {
		return "", fmt.Errorf("inlining view %q: no such view", name)
	}
	var inlineErr error
	text, err := Render(v, func(ref string) string {
		if q, ok := over[ref]; ok {
			return "(" + q + ")"
		}
		if _, ok := view(ref); ok {
			q, err := Inline(ref, table, over)
			if err != nil && inlineErr == nil {
				inlineErr = err
			}
			return "(" + q + ")"
		}
		return table(ref)
	})
	if err == nil {
		err = inlineErr
	}
	if err != nil {
		return "", fmt.Errorf("inlining view %s: %w", name, err)
	}
	return text, nil
}

func view(name string) (View, bool) {
	for _, v := range Views() {
		if v.Name == name {
			return v, true
		}
	}
	return View{}, false
}

func known(name string) bool {
	if _, ok := schema.ByName(name); ok {
		return true
	}
	_, ok := view(name)
	return ok
}
