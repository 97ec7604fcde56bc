package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kycetl/kycetl/internal/config"
	"github.com/kycetl/kycetl/internal/lock"
	"github.com/kycetl/kycetl/internal/pipeline"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/load/bigquery"
	"github.com/kycetl/kycetl/load/duckdb"
)

func (e *env) pruneCmd() *cobra.Command {
	var dir, warehouse, cfgPath, olderThan string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "prune [--older-than 30d] [--dry-run]",
		Short: "Delete superseded versions older than the retention limit, and staging left by crashed loads",
		Long: `prune deletes from the archive in --dir the versions of each day that later runs
superseded more than --older-than days ago (default: retention.superseded_days of
--config; without either, every version is kept and only the warehouse's staging
is cleaned): their raw and Parquet files, and the manifests whose every file is
gone. It never deletes the current version of a day (the newest run that loaded
it), a file the DuckDB warehouse reads, a file a kept version names, nor a file
no manifest lists; so every view answers the same after a prune.

What it deleted, each file with its run, size and sha256, is written to
pruned/PRUNE_ID.json before anything is deleted; kycetl verify reads it and
reports those files as pruned, not missing. --older-than 0d keeps only the
current versions.

With a BigQuery warehouse (--warehouse or the configuration's), the staging
tables and staged Cloud Storage objects that crashed loads left, created more
than 6 hours ago, are removed too.

prune takes the directory lock, as run and import do: while a run, an import or
kycetl schedule (which prunes by itself after each nightly job) holds it, prune
fails (exit 1) naming the holder's pid. --dry-run lists what would go and
deletes nothing. Exit codes: 0 done, 1 failed, 2 usage error.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			keep := config.Retention{SupersededDays: config.KeepAll}
			if cfgPath != "" {
				cfg, err := e.readConfig(cfgPath)
				if err != nil {
					return err
				}
				if !cmd.Flags().Changed("dir") {
					dir = cfg.Dir
				}
				if !cmd.Flags().Changed("warehouse") {
					warehouse = cfg.Warehouse.String()
				}
				keep = cfg.Retention
			}
			if olderThan != "" {
				days, err := parseDays(olderThan)
				if err != nil {
					return usagef("--older-than: %v", err)
				}
				keep.SupersededDays = days
			}
			if err := archiveDir(dir); err != nil {
				return err
			}
			return e.prune(cmd.Context(), dir, warehouse, keep, dryRun)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", defaultDir, "archive and warehouse directory; with --config, the file's dir unless this is given")
	cmd.Flags().StringVar(&olderThan, "older-than", "", "delete versions superseded more than this many days ago, as 30d (or 30); 0d keeps only current versions")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list what would be deleted; delete nothing")
	cmd.Flags().StringVar(&cfgPath, "config", "", "configuration file: its dir, warehouse and retention.superseded_days")
	cmd.Flags().StringVar(&warehouse, "warehouse", "duckdb", "duckdb or bigquery://PROJECT/DATASET[?staging=gs://bucket/prefix] (whose staging to clean)")
	return cmd
}

// parseDays reads a number of days written 30d or 30.
func parseDays(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
	if err != nil || n < 0 || n > 3660 {
		return 0, fmt.Errorf("%q: want a number of days from 0 to 3660, such as 30d", s)
	}
	return n, nil
}

// prune prunes dir under its lock and prints what went.
func (e *env) prune(ctx context.Context, dir, warehouse string, keep config.Retention, dryRun bool) error {
	lk, err := lock.Acquire(dir)
	if err != nil {
		return err
	}
	defer lk.Close()
	wh, err := e.openForPrune(ctx, dir, warehouse)
	if err != nil {
		return err
	}
	if wh != nil {
		defer wh.Close()
	}
	layout := archive.Layout{Dir: dir}
	before, err := layout.Usage(ctx)
	if err != nil {
		return err
	}
	res, err := pipeline.Prune(ctx, layout, wh, keep, e.now(), dryRun, e.log)
	if res != nil {
		e.printPruned(layout, res, before, dryRun)
	}
	return err
}

// openForPrune opens the warehouse a prune asks which files it reads
// (DuckDB, read-only; nil when there is no warehouse file) or whose staging
// it cleans (BigQuery, not prepared: a prune creates nothing).
func (e *env) openForPrune(ctx context.Context, dir, spec string) (load.Warehouse, error) {
	switch {
	case spec == "" || spec == "duckdb":
		path := archive.Layout{Dir: dir}.DuckDBPath()
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		wh, err := whileLocked(ctx, warehouseWait, func() (*duckdb.Warehouse, error) {
			return duckdb.Open(ctx, path, duckdb.WithReadOnly(), duckdb.WithLogger(e.log))
		})
		if err != nil {
			return nil, e.busy(dir, err)
		}
		return wh, nil
	case strings.HasPrefix(spec, bigquery.Scheme):
		return e.openBigQuery(ctx, spec)
	}
	return nil, usagef("--warehouse %q: want duckdb or bigquery://PROJECT/DATASET", spec)
}

func (e *env) printPruned(layout archive.Layout, res *pipeline.Pruned, before archive.Usage, dryRun bool) {
	out := e.stdout
	mb := func(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
	fmt.Fprintf(out, "archive %s: %d files, %s\n", layout.Dir, before.Files, mb(before.Bytes))
	switch rec := res.Archive; {
	case rec == nil:
		fmt.Fprintln(out, "no retention limit (--older-than, or retention.superseded_days in --config): every version is kept")
	case dryRun:
		for _, f := range rec.Files {
			fmt.Fprintf(out, "would delete %s (run %s, superseded by run %s at %s)\n", f.Path, f.RunID, f.SupersededBy, f.SupersededAt.UTC().Format(time.RFC3339))
		}
		for _, f := range rec.Manifests {
			fmt.Fprintf(out, "would delete %s (every file it lists is gone)\n", f.Path)
		}
		fmt.Fprintf(out, "dry run: would delete %d files and %d manifests (%s) superseded before %s\n",
			len(rec.Files), len(rec.Manifests), mb(rec.Bytes()), rec.Cutoff.UTC().Format(time.RFC3339))
	case rec.Empty():
		fmt.Fprintf(out, "nothing superseded before %s: nothing deleted\n", rec.Cutoff.UTC().Format(time.RFC3339))
	default:
		fmt.Fprintf(out, "deleted %d files and %d manifests (%s) superseded before %s; listed in %s\n",
			len(rec.Files), len(rec.Manifests), mb(rec.Bytes()), rec.Cutoff.UTC().Format(time.RFC3339), layout.PrunePath(rec.PruneID))
		if after, err := layout.Usage(context.Background()); err == nil {
			fmt.Fprintf(out, "archive %s: %d files, %s\n", layout.Dir, after.Files, mb(after.Bytes))
		}
	}
	verb := "removed"
	if dryRun {
		verb = "would remove"
	}
	for _, s := range res.Staging {
		fmt.Fprintf(out, "%s staging left by a crashed load: %s\n", verb, s)
	}
}
