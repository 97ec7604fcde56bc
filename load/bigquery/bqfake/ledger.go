package bqfake

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	bq "google.golang.org/api/bigquery/v2"
)

// The load_runs ledger. kycetl reads its ledger back (catch-up and the call
// budget of kycetl schedule, kycetl status), so the fake keeps the rows
// that kycetl's RecordRuns transactions insert and answers the ledger's
// queries by their exact text (any other SELECT runs in DuckDB, sql.go,
// which sees these rows as the table load_runs):
//
//   - a query job whose script holds "INSERT INTO `P.D.load_runs` (...)
//     VALUES (@r0_col, ...), ..." (RecordRuns) first deletes the rows of
//     the same run, project and day as each inserted row (the DELETE that
//     precedes it selects exactly those), then stores the rows, typed by
//     their parameters;
//   - a query job with a default dataset whose text is one of the texts
//     given to AnswerLedger (whitespace aside) is answered by name: its
//     positional parameters are the query's ?, and its rows come from the
//     dataset's ledger, computed in Go as the SQL would (see answer).
//
// A NULL parameter reads as the empty string (RecordRuns sends NULL for
// every empty text), dates stay YYYY-MM-DD strings (which order as dates),
// timestamps are time.Time.

var insertRuns = regexp.MustCompile("INSERT INTO `([^`.]+)\\.([^`.]+)\\.load_runs`")

// ledgerRow is one load_runs row: column → string, int64, float64,
// time.Time, or nil.
type ledgerRow map[string]any

// result is what a query job answered: its schema and rows.
type result struct {
	fields []*bq.TableFieldSchema
	rows   [][]any
}

// AnswerLedger makes the fake answer the ledger's queries, given as name →
// text (schedules.Queries): first_day, days, runs, incomplete, latest,
// sources, calls and run_days. An unknown name is an error.
func (s *Server) AnswerLedger(queries map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.answers == nil {
		s.answers = map[string]string{}
	}
	for name, text := range queries {
		if _, ok := ledgerAnswers[name]; !ok {
			return fmt.Errorf("bqfake: no answer for the ledger query %q", name)
		}
		s.answers[normalize(text)] = name
	}
	return nil
}

// LedgerRows returns the load_runs rows a dataset holds, in insertion order.
func (s *Server) LedgerRows(project, dataset string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, r := range s.ledgers[project+"/"+dataset] {
		c := map[string]any{}
		for k, v := range r {
			c[k] = v
		}
		out = append(out, c)
	}
	return out
}

func normalize(q string) string { return strings.Join(strings.Fields(q), " ") }

// recordRuns applies a RecordRuns transaction (the caller holds mu).
func (s *Server) recordRuns(project, dataset string, params []*bq.QueryParameter) *bq.ErrorProto {
	byRow := map[int]ledgerRow{}
	for _, p := range params {
		row, col, ok := strings.Cut(strings.TrimPrefix(p.Name, "r"), "_")
		n, err := strconv.Atoi(row)
		if !strings.HasPrefix(p.Name, "r") || !ok || err != nil {
			continue // @run_id, @project_N: the DELETE's
		}
		v, e := paramValue(p)
		if e != nil {
			return e
		}
		if byRow[n] == nil {
			byRow[n] = ledgerRow{}
		}
		byRow[n][col] = v
	}
	key := project + "/" + dataset
	for n := 0; n < len(byRow); n++ {
		r, ok := byRow[n]
		if !ok {
			return &bq.ErrorProto{Reason: "invalid", Message: fmt.Sprintf("Query parameter 'r%d_run_id' not found", n)}
		}
		kept := s.ledgers[key][:0:0]
		for _, o := range s.ledgers[key] {
			if o["run_id"] != r["run_id"] || o["project"] != r["project"] || o["day"] != r["day"] {
				kept = append(kept, o)
			}
		}
		s.ledgers[key] = append(kept, r)
	}
	return nil
}

// paramValue is a parameter's value, typed.
func paramValue(p *bq.QueryParameter) (any, *bq.ErrorProto) {
	if p.ParameterType == nil {
		return nil, &bq.ErrorProto{Reason: "invalid", Message: "Query parameter " + p.Name + " has no type"}
	}
	v := ""
	if p.ParameterValue != nil {
		v = p.ParameterValue.Value
	}
	if v == "" {
		return nil, nil
	}
	bad := func(err error) *bq.ErrorProto {
		return &bq.ErrorProto{Reason: "invalid", Message: fmt.Sprintf("Invalid %s value %q for query parameter %s: %v", p.ParameterType.Type, v, p.Name, err)}
	}
	switch p.ParameterType.Type {
	case "STRING", "DATE":
		if p.ParameterType.Type == "DATE" {
			if _, err := time.Parse(time.DateOnly, v); err != nil {
				return nil, bad(err)
			}
		}
		return v, nil
	case "INT64":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, bad(err)
		}
		return n, nil
	case "FLOAT64":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, bad(err)
		}
		return f, nil
	case "TIMESTAMP":
		t, err := time.Parse("2006-01-02 15:04:05.999999-07:00", v)
		if err != nil {
			return nil, bad(err)
		}
		return t.UTC(), nil
	}
	return nil, &bq.ErrorProto{Reason: "invalid", Message: "the fake's ledger takes no " + p.ParameterType.Type + " parameter (" + p.Name + ")"}
}

// answerLedger answers a ledger query, one of the texts given to
// AnswerLedger (the caller holds mu).
func (s *Server) answerLedger(job *bq.Job) *bq.ErrorProto {
	q := job.Configuration.Query
	name := s.answers[normalize(q.Query)]
	ds := q.DefaultDataset
	if ds.ProjectId == "" {
		ds.ProjectId = job.JobReference.ProjectId
	}
	if _, ok := s.datasets[ds.ProjectId+"/"+ds.DatasetId]; !ok {
		return &bq.ErrorProto{Reason: "notFound", Message: "Not found: Dataset " + ds.ProjectId + ":" + ds.DatasetId}
	}
	if _, ok := s.tables[ds.ProjectId+"/"+ds.DatasetId+"/load_runs"]; !ok {
		return &bq.ErrorProto{Reason: "notFound", Message: "Not found: Table " + ds.ProjectId + ":" + ds.DatasetId + ".load_runs"}
	}
	var args []any
	for _, p := range q.QueryParameters {
		if p.Name != "" {
			return &bq.ErrorProto{Reason: "invalid", Message: "the ledger's queries take positional parameters, not @" + p.Name}
		}
		v, e := paramValue(p)
		if e != nil {
			return e
		}
		args = append(args, v)
	}
	a := ledgerAnswers[name]
	if len(args) != a.params {
		return &bq.ErrorProto{Reason: "invalid", Message: fmt.Sprintf("Query %s takes %d positional parameters, got %d", name, a.params, len(args))}
	}
	res := &result{}
	for i, t := range a.types {
		res.fields = append(res.fields, &bq.TableFieldSchema{Name: fmt.Sprintf("f%d_", i), Type: t})
	}
	res.rows = a.rows(s.ledgers[ds.ProjectId+"/"+ds.DatasetId], args)
	s.results[job.JobReference.ProjectId+"/"+job.JobReference.JobId] = res
	job.Statistics.Query = &bq.JobStatistics2{StatementType: "SELECT"}
	return nil
}

// ledgerAnswer computes one ledger query: its positional parameters, the
// types of its columns and its rows from the ledger's rows and the
// arguments.
type ledgerAnswer struct {
	params int
	types  []string
	rows   func(ledger []ledgerRow, args []any) [][]any
}

// source is a row's source, NULL read as ARGOS's (schedules.LegacySource).
func source(r ledgerRow) any {
	if r["source"] == nil {
		return "argos"
	}
	return r["source"]
}

// where keeps the rows for which keep holds.
func where(ledger []ledgerRow, keep func(ledgerRow) bool) []ledgerRow {
	var out []ledgerRow
	for _, r := range ledger {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// less orders two values of one column (strings, ints, times); NULL first.
func less(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b != nil
	case string:
		b, ok := b.(string)
		return ok && a < b
	case int64:
		b, ok := b.(int64)
		return ok && a < b
	case time.Time:
		b, ok := b.(time.Time)
		return ok && a.Before(b)
	}
	return false
}

// extreme is the min (or max) of col over rows, NULLs aside; nil for none.
func extreme(rows []ledgerRow, col string, max bool) any {
	var out any
	for _, r := range rows {
		v := r[col]
		if v == nil {
			continue
		}
		if out == nil || (max && less(out, v)) || (!max && less(v, out)) {
			out = v
		}
	}
	return out
}

var ledgerAnswers = map[string]ledgerAnswer{
	// SELECT min(day) ... WHERE project = ? AND coalesce(source, 'argos') = ?
	"first_day": {2, []string{"DATE"}, func(l []ledgerRow, a []any) [][]any {
		return [][]any{{extreme(where(l, func(r ledgerRow) bool { return r["project"] == a[0] && source(r) == a[1] }), "day", false)}}
	}},
	// SELECT day, outcome, started_at, finished_at, error, run_id ... WHERE
	// project = ? AND coalesce(source, 'argos') = ? AND day >= CAST(? AS DATE)
	"days": {3, []string{"DATE", "STRING", "TIMESTAMP", "TIMESTAMP", "STRING", "STRING"}, func(l []ledgerRow, a []any) [][]any {
		var out [][]any
		for _, r := range where(l, func(r ledgerRow) bool {
			return r["project"] == a[0] && source(r) == a[1] && r["day"] != nil && !less(r["day"], a[2])
		}) {
			out = append(out, []any{r["day"], r["outcome"], r["started_at"], r["finished_at"], r["error"], r["run_id"]})
		}
		return out
	}},
	// The runs of a project and command, grouped by run_id, newest first,
	// LIMIT ?.
	"runs": {3, []string{"STRING", "DATE", "DATE", "TIMESTAMP", "TIMESTAMP", "INTEGER", "INTEGER", "INTEGER", "INTEGER", "INTEGER", "STRING"}, func(l []ledgerRow, a []any) [][]any {
		groups := map[any][]ledgerRow{}
		var ids []string
		for _, r := range where(l, func(r ledgerRow) bool { return r["project"] == a[0] && r["command"] == a[1] }) {
			if groups[r["run_id"]] == nil {
				ids = append(ids, r["run_id"].(string))
			}
			groups[r["run_id"]] = append(groups[r["run_id"]], r)
		}
		sort.Sort(sort.Reverse(sort.StringSlice(ids)))
		if limit, _ := a[2].(int64); int64(len(ids)) > limit {
			ids = ids[:limit]
		}
		var out [][]any
		for _, id := range ids {
			g := groups[id]
			count := func(outcome string) int64 {
				return int64(len(where(g, func(r ledgerRow) bool { return r["outcome"] == outcome })))
			}
			failed := where(g, func(r ledgerRow) bool { return r["outcome"] == "failed" })
			out = append(out, []any{id, extreme(g, "window_from", false), extreme(g, "window_to", true), extreme(g, "started_at", false),
				extreme(g, "finished_at", true), int64(len(g)), count("ok"), count("failed"), count("skipped"), count("planned"), extreme(failed, "error", false)})
		}
		return out
	}},
	// The days of a project left planned or skipped by a run other than
	// ?, that no row has ok; distinct, sorted.
	"incomplete": {2, []string{"DATE"}, func(l []ledgerRow, a []any) [][]any {
		ok := map[any]bool{}
		for _, r := range where(l, func(r ledgerRow) bool { return r["project"] == a[0] && r["outcome"] == "ok" }) {
			ok[r["day"]] = true
		}
		seen := map[any]bool{}
		var days []string
		for _, r := range where(l, func(r ledgerRow) bool {
			return r["project"] == a[0] && r["run_id"] != a[1] && (r["outcome"] == "planned" || r["outcome"] == "skipped")
		}) {
			if d, isDay := r["day"].(string); isDay && !ok[d] && !seen[d] {
				seen[d] = true
				days = append(days, d)
			}
		}
		sort.Strings(days)
		var out [][]any
		for _, d := range days {
			out = append(out, []any{d})
		}
		return out
	}},
	// SELECT max(run_id) FROM load_runs
	"latest": {0, []string{"STRING"}, func(l []ledgerRow, _ []any) [][]any {
		return [][]any{{extreme(l, "run_id", true)}}
	}},
	// SELECT DISTINCT project, command ... WHERE command IS NOT NULL ORDER
	// BY project, command
	"sources": {0, []string{"STRING", "STRING"}, func(l []ledgerRow, _ []any) [][]any {
		seen := map[[2]string]bool{}
		var keys [][2]string
		for _, r := range l {
			p, _ := r["project"].(string)
			c, ok := r["command"].(string)
			if k := [2]string{p, c}; ok && !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
		sort.Slice(keys, func(i, j int) bool {
			return keys[i][0] < keys[j][0] || (keys[i][0] == keys[j][0] && keys[i][1] < keys[j][1])
		})
		var out [][]any
		for _, k := range keys {
			out = append(out, []any{k[0], k[1]})
		}
		return out
	}},
	// SELECT COALESCE(SUM(api_calls), 0) ... WHERE project = ? AND
	// started_at >= ? AND started_at < ?
	"calls": {3, []string{"INTEGER"}, func(l []ledgerRow, a []any) [][]any {
		var sum int64
		for _, r := range where(l, func(r ledgerRow) bool {
			return r["project"] == a[0] && r["started_at"] != nil && !less(r["started_at"], a[1]) && less(r["started_at"], a[2])
		}) {
			n, _ := r["api_calls"].(int64)
			sum += n
		}
		return [][]any{{sum}}
	}},
	// SELECT day ... WHERE run_id = ? AND project = ?
	"run_days": {2, []string{"DATE"}, func(l []ledgerRow, a []any) [][]any {
		var out [][]any
		for _, r := range where(l, func(r ledgerRow) bool { return r["run_id"] == a[0] && r["project"] == a[1] }) {
			out = append(out, []any{r["day"]})
		}
		return out
	}},
}

// cell is a value as getQueryResults writes it: text, timestamps in
// microseconds (formatOptions.useInt64Timestamp), DATE and DATETIME as
// their text, NULL as null.
func cell(v any) *bq.TableCell {
	switch v := v.(type) {
	case nil:
		return &bq.TableCell{}
	case time.Time:
		return &bq.TableCell{V: strconv.FormatInt(v.UnixMicro(), 10)}
	case int64:
		return &bq.TableCell{V: strconv.FormatInt(v, 10)}
	case float64:
		return &bq.TableCell{V: strconv.FormatFloat(v, 'g', -1, 64)}
	case civil:
		return &bq.TableCell{V: v.text}
	}
	return &bq.TableCell{V: fmt.Sprint(v)}
}
