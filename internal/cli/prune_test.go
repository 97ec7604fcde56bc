package cli

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract/argos/synth"
	"github.com/kycetl/kycetl/internal/lock"
	"github.com/kycetl/kycetl/load/duckdb"
	kycsql "github.com/kycetl/kycetl/sql"
)

// kycetlWith runs the command line in-process at the time now, with vars.
func kycetlWith(t *testing.T, now time.Time, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdout: &out, stderr: &errOut, now: func() time.Time { return now }, getenv: func(k string) string { return vars[k] }}
	code = run(context.Background(), e, args)
	return code, out.String(), errOut.String()
}

// views renders every row of every view of sql/, sorted.
func views(t *testing.T, dir string) string {
	t.Helper()
	ctx := context.Background()
	wh, err := duckdb.Open(ctx, filepath.Join(dir, "kyc.duckdb"), duckdb.WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	var b strings.Builder
	for _, v := range kycsql.Views() {
		rows, err := wh.DB().QueryContext(ctx, "SELECT * FROM "+v.Name+" ORDER BY ALL")
		if err != nil {
			t.Fatalf("querying %s: %v", v.Name, err)
		}
		got := scanRows(t, rows, render)
		for _, r := range got {
			b.WriteString(v.Name + "|" + r + "\n")
		}
		if len(got) == 0 && !mayBeEmpty[v.Name] {
			t.Fatalf("view %s is empty: the test compares nothing", v.Name)
		}
	}
	return b.String()
}

// mayBeEmpty are the views a few days of steady synthetic data leave empty:
// no day deviates, and the forecast's 8 weeks of history are not there.
var mayBeEmpty = map[string]bool{"anomalies": true, "credit_forecast": true, "credit_forecast_backtest": true, "credit_forecast_runs": true}

func render(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}

// rawVersions counts the raw files of each day.
func rawVersions(t *testing.T, dir string) map[string]int {
	t.Helper()
	out := map[string]int{}
	matches, err := filepath.Glob(filepath.Join(dir, "raw", "argos", "project=acme", "created_date=*", "*.ndjson.zst"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range matches {
		out[strings.TrimPrefix(filepath.Base(filepath.Dir(m)), "created_date=")]++
	}
	return out
}

// TestPruneKeepsEveryViewAndVerifies is the definition of done:
// after a prune with a limit, every view answers the same, verify passes
// and lists what was pruned, and the archive holds one version per day
// plus those superseded inside the limit.
func TestPruneKeepsEveryViewAndVerifies(t *testing.T) {
	const key = "prune-test-api-key"
	gen := synth.New(7, synth.WithVolume(20, 40), synth.WithAsOf(time.Date(2025, 3, 20, 0, 0, 0, 0, time.UTC)))
	vars := argosServer(t, gen, key, "a-pii-key-for-prune-tests")
	dir := filepath.Join(t.TempDir(), "wh")
	t0 := time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)
	load := func(at int, from, to string) {
		t.Helper()
		if code, _, stderr := kycetlWith(t, t0.AddDate(0, 0, at), vars, "run", "--dir", dir, "--project", "acme", "--from", from, "--to", to); code != ExitOK {
			t.Fatalf("run at day %d: exit %d\n%s", at, code, stderr)
		}
	}
	load(0, "2025-03-01", "2025-03-04")
	load(10, "2025-03-01", "2025-03-04") // supersedes the first run everywhere
	load(40, "2025-03-03", "2025-03-04") // supersedes the second on 03-03 and 03-04
	// Fractal snapshots: two pulls on day 0 (the second supersedes the
	// first, on day 0: pruned) and one on day 40.
	fat := t0
	_, fvars := fractalServer(t, &fat)
	fvars["KYCETL_PII_KEY"] = vars["KYCETL_PII_KEY"]
	for _, at := range []time.Duration{0, time.Hour, 40 * 24 * time.Hour} {
		fat = t0.Add(at)
		if code, _, stderr := kycetlWith(t, fat, fvars, "fractal", "--dir", dir, "--project", "acme"); code != ExitOK {
			t.Fatalf("fractal at %s: exit %d\n%s", fat, code, stderr)
		}
	}
	snapshots := func() int {
		m, _ := filepath.Glob(filepath.Join(dir, "raw", "fractal", "project=acme", "*", "*.ndjson.zst"))
		return len(m)
	}
	if n := snapshots(); n != 3 {
		t.Fatalf("%d Fractal raw files, want 3", n)
	}
	before := views(t, dir)
	if got := rawVersions(t, dir); got["2025-03-01"] != 2 || got["2025-03-03"] != 3 {
		t.Fatalf("raw versions before the prune: %v", got)
	}
	at := t0.AddDate(0, 0, 45)

	code, out, stderr := kycetlWith(t, at, vars, "prune", "--dir", dir, "--older-than", "30d", "--dry-run")
	if code != ExitOK || !strings.Contains(out, "dry run: would delete") {
		t.Fatalf("prune --dry-run: exit %d\n%s%s", code, out, stderr)
	}
	if got := rawVersions(t, dir); got["2025-03-01"] != 2 {
		t.Fatalf("the dry run deleted files: %v", got)
	}

	code, out, stderr = kycetlWith(t, at, vars, "prune", "--dir", dir, "--older-than", "30d")
	if code != ExitOK || !strings.Contains(out, "deleted ") {
		t.Fatalf("prune: exit %d\n%s%s", code, out, stderr)
	}
	// The first run's versions (superseded on day 10) are gone; the
	// second's of 03-03 and 03-04, superseded on day 40, are inside the
	// limit.
	want := map[string]int{"2025-03-01": 1, "2025-03-02": 1, "2025-03-03": 2, "2025-03-04": 2}
	if got := rawVersions(t, dir); !maps.Equal(got, want) {
		t.Errorf("raw versions after a 30-day prune: %v, want %v", got, want)
	}
	if after := views(t, dir); after != before {
		t.Errorf("the views changed with the prune:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if n := snapshots(); n != 2 {
		t.Errorf("%d Fractal raw files after the prune, want 2: the superseded pull of day 0 goes", n)
	}
	code, out, stderr = kycetlWith(t, at, vars, "verify", "--dir", dir, "--list-pruned")
	if code != ExitOK || !strings.Contains(out, "pruned by prune ") || !strings.Contains(out, ": OK") || strings.Contains(out, "missing") {
		t.Errorf("verify after the prune: exit %d\n%s%s", code, out, stderr)
	}
	if !strings.Contains(out, "sha256 ") || !strings.Contains(out, "manifests/") {
		t.Errorf("verify --list-pruned does not list the pruned files and manifest:\n%s", out)
	}

	// 0 days: one version per day.
	if code, out, stderr := kycetlWith(t, at, vars, "prune", "--dir", dir, "--older-than", "0d"); code != ExitOK {
		t.Fatalf("prune --older-than 0d: exit %d\n%s%s", code, out, stderr)
	}
	want = map[string]int{"2025-03-01": 1, "2025-03-02": 1, "2025-03-03": 1, "2025-03-04": 1}
	if got := rawVersions(t, dir); !maps.Equal(got, want) {
		t.Errorf("raw versions after a 0-day prune: %v, want %v", got, want)
	}
	if after := views(t, dir); after != before {
		t.Errorf("the views changed with the second prune")
	}
	if code, out, stderr := kycetlWith(t, at, vars, "verify", "--dir", dir); code != ExitOK {
		t.Errorf("verify after the second prune: exit %d\n%s%s", code, out, stderr)
	}
	if code, out, _ := kycetlWith(t, at, vars, "status", "--dir", dir); !strings.Contains(out, "archive: ") || !strings.Contains(out, "last prune: ") {
		t.Errorf("status (exit %d) shows no archive size or prune:\n%s", code, out)
	}

	// Without a limit nothing goes; while the directory is locked, prune
	// refuses.
	if code, out, _ := kycetlWith(t, at, vars, "prune", "--dir", dir); code != ExitOK || !strings.Contains(out, "every version is kept") {
		t.Errorf("prune without a limit: exit %d\n%s", code, out)
	}
	lk, err := lock.Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Close()
	if code, _, stderr := kycetlWith(t, at, vars, "prune", "--dir", dir, "--older-than", "0d"); code != ExitFailed || !strings.Contains(stderr, "in use by") {
		t.Errorf("prune of a locked directory: exit %d\n%s", code, stderr)
	}
	if code, _, _ := kycetlWith(t, at, vars, "prune", "--dir", dir, "--older-than", "-3d"); code != ExitUsage {
		t.Errorf("prune --older-than -3d: exit %d, want %d", code, ExitUsage)
	}
	if code, _, _ := kycetlWith(t, at, vars, "prune", "--dir", filepath.Join(dir, "nope"), "--older-than", "1d"); code != ExitUsage {
		t.Errorf("prune of a missing directory: exit %d, want %d", code, ExitUsage)
	}
	if _, err := os.Stat(filepath.Join(dir, "nope")); err == nil {
		t.Error("prune created a missing directory")
	}
}

// prune --config takes the directory and the retention from the file;
// flags override them.
func TestPruneReadsConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wh")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "kycetl.yaml")
	for _, tc := range []struct{ yaml, flag, want string }{
		{"retention:\n  superseded_days: 7\n", "", "superseded before 2026-01-24"},
		{"retention:\n  superseded_days: 7\n", "0d", "superseded before 2026-01-31"},
		{"", "", "every version is kept"},
	} {
		if err := os.WriteFile(cfg, []byte("dir: "+dir+"\n"+tc.yaml+"projects:\n  - name: acme\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{"prune", "--config", cfg, "--dry-run"}
		if tc.flag != "" {
			args = append(args, "--older-than", tc.flag)
		}
		code, out, stderr := kycetlWith(t, time.Date(2026, 1, 31, 2, 0, 0, 0, time.UTC), nil, args...)
		if code != ExitOK || !strings.Contains(out, tc.want) || !strings.Contains(out, "archive "+dir) {
			t.Errorf("%q %s: exit %d, want output with %q and the file's dir\n%s%s", tc.yaml, tc.flag, code, tc.want, out, stderr)
		}
	}
}
