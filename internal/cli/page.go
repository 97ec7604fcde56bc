package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kycetl/kycetl/internal/web"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/load/duckdb"
	"github.com/kycetl/kycetl/sql/stats"
)

// envServeToken is the token kycetl serve asks for on an address other
// than loopback.
const envServeToken = "KYCETL_SERVE_TOKEN"

// warehouseFile is the DuckDB file in dir, or the error that there is none
// yet.
func warehouseFile(dir string) (string, error) {
	path := archive.Layout{Dir: dir}.DuckDBPath()
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("no warehouse in %s: load one first (kycetl demo, kycetl run or kycetl import), or point --dir at it "+
			"(or read a BigQuery warehouse with --warehouse bigquery://PROJECT/DATASET)", dir)
	}
	return path, nil
}

// readOnly opens the warehouse in dir read-only: the commands that only
// read write nothing (no lock, WAL or temporary file), so they run in a
// read-only directory and beside any number of other readers.
func (e *env) readOnly(ctx context.Context, dir string) (*duckdb.Warehouse, error) {
	path, err := warehouseFile(dir)
	if err != nil {
		return nil, err
	}
	wh, err := duckdb.Open(ctx, path, duckdb.WithReadOnly(), duckdb.WithLogger(e.log))
	if err != nil {
		return nil, fmt.Errorf("opening the warehouse in %s: %w", dir, err)
	}
	return wh, nil
}

// pageJobs is what a page of the statistics costs on BigQuery, measured by
// TestPageOnBigQuery: the overview's 6 queries and the sections' 8 (10 when
// the dataset holds Fractal snapshots).
const pageJobs = "14 query jobs (16 with Fractal snapshots)"

// pageOpener is how serve reads the warehouse of the flags: the DuckDB
// file opened read-only anew for each request (web.ReadOnly), or the
// BigQuery dataset connected once (web.Shared), which close releases.
// where names the warehouse for people.
func (e *env) pageOpener(ctx context.Context, r *readFlags) (open web.Opener, close func() error, where string, err error) {
	if !r.bigQuery() {
		path, err := warehouseFile(r.dir)
		if err != nil {
			return nil, nil, "", err
		}
		return web.ReadOnly(path, e.log), func() error { return nil }, r.dir, nil
	}
	db, closeDB, err := e.statsDB(ctx, r)
	if err != nil {
		return nil, nil, "", err
	}
	return web.Shared(db), closeDB, r.warehouse, nil
}

// unknownProject makes a filter on a project the warehouse does not hold a
// usage error.
func unknownProject(err error) error {
	var unknown *stats.UnknownProjectError
	if errors.As(err, &unknown) {
		return usageError{fmt.Errorf("--project: %w", err)}
	}
	return err
}

// loopback says whether host names only this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (e *env) serveCmd() *cobra.Command {
	var addr, tz string
	var target readFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the statistics page over the warehouse (charts, daily table, filters, CSV, JSON)",
		Long: `serve draws the statistics page live over the warehouse (the DuckDB file in
--dir, or --warehouse): the indicator cards, the daily volume by status, the
status distribution, the approval-rate and credit-usage trends, the daily table
and, when the warehouse holds several projects, their comparison; then the peak
times (a weekday x hour heat map), the credit forecast of the next 30 days with
its backtest error, the anomalies, time to decision, the pending backlog by age,
the abandonment funnel, the reject reasons ranked and, when the warehouse holds
them, Fractal's snapshots. Every number comes from the views.

The filters are query parameters, so that a view can be bookmarked and shared:
period (7d, 30d, 90d, month or all; default 30d), or from and to (YYYY-MM-DD),
status, project and sort (day or credits); tz (an IANA name, default --tz)
is the heat map's time zone. /daily.csv is the daily table as
kycetl stats --format csv prints it, /api/overview the page's numbers as JSON.

The DuckDB file is opened read-only for each request and closed after it: serve
never blocks a load, and shows a load's days as soon as it is done (while a load
is writing, a request answers 503 and asks to reload).

It listens on loopback by default. On any other --addr it refuses to start
unless KYCETL_SERVE_TOKEN is set, and then asks every request for it: open the
page once as URL?token=TOKEN (the browser keeps it as a cookie), or send it as
"Authorization: Bearer TOKEN". When KYCETL_SERVE_TOKEN is set, it is asked for
on loopback too. The token is never logged.

` + bigQueryCost + `serve connects once at start and runs query jobs only for the data requests
(the page, /api/overview, /daily.csv; never for the page's scripts and styles,
which come from the binary): each is ` + pageJobs + `.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := web.CheckTimeZone(tz); err != nil {
				return usagef("--%v", err)
			}
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return usagef("--addr %q: want host:port, e.g. 127.0.0.1:8080", addr)
			}
			token := e.getenv(envServeToken)
			if !loopback(host) && token == "" {
				return usagef("--addr %s is reachable from other machines: set %s to a secret the page will ask for, or listen on 127.0.0.1", addr, envServeToken)
			}
			if _, err := target.resolve(e); err != nil {
				return err
			}
			open, closeDB, where, err := e.pageOpener(cmd.Context(), &target)
			if err != nil {
				return err
			}
			defer closeDB()
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listening on %s: %w", addr, err)
			}
			opts := []web.Option{web.WithLogger(e.log), web.WithClock(e.now), web.WithTimeZone(tz)}
			if token != "" {
				opts = append(opts, web.WithToken(token))
			}
			srv := &http.Server{Handler: web.New(open, opts...), ReadHeaderTimeout: 10 * time.Second}
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ln) }()
			url := "http://" + ln.Addr().String() + "/"
			fmt.Fprintf(e.stdout, "the statistics page of %s: %s\n", where, url)
			if token != "" {
				fmt.Fprintf(e.stdout, "it asks for %s: open %s?token=<%s> once, or send it as a bearer Authorization header\n", envServeToken, url, envServeToken)
			}
			fmt.Fprintln(e.stdout, "stop with Ctrl-C")
			select {
			case err := <-done:
				return fmt.Errorf("serving the statistics page on %s: %w", addr, err)
			case <-cmd.Context().Done():
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				srv.Close()
			}
			return nil
		},
	}
	target.add(cmd, "configuration file: serve its warehouse (and dir) unless --warehouse (--dir) says another")
	cmd.Flags().StringVar(&tz, "tz", web.DefaultTimeZone, "the time zone (IANA name) of the peak-times heat map's hours, unless the page's tz parameter says another")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "host:port to listen on (port 0 picks a free one); other than loopback only with "+envServeToken)
	return cmd
}

func (e *env) reportCmd() *cobra.Command {
	var out, tz string
	var target readFlags
	var filter filterFlags
	cmd := &cobra.Command{
		Use:   "report --out FILE.html",
		Short: "Write the statistics page as one self-contained HTML file (works offline)",
		Long: `report writes the statistics page that kycetl serve draws as one HTML file:
its chart library, style, numbers and the daily table as CSV are inside, so it
opens in any browser with no network and can be kept or mailed (an auditor's
copy of a period). Its filters are fixed when it is written: --period (default
30d) or --from and --to, --status, --project, --sort, as for kycetl stats, and
the heat map's time zone --tz (default UTC).

The file is written under a temporary name and renamed into place, so FILE is
whole or untouched. report only reads the warehouse (read-only, like stats).

` + bigQueryCost + `A report is ` + pageJobs + `.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usagef("--out is required: the HTML file to write")
			}
			if err := web.CheckTimeZone(tz); err != nil {
				return usagef("--%v", err)
			}
			req, _, err := filter.parse(e.now())
			if err != nil {
				return err
			}
			if _, err := target.resolve(e); err != nil {
				return err
			}
			db, closeDB, err := e.statsDB(cmd.Context(), &target)
			if err != nil {
				return err
			}
			defer closeDB()
			var b bytes.Buffer
			if err := web.Report(cmd.Context(), &b, db, req, web.WithClock(e.now), web.WithLogger(e.log), web.WithTimeZone(tz)); err != nil {
				return unknownProject(err)
			}
			if _, err := archive.WriteFileAtomic(out, b.Bytes()); err != nil {
				return fmt.Errorf("writing the report %s: %w", out, err)
			}
			abs, _ := filepath.Abs(out)
			fmt.Fprintf(e.stdout, "wrote %s (%d KiB): open it in any browser, it needs no network\n", abs, (b.Len()+1023)/1024)
			return nil
		},
	}
	target.add(cmd, "configuration file: read its warehouse (and dir) unless --warehouse (--dir) says another")
	cmd.Flags().StringVar(&out, "out", "", "the HTML file to write")
	cmd.Flags().StringVar(&tz, "tz", web.DefaultTimeZone, "the time zone (IANA name) of the peak-times heat map's hours")
	filter.add(cmd, web.DefaultPeriod)
	return cmd
}

// pageCommands are the commands that show the statistics page of dir, as
// the demo suggests them.
func pageCommands(dir string) string {
	quote := func(s string) string {
		if strings.ContainsAny(s, " \t'\"$`\\") {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
		return s
	}
	return fmt.Sprintf("\nsee the page in a browser:\n  kycetl serve --dir %s\n  kycetl report --dir %s --out %s\n",
		quote(dir), quote(dir), quote(filepath.Join(dir, "report.html")))
}
