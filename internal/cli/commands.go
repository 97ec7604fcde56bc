package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/kycetl/kycetl/extract"
	"github.com/kycetl/kycetl/internal/config"
	"github.com/kycetl/kycetl/internal/lock"
	"github.com/kycetl/kycetl/internal/pipeline"
	"github.com/kycetl/kycetl/internal/window"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/load/bigquery"
	"github.com/kycetl/kycetl/load/duckdb"
	kycsql "github.com/kycetl/kycetl/sql"
	"github.com/kycetl/kycetl/sql/stats"
	"github.com/kycetl/kycetl/transform/pii"
	"github.com/kycetl/kycetl/transform/schema"
)

// Environment variables.
const (
	envAPIURL = "ARGOS_API_URL"
	envAPIKey = "ARGOS_API_KEY"
	// envSecretKey turns on secure data transfer: query parameters and answers
	// encrypted with a key derived from it (extract/argos/argoscrypt).
	envSecretKey = "ARGOS_SECRET_KEY"
	// envPIIKey holds the key that PII columns are hashed with.
	envPIIKey = config.DefaultPIIKeyEnv
	// defaultAPIURL is the vendor's production base URL.
	defaultAPIURL = "https://rest-api.argosidentity.com"
)

// workspace is an archive directory with its warehouse open: the embedded
// DuckDB file by default, or BigQuery.
type workspace struct {
	layout archive.Layout
	wh     load.Warehouse
}

// open opens the archive in dir and the warehouse named by spec: "" or
// "duckdb" for <dir>/kyc.duckdb, or bigquery://PROJECT/DATASET[?location=..&staging=gs://..],
// and prepares it (load.Warehouse.Prepare).
func (e *env) open(ctx context.Context, dir, spec string) (*workspace, error) {
	w, err := e.connect(ctx, dir, spec)
	if err != nil {
		return nil, err
	}
	if err := w.wh.Prepare(ctx); err != nil {
		w.wh.Close()
		return nil, fmt.Errorf("preparing the warehouse: %w", err)
	}
	return w, nil
}

// connect is open without Prepare, for a warehouse prepared already.
func (e *env) connect(ctx context.Context, dir, spec string) (*workspace, error) {
	l := archive.Layout{Dir: dir}
	w := &workspace{layout: l}
	switch {
	case spec == "" || spec == "duckdb":
		wh, err := duckdb.Open(ctx, l.DuckDBPath(), duckdb.WithLogger(e.log))
		if err != nil {
			return nil, fmt.Errorf("opening the warehouse in %s: %w", dir, err)
		}
		w.wh = wh
	case strings.HasPrefix(spec, bigquery.Scheme):
		wh, err := e.openBigQuery(ctx, spec)
		if err != nil {
			return nil, err
		}
		w.wh = wh
	default:
		return nil, usagef("--warehouse %q: want duckdb or bigquery://PROJECT/DATASET", spec)
	}
	return w, nil
}

func (w *workspace) Close() error { return w.wh.Close() }

// openBigQuery connects to the dataset of spec, a bigquery:// URL, without
// preparing it.
func (e *env) openBigQuery(ctx context.Context, spec string) (*bigquery.Warehouse, error) {
	cfg, err := bigquery.ParseURL(spec)
	if err != nil {
		return nil, usagef("--warehouse: %v", err)
	}
	// bigquery.Open's errors name the dataset already.
	return bigquery.Open(ctx, cfg, append([]bigquery.Option{bigquery.WithLogger(e.log)}, e.bigquery...)...)
}

// syntheticPIIKey is the PII key of synthetic data: the demo falls back to
// it, and the sandbox prints it for the runs it suggests. It guards nothing
// real, so it is no secret.
const syntheticPIIKey = "kycetl-synthetic-data-only-not-a-secret"

// policy builds the PII policy from $KYCETL_PII_KEY. The demo, which only
// ever sees synthetic data, falls back to syntheticPIIKey.
func (e *env) policy(demo bool) (*pii.Policy, error) {
	if k := e.getenv(envPIIKey); k != "" {
		p, err := pii.New(pii.WithKey([]byte(k)))
		if err != nil {
			return nil, usageError{err}
		}
		return p, nil
	}
	if demo {
		return pii.New(pii.WithKey([]byte(syntheticPIIKey)))
	}
	p, err := pii.New()
	if err != nil {
		return nil, usageError{err}
	}
	return p, nil
}

// pipeline wires a Pipeline with a progress bar over total days on a
// terminal, and extra options.
func (e *env) pipeline(layout archive.Layout, wh load.Warehouse, pol *pii.Policy, total int, extra ...pipeline.Option) (*pipeline.Pipeline, func(), error) {
	keys, err := e.archiveKeys()
	if err != nil {
		return nil, nil, err
	}
	opts := append(append(e.pipelineOptions(pol), keys...), extra...)
	done := func() {}
	if e.terminal && total > 1 {
		bar := progressbar.NewOptions(total, progressbar.OptionSetWriter(e.stderr), progressbar.OptionSetDescription("loading days"),
			progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(), progressbar.OptionSetPredictTime(true))
		// The bar shows the days; per-day log lines would tear it, so only
		// warnings and errors are logged while it runs.
		quiet := e.log.Level(max(e.log.GetLevel(), zerolog.WarnLevel))
		opts = append(opts, pipeline.WithDayHook(func(archive.DayRecord) { bar.Add(1) }), pipeline.WithLogger(quiet))
		done = func() { bar.Finish() }
	}
	p, err := pipeline.New(layout, wh, opts...)
	return p, done, err
}

// pipelineOptions are the options of every run: the PII policy, the
// logger and the clock.
func (e *env) pipelineOptions(pol *pii.Policy) []pipeline.Option {
	return []pipeline.Option{pipeline.WithPolicy(pol), pipeline.WithLogger(e.log), pipeline.WithClock(e.now)}
}

func (e *env) demoCmd() *cobra.Command {
	var dir string
	var days int
	var seed int64
	var pageSize pageSizeFlag
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Load the last 60 days from built-in ARGOS- and Fractal-compatible APIs into DuckDB and show the statistics",
		Long: `demo starts a built-in API on loopback for every source, serving deterministic
synthetic data, and loads it through the real extraction path: the last 60
days (UTC, today included) of ARGOS submissions, and a snapshot of Fractal's
statistics for each of the last 7 of them (as if pulled at 00:30 each day). It
prints the indicator cards, the daily table and the snapshots, leaves the
archive and the DuckDB warehouse in --dir for BI tools, and ends with the
kycetl serve and kycetl report commands that show its statistics page.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if days < 1 || days > 3660 {
				return usagef("--days must be between 1 and 3660, got %d", days)
			}
			if err := pageSize.check(); err != nil {
				return err
			}
			ctx := cmd.Context()
			pol, err := e.policy(true)
			if err != nil {
				return err
			}
			to := window.Day(e.now())
			for _, s := range e.sourceList() {
				src, srv, err := s.Sandbox(ctx, extract.SandboxOptions{Seed: seed, AsOf: e.now(), PageSize: int(pageSize), Log: e.log})
				if err != nil {
					return err
				}
				job := loadJob{dir: dir, source: s, src: src, policy: pol, command: "demo", project: "demo", from: to.AddDate(0, 0, -(days - 1)), to: to}
				if extract.IsSnapshot(s) {
					job.from, job.report = to.AddDate(0, 0, -(min(days, demoSnapshots)-1)), e.printSnapshot
					fmt.Fprintln(e.stdout)
				}
				err = e.load(ctx, job)
				srv.Close()
				if err != nil {
					return err
				}
			}
			fmt.Fprint(e.stdout, pageCommands(dir))
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", defaultDir, "archive and warehouse directory")
	cmd.Flags().IntVar(&days, "days", 60, "days to load, ending today (UTC)")
	cmd.Flags().Int64Var(&seed, "seed", 1, "seed of the synthetic data")
	pageSize.add(cmd)
	return cmd
}

// demoSnapshots is how many days of snapshots the demo pulls from a
// snapshot source's sandbox (Fractal's).
const demoSnapshots = 7

func (e *env) runCmd() *cobra.Command {
	var dir, project, warehouse, cfgPath string
	var concurrency int
	var dailyCalls int64
	var pageSize pageSizeFlag
	var span dateFlags
	var summary summaryFlags
	cmd := &cobra.Command{
		Use:   "run --from YYYY-MM-DD --to YYYY-MM-DD",
		Short: "Load one window of days from the ARGOS API (nightly load or backfill)",
		Long: `run loads every UTC day of [--from, --to] from the API at $ARGOS_API_URL
(default ` + defaultAPIURL + `) with the key in $ARGOS_API_KEY, and with
secure data transfer when $ARGOS_SECRET_KEY is set. With --config, the project,
its API URL, key variables and page size, the directory, the warehouse, the PII
policy and the credit rate card come from the configuration file (flags given
override it). When the API refuses the page size, the run goes on with half of
it (down to 1) and logs the size that worked. Each day's partition is
replaced whole, so re-running a window is safe. Exit code 1 when any day failed
(the others are loaded). --to may be today (UTC; a nightly load includes the day
so far) but not later: a future day is a usage error (exit 2). Before writing
anything, one API call checks the keys: a 401/403 (ARGOS_API_KEY) or a secret
that cannot decrypt (ARGOS_SECRET_KEY) stops the run with exit code 2 and leaves
the directory as it was.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, to, err := span.parse(true)
			if err != nil {
				return err
			}
			// A day after today (UTC) has no submissions yet: loading it
			// would record it ok with 0, as if it were over.
			if today := window.Day(e.now()); to.After(today) {
				return usagef("--to %s is after today (%s, UTC): a day can be loaded from the day it starts", window.FormatDate(to), window.FormatDate(today))
			}
			if concurrency < 1 || concurrency > 64 {
				return usagef("--concurrency must be between 1 and 64, got %d", concurrency)
			}
			if err := pageSize.check(); err != nil {
				return err
			}
			if err := summary.check(); err != nil {
				return err
			}
			settings := window.Settings{Concurrency: concurrency, DailyCalls: dailyCalls}
			job := loadJob{command: "run", from: from, to: to, dir: dir, project: project, warehouse: warehouse, summary: summary}
			if cfgPath != "" {
				cfg, err := e.configJob(cmd, cfgPath, &job)
				if err != nil {
					return err
				}
				p, ok := cfg.Project(project)
				if !cmd.Flags().Changed("project") && len(cfg.Projects) == 1 {
					p, ok = cfg.Projects[0], true
				}
				if !ok {
					return usagef("--project %q is not in %s", project, cfgPath)
				}
				if cmd.Flags().Changed("page-size") {
					p.PageSize = int(pageSize)
				}
				job.project, job.rates = p.Name, cfg.CreditRates
				if job.policy, err = e.configPolicy(cfg); err != nil {
					return err
				}
				if job.source, job.src, job.budget, err = e.configFetcher(cmd.Context(), cfg, p, settings); err != nil {
					return err
				}
				return e.load(cmd.Context(), job)
			}
			if err := archive.ValidateProject(project); err != nil {
				return usagef("--project: %v", err)
			}
			key := e.getenv(envAPIKey)
			if key == "" {
				return usagef("%s is not set: set it to your ARGOS project's API key", envAPIKey)
			}
			url := e.getenv(envAPIURL)
			if url == "" {
				url = defaultAPIURL
			}
			settings.URL, settings.Key, settings.Secret, settings.PageSize = url, key, e.getenv(envSecretKey), int(pageSize)
			if job.src, job.budget, err = e.fetcher(cmd.Context(), pipeline.DefaultSource, settings, ""); err != nil {
				return err
			}
			if job.policy, err = e.policy(false); err != nil {
				return err
			}
			return e.load(cmd.Context(), job)
		},
	}
	addTargetFlags(cmd, &dir, &project, &warehouse, &cfgPath)
	cmd.Flags().IntVar(&concurrency, "concurrency", pipeline.DefaultSource.Defaults().Concurrency, "API days fetched at once")
	cmd.Flags().Int64Var(&dailyCalls, "daily-calls", pipeline.DefaultSource.Defaults().DailyCalls, fmt.Sprintf("API calls allowed per project and UTC day (the vendor's limit), at least %d; a run stops at a day boundary before exceeding it and says from which day to continue", window.MinDailyCalls))
	pageSize.add(cmd)
	span.add(cmd, "to load")
	summary.add(cmd)
	return cmd
}

// viewNames are the names of the published views, in creation order.
func viewNames() []string {
	var names []string
	for _, v := range kycsql.Views() {
		names = append(names, v.Name)
	}
	return names
}

// addTargetFlags adds the flags that say where a load goes: --dir,
// --project, --warehouse and --config.
func addTargetFlags(cmd *cobra.Command, dir, project, warehouse, cfgPath *string) {
	cmd.Flags().StringVar(dir, "dir", defaultDir, "archive and warehouse directory")
	cmd.Flags().StringVar(project, "project", defaultProj, "project name recorded with every row")
	cmd.Flags().StringVar(warehouse, "warehouse", "duckdb", "duckdb (<dir>/kyc.duckdb) or bigquery://PROJECT/DATASET[?location=EU&staging=gs://bucket/prefix]")
	cmd.Flags().StringVar(cfgPath, "config", "", "configuration file (see kycetl.example.yaml)")
}

// configJob reads the configuration file at path and takes its directory
// and warehouse for job where the command's flags do not set them.
func (e *env) configJob(cmd *cobra.Command, path string, job *loadJob) (*config.Config, error) {
	cfg, err := e.readConfig(path)
	if err != nil {
		return nil, err
	}
	if !cmd.Flags().Changed("dir") {
		job.dir = cfg.Dir
	}
	if !cmd.Flags().Changed("warehouse") && cfg.Warehouse.Engine != config.EngineDuckDB {
		job.warehouse = cfg.Warehouse.String()
	}
	return cfg, nil
}

// loadJob is one window to load.
type loadJob struct {
	dir, warehouse   string
	source           extract.Source // whose archive and tables; nil for pipeline.DefaultSource
	src              pipeline.Window
	policy           *pii.Policy
	command, project string
	from, to         time.Time
	rates            []schema.CreditRate // nil keeps the warehouse's card
	budget           extract.Budget      // seeded with today's calls from the ledger; nil for none
	summary          summaryFlags
	// report prints what the run loaded; nil for the statistics page of
	// the window.
	report func(ctx context.Context, db stats.DB, job loadJob) error
}

// load runs one window (pipeline.LoadJob) and prints its summary and the
// statistics of the window.
func (e *env) load(ctx context.Context, job loadJob) error {
	layout := archive.Layout{Dir: job.dir}
	pj := pipeline.Job{
		Layout: layout, Policy: job.policy, Src: job.src,
		Local: job.warehouse == "" || job.warehouse == "duckdb",
		Open: func(ctx context.Context) (load.Warehouse, error) {
			w, err := e.open(ctx, job.dir, job.warehouse)
			if err != nil {
				return nil, err
			}
			return w.wh, nil
		},
		Command: job.command, Project: job.project, From: job.from, To: job.to, Rates: job.rates,
	}
	pj.Budget = job.budget
	pj.Pipeline = func(wh load.Warehouse) (*pipeline.Pipeline, func(), error) {
		var opts []pipeline.Option
		if job.source != nil {
			opts = append(opts, pipeline.WithSource(job.source))
		}
		return e.pipeline(layout, wh, job.policy, pj.Days(), opts...)
	}
	return pipeline.LoadJob(ctx, pj, func(wh load.Warehouse, sum *pipeline.Summary, err error) error {
		if sum != nil {
			fmt.Fprintln(e.stderr, sum)
		}
		if serr := job.summary.write(e, sum, err); serr != nil {
			return errors.Join(err, serr)
		}
		if err != nil && !errors.Is(err, pipeline.ErrDaysFailed) {
			return err
		}
		q, ok := wh.(load.Queryable)
		if !ok || job.summary.format == "json" {
			return err
		}
		if job.report != nil {
			return errors.Join(err, job.report(ctx, stats.DuckDB.On(q.DB()), job))
		}
		page, qerr := stats.Query(ctx, stats.DuckDB.On(q.DB()), stats.Filter{From: job.from, To: job.to, Project: job.project})
		if qerr != nil {
			return qerr
		}
		if perr := stats.Print(e.stdout, "table", page); perr != nil {
			return perr
		}
		abs, _ := filepath.Abs(layout.DuckDBPath())
		fmt.Fprintf(e.stdout, "\nwarehouse: %s (%d views, docs/views.md: %s)\n", abs, len(kycsql.Views()), strings.Join(viewNames(), ", "))
		return err
	})
}

func (e *env) statsCmd() *cobra.Command {
	var format string
	var target readFlags
	var filter filterFlags
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Print the statistics page from the warehouse, with the dashboard's filters",
		Long: `Print the statistics page from the warehouse, with the dashboard's filters:
the indicator cards (total, approved, rejected, incomplete, pending, AML count,
credit usage, approval rate), then the daily table.

Period: --from and --to (UTC days, inclusive), or --period 7d, 30d or 90d (that
many days up to and including today, UTC), month (this calendar month up to
today) or all (every day up to today); --period excludes --from and --to.

--status S keeps the submissions of status S: the cards and the daily table
count only them (their number, AML count and credits); the ratios and the
approval rate stay those of all submissions, of which S's ratio is its share.

--project P that the warehouse does not hold is a usage error (exit 2) that
lists the projects it holds.

--format json gives the cards and the days with the views' column names
(snake_case); json and csv give ratios as exact fractions, only the table
rounds them to percentages.

stats only reads: it opens the DuckDB warehouse read-only and writes nothing
(no lock, WAL or temporary file in --dir), so it works in a read-only
directory and any number of stats run at once. While a run or import is
writing the warehouse, stats fails at once, naming the writer's pid.

` + bigQueryCost + `stats runs 2 query jobs (3 with --project, which lists the dataset's projects
first).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, f, err := filter.parse(e.now())
			if err != nil {
				return err
			}
			if !contains(stats.Formats, format) {
				return usagef("--format %q: want %s", format, strings.Join(stats.Formats, ", "))
			}
			if _, err := target.resolve(e); err != nil {
				return err
			}
			db, closeDB, err := e.statsDB(cmd.Context(), &target)
			if err != nil {
				return err
			}
			defer closeDB()
			page, err := stats.Query(cmd.Context(), db, f)
			if err != nil {
				return unknownProject(err)
			}
			return stats.Print(e.stdout, format, page)
		},
	}
	target.add(cmd, "configuration file: read its warehouse (and dir) unless --warehouse (--dir) says another")
	cmd.Flags().StringVar(&format, "format", "table", "output format: table, csv or json")
	filter.add(cmd, "")
	return cmd
}

func (e *env) importCmd() *cobra.Command {
	var dir, project, warehouse, source string
	var summary summaryFlags
	cmd := &cobra.Command{
		Use:   "import [--project P] FILE...",
		Short: "Load exported submissions (NDJSON or {\"Items\":[...]} pages; plain, .gz or .zst)",
		Long: `import loads exported submissions into project P: NDJSON (one submission per
line), API pages ({"Items":[...]}) or JSON arrays; plain, gzip or zstd.

An export file is not a whole day: import merges each day it touches with the
day's current items (from the raw archive) and writes a new version of the day
that holds both, each submission once in its newest updated_at (the imported
copy on a tie). Importing part of a day, or the same file twice, never drops a
submission; only 'kycetl run', which fetches whole days from the API, replaces
a day.

Every item goes to the raw archive under the UTC day of its own created_at,
then through the same flattener, Parquet files and warehouse load as kycetl
run. --project names the project every row is recorded under (default
"default", as for kycetl run). Items that cannot be read as submissions are
quarantined, never dropped.

--source names the source whose export the files are (default the first
listed); its raw archive (raw/SOURCE) keeps them and its flattener reads them.

A FILE that holds no submission at all (empty, blank, an empty .gz) is a usage
error (exit 2) naming it, and nothing is imported.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("import needs at least one FILE")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, files []string) error {
			if err := archive.ValidateProject(project); err != nil {
				return usagef("--project: %v", err)
			}
			src, err := pipeline.SourceNamed(source)
			if err != nil {
				return usageError{fmt.Errorf("--source: %w", err)}
			}
			if extract.IsSnapshot(src) {
				// Refused before anything is opened or written.
				return usageError{fmt.Errorf("--source %s: %w: its days are snapshots of its API, pulled on the day itself (kycetl %s)", source, pipeline.ErrNoImport, source)}
			}
			for _, f := range files {
				if fi, err := os.Stat(f); err != nil {
					return usageError{err}
				} else if fi.IsDir() {
					return usagef("%s is a directory: name the export files", f)
				}
			}
			err = e.fromArchive(cmd.Context(), dir, warehouse, false, summary, func(pl *pipeline.Pipeline) (*pipeline.Summary, error) {
				return pl.Import(cmd.Context(), project, files)
			}, pipeline.WithSource(src))
			if errors.Is(err, pipeline.ErrNoItems) {
				return usageError{err} // a FILE argument with nothing to import
			}
			return err
		},
	}
	cmd.Flags().StringVar(&dir, "dir", defaultDir, "archive and warehouse directory")
	cmd.Flags().StringVar(&project, "project", defaultProj, "project name recorded with every row")
	cmd.Flags().StringVar(&source, "source", pipeline.DefaultSource.Name(), "source whose export the files are: "+strings.Join(pipeline.Sources.Names(), ", "))
	summary.add(cmd)
	cmd.Flags().StringVar(&warehouse, "warehouse", "duckdb", "duckdb or bigquery://PROJECT/DATASET")
	return cmd
}

// fromArchive runs an import or a rebuild: no API, the PII key from the
// environment (rehash: another key than the archive's may re-hash it), the
// directory locked, the one-line summary on stderr; extra are the
// command's own pipeline options (import's source).
func (e *env) fromArchive(ctx context.Context, dir, warehouse string, rehash bool, summary summaryFlags, do func(*pipeline.Pipeline) (*pipeline.Summary, error), extra ...pipeline.Option) error {
	if err := summary.check(); err != nil {
		return err
	}
	pol, err := e.policy(false)
	if err != nil {
		return err
	}
	if !rehash {
		if err := pipeline.CheckPIIKey(archive.Layout{Dir: dir}, pol); err != nil {
			return err
		}
	}
	lk, err := lock.Acquire(dir)
	if err != nil {
		return err
	}
	defer lk.Close()
	w, err := e.open(ctx, dir, warehouse)
	if err != nil {
		return err
	}
	defer w.Close()
	pl, done, err := e.pipeline(w.layout, w.wh, pol, 0, append(extra, pipeline.WithRehash(rehash))...)
	if err != nil {
		return err
	}
	sum, err := do(pl)
	err = identityHint(err)
	done()
	if sum != nil {
		fmt.Fprintln(e.stderr, sum)
	}
	return errors.Join(err, summary.write(e, sum, err))
}

func (e *env) rebuildCmd() *cobra.Command {
	var dir, warehouse string
	var rehash bool
	var summary summaryFlags
	cmd := &cobra.Command{
		Use:   "rebuild",
		Short: "Re-derive every Parquet partition and the warehouse from the raw archive (no API call)",
		Long: `rebuild re-derives the current version of every partition (for each project
and day, the newest run that loaded it) from its raw archive file: new Parquet
files under a new run, recorded in a new manifest, then loaded into the
warehouse. No API call is made; --dir must be an existing archive directory (a missing one is a
usage error, exit 2, never created). Use it after upgrading kycetl (a schema change
or a fix in the flattener), after changing the PII policy, or to load the
archive into another warehouse (--warehouse). Old runs' files are kept.

Hashed PII columns are hashed with KYCETL_PII_KEY. Each run records a
fingerprint of its key in its manifest (never the key), and every command
that writes (run, import, rebuild, schedule) refuses, with exit code 2, a key
other than the one the current partitions were hashed with: another key would
give the same values other hashes and break joins on hashed columns. To move
the archive to a new key on purpose, run rebuild --rehash with the new key:
every partition is hashed again with it, and later runs must use it.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := archiveDir(dir); err != nil {
				return err
			}
			// An encrypted archive without its identity fails here,
			// before anything is written.
			ids, err := e.identities()
			if err != nil {
				return err
			}
			if err := pipeline.CheckRawIdentities(archive.Layout{Dir: dir}, ids...); err != nil {
				return identityHint(err)
			}
			return e.fromArchive(cmd.Context(), dir, warehouse, rehash, summary, func(pl *pipeline.Pipeline) (*pipeline.Summary, error) {
				return pl.Rebuild(cmd.Context())
			})
		},
	}
	summary.add(cmd)
	cmd.Flags().BoolVar(&rehash, "rehash", false, "re-hash every partition with the KYCETL_PII_KEY given, another key than the archive's")
	cmd.Flags().StringVar(&dir, "dir", defaultDir, "archive and warehouse directory")
	cmd.Flags().StringVar(&warehouse, "warehouse", "duckdb", "duckdb or bigquery://PROJECT/DATASET")
	return cmd
}

func (e *env) verifyCmd() *cobra.Command {
	var dir string
	var listPruned bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check every archive file against its manifest (present, sha256, rows, schema version)",
		Long: `verify audits the archive in --dir, as an auditor would: every file that a run's
manifest names must be present, with the sha256, byte size and row count the
manifest recorded, and every manifest must be readable and of a known schema
version. It reads the files only and never the API or the warehouse. It prints
one line per problem and a summary; exit 1 when anything does not match, or
when --dir holds no manifests at all; a --dir that does not exist is a usage
error (exit 2).

Files that kycetl prune deleted (superseded versions past the retention limit)
are reported as pruned, not missing: one line per prune, from its record in
pruned/; --list-pruned lists every file each prune deleted, with its run, size
and sha256.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := archiveDir(dir); err != nil {
				return err
			}
			rep, err := archive.Verify(cmd.Context(), archive.Layout{Dir: dir})
			if err != nil {
				return err
			}
			if rep.Manifests == 0 {
				return fmt.Errorf("no manifests under %s: nothing to verify (is --dir the archive directory?)", dir)
			}
			if listPruned {
				for _, p := range rep.Prunes {
					for _, f := range append(p.Files, p.Manifests...) {
						fmt.Fprintf(e.stdout, "pruned by %s: %s (run %s, %d bytes, sha256 %s)\n", p.PruneID, f.Path, f.RunID, f.Bytes, f.SHA256)
					}
				}
			}
			fmt.Fprint(e.stdout, rep)
			if !rep.OK() {
				return errors.New("the archive does not match its manifests")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", defaultDir, "archive and warehouse directory")
	cmd.Flags().BoolVar(&listPruned, "list-pruned", false, "list every file kycetl prune deleted")
	return cmd
}

// archiveDir checks that dir, given to a command that reads an archive
// (rebuild, verify, status), is a directory: a missing one is a usage error
// naming it, never created.
func archiveDir(dir string) error {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return usagef("no archive directory %s (is --dir the directory a run, import or demo wrote?)", dir)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
