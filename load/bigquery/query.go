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
	"github.com/cloudspannerecosystem/memefish"
	"github.com/cloudspannerecosystem/memefish/token"
	"google.golang.org/api/iterator"

	"github.com/kycetl/kycetl/load"
)

// kycetl reads BigQuery back through database/sql, so that one reader
// serves DuckDB and BigQuery alike: the load_runs ledger
// (schedules.LoadRuns: the daemon's catch-up and call budget, kycetl
// status) and the statistics views (sql/stats, in its BigQuery dialect:
// kycetl stats, serve, report and status's anomalies). QueryDB is a
// database/sql handle whose every query is one BigQuery query job, run
// with the warehouse's dataset as the default (unqualified table names
// name its tables and views) and the arguments as query parameters
// (positional for ?, named for @name). It reads only: no transaction, no
// prepared statement, no statement but a query.

var _ load.LedgerReader = (*Warehouse)(nil)

// QueryDB is a database/sql handle on the dataset whose queries are query
// jobs. It shares the warehouse's client: close the warehouse, not the
// handle, when done.
func (w *Warehouse) QueryDB() *gosql.DB {
	w.queryOnce.Do(func() { w.queryDB = gosql.OpenDB(connector{w}) })
	return w.queryDB
}

// LedgerDB is QueryDB, for the ledger's reader (load.LedgerReader).
func (w *Warehouse) LedgerDB() *gosql.DB { return w.QueryDB() }

// connector makes the connections of QueryDB: each is the warehouse.
type connector struct{ w *Warehouse }

var _ driver.Connector = connector{}

func (c connector) Connect(context.Context) (driver.Conn, error) { return conn(c), nil }
func (c connector) Driver() driver.Driver                        { return queryDriver{} }

// queryDriver exists because database/sql asks a connector for one; it
// opens nothing by name.
type queryDriver struct{}

func (queryDriver) Open(string) (driver.Conn, error) {
	return nil, errors.New("a BigQuery dataset is opened by Warehouse.QueryDB, not by name")
}

// errReadOnly answers what the reader never does.
var errReadOnly = errors.New("the BigQuery query handle only runs one SELECT")

// conn runs each query as a query job.
type conn struct{ w *Warehouse }

var (
	_ driver.Conn           = conn{}
	_ driver.QueryerContext = conn{}
)

func (conn) Prepare(string) (driver.Stmt, error) { return nil, errReadOnly }
func (conn) Close() error                        { return nil }
func (conn) Begin() (driver.Tx, error)           { return nil, errReadOnly }

// QueryContext runs query, one SELECT, as a query job and reads its rows.
func (c conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := selectOnly(query); err != nil {
		return nil, fmt.Errorf("querying BigQuery dataset %s.%s: %w", c.w.cfg.Project, c.w.cfg.Dataset, err)
	}
	q := c.w.client.Query(query)
	q.DefaultProjectID, q.DefaultDatasetID = c.w.cfg.Project, c.w.cfg.Dataset
	q.JobIDConfig = bigquery.JobIDConfig{JobID: "kycetl_query", AddJobIDSuffix: true}
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
	return &queryRows{it: it, cols: cols, dataset: c.w.cfg.Project + "." + c.w.cfg.Dataset}, nil
}

// selectOnly checks that query is one SELECT statement (WITH ... SELECT
// included), read with GoogleSQL's lexer (comments and literals aside):
// BigQuery runs any text as a job, a script of several statements too.
func selectOnly(query string) error {
	lex := &memefish.Lexer{File: &token.File{FilePath: "query", Buffer: query}}
	next := func() error {
		if err := lex.NextToken(); err != nil {
			return fmt.Errorf("reading the query: %w", err)
		}
		return nil
	}
	if err := next(); err != nil {
		return err
	}
	for lex.Token.Kind == "(" {
		if err := next(); err != nil {
			return err
		}
	}
	if lex.Token.Kind != "SELECT" && lex.Token.Kind != "WITH" {
		return fmt.Errorf("%w, not %s", errReadOnly, lex.Token.Raw)
	}
	for lex.Token.Kind != token.TokenEOF {
		if err := next(); err != nil {
			return err
		}
		if lex.Token.Kind == ";" {
			if err := next(); err != nil {
				return err
			}
			if lex.Token.Kind != token.TokenEOF {
				return fmt.Errorf("%w, not a script of several statements", errReadOnly)
			}
		}
	}
	return nil
}

// queryRows hands a query job's rows to database/sql, which converts them to
// the destinations' types.
type queryRows struct {
	it      *bigquery.RowIterator
	cols    []string
	dataset string // project.dataset, for errors
}

func (r *queryRows) Columns() []string { return r.cols }
func (r *queryRows) Close() error      { return nil }

func (r *queryRows) Next(dest []driver.Value) error {
	var vals []bigquery.Value
	err := r.it.Next(&vals)
	if errors.Is(err, iterator.Done) {
		return io.EOF
	}
	if err != nil {
		return fmt.Errorf("reading the rows of BigQuery dataset %s: %s", r.dataset, message(err))
	}
	if len(vals) != len(dest) {
		return fmt.Errorf("reading the rows of BigQuery dataset %s: %d values for %d columns", r.dataset, len(vals), len(dest))
	}
	for i, v := range vals {
		dv, err := driverValue(v)
		if err != nil {
			return fmt.Errorf("reading column %s of BigQuery dataset %s: %w", r.cols[i], r.dataset, err)
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
