package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kycetl/kycetl/internal/config"
	"github.com/kycetl/kycetl/internal/lock"
	"github.com/kycetl/kycetl/internal/pipeline"
	"github.com/kycetl/kycetl/internal/window"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/load/bigquery"
	"github.com/kycetl/kycetl/load/duckdb"
	"github.com/kycetl/kycetl/schedules"
	"github.com/kycetl/kycetl/sql/stats"
)

// statusSpan is how far back kycetl status --dir (no configuration, so no
// look-backs) looks for failed days.
const statusSpan = 90

// anomalyLookback is the look-back, in days up to yesterday, whose
// anomalies kycetl status --dir reports: the nightly job's default.
const anomalyLookback = 7

func (e *env) statusCmd() *cobra.Command {
	var target readFlags
	var runs int
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "status [--config FILE | --dir DIR] [--warehouse W]",
		Short: "Show the scheduled jobs' last runs, next fire times and failed days; exit 1 when unhealthy",
		Long: `status reads the load_runs ledger of the warehouse and shows, for each job of
the configuration file, its last runs and how they ended, its next fire times,
and per project the days whose latest load failed (within the catch-up
horizon) and the days of the jobs' look-backs that were never loaded.
Without --config it shows the last runs of every command found in the ledger
and the failed days of the last 90 days.

A run that did not finish its window shows as interrupted (killed: its days
stay planned in the ledger) or stopped (Ctrl-C, SIGTERM, or out of API calls:
its days are recorded skipped).

Exit codes, for cron, monitoring and Kubernetes probes: 0 healthy (or nothing
ran yet), 1 unhealthy — the latest run of a job failed, a day failed, a day
of a look-back is missing, or a day that an interrupted or stopped run did not
finish has not been loaded by any run (a run that loads it makes status healthy
again), or a day of the look-back up to yesterday (the jobs' longest; 7 days
without --config) is in the anomalies view (volume, approval rate, rejection
share or AML red-flag share far from the median of the 28 days before) —,
2 usage or configuration error. status only reads;
while a run holds the DuckDB file it waits for up to --wait.

On BigQuery (the configuration's warehouse, or --warehouse
bigquery://PROJECT/DATASET) status reads the dataset's load_runs with query
jobs (a few per project, each a few MB of load_runs) and its anomalies view
with one more query job per project (one without --config), and reports the
same.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runs < 1 {
				return usagef("--runs must be at least 1, got %d", runs)
			}
			cfg, err := target.resolve(e)
			if err != nil {
				return err
			}
			return e.status(cmd.Context(), cfg, target.dir, target.warehouse, runs, wait)
		},
	}
	target.add(cmd, "configuration file: report on its jobs")
	cmd.Flags().IntVar(&runs, "runs", 5, "last runs to show per job")
	cmd.Flags().DurationVar(&wait, "wait", 30*time.Second, "how long to wait for the warehouse while a run holds it")
	return cmd
}

// errUnhealthy is status's failure: the report says why.
var errUnhealthy = errors.New("unhealthy")

func (e *env) status(ctx context.Context, cfg *config.Config, dir, warehouse string, nRuns int, wait time.Duration) error {
	if err := archiveDir(dir); err != nil {
		return err
	}
	now := e.now()
	var ledger *schedules.LoadRuns
	var db stats.DB // for the anomalies
	layout := archive.Layout{Dir: dir}
	if warehouse != "" && warehouse != config.EngineDuckDB {
		// Read as it is: status prepares nothing.
		w, err := e.connect(ctx, dir, warehouse)
		if err != nil {
			return err
		}
		defer w.Close()
		lr, ok := w.wh.(load.LedgerReader)
		if !ok {
			return fmt.Errorf("reading the ledger of %s: %w", warehouse, pipeline.ErrNoLedger)
		}
		ledger = &schedules.LoadRuns{DB: lr.LedgerDB()}
		if bq, ok := w.wh.(*bigquery.Warehouse); ok {
			db = stats.BigQuery.On(bq.QueryDB())
		}
		fmt.Fprintf(e.stdout, "ledger: %s\n", warehouse)
	} else if _, err := os.Stat(layout.DuckDBPath()); err == nil {
		// Read-only: status never changes the warehouse, and several can
		// read at once.
		wh, err := whileLocked(ctx, wait, func() (*duckdb.Warehouse, error) {
			return duckdb.Open(ctx, layout.DuckDBPath(), duckdb.WithReadOnly(), duckdb.WithLogger(e.log))
		})
		if err != nil {
			return e.busy(dir, err)
		}
		defer wh.Close()
		db = stats.DuckDB.On(wh.DB())
		ledger = &schedules.LoadRuns{DB: wh.DB()}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reading %s: %w", layout.DuckDBPath(), err)
	}
	rep := &report{w: e.stdout, now: now}
	if pid, held, err := lock.Holder(dir); err == nil && held {
		rep.printf("warehouse %s: in use by kycetl pid %d\n", dir, pid)
		if ledger != nil {
			// The holder's run is the newest: its planned days are in
			// progress, not left behind.
			if rep.running, err = ledger.Latest(ctx); err != nil {
				return err
			}
		}
	} else {
		rep.printf("warehouse %s: no kycetl process running on it\n", dir)
	}
	if ledger == nil {
		rep.printf("no load recorded yet\n")
	}
	if err := rep.archive(ctx, layout); err != nil {
		return err
	}
	var err error
	if cfg != nil {
		err = rep.jobs(ctx, ledger, cfg, nRuns)
	} else if ledger != nil {
		err = rep.commands(ctx, ledger, nRuns)
	}
	if err != nil {
		return err
	}
	if db.DB != nil {
		if err := rep.anomalies(ctx, db, cfg); err != nil {
			return err
		}
	}
	if len(rep.problems) > 0 {
		rep.printf("\nstatus: UNHEALTHY: %s\n", strings.Join(rep.problems, "; "))
		return fmt.Errorf("%w: %s", errUnhealthy, strings.Join(rep.problems, "; "))
	}
	rep.printf("\nstatus: ok\n")
	return nil
}

// anomalies reports the anomalies view's days of each project's
// look-back up to yesterday (UTC): the longest look-back of the project's
// jobs with a configuration, anomalyLookback days without one. Each is a
// problem: a day whose volume or rates left their usual range is what a
// broken onboarding flow looks like the morning after.
func (r *report) anomalies(ctx context.Context, db stats.DB, cfg *config.Config) error {
	yesterday := window.Day(r.now).AddDate(0, 0, -1)
	ranges := []stats.Range{{From: yesterday.AddDate(0, 0, 1-anomalyLookback), To: yesterday}}
	if cfg != nil {
		ranges = nil
		for _, p := range cfg.Projects {
			days := 1
			for _, j := range p.Jobs {
				days = max(days, j.LookbackDays)
			}
			ranges = append(ranges, stats.Range{From: yesterday.AddDate(0, 0, 1-days), To: yesterday, Project: p.Name})
		}
	}
	r.printf("\nanomalies (trailing 28-day median, |score| > 3.5; see the anomalies view):\n")
	found := 0
	for _, rg := range ranges {
		rows, err := stats.Anomalies(ctx, db, rg)
		if err != nil {
			return fmt.Errorf("reading the anomalies of %s..%s: %w (a warehouse loaded by an earlier kycetl gains the view with its next run, import or rebuild)",
				window.FormatDate(rg.From), window.FormatDate(rg.To), err)
		}
		for _, a := range rows {
			found++
			r.printf("  %s %s %s: %s, expected %s (score %.1f)\n", a.Project, a.Day, a.Metric, metricValue(a.Metric, a.Value), metricValue(a.Metric, a.Expected), a.Score)
			r.problem("%s: %s on %s is %s, expected %s (score %.1f)", a.Project, a.Metric, a.Day, metricValue(a.Metric, a.Value), metricValue(a.Metric, a.Expected), a.Score)
		}
	}
	if found == 0 {
		r.printf("  none\n")
	}
	return nil
}

// metricValue shows an anomaly metric's value: a count, or a share as a
// percentage.
func metricValue(metric string, v float64) string {
	if metric == "volume" {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
}

// archive reports the archive's size on disk and its last prune.
func (r *report) archive(ctx context.Context, layout archive.Layout) error {
	u, err := layout.Usage(ctx)
	if err != nil {
		return err
	}
	mb := func(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
	r.printf("archive: %d files, %s (raw %d files %s, parquet %d files %s, manifests %d)\n", u.Files, mb(u.Bytes),
		u.Parts["raw"].Files, mb(u.Parts["raw"].Bytes), u.Parts["parquet"].Files, mb(u.Parts["parquet"].Bytes), u.Parts["manifests"].Files)
	prunes, err := layout.ReadPruneRecords()
	if err != nil {
		return err
	}
	if len(prunes) == 0 {
		r.printf("last prune: none has deleted anything yet\n")
		return nil
	}
	last := prunes[len(prunes)-1]
	r.printf("last prune: %s, %d files and %d manifests (%s) superseded more than %d days\n",
		last.At.UTC().Format(time.RFC3339), len(last.Files), len(last.Manifests), mb(last.Bytes()), last.OlderThanDays)
	return nil
}

// busy explains a warehouse that stayed locked.
func (e *env) busy(dir string, err error) error {
	if pid, held, _ := lock.Holder(dir); held {
		return fmt.Errorf("the warehouse in %s is busy (kycetl pid %d is loading); try again, or raise --wait: %w", dir, pid, err)
	}
	return err
}

// report prints status and collects what makes it unhealthy.
type report struct {
	w        io.Writer
	now      time.Time
	running  string // the run in progress, if any
	problems []string
}

func (r *report) printf(format string, a ...any) { fmt.Fprintf(r.w, format, a...) }

func (r *report) problem(format string, a ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, a...))
}

// jobs reports on every job of the configuration.
func (r *report) jobs(ctx context.Context, l *schedules.LoadRuns, cfg *config.Config, nRuns int) error {
	now := r.now.In(cfg.Location)
	today := window.Day(now)
	for _, p := range cfg.Projects {
		r.printf("\nproject %s\n", p.Name)
		// How far back to read: the catch-up horizon of every job, and
		// the look-back of each job's last tick.
		since := today
		expected := map[time.Time]bool{}
		for _, j := range p.Jobs {
			since = minTime(since, today.AddDate(0, 0, -max(j.MaxCatchUpDays, j.LookbackDays)))
			prev, err := schedules.Prev(j.Schedule, now)
			if err != nil {
				return usageError{err}
			}
			if prev.IsZero() {
				continue
			}
			if j.Kind == config.Fractal {
				// A snapshot is of its tick's day: every tick of the span
				// should have left one.
				since = minTime(since, today.AddDate(0, 0, -statusSpan))
				ticks, err := schedules.Next(j.Schedule, today.AddDate(0, 0, -statusSpan).In(cfg.Location), (statusSpan+1)*24*60)
				if err != nil {
					return usageError{err}
				}
				for _, tick := range ticks {
					if !tick.After(now) {
						expected[window.Day(tick)] = true
					}
				}
				continue
			}
			// The days the last tick's run should have found loaded: its
			// look-back, without its own day (loaded by that very run).
			from, to := schedules.Window(j, prev, time.Time{})
			for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
				expected[d] = true
				since = minTime(since, d)
			}
		}
		var h schedules.History
		if l != nil {
			var err error
			if h, err = l.History(ctx, p.Source, p.Name, since); err != nil {
				return err
			}
		}
		for _, j := range p.Jobs {
			r.printf("  job %s (%s, %q in %s, look-back %d days)\n", j.Name, j.Kind, j.Schedule, cfg.Timezone, j.LookbackDays)
			next, err := schedules.Next(j.Schedule, now, 3)
			if err != nil {
				return usageError{err}
			}
			var times []string
			for _, t := range next {
				times = append(times, showTime(t))
			}
			r.printf("    next: %s\n", orNone(strings.Join(times, ", ")))
			if err := r.runs(ctx, l, p.Name, schedules.Command(j), "job "+j.Name, nRuns); err != nil {
				return err
			}
		}
		r.failedDays(p.Name, h)
		if err := r.incompleteDays(ctx, l, p.Name); err != nil {
			return err
		}
		var missing []time.Time
		for d := range expected {
			if s := h.Days[d]; !h.First.IsZero() && !d.Before(window.Day(h.First)) && !s.OK && !s.Failed {
				missing = append(missing, d)
			}
		}
		sort.Slice(missing, func(i, j int) bool { return missing[i].Before(missing[j]) })
		if p.IsFractal() {
			r.missingSnapshots(p.Name, today, missing)
			continue
		}
		r.printf("  missing days: %s\n", orNone(dayRanges(missing)))
		if len(missing) > 0 {
			r.problem("%s: %d days never loaded (%s)", p.Name, len(missing), dayRanges(missing))
		}
	}
	return nil
}

// missingSnapshots reports the days a snapshot project's jobs should have
// pulled and did not: lost for good before today, as the API answers for
// the present only; today's can still be pulled.
func (r *report) missingSnapshots(project string, today time.Time, missing []time.Time) {
	var lost []time.Time
	for _, d := range missing {
		if d.Before(today) {
			lost = append(lost, d)
		}
	}
	r.printf("  missing snapshots: %s\n", orNone(dayRanges(missing)))
	if len(lost) > 0 {
		r.printf("    %s cannot be pulled any more: the API answers for today only\n", dayRanges(lost))
		r.problem("%s: %d days without a snapshot, unrecoverable (%s)", project, len(lost), dayRanges(lost))
	}
	if len(lost) < len(missing) {
		r.printf("    today's can still be pulled: kycetl fractal --project %s\n", project)
		r.problem("%s: no snapshot yet today", project)
	}
}

// commands reports on every (project, command) of the ledger.
func (r *report) commands(ctx context.Context, l *schedules.LoadRuns, nRuns int) error {
	srcs, err := l.Sources(ctx)
	if err != nil {
		return err
	}
	project := ""
	for _, s := range srcs {
		if s.Project != project {
			if project != "" {
				if err := r.projectFailedDays(ctx, l, project); err != nil {
					return err
				}
			}
			project = s.Project
			r.printf("\nproject %s\n", project)
		}
		r.printf("  command %s\n", s.Command)
		if err := r.runs(ctx, l, s.Project, s.Command, s.Command, nRuns); err != nil {
			return err
		}
	}
	if project != "" {
		return r.projectFailedDays(ctx, l, project)
	}
	return nil
}

func (r *report) projectFailedDays(ctx context.Context, l *schedules.LoadRuns, project string) error {
	h, err := l.History(ctx, schedules.LegacySource, project, window.Day(r.now).AddDate(0, 0, -statusSpan))
	if err != nil {
		return err
	}
	r.failedDays(project, h)
	return r.incompleteDays(ctx, l, project)
}

// incompleteDays prints the days that a run set out to load and did not
// finish (killed, or stopped) and that no run has loaded since; each
// makes status unhealthy until a run loads it.
func (r *report) incompleteDays(ctx context.Context, l *schedules.LoadRuns, project string) error {
	if l == nil {
		return nil
	}
	days, err := l.Incomplete(ctx, project, r.running)
	if err != nil {
		return err
	}
	r.printf("  days of interrupted runs not loaded: %s\n", orNone(dayRanges(days)))
	if len(days) > 0 {
		r.problem("%s: %d days of interrupted or stopped runs were never loaded (%s); run their window again", project, len(days), dayRanges(days))
	}
	return nil
}

// runs prints the last runs of a command; the latest failing is a problem.
func (r *report) runs(ctx context.Context, l *schedules.LoadRuns, project, command, what string, n int) error {
	if l == nil {
		r.printf("    last runs: none yet\n")
		return nil
	}
	runs, err := l.Runs(ctx, project, command, n)
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		r.printf("    last runs: none yet\n")
		return nil
	}
	r.printf("    last runs:\n")
	tw := tabwriter.NewWriter(r.w, 0, 0, 2, ' ', 0)
	for _, run := range runs {
		outcome := run.Outcome()
		if run.RunID == r.running && run.Unfinished > 0 {
			outcome = "running"
		}
		fmt.Fprintf(tw, "      %s\t%s..%s\t%d days\t%s\tstarted %s, took %s\t%s\n", run.RunID,
			window.FormatDate(run.From), window.FormatDate(run.To), run.Days, outcome,
			showTime(run.StartedAt.In(r.now.Location())), run.FinishedAt.Sub(run.StartedAt).Round(time.Second), runDetail(run))
	}
	tw.Flush()
	if latest := runs[0]; latest.Outcome() == archive.OutcomeFailed {
		r.problem("%s %s: the latest run %s failed on %d of %d days", project, what, latest.RunID, latest.Failed, latest.Days)
	}
	return nil
}

func runDetail(r schedules.Run) string {
	switch {
	case r.Failed > 0:
		return fmt.Sprintf("%d failed: %s", r.Failed, truncate(r.Error, 120))
	case r.Unfinished > 0:
		return fmt.Sprintf("%d days never finished: the run was killed, or is still running", r.Unfinished)
	case r.Left > 0:
		return fmt.Sprintf("%d days left when the run was stopped", r.Left)
	}
	return ""
}

// failedDays prints the days whose latest load failed; each is a problem.
func (r *report) failedDays(project string, h schedules.History) {
	var days []time.Time
	for d, s := range h.Days {
		if s.Failed {
			days = append(days, d)
		}
	}
	sort.Slice(days, func(i, j int) bool { return days[i].Before(days[j]) })
	if len(days) == 0 {
		r.printf("  failed days: none\n")
		return
	}
	r.printf("  failed days:\n")
	for _, d := range days {
		s := h.Days[d]
		r.printf("    %s  run %s: %s\n", window.FormatDate(d), s.RunID, truncate(s.Error, 160))
	}
	r.problem("%s: %d days failed (%s)", project, len(days), dayRanges(days))
}

// dayRanges writes sorted days as "2025-03-01..2025-03-04, 2025-03-09".
func dayRanges(days []time.Time) string {
	var parts []string
	for i := 0; i < len(days); {
		j := i
		for j+1 < len(days) && days[j+1].Equal(days[j].AddDate(0, 0, 1)) {
			j++
		}
		if i == j {
			parts = append(parts, window.FormatDate(days[i]))
		} else {
			parts = append(parts, window.FormatDate(days[i])+".."+window.FormatDate(days[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func truncate(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
