package bigquery

import (
	"context"
	"fmt"
	"strings"
	"time"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/transform/schema"
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
		vals, err := load.RunRow(m, d)
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
