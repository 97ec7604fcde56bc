package bigquery

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	bq "google.golang.org/api/bigquery/v2"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/retry"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/bigquery/bqfake"
)

const (
	testProject = "kyc-test"
	testDataset = "kyc"
)

// fastRetry retries an aborted transaction at once: the tests count
// tries, they never wait.
var fastRetry = retry.Policy{MaxTries: 3, Initial: time.Microsecond, Max: time.Microsecond}

// openFake opens a warehouse on a fresh fake.
func openFake(t *testing.T, opts ...Option) (*Warehouse, *bqfake.Server) {
	t.Helper()
	fake := bqfake.New()
	t.Cleanup(fake.Close)
	return openOn(t, fake, Config{Project: testProject, Dataset: testDataset}, opts...), fake
}

func openOn(t *testing.T, fake *bqfake.Server, cfg Config, opts ...Option) *Warehouse {
	t.Helper()
	opts = append([]Option{WithClientOptions(fake.ClientOptions()...), WithStorageOptions(fake.StorageOptions()...), WithTempDir(t.TempDir()),
		WithRetry(fastRetry)}, opts...)
	w, err := Open(context.Background(), cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func openPrepared(t *testing.T, opts ...Option) (*Warehouse, *bqfake.Server) {
	t.Helper()
	w, fake := openFake(t, opts...)
	t.Cleanup(func() { w.Close() })
	if err := w.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	return w, fake
}

// model is what BigQuery would show after the jobs the fake ran: the fake
// executes no SQL, so the test replays kycetl's own statements — each
// successful transaction's DELETEs and INSERTs, over the rows the load jobs
// read — and a failed job changes nothing, as a rolled-back transaction.
type model struct {
	tables map[string][]map[string]any
}

var (
	deleteRe     = regexp.MustCompile("(?s)^DELETE FROM `[^`]+\\.(\\w+)` WHERE (.*)$")
	termRe       = regexp.MustCompile(`\(project = @(\w+) AND (\w+) IN \(([^)]*)\)\)`)
	dateRe       = regexp.MustCompile(`DATE '([0-9-]+)'`)
	insertFromRe = regexp.MustCompile("(?s)^INSERT INTO `[^`]+\\.(\\w+)` \\(.*\\) SELECT .* FROM `[^`]+\\.(\\w+)`$")
	insertValRe  = regexp.MustCompile("(?s)^INSERT INTO `[^`]+\\.(\\w+)` \\(([^)]*)\\) VALUES(.*)$")
	valuesRe     = regexp.MustCompile(`\(([^()]*)\)`)
)

func replay(t *testing.T, fake *bqfake.Server) *model {
	t.Helper()
	m := &model{tables: map[string][]map[string]any{}}
	staged := map[string][]map[string]any{}
	for _, job := range fake.Jobs() {
		if job.Status.ErrorResult != nil {
			continue
		}
		if l := job.Configuration.Load; l != nil {
			rows, err := fake.LoadedRows(job)
			if err != nil {
				t.Fatal(err)
			}
			if l.WriteDisposition != "WRITE_TRUNCATE" {
				rows = append(staged[l.DestinationTable.TableId], rows...)
			}
			staged[l.DestinationTable.TableId] = rows
			continue
		}
		q := job.Configuration.Query
		body, ok := strings.CutPrefix(q.Query, "BEGIN\n  BEGIN TRANSACTION;\n  ")
		if !ok {
			continue
		}
		body, _, _ = strings.Cut(body, ";\n  COMMIT TRANSACTION;")
		params := map[string]string{}
		for _, p := range q.QueryParameters {
			params[p.Name] = p.ParameterValue.Value
		}
		for _, stmt := range strings.Split(body, ";\n  ") {
			if err := m.apply(stmt, params, staged); err != nil {
				t.Fatalf("replaying job %s: %v", job.Id, err)
			}
		}
	}
	return m
}

func (m *model) apply(stmt string, params map[string]string, staged map[string][]map[string]any) error {
	if d := deleteRe.FindStringSubmatch(stmt); d != nil {
		table, where := d[1], d[2]
		runID := ""
		if strings.HasPrefix(where, "run_id = @run_id AND ") {
			runID = params["run_id"]
		}
		type key struct{ project, col, day string }
		doomed := map[key]bool{}
		for _, term := range termRe.FindAllStringSubmatch(where, -1) {
			for _, day := range dateRe.FindAllStringSubmatch(term[3], -1) {
				doomed[key{params[term[1]], term[2], day[1]}] = true
			}
		}
		if len(doomed) == 0 {
			return fmt.Errorf("a DELETE without a partition filter: %s", stmt)
		}
		kept := m.tables[table][:0]
		for _, r := range m.tables[table] {
			hit := false
			for k := range doomed {
				if fmt.Sprint(r["project"]) == k.project && fmt.Sprint(r[k.col]) == k.day && (runID == "" || r["run_id"] == runID) {
					hit = true
				}
			}
			if !hit {
				kept = append(kept, r)
			}
		}
		m.tables[table] = kept
		return nil
	}
	if i := insertFromRe.FindStringSubmatch(stmt); i != nil {
		m.tables[i[1]] = append(m.tables[i[1]], staged[i[2]]...)
		return nil
	}
	if i := insertValRe.FindStringSubmatch(stmt); i != nil {
		cols := strings.Split(strings.ReplaceAll(i[2], "`", ""), ", ")
		for _, row := range valuesRe.FindAllStringSubmatch(i[3], -1) {
			marks := strings.Split(row[1], ", ")
			if len(marks) != len(cols) {
				return fmt.Errorf("%d values for %d columns", len(marks), len(cols))
			}
			r := map[string]any{}
			for j, mark := range marks {
				r[cols[j]] = params[strings.TrimPrefix(mark, "@")]
			}
			m.tables[i[1]] = append(m.tables[i[1]], r)
		}
		return nil
	}
	return fmt.Errorf("a statement the model does not know: %s", stmt)
}

func (m *model) partition(table string, p load.Partition) []map[string]any {
	var out []map[string]any
	for _, r := range m.tables[table] {
		if r["project"] == p.Project && r["created_date"] == argos.FormatDate(p.Day) {
			out = append(out, r)
		}
	}
	return out
}

func tableColumns(tbl *bq.Table) []string {
	var cols []string
	if tbl.Schema != nil {
		for _, f := range tbl.Schema.Fields {
			cols = append(cols, f.Name)
		}
	}
	return cols
}

func sortedStrings(ss []string) []string {
	out := slices.Clone(ss)
	sort.Strings(out)
	return out
}

func mustCivil(t *testing.T, s string) civil.Date {
	t.Helper()
	d, err := civil.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
