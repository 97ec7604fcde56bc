package sql

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func bare(name string) string { return name }

func bigQuery(name string) string { return "`my-project.kyc." + name + "`" }

func TestEveryFileIsAView(t *testing.T) {
	files, err := filepath.Glob("*.sql")
	if err != nil {
		t.Fatal(err)
	}
	views := map[string]bool{}
	for _, v := range Views() {
		if views[v.Name] {
			t.Errorf("view %s listed twice", v.Name)
		}
		views[v.Name] = true
		if strings.TrimSpace(v.Text) == "" {
			t.Errorf("view %s is empty", v.Name)
		}
	}
	for _, f := range files {
		if name := strings.TrimSuffix(f, ".sql"); !views[name] {
			t.Errorf("%s is not listed in Views()", f)
		}
	}
	if len(files) != len(views) {
		t.Errorf("%d .sql files, %d views", len(files), len(views))
	}
}

func TestViewsReadOnlyEarlierViews(t *testing.T) {
	seen := map[string]bool{}
	views := map[string]bool{}
	for _, v := range Views() {
		views[v.Name] = true
	}
	for _, v := range Views() {
		var refs []string
		if _, err := Render(v, func(n string) string { refs = append(refs, n); return n }); err != nil {
			t.Fatal(err)
		}
		if len(refs) == 0 {
			t.Errorf("view %s reads no table", v.Name)
		}
		for _, r := range refs {
			if views[r] && !seen[r] {
				t.Errorf("view %s reads view %s, which is created after it", v.Name, r)
			}
		}
		seen[v.Name] = true
	}
}

var (
	comment = regexp.MustCompile(`--[^\n]*`)
	// Constructs outside the subset DuckDB and BigQuery share.
	forbidden = []struct {
		re  *regexp.Regexp
		why string
	}{
		{regexp.MustCompile(`::`), "'::' casts are DuckDB only: use CAST"},
		{regexp.MustCompile(`(?i)\bCOUNTIF\b`), "COUNTIF is BigQuery only: use COUNT(CASE WHEN ...)"},
		{regexp.MustCompile(`(?i)\bSAFE_DIVIDE\b`), "SAFE_DIVIDE is BigQuery only: use NULLIF"},
		{regexp.MustCompile(`(?i)\bFILTER\s*\(`), "FILTER clauses are DuckDB only: use CASE WHEN"},
		{regexp.MustCompile(`//`), "'//' is DuckDB's integer division"},
		{regexp.MustCompile(`(?i)\bCURRENT_DATE\s*\(`), "CURRENT_DATE() is BigQuery only: write CURRENT_DATE"},
		{regexp.MustCompile(`(?i)\bDATE\s*\(`), "DATE(...) differs between the engines: use DATE 'YYYY-MM-DD' or CAST"},
		{regexp.MustCompile(`"`), "double quotes quote identifiers in DuckDB and strings in BigQuery"},
		{regexp.MustCompile("`"), "backticks are BigQuery only: Render fills in table names"},
		{regexp.MustCompile(`\{\{`), "the only template action is {{table \"name\"}}"},
		{regexp.MustCompile(`(?i)\bILIKE\b|\bQUALIFY\b|\bEXCLUDE\b|\bSTRUCT\b|\bSTRING\b|\bINT64\b|\bFLOAT64\b`), "not in both engines"},
	}
	// A FROM or JOIN must name a table through the template (or open a
	// subquery), so that each engine fills in its own reference.
	fromJoin = regexp.MustCompile(`(?i)\b(FROM|JOIN)\s+(\S+)`)
	tableRef = regexp.MustCompile(`\{\{table "([a-z_]+)"\}\}`)
	// EXTRACT(part FROM expression) names no table.
	extract = regexp.MustCompile(`(?i)\bEXTRACT\(\s*[a-z]+\s+FROM\s`)
	// A common table expression, WITH name AS (...) or , name AS (...),
	// may be read by name in the same view.
	cte = regexp.MustCompile(`(?i)(?:\bWITH|,)\s+([a-z_]+)\s+AS\s+\(`)
)

func TestViewsUseTheSharedSubset(t *testing.T) {
	for _, v := range Views() {
		code := comment.ReplaceAllString(v.Text, "")
		code = tableRef.ReplaceAllString(code, "TABLE_$1")
		for _, f := range forbidden {
			if loc := f.re.FindStringIndex(code); loc != nil {
				t.Errorf("%s.sql: %q: %s", v.Name, code[loc[0]:loc[1]], f.why)
			}
		}
		code = extract.ReplaceAllString(code, "EXTRACT(")
		ctes := map[string]bool{}
		for _, m := range cte.FindAllStringSubmatch(code, -1) {
			ctes[m[1]] = true
		}
		for _, m := range fromJoin.FindAllStringSubmatch(code, -1) {
			if !strings.HasPrefix(m[2], "TABLE_") && !strings.HasPrefix(m[2], "(") && !ctes[m[2]] {
				t.Errorf("%s.sql: %s %s names a table without {{table \"...\"}}", v.Name, m[1], m[2])
			}
		}
	}
}

// published are the views and columns as first published:
// the BI contract. A view may gain columns at the end, never lose, rename
// or move one.
var published = map[string][]string{
	"stats_daily": {"project", "day", "total", "approved", "rejected", "incomplete", "pending", "aml_count",
		"approved_ratio", "rejected_ratio", "incomplete_ratio", "pending_ratio", "approval_rate", "credits"},
	"stats_totals":              {"project", "total", "approved", "rejected", "incomplete", "pending", "aml_count", "credits"},
	"stats_status_distribution": {"project", "status", "submissions", "share"},
	"stats_by_country":          {"project", "country", "status", "submissions"},
	"stats_by_user":             {"project", "userid", "status", "submissions", "last_submitted_at"},
	"credit_usage_daily":        {"project", "day", "credits"},
}

func TestViewColumnsOnlyGrow(t *testing.T) {
	views := map[string]View{}
	for _, v := range Views() {
		views[v.Name] = v
		seen := map[string]bool{}
		for _, c := range v.Columns {
			if seen[c] {
				t.Errorf("%s: column %s listed twice", v.Name, c)
			}
			seen[c] = true
		}
	}
	for name, cols := range published {
		v, ok := views[name]
		if !ok {
			t.Errorf("published view %s is gone", name)
			continue
		}
		if len(v.Columns) < len(cols) || strings.Join(v.Columns[:len(cols)], ",") != strings.Join(cols, ",") {
			t.Errorf("%s: columns %v do not begin with the published %v", name, v.Columns, cols)
		}
	}
	// The additions of issue 13: a period filter on the breakdowns, the
	// approval rate over all days.
	for name, col := range map[string]string{"stats_by_country": "day", "stats_by_user": "day", "stats_totals": "approval_rate"} {
		if !slices.Contains(views[name].Columns, col) {
			t.Errorf("%s has no column %s", name, col)
		}
	}
}

func TestRenderRejectsUnknownNames(t *testing.T) {
	for _, text := range []string{`SELECT * FROM {{table "submisions"}}`, `SELECT * FROM {{table "x"`, `{{.Missing.Field}}`} {
		if out, err := Render(View{Name: "bad", Text: text}, bare); err == nil {
			t.Errorf("Render(%q) = %q, want an error", text, out)
		}
	}
}

// TestRenderGolden pins the SQL each engine is given.
func TestRenderGolden(t *testing.T) {
	for engine, table := range map[string]func(string) string{"duckdb": bare, "bigquery": bigQuery} {
		var b strings.Builder
		for _, v := range Views() {
			sql, err := Render(v, table)
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString("-- view " + v.Name + "\n" + sql + "\n")
		}
		golden := filepath.Join("testdata", engine+".golden")
		if *update {
			if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if b.String() != string(want) {
			t.Errorf("rendered %s views differ from %s (run go test -update if the change is meant)", engine, golden)
		}
	}
}

func TestInline(t *testing.T) {
	const facts = "SELECT * FROM facts_of_one_day"
	got, err := Inline("stats_totals", bare, map[string]string{"submission_facts": facts})
	if err != nil {
		t.Fatal(err)
	}
	daily, err := Render(View{Name: "x", Text: statsDaily}, func(string) string { return "(" + facts + ")" })
	if err != nil {
		t.Fatal(err)
	}
	// stats_totals reads stats_daily, written in place over the given rows.
	if !strings.Contains(got, "("+daily+")") || strings.Contains(got, `{{`) {
		t.Errorf("Inline(stats_totals) over %q:\n%s", facts, got)
	}
	// Without over, the tables are the engine's.
	got, err = Inline("stats_daily", bigQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "`my-project.kyc.submissions`") || strings.Contains(got, "`my-project.kyc.submission_facts`") {
		t.Errorf("Inline(stats_daily) does not read the tables alone:\n%s", got)
	}
	if _, err := Inline("no_such_view", bare, nil); err == nil {
		t.Error("Inline of an unknown view: no error")
	}
}

// TestViewDocsAreCurrent fails when docs/views.md, the views' data
// dictionary, no longer matches the views.
func TestViewDocsAreCurrent(t *testing.T) {
	const path = "../docs/views.md"
	var b strings.Builder
	if err := WriteViewDocs(&b); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./sql -update to create it)", err)
	}
	if b.String() != string(want) {
		t.Errorf("%s is stale: run go test ./sql -update", path)
	}
}
