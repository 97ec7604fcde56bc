package duckdb

import (
	"context"
	gosql "database/sql"
	"fmt"
	"math/big"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/loadtest"
	"github.com/kycetl/kycetl/transform/schema"
)

func openPrepared(t *testing.T) *Warehouse {
	t.Helper()
	w := openWarehouse(t, filepath.Join(t.TempDir(), "kyc.duckdb"))
	if err := w.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	return w
}

func openWarehouse(t *testing.T, path string) *Warehouse {
	t.Helper()
	w, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// partitionOf groups rows (with project and created_date set) into one
// Parquet file per partition of table, under dir.
func partitionsOf(t *testing.T, dir string, table *schema.Table, rows []map[string]any) []load.PartitionFiles {
	t.Helper()
	type key struct{ project, day string }
	groups := map[key][]map[string]any{}
	for _, r := range rows {
		k := key{r["project"].(string), r["created_date"].(string)}
		groups[k] = append(groups[k], r)
	}
	var parts []load.PartitionFiles
	for k, rs := range groups {
		day, err := argos.ParseDate(k.day)
		if err != nil {
			t.Fatal(err)
		}
		path := loadtest.WriteFile(t, filepath.Join(dir, table.Name, k.project, k.day+".parquet"), table, rs)
		parts = append(parts, load.PartitionFiles{Partition: load.Partition{Project: k.project, Day: day}, Files: map[string]string{table.Name: path}})
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].Day.Before(parts[j].Day) })
	return parts
}

// query runs q and renders each row as "v1|v2|...": NULL for null, floats
// with 6 significant digits, dates as YYYY-MM-DD, timestamps in RFC 3339.
func query(t *testing.T, db *gosql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = render(v)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func render(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case float64:
		return fmt.Sprintf("%.6g", v)
	case time.Time:
		if v.Equal(argos.Day(v)) {
			return v.Format("2006-01-02")
		}
		return v.UTC().Format(time.RFC3339Nano)
	case []byte:
		return string(v)
	case *big.Int:
		return v.String()
	}
	return fmt.Sprint(v)
}

func assertRows(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot\n  %s\nwant\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
