package bigquery

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"cloud.google.com/go/bigquery"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/transform/schema"
)

// transaction wraps statements in one transaction that a failure rolls
// back, re-raising BigQuery's own message so that the job fails with it.
func transaction(statements []string) string {
	var b strings.Builder
	b.WriteString("BEGIN\n  BEGIN TRANSACTION;\n")
	for _, s := range statements {
		b.WriteString("  " + s + ";\n")
	}
	b.WriteString("  COMMIT TRANSACTION;\nEXCEPTION WHEN ERROR THEN\n  ROLLBACK TRANSACTION;\n  RAISE USING MESSAGE = @@error.message;\nEND;")
	return b.String()
}

// dateLiteral is a date as a GoogleSQL literal. Dates are written as
// literals, not parameters, so that the DELETE's partition filter is a
// constant and BigQuery prunes to those partitions before reading.
func dateLiteral(day time.Time) string { return "DATE '" + argos.FormatDate(day) + "'" }

func dateList(days []time.Time) string {
	lits := make([]string, len(days))
	for i, d := range days {
		lits[i] = dateLiteral(d)
	}
	return strings.Join(lits, ", ")
}

// projectDays groups partitions by project, projects and days sorted.
type projectDays struct {
	project string
	days    []time.Time
}

func groupByProject(parts []load.Partition) []projectDays {
	byProject := map[string][]time.Time{}
	for _, p := range parts {
		byProject[p.Project] = append(byProject[p.Project], argos.Day(p.Day))
	}
	out := make([]projectDays, 0, len(byProject))
	for project, days := range byProject {
		sort.Slice(days, func(i, j int) bool { return days[i].Before(days[j]) })
		out = append(out, projectDays{project, days})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].project < out[j].project })
	return out
}

// partitionFilter selects exactly the rows of parts in a table partitioned
// on dateCol: the days of all parts as a literal list (partition pruning),
// then each project with its own days. Project names are parameters
// (@project_0, ..., or @<prefix>project_0 when one script holds filters of
// different partitions).
func partitionFilter(parts []load.Partition, dateCol string) (string, []bigquery.QueryParameter) {
	return prefixedFilter(parts, dateCol, "")
}

func prefixedFilter(parts []load.Partition, dateCol, prefix string) (string, []bigquery.QueryParameter) {
	groups := groupByProject(parts)
	seen := map[time.Time]bool{}
	var all []time.Time
	var terms []string
	var params []bigquery.QueryParameter
	for i, g := range groups {
		name := fmt.Sprintf("%sproject_%d", prefix, i)
		params = append(params, bigquery.QueryParameter{Name: name, Value: g.project})
		terms = append(terms, fmt.Sprintf("(project = @%s AND %s IN (%s))", name, dateCol, dateList(g.days)))
		for _, d := range g.days {
			if !seen[d] {
				seen[d] = true
				all = append(all, d)
			}
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Before(all[j]) })
	return fmt.Sprintf("%s IN (%s) AND (%s)", dateCol, dateList(all), strings.Join(terms, " OR ")), params
}

// columnList is a table's declared columns, quoted.
func columnList(t *schema.Table) string {
	cols := t.AllColumns()
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = "`" + c.Name + "`"
	}
	return strings.Join(names, ", ")
}

// ReplaceSQL is the transaction that swaps partitions in: it deletes them
// from each partitioned table their files name (a partition is one source's
// day: another source's tables keep their rows of the project and day) and
// inserts each staged table (table name → staging table name) into its
// table.
func (w *Warehouse) ReplaceSQL(parts []load.PartitionFiles, staged map[string]string) (string, []bigquery.QueryParameter) {
	// Tables filled by the same partitions (a source's) share one filter
	// and its parameters.
	filters := map[string]string{} // by day column and partitions
	var params []bigquery.QueryParameter
	var stmts []string
	for _, t := range schema.Partitioned() {
		var mine []load.Partition
		var sig strings.Builder
		for i, p := range parts {
			if _, ok := p.Files[t.Name]; ok {
				mine = append(mine, p.Partition)
				fmt.Fprintf(&sig, "%d,", i)
			}
		}
		if len(mine) == 0 {
			continue
		}
		day := t.DayColumn().Name
		key := day + "/" + sig.String()
		f, ok := filters[key]
		if !ok {
			prefix := ""
			if len(filters) > 0 {
				prefix = fmt.Sprintf("f%d_", len(filters))
			}
			var ps []bigquery.QueryParameter
			f, ps = prefixedFilter(mine, day, prefix)
			params = append(params, ps...)
			filters[key] = f
		}
		stmts = append(stmts, "DELETE FROM "+w.ref(t.Name)+" WHERE "+f)
	}
	for _, t := range schema.Partitioned() {
		stage, ok := staged[t.Name]
		if !ok {
			continue
		}
		cols := columnList(t)
		stmts = append(stmts, "INSERT INTO "+w.ref(t.Name)+" ("+cols+") SELECT "+cols+" FROM "+w.ref(stage))
	}
	return transaction(stmts), params
}
