package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/argos/sandbox"
	"github.com/kycetl/kycetl/extract/argos/synth"
	"github.com/kycetl/kycetl/internal/kyctest"
	"github.com/kycetl/kycetl/sql"
	"github.com/kycetl/kycetl/sql/stats"
)

// kycetl runs the command line in-process with the given environment.
func kycetl(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdout: &out, stderr: &errOut, now: time.Now, getenv: func(k string) string { return vars[k] }}
	code = run(context.Background(), e, args)
	return code, out.String(), errOut.String()
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	empty, emptyGz := filepath.Join(t.TempDir(), "empty.ndjson"), filepath.Join(t.TempDir(), "export.ndjson.gz")
	for _, f := range []string{empty, emptyGz} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pii := map[string]string{"KYCETL_PII_KEY": "usage-errors-pii-key"}
	for _, tc := range []struct {
		args []string
		vars map[string]string
		want string
	}{
		{[]string{"run", "--from", "2025-02-01"}, nil, "--from and --to are required"},
		{[]string{"run", "--from", "2025-02-30", "--to", "2025-03-01"}, nil, "--from"},
		{[]string{"run", "--from", "2025-03-02", "--to", "2025-03-01"}, nil, "before --from"},
		{[]string{"run", "--from", argos.FormatDate(time.Now()), "--to", argos.FormatDate(time.Now().AddDate(0, 0, 2)), "--dir", dir}, map[string]string{"ARGOS_API_KEY": "k"}, "after today"},
		{[]string{"run", "--from", "2025-03-01", "--to", "2025-03-01", "--dir", dir}, nil, "ARGOS_API_KEY is not set"},
		{[]string{"run", "--from", "2025-03-01", "--to", "2025-03-01", "--project", "a/b"}, map[string]string{"ARGOS_API_KEY": "k"}, "--project"},
		{[]string{"run", "--form", "2025-03-01"}, nil, "unknown flag"},
		{[]string{"stats", "--format", "xml", "--dir", dir}, nil, "--format"},
		{[]string{"stats", "--status", "lost", "--dir", dir}, nil, "--status"},
		{[]string{"stats", "--sort", "size", "--dir", dir}, nil, "--sort"},
		{[]string{"demo", "--days", "0"}, nil, "--days"},
		{[]string{"import", "--project", "p"}, nil, "at least one FILE"},
		{[]string{"import", "--project", "a/b", "x.ndjson"}, nil, "--project"},
		{[]string{"import", "--source", "nosuch", "--dir", dir, "x.ndjson"}, nil, `--source: unknown source "nosuch": the sources are argos`},
		{[]string{"import", "--project", "p", "--dir", dir, "x.ndjson"}, nil, "x.ndjson"},
		{[]string{"import", "--project", "p", "--dir", dir, dir}, nil, "is a directory"},
		{[]string{"import", "--project", "p", "--dir", dir, "../../testdata/pages/drift.ndjson"}, nil, "KYCETL_PII_KEY"},
		{[]string{"import", "--project", "p", "--dir", dir, empty}, pii, "empty.ndjson"},
		{[]string{"import", "--project", "p", "--dir", dir, emptyGz}, pii, "export.ndjson.gz"},
		{[]string{"frobnicate"}, nil, "unknown command"},
		{[]string{"--log-level", "loud", "stats"}, nil, "--log-level"},
	} {
		code, _, stderr := kycetl(t, tc.vars, tc.args...)
		if code != ExitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("kycetl %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
}

func TestHelp(t *testing.T) {
	for c, flag := range map[string]string{"demo": "--dir", "run": "--config", "stats": "--format", "import": "--project",
		"rebuild": "--warehouse", "verify": "--dir", "schedule": "--dry-run", "status": "--config"} {
		code, out, _ := kycetl(t, nil, c, "--help")
		if code != ExitOK || !strings.Contains(out, flag) {
			t.Errorf("kycetl %s --help: exit %d, output %q", c, code, out)
		}
	}
}

// TestRunAgainstUnseenServer points `kycetl run` at an ARGOS-compatible
// server by URL, as a user would, and checks every day of `kycetl stats`
// against an independent count over the same items. The API key must not
// appear in any output or file.
func TestRunAgainstUnseenServer(t *testing.T) {
	const key = "s3cret-api-key-7731"
	from, to := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 6, 0, 0, 0, 0, time.UTC)
	gen := synth.New(99, synth.WithVolume(30, 90), synth.WithAsOf(to.AddDate(0, 0, 10)))
	srv := sandbox.New(gen, sandbox.WithAPIKey(key))
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	vars := map[string]string{"ARGOS_API_URL": url, "ARGOS_API_KEY": key, "KYCETL_PII_KEY": "a-pii-key-for-tests"}

	code, out1, err1 := kycetl(t, vars, "run", "--from", "2025-03-01", "--to", "2025-03-06", "--dir", dir, "--project", "acme")
	if code != ExitOK {
		t.Fatalf("run: exit %d\n%s", code, err1)
	}
	code, out2, err2 := kycetl(t, vars, "stats", "--dir", dir, "--format", "json", "--project", "acme")
	if code != ExitOK {
		t.Fatalf("stats: exit %d\n%s", code, err2)
	}
	var got struct {
		Days []struct {
			Day                                                      string
			Total, Approved, Rejected, Incomplete, Pending, AMLCount int64 `json:",omitempty"`
		} `json:"days"`
	}
	if err := json.Unmarshal([]byte(out2), &got); err != nil {
		t.Fatalf("stats json: %v\n%s", err, out2)
	}
	want, err := kyctest.Expected(gen, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Days) != len(want) {
		t.Fatalf("stats has %d days, want %d", len(got.Days), len(want))
	}
	var raw []map[string]any
	var wrapper struct {
		Days *[]map[string]any `json:"days"`
	}
	wrapper.Days = &raw
	json.Unmarshal([]byte(out2), &wrapper)
	for _, d := range raw {
		w := want[d["day"].(string)]
		g := kyctest.Counts{Total: int64(d["total"].(float64)), Approved: int64(d["approved"].(float64)), Rejected: int64(d["rejected"].(float64)),
			Incomplete: int64(d["incomplete"].(float64)), Pending: int64(d["pending"].(float64)), AML: int64(d["aml_count"].(float64))}
		if g != w {
			t.Errorf("%s: stats %+v, independent %+v", d["day"], g, w)
		}
	}

	// The key is in no output and no file.
	for name, s := range map[string]string{"run stdout": out1, "run stderr": err1, "stats stdout": out2, "stats stderr": err2} {
		if strings.Contains(s, key) {
			t.Errorf("the API key appears in %s", name)
		}
	}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		if bytes.Contains(b, []byte(key)) {
			t.Errorf("the API key appears in %s", path)
		}
		return nil
	})
	if code, _, _ := kycetl(t, vars, "verify", "--dir", dir); code != ExitOK {
		t.Errorf("verify after run: exit %d", code)
	}

	// Every view answers on it; the peak-time view's hours add up to the
	// independent count of each day.
	w, _ := warehouseToday(t, dir)
	for _, v := range sql.Views() {
		var n int64
		if err := w.DB().QueryRow("SELECT COUNT(*) FROM " + v.Name).Scan(&n); err != nil {
			t.Errorf("view %s on the unseen server's warehouse: %v", v.Name, err)
		}
	}
	hours, err := stats.Hourly(context.Background(), stats.DuckDB.On(w.DB()), stats.Range{Project: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	byDay := map[string]int64{}
	for _, h := range hours {
		byDay[h.Day] += h.Total
	}
	for d, c := range want {
		if byDay[d] != c.Total {
			t.Errorf("%s: stats_hourly adds up to %d submissions, independent %d", d, byDay[d], c.Total)
		}
	}
}

func TestWrongKeyFailsFast(t *testing.T) {
	srv := sandbox.New(synth.New(1), sandbox.WithAPIKey("right"))
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	vars := map[string]string{"ARGOS_API_URL": url, "ARGOS_API_KEY": "wrong", "KYCETL_PII_KEY": "a-pii-key-for-tests"}
	code, _, stderr := kycetl(t, vars, "run", "--from", "2025-03-01", "--to", "2025-03-01", "--dir", t.TempDir())
	if code != ExitUsage || !strings.Contains(stderr, "Forbidden") {
		t.Errorf("exit %d, stderr %q; want exit 2 (a configuration error) and the API's Forbidden", code, stderr)
	}
}

func TestDemo(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := kycetl(t, nil, "demo", "--days", "3", "--dir", dir)
	if code != ExitOK {
		t.Fatalf("demo: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"Total ", "Approval rate", "approval_rate", "kyc.duckdb", "kycetl serve --dir " + dir, "kycetl report --dir " + dir + " --out "} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr, "demo 20") || !strings.Contains(stderr, "3 days") {
		t.Errorf("no one-line run summary on stderr:\n%s", stderr)
	}
}

// TestCallBudget stops a run at a day boundary when the daily call budget
// would be exceeded, says where to continue, and counts the calls earlier
// runs made today (from load_runs) against the next run.
func TestCallBudget(t *testing.T) {
	srv := sandbox.New(synth.New(3, synth.WithVolume(5, 10)), sandbox.WithAPIKey("k"))
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	vars := map[string]string{"ARGOS_API_URL": url, "ARGOS_API_KEY": "k", "KYCETL_PII_KEY": "a-pii-key-for-tests"}
	args := []string{"run", "--from", "2025-03-01", "--to", "2025-03-20", "--dir", dir, "--concurrency", "1", "--daily-calls", "12"}
	code, _, stderr := kycetl(t, vars, args...)
	if code != ExitFailed || !strings.Contains(stderr, "continue with --from 2025-03-") {
		t.Fatalf("exit %d, stderr %q; want exit 1 and where to continue", code, stderr)
	}
	callsBefore := srv.Calls()
	// Today's budget is spent: the same run again makes no call at all.
	code, _, stderr = kycetl(t, vars, args...)
	if code != ExitFailed || !strings.Contains(stderr, "call budget of 12") {
		t.Fatalf("second run: exit %d, stderr %q", code, stderr)
	}
	if srv.Calls() != callsBefore {
		t.Errorf("the second run made %d calls with no budget left", srv.Calls()-callsBefore)
	}
	// Nothing was done: no continuation from the day it started from.
	if strings.Contains(stderr, "--from 2025-03-01") || !strings.Contains(stderr, "nothing was loaded") || strings.Count(stderr, "\n") > 1 {
		t.Errorf("second run: stderr %q; want one line saying nothing was loaded, and no --from", stderr)
	}
}

// TestBudgetBelowADay: --daily-calls 3 over 28 years cannot fetch one API
// day: the run stops at once with exit 2 naming --daily-calls, makes no
// call, logs no day and creates nothing (issue 13 item 8).
func TestBudgetBelowADay(t *testing.T) {
	srv := sandbox.New(synth.New(3), sandbox.WithAPIKey("k"))
	url := start(t, srv)
	dir := filepath.Join(t.TempDir(), "wh")
	vars := map[string]string{"ARGOS_API_URL": url, "ARGOS_API_KEY": "k", "KYCETL_PII_KEY": "a-pii-key-for-tests"}
	code, stdout, stderr := kycetl(t, vars, "run", "--from", "1999-01-01", "--to", "2026-10-31", "--dir", dir, "--daily-calls", "3")
	if code != ExitUsage || !strings.Contains(stderr, "--daily-calls") || !strings.Contains(stderr, "at least 10") {
		t.Errorf("exit %d, stderr %q; want exit 2 naming --daily-calls and the least budget", code, stderr)
	}
	if srv.Calls() != 0 || stdout != "" || strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "--from") {
		t.Errorf("%d calls, stdout %q, stderr %q; want no call and one line without a --from", srv.Calls(), stdout, stderr)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s was created", dir)
	}
}

// TestNothingThere: commands that read an archive say so when --dir holds
// none, instead of creating an empty one or reporting OK; a directory that
// does not exist is a usage error naming it, the same for every command.
func TestNothingThere(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nothing")
	vars := map[string]string{"KYCETL_PII_KEY": "nothing-there-pii-key"}
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"stats", "--dir", dir}, ExitFailed},
		{[]string{"verify", "--dir", dir}, ExitUsage},
		{[]string{"rebuild", "--dir", dir}, ExitUsage},
		{[]string{"status", "--dir", dir}, ExitUsage},
	} {
		code, _, stderr := kycetl(t, vars, c.args...)
		if code != c.code || !strings.Contains(stderr, dir) {
			t.Errorf("kycetl %s: exit %d, want %d; stderr %q", strings.Join(c.args, " "), code, c.code, stderr)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s was created", dir)
	}
}
