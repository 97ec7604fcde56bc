package duckdb

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/loadtest"
)

// TestConformance runs the warehouse conformance suite that BigQuery (and
// its fake) pass too.
func TestConformance(t *testing.T) {
	db := func(w load.Warehouse) *Warehouse { return w.(*Warehouse) }
	loadtest.Run(t, loadtest.Harness{
		Open: func(t *testing.T) load.Warehouse {
			w, err := Open(t.Context(), filepath.Join(t.TempDir(), "kyc.duckdb"))
			if err != nil {
				t.Fatal(err)
			}
			return w
		},
		Columns: func(t *testing.T, w load.Warehouse, table string) []string {
			return query(t, db(w).DB(), "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position", table)
		},
		IsView: func(t *testing.T, w load.Warehouse, name string) bool {
			got := query(t, db(w).DB(), "SELECT count(*) FROM information_schema.tables WHERE table_type = 'VIEW' AND table_name = ?", name)
			return len(got) == 1 && got[0] == "1"
		},
		SubmissionIDs: func(t *testing.T, w load.Warehouse, p load.Partition) []string {
			return query(t, db(w).DB(), "SELECT submission_id FROM submissions WHERE project = ? AND created_date = CAST(? AS DATE) ORDER BY submission_id",
				p.Project, argos.FormatDate(p.Day))
		},
		Count: func(t *testing.T, w load.Warehouse, table string, p load.Partition) int {
			got := query(t, db(w).DB(), "SELECT count(*) FROM "+quote(table)+" WHERE project = ? AND created_date = CAST(? AS DATE)",
				p.Project, argos.FormatDate(p.Day))
			n, err := strconv.Atoi(got[0])
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
		LoadRuns: func(t *testing.T, w load.Warehouse) []string {
			return query(t, db(w).DB(), "SELECT run_id, project, CAST(day AS VARCHAR), outcome, COALESCE(error, '') FROM load_runs ORDER BY ALL")
		},
	})
}
