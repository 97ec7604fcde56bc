package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/spf13/cobra"

	"github.com/kycetl/kycetl/extract"
	"github.com/kycetl/kycetl/internal/config"
	"github.com/kycetl/kycetl/internal/lock"
	"github.com/kycetl/kycetl/internal/pipeline"
	"github.com/kycetl/kycetl/internal/window"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/load/duckdb"
	"github.com/kycetl/kycetl/schedules"
	"github.com/kycetl/kycetl/transform/pii"
)

// warehouseWait is how long a run waits for the DuckDB file while another
// process (kycetl status, a BI tool) has it open.
const warehouseWait = time.Minute

func (e *env) scheduleCmd() *cobra.Command {
	var path string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "schedule --config FILE",
		Short: "Run the scheduled jobs of a configuration file (the cron daemon)",
		Long: `schedule runs, until SIGTERM or SIGINT, the jobs of every project of the
configuration file: nightly loads with a look-back, a weekly reconcile with a
longer one, hourly loads of today. After downtime or failed days a run reaches
back to the first day not loaded completely, so no day is skipped. A job whose
previous run is still going skips its tick; a lock on the warehouse directory
keeps a second daemon or a kycetl run out. On SIGTERM the run in flight finishes
its day (or, after 20 s, abandons it: no partial partition) and schedule exits
within 30 s.

The warehouse is the file's: DuckDB (<dir>/kyc.duckdb) or BigQuery
(warehouse: bigquery://PROJECT/DATASET); catch-up and each project's daily call
budget (seeded when the daemon starts with the calls the ledger records for
today) read that warehouse's load_runs. The lock keeps one machine's processes
apart only: run one daemon per directory and per BigQuery dataset.

--dry-run checks the file and prints each job's next five fire times and the
days each would load. kycetl run stays the one-shot alternative (for cron or a
Kubernetes CronJob); kycetl status reports on the jobs.

Exit codes: 0 stopped cleanly, 1 failed (the directory is locked, a run did not
stop in time), 2 configuration error.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				return usagef("--config is required: the configuration file (see kycetl.example.yaml)")
			}
			cfg, err := e.readConfig(path)
			if err != nil {
				return err
			}
			if dryRun {
				return e.dryRun(cfg)
			}
			return e.schedule(cmd.Context(), cfg)
		},
	}
	cmd.Flags().StringVar(&path, "config", "", "configuration file (required)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check the file and print each job's next five fire times; run nothing")
	return cmd
}

// readConfig loads a configuration file; any problem is a usage error.
func (e *env) readConfig(path string) (*config.Config, error) {
	e.keys = keySources{} // named as they are read, below
	cfg, err := config.Load(path, e.getenv, config.WithSources(e.sourceList().Names()...))
	if err != nil {
		return nil, usageError{err}
	}
	e.recipients = cfg.ArchiveRecipients
	return cfg, nil
}

// configPolicy is the PII policy of a configuration, the key from the
// variable it names.
func (e *env) configPolicy(cfg *config.Config) (*pii.Policy, error) {
	pol, err := cfg.Policy(e.getenv)
	if err != nil {
		return nil, usageError{err} // the configuration's error names the variable
	}
	e.keys.piiKey = "$" + cfg.PII.KeyEnv + ", named by pii.key_env in " + cfg.File
	return pol, nil
}

// configFetcher is the fetcher of a configured project, made by the
// project's source, its keys read from the variables the configuration
// names, asking for its page_size; with secret_key_env it speaks the secure
// data transfer. s holds the command's own settings (concurrency, budget).
// It returns the source too, whose archive and tables the project's
// pipeline uses (pipeline.WithSource).
func (e *env) configFetcher(ctx context.Context, cfg *config.Config, p config.Project, s window.Settings) (extract.Source, pipeline.Window, extract.Budget, error) {
	name := p.Source
	if name == "" { // a Config read without config.WithSources
		name = e.sourceList()[0].Name()
	}
	src, ok := e.sourceList().Get(name)
	if !ok { // config.Load checked the name: a Config read some other way
		return nil, nil, nil, usageError{fmt.Errorf("project %s: %w", p.Name, &pipeline.UnknownSourceError{Name: p.Source, Known: e.sourceList().Names()})}
	}
	if p.IsFractal() {
		piiKey := e.keys.piiKey
		e.keys = fractalKeySources(cfg, p)
		e.keys.piiKey = piiKey
		fs, err := p.FractalSettings(e.getenv)
		if err != nil {
			return nil, nil, nil, usageError{err} // names the variables
		}
		fs.Log, fs.Clock = s.Log, e.now
		f, b, err := e.fetcher(ctx, src, fs, p.Name)
		return src, f, b, err
	}
	key, err := p.APIKey(e.getenv)
	if err != nil {
		return nil, nil, nil, usageError{err} // the configuration's error names the variable
	}
	piiKey := e.keys.piiKey
	e.keys = projectKeySources(cfg, p)
	e.keys.piiKey = piiKey
	s.URL, s.Key, s.PageSize = p.APIURL, key, p.PageSize
	if p.SecretKeyEnv != "" {
		if s.Secret = e.getenv(p.SecretKeyEnv); s.Secret == "" {
			return nil, nil, nil, usagef("project %s: %s is not set: set it to the project's secret key for secure data transfer (or to its API key when it has none)", p.Name, p.SecretKeyEnv)
		}
	}
	f, b, err := e.fetcher(ctx, src, s, p.Name)
	return src, f, b, err
}

// fetcher is src's fetcher of s and its call budget. A setting the source
// refuses is a usage error: the budget's names --daily-calls, the others
// name the project, when there is one.
func (e *env) fetcher(ctx context.Context, src extract.Source, s window.Settings, project string) (pipeline.Window, extract.Budget, error) {
	s.Log = e.log
	f, b, err := src.Fetcher(ctx, s)
	var se *window.SettingError
	switch {
	case err == nil:
		return f, b, nil
	case errors.As(err, &se) && se.Setting == "DailyCalls":
		return nil, nil, usagef("--daily-calls: %v", se.Err)
	case project != "":
		return nil, nil, usageError{fmt.Errorf("project %s: %w", project, err)}
	}
	return nil, nil, usageError{err}
}

// schedule runs the daemon until ctx is cancelled.
func (e *env) schedule(ctx context.Context, cfg *config.Config, opts ...schedules.Option) error {
	pol, err := e.configPolicy(cfg)
	if err != nil {
		return err
	}
	sources := map[string]pipeline.Window{}
	kinds := map[string]extract.Source{}
	budgets := map[string]extract.Budget{}
	for _, p := range cfg.Projects {
		if kinds[p.Name], sources[p.Name], budgets[p.Name], err = e.configFetcher(ctx, cfg, p, window.Settings{}); err != nil {
			return err
		}
	}
	open := func(ctx context.Context) (load.Warehouse, error) {
		w, err := e.openWaiting(ctx, cfg.Dir)
		if err != nil {
			return nil, err
		}
		return w.wh, nil
	}
	if cfg.Warehouse.Engine == config.EngineBigQuery {
		// BigQuery is prepared once, by r.Prepare below (tables, views:
		// some forty requests); every later open only connects.
		// (prepared is written before the daemon starts, only read after.)
		prepared := false
		open = func(ctx context.Context) (load.Warehouse, error) {
			if prepared {
				w, err := e.connect(ctx, cfg.Dir, cfg.Warehouse.String())
				if err != nil {
					return nil, err
				}
				return w.wh, nil
			}
			w, err := e.open(ctx, cfg.Dir, cfg.Warehouse.String())
			if err != nil {
				return nil, err
			}
			prepared = true
			return w.wh, nil
		}
	}
	e.recipients = cfg.ArchiveRecipients
	keys, err := e.archiveKeys()
	if err != nil {
		return err
	}
	popts := append(e.pipelineOptions(pol), keys...)
	r := pipeline.NewScheduler(archive.Layout{Dir: cfg.Dir}, open, sources, popts...)
	r.SetSources(kinds)
	r.SetRetention(cfg.Retention)
	lk, err := lock.Acquire(cfg.Dir)
	if err != nil {
		return err
	}
	defer lk.Close()
	if err := pipeline.CheckPIIKey(archive.Layout{Dir: cfg.Dir}, pol); err != nil {
		return err
	}
	if err := r.Prepare(ctx, cfg.CreditRates); err != nil {
		return err
	}
	for _, p := range cfg.Projects {
		if b := budgets[p.Name]; b != nil {
			if err := r.SeedBudget(ctx, p.Name, b); err != nil {
				return err
			}
		}
	}
	d, err := schedules.New(cfg, r, r, append([]schedules.Option{schedules.WithLogger(e.log), schedules.WithClock(e.now)}, opts...)...)
	if err != nil {
		return usageError{err}
	}
	e.log.Info().Int("pid", os.Getpid()).Str("config", cfg.File).Str("dir", cfg.Dir).Str("timezone", cfg.Timezone).Msg("kycetl schedule started")
	return d.Run(ctx)
}

// openWaiting opens the workspace, waiting up to warehouseWait while
// another process has the DuckDB file open.
func (e *env) openWaiting(ctx context.Context, dir string) (*workspace, error) {
	return whileLocked(ctx, warehouseWait, func() (*workspace, error) { return e.open(ctx, dir, "") })
}

// whileLocked retries open while it fails because another process holds
// the DuckDB file, for up to wait; any other error is returned at once.
func whileLocked[T any](ctx context.Context, wait time.Duration, open func() (T, error)) (T, error) {
	opts := []backoff.RetryOption{backoff.WithMaxElapsedTime(wait)}
	if wait <= 0 {
		opts = []backoff.RetryOption{backoff.WithMaxTries(1)}
	}
	return backoff.Retry(ctx, func() (T, error) {
		v, err := open()
		if err != nil && !errors.Is(err, duckdb.ErrLocked) {
			return v, backoff.Permanent(err)
		}
		return v, err
	}, opts...)
}

// dryRun prints what the daemon would do: every job's next five fire
// times and the days each would load, with the environment it needs.
func (e *env) dryRun(cfg *config.Config) error {
	now := e.now().In(cfg.Location)
	set := func(name string) string {
		if e.getenv(name) == "" {
			return "NOT SET"
		}
		return "set"
	}
	fmt.Fprintf(e.stdout, "%s is valid: warehouse %s in %s, schedules in %s, PII key in $%s (%s)\n",
		cfg.File, cfg.Warehouse, cfg.Dir, cfg.Timezone, cfg.PII.KeyEnv, set(cfg.PII.KeyEnv))
	if cfg.CreditRates != nil {
		fmt.Fprintf(e.stdout, "credit rate card: %d rates, written to the warehouse when the daemon starts\n", len(cfg.CreditRates))
	}
	for _, p := range cfg.Projects {
		if f := p.Fractal; p.IsFractal() {
			fmt.Fprintf(e.stdout, "\nproject %s: %s, client id in $%s (%s), client secret in $%s (%s), URLs in $%s and $%s\n", p.Name, p.Source,
				f.ClientID, set(f.ClientID), f.ClientSecret, set(f.ClientSecret), f.AuthURL, f.ResourceURL)
		} else {
			fmt.Fprintf(e.stdout, "\nproject %s: %s, API key in $%s (%s)", p.Name, p.APIURL, p.APIKeyEnv, set(p.APIKeyEnv))
			if p.SecretKeyEnv != "" {
				fmt.Fprintf(e.stdout, ", secret key in $%s (%s)", p.SecretKeyEnv, set(p.SecretKeyEnv))
			}
			fmt.Fprintln(e.stdout)
		}
		if len(p.Jobs) == 0 {
			fmt.Fprintln(e.stdout, "  no jobs")
		}
		for _, j := range p.Jobs {
			if j.Kind == config.Fractal {
				fmt.Fprintf(e.stdout, "  job %s (%s): %q, a snapshot of the day of each run (no look-back: the API has no history)\n", j.Name, j.Kind, j.Schedule)
			} else {
				fmt.Fprintf(e.stdout, "  job %s (%s): %q, look-back %d days, catch-up up to %d days\n",
					j.Name, j.Kind, j.Schedule, j.LookbackDays, max(j.MaxCatchUpDays, j.LookbackDays))
			}
			next, err := schedules.Next(j.Schedule, now, 5)
			if err != nil {
				return usageError{err}
			}
			if len(next) == 0 {
				fmt.Fprintln(e.stdout, "    never fires")
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			for _, t := range next {
				from, to := schedules.Window(j, t, time.Time{})
				fmt.Fprintf(tw, "    %s\tloads %s..%s\n", showTime(t), window.FormatDate(from), window.FormatDate(to))
			}
			tw.Flush()
		}
	}
	return nil
}

// showTime shows a fire time with its weekday and zone, and its seconds
// when it has any (@every schedules).
func showTime(t time.Time) string {
	if t.Second() != 0 {
		return t.Format("Mon 2006-01-02 15:04:05 MST")
	}
	return t.Format("Mon 2006-01-02 15:04 MST")
}
