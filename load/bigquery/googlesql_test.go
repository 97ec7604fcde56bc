package bigquery

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cloudspannerecosystem/memefish"
	"github.com/cloudspannerecosystem/memefish/ast"
	"github.com/cloudspannerecosystem/memefish/token"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/fractal"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/load/loadtest"
	"github.com/kycetl/kycetl/sql"
	"github.com/kycetl/kycetl/transform/schema"
)

// memefish parses Spanner's GoogleSQL, which BigQuery's dialect shares for
// everything these statements use but three things (docs/bigquery.md):
//   - window functions (SUM(...) OVER (PARTITION BY ...), ROW_NUMBER() OVER
//     (PARTITION BY ... ORDER BY ...)), which Spanner lacks: each OVER clause
//     is cut before parsing, and the test checks that memefish fails exactly
//     there without the cut, so that it notices when memefish learns them;
//   - an interval of a computed number of days or hours (DATE_ADD(d,
//     INTERVAL (n) DAY), t + INTERVAL (h) HOUR: BigQuery's INTERVAL
//     int64_expression date_part), which memefish reads only for a
//     literal: the expression is replaced by 1 before parsing, with the
//     same check that memefish fails there without it;
//   - scripting (BEGIN ... EXCEPTION ... END, BEGIN/COMMIT/ROLLBACK
//     TRANSACTION, RAISE, IF ... END IF): only the DML statements inside
//     are parsed.
//
// CREATE OR REPLACE VIEW is not parsed either (Spanner requires SQL
// SECURITY); its body, the view's query, is.
var (
	overClause   = regexp.MustCompile(`\s+OVER \((?:[^()]|\([^()]*\))*\)`)
	dayInterval  = regexp.MustCompile(`INTERVAL \([^()]*\) (DAY|HOUR)`)
	cutConstruct = []struct {
		re    *regexp.Regexp
		with  string
		fails string // what memefish's error names without the cut
	}{
		{overClause, "", "OVER"},
		{dayInterval, "INTERVAL 1 $1", "int64_expression"},
	}
)

// windowViews are the views that use a window function (docs/bigquery.md
// names them).
var windowViews = []string{"stats_status_distribution", "anomalies", "time_to_decision_daily", "reject_reasons_daily",
	"fractal_status_daily", "fractal_credential_changes"}

func TestViewsParseAsGoogleSQL(t *testing.T) {
	w := &Warehouse{cfg: Config{Project: "my-project", Dataset: "kyc"}}
	var windows []string
	for _, v := range sql.Views() {
		ddl, err := w.ViewDDL(v)
		if err != nil {
			t.Fatal(err)
		}
		_, query, _ := strings.Cut(ddl, "\n")
		if overClause.MatchString(query) {
			windows = append(windows, v.Name)
		}
		stmt, err := parseQuery(t, v.Name, query)
		if err != nil {
			t.Errorf("%s does not parse as GoogleSQL: %v", v.Name, err)
			continue
		}
		if got := outputColumns(t, v.Name, stmt.Query); strings.Join(got, " ") != strings.Join(v.Columns, " ") {
			t.Errorf("%s: BigQuery reads the columns\n  %s\nsql.Views declares\n  %s", v.Name, strings.Join(got, " "), strings.Join(v.Columns, " "))
		}
	}
	slices.Sort(windows)
	want := slices.Sorted(slices.Values(windowViews))
	if !slices.Equal(windows, want) {
		t.Errorf("the views %v use a window function; docs/bigquery.md names %v", windows, want)
	}
}

// parseQuery parses a query as GoogleSQL after the cuts of cutConstruct,
// checking that memefish fails without each cut that applies.
func parseQuery(t *testing.T, name, query string) (*ast.QueryStatement, error) {
	t.Helper()
	for _, c := range cutConstruct {
		if !c.re.MatchString(query) {
			continue
		}
		_, err := memefish.ParseQuery(name+".sql", query)
		if err == nil || !strings.Contains(err.Error(), c.fails) {
			t.Errorf("%s: memefish now reads %s (%v): parse it whole", name, c.re, err)
		}
		query = c.re.ReplaceAllString(query, c.with)
	}
	return memefish.ParseQuery(name+".sql", query)
}

// TestReaderQueriesParseAsGoogleSQL runs every reader of sql/stats in its
// BigQuery dialect against the fake, with every filter, and parses each
// query it sent as GoogleSQL: the fake runs them with DuckDB, which would
// take a query only DuckDB accepts.
func TestReaderQueriesParseAsGoogleSQL(t *testing.T) {
	w, fake := openPrepared(t)
	readAll(t, w)
	n := 0
	for _, j := range fake.Jobs() {
		if !strings.HasPrefix(j.JobReference.JobId, "kycetl_query") {
			continue
		}
		n++
		if _, err := parseQuery(t, j.JobReference.JobId, j.Configuration.Query.Query); err != nil {
			t.Errorf("a query of sql/stats does not parse as GoogleSQL: %v", err)
		}
	}
	if n < 30 {
		t.Errorf("%d queries of sql/stats parsed, want every reader's", n)
	}
}

// outputColumns names the columns a view's query returns, as BigQuery
// names them: the alias, else the last name of a column reference.
func outputColumns(t *testing.T, view string, q ast.QueryExpr) []string {
	t.Helper()
	if wrapped, ok := q.(*ast.Query); ok {
		q = wrapped.Query
	}
	// A UNION takes the names of its first query.
	for {
		c, ok := q.(*ast.CompoundQuery)
		if !ok {
			break
		}
		q = c.Queries[0]
	}
	sel, ok := q.(*ast.Select)
	if !ok {
		t.Fatalf("%s: the query is a %T, not a SELECT", view, q)
	}
	var names []string
	for _, item := range sel.Results {
		switch it := item.(type) {
		case *ast.Alias:
			names = append(names, it.As.Alias.Name)
		case *ast.ExprSelectItem:
			switch e := it.Expr.(type) {
			case *ast.Ident:
				names = append(names, e.Name)
			case *ast.Path:
				names = append(names, e.Idents[len(e.Idents)-1].Name)
			default:
				t.Errorf("%s: a column without a name: %s", view, e.SQL())
			}
		default:
			t.Errorf("%s: %s does not name its columns", view, item.SQL())
		}
	}
	return names
}

// dml lists the DML statements inside a script.
func dml(script string) []string {
	var out []string
	for _, stmt := range strings.Split(script, ";") {
		stmt = strings.TrimSpace(stmt)
		if i := strings.Index(stmt, "INSERT INTO"); i > 0 { // after IF ... THEN
			stmt = stmt[i:]
		}
		if strings.HasPrefix(stmt, "DELETE ") || strings.HasPrefix(stmt, "INSERT ") {
			out = append(out, stmt)
		}
	}
	return out
}

func TestScriptStatementsParseAsGoogleSQL(t *testing.T) {
	w := &Warehouse{cfg: Config{Project: "my-project", Dataset: "kyc"}}
	parts := append(argosDays(load.Partition{Project: "acme", Day: loadtest.Day(2025, 2, 1)}, load.Partition{Project: "beta", Day: loadtest.Day(2025, 2, 2)}),
		fractalDay(load.Partition{Source: "fractal", Project: "acme", Day: loadtest.Day(2025, 2, 1)}))
	replace, _ := w.ReplaceSQL(parts, map[string]string{"submissions": "_kycetl_stage_0_submissions", "quarantine": "_kycetl_stage_0_quarantine"})
	runs, _, err := w.RecordRunsSQL(&archive.Manifest{RunID: "R"}, []archive.DayRecord{{Project: "acme", Day: "2025-02-01"}, {Project: "acme", Day: "2025-02-02"}})
	if err != nil {
		t.Fatal(err)
	}
	for name, script := range map[string]string{"replace": replace, "record runs": runs, "seed": w.SeedCreditRatesSQL()} {
		stmts := dml(script)
		if len(stmts) == 0 {
			t.Errorf("%s: no DML found", name)
		}
		for _, s := range stmts {
			if _, err := memefish.ParseDML(name, s); err != nil {
				t.Errorf("%s: %v\n%s", name, err, s)
			}
		}
	}
}

// argosDays gives each partition a file of every table of an ARGOS day:
// its own and the quarantine.
func argosDays(parts ...load.Partition) []load.PartitionFiles {
	return withFiles(append(argos.Tables(), schema.Quarantine), parts)
}

// fractalDay gives p a file of every Fractal table.
func fractalDay(p load.Partition) load.PartitionFiles {
	return withFiles(fractal.Tables(), []load.Partition{p})[0]
}

func withFiles(tables []*schema.Table, parts []load.Partition) []load.PartitionFiles {
	out := make([]load.PartitionFiles, len(parts))
	for i, p := range parts {
		out[i] = load.PartitionFiles{Partition: p, Files: map[string]string{}}
		for _, t := range tables {
			out[i].Files[t.Name] = t.Name + ".parquet"
		}
	}
	return out
}

// FuzzSelectOnly: the reader's check never panics, and what it lets
// through is one statement to GoogleSQL's own splitter (and comments).
func FuzzSelectOnly(f *testing.F) {
	for _, s := range []string{"SELECT 1", "(SELECT 1);", "SELECT ';' -- ;\n", "WITH a AS (SELECT 1) SELECT * FROM a", "SELECT 1; SELECT 2", "DELETE FROM t", "/* */ SELECT @x", "SELECT '"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if selectOnly(q) != nil {
			return
		}
		stmts, err := memefish.SplitRawStatements("q", q)
		n := 0
		for _, st := range stmts {
			lex := &memefish.Lexer{File: &token.File{Buffer: st.Statement}}
			if lex.NextToken() != nil || lex.Token.Kind != token.TokenEOF { // not comments alone
				n++
			}
		}
		if err != nil || n != 1 {
			t.Errorf("selectOnly(%q) let through %d statements (%v)", q, n, err)
		}
	})
}
