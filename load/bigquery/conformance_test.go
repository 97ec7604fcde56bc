package bigquery

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	bq "google.golang.org/api/bigquery/v2"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/bigquery/bqfake"
	"github.com/kycetl/kycetl/load/loadtest"
)

// TestConformance runs the suite DuckDB passes against the fake. What the
// warehouse shows is what the fake's tables hold after the statements it
// applied (see model).
func TestConformance(t *testing.T) {
	fakes := map[load.Warehouse]*bqfake.Server{}
	fakeOf := func(t *testing.T, w load.Warehouse) *bqfake.Server {
		f, ok := fakes[w]
		if !ok {
			t.Fatal("a warehouse the harness did not open")
		}
		return f
	}
	loadtest.Run(t, loadtest.Harness{
		Open: func(t *testing.T) load.Warehouse {
			fake := bqfake.New()
			t.Cleanup(fake.Close)
			w := openOn(t, fake, Config{Project: testProject, Dataset: testDataset}, WithBatchDays(2))
			fakes[w] = fake
			return w
		},
		Columns: func(t *testing.T, w load.Warehouse, table string) []string {
			tbl, ok := fakeOf(t, w).Table(testProject, testDataset, table)
			if !ok || tbl.Type != "TABLE" {
				return nil
			}
			return tableColumns(tbl)
		},
		IsView: func(t *testing.T, w load.Warehouse, name string) bool {
			tbl, ok := fakeOf(t, w).Table(testProject, testDataset, name)
			return ok && tbl.Type == "VIEW" && tbl.View != nil && tbl.View.Query != ""
		},
		SubmissionIDs: func(t *testing.T, w load.Warehouse, p load.Partition) []string {
			var ids []string
			for _, r := range shown(t, fakeOf(t, w)).partition("submissions", p) {
				ids = append(ids, fmt.Sprint(r["submission_id"]))
			}
			sort.Strings(ids)
			return ids
		},
		Count: func(t *testing.T, w load.Warehouse, table string, p load.Partition) int {
			return len(shown(t, fakeOf(t, w)).partition(table, p))
		},
		LoadRuns: func(t *testing.T, w load.Warehouse) []string {
			var out []string
			for _, r := range shown(t, fakeOf(t, w)).tables["load_runs"] {
				out = append(out, fmt.Sprintf("%s|%s|%s|%s|%s", r["run_id"], r["project"], r["day"], r["outcome"], r["error"]))
			}
			sort.Strings(out)
			return out
		},
		Break: func(t *testing.T, w load.Warehouse, p load.Partition) func() {
			fake := fakeOf(t, w)
			fake.FailJobs(failDay(p))
			return func() { fake.FailJobs(nil) }
		},
	})
}

// concurrentUpdate is a message BigQuery fails a transaction with.
const concurrentUpdate = "Transaction is aborted due to concurrent update against table kyc-test:kyc.submissions."

// failDay fails every transaction that replaces p, as BigQuery fails a
// transaction that conflicts with another.
func failDay(p load.Partition) func(*bq.Job) *bq.ErrorProto {
	return func(j *bq.Job) *bq.ErrorProto {
		q := j.Configuration.Query
		if q == nil || !strings.Contains(q.Query, "DELETE FROM `kyc-test.kyc.submissions`") || !strings.Contains(q.Query, "DATE '"+argos.FormatDate(p.Day)+"'") {
			return nil
		}
		return &bq.ErrorProto{Reason: "invalidQuery", Message: concurrentUpdate}
	}
}
