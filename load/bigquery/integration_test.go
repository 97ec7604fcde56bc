package bigquery

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/iterator"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/loadtest"
	"github.com/kycetl/kycetl/sql"
)

// Environment of the integration test against real BigQuery; it is skipped
// unless the first two are set (and Application Default Credentials work).
// Each warehouse it opens is a new dataset KYCETL_BQ_DATASET_<random>,
// deleted afterwards.
const (
	envProject  = "KYCETL_BQ_PROJECT"
	envDataset  = "KYCETL_BQ_DATASET"
	envLocation = "KYCETL_BQ_LOCATION" // optional
	envStaging  = "KYCETL_BQ_STAGING"  // optional gs://bucket/prefix
)

func integrationConfig(t *testing.T) Config {
	t.Helper()
	project, dataset := os.Getenv(envProject), os.Getenv(envDataset)
	if project == "" || dataset == "" {
		t.Skipf("set %s and %s (and Google credentials) to run against BigQuery", envProject, envDataset)
	}
	return Config{Project: project, Dataset: dataset + "_" + newBatchID(), Location: os.Getenv(envLocation), Staging: os.Getenv(envStaging)}
}

func openReal(t *testing.T, cfg Config) *Warehouse {
	t.Helper()
	ctx := context.Background()
	w, err := Open(ctx, cfg, WithBatchDays(2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// A fresh client: the suite closes the warehouse's own first.
		c, err := bigquery.NewClient(ctx, cfg.Project)
		if err != nil {
			t.Errorf("dropping dataset %s: %v", cfg.Dataset, err)
			return
		}
		defer c.Close()
		if err := c.Dataset(cfg.Dataset).DeleteWithContents(ctx); err != nil {
			t.Errorf("dropping dataset %s: %v", cfg.Dataset, err)
		}
	})
	return w
}

// rows runs a query and renders each row as "v1|v2|...".
func rows(t *testing.T, w *Warehouse, q string, params ...bigquery.QueryParameter) []string {
	t.Helper()
	query := w.Client().Query(q)
	query.Parameters = params
	it, err := query.Read(context.Background())
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var out []string
	for {
		var vals []bigquery.Value
		err := it.Next(&vals)
		if errors.Is(err, iterator.Done) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(parts, "|"))
	}
}

func partitionParams(p load.Partition) []bigquery.QueryParameter {
	return []bigquery.QueryParameter{{Name: "project", Value: p.Project}, {Name: "day", Value: argos.FormatDate(p.Day)}}
}

func TestIntegrationConformance(t *testing.T) {
	cfg := integrationConfig(t)
	real := func(w load.Warehouse) *Warehouse { return w.(*Warehouse) }
	n := 0
	loadtest.Run(t, loadtest.Harness{
		Open: func(t *testing.T) load.Warehouse {
			n++
			c := cfg
			c.Dataset = fmt.Sprintf("%s_%d", cfg.Dataset, n)
			return openReal(t, c)
		},
		Columns: func(t *testing.T, w load.Warehouse, table string) []string {
			md, err := real(w).Client().Dataset(real(w).Config().Dataset).Table(table).Metadata(context.Background())
			if err != nil {
				return nil
			}
			var cols []string
			for _, f := range md.Schema {
				cols = append(cols, f.Name)
			}
			return cols
		},
		IsView: func(t *testing.T, w load.Warehouse, name string) bool {
			md, err := real(w).Client().Dataset(real(w).Config().Dataset).Table(name).Metadata(context.Background())
			return err == nil && md.Type == bigquery.ViewTable
		},
		SubmissionIDs: func(t *testing.T, w load.Warehouse, p load.Partition) []string {
			return rows(t, real(w), "SELECT submission_id FROM "+real(w).ref("submissions")+
				" WHERE project = @project AND created_date = CAST(@day AS DATE) ORDER BY submission_id", partitionParams(p)...)
		},
		Count: func(t *testing.T, w load.Warehouse, table string, p load.Partition) int {
			got := rows(t, real(w), "SELECT COUNT(*) FROM "+real(w).ref(table)+
				" WHERE project = @project AND created_date = CAST(@day AS DATE)", partitionParams(p)...)
			var n int
			fmt.Sscan(got[0], &n)
			return n
		},
		LoadRuns: func(t *testing.T, w load.Warehouse) []string {
			return rows(t, real(w), "SELECT run_id, project, CAST(day AS STRING), outcome, IFNULL(error, '') FROM "+
				real(w).ref("load_runs")+" ORDER BY 1, 2, 3")
		},
	})
}

// TestIntegrationViews checks that every view compiles in BigQuery and
// keeps the BI contract's columns, with free dry runs.
func TestIntegrationViews(t *testing.T) {
	w := preparedReal(t)
	ctx := context.Background()
	for _, v := range sql.Views() {
		q := w.Client().Query("SELECT * FROM " + w.ref(v.Name))
		q.DryRun = true
		job, err := q.Run(ctx)
		if err != nil {
			t.Errorf("dry run of %s: %v", v.Name, err)
			continue
		}
		st := job.LastStatus()
		qs, ok := st.Statistics.Details.(*bigquery.QueryStatistics)
		if !ok || len(qs.Schema) == 0 {
			t.Errorf("dry run of %s: no schema", v.Name)
			continue
		}
		var cols []string
		for _, f := range qs.Schema {
			cols = append(cols, f.Name)
		}
		t.Logf("%s: %s; %d bytes would be processed", v.Name, strings.Join(cols, " "), st.Statistics.TotalBytesProcessed)
	}
}

// TestIntegrationReaders runs every reader of sql/stats in its BigQuery
// dialect, with and without every filter, against a prepared dataset: real
// BigQuery takes each query (the fake runs them with DuckDB).
func TestIntegrationReaders(t *testing.T) {
	readAll(t, preparedReal(t))
}

// preparedReal is a new prepared dataset of real BigQuery, closed and
// dropped when the test ends.
func preparedReal(t *testing.T) *Warehouse {
	t.Helper()
	w := openReal(t, integrationConfig(t))
	t.Cleanup(func() { w.Close() })
	if err := w.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	return w
}
