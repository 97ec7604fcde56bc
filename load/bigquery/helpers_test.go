package bigquery

import (
	"context"
	"slices"
	"sort"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	bq "google.golang.org/api/bigquery/v2"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/retry"
	"github.com/kycetl/kycetl/internal/kyctest"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/load/bigquery/bqfake"
	"github.com/kycetl/kycetl/load/loadtest"
	"github.com/kycetl/kycetl/sql/stats"
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

// model is what BigQuery shows after the jobs the fake ran: the rows of
// each table of the test dataset (the fake applies each successful
// transaction's DELETEs and INSERTs; a failed job changes nothing, as a
// rolled-back transaction), load_runs as the ledger keeps it (a NULL text
// as "").
type model struct {
	tables map[string][]map[string]any
}

// shown is the model of the fake's test dataset.
func shown(t *testing.T, fake *bqfake.Server) *model {
	t.Helper()
	m := &model{tables: map[string][]map[string]any{}}
	for _, name := range fake.TableNames(testProject, testDataset) {
		if tbl, _ := fake.Table(testProject, testDataset, name); tbl.Type != "TABLE" || name == "load_runs" {
			continue
		}
		rows, err := fake.Rows(testProject, testDataset, name)
		if err != nil {
			t.Fatal(err)
		}
		m.tables[name] = rows
	}
	for _, r := range fake.LedgerRows(testProject, testDataset) {
		for _, col := range []string{"error", "outcome", "run_id", "project"} {
			if r[col] == nil {
				r[col] = ""
			}
		}
		m.tables["load_runs"] = append(m.tables["load_runs"], r)
	}
	return m
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

// readAll runs every reader of sql/stats in its BigQuery dialect on the
// prepared warehouse w, without a filter and with every filter (a project
// it then holds: a ledger row is recorded first).
func readAll(t *testing.T, w *Warehouse) {
	t.Helper()
	ctx := context.Background()
	if err := w.RecordRuns(ctx, &archive.Manifest{RunID: "R", Command: "run"}, []archive.DayRecord{{Project: "acme", Day: "2025-02-01", Outcome: archive.OutcomeOK}}); err != nil {
		t.Fatal(err)
	}
	day := loadtest.Day(2025, 2, 1)
	db := stats.BigQuery.On(w.QueryDB())
	for _, f := range []stats.Filter{{}, {From: day, To: day.AddDate(0, 0, 6), Project: "acme", Status: argos.StatusRejected, ByCredits: true}} {
		for name, read := range kyctest.Reads(ctx, f) {
			if _, err := read(db); err != nil {
				t.Errorf("%s under %+v: %v", name, f, err)
			}
		}
	}
}
