// Package duckdb is the embedded warehouse, the default: one DuckDB file
// (<dir>/kyc.duckdb) whose partitioned tables are views over the archive's
// current Parquet files, beside the ledger and rate card tables and the
// views of sql/.
//
// The Parquet archive is the storage: a load records which file is the
// current one of each table, project and day (in partition_files) and
// re-points the table views, in one transaction. Nothing is copied, so a
// load costs milliseconds whatever its size, the DuckDB file stays small,
// and DuckDB still prunes by project and day and reads only the columns a
// query needs (measured: the statistics views over 100,000 submissions
// answer within 30% of a copied table's time).
//
// Readers never block a load, and a load never blocks them: a writable
// Warehouse opens the state file (StatePath, <dir>/state/kyc.duckdb),
// which only kycetl opens, and after each change publishes a checkpointed
// copy of it under a temporary name renamed over the file that readers open
// (publish.go). A reader keeps the snapshot it opened until it reopens.
package duckdb

import (
	"context"
	"crypto/sha256"
	gosql "database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	duckdbdriver "github.com/duckdb/duckdb-go/v2"
	"github.com/rs/zerolog"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/sql"
	"github.com/kycetl/kycetl/transform/schema"
)

// Warehouse is a DuckDB database file holding the warehouse.
type Warehouse struct {
	db          *gosql.DB
	base        string // directory that relative file paths are relative to
	log         zerolog.Logger
	memoryLimit string
	readOnly    bool   // opened with WithReadOnly
	published   string // the file readers open, when writable
	state       string // the file db is, when writable (StatePath)
	pubMu       sync.Mutex
	holds       int    // HoldPublishing calls not released yet; under mu
	unpublished bool   // a change was made during a hold; under mu
	spill       string // private temporary directory of a read-only warehouse
	mu          sync.Mutex
	outcomes    map[string]error // by partition, of the last Replace that included it
}

// DefaultMemoryLimit bounds DuckDB's buffer pool (its own default is 80% of
// the machine), so that queries run within a predictable RSS.
const DefaultMemoryLimit = "128MB"

// WithMemoryLimit sets DuckDB's memory_limit (e.g. "1GB").
func WithMemoryLimit(limit string) Option { return func(w *Warehouse) { w.memoryLimit = limit } }

// filesTable is the warehouse's own bookkeeping: the current Parquet file
// of each partitioned table, project and day, its path relative to the
// directory of the DuckDB file (so that the directory can move).
const filesTable = "partition_files"

const filesTableDDL = `CREATE TABLE IF NOT EXISTS ` + filesTable + ` (
  table_name VARCHAR NOT NULL,
  project VARCHAR NOT NULL,
  created_date DATE NOT NULL,
  path VARCHAR NOT NULL,
  schema_version VARCHAR NOT NULL,
  "rows" BIGINT NOT NULL
)`

// settings run on every new connection. Every connection runs in UTC, so
// that CURRENT_DATE is the UTC day. A read-only warehouse spills to its own
// temporary directory, never beside the file.
func (w *Warehouse) settings() []string {
	set := []string{
		"SET TimeZone='UTC'",
		"SET memory_limit='" + strings.ReplaceAll(w.memoryLimit, "'", "") + "'",
	}
	if w.spill != "" {
		set = append(set, "SET temp_directory="+sqlString(w.spill))
	}
	return set
}

// ErrReadOnly is the error of a write to a warehouse opened with
// WithReadOnly.
var ErrReadOnly = errors.New("the warehouse is open read-only")

// ErrLocked is wrapped by Open's error when another process has the DuckDB
// file open for writing (DuckDB allows one writing process per file).
var ErrLocked = errors.New("the DuckDB file is in use by another process")

// openError wraps err, the driver's error opening path, adding ErrLocked
// when it is DuckDB's lock conflict.
func openError(path string, err error) error {
	if lockConflict(err) {
		return fmt.Errorf("opening DuckDB warehouse %s: %w: %w", path, ErrLocked, err)
	}
	return fmt.Errorf("opening DuckDB warehouse %s: %w", path, err)
}

// lockConflict tells DuckDB's refusal to open a file another process holds
// from the driver's other errors. The driver reports it as an IO error, its
// only kind for it, so its message says which IO error it is.
func lockConflict(err error) bool {
	var de *duckdbdriver.Error
	return errors.As(err, &de) && de.Type == duckdbdriver.ErrorTypeIO && strings.Contains(de.Msg, "Could not set lock")
}

// WithReadOnly opens the warehouse for reading only (DuckDB's
// access_mode=read_only): nothing is written to the file or its directory,
// which may be read-only, and any number of processes may read it at once
// (while none writes it: DuckDB lets a writer open a file only alone). The
// file must exist. Every connection gets the views of sql/ and of the
// partitioned tables over their current files as temporary views, from
// this kycetl's definitions and the file's present directory, whatever
// kycetl wrote the file and wherever it was then; Prepare, Replace and
// RecordRuns return ErrReadOnly.
func WithReadOnly() Option { return func(w *Warehouse) { w.readOnly = true } }

// writable returns ErrReadOnly, wrapped with what, on a read-only warehouse.
func (w *Warehouse) writable(what string) error {
	if w.readOnly {
		return fmt.Errorf("%s: %w", what, ErrReadOnly)
	}
	return nil
}

var _ load.Warehouse = (*Warehouse)(nil)

// Option configures a Warehouse.
type Option func(*Warehouse)

// WithLogger sets the logger (default: none).
func WithLogger(l zerolog.Logger) Option { return func(w *Warehouse) { w.log = l } }

// Open opens (creating if needed) the DuckDB file at path. Every connection
// runs in UTC, so that CURRENT_DATE is the UTC day and timestamps with a
// time zone (as Parquet stores them) convert to UTC TIMESTAMP columns.
// When another process has the file open for writing, the error wraps
// ErrLocked.
func Open(ctx context.Context, path string, opts ...Option) (*Warehouse, error) {
	w := &Warehouse{log: zerolog.Nop(), memoryLimit: DefaultMemoryLimit, outcomes: map[string]error{}}
	for _, o := range opts {
		o(w)
	}
	file, _, _ := strings.Cut(path, "?") // DuckDB takes options after '?'
	base, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		return nil, fmt.Errorf("opening DuckDB warehouse %s: %w", path, err)
	}
	w.base = base
	dsn := path
	if w.readOnly {
		if _, err := os.Stat(file); err != nil {
			return nil, fmt.Errorf("opening DuckDB warehouse %s read-only: %w", path, err)
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		dsn = path + sep + "access_mode=read_only"
		if w.spill, err = os.MkdirTemp("", "kycetl-duckdb-"); err != nil {
			return nil, fmt.Errorf("opening DuckDB warehouse %s read-only: %w", path, err)
		}
	} else {
		if err := os.MkdirAll(base, 0o755); err != nil {
			return nil, fmt.Errorf("opening DuckDB warehouse %s: %w", path, err)
		}
		// Writers open the state file, never the published one (publish.go).
		w.published = file
		w.state = StatePath(file)
		if err := adoptPublished(file, w.state); err != nil {
			return nil, fmt.Errorf("opening DuckDB warehouse %s: %w", path, err)
		}
		dsn = w.state + path[len(file):]
	}
	connector, err := duckdbdriver.NewConnector(dsn, func(execer driver.ExecerContext) error {
		// Not ctx: the pool opens connections long after Open returns.
		for _, set := range w.settings() {
			if _, err := execer.ExecContext(context.Background(), set, nil); err != nil {
				return fmt.Errorf("%s: %w", set, err)
			}
		}
		if w.readOnly {
			return w.temporaryViews(context.Background(), execer)
		}
		return nil
	})
	if err != nil {
		w.removeSpill()
		return nil, openError(path, err)
	}
	w.db = gosql.OpenDB(connector)
	if err := w.db.PingContext(ctx); err != nil {
		w.db.Close()
		w.removeSpill()
		return nil, openError(path, err)
	}
	if w.published != "" {
		if err := removeStaleTemps(w.published); err != nil {
			w.db.Close()
			return nil, fmt.Errorf("opening DuckDB warehouse %s: %w", path, err)
		}
	}
	return w, nil
}

func (w *Warehouse) removeSpill() {
	if w.spill != "" {
		if err := os.RemoveAll(w.spill); err != nil {
			w.log.Warn().Err(err).Str("dir", w.spill).Msg("removing the temporary directory")
		}
	}
}

// DB is the database, for queries of the views.
func (w *Warehouse) DB() *gosql.DB { return w.db }

// LedgerDB is the database, for the load_runs ledger (load.LedgerReader).
func (w *Warehouse) LedgerDB() *gosql.DB { return w.db }

// Close closes the database.
func (w *Warehouse) Close() error {
	defer w.removeSpill()
	if err := w.db.Close(); err != nil {
		return fmt.Errorf("closing DuckDB warehouse: %w", err)
	}
	return nil
}

// Prepare creates missing tables and columns, points the views of the
// partitioned tables at their current files, creates or replaces the views
// of sql/ and seeds the rate card, in one transaction.
func (w *Warehouse) Prepare(ctx context.Context) error {
	if err := w.writable("preparing DuckDB warehouse"); err != nil {
		return err
	}
	fp, err := preparedFingerprint(w.base)
	if err != nil {
		return fmt.Errorf("preparing DuckDB warehouse: %w", err)
	}
	if w.isPrepared(ctx, fp) {
		return nil
	}
	err = w.inTx(ctx, func(tx *gosql.Tx) error {
		if _, err := tx.ExecContext(ctx, filesTableDDL); err != nil {
			return fmt.Errorf("creating table %s: %w", filesTable, err)
		}
		if _, err := tx.ExecContext(ctx, compactedTableDDL); err != nil {
			return fmt.Errorf("creating table %s: %w", compactedTable, err)
		}
		for _, t := range schema.All() {
			if !t.Unpartitioned {
				if err := dropCopiedTable(ctx, tx, t, w.log); err != nil {
					return err
				}
				continue
			}
			if err := prepareTable(ctx, tx, t, w.log); err != nil {
				return err
			}
		}
		if err := w.pointViews(ctx, tx); err != nil {
			return err
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
		if err := seedCreditRates(ctx, tx); err != nil {
			return err
		}
		return markPrepared(ctx, tx, fp)
	})
	if err == nil {
		err = w.publish(ctx)
	}
	if err != nil {
		return fmt.Errorf("preparing DuckDB warehouse: %w", err)
	}
	return nil
}

// preparedTable records what the last Prepare created: a fingerprint of
// every table's and view's definition. A daemon opens the warehouse for
// every run, and re-creating some forty views each time was a third of a
// run's CPU; when nothing changed, Prepare does nothing.
const preparedTable = "kycetl_prepared"

// preparedFingerprint hashes what Prepare creates: the partition list's
// and every table's DDL, every view's text, and the directory the
// partitioned tables' views read their files from (absolute paths: a moved
// directory is prepared again).
func preparedFingerprint(base string) (string, error) {
	h := sha256.New()
	io.WriteString(h, base+"\x00"+filesTableDDL+"\x00"+compactedTableDDL)
	for _, t := range schema.All() {
		ddl, err := CreateTableSQL(t)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "\x00%s\x00%v\x00%s", t.Name, t.Unpartitioned, ddl)
	}
	for _, v := range sql.Views() {
		text, err := sql.Render(v, func(name string) string { return quote(name) })
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "\x00%s\x00%s", v.Name, text)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// isPrepared says whether the last Prepare created exactly what fp
// fingerprints and every view is still there (one may have been dropped by
// hand), and the published file exists.
func (w *Warehouse) isPrepared(ctx context.Context, fp string) bool {
	if w.published != "" {
		if _, err := os.Stat(w.published); err != nil {
			return false
		}
	}
	var have string
	if err := w.db.QueryRowContext(ctx, "SELECT fingerprint FROM "+preparedTable).Scan(&have); err != nil || have != fp {
		return false
	}
	var views int
	if err := w.db.QueryRowContext(ctx, "SELECT count(*) FROM duckdb_views() WHERE NOT internal AND schema_name = current_schema()").Scan(&views); err != nil {
		return false
	}
	return views >= len(sql.Views())
}

// markPrepared records fp as what the warehouse now holds.
func markPrepared(ctx context.Context, tx *gosql.Tx, fp string) error {
	if _, err := tx.ExecContext(ctx, "CREATE OR REPLACE TABLE "+preparedTable+" (fingerprint VARCHAR NOT NULL)"); err != nil {
		return fmt.Errorf("recording the prepared definitions: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO "+preparedTable+" VALUES (?)", fp); err != nil {
		return fmt.Errorf("recording the prepared definitions: %w", err)
	}
	return nil
}

// dropCopiedTable drops a partitioned table that an earlier kycetl copied
// rows into, to make room for its view. Its rows are all in the archive;
// `kycetl rebuild` lists them again.
func dropCopiedTable(ctx context.Context, tx *gosql.Tx, t *schema.Table, log zerolog.Logger) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ? AND table_type = 'BASE TABLE'",
		t.Name).Scan(&n); err != nil {
		return fmt.Errorf("looking for table %s: %w", t.Name, err)
	}
	if n == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "DROP TABLE "+quote(t.Name)+" CASCADE"); err != nil {
		return fmt.Errorf("dropping the copied table %s: %w", t.Name, err)
	}
	log.Warn().Str("table", t.Name).Msg("replaced a table of copied rows by a view of the archive; run kycetl rebuild to list the partitions loaded before")
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

// seedCreditRates writes schema.DefaultCreditRates when credit_rates is
// empty; a card that holds rates may have been edited and is kept.
func seedCreditRates(ctx context.Context, tx *gosql.Tx) error {
	var n int64
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+quote(schema.CreditRates.Name)).Scan(&n); err != nil {
		return fmt.Errorf("counting credit rates: %w", err)
	}
	if n > 0 {
		return nil // the card may have been edited: never overwrite it
	}
	return insertCreditRates(ctx, tx, schema.DefaultCreditRates)
}

var (
	_ load.RateCard     = (*Warehouse)(nil)
	_ load.LedgerReader = (*Warehouse)(nil)
	_ load.Publisher    = (*Warehouse)(nil)
)

// SetCreditRates replaces the credit rate card with rates, in one
// transaction.
func (w *Warehouse) SetCreditRates(ctx context.Context, rates []schema.CreditRate) error {
	err := w.inTx(ctx, func(tx *gosql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+quote(schema.CreditRates.Name)); err != nil {
			return err
		}
		return insertCreditRates(ctx, tx, rates)
	})
	if err == nil {
		err = w.publish(ctx)
	}
	if err != nil {
		return fmt.Errorf("writing the credit rate card: %w", err)
	}
	return nil
}

// insertCreditRates inserts rates into credit_rates; an empty ValidTo is
// NULL, open-ended.
func insertCreditRates(ctx context.Context, tx *gosql.Tx, rates []schema.CreditRate) error {
	for _, r := range rates {
		var validTo any // NULL: open-ended
		if r.ValidTo != "" {
			validTo = r.ValidTo
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO "+quote(schema.CreditRates.Name)+
			" (item, credits, valid_from, valid_to) VALUES (?, ?, CAST(? AS DATE), CAST(? AS DATE))",
			r.Item, r.Credits, r.ValidFrom, validTo)
		if err != nil {
			return fmt.Errorf("writing credit rate %s from %s: %w", r.Item, r.ValidFrom, err)
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

// sqlString quotes s as an SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Outcome is the error of a partition in the last Replace that included it,
// nil when that Replace made its files current, load.ErrNotReplaced when no
// Replace included it (DuckDB runs no jobs to report).
func (w *Warehouse) Outcome(p load.Partition) ([]archive.Job, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	err, ok := w.outcomes[partitionKey(p)]
	if !ok {
		return nil, load.ErrNotReplaced
	}
	return nil, err
}

var _ load.Reporter = (*Warehouse)(nil)

func partitionKey(p load.Partition) string {
	return p.Source + "/" + p.Project + "/" + argos.FormatDate(p.Day)
}

// fileRow is one row of partition_files.
type fileRow struct {
	table, project, day, path, version string
	rows                               int64
}

// Replace makes the given files the current version of their partitions.
// Each file is checked first (it exists, is Parquet, belongs to a known
// partitioned table and holds only its partition's rows, per its footer);
// a partition with a bad file fails alone and keeps its previous version.
// The good ones are switched in one transaction, or one by one when that
// fails, so that only a partition the engine refuses fails. Outcome then
// tells each partition's error, and the returned error joins them. Every
// partition given has an outcome afterwards, whenever Replace returns: one
// it did not get to (the context ended) has the context's error.
func (w *Warehouse) Replace(ctx context.Context, parts []load.PartitionFiles) error {
	if err := w.writable("replacing partitions"); err != nil {
		return err
	}
	outcomes := map[string]error{}
	var errs []error
	fail := func(p load.PartitionFiles, err error) {
		err = fmt.Errorf("replacing partition project=%s created_date=%s: %w", p.Project, argos.FormatDate(p.Day), err)
		outcomes[partitionKey(p.Partition)] = err
		errs = append(errs, err)
	}
	defer func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		for k, err := range outcomes {
			w.outcomes[k] = err
		}
	}()
	var good []load.PartitionFiles
	rows := map[string][]fileRow{}
	for i, p := range parts {
		if err := ctx.Err(); err != nil {
			for _, q := range parts[i:] {
				fail(q, err)
			}
			return errors.Join(errs...)
		}
		r, err := w.checkFiles(p)
		if err != nil {
			fail(p, err)
			continue
		}
		good = append(good, p)
		rows[partitionKey(p.Partition)] = r
	}
	if len(good) > 0 && w.switchFiles(ctx, good, rows) != nil {
		for _, p := range good {
			if err := w.switchFiles(ctx, []load.PartitionFiles{p}, rows); err != nil {
				fail(p, err)
				continue
			}
			outcomes[partitionKey(p.Partition)] = nil
		}
	} else {
		for _, p := range good {
			outcomes[partitionKey(p.Partition)] = nil
		}
	}
	if len(good) > 0 {
		// Readers see the switched partitions once the catalog is
		// published; until then they are not loaded for them.
		if err := w.publish(ctx); err != nil {
			for _, p := range good {
				if outcomes[partitionKey(p.Partition)] == nil {
					fail(p, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// checkFiles reads the footer of each file of a partition: a row of
// another day would show under that day until this one is replaced.
func (w *Warehouse) checkFiles(p load.PartitionFiles) ([]fileRow, error) {
	day := argos.FormatDate(p.Day)
	tables := make([]string, 0, len(p.Files))
	for name := range p.Files {
		tables = append(tables, name)
	}
	sort.Strings(tables)
	out := make([]fileRow, 0, len(tables))
	for _, name := range tables {
		path := p.Files[name]
		row, err := func() (fileRow, error) {
			t, ok := schema.ByName(name)
			if !ok {
				return fileRow{}, load.ErrUnknownTable
			}
			if t.Unpartitioned {
				return fileRow{}, load.ErrUnpartitioned
			}
			if path == "" { // no rows: the old file goes, none comes
				return fileRow{table: name, project: p.Project, day: day}, nil
			}
			footer, err := archive.ReadParquetFooter(path)
			if err != nil {
				return fileRow{}, err
			}
			if footer.Rows > 0 && (footer.Project != p.Project || footer.Day != day) {
				return fileRow{}, fmt.Errorf("%w, or the file's statistics cannot tell (they say project %q, created_date %q)",
					load.ErrStrayRows, footer.Project, footer.Day)
			}
			return fileRow{table: name, project: p.Project, day: day, path: w.relative(path), version: footer.SchemaVersion, rows: footer.Rows}, nil
		}()
		if err != nil {
			return nil, fmt.Errorf("loading table %s from %s: %w", name, path, err)
		}
		out = append(out, row)
	}
	return out, nil
}

// relative is path relative to the warehouse's directory when it lies
// below it, else absolute.
func (w *Warehouse) relative(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(w.base, abs); err == nil && filepath.IsLocal(rel) {
		return filepath.ToSlash(rel)
	}
	return abs
}

// switchFiles records the files of the partitions and re-points the views,
// in one transaction.
func (w *Warehouse) switchFiles(ctx context.Context, parts []load.PartitionFiles, rows map[string][]fileRow) error {
	start := time.Now()
	err := w.inTx(ctx, func(tx *gosql.Tx) error {
		var files []fileRow
		for _, p := range parts {
			files = append(files, rows[partitionKey(p.Partition)]...)
		}
		// A partition's files replace those of its own tables only (its
		// source's: another source's day of the project stays). Many rows
		// per statement: one statement per partition and file made the
		// bookkeeping of a 300-day import take seconds.
		err := inChunks(files, func(chunk []fileRow) error {
			args := make([]any, 0, 3*len(chunk))
			for _, r := range chunk {
				args = append(args, r.table, r.project, r.day)
			}
			_, err := tx.ExecContext(ctx, "DELETE FROM "+filesTable+" USING (VALUES "+valuesOf("(?, ?, ?)", len(chunk))+") AS old(table_name, project, day)"+
				" WHERE "+filesTable+".table_name = old.table_name AND "+filesTable+".project = old.project AND "+filesTable+".created_date = CAST(old.day AS DATE)", args...)
			if err != nil {
				return fmt.Errorf("replacing the files of %d tables from %s project=%s day=%s: %w", len(chunk), args[0], args[1], args[2], err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		kept := files[:0:0]
		for _, r := range files {
			if r.path != "" {
				kept = append(kept, r)
			}
		}
		err = inChunks(kept, func(chunk []fileRow) error {
			args := make([]any, 0, 6*len(chunk))
			for _, r := range chunk {
				args = append(args, r.table, r.project, r.day, r.path, r.version, r.rows)
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO "+filesTable+" VALUES "+valuesOf("(?, ?, CAST(? AS DATE), ?, ?, ?)", len(chunk)), args...); err != nil {
				return fmt.Errorf("recording %d files from %s: %w", len(chunk), chunk[0].path, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return w.pointViews(ctx, tx)
	})
	if err != nil {
		return err
	}
	w.log.Debug().Int("partitions", len(parts)).Dur("took", time.Since(start)).Msg("replaced partitions")
	return nil
}

// valuesOf is the VALUES list of n rows of the tuple row, as "(?, ?)", for
// statements of many rows.
func valuesOf(row string, n int) string {
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

// inChunks calls fn on consecutive chunks of at most 256 items: enough
// rows per statement, few enough parameters.
func inChunks[T any](items []T, fn func([]T) error) error {
	const size = 256
	for start := 0; start < len(items); start += size {
		if err := fn(items[start:min(start+size, len(items))]); err != nil {
			return err
		}
	}
	return nil
}

// currentFile is one row of partition_files, its path made absolute.
type currentFile struct{ table, version, path string }

// currentFilesQuery lists the current files, in the order tableViews wants.
const currentFilesQuery = "SELECT table_name, schema_version, path FROM " + filesTable + " ORDER BY table_name, schema_version, project, created_date"

var _ load.FileReader = (*Warehouse)(nil)

// ReadsFiles lists the Parquet files the table views read, absolute: the
// current file of every partitioned table, project and day.
func (w *Warehouse) ReadsFiles(ctx context.Context) ([]string, error) {
	rows, err := w.db.QueryContext(ctx, currentFilesQuery)
	if err != nil {
		return nil, fmt.Errorf("listing the files the warehouse reads: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var table, version, path string
		if err := rows.Scan(&table, &version, &path); err != nil {
			return nil, fmt.Errorf("listing the files the warehouse reads: %w", err)
		}
		out = append(out, w.abs(path))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing the files the warehouse reads: %w", err)
	}
	return out, nil
}

// abs makes a path of partition_files absolute.
func (w *Warehouse) abs(path string) string {
	if !filepath.IsAbs(path) {
		return filepath.Join(w.base, filepath.FromSlash(path))
	}
	return path
}

// pointViews creates or replaces the view of every partitioned table over
// its current files.
func (w *Warehouse) pointViews(ctx context.Context, tx *gosql.Tx) error {
	files, err := w.viewFiles(ctx, txStrings(tx))
	if err != nil {
		return err
	}
	stmts, err := tableViews(files, "CREATE OR REPLACE VIEW ")
	if err != nil {
		return err
	}
	for _, st := range stmts {
		if _, err := tx.ExecContext(ctx, st.text); err != nil {
			return fmt.Errorf("pointing view %s at its files: %w", st.name, err)
		}
	}
	return nil
}

// statement is a named DDL statement.
type statement struct{ name, text string }

// tableViews are the statements (create names CREATE [TEMP] VIEW) of the
// views of every partitioned table over its current files. Files are read
// by schema version, one read_parquet each, so that DuckDB reads one footer
// per version to bind the view rather than every file's.
func tableViews(files []currentFile, create string) ([]statement, error) {
	type key struct{ table, version string }
	lists := map[key][]string{}
	var versions []key
	for _, f := range files {
		k := key{f.table, f.version}
		if _, seen := lists[k]; !seen {
			versions = append(versions, k)
		}
		lists[k] = append(lists[k], f.path)
	}
	var out []statement
	for _, t := range schema.All() {
		if t.Unpartitioned {
			continue
		}
		var of [][]string
		for _, k := range versions {
			if k.table == t.Name {
				of = append(of, lists[k])
			}
		}
		text, err := tableView(t, of)
		if err != nil {
			return nil, err
		}
		out = append(out, statement{t.Name, create + quote(t.Name) + " AS\n" + text})
	}
	return out, nil
}

// temporaryViews creates, on one connection of a read-only warehouse, the
// views of the partitioned tables over their current files (when the file
// lists them: one an older kycetl wrote may hold copied tables instead)
// and the views of sql/, all temporary: they hide the file's own views of
// those names for this connection and write nothing.
func (w *Warehouse) temporaryViews(ctx context.Context, execer driver.ExecerContext) error {
	queryer, ok := execer.(driver.QueryerContext)
	if !ok {
		return fmt.Errorf("creating the temporary views: the DuckDB connection (%T) cannot query", execer)
	}
	// A file this kycetl prepared in this directory already holds exactly
	// these views, pointed at these files: re-creating them for every
	// reader cost 0.75 s over a year of one project (5,800 files), on every
	// page a served warehouse answered.
	if fp, err := preparedFingerprint(w.base); err == nil {
		if have, err := queryAll(ctx, queryer, "SELECT fingerprint FROM "+preparedTable); err == nil && len(have) == 1 && have[0][0] == fp {
			return nil
		}
	}
	listed, err := queryAll(ctx, queryer, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_name = '"+filesTable+"'")
	if err != nil {
		return fmt.Errorf("looking for table %s: %w", filesTable, err)
	}
	var stmts []statement
	if len(listed) > 0 {
		files, err := w.viewFiles(ctx, func(ctx context.Context, query string) ([][]string, error) { return queryAll(ctx, queryer, query) })
		if err != nil {
			return err
		}
		if stmts, err = tableViews(files, "CREATE OR REPLACE TEMP VIEW "); err != nil {
			return err
		}
	}
	for _, v := range sql.Views() {
		text, err := sql.Render(v, func(name string) string { return quote(name) })
		if err != nil {
			return err
		}
		stmts = append(stmts, statement{v.Name, "CREATE OR REPLACE TEMP VIEW " + quote(v.Name) + " AS\n" + text})
	}
	for _, st := range stmts {
		if _, err := execer.ExecContext(ctx, st.text, nil); err != nil {
			return fmt.Errorf("creating the temporary view %s: %w", st.name, err)
		}
	}
	return nil
}

// queryAll runs a query of text columns on a driver connection and returns
// its rows.
func queryAll(ctx context.Context, q driver.QueryerContext, query string) ([][]string, error) {
	rows, err := q.QueryContext(ctx, query, nil)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]string
	vals := make([]driver.Value, len(rows.Columns()))
	for {
		if err := rows.Next(vals); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("column %d is %T, not text", i, v)
			}
			row[i] = s
		}
		out = append(out, row)
	}
}

// tableView is the SELECT of a partitioned table's view over lists of
// Parquet files, each list of one schema version; the typed empty row set
// first gives every declared column its type even when no file has it yet
// (an older schema) or there are no files. Parquet stores
// timestamps adjusted to UTC, which DuckDB reads as TIMESTAMPTZ; the view
// turns them into UTC TIMESTAMPs whatever the reader's session time zone.
func tableView(t *schema.Table, lists [][]string) (string, error) {
	cols := t.AllColumns()
	typed := make([]string, len(cols))
	outer := make([]string, len(cols))
	for i, c := range cols {
		typ, err := columnType(c.Type)
		if err != nil {
			return "", fmt.Errorf("declaring column %s.%s: %w", t.Name, c.Name, err)
		}
		outer[i] = quote(c.Name)
		if c.Type.ID() == arrow.TIMESTAMP {
			typ = "TIMESTAMPTZ"
			outer[i] = "timezone('UTC', " + quote(c.Name) + ") AS " + quote(c.Name)
		}
		typed[i] = "CAST(NULL AS " + typ + ") AS " + quote(c.Name)
	}
	var b strings.Builder
	b.WriteString("SELECT " + strings.Join(outer, ", ") + " FROM (\n  SELECT " + strings.Join(typed, ", ") + " WHERE false")
	for _, files := range lists {
		b.WriteString("\n  UNION ALL BY NAME SELECT * FROM read_parquet([")
		for i, f := range files {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(sqlString(f))
		}
		b.WriteString("])")
	}
	b.WriteString("\n)")
	return b.String(), nil
}

// RecordRuns writes the load_runs rows of the given days of a run.
func (w *Warehouse) RecordRuns(ctx context.Context, m *archive.Manifest, days []archive.DayRecord) error {
	if err := w.writable("recording run " + m.RunID); err != nil {
		return err
	}
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
	row := "(" + strings.Join(marks, ", ") + ")"
	insert := "INSERT INTO " + quote(schema.LoadRuns.Name) + " (" + strings.Join(names, ", ") + ") VALUES "
	// Many rows per statement, as switchFiles does: a statement per day
	// made recording a 200-day import cost more than loading it.
	err := w.inTx(ctx, func(tx *gosql.Tx) error {
		return inChunks(days, func(chunk []archive.DayRecord) error {
			keyArgs := make([]any, 0, 3*len(chunk))
			args := make([]any, 0, len(cols)*len(chunk))
			for i := range chunk {
				d := &chunk[i]
				vals, err := loadRunValues(m, d, cols)
				if err != nil {
					return err
				}
				keyArgs = append(keyArgs, m.RunID, d.Project, d.Day)
				args = append(args, vals...)
			}
			first := chunk[0].Project + " " + chunk[0].Day
			lr := quote(schema.LoadRuns.Name)
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+lr+" USING (VALUES "+valuesOf("(?, ?, ?)", len(chunk))+") AS old(run_id, project, day)"+
				" WHERE "+lr+".run_id = old.run_id AND "+lr+".project = old.project AND "+lr+".day = CAST(old.day AS DATE)", keyArgs...); err != nil {
				return fmt.Errorf("replacing the load_runs rows of %d days from %s: %w", len(chunk), first, err)
			}
			if _, err := tx.ExecContext(ctx, insert+valuesOf(row, len(chunk)), args...); err != nil {
				return fmt.Errorf("inserting the load_runs rows of %d days from %s: %w", len(chunk), first, err)
			}
			return nil
		})
	})
	if err == nil {
		err = w.publish(ctx)
	}
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
	w.pubMu.Lock() // never while publish copies the file
	defer w.pubMu.Unlock()
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
