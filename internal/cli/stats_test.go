package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract/argos/synth"
	"github.com/kycetl/kycetl/internal/kyctest"
	"github.com/kycetl/kycetl/sql"
)

// helperEnv is the environment variable that makes the test binary run as
// kycetl (TestHelperKycetl), with the arguments after "--".
const helperEnv = "KYCETL_TEST_HELPER"

// TestHelperKycetl is no test: the tests that need kycetl in a process of
// its own run the test binary with helperArgs set, and it runs here.
func TestHelperKycetl(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("runs only as kycetl for other tests")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(Main(args))
}

// kycetlProcess is a command that runs kycetl with args in a process of its
// own, from the test binary at exe.
func kycetlProcess(exe string, args ...string) *exec.Cmd {
	cmd := exec.Command(exe, append([]string{"-test.run=^TestHelperKycetl$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	return cmd
}

// importedWarehouse imports synthetic submissions of the given projects
// over [from, to] into a new warehouse directory under parent, and returns
// it with the items of each project.
func importedWarehouse(t *testing.T, parent string, from, to time.Time, projects ...string) (string, map[string][]map[string]any) {
	t.Helper()
	dir := filepath.Join(parent, "wh")
	vars := map[string]string{"KYCETL_PII_KEY": "stats-test-key-0123456789"}
	items := map[string][]map[string]any{}
	for i, p := range projects {
		file := filepath.Join(t.TempDir(), p+".ndjson")
		var b bytes.Buffer
		if _, err := synth.New(int64(i+1), synth.WithVolume(5, 15), synth.WithAsOf(to.AddDate(0, 0, 30))).WriteNDJSON(&b, from, to); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, _, stderr := kycetl(t, vars, "import", "--project", p, "--dir", dir, file); code != ExitOK {
			t.Fatalf("import %s: exit %d\n%s", p, code, stderr)
		}
		for _, line := range bytes.Split(bytes.TrimSpace(b.Bytes()), []byte("\n")) {
			var item map[string]any
			if err := json.Unmarshal(line, &item); err != nil {
				t.Fatal(err)
			}
			items[p] = append(items[p], item)
		}
	}
	return dir, items
}

// tree describes every file and directory under dir (kyctest.Tree).
func tree(t *testing.T, dir string) string {
	t.Helper()
	s, err := kyctest.Tree(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStatsIsReadOnly runs six `kycetl stats` processes at once on a
// directory made read-only. As root, where permission bits stop no write,
// the processes run as nobody, who may not write there; either way every
// file and directory keeps its bytes and times and no WAL, lock or
// temporary file appears, and all six print the same numbers as one
// in-process call.
func TestStatsIsReadOnly(t *testing.T) {
	// A directory nobody can reach: 0755 all the way down.
	base, err := os.MkdirTemp("", "kycetl-stats-ro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(path, 0o755)
			}
			return nil
		})
		os.RemoveAll(base)
	})
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	from, to := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)
	dir, _ := importedWarehouse(t, base, from, to, "acme")
	args := []string{"stats", "--dir", dir, "--format", "csv"}
	code, want, stderr := kycetl(t, nil, args...)
	if code != ExitOK || strings.Count(want, "\n") != 5 {
		t.Fatalf("stats in process: exit %d\n%s%s", code, want, stderr)
	}

	// The test binary, where nobody may run it.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(base, "kycetl.test")
	if err := copyFile(self, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	// Read-only, for everyone: files 0444, directories 0555.
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		return os.Chmod(path, 0o444)
	})
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chmod(dirs[i], 0o555); err != nil {
			t.Fatal(err)
		}
	}
	before := tree(t, dir)

	const readers = 6
	var wg sync.WaitGroup
	outs, errs := make([]string, readers), make([]error, readers)
	for i := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := kycetlProcess(exe, args...)
			if os.Geteuid() == 0 {
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			}
			var out, errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			if err := cmd.Run(); err != nil {
				errs[i] = fmt.Errorf("%w\n%s", err, errOut.String())
			}
			outs[i] = out.String()
		}()
	}
	wg.Wait()
	for i := range readers {
		if errs[i] != nil {
			t.Errorf("stats process %d: %v", i, errs[i])
		} else if outs[i] != want {
			t.Errorf("stats process %d printed\n%s\nwant\n%s", i, outs[i], want)
		}
	}
	if after := tree(t, dir); after != before {
		t.Errorf("stats changed the directory:\nbefore\n%s\nafter\n%s", before, after)
	}
}

func copyFile(from, to string, mode os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// TestStatsReadsAnOlderWarehouse: stats reads a warehouse that the schema-1
// code wrote, without upgrading it (it may not write), through this
// kycetl's views.
func TestStatsReadsAnOlderWarehouse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wh")
	if err := os.CopyFS(dir, os.DirFS("../../testdata/warehouse-v1")); err != nil {
		t.Fatal(err)
	}
	before := tree(t, dir)
	code, out, stderr := kycetl(t, nil, "stats", "--dir", dir, "--format", "json")
	if code != ExitOK {
		t.Fatalf("stats: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(out, `"total": 313,`) {
		t.Errorf("stats of the v1 warehouse (313 submissions):\n%s", out)
	}
	if after := tree(t, dir); after != before {
		t.Errorf("stats changed the directory:\nbefore\n%s\nafter\n%s", before, after)
	}
}

// kycetlAt runs the command line in-process with the clock at now.
func kycetlAt(t *testing.T, now time.Time, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdout: &out, stderr: &errOut, now: func() time.Time { return now }, getenv: func(string) string { return "" }}
	code = run(context.Background(), e, args)
	return code, out.String(), errOut.String()
}

// statsPage is `kycetl stats --format json`, its objects kept as maps so
// that their keys can be checked.
type statsPage struct {
	Status string             `json:"status"`
	Cards  map[string]float64 `json:"cards"`
	Days   []map[string]any   `json:"days"`
}

func statsJSON(t *testing.T, args ...string) statsPage {
	t.Helper()
	code, out, stderr := kycetl(t, nil, append([]string{"stats", "--format", "json"}, args...)...)
	if code != ExitOK {
		t.Fatalf("stats %v: exit %d\n%s", args, code, stderr)
	}
	var p statsPage
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("stats %v: %v\n%s", args, err, out)
	}
	return p
}

func sumDays(days []map[string]any, key string) float64 {
	var n float64
	for _, d := range days {
		v, _ := d[key].(float64)
		n += v
	}
	return n
}

// TestStatsStatusFilter: --status makes the cards and credits follow the
// status, as the daily table does, counted independently from the raw
// items; JSON names the cards and days as the views name their columns;
// CSV gives the exact fractions JSON gives.
func TestStatsStatusFilter(t *testing.T) {
	from, to := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)
	dir, items := importedWarehouse(t, t.TempDir(), from, to, "acme", "beta")
	// Independently: approved submissions and those of them screened for
	// AML; by the default rate card each costs 1 credit and 1 per AML
	// screening (every day is after 2025-02-01 and before today).
	var approved, approvedAML float64
	for _, p := range []string{"acme", "beta"} {
		for _, it := range items[p] {
			kyc, _ := it["kyc"].(map[string]any)
			if res, _ := kyc["result"].(string); strings.ToLower(res) == "approved" {
				approved++
				if _, ok := it["aml"].(map[string]any); ok {
					approvedAML++
				}
			}
		}
	}
	if approved == 0 || approvedAML == 0 {
		t.Fatalf("the synthetic items hold %v approved, %v of them screened: no test", approved, approvedAML)
	}

	all := statsJSON(t, "--dir", dir)
	only := statsJSON(t, "--dir", dir, "--status", "approved")
	for key, want := range map[string]float64{"total": approved, "approved": approved, "rejected": 0, "incomplete": 0, "pending": 0,
		"aml_count": approvedAML, "credits": approved + approvedAML} {
		if got := only.Cards[key]; got != want {
			t.Errorf("--status approved: cards.%s = %v, want %v", key, got, want)
		}
		if got := sumDays(only.Days, key); got != want {
			t.Errorf("--status approved: the days' %s add up to %v, want %v (the cards')", key, got, want)
		}
	}
	if all.Cards["approved"] != approved || all.Cards["credits"] <= only.Cards["credits"] {
		t.Errorf("without --status: cards %v", all.Cards)
	}
	// Ratios stay those of all submissions: a status's share, the approval rate.
	for _, key := range []string{"approved_ratio", "approval_rate"} {
		if only.Cards[key] != all.Cards[key] || all.Cards[key] <= 0 || all.Cards[key] >= 1 {
			t.Errorf("cards.%s: %v with --status approved, %v without", key, only.Cards[key], all.Cards[key])
		}
	}
	if only.Status != "approved" || all.Status != "" {
		t.Errorf("status %q and %q, want approved and none", only.Status, all.Status)
	}

	// One naming: the cards are stats_totals' columns, the days stats_daily's.
	columns := map[string][]string{}
	for _, v := range sql.Views() {
		columns[v.Name] = v.Columns
	}
	cardKeys := slices.Sorted(maps.Keys(all.Cards))
	wantCards := slices.DeleteFunc(slices.Clone(columns["stats_totals"]), func(c string) bool { return c == "project" })
	slices.Sort(wantCards)
	if !slices.Equal(cardKeys, wantCards) {
		t.Errorf("JSON cards have keys %v, want stats_totals' columns %v", cardKeys, wantCards)
	}
	dayKeys := slices.Sorted(maps.Keys(all.Days[0]))
	wantDays := slices.Sorted(slices.Values(columns["stats_daily"]))
	if !slices.Equal(dayKeys, wantDays) {
		t.Errorf("JSON days have keys %v, want stats_daily's columns %v", dayKeys, wantDays)
	}

	// CSV: the exact fraction JSON gives, never a rounded percentage.
	code, out, stderr := kycetl(t, nil, "stats", "--dir", dir, "--format", "csv")
	if code != ExitOK {
		t.Fatalf("stats csv: exit %d\n%s", code, stderr)
	}
	records, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(records) != len(all.Days)+1 {
		t.Fatalf("stats csv: %d records, %v\n%s", len(records), err, out)
	}
	col := slices.Index(records[0], "approval_rate")
	for i, rec := range records[1:] {
		got, err := strconv.ParseFloat(rec[col], 64)
		if want := all.Days[i]["approval_rate"].(float64); err != nil || got != want {
			t.Errorf("csv day %s: approval_rate %q, want the exact fraction %v", rec[1], rec[col], want)
		}
	}
}

// TestStatsUnknownProject: a project the warehouse does not hold is a usage
// error that names the projects it holds.
func TestStatsUnknownProject(t *testing.T) {
	from := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	dir, _ := importedWarehouse(t, t.TempDir(), from, from, "acme", "beta")
	code, out, stderr := kycetl(t, nil, "stats", "--dir", dir, "--project", "nosuch")
	if code != ExitUsage || !strings.Contains(stderr, `"nosuch"`) || !strings.Contains(stderr, "acme, beta") || out != "" {
		t.Errorf("stats --project nosuch: exit %d, stdout %q, stderr %q; want exit 2 naming acme, beta", code, out, stderr)
	}
	if code, _, stderr := kycetl(t, nil, "stats", "--dir", dir, "--project", "beta"); code != ExitOK {
		t.Errorf("stats --project beta: exit %d\n%s", code, stderr)
	}
}

// TestStatsPeriod: --period is a window ending today by the injected
// clock, and excludes --from and --to.
func TestStatsPeriod(t *testing.T) {
	from, to := time.Date(2025, 2, 26, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)
	dir, _ := importedWarehouse(t, t.TempDir(), from, to, "acme")
	now := time.Date(2025, 3, 3, 23, 59, 0, 0, time.UTC)
	for period, want := range map[string]string{
		"7d":    "2025-02-26 2025-02-27 2025-02-28 2025-03-01 2025-03-02 2025-03-03", // from 2025-02-25
		"30d":   "2025-02-26 2025-02-27 2025-02-28 2025-03-01 2025-03-02 2025-03-03",
		"month": "2025-03-01 2025-03-02 2025-03-03",
	} {
		code, out, stderr := kycetlAt(t, now, "stats", "--dir", dir, "--period", period, "--format", "csv")
		if code != ExitOK {
			t.Fatalf("stats --period %s: exit %d\n%s", period, code, stderr)
		}
		var days []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
			days = append(days, strings.Split(line, ",")[1])
		}
		if got := strings.Join(days, " "); got != want {
			t.Errorf("stats --period %s on %s: days %s, want %s", period, now.Format(time.DateOnly), got, want)
		}
	}
	for _, args := range [][]string{{"--period", "7d", "--from", "2025-03-01"}, {"--period", "7d", "--to", "2025-03-01"}, {"--period", "2w"}, {"--period", ""}} {
		code, _, stderr := kycetlAt(t, now, append([]string{"stats", "--dir", dir}, args...)...)
		if args[1] == "" {
			if code != ExitOK {
				t.Errorf("stats --period '': exit %d (no period), %s", code, stderr)
			}
			continue
		}
		if code != ExitUsage || !strings.Contains(stderr, "--period") {
			t.Errorf("stats %v: exit %d, stderr %q; want exit 2 about --period", args, code, stderr)
		}
	}
}
