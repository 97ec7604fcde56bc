// Package load defines the warehouse a run loads its Parquet partitions
// into. Every warehouse (the embedded DuckDB file by default, BigQuery in
// production) creates the tables from the schema declarations and the views
// from sql/, replaces whole partitions so that re-running a window is
// idempotent, and keeps the load_runs ledger.
package load

import (
	"context"
	"time"

	"github.com/kycetl/kycetl/archive"
)

// Partition names one project's UTC day.
type Partition struct {
	Project string
	Day     time.Time
}

// PartitionFiles are the Parquet files that make up a partition, by table
// name. A table without a file is empty for that day.
type PartitionFiles struct {
	Partition
	Files map[string]string // table name → Parquet path
}

// Warehouse is where partitions are loaded and views are queried.
type Warehouse interface {
	// Prepare creates the tables that are missing from schema.All(), adds
	// missing columns to existing ones (schemas evolve additively), creates
	// or replaces every view of sql.Views(), and seeds credit_rates with
	// schema.DefaultCreditRates when it is empty. It is idempotent.
	Prepare(ctx context.Context) error
	// Replace loads each partition in one transaction: its rows are deleted
	// from every partitioned table, then each file is inserted. A failure
	// rolls that partition back, leaving its previous version, and the
	// error names the table, project and day; partitions before it stay
	// loaded.
	Replace(ctx context.Context, parts []PartitionFiles) error
	// RecordRuns writes one load_runs row per day of the run. Recording a
	// (run, project, day) again replaces its row, so that a resumed or
	// rebuilt run does not count twice.
	RecordRuns(ctx context.Context, m *archive.Manifest, days []archive.DayRecord) error
	// Close releases the warehouse.
	Close() error
}
