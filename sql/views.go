package sql

import (
	_ "embed"
	"fmt"
	"strings"
	"text/template"

	"github.com/kycetl/kycetl/schema"
)

// View is one warehouse view: its name and its query, with table references
// still to be rendered.
type View struct {
	Name string
	Text string
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
)

// Views lists every view in creation order: each after the views it reads.
// The file of a view is named after it.
func Views() []View {
	return []View{
		{Name: "submission_facts", Text: submissionFacts},
		{Name: "stats_daily", Text: statsDaily},
		{Name: "stats_totals", Text: statsTotals},
		{Name: "stats_status_distribution", Text: statsStatusDistribution},
		{Name: "credit_usage_daily", Text: creditUsageDaily},
		{Name: "stats_by_country", Text: statsByCountry},
		{Name: "stats_by_user", Text: statsByUser},
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

func known(name string) bool {
	if _, ok := schema.ByName(name); ok {
		return true
	}
	for _, v := range Views() {
		if v.Name == name {
			return true
		}
	}
	return false
}
