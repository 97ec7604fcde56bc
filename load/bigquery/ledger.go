package bigquery

import (
	"context"
	gosql "database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"time"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"google.golang.org/api/iterator"

	"github.com/kycetl/kycetl/load"
)

// The load_runs ledger is read back through database/sql, so that the one
// reader of it (schedules.LoadRuns: the daemon's catch-up and call budget,
// kycetl status) serves DuckDB and BigQuery alike. LedgerDB is a
// database/sql handle whose every query is one BigQuery query job, run
// with the warehouse's dataset as the default (unqualified table names
// name its tables) and the arguments as query parameters (positional for
// ?, named for @name). It reads only: no transaction, no prepared
// statement.

var _ load.LedgerReader = (*Warehouse)(nil)

// LedgerDB is a database/sql handle on the dataset for the ledger's
// queries (load.LedgerReader). It shares the warehouse's client: close the
// warehouse, not the handle, when done.
func (w *Warehouse) LedgerDB() *gosql.DB {
	w.ledgerOnce.Do(func() { w.ledgerDB = gosql.OpenDB(connector{w}) })
	return w.ledgerDB
}

// connector makes the connections of LedgerDB: each is the warehouse.
type connector struct{ w *Warehouse }

var _ driver.Connector = connector{}

func (c connector) Connect(context.Context) (driver.Conn, error) { return conn(c), nil }
func (c connector) Driver() driver.Driver                        { return ledgerDriver{} }

// ledgerDriver exists because database/sql asks a connector for one; it
// opens nothing by name.
type ledgerDriver struct{}

func (ledgerDriver) Open(string) (driver.Conn, error) {
	return nil, errors.New("the BigQuery ledger is opened by Warehouse.LedgerDB, not by name")
}

// errReadOnly answers what the ledger's reader never does.
var errReadOnly = errors.New("the BigQuery ledger handle only runs queries")

// conn runs each query as a query job.
type conn struct{ w *Warehouse }

var (
	_ driver.Conn           = conn{}
	_ driver.QueryerContext = conn{}
)

func (conn) Prepare(string) (driver.Stmt, error) { return nil, errReadOnly }
func (conn) Close() error                        { return nil }
func (conn) Begin() (driver.Tx, error)           { return nil, errReadOnly }

// QueryContext runs query as a query job and reads its rows.
func (c conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q := c.w.client.Query(query)
	q.DefaultProjectID, q.DefaultDatasetID = c.w.cfg.Project, c.w.cfg.Dataset
	q.JobIDConfig = bigquery.JobIDConfig{JobID: "kycetl_ledger", AddJobIDSuffix: true}
	for _, a := range args {
		q.Parameters = append(q.Parameters, bigquery.QueryParameter{Name: a.Name, Value: a.Value})
	}
	it, err := q.Read(ctx)
	if err != nil {
		return nil, fmt.Errorf("querying BigQuery dataset %s.%s: %s", c.w.cfg.Project, c.w.cfg.Dataset, message(err))
	}
	cols := make([]string, len(it.Schema))
	for i, f := range it.Schema {
		cols[i] = f.Name
	}
	return &ledgerRows{it: it, cols: cols}, nil
}

// ledgerRows hands a query job's rows to database/sql, which converts them to
// the destinations' types.
type ledgerRows struct {
	it   *bigquery.RowIterator
	cols []string
}

func (r *ledgerRows) Columns() []string { return r.cols }
func (r *ledgerRows) Close() error      { return nil }

func (r *ledgerRows) Next(dest []driver.Value) error {
	var vals []bigquery.Value
	err := r.it.Next(&vals)
	if errors.Is(err, iterator.Done) {
		return io.EOF
	}
	if err != nil {
		return fmt.Errorf("reading BigQuery rows: %s", message(err))
	}
	if len(vals) != len(dest) {
		return fmt.Errorf("reading BigQuery rows: %d values for %d columns", len(vals), len(dest))
	}
	for i, v := range vals {
		dv, err := driverValue(v)
		if err != nil {
			return fmt.Errorf("reading BigQuery column %s: %w", r.cols[i], err)
		}
		dest[i] = dv
	}
	return nil
}

// driverValue is a BigQuery value as database/sql takes it: a DATE is
// its UTC midnight, a DATETIME its time in UTC.
func driverValue(v bigquery.Value) (driver.Value, error) {
	switch v := v.(type) {
	case nil, int64, float64, bool, string, []byte, time.Time:
		return v, nil
	case civil.Date:
		return v.In(time.UTC), nil
	case civil.DateTime:
		return v.In(time.UTC), nil
	}
	return nil, fmt.Errorf("no database/sql value for BigQuery's %T", v)
}
