// Package load defines the warehouse a run loads its Parquet partitions
// into. Every warehouse (the embedded DuckDB file by default, BigQuery in
// production) creates the tables from the schema declarations and the views
// from sql/, replaces whole partitions so that re-running a window is
// idempotent, and keeps the load_runs ledger.
package load

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/transform/schema"
)

// Partition names one source's UTC day of one project. Two sources' days
// of one project are two partitions: each fills its own tables, and
// replacing one leaves the other's tables alone.
type Partition struct {
	Source  string // the source's name (extract.Source.Name); "" is a legacy caller's: ARGOS
	Project string
	Day     time.Time
}

// PartitionFiles are the Parquet files that make up a partition, by table
// name: every table the partition's source fills, with its file, or with
// "" when the partition has no rows in it (no file is written for those:
// most of a small project's days have none in most child tables). A
// table Files does not name is another source's, and keeps its rows.
type PartitionFiles struct {
	Partition
	Files map[string]string // table name → Parquet path, "" for no rows
}

// Warehouse is where partitions are loaded and views are queried.
type Warehouse interface {
	// Prepare creates the tables that are missing from schema.All(), adds
	// missing columns to existing ones (schemas evolve additively), creates
	// or replaces every view of sql.Views(), and seeds credit_rates with
	// schema.DefaultCreditRates when it is empty. It is idempotent.
	Prepare(ctx context.Context) error
	// Replace makes each partition's files its current version, atomically
	// per partition: afterwards every table the files name shows exactly
	// the files' rows for that project and day, none for a table named
	// with no file (BigQuery deletes and inserts
	// rows; DuckDB's tables are views that it points at the files). A failure
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

// Batcher is implemented by a warehouse that loads several days more
// cheaply at once (BigQuery: bounded load jobs per table and day); the
// pipeline then hands Replace up to BatchDays partitions together.
type Batcher interface {
	BatchDays() int
}

// Reporter is implemented by a warehouse that can tell, partition by
// partition, what its last Replace did: when a batch failed for some days
// only, or was stopped part-way. Outcome gives the jobs of the last Replace
// that included p and p's own error. It answers nil only when that Replace
// made p's files current; a partition that a Replace included but did not
// load (stopped before it, failed) has an error, and one that no Replace
// included has ErrNotReplaced.
type Reporter interface {
	Outcome(p Partition) ([]archive.Job, error)
}

// RateCard is implemented by a warehouse whose credit rate card a run can
// replace (DuckDB; a BigQuery card is edited in BigQuery).
type RateCard interface {
	// SetCreditRates replaces the credit_rates table with rates, in one
	// transaction.
	SetCreditRates(ctx context.Context, rates []schema.CreditRate) error
}

// Queryable is implemented by the warehouse that kycetl reads over its own
// database/sql connection (DuckDB): the load_runs ledger
// (schedules.LoadRuns) and the statistics (sql/stats, DuckDB's dialect).
// BigQuery is read over query jobs instead (its Warehouse.QueryDB).
type Queryable interface {
	DB() *sql.DB
}

// Publisher is implemented by a warehouse whose readers see its changes
// only once it publishes them (DuckDB copies its catalog over the file
// readers open, publish.go): every change publishes itself, unless made
// between HoldPublishing and the release it returns, which publishes once
// whatever was changed meanwhile. The pipeline holds it across a batch's
// Replace and RecordRuns, so that readers see the days and their ledger
// rows in one step, at the cost of one copy instead of two.
type Publisher interface {
	HoldPublishing() (release func(context.Context) error)
}

// Compactor is implemented by a warehouse whose tables read one file per
// table and day, and can read the months wholly before a day from one file
// per table and month instead (DuckDB: kycetl compact, and the daemon after
// its nightly job with retention.compact_after_days).
type Compactor interface {
	Compact(ctx context.Context, before time.Time) ([]CompactedMonth, error)
}

// CompactedMonth is one table's month of one project, read from one file.
type CompactedMonth struct {
	Table, Project, Month string // Month is YYYY-MM
	Days                  int    // day files it is read in place of
	Path                  string // the compacted file, absolute
}

// LedgerReader is implemented by a warehouse whose load_runs ledger kycetl
// reads back (schedules.LoadRuns: catch-up, the call budget, kycetl
// status): DuckDB over its own connection, BigQuery over query jobs. The
// ledger's SQL is plain enough for both; its one table name, load_runs, is
// unqualified (BigQuery runs it with the dataset as the default).
type LedgerReader interface {
	LedgerDB() *sql.DB
}

// FileReader is implemented by a warehouse whose tables read the archive's
// Parquet files at query time (DuckDB): ReadsFiles lists them, absolute, and
// a prune never deletes one, whatever the manifests say.
type FileReader interface {
	ReadsFiles(ctx context.Context) ([]string, error)
}

// Janitor is implemented by a warehouse whose loads stage data outside the
// archive (BigQuery: staging tables, Cloud Storage objects). A run removes
// its own; a crashed run leaves them behind. CleanStaging removes every
// staging resource created before before (a run in progress elsewhere
// stages after it), or with dryRun only lists them, and returns what it
// removed (or would), one line each.
type Janitor interface {
	CleanStaging(ctx context.Context, before time.Time, dryRun bool) ([]string, error)
}

// Kinds of a partition's file that Replace refuses before loading anything.
var (
	// ErrUnknownTable: the file is named for a table the schema does not
	// declare.
	ErrUnknownTable = errors.New("no such table in the schema")
	// ErrUnpartitioned: the file is named for a table that is not
	// partitioned by project and day (credit_rates, load_runs).
	ErrUnpartitioned = errors.New("table is not partitioned")
	// ErrStrayRows: rows of the file belong to another project or day; they
	// would escape the next replacement of their own partition.
	ErrStrayRows = errors.New("rows belong to another project or day")
)

// ErrNotReplaced is Outcome's answer for a partition no Replace included.
var ErrNotReplaced = errors.New("partition not included in any Replace")

// RunRow is one load_runs row by column name, the one layout every
// warehouse writes; nil is NULL.
func RunRow(m *archive.Manifest, d *archive.DayRecord) (map[string]any, error) {
	rows := d.Rows
	if rows == nil {
		rows = map[string]int64{}
	}
	coercions := d.Coercions
	if coercions == nil {
		coercions = []archive.Coercion{}
	}
	jobs := d.Jobs
	if jobs == nil {
		jobs = []archive.Job{}
	}
	files := d.Files
	if files == nil {
		files = []archive.FileEntry{}
	}
	var enc [4][]byte
	for i, v := range []any{rows, coercions, jobs, files} {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encoding the load_runs row of %s %s: %w", d.Project, d.Day, err)
		}
		enc[i] = b
	}
	var duration any
	if !d.StartedAt.IsZero() && !d.FinishedAt.IsZero() {
		duration = d.FinishedAt.Sub(d.StartedAt).Seconds()
	}
	return map[string]any{
		"run_id":            m.RunID,
		"source":            nullIfEmpty(d.Source),
		"project":           d.Project,
		"day":               d.Day,
		"command":           nullIfEmpty(m.Command),
		"window_from":       nullIfEmpty(m.WindowFrom),
		"window_to":         nullIfEmpty(m.WindowTo),
		"started_at":        nullTime(d.StartedAt),
		"finished_at":       nullTime(d.FinishedAt),
		"duration_seconds":  duration,
		"pages":             d.Pages,
		"api_calls":         d.APICalls,
		"retries":           d.Retries,
		"wait_seconds":      d.WaitSeconds,
		"submissions":       d.Submissions,
		"quarantined":       d.Quarantined,
		"rows_json":         string(enc[0]),
		"bytes":             d.Bytes,
		"coercions_json":    string(enc[1]),
		"jobs_json":         string(enc[2]),
		"throttled_seconds": d.ThrottledSeconds,
		"files_json":        string(enc[3]),
		"outcome":           d.Outcome,
		"error":             nullIfEmpty(d.Error),
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
