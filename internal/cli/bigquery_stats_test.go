package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	bq "google.golang.org/api/bigquery/v2"
	"google.golang.org/api/option"

	"github.com/kycetl/kycetl/internal/kyctest"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/load/bigquery"
	"github.com/kycetl/kycetl/load/bigquery/bqfake"
	"github.com/kycetl/kycetl/load/duckdb"
	"github.com/kycetl/kycetl/schedules"
	"github.com/kycetl/kycetl/sql/stats"
)

// bqWarehouse is the BigQuery dataset of the BigQuery tests.
const bqWarehouse = "bigquery://kyc-test/kyc"

// statsPIIKey is the PII key of importedWarehouse and steadyWarehouse.
var statsPIIKey = map[string]string{"KYCETL_PII_KEY": "stats-test-key-0123456789"}

// onBigQuery loads the archive in dir, which a DuckDB warehouse beside it
// was loaded from, into a new in-process BigQuery (kycetl rebuild
// --warehouse), and returns the fake with an environment that reaches it.
func onBigQuery(t *testing.T, dir string) (*bqfake.Server, *env) {
	t.Helper()
	fake := bqfake.New()
	t.Cleanup(fake.Close)
	if err := fake.AnswerLedger(schedules.Queries()); err != nil {
		t.Fatal(err)
	}
	e := bqEnv(fake.ClientOptions())
	if code, _, stderr := kycetlIn(t, e, "rebuild", "--dir", dir, "--warehouse", bqWarehouse); code != ExitOK {
		t.Fatalf("rebuild into BigQuery: exit %d\n%s", code, stderr)
	}
	return fake, e
}

// bqEnv is an environment whose BigQuery client has the options opts.
func bqEnv(opts []option.ClientOption) *env {
	return &env{now: time.Now, getenv: func(k string) string { return statsPIIKey[k] }, bigquery: []bigquery.Option{bigquery.WithClientOptions(opts...)}}
}

// kycetlIn runs the command line in-process in the environment e (its
// stdout and stderr replaced).
func kycetlIn(t *testing.T, e *env, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e.stdout, e.stderr = &out, &errOut
	code = run(context.Background(), e, args)
	return code, out.String(), errOut.String()
}

// queryJobs counts the fake's query jobs of the statistics' reader.
func queryJobs(fake *bqfake.Server) int {
	n := 0
	for _, j := range fake.Jobs() {
		if strings.HasPrefix(j.JobReference.JobId, "kycetl_query") {
			n++
		}
	}
	return n
}

// TestStatisticsOnBigQuery loads the same synthetic days into a DuckDB
// file (kycetl import) and into BigQuery (kycetl rebuild --warehouse), and
// reads them back from both: kycetl stats in every format and filter,
// every reader of sql/stats, kycetl report and kycetl serve give the same
// numbers. serve runs query jobs per data request, none per asset.
func TestStatisticsOnBigQuery(t *testing.T) {
	from, to := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)
	dir, _ := importedWarehouse(t, t.TempDir(), from, to, "acme", "beta")
	fake, e := onBigQuery(t, dir)

	for _, filter := range [][]string{
		nil,
		{"--project", "beta"},
		{"--status", "rejected", "--sort", "credits"},
		{"--from", "2025-03-02", "--to", "2025-03-03", "--project", "acme", "--status", "approved"},
	} {
		for _, format := range stats.Formats {
			args := append([]string{"stats", "--format", format}, filter...)
			code, want, stderr := kycetl(t, nil, append(args, "--dir", dir)...)
			if code != ExitOK {
				t.Fatalf("%v on DuckDB: exit %d\n%s", args, code, stderr)
			}
			before := queryJobs(fake)
			code, got, stderr := kycetlIn(t, e, append(args, "--warehouse", bqWarehouse)...)
			if code != ExitOK || got != want {
				t.Errorf("%v on BigQuery: exit %d\n%s%s\nwant (DuckDB's)\n%s", args, code, got, stderr, want)
			}
			// The help's count of query jobs.
			jobs, wantJobs := queryJobs(fake)-before, 2
			if slices.Contains(filter, "--project") {
				wantJobs = 3
			}
			if jobs != wantJobs {
				t.Errorf("%v on BigQuery ran %d query jobs, the help says %d", args, jobs, wantJobs)
			}
		}
	}

	// The configuration's warehouse, as status reads it.
	path := writeFile(t, filepath.Join(t.TempDir(), "kycetl.yaml"), "dir: "+dir+"\nwarehouse: "+bqWarehouse+
		"\npii:\n  key_env: KYCETL_PII_KEY\nprojects:\n  - name: acme\n    api_url: http://127.0.0.1:1\n    api_key_env: KYCETL_PII_KEY\n")
	_, want, _ := kycetl(t, nil, "stats", "--dir", dir, "--format", "csv")
	before := queryJobs(fake)
	if code, got, stderr := kycetlIn(t, e, "stats", "--config", path, "--format", "csv"); code != ExitOK || got != want || queryJobs(fake)-before != 2 {
		t.Errorf("stats --config (BigQuery): exit %d, %d query jobs\n%s%s\nwant\n%s", code, queryJobs(fake)-before, got, stderr, want)
	}

	// Every reader, directly: the same rows.
	ctx := context.Background()
	duck, err := duckdb.Open(ctx, archive.Layout{Dir: dir}.DuckDBPath(), duckdb.WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer duck.Close()
	wh, err := bigquery.Open(ctx, bigquery.Config{Project: "kyc-test", Dataset: "kyc"}, bigquery.WithClientOptions(fake.ClientOptions()...))
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	for _, f := range []stats.Filter{{}, {From: from.AddDate(0, 0, 1), To: to, Project: "acme", Status: "rejected", ByCredits: true}} {
		for name, read := range kyctest.Reads(ctx, f) {
			want, err := read(stats.DuckDB.On(duck.DB()))
			if err != nil {
				t.Fatalf("%s on DuckDB: %v", name, err)
			}
			got, err := read(stats.BigQuery.On(wh.QueryDB()))
			if err != nil {
				t.Errorf("%s on BigQuery: %v", name, err)
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s under %+v on BigQuery:\n%s\nwant (DuckDB's)\n%s", name, f, mustJSON(got), mustJSON(want))
			}
		}
	}
	if peak, _ := stats.PeakTimes(ctx, stats.DuckDB.On(duck.DB()), stats.Range{}, "total", "UTC"); len(peak) == 0 {
		t.Error("no peak times to compare")
	}

	// report: the same file.
	reports := map[string]string{}
	for engine, args := range map[string][]string{"duckdb": {"--dir", dir}, "bigquery": {"--warehouse", bqWarehouse}} {
		file := filepath.Join(t.TempDir(), engine+".html")
		args = append([]string{"report", "--out", file, "--from", "2025-03-01", "--to", "2025-03-04", "--tz", "Asia/Seoul", "--status", "approved"}, args...)
		before := queryJobs(fake)
		if code, _, stderr := kycetlIn(t, bqEnv(fake.ClientOptions()), args...); code != ExitOK {
			t.Fatalf("%v: exit %d\n%s", args, code, stderr)
		}
		if engine == "bigquery" && queryJobs(fake)-before != pageQueries {
			t.Errorf("report on BigQuery ran %d query jobs, the help says %s", queryJobs(fake)-before, pageJobs)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		reports[engine] = string(b)
	}
	if reports["duckdb"] != reports["bigquery"] || !strings.Contains(reports["bigquery"], `data-indicator="total"`) {
		t.Errorf("the report on BigQuery differs from DuckDB's (%d and %d bytes)", len(reports["bigquery"]), len(reports["duckdb"]))
	}

	// serve: the same numbers; query jobs for each data request only.
	duckURL := serveProcess(t, nil, "--dir", dir, "--addr", "127.0.0.1:0")
	bqURL := serveIn(t, bqEnv(fake.ClientOptions()), "--warehouse", bqWarehouse, "--addr", "127.0.0.1:0")
	for _, path := range []string{"api/overview?period=all&project=beta", "daily.csv?from=2025-03-01&to=2025-03-04&sort=credits"} {
		_, want := fetchPage(t, duckURL+path, nil)
		before := queryJobs(fake)
		status, got := fetchPage(t, bqURL+path, nil)
		if status != http.StatusOK || got != want {
			t.Errorf("%s on BigQuery: %d\n%s\nwant (DuckDB's)\n%s", path, status, got, want)
		}
		if n := queryJobs(fake) - before; n != pageQueries {
			t.Errorf("%s on BigQuery ran %d query jobs, the help says %s", path, n, pageJobs)
		}
	}
	before = queryJobs(fake)
	for _, asset := range []string{"assets/page.css", "assets/page.js", "assets/echarts.min.js"} {
		if status, _ := fetchPage(t, bqURL+asset, nil); status != http.StatusOK {
			t.Errorf("%s: %d", asset, status)
		}
	}
	if n := queryJobs(fake) - before; n != 0 {
		t.Errorf("the page's assets ran %d query jobs, want none", n)
	}
}

// pageQueries is the query jobs of one page without Fractal snapshots
// (pageJobs).
const pageQueries = 14

// TestStatusAnomaliesOnBigQuery: kycetl status on BigQuery finds the
// planted drop of the look-back in the anomalies view, as on DuckDB
// (TestStatusReportsAnomalies). The days are imported (the anomalies view
// scores no day that only a rebuild loaded).
func TestStatusAnomaliesOnBigQuery(t *testing.T) {
	today := utcToday()
	drop := today.AddDate(0, 0, -2)
	file, _ := steadyExport(t, today, map[time.Time]string{drop: "drop"})
	fake := bqfake.New()
	t.Cleanup(fake.Close)
	if err := fake.AnswerLedger(schedules.Queries()); err != nil {
		t.Fatal(err)
	}
	e := bqEnv(fake.ClientOptions())
	dir := t.TempDir()
	if code, _, stderr := kycetlIn(t, e, "import", "--project", "acme", "--dir", dir, "--warehouse", bqWarehouse, file); code != ExitOK {
		t.Fatalf("import into BigQuery: exit %d\n%s", code, stderr)
	}
	code, out, stderr := kycetlIn(t, e, "status", "--dir", dir, "--warehouse", bqWarehouse)
	if utcToday() != today {
		t.Skip("the UTC day changed during the test")
	}
	want := "acme " + drop.Format("2006-01-02") + " volume: 6, expected"
	if code != ExitFailed || !strings.Contains(out, "ledger: "+bqWarehouse) || !strings.Contains(out, want) ||
		!strings.Contains(out, "status: UNHEALTHY: acme: volume on "+drop.Format("2006-01-02")+" is 6") {
		t.Errorf("status on BigQuery with a drop on %s: exit %d, want %d and %q\n%s%s", drop.Format("2006-01-02"), code, ExitFailed, want, out, stderr)
	}
}

// TestStatisticsBigQueryErrors: a failed query job, a malformed answer and
// a dataset that does not exist are clear errors (exit 1) naming the
// dataset, with nothing printed.
func TestStatisticsBigQueryErrors(t *testing.T) {
	fake := bqfake.New()
	t.Cleanup(fake.Close)
	e := bqEnv(fake.ClientOptions())
	// No dataset yet.
	code, out, stderr := kycetlIn(t, e, "stats", "--warehouse", bqWarehouse)
	if code != ExitFailed || out != "" || !strings.Contains(stderr, "kyc-test.kyc") || !strings.Contains(stderr, "Not found: Dataset") {
		t.Errorf("stats of a missing dataset: exit %d\n%s%s", code, out, stderr)
	}
	wh, err := bigquery.Open(context.Background(), bigquery.Config{Project: "kyc-test", Dataset: "kyc"}, bigquery.WithClientOptions(fake.ClientOptions()...))
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	wh.Close()

	fake.FailJobs(func(j *bq.Job) *bq.ErrorProto {
		return &bq.ErrorProto{Reason: "accessDenied", Message: "Access Denied: User does not have bigquery.jobs.create permission"}
	})
	for _, args := range [][]string{{"stats"}, {"report", "--out", filepath.Join(t.TempDir(), "r.html")}, {"status", "--dir", t.TempDir()}} {
		code, out, stderr = kycetlIn(t, e, append(args, "--warehouse", bqWarehouse)...)
		if code != ExitFailed || !strings.Contains(stderr, "querying BigQuery dataset kyc-test.kyc: ") || !strings.Contains(stderr, "Access Denied") {
			t.Errorf("%v with failing query jobs: exit %d\n%s%s", args, code, out, stderr)
		}
	}
	fake.FailJobs(nil)

	// An answer that is no JSON object of rows.
	proxy := httputil.NewSingleHostReverseProxy(mustURL(t, fake.URL()))
	proxy.ModifyResponse = func(r *http.Response) error {
		if strings.Contains(r.Request.URL.Path, "/queries/") {
			r.Body.Close()
			body := `{"kind": "bigquery#getQueryResultsResponse", "jobComplete": true, "totalRows": "1", "schema": {"fields": [{"name": "x", "type": "INTEGER"}]}, "rows": [{"f": [{"v": "twelve"}]}]}`
			r.Body = io.NopCloser(strings.NewReader(body))
			r.ContentLength = int64(len(body))
			r.Header.Del("Content-Length")
		}
		return nil
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	e = bqEnv([]option.ClientOption{option.WithEndpoint(srv.URL + "/bigquery/v2/"), option.WithoutAuthentication(), option.WithHTTPClient(srv.Client())})
	code, out, stderr = kycetlIn(t, e, "stats", "--warehouse", bqWarehouse, "--format", "json")
	if code != ExitFailed || out != "" || !strings.Contains(stderr, "kyc-test.kyc") || !strings.Contains(stderr, "twelve") {
		t.Errorf("stats with a malformed answer: exit %d\n%s%s", code, out, stderr)
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
