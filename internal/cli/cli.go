// Package cli is kycetl's command line: it parses flags and the
// environment, wires the packages together, and maps failures to exit
// codes (0 done, 1 failed, 2 usage or configuration error, keys the API
// refuses included).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/kycetl/kycetl/extract"
	"github.com/kycetl/kycetl/internal/pipeline"
	"github.com/kycetl/kycetl/internal/window"
	"github.com/kycetl/kycetl/load/bigquery"
	"github.com/kycetl/kycetl/sql/stats"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailed  = 1
	ExitUsage   = 2
	defaultDir  = "./warehouse"
	defaultProj = "default"
)

// usageError marks a mistake in flags, arguments or configuration.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// env is what commands share: output streams, logger, clock.
type env struct {
	stdout, stderr io.Writer
	log            zerolog.Logger
	terminal       bool // stderr is a terminal: console logs and progress bars
	now            func() time.Time
	getenv         func(string) string
	// keys says where the command read its API URL and keys, to name
	// them in an error about one (see keySources).
	keys keySources
	// sources are those a configuration's projects may name, the first
	// the default; nil for pipeline.Sources (tests list others).
	sources extract.Sources
	// recipients are those of the configuration read (archive.recipients),
	// when KYCETL_ARCHIVE_RECIPIENTS is not set.
	recipients []string
	// bigquery are options of every BigQuery warehouse opened (tests
	// point it at the in-process endpoint, load/bigquery/bqfake).
	bigquery []bigquery.Option
}

// sourceList is e.sources, or pipeline.Sources.
func (e *env) sourceList() extract.Sources {
	if e.sources != nil {
		return e.sources
	}
	return pipeline.Sources
}

// Main runs kycetl with args (without the program name) and returns the
// exit code.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdout: os.Stdout, stderr: os.Stderr, now: time.Now, getenv: os.Getenv,
		terminal: isatty.IsTerminal(os.Stderr.Fd()) || isatty.IsCygwinTerminal(os.Stderr.Fd())}
	return run(ctx, e, args)
}

func run(ctx context.Context, e *env, args []string) int {
	root := e.root()
	root.SetArgs(args)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	e.keys = envKeySources
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	err = e.keys.explain(err)
	fmt.Fprintln(e.stderr, "kycetl:", err)
	if isConfigError(err) {
		return ExitUsage
	}
	return ExitFailed
}

// isConfigError reports whether err is a mistake in flags, arguments or
// configuration (exit 2): a usage error, keys the API refused, or a PII key
// other than the archive's.
func isConfigError(err error) bool {
	var u usageError
	return errors.As(err, &u) || errors.Is(err, window.ErrCredentials) || errors.Is(err, pipeline.ErrPIIKeyChanged)
}

func (e *env) root() *cobra.Command {
	var level, cpuProfile string
	var stopProfile func()
	root := &cobra.Command{
		Use:   "kycetl",
		Short: "Batch ETL and warehouse loader for ARGOS ID check KYC data",
		Long: `kycetl pages through the ARGOS ID check submission API by day, keeps the exact
items in a raw archive, flattens every nested part into Arrow tables written
as Hive-partitioned Parquet, and loads them into a warehouse (an embedded
DuckDB file by default) whose SQL views compute the vendor's statistics page
and more (peak times, a credit forecast, anomalies), shown by kycetl serve and
kycetl report. kycetl fractal keeps dated daily snapshots of Fractal ID's
statistics beside it.`,
		Version:       Version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			lvl, err := zerolog.ParseLevel(level)
			if err != nil {
				return usagef("--log-level: %v", err)
			}
			var w io.Writer = e.stderr
			if e.terminal {
				w = zerolog.ConsoleWriter{Out: e.stderr, TimeFormat: time.TimeOnly}
			}
			e.log = zerolog.New(w).Level(lvl).With().Timestamp().Logger()
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
			}
			return nil
		},
		PersistentPostRun: func(*cobra.Command, []string) {
			if stopProfile != nil {
				stopProfile()
			}
		},
	}
	root.SetVersionTemplate("kycetl {{.Version}}\n")
	root.PersistentFlags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile to this file")
	root.PersistentFlags().MarkHidden("cpuprofile")
	root.Args = cobra.ArbitraryArgs
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usagef("unknown command %q; see kycetl --help", args[0])
		}
		cmd.Help()
		return usagef("a command is required")
	}
	root.PersistentFlags().StringVar(&level, "log-level", "info", "log level: debug, info, warn, error")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(e.demoCmd(), e.runCmd(), e.statsCmd(), e.importCmd(), e.rebuildCmd(), e.verifyCmd(), e.generateCmd(), e.scheduleCmd(), e.statusCmd(), e.sandboxCmd(), e.fractalCmd(), e.rawCmd(), e.serveCmd(), e.reportCmd(), e.pruneCmd(), e.compactCmd())
	for _, c := range root.Commands() {
		c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	}
	return root
}

// dateFlags are --from and --to.
type dateFlags struct{ from, to string }

func (d *dateFlags) add(cmd *cobra.Command, what string) {
	cmd.Flags().StringVar(&d.from, "from", "", "first UTC day "+what+" (YYYY-MM-DD)")
	cmd.Flags().StringVar(&d.to, "to", "", "last UTC day "+what+" (YYYY-MM-DD)")
}

// parse reads the window; required says both must be given.
func (d *dateFlags) parse(required bool) (from, to time.Time, err error) {
	if required && (d.from == "" || d.to == "") {
		return from, to, usagef("--from and --to are required (YYYY-MM-DD)")
	}
	if d.from != "" {
		if from, err = window.ParseDay(d.from); err != nil {
			return from, to, usagef("--from: %v", err)
		}
	}
	if d.to != "" {
		if to, err = window.ParseDay(d.to); err != nil {
			return from, to, usagef("--to: %v", err)
		}
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return from, to, usagef("--to %s is before --from %s", d.to, d.from)
	}
	return from, to, nil
}

// filterFlags are the statistics page's filters: the period (--from and
// --to, or --period), --status, --project and --sort (stats.Request).
type filterFlags struct {
	stats.Request
	cmd *cobra.Command
}

// add declares the flags; period is the default --period ("" for none).
func (f *filterFlags) add(cmd *cobra.Command, period string) {
	cmd.Flags().StringVar(&f.From, "from", "", "first UTC day to show (YYYY-MM-DD)")
	cmd.Flags().StringVar(&f.To, "to", "", "last UTC day to show (YYYY-MM-DD)")
	cmd.Flags().StringVar(&f.Period, "period", period, "a period ending today (UTC): "+strings.Join(stats.Periods, ", ")+"; not with --from/--to")
	cmd.Flags().StringVar(&f.Project, "project", "", "only this project (one the warehouse holds)")
	cmd.Flags().StringVar(&f.Status, "status", "", "only submissions of this status: approved, rejected, incomplete, pending")
	cmd.Flags().StringVar(&f.Sort, "sort", "day", "sort by day or credits (credit usage, highest first)")
	f.cmd = cmd
}

// parse reads the filter by the UTC day of now, and returns it with the
// request it was read from; a wrong flag is a usage error that names it. A
// default --period gives way to --from or --to.
func (f *filterFlags) parse(now time.Time) (stats.Request, stats.Filter, error) {
	r := f.Request
	if r.Period != "" && !f.cmd.Flags().Changed("period") && (r.From != "" || r.To != "") {
		r.Period = ""
	}
	filter, err := r.Filter(now)
	var fe *stats.FieldError
	if errors.As(err, &fe) {
		return r, filter, usagef("--%s: %v", fe.Field, fe.Err)
	}
	return r, filter, err
}

// pageSizeFlag is --page-size, for the commands that page through the API.
type pageSizeFlag int

func (p *pageSizeFlag) add(cmd *cobra.Command) {
	cmd.Flags().IntVar((*int)(p), "page-size", pipeline.DefaultSource.Defaults().PageSize,
		"items asked for per API page, any positive number (the API documents no maximum; a size it refuses is halved for the rest of the run)")
}

// check refuses a page size below 1.
func (p pageSizeFlag) check() error {
	if p < 1 {
		return usagef("--page-size must be a positive number of items per API page, got %d", int(p))
	}
	return nil
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q", cmd.CommandPath(), strings.Join(args, " "))
	}
	return nil
}
