package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/kycetl/kycetl/internal/lock"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
)

// defaultCompactKeepDays keeps the days the default jobs still reload as
// day files: the weekly reconcile's look-back is 90 days (a compacted month
// with a day reloaded is read from its day files until compacted again).
const defaultCompactKeepDays = 95

func (e *env) compactCmd() *cobra.Command {
	var dir, keep string
	cmd := &cobra.Command{
		Use:   "compact [--dir DIR] [--keep 95d]",
		Short: "Read old months of the DuckDB warehouse from one file per table and month",
		Long: `compact writes, for each table, project and month wholly older than --keep days
(default 95: the default weekly reconcile reloads the last 90 days, and a month
with a day reloaded is read from its day files until compacted again), one
Parquet file (zstd) holding the rows of the month's current day files, under
DIR/compacted/, and points the DuckDB views at it in place of the day files. A year
of one project is some 5,800 small files; read from twelve per table, stats_daily
over it is 2–3× faster (docs/benchmarks.md).

The archive does not change: the day files stay, and stay the truth (verify and
prune never look at compacted/; rebuild re-derives day files). A day replaced
after its month was compacted (a re-run, an import, a rebuild) is read from its
new day file at once, with the rest of that month from its day files too, until
the next compact writes the month again. Compacted files no view reads any more
are removed by the next compact: a reader holding a catalog from before the
previous compact must reopen. DuckDB only (BigQuery loads a batch's days as one
file per table already). It takes the directory lock, as run and prune do;
the daemon compacts after its nightly job with retention.compact_after_days.
Exit codes: 0 done, 1 failed, 2 usage error.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			days, err := parseDays(keep)
			if err != nil {
				return usagef("--keep: %v", err)
			}
			if err := archiveDir(dir); err != nil {
				return err
			}
			path := archive.Layout{Dir: dir}.DuckDBPath()
			if _, err := os.Stat(path); err != nil {
				return usagef("--dir %s: no DuckDB warehouse to compact (%v)", dir, err)
			}
			lk, err := lock.Acquire(dir)
			if err != nil {
				return err
			}
			defer lk.Close()
			w, err := e.open(cmd.Context(), dir, "duckdb")
			if err != nil {
				return err
			}
			defer w.Close()
			c, ok := w.wh.(load.Compactor)
			if !ok {
				return fmt.Errorf("compacting %s: the warehouse (%T) cannot compact", dir, w.wh)
			}
			before := e.now().UTC().AddDate(0, 0, -days)
			done, err := c.Compact(cmd.Context(), before)
			files := 0
			for _, m := range done {
				files += m.Days
				rel, _ := w.layout.Rel(m.Path)
				fmt.Fprintf(e.stdout, "compacted %s of project %s, %s: %d day files → %s\n", m.Table, m.Project, m.Month, m.Days, rel)
			}
			fmt.Fprintf(e.stdout, "%d table-months compacted: %d day files now read as %d (months whose every day is before %s)\n",
				len(done), files, len(done), before.Format(time.DateOnly))
			return err
		},
	}
	cmd.Flags().StringVar(&dir, "dir", defaultDir, "archive and warehouse directory")
	cmd.Flags().StringVar(&keep, "keep", fmt.Sprintf("%dd", defaultCompactKeepDays), "leave the days of the last this many days as day files, as 95d (or 95)")
	return cmd
}
