package sql

import (
	"fmt"
	"io"
	"strings"
)

// WriteViewDocs writes the views' part of the data dictionary
// (docs/views.md): each view's columns, its documentation (the comment that
// opens its file) and its exact definition, as DuckDB is given it.
func WriteViewDocs(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# kycetl views\n\nGenerated from `sql/*.sql` and `sql.Views()`; do not edit by hand.\n" +
		"Regenerate with `go test ./sql -update`. Each view is the same SQL in DuckDB and BigQuery, with\n" +
		"table names filled in per engine; the columns are the BI contract (only ever added, at the end).\n\n")
	for _, v := range Views() {
		fmt.Fprintf(&b, "- [%s](#%s)\n", v.Name, v.Name)
	}
	for _, v := range Views() {
		text, err := Render(v, func(name string) string { return name })
		if err != nil {
			return fmt.Errorf("documenting view %s: %w", v.Name, err)
		}
		var doc, body []string
		for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
			if rest, ok := strings.CutPrefix(line, "--"); ok && len(body) == 0 {
				doc = append(doc, strings.TrimPrefix(rest, " "))
				continue
			}
			body = append(body, line)
		}
		fmt.Fprintf(&b, "\n## %s\n\nColumns: %s.\n\n```\n%s\n```\n\nDefinition:\n\n```sql\n%s\n```\n",
			v.Name, "`"+strings.Join(v.Columns, "`, `")+"`", strings.Join(doc, "\n"), strings.Join(body, "\n"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
