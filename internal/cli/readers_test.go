package cli

import (
	"bytes"
	"context"
	gosql "database/sql"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/rs/zerolog"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/argos/sandbox"
	"github.com/kycetl/kycetl/extract/argos/synth"
	"github.com/kycetl/kycetl/internal/config"
	"github.com/kycetl/kycetl/internal/kyctest"
	"github.com/kycetl/kycetl/schedules"
)

// readerEnv makes the test binary a BI tool (kyctest.ServeHolder): it opens
// the DuckDB file named by the variable read-only with the plain driver,
// as Metabase or a notebook does, prints "days N" (the days it sees), and
// holds the connection until told to let go; it then reads again and
// exits 3 when its snapshot no longer reads the same.
const readerEnv = "KYCETL_CLI_TEST_READER"

func TestMain(m *testing.M) {
	kyctest.ServeHolder(readerEnv, holdReader)
	os.Exit(m.Run())
}

const daysQuery = "SELECT count(DISTINCT created_date) FROM submissions"

func holdReader(path string) (string, func(), error) {
	db, err := gosql.Open("duckdb", path+"?access_mode=read_only")
	if err != nil {
		return "", nil, err
	}
	db.SetMaxOpenConns(1) // one connection, held throughout
	var n int
	if err := db.QueryRow(daysQuery).Scan(&n); err != nil {
		return "", nil, err
	}
	return fmt.Sprintf("days %d", n), func() {
		var again int
		if err := db.QueryRow(daysQuery).Scan(&again); err != nil || again != n {
			fmt.Fprintf(os.Stderr, "reading the snapshot again: %d days, %v\n", again, err)
			os.Exit(3)
		}
		db.Close()
	}, nil
}

// daysIn counts the days of submissions that a reader opening kyc.duckdb
// now sees.
func daysIn(t *testing.T, dir string) int {
	t.Helper()
	db, err := gosql.Open("duckdb", filepath.Join(dir, "kyc.duckdb")+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(daysQuery).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestReadersNeverBlockLoads holds kyc.duckdb open read-only in another
// process, as a BI tool does, across an import, a `kycetl run`, a rebuild
// and a scheduled run of the daemon: each succeeds, the reader keeps
// reading its snapshot throughout, and a reader opening the file afterwards
// sees every new day.
func TestReadersNeverBlockLoads(t *testing.T) {
	// Recent days, so that the daemon's catch-up from the ledger is short.
	now := time.Now().UTC().Truncate(24 * time.Hour)
	from, to := now.AddDate(0, 0, -12), now.AddDate(0, 0, -10)
	dir, _ := importedWarehouse(t, t.TempDir(), from, to, "acme")
	line, _, release := kyctest.StartHolder(t, readerEnv, filepath.Join(dir, "kyc.duckdb"))
	if line != "days 3" {
		t.Fatalf("reader: %q, want days 3", line)
	}
	pii := "stats-test-key-0123456789" // importedWarehouse's
	days := 3

	// import
	var b bytes.Buffer
	if _, err := synth.New(9, synth.WithVolume(5, 10), synth.WithAsOf(now)).WriteNDJSON(&b, to.AddDate(0, 0, 1), to.AddDate(0, 0, 2)); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "more.ndjson")
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"KYCETL_PII_KEY": pii}
	if code, _, stderr := kycetl(t, vars, "import", "--project", "acme", "--dir", dir, file); code != ExitOK {
		t.Fatalf("import while a reader holds the file: exit %d\n%s", code, stderr)
	}
	if days += 2; daysIn(t, dir) != days {
		t.Errorf("after import: a new reader sees %d days, want %d", daysIn(t, dir), days)
	}

	// run
	const key = "readers-test-api-key"
	srv := httptest.NewServer(sandbox.New(synth.New(3, synth.WithVolume(5, 10), synth.WithAsOf(now)), sandbox.WithAPIKey(key)))
	defer srv.Close()
	vars = map[string]string{"KYCETL_PII_KEY": pii, "ARGOS_API_URL": srv.URL, "ARGOS_API_KEY": key}
	runFrom, runTo := argos.FormatDate(now.AddDate(0, 0, -6)), argos.FormatDate(now.AddDate(0, 0, -5))
	if code, _, stderr := kycetl(t, vars, "run", "--project", "acme", "--dir", dir, "--from", runFrom, "--to", runTo); code != ExitOK {
		t.Fatalf("run while a reader holds the file: exit %d\n%s", code, stderr)
	}
	if days += 2; daysIn(t, dir) != days {
		t.Errorf("after run: a new reader sees %d days, want %d", daysIn(t, dir), days)
	}

	// rebuild
	if code, _, stderr := kycetl(t, map[string]string{"KYCETL_PII_KEY": pii}, "rebuild", "--dir", dir); code != ExitOK {
		t.Fatalf("rebuild while a reader holds the file: exit %d\n%s", code, stderr)
	}
	if got := daysIn(t, dir); got != days {
		t.Errorf("after rebuild: a new reader sees %d days, want %d", got, days)
	}

	// the daemon, one scheduled run of yesterday and today
	getenv := func(k string) string { return map[string]string{"TEST_ARGOS_KEY": key, "TEST_PII_KEY": pii}[k] }
	daemonConfig := "pii:\n  key_env: TEST_PII_KEY\n"
	if logs, err := runDaemonOnce(t, dir, srv.URL, "api_key_env: TEST_ARGOS_KEY", daemonConfig, getenv, zerolog.InfoLevel); err != nil {
		t.Fatalf("the daemon's run while a reader holds the file: %v\n%s", err, logs)
	}
	// It catches up from the ledger's last day: more days, however many.
	if got := daysIn(t, dir); got <= days {
		t.Errorf("after the daemon's run: a new reader sees %d days, want more than %d", got, days)
	} else {
		days = got
	}

	// The reader read its snapshot throughout.
	if err := release(); err != nil {
		t.Errorf("the reader: %v", err)
	}
	if code, out, stderr := kycetl(t, nil, "stats", "--dir", dir, "--format", "csv"); code != ExitOK || bytes.Count([]byte(out), []byte("\n")) != days+1 {
		t.Errorf("stats afterwards: exit %d, want %d days\n%s%s", code, days, out, stderr)
	}
}

// runDaemonOnce runs `kycetl schedule` on dir with one project, acme, at
// url (its key settings in project, more top-level settings in extra) and
// an hourly job every second, until its first run ends; it returns that
// log, at level, and that run's error (or the daemon's).
func runDaemonOnce(t *testing.T, dir, url, project, extra string, getenv func(string) string, level zerolog.Level) (string, error) {
	t.Helper()
	path := writeFile(t, filepath.Join(t.TempDir(), "kycetl.yaml"), "dir: "+dir+"\n"+extra+`projects:
  - name: acme
    api_url: `+url+`
    `+project+`
    jobs:
      - name: tick
        kind: hourly
        schedule: "@every 1s"
        lookback_days: 1
`)
	logs, ev, err := firstScheduledRun(t, path, getenv, level)
	if err != nil && ev.Err == nil {
		return logs, err
	}
	return logs, ev.Err
}

// firstScheduledRun runs kycetl schedule with the configuration at path
// until its first run finishes, then stops it: the daemon's log, that run's
// event, and the daemon's own error.
func firstScheduledRun(t *testing.T, path string, getenv func(string) string, level zerolog.Level) (string, schedules.Event, error) {
	t.Helper()
	cfg, err := config.Load(path, getenv)
	if err != nil {
		t.Fatal(err)
	}
	var logs kyctest.SyncBuffer
	e := &env{stdout: &logs, stderr: &logs, now: time.Now, getenv: getenv, log: zerolog.New(&logs).Level(level)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	finished, done := make(chan schedules.Event, 100), make(chan error, 1)
	go func() {
		done <- e.schedule(ctx, cfg, schedules.WithEvents(func(ev schedules.Event) {
			if ev.Kind == schedules.Finished {
				finished <- ev
			}
		}))
	}()
	ev := waitFor(t, finished, "the daemon's first run")
	cancel()
	err = waitFor(t, done, "the daemon to stop")
	return logs.String(), ev, err
}
