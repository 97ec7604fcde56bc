package cli

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kycetl/kycetl/internal/config"
	"github.com/kycetl/kycetl/load/bigquery"
	"github.com/kycetl/kycetl/sql/stats"
)

// readFlags are the flags of the commands that read the warehouse back
// (status, stats, serve, report): the DuckDB file in --dir, or the BigQuery
// dataset of --warehouse, or those of a configuration file's (--config)
// where the flags do not say.
type readFlags struct {
	config, dir, warehouse string
	cmd                    *cobra.Command
}

// add declares --config, --dir and --warehouse; what is the help of
// --config.
func (r *readFlags) add(cmd *cobra.Command, what string) {
	cmd.Flags().StringVar(&r.config, "config", "", what)
	cmd.Flags().StringVar(&r.dir, "dir", defaultDir, "archive and warehouse directory; with --config, the file's dir unless this is given")
	cmd.Flags().StringVar(&r.warehouse, "warehouse", config.EngineDuckDB,
		"duckdb (<dir>/kyc.duckdb) or bigquery://PROJECT/DATASET; with --config, the file's unless this is given")
	r.cmd = cmd
}

// resolve reads the configuration file, when given, and takes its
// directory and warehouse where the flags do not set them. It returns the
// configuration, nil without --config.
func (r *readFlags) resolve(e *env) (*config.Config, error) {
	if r.config == "" {
		return nil, nil
	}
	cfg, err := e.readConfig(r.config)
	if err != nil {
		return nil, err
	}
	if !r.cmd.Flags().Changed("dir") {
		r.dir = cfg.Dir
	}
	if !r.cmd.Flags().Changed("warehouse") {
		r.warehouse = cfg.Warehouse.String()
	}
	return cfg, nil
}

// bigQuery says whether the flags name a BigQuery warehouse.
func (r *readFlags) bigQuery() bool { return r.warehouse != "" && r.warehouse != config.EngineDuckDB }

// statsDB opens the warehouse of the flags for sql/stats' readers: the
// DuckDB file in dir read-only (readOnly), or the BigQuery dataset, each
// of whose reads is a query job. close releases it.
func (e *env) statsDB(ctx context.Context, r *readFlags) (db stats.DB, close func() error, err error) {
	if !r.bigQuery() {
		wh, err := e.readOnly(ctx, r.dir)
		if err != nil {
			return stats.DB{}, nil, err
		}
		return stats.DuckDB.On(wh.DB()), wh.Close, nil
	}
	if !strings.HasPrefix(r.warehouse, bigquery.Scheme) {
		return stats.DB{}, nil, usagef("--warehouse %q: want duckdb or bigquery://PROJECT/DATASET", r.warehouse)
	}
	wh, err := e.openBigQuery(ctx, r.warehouse)
	if err != nil {
		return stats.DB{}, nil, err
	}
	return stats.BigQuery.On(wh.QueryDB()), wh.Close, nil
}

// bigQueryCost is what the help of the commands that read the statistics
// says a read costs on BigQuery.
const bigQueryCost = `On BigQuery (--warehouse bigquery://PROJECT/DATASET, or the configuration's
warehouse with --config) every read is a query job with the dataset as the
default, billed by BigQuery as any query: on-demand pricing bills at least
10 MB per table each query reads, and at least 10 MB per query.
`
