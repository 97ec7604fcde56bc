package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/kycetl/kycetl/load/duckdb"
	"github.com/kycetl/kycetl/transform/schema"
)

// TestRebuildMovesSchemaV1Forward rebuilds a warehouse that the schema-1
// code wrote (testdata/warehouse-v1) from its raw archive alone: every table
// and column of the current schema appears, the numbers stay, no API is
// called (no ARGOS variable is set), and the archive still verifies.
func TestRebuildMovesSchemaV1Forward(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wh")
	if err := os.CopyFS(dir, os.DirFS("../../testdata/warehouse-v1")); err != nil {
		t.Fatal(err)
	}
	const total = 313 // stats_totals of the v1 warehouse, as its README says it was written
	if got := queryInt(t, dir, "SELECT total FROM stats_totals"); got != total {
		t.Fatalf("v1 warehouse: total %d, want %d", got, total)
	}
	vars := map[string]string{"KYCETL_PII_KEY": "rebuild-forward-test-key"}
	if code, _, stderr := kycetl(t, vars, "rebuild", "--dir", dir); code != ExitOK {
		t.Fatalf("rebuild: exit %d\n%s", code, stderr)
	}
	if got := queryInt(t, dir, "SELECT total FROM stats_totals"); got != total {
		t.Errorf("after rebuild: total %d, want %d", got, total)
	}
	for _, tb := range schema.Sourced() {
		for _, c := range tb.AllColumns() {
			n := queryInt(t, dir, "SELECT count(*) FROM information_schema.columns WHERE table_name = '"+tb.Name+"' AND column_name = '"+c.Name+"'")
			if n != 1 {
				t.Errorf("after rebuild: %s.%s is not in the warehouse", tb.Name, c.Name)
			}
		}
	}
	if got := queryInt(t, dir, "SELECT count(DISTINCT schema_version) FROM partition_files WHERE table_name = 'submissions'"); got != 1 {
		t.Errorf("after rebuild: submissions is read from %d schema versions, want the current one only", got)
	}
	if code, out, stderr := kycetl(t, nil, "verify", "--dir", dir); code != ExitOK {
		t.Errorf("verify after rebuild: exit %d\n%s%s", code, out, stderr)
	}
}

// queryInt opens the warehouse in dir and scans one integer.
func queryInt(t *testing.T, dir, query string) int64 {
	t.Helper()
	ctx := context.Background()
	wh, err := duckdb.Open(ctx, filepath.Join(dir, "kyc.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	var n int64
	if err := wh.DB().QueryRowContext(ctx, query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
