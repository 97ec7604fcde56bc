// Package duckdb is the embedded warehouse, the default: one DuckDB file
// (<dir>/kyc.duckdb) with the schema's tables, loaded from the archive's
// Parquet files, and the views of sql/.
package duckdb

import (
	"context"
	gosql "database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	duckdbdriver "github.com/duckdb/duckdb-go/v2"
	"github.com/rs/zerolog"

	"github.com/kycetl/kycetl/archive"
	"github.com/kycetl/kycetl/argos"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/schema"
	"github.com/kycetl/kycetl/sql"
)

// Warehouse is a DuckDB database file holding the warehouse.
type Warehouse struct {
	db          *gosql.DB
	log         zerolog.Logger
	memoryLimit string
	mu          sync.Mutex
	outcomes    map[string]error // by partition, of the last Replace
}

// DefaultMemoryLimit bounds DuckDB's buffer pool (its own default is 80% of
// the machine), so that a large import stays within a predictable RSS.
const DefaultMemoryLimit = "128MB"

// WithMemoryLimit sets DuckDB's memory_limit (e.g. "1GB").
func WithMemoryLimit(limit string) Option { return func(w *Warehouse) { w.memoryLimit = limit } }

// settings run on every new connection. Every connection runs in UTC, so
// that CURRENT_DATE is the UTC day and timestamps with a time zone (as
// Parquet stores them) convert to UTC TIMESTAMP columns. A checkpoint
// threshold well above the 16 MB default: checkpointing after every few
// partitions re-compresses the same row groups over and over, and made
// commits three quarters of a load's time.
func (w *Warehouse) settings() []string {
	return []string{
		"SET TimeZone='UTC'",
		"SET memory_limit='" + strings.ReplaceAll(w.memoryLimit, "'", "") + "'",
		"SET checkpoint_threshold='256MB'",
	}
}

var _ load.Warehouse = (*Warehouse)(nil)

// Option configures a Warehouse.
type Option func(*Warehouse)

// WithLogger sets the logger (default: none).
func WithLogger(l zerolog.Logger) Option { return func(w *Warehouse) { w.log = l } }

// Open opens (creating if needed) the DuckDB file at path. Every connection
// runs in UTC, so that CURRENT_DATE is the UTC day and timestamps with a
// time zone (as Parquet stores them) convert to UTC TIMESTAMP columns.
func Open(ctx context.Context, path string, opts ...Option) (*Warehouse, error) {
	w := &Warehouse{log: zerolog.Nop(), memoryLimit: DefaultMemoryLimit}
	for _, o := range opts {
		o(w)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("opening DuckDB warehouse %s: %w", path, err)
	}
	connector, err := duckdbdriver.NewConnector(path, func(execer driver.ExecerContext) error {
		// Not ctx: the pool opens connections long after Open returns.
		for _, set := range w.settings() {
			if _, err := execer.ExecContext(context.Background(), set, nil); err != nil {
				return fmt.Errorf("%s: %w", set, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("opening DuckDB warehouse %s: %w", path, err)
	}
	w.db = gosql.OpenDB(connector)
	if err := w.db.PingContext(ctx); err != nil {
		w.db.Close()
		return nil, fmt.Errorf("opening DuckDB warehouse %s: %w", path, err)
	}
	return w, nil
}

// DB is the database, for queries of the views.
func (w *Warehouse) DB() *gosql.DB { return w.db }

// Close closes the database.
func (w *Warehouse) Close() error {
	if err := w.db.Close(); err != nil {
		return fmt.Errorf("closing DuckDB warehouse: %w", err)
	}
	return nil
}

// Prepare creates missing tables and columns, creates or replaces the views
// and seeds the rate card, in one transaction.
func (w *Warehouse) Prepare(ctx context.Context) error {
	err := w.inTx(ctx, func(tx *gosql.Tx) error {
		for _, t := range schema.All() {
			if err := prepareTable(ctx, tx, t, w.log); err != nil {
				return err
			}
		}
		for _, v := range sql.Views() {
			text, err := sql.Render(v, func(name string) string { return quote(name) })
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "CREATE OR REPLACE VIEW "+quote(v.Name)+" AS\n"+text); err != nil {
				return fmt.Errorf("creating view %s: %w", v.Name, err)
			}
		}
		return seedCreditRates(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("preparing DuckDB warehouse: %w", err)
	}
	return nil
}

func prepareTable(ctx context.Context, tx *gosql.Tx, t *schema.Table, log zerolog.Logger) error {
	ddl, err := CreateTableSQL(t)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("creating table %s: %w", t.Name, err)
	}
	have, err := columnsOf(ctx, tx, t.Name)
	if err != nil {
		return err
	}
	for _, c := range t.AllColumns() {
		if have[c.Name] {
			continue
		}
		typ, err := columnType(c.Type)
		if err != nil {
			return fmt.Errorf("adding column %s.%s: %w", t.Name, c.Name, err)
		}
		if _, err := tx.ExecContext(ctx, "ALTER TABLE "+quote(t.Name)+" ADD COLUMN "+quote(c.Name)+" "+typ); err != nil {
			return fmt.Errorf("adding column %s.%s: %w", t.Name, c.Name, err)
		}
		log.Info().Str("table", t.Name).Str("column", c.Name).Msg("added column")
	}
	return nil
}

func columnsOf(ctx context.Context, tx *gosql.Tx, table string) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx,
		"SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?", table)
	if err != nil {
		return nil, fmt.Errorf("listing columns of %s: %w", table, err)
	}
	defer rows.Close()
	have := make(map[string]bool)
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("listing columns of %s: %w", table, err)
		}
		have[name] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing columns of %s: %w", table, err)
	}
	return have, nil
}

func seedCreditRates(ctx context.Context, tx *gosql.Tx) error {
	var n int64
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+quote(schema.CreditRates.Name)).Scan(&n); err != nil {
		return fmt.Errorf("counting credit rates: %w", err)
	}
	if n > 0 {
		return nil // the card may have been edited: never overwrite it
	}
	for _, r := range schema.DefaultCreditRates {
		var validTo any // NULL: open-ended
		if r.ValidTo != "" {
			validTo = r.ValidTo
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO "+quote(schema.CreditRates.Name)+
			" (item, credits, valid_from, valid_to) VALUES (?, ?, CAST(? AS DATE), CAST(? AS DATE))",
			r.Item, r.Credits, r.ValidFrom, validTo)
		if err != nil {
			return fmt.Errorf("seeding credit rate %s: %w", r.Item, err)
		}
	}
	return nil
}

// CreateTableSQL is the DDL of a table, generated from its declaration.
func CreateTableSQL(t *schema.Table) (string, error) {
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS " + quote(t.Name) + " (")
	for i, c := range t.AllColumns() {
		typ, err := columnType(c.Type)
		if err != nil {
			return "", fmt.Errorf("declaring column %s.%s: %w", t.Name, c.Name, err)
		}
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n  " + quote(c.Name) + " " + typ)
	}
	b.WriteString("\n)")
	return b.String(), nil
}

// columnType maps a schema column type to DuckDB's. Timestamps are UTC by
// convention (the session runs in UTC), stored as TIMESTAMP.
func columnType(t arrow.DataType) (string, error) {
	switch t.ID() {
	case arrow.STRING:
		return "VARCHAR", nil
	case arrow.INT64:
		return "BIGINT", nil
	case arrow.FLOAT64:
		return "DOUBLE", nil
	case arrow.BOOL:
		return "BOOLEAN", nil
	case arrow.TIMESTAMP:
		return "TIMESTAMP", nil
	case arrow.DATE32:
		return "DATE", nil
	case arrow.BINARY:
		return "BLOB", nil
	}
	return "", fmt.Errorf("no DuckDB type for Arrow type %s", t)
}

// quote quotes an identifier.
func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// groupDays is how many of the partitions given to one Replace are loaded
// in one transaction: large transactions are written straight to the
// database file instead of through the write-ahead log, which made small
// ones twice as costly. (DuckDB is no load.Batcher: an API load commits day
// by day, so that a crash loses at most the day in flight; an import or a
// rebuild hands Replace many days at once.)
const groupDays = 16

// Outcome is the error of a partition in the last Replace that included it
// (DuckDB runs no jobs to report).
func (w *Warehouse) Outcome(p load.Partition) ([]archive.Job, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return nil, w.outcomes[partitionKey(p)]
}

var _ load.Reporter = (*Warehouse)(nil)

func partitionKey(p load.Partition) string { return p.Project + "/" + argos.FormatDate(p.Day) }

// Replace loads the partitions groupDays at a time, each group in one
// transaction. When a group fails, its partitions are loaded one by one, so
// that only the bad ones fail and keep their previous version; Outcome then
// tells each partition's error, and the returned error joins them.
func (w *Warehouse) Replace(ctx context.Context, parts []load.PartitionFiles) error {
	outcomes := map[string]error{}
	var errs []error
	for start := 0; start < len(parts); start += groupDays {
		group := parts[start:min(start+groupDays, len(parts))]
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("replacing partitions: %w", err)
		}
		if len(group) > 1 && w.replace(ctx, group) == nil {
			continue
		}
		for _, p := range group {
			if err := w.replace(ctx, []load.PartitionFiles{p}); err != nil {
				outcomes[partitionKey(p.Partition)] = err
				errs = append(errs, err)
			}
		}
	}
	w.mu.Lock()
	w.outcomes = outcomes
	w.mu.Unlock()
	return errors.Join(errs...)
}

// replace loads a group of partitions in one transaction.
func (w *Warehouse) replace(ctx context.Context, parts []load.PartitionFiles) error {
	start := time.Now()
	err := w.inTx(ctx, func(tx *gosql.Tx) error {
		for _, p := range parts {
			if err := replacePartition(ctx, tx, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.log.Debug().Int("partitions", len(parts)).Dur("took", time.Since(start)).Msg("replaced partitions")
	return nil
}

func replacePartition(ctx context.Context, tx *gosql.Tx, p load.PartitionFiles) error {
	day := argos.FormatDate(p.Day)
	tables := make([]string, 0, len(p.Files))
	for name := range p.Files {
		tables = append(tables, name)
	}
	sort.Strings(tables)
	err := func() error {
		for _, t := range schema.All() {
			if t.Unpartitioned {
				continue
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+quote(t.Name)+" WHERE project = ? AND created_date = CAST(? AS DATE)",
				p.Project, day); err != nil {
				return fmt.Errorf("deleting from table %s: %w", t.Name, err)
			}
		}
		for _, name := range tables {
			if err := insertFile(ctx, tx, name, p.Files[name], p.Project, day); err != nil {
				return fmt.Errorf("loading table %s from %s: %w", name, p.Files[name], err)
			}
		}
		return nil
	}()
	if err != nil {
		return fmt.Errorf("replacing partition project=%s created_date=%s: %w", p.Project, day, err)
	}
	return nil
}

// insertFile inserts a Parquet file into a partitioned table, after
// checking that every row belongs to the partition: a row of another day
// would escape the next replacement of this one.
func insertFile(ctx context.Context, tx *gosql.Tx, table, path, project, day string) error {
	t, ok := schema.ByName(table)
	if !ok {
		return errors.New("no such table in the schema")
	}
	if t.Unpartitioned {
		return errors.New("table is not partitioned")
	}
	// One read of the file: insert the partition's rows and compare their
	// number with the file's (from its footer, no scan).
	footer, err := archive.ReadParquetFooter(path)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, "INSERT INTO "+quote(table)+" BY NAME SELECT * FROM read_parquet(?) WHERE project = ? AND created_date = CAST(? AS DATE)",
		path, project, day)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != footer.Rows {
		return fmt.Errorf("%d rows belong to another project or day", footer.Rows-n)
	}
	return nil
}

// RecordRuns writes the load_runs rows of the given days of a run.
func (w *Warehouse) RecordRuns(ctx context.Context, m *archive.Manifest, days []archive.DayRecord) error {
	cols := schema.LoadRuns.AllColumns()
	names := make([]string, len(cols))
	marks := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quote(c.Name)
		marks[i] = "?"
		if c.Type.ID() == arrow.DATE32 {
			marks[i] = "CAST(? AS DATE)"
		}
	}
	insert := "INSERT INTO " + quote(schema.LoadRuns.Name) + " (" + strings.Join(names, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ")"
	err := w.inTx(ctx, func(tx *gosql.Tx) error {
		for i := range days {
			d := &days[i]
			vals, err := loadRunValues(m, d, cols)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+quote(schema.LoadRuns.Name)+" WHERE run_id = ? AND project = ? AND day = CAST(? AS DATE)",
				m.RunID, d.Project, d.Day); err != nil {
				return fmt.Errorf("replacing load_runs row of %s %s: %w", d.Project, d.Day, err)
			}
			if _, err := tx.ExecContext(ctx, insert, vals...); err != nil {
				return fmt.Errorf("inserting load_runs row of %s %s: %w", d.Project, d.Day, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recording run %s: %w", m.RunID, err)
	}
	return nil
}

// loadRunValues lays out one load_runs row in the order of cols.
func loadRunValues(m *archive.Manifest, d *archive.DayRecord, cols []schema.Column) ([]any, error) {
	byName, err := load.RunRow(m, d)
	if err != nil {
		return nil, err
	}
	vals := make([]any, len(cols))
	for i, c := range cols {
		v, ok := byName[c.Name]
		if !ok {
			return nil, fmt.Errorf("laying out load_runs: no value for column %s", c.Name)
		}
		vals[i] = v
	}
	return vals, nil
}

// inTx runs fn in a transaction, committing when it returns nil.
func (w *Warehouse) inTx(ctx context.Context, fn func(*gosql.Tx) error) error {
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("starting transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			w.log.Warn().Err(rerr).Msg("rolling back")
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}
