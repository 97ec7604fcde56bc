package cli

import (
	"context"
	gosql "database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/kycetl/kycetl/extract/fractal/sandbox"
	"github.com/kycetl/kycetl/load/duckdb"
)

// fractalServer starts a Fractal-compatible API the tests have not seen
// (its own seed, users and client) whose clock is *at.
func fractalServer(t *testing.T, at *time.Time, opts ...sandbox.Option) (*sandbox.Server, map[string]string) {
	t.Helper()
	s := sandbox.New(append([]sandbox.Option{sandbox.WithSeed(77), sandbox.WithUsers(240),
		sandbox.WithClient("client-77", "s3cret-77-never-logged"), sandbox.WithClock(func() time.Time { return *at })}, opts...)...)
	url, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, map[string]string{"FRACTAL_CLIENT_ID": "client-77", "FRACTAL_CLIENT_SECRET": "s3cret-77-never-logged",
		"FRACTAL_AUTH_URL": url, "FRACTAL_RESOURCE_URL": url, "KYCETL_PII_KEY": "a-pii-key-for-tests"}
}

// rows runs query on the warehouse in dir and returns each row's columns
// joined by "|".
func rows(t *testing.T, dir, query string, args ...any) []string {
	t.Helper()
	ctx := context.Background()
	wh, err := duckdb.Open(ctx, filepath.Join(dir, "kyc.duckdb"), duckdb.WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	r, err := wh.DB().QueryContext(ctx, query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return scanRows(t, r, func(v any) string {
		if tm, ok := v.(time.Time); ok {
			return tm.UTC().Format(time.DateOnly)
		}
		return fmt.Sprint(v)
	})
}

// scanRows reads every row of r, each one's columns rendered and joined by
// "|", and closes r.
func scanRows(t *testing.T, r *gosql.Rows, render func(any) string) []string {
	t.Helper()
	defer r.Close()
	cols, _ := r.Columns()
	var out []string
	for r.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := r.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = render(v)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFractalSnapshots: two pulls on different days give both snapshots
// with numbers equal to the API's answers; a same-day re-pull replaces the
// day's snapshot; fractal_credential_changes lists exactly the users whose
// credential changed; verify and rebuild cover the snapshots.
func TestFractalSnapshots(t *testing.T) {
	day1 := time.Date(2026, 3, 10, 0, 30, 0, 0, time.UTC)
	day2 := day1.AddDate(0, 0, 6) // far enough apart for many users to change
	at := day1
	s, vars := fractalServer(t, &at)
	dir := t.TempDir()

	pull := func(now time.Time) string {
		t.Helper()
		at = now
		code, out, stderr := cli(t, now, vars, "fractal", "--dir", dir, "--project", "fr")
		if code != ExitOK {
			t.Fatalf("fractal at %s: exit %d\n%s", now, code, stderr)
		}
		if strings.Contains(stderr+out, vars["FRACTAL_CLIENT_SECRET"]) {
			t.Errorf("the client secret appears in the output")
		}
		return out
	}
	pull(day1)
	pull(day1.Add(2 * time.Hour)) // a second pull the same day replaces the first
	out := pull(day2)
	if !strings.Contains(out, "2026-03-16") || !strings.Contains(out, "fractal_credential_changes") {
		t.Errorf("the pull prints no snapshot line:\n%s", out)
	}

	for _, now := range []time.Time{day1, day2} {
		day := now.Format(time.DateOnly)
		users := s.Users(now)
		totals := map[string]int{}
		byCountry := map[string]int{}
		var want []string
		for _, u := range users {
			totals[u.Credential]++
			byCountry[u.Country+"|"+u.Credential]++
			want = append(want, u.UserID+"|"+u.Level+"|"+u.Credential)
		}
		slices.Sort(want)
		got := rows(t, dir, "SELECT user_id, level, credential FROM fractal_user_verifications WHERE project = 'fr' AND snapshot_date = CAST(? AS DATE) ORDER BY ALL", day)
		if !slices.Equal(got, want) {
			t.Errorf("%s: %d user rows, want the API's %d (a same-day re-pull must replace, not double)", day, len(got), len(want))
		}
		wantTotals := counted(totals)
		if got := rows(t, dir, "SELECT status, verifications FROM fractal_verification_totals WHERE snapshot_date = CAST(? AS DATE) ORDER BY ALL", day); !slices.Equal(got, wantTotals) {
			t.Errorf("%s: totals %v, want %v", day, got, wantTotals)
		}
		wantCountries := counted(byCountry)
		if got := rows(t, dir, "SELECT country, status, verifications FROM fractal_country_verifications WHERE snapshot_date = CAST(? AS DATE) ORDER BY ALL", day); !slices.Equal(got, wantCountries) {
			t.Errorf("%s: countries %v, want %v", day, got, wantCountries)
		}
		if got := rows(t, dir, "SELECT total FROM fractal_status_daily WHERE day = CAST(? AS DATE)", day); !slices.Equal(got, []string{fmt.Sprint(len(users))}) {
			t.Errorf("%s: fractal_status_daily total %v, want %d", day, got, len(users))
		}
	}

	// Exactly the users whose credential changed between the snapshots.
	before := map[string]string{}
	for _, u := range s.Users(day1) {
		before[u.UserID+"|"+u.Level] = u.Credential
	}
	var changed []string
	for _, u := range s.Users(day2) {
		if from, seen := before[u.UserID+"|"+u.Level]; seen && from != u.Credential { // a user signed up since has no change
			changed = append(changed, fmt.Sprintf("%s|%s|%s|%s|2026-03-16|2026-03-10", u.UserID, u.Level, from, u.Credential))
		}
	}
	slices.Sort(changed)
	got := rows(t, dir, "SELECT user_id, level, from_credential, to_credential, day, previous_day FROM fractal_credential_changes ORDER BY ALL")
	if len(changed) == 0 || !slices.Equal(got, changed) {
		t.Errorf("fractal_credential_changes has %d rows, want the %d users whose credential changed", len(got), len(changed))
	}
	if got := rows(t, dir, "SELECT count(*) FROM fractal_country_latest WHERE day <> DATE '2026-03-16'"); got[0] != "0" {
		t.Errorf("fractal_country_latest holds rows of an older snapshot: %v", got)
	}

	// verify checks the snapshots; rebuild derives the same rows from raw.
	if code, _, stderr := cli(t, day2, vars, "verify", "--dir", dir); code != ExitOK {
		t.Fatalf("verify: exit %d\n%s", code, stderr)
	}
	q := "SELECT snapshot_date, user_id, level, credential FROM fractal_user_verifications ORDER BY ALL"
	want := rows(t, dir, q)
	if code, _, stderr := cli(t, day2, vars, "rebuild", "--dir", dir); code != ExitOK {
		t.Fatalf("rebuild: exit %d\n%s", code, stderr)
	}
	if got := rows(t, dir, q); !slices.Equal(got, want) {
		t.Errorf("rebuild gives %d user rows, %d before", len(got), len(want))
	}

	// With --config, the project of source fractal and its variables.
	if code, _, stderr := cli(t, day2, vars, "fractal", "--dir", dir, "--project", "fr", "--config", writeFile(t, filepath.Join(t.TempDir(), "k.yaml"),
		"dir: "+dir+"\nprojects:\n  - name: fr\n    source: fractal\n")); code != ExitOK {
		t.Errorf("a pull with a config of a fractal project: exit %d\n%s", code, stderr)
	}
}

// counted lists "key|count" of counts, sorted.
func counted(counts map[string]int) []string {
	var out []string
	for k, n := range counts {
		out = append(out, fmt.Sprintf("%s|%d", k, n))
	}
	slices.Sort(out)
	return out
}

// TestFractalWrongSecret: a secret the token endpoint refuses exits 1,
// names the variables and writes nothing.
func TestFractalWrongSecret(t *testing.T) {
	at := time.Date(2026, 3, 10, 1, 0, 0, 0, time.UTC)
	_, vars := fractalServer(t, &at)
	vars["FRACTAL_CLIENT_SECRET"] = "a-wrong-secret"
	dir := filepath.Join(t.TempDir(), "wh")
	code, stdout, stderr := cli(t, at, vars, "fractal", "--dir", dir)
	if code != ExitFailed || !strings.Contains(stderr, "FRACTAL_CLIENT_ID") || !strings.Contains(stderr, "FRACTAL_CLIENT_SECRET") {
		t.Errorf("exit %d, stderr %q; want exit 1 naming the variables", code, stderr)
	}
	if strings.Contains(stdout+stderr, "a-wrong-secret") {
		t.Errorf("the secret appears in the output: %s", stderr)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s was created (%v)", dir, err)
	}
	delete(vars, "FRACTAL_CLIENT_ID")
	if code, _, stderr := cli(t, at, vars, "fractal", "--dir", dir); code != ExitUsage || !strings.Contains(stderr, "FRACTAL_CLIENT_ID") {
		t.Errorf("no client id: exit %d, %q; want exit 2 naming FRACTAL_CLIENT_ID", code, stderr)
	}
}

// TestFractalFaults: a token expiring mid-pull and a 401 are answered with
// a fresh token; a malformed user list fails the day and keeps nothing of
// it; an empty list is a snapshot of no users; a status the documents do
// not list is kept and counted.
func TestFractalFaults(t *testing.T) {
	at := time.Date(2026, 3, 10, 1, 0, 0, 0, time.UTC)
	s, vars := fractalServer(t, &at)
	dir := t.TempDir()
	pull := func() (int, string) {
		code, _, stderr := cli(t, at, vars, "fractal", "--dir", dir, "--project", "fr")
		return code, stderr
	}

	s.SetFaults(sandbox.Faults{Unauthorized: 1})
	if code, stderr := pull(); code != ExitOK {
		t.Errorf("a 401: exit %d\n%s", code, stderr)
	}
	s.SetFaults(sandbox.Faults{})
	s.ExpireTokens() // the cached token is gone on the server: the next request is a 401
	if code, stderr := pull(); code != ExitOK {
		t.Errorf("an expired token: exit %d\n%s", code, stderr)
	}

	files := archiveFiles(t, dir)
	s.SetFaults(sandbox.Faults{Malformed: "/v2/stats/user-verifications"})
	if code, stderr := pull(); code != ExitFailed || !strings.Contains(stderr, "user-verifications") {
		t.Errorf("a malformed user list: exit %d, %q; want 1 naming the endpoint", code, stderr)
	}
	if got, want := rows(t, dir, "SELECT count(*) FROM fractal_user_verifications"), fmt.Sprint(len(s.Users(at))); got[0] != want {
		t.Errorf("after a failed pull the day holds %v users, want the earlier snapshot's %s", got, want)
	}
	if after := archiveFiles(t, dir); strings.Count(after, "raw/fractal") != strings.Count(files, "raw/fractal") {
		t.Errorf("a failed pull left a raw file:\nbefore %s\nafter  %s", files, after)
	}

	s.SetFaults(sandbox.Faults{EmptyUsers: true})
	if code, stderr := pull(); code != ExitOK {
		t.Errorf("an empty user list: exit %d\n%s", code, stderr)
	}
	if got := rows(t, dir, "SELECT count(*) FROM fractal_user_verifications"); got[0] != "0" {
		t.Errorf("an empty list: %v users, want 0", got)
	}

	s.SetFaults(sandbox.Faults{ExtraStatus: "on_hold"})
	if code, stderr := pull(); code != ExitOK {
		t.Errorf("an undocumented status: exit %d\n%s", code, stderr)
	}
	onHold := rows(t, dir, "SELECT verifications FROM fractal_verification_totals WHERE status = 'on_hold'")
	other := rows(t, dir, "SELECT other FROM fractal_status_daily")
	if len(onHold) != 1 || onHold[0] == "0" || !slices.Equal(other, onHold) {
		t.Errorf("on_hold: totals %v, fractal_status_daily.other %v; want the same non-zero count", onHold, other)
	}
}

// TestFractalStatus: a fractal job's days without a snapshot are reported
// missing and unrecoverable; today's, not pulled yet, can still be.
func TestFractalStatus(t *testing.T) {
	day1 := time.Date(2026, 3, 10, 0, 30, 0, 0, time.UTC)
	at := day1
	_, vars := fractalServer(t, &at)
	dir := t.TempDir()
	cfg := writeFile(t, filepath.Join(t.TempDir(), "kycetl.yaml"), "dir: "+dir+"\nprojects:\n  - name: fr\n    source: fractal\n")
	for _, d := range []int{0, 1, 3} { // 2026-03-12 is never pulled
		at = day1.AddDate(0, 0, d)
		if code, _, stderr := cli(t, at, vars, "fractal", "--config", cfg); code != ExitOK {
			t.Fatalf("pull of %s: exit %d\n%s", at, code, stderr)
		}
	}
	code, out, stderr := cli(t, day1.AddDate(0, 0, 3).Add(6*time.Hour), vars, "status", "--config", cfg)
	if code != ExitFailed || !strings.Contains(out, "missing snapshots: 2026-03-12\n") || !strings.Contains(out, "cannot be pulled any more") ||
		strings.Contains(out, "2026-03-09") || !strings.Contains(out, "job fractal (fractal") {
		t.Errorf("status: exit %d\n%s\n%s", code, out, stderr)
	}
	// The next day, before its pull: today's can still be pulled.
	code, out, _ = cli(t, day1.AddDate(0, 0, 4).Add(time.Hour), vars, "status", "--config", cfg)
	if code != ExitFailed || !strings.Contains(out, "missing snapshots: 2026-03-12, 2026-03-14\n") || !strings.Contains(out, "today's can still be pulled") {
		t.Errorf("status before today's pull: exit %d\n%s", code, out)
	}
}

// TestFractalDaemon: the daemon runs a fractal job: one snapshot of today,
// recorded in load_runs under the job's command and the source.
func TestFractalDaemon(t *testing.T) {
	at := time.Now().UTC()
	s, vars := fractalServer(t, &at)
	dir := t.TempDir()
	path := writeFile(t, filepath.Join(t.TempDir(), "kycetl.yaml"), "dir: "+dir+`
projects:
  - name: fr
    source: fractal
    jobs:
      - name: snap
        kind: fractal
        schedule: "@every 1s"
`)
	logs, ev, _ := firstScheduledRun(t, path, func(k string) string { return vars[k] }, zerolog.InfoLevel)
	if ev.Err != nil || !ev.From.Equal(ev.To) || ev.To.Format(time.DateOnly) != at.Format(time.DateOnly) {
		t.Fatalf("the fractal job's run: %s..%s, %v, want today\n%s", ev.From, ev.To, ev.Err, logs)
	}
	want := fmt.Sprint(len(s.Users(at)))
	if got := rows(t, dir, "SELECT count(*) FROM fractal_user_verifications WHERE project = 'fr'"); got[0] != want {
		t.Errorf("%v users in the snapshot, want %s", got, want)
	}
	if got := rows(t, dir, "SELECT command, source, outcome FROM load_runs"); !slices.Equal(got, []string{"schedule:snap|fractal|ok"}) {
		t.Errorf("load_runs %v, want one ok row of schedule:snap from fractal", got)
	}
}

// TestFractalImportRefused: a snapshot source has no export to import: a
// usage error before anything is created.
func TestFractalImportRefused(t *testing.T) {
	file := writeFile(t, filepath.Join(t.TempDir(), "x.ndjson"), "{}\n")
	dir := filepath.Join(t.TempDir(), "wh")
	code, _, stderr := kycetl(t, map[string]string{"KYCETL_PII_KEY": "a-pii-key-for-tests"}, "import", "--source", "fractal", "--dir", dir, file)
	if code != ExitUsage || !strings.Contains(stderr, "no export to import") {
		t.Errorf("import --source fractal: exit %d, %q; want exit 2 saying there is no export", code, stderr)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s was created (%v)", dir, err)
	}
}
