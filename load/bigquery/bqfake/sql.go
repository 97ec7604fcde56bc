package bqfake

import (
	"context"
	gosql "database/sql"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	bq "google.golang.org/api/bigquery/v2"
)

// The fake runs SQL with an in-memory DuckDB opened for each job that
// needs it (a SELECT reuses the last SELECT's while no job, load or table
// change came between), holding a dataset's tables: each table created from its
// BigQuery schema, filled with the Parquet files its load jobs read (and
// the statements below wrote), load_runs with the ledger's rows
// (ledger.go), and, for a SELECT, the dataset's views, from their stored
// text, in the order they were created. The session's time zone is UTC,
// BigQuery's default.
//
// What it runs:
//   - a query job with a default dataset whose text is not one of the
//     ledger's (AnswerLedger) must be a SELECT (or WITH): its rows are
//     the answer, its columns typed INTEGER, FLOAT, STRING, DATE,
//     TIMESTAMP, DATETIME or BOOLEAN by DuckDB's types;
//   - the transaction of a Replace (BEGIN ... BEGIN TRANSACTION; ...;
//     COMMIT TRANSACTION; EXCEPTION ... END;): its DELETE and INSERT
//     statements, all or none; those on load_runs are RecordRuns', which
//     the ledger applies instead;
//   - the credit-rate seed (IF NOT EXISTS (SELECT 1 FROM t) THEN INSERT
//     ...; END IF;): its INSERT when the table holds no row.
//
// The tables a transaction or seed writes keep their new rows as one
// Parquet file written by DuckDB. A statement DuckDB cannot run fails the
// job with DuckDB's error and the statement.
//
// Before DuckDB sees a statement the fake rewrites exactly these GoogleSQL
// spellings, outside '...' and "..." literals and -- comments (which are
// copied as they are, GoogleSQL's backslash escapes included):
//   - a backquoted `project.dataset.table` (or `dataset.table`) reference
//     to the job's dataset becomes "table"; any other backquoted name
//     `name` becomes "name"; a reference to another dataset fails the job;
//   - a named parameter @name becomes $name (positional ? and system
//     variables @@name stay as they are);
//   - DuckDB's own $name parameter and :: cast fail the job, as GoogleSQL
//     has neither;
//
// and defines one macro: FORMAT_TIMESTAMP(format, timestamp, time_zone)
// as strftime of the timestamp's local time in time_zone (a TIMESTAMP
// without a zone is UTC's). Everything else is DuckDB's own reading of
// the text, which is why the queries kycetl sends BigQuery are also parsed
// as GoogleSQL by its tests (load/bigquery's googlesql_test.go).

var (
	beginTx = regexp.MustCompile(`(?s)^\s*BEGIN\s+BEGIN TRANSACTION;\n(.*)\n\s*COMMIT TRANSACTION;\nEXCEPTION WHEN ERROR THEN\n`)
	seedIf  = regexp.MustCompile("(?s)^\\s*IF NOT EXISTS \\(SELECT 1 FROM `([^`]+)`\\) THEN\\n(.*);\\nEND IF;\\s*$")
	target  = regexp.MustCompile("^(?:DELETE FROM|INSERT INTO) `([^`]+)`")
	selects = regexp.MustCompile(`(?is)^\s*\(*\s*(SELECT|WITH)\b`)
)

// duckTypes are the DuckDB types of BigQuery's column types.
var duckTypes = map[string]string{
	"STRING": "VARCHAR", "BYTES": "BLOB", "INTEGER": "BIGINT", "FLOAT": "DOUBLE", "BOOLEAN": "BOOLEAN",
	"TIMESTAMP": "TIMESTAMPTZ", "DATE": "DATE", "DATETIME": "TIMESTAMP", "TIME": "TIME", "NUMERIC": "DECIMAL(38, 9)",
	"BIGNUMERIC": "DOUBLE", "JSON": "VARCHAR", "GEOGRAPHY": "VARCHAR",
}

// dataset is an in-memory DuckDB holding tables of one dataset.
type dataset struct {
	project, name string
	db            *gosql.DB
	dir           string // the Parquet files it read and wrote
}

func (d *dataset) close() {
	d.db.Close()
	os.RemoveAll(d.dir)
}

// openDataset loads the named tables of a dataset (all with names nil)
// into a new in-memory DuckDB, and its views when views (the caller holds
// mu).
func (s *Server) openDataset(project, name string, names map[string]bool, views bool) (*dataset, *bq.ErrorProto) {
	if _, ok := s.datasets[project+"/"+name]; !ok {
		return nil, &bq.ErrorProto{Reason: "notFound", Message: "Not found: Dataset " + project + ":" + name}
	}
	dir, err := os.MkdirTemp("", "bqfake-")
	if err != nil {
		return nil, internal(err)
	}
	conn, err := duckdb.NewConnector("", nil)
	if err != nil {
		os.RemoveAll(dir)
		return nil, internal(err)
	}
	d := &dataset{project: project, name: name, db: gosql.OpenDB(conn), dir: dir}
	d.db.SetMaxOpenConns(1) // one in-memory database, one session
	if e := d.fill(s, names, views); e != nil {
		d.close()
		return nil, e
	}
	return d, nil
}

func internal(err error) *bq.ErrorProto {
	return &bq.ErrorProto{Reason: "internalError", Message: "the fake's DuckDB: " + err.Error()}
}

func (d *dataset) exec(q string, args ...any) *bq.ErrorProto {
	if _, err := d.db.Exec(q, args...); err != nil {
		return &bq.ErrorProto{Reason: "invalidQuery", Message: err.Error() + " (the fake's DuckDB, running: " + q + ")"}
	}
	return nil
}

// quote is a DuckDB identifier.
func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// fill creates the tables and views (the caller holds mu).
func (d *dataset) fill(s *Server, names map[string]bool, views bool) *bq.ErrorProto {
	for _, q := range []string{"SET TimeZone='UTC'",
		"CREATE MACRO format_timestamp(f, ts, tz) AS strftime(timezone(tz, CAST(ts AS TIMESTAMPTZ)), f)"} {
		if e := d.exec(q); e != nil {
			return e
		}
	}
	prefix := d.project + "/" + d.name + "/"
	var tables, viewNames []string
	for key, t := range s.tables {
		name, ok := strings.CutPrefix(key, prefix)
		switch {
		case !ok:
		case t.meta.Type == "VIEW":
			viewNames = append(viewNames, name)
		case names == nil || names[name]:
			tables = append(tables, name)
		}
	}
	sort.Strings(tables)
	for _, name := range tables {
		if e := d.table(name, s.tables[prefix+name], s.ledgers[d.project+"/"+d.name]); e != nil {
			return e
		}
	}
	if !views {
		return nil
	}
	sort.Slice(viewNames, func(i, j int) bool {
		return s.tables[prefix+viewNames[i]].meta.CreationTime < s.tables[prefix+viewNames[j]].meta.CreationTime
	})
	for _, name := range viewNames {
		text, e := d.rewrite(s.tables[prefix+name].meta.View.Query)
		if e != nil {
			return e
		}
		if e := d.exec("CREATE VIEW " + quote(name) + " AS " + text); e != nil {
			e.Message = "view " + name + ": " + e.Message
			return e
		}
	}
	return nil
}

// table creates a table from its schema and fills it.
func (d *dataset) table(name string, t *table, ledger []ledgerRow) *bq.ErrorProto {
	var cols []string
	var fields []*bq.TableFieldSchema
	if t.meta.Schema != nil {
		fields = t.meta.Schema.Fields
	}
	for _, f := range fields {
		typ, ok := duckTypes[fieldTypes[f.Type]]
		if !ok {
			return &bq.ErrorProto{Reason: "invalid", Message: "the fake's DuckDB has no type for " + f.Type + " (" + name + "." + f.Name + ")"}
		}
		if f.Mode == "REPEATED" {
			typ += "[]"
		}
		cols = append(cols, quote(f.Name)+" "+typ)
	}
	if e := d.exec("CREATE TABLE " + quote(name) + " (" + strings.Join(cols, ", ") + ")"); e != nil {
		return e
	}
	for i, b := range t.blobs {
		path := filepath.Join(d.dir, fmt.Sprintf("%s.%d.parquet", name, i))
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return internal(err)
		}
		if e := d.exec("INSERT INTO " + quote(name) + " BY NAME SELECT * FROM read_parquet('" + strings.ReplaceAll(path, "'", "''") + "')"); e != nil {
			return e
		}
	}
	if name != "load_runs" {
		return nil
	}
	for _, r := range ledger {
		var names, marks []string
		var args []any
		for col, v := range r {
			names, marks, args = append(names, quote(col)), append(marks, "?"), append(args, v)
		}
		if e := d.exec("INSERT INTO load_runs ("+strings.Join(names, ", ")+") VALUES ("+strings.Join(marks, ", ")+")", args...); e != nil {
			return e
		}
	}
	return nil
}

// rewrite makes a GoogleSQL statement of the dataset DuckDB's: see the
// list above.
func (d *dataset) rewrite(q string) (string, *bq.ErrorProto) {
	var b strings.Builder
	for i := 0; i < len(q); {
		switch c := q[i]; {
		case strings.HasPrefix(q[i:], "--"):
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(q) && q[j] != c {
				if q[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(q))
			b.WriteString(q[i:j])
			i = j
		case c == '`':
			end := strings.IndexByte(q[i+1:], '`')
			if end < 0 {
				return "", &bq.ErrorProto{Reason: "invalidQuery", Message: "Unclosed identifier literal: " + q[i:]}
			}
			parts := strings.Split(q[i+1:i+1+end], ".")
			if n := len(parts); n > 1 && (parts[n-2] != d.name || (n == 3 && parts[0] != d.project) || n > 3) {
				return "", &bq.ErrorProto{Reason: "invalidQuery", Message: "the fake runs queries of one dataset, " + d.project + "." + d.name + ", not " + q[i:i+end+2]}
			}
			b.WriteString(quote(parts[len(parts)-1]))
			i += end + 2
		case c == '$' || strings.HasPrefix(q[i:], "::"):
			return "", &bq.ErrorProto{Reason: "invalidQuery", Message: "Syntax error: Unexpected \"" + q[i:i+1] + "\" (GoogleSQL has no $ parameter and no :: cast): " + q}
		case strings.HasPrefix(q[i:], "@@"): // a system variable: left as it is
			b.WriteString("@@")
			i += 2
		case c == '@' && i+1 < len(q) && (q[i+1] == '_' || isLetter(q[i+1])):
			b.WriteByte('$')
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// args are a job's query parameters as DuckDB's arguments: named for
// @name, in order for ?.
func args(params []*bq.QueryParameter) ([]any, *bq.ErrorProto) {
	var out []any
	for _, p := range params {
		v, e := paramValue(p)
		if e != nil {
			return nil, e
		}
		if v == nil && p.ParameterType.Type == "STRING" && p.ParameterValue != nil {
			v = "" // the ledger's NULL, an empty text here
		}
		if p.Name != "" {
			v = gosql.Named(p.Name, v)
		}
		out = append(out, v)
	}
	return out, nil
}

// selectRows answers a SELECT of the job's default dataset (the caller
// holds mu).
func (s *Server) selectRows(job *bq.Job) *bq.ErrorProto {
	q := job.Configuration.Query
	if !selects.MatchString(q.Query) {
		return &bq.ErrorProto{Reason: "invalidQuery", Message: "the fake runs only SELECT queries with a default dataset (and the ledger's, see AnswerLedger): " + q.Query}
	}
	ds := q.DefaultDataset
	if ds.ProjectId == "" {
		ds.ProjectId = job.JobReference.ProjectId
	}
	d, e := s.selectDataset(ds.ProjectId, ds.DatasetId)
	if e != nil {
		return e
	}
	text, e := d.rewrite(q.Query)
	if e != nil {
		return e
	}
	a, e := args(q.QueryParameters)
	if e != nil {
		return e
	}
	rows, err := d.db.QueryContext(context.Background(), text, a...)
	if err != nil {
		return &bq.ErrorProto{Reason: "invalidQuery", Message: err.Error() + " (the fake's DuckDB, running: " + text + ")"}
	}
	defer rows.Close()
	res, err := readResult(rows)
	if err != nil {
		return &bq.ErrorProto{Reason: "invalidQuery", Message: err.Error() + " (the fake's DuckDB, reading the rows of: " + text + ")"}
	}
	s.results[job.JobReference.ProjectId+"/"+job.JobReference.JobId] = res
	job.Statistics.Query = &bq.JobStatistics2{StatementType: "SELECT"}
	return nil
}

// selectDataset is the dataset with its views for a SELECT: the last
// one's while nothing changed since (the caller holds mu).
func (s *Server) selectDataset(project, name string) (*dataset, *bq.ErrorProto) {
	if d := s.selected; d != nil && d.project == project && d.name == name && s.selectedGen == s.gen {
		return d, nil
	}
	if s.selected != nil {
		s.selected.close()
		s.selected = nil
	}
	d, e := s.openDataset(project, name, nil, true)
	if e != nil {
		return nil, e
	}
	s.selected, s.selectedGen = d, s.gen
	return d, nil
}

// readResult reads DuckDB's rows as a query job's result.
func readResult(rows *gosql.Rows) (*result, error) {
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	res := &result{}
	for _, ct := range cts {
		t, err := bigQueryType(ct.DatabaseTypeName())
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", ct.Name(), err)
		}
		res.fields = append(res.fields, &bq.TableFieldSchema{Name: ct.Name(), Type: t})
	}
	for rows.Next() {
		vals := make([]any, len(cts))
		ptrs := make([]any, len(cts))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]any, len(vals))
		for i, v := range vals {
			if row[i], err = typed(res.fields[i].Type, v); err != nil {
				return nil, fmt.Errorf("column %s: %w", res.fields[i].Name, err)
			}
		}
		res.rows = append(res.rows, row)
	}
	return res, rows.Err()
}

// bigQueryType is the BigQuery type of a DuckDB column type.
func bigQueryType(duck string) (string, error) {
	switch {
	case strings.HasPrefix(duck, "DECIMAL"), duck == "DOUBLE", duck == "FLOAT":
		return "FLOAT", nil
	case strings.Contains(duck, "INT") && !strings.Contains(duck, "INTERVAL") && !strings.HasSuffix(duck, "[]"):
		return "INTEGER", nil
	}
	t, ok := map[string]string{"VARCHAR": "STRING", "DATE": "DATE", "TIMESTAMPTZ": "TIMESTAMP", "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
		"TIMESTAMP": "DATETIME", "BOOLEAN": "BOOLEAN", "BLOB": "BYTES"}[duck]
	if !ok {
		return "", fmt.Errorf("the fake returns no column of DuckDB's type %s", duck)
	}
	return t, nil
}

// typed is a DuckDB value as the fake keeps a result's cell: int64,
// float64, string, bool, []byte, time.Time (TIMESTAMP), or a civil
// DATE/DATETIME's text; nil for NULL.
func typed(bqType string, v any) (any, error) {
	switch v := v.(type) {
	case nil, string, bool, []byte, int64, float64:
		return v, nil
	case int32:
		return int64(v), nil
	case int16:
		return int64(v), nil
	case int8:
		return int64(v), nil
	case uint32:
		return int64(v), nil
	case float32:
		return float64(v), nil
	case *big.Int:
		if !v.IsInt64() {
			return nil, fmt.Errorf("%s is out of INT64's range", v)
		}
		return v.Int64(), nil
	case duckdb.Decimal:
		return v.Float64(), nil
	case time.Time:
		switch bqType {
		case "DATE":
			return civil{v.UTC().Format(time.DateOnly)}, nil
		case "DATETIME":
			return civil{v.UTC().Format("2006-01-02T15:04:05.999999")}, nil
		}
		return v, nil
	}
	return nil, fmt.Errorf("the fake returns no value of Go type %T", v)
}

// civil is a DATE or DATETIME cell, as its text.
type civil struct{ text string }

// script applies the statements of a Replace transaction or of the seed
// (the caller holds mu); ok says whether q is one of them.
func (s *Server) script(q string, params []*bq.QueryParameter) (ok bool, e *bq.ErrorProto) {
	var stmts []string
	if m := beginTx.FindStringSubmatch(q); m != nil {
		for _, st := range strings.Split(m[1], ";\n") {
			if st = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(st), ";")); st != "" {
				stmts = append(stmts, st)
			}
		}
	} else if m := seedIf.FindStringSubmatch(q); m != nil {
		ref := strings.Split(m[1], ".")
		if len(ref) != 3 {
			return true, &bq.ErrorProto{Reason: "invalid", Message: "Table name " + m[1] + " missing dataset while no default dataset is set in the request."}
		}
		t, found := s.tables[ref[0]+"/"+ref[1]+"/"+ref[2]]
		if !found {
			return true, &bq.ErrorProto{Reason: "notFound", Message: "Not found: Table " + ref[0] + ":" + ref[1] + "." + ref[2]}
		}
		if t.rows > 0 {
			return true, nil
		}
		stmts = []string{strings.TrimSpace(m[2])}
	} else {
		return false, nil
	}
	// The statements of one dataset, by the table each writes; load_runs
	// is the ledger's.
	var ds [2]string
	writes := map[string]bool{}
	var run []string
	for _, st := range stmts {
		m := target.FindStringSubmatch(st)
		if m == nil {
			return true, &bq.ErrorProto{Reason: "invalidQuery", Message: "the fake applies only DELETE FROM `table` and INSERT INTO `table` in a script, not: " + st}
		}
		ref := strings.Split(m[1], ".")
		if len(ref) != 3 || (ds[0] != "" && ds != [2]string{ref[0], ref[1]}) {
			return true, &bq.ErrorProto{Reason: "invalidQuery", Message: "the fake applies statements on `project.dataset.table` of one dataset, not: " + st}
		}
		ds = [2]string{ref[0], ref[1]}
		if ref[2] == "load_runs" {
			continue
		}
		writes[ref[2]] = true
		run = append(run, st)
	}
	if len(run) == 0 {
		return true, nil
	}
	names := map[string]bool{}
	for _, st := range run {
		for _, m := range tableRef.FindAllStringSubmatch(st, -1) {
			names[m[3]] = true
		}
	}
	d, e := s.openDataset(ds[0], ds[1], names, false)
	if e != nil {
		return true, e
	}
	defer d.close()
	a, e := args(params)
	if e != nil {
		return true, e
	}
	for _, st := range run {
		text, e := d.rewrite(st)
		if e != nil {
			return true, e
		}
		// Only the parameters a statement names: DuckDB refuses others.
		var mine []any
		for _, v := range a {
			if n, ok := v.(gosql.NamedArg); ok && strings.Contains(text, "$"+n.Name) {
				mine = append(mine, v)
			}
		}
		if e := d.exec(text, mine...); e != nil {
			return true, e
		}
	}
	// All ran: the tables written take their new rows.
	prefix := ds[0] + "/" + ds[1] + "/"
	written := map[string][]byte{}
	counts := map[string]int64{}
	for name := range writes {
		path := filepath.Join(d.dir, name+".out.parquet")
		if e := d.exec("COPY " + quote(name) + " TO '" + strings.ReplaceAll(path, "'", "''") + "' (FORMAT parquet)"); e != nil {
			return true, e
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return true, internal(err)
		}
		var n int64
		if err := d.db.QueryRow("SELECT COUNT(*) FROM " + quote(name)).Scan(&n); err != nil {
			return true, internal(err)
		}
		written[name], counts[name] = b, n
	}
	for name, b := range written {
		t := s.tables[prefix+name]
		t.blobs, t.rows = [][]byte{b}, counts[name]
		t.etag++
	}
	return true, nil
}
