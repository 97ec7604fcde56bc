package bigquery

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/kycetl/kycetl/archive"
	"github.com/kycetl/kycetl/argos"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/schema"
)

// runsPerJob bounds the days one RecordRuns job writes (and so its number
// of query parameters).
const runsPerJob = 200

// RecordRuns writes the load_runs rows of the given days of a run, with one
// transaction per 200 days: a (run, project, day) row recorded again is
// replaced.
func (w *Warehouse) RecordRuns(ctx context.Context, m *archive.Manifest, days []archive.DayRecord) error {
	for len(days) > 0 {
		n := min(runsPerJob, len(days))
		text, params, err := w.RecordRunsSQL(m, days[:n])
		if err != nil {
			return fmt.Errorf("recording run %s: %w", m.RunID, err)
		}
		w.scripts.Lock()
		_, err = w.query(ctx, "kycetl_runs", text, params)
		w.scripts.Unlock()
		if err != nil {
			return fmt.Errorf("recording run %s: %w", m.RunID, err)
		}
		days = days[n:]
	}
	return nil
}

// RecordRunsSQL is the transaction that replaces the load_runs rows of
// days, every value a query parameter (@run_id, @project_N, @rI_COLUMN).
func (w *Warehouse) RecordRunsSQL(m *archive.Manifest, days []archive.DayRecord) (string, []bigquery.QueryParameter, error) {
	cols := schema.LoadRuns.AllColumns()
	parts := make([]load.Partition, len(days))
	rows := make([]string, len(days))
	var params []bigquery.QueryParameter
	for i := range days {
		d := &days[i]
		day, err := argos.ParseDate(d.Day)
		if err != nil {
			return "", nil, fmt.Errorf("reading the day of %s %s: %w", d.Project, d.Day, err)
		}
		parts[i] = load.Partition{Project: d.Project, Day: day}
		vals, err := runRow(m, d)
		if err != nil {
			return "", nil, err
		}
		marks := make([]string, len(cols))
		for j, c := range cols {
			v, ok := vals[c.Name]
			if !ok {
				return "", nil, fmt.Errorf("laying out load_runs: no value for column %s", c.Name)
			}
			p, err := param(fmt.Sprintf("r%d_%s", i, c.Name), c.Type, v)
			if err != nil {
				return "", nil, fmt.Errorf("laying out load_runs of %s %s: %w", d.Project, d.Day, err)
			}
			params = append(params, p)
			marks[j] = "@" + p.Name
		}
		rows[i] = "(" + strings.Join(marks, ", ") + ")"
	}
	filter, projects := partitionFilter(parts, "day")
	params = append(append(params, bigquery.QueryParameter{Name: "run_id", Value: m.RunID}), projects...)
	t := w.ref(schema.LoadRuns.Name)
	text := transaction([]string{
		"DELETE FROM " + t + " WHERE run_id = @run_id AND " + filter,
		"INSERT INTO " + t + " (" + columnList(schema.LoadRuns) + ") VALUES\n    " + strings.Join(rows, ",\n    "),
	})
	return text, params, nil
}

// param types a load_runs value for its column; nil is a typed NULL.
func param(name string, t arrow.DataType, v any) (bigquery.QueryParameter, error) {
	p := bigquery.QueryParameter{Name: name}
	switch t.ID() {
	case arrow.STRING:
		s, ok := v.(string)
		p.Value = bigquery.NullString{StringVal: s, Valid: ok}
	case arrow.INT64:
		n, ok := v.(int64)
		p.Value = bigquery.NullInt64{Int64: n, Valid: ok}
	case arrow.FLOAT64:
		f, ok := v.(float64)
		p.Value = bigquery.NullFloat64{Float64: f, Valid: ok}
	case arrow.TIMESTAMP:
		ts, ok := v.(time.Time)
		p.Value = bigquery.NullTimestamp{Timestamp: ts, Valid: ok}
	case arrow.DATE32:
		var d bigquery.NullDate
		if s, ok := v.(string); ok {
			cd, err := civil.ParseDate(s)
			if err != nil {
				return p, fmt.Errorf("%s: %w", name, err)
			}
			d = bigquery.NullDate{Date: cd, Valid: true}
		}
		p.Value = d
	default:
		return p, fmt.Errorf("%s: no parameter type for %s", name, t)
	}
	if v != nil && !valid(p.Value) {
		return p, fmt.Errorf("%s: %T is not a %s", name, v, t)
	}
	return p, nil
}

func valid(v any) bool {
	switch v := v.(type) {
	case bigquery.NullString:
		return v.Valid
	case bigquery.NullInt64:
		return v.Valid
	case bigquery.NullFloat64:
		return v.Valid
	case bigquery.NullTimestamp:
		return v.Valid
	case bigquery.NullDate:
		return v.Valid
	}
	return false
}

// runRow is one load_runs row by column name; nil is NULL. (It lays out
// the same row as the DuckDB warehouse's ledger.)
func runRow(m *archive.Manifest, d *archive.DayRecord) (map[string]any, error) {
	rows := d.Rows
	if rows == nil {
		rows = map[string]int64{}
	}
	rowsJSON, err := json.Marshal(rows)
	if err != nil {
		return nil, fmt.Errorf("encoding rows of %s %s: %w", d.Project, d.Day, err)
	}
	coercions := d.Coercions
	if coercions == nil {
		coercions = []archive.Coercion{}
	}
	coercionsJSON, err := json.Marshal(coercions)
	if err != nil {
		return nil, fmt.Errorf("encoding coercions of %s %s: %w", d.Project, d.Day, err)
	}
	jobs := d.Jobs
	if jobs == nil {
		jobs = []archive.Job{}
	}
	jobsJSON, err := json.Marshal(jobs)
	if err != nil {
		return nil, fmt.Errorf("encoding jobs of %s %s: %w", d.Project, d.Day, err)
	}
	var duration any
	if !d.StartedAt.IsZero() && !d.FinishedAt.IsZero() {
		duration = d.FinishedAt.Sub(d.StartedAt).Seconds()
	}
	return map[string]any{
		"run_id":           m.RunID,
		"project":          d.Project,
		"day":              d.Day,
		"command":          nullIfEmpty(m.Command),
		"window_from":      nullIfEmpty(m.WindowFrom),
		"window_to":        nullIfEmpty(m.WindowTo),
		"started_at":       nullTime(d.StartedAt),
		"finished_at":      nullTime(d.FinishedAt),
		"duration_seconds": duration,
		"pages":            d.Pages,
		"api_calls":        d.APICalls,
		"retries":          d.Retries,
		"wait_seconds":     d.WaitSeconds,
		"submissions":      d.Submissions,
		"quarantined":      d.Quarantined,
		"rows_json":        string(rowsJSON),
		"bytes":            d.Bytes,
		"coercions_json":   string(coercionsJSON),
		"jobs_json":        string(jobsJSON),
		"outcome":          d.Outcome,
		"error":            nullIfEmpty(d.Error),
	}, nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}
