package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/argos/sandbox"
	"github.com/kycetl/kycetl/extract/argos/synth"
	"github.com/kycetl/kycetl/internal/kyctest"
)

var sandboxNow = time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)

// startSandbox runs `kycetl sandbox args...` until the test ends and
// returns the URL it printed and its output.
func startSandbox(t *testing.T, args ...string) (url string, out *kyctest.SyncBuffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = &kyctest.SyncBuffer{}
	e := &env{stdout: out, stderr: io.Discard, log: zerolog.Nop(), now: func() time.Time { return sandboxNow }, getenv: func(string) string { return "" }}
	cmd := e.sandboxCmd()
	cmd.SetArgs(append([]string{"--addr", "127.0.0.1:0"}, args...))
	cmd.SetOut(out)
	cmd.SetErr(io.Discard)
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	var stopErr error
	var once sync.Once
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(30 * time.Second):
				stopErr = errors.New("the sandbox did not stop within 30s of its context")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { stop() })
	re := regexp.MustCompile(`export ARGOS_API_URL=(\S+)`)
	for deadline := time.Now().Add(30 * time.Second); ; {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1], out, stop
		}
		select {
		case err := <-done:
			t.Fatalf("the sandbox ended before printing its URL: %v\n%s", err, out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no URL printed within 30s:\n%s", out)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSandboxRunAndVerify loads a window from the sandbox under faults,
// checks the statistics against an independent count, and checks that
// `kycetl verify` passes on the archive and fails once a file is damaged.
func TestSandboxRunAndVerify(t *testing.T) {
	url, out, stop := startSandbox(t, "--seed", "5", "--fault-rate", "0.3", "--retry-after", "0s", "--api-key", "sandbox-key")
	for _, want := range []string{"export ARGOS_API_KEY=sandbox-key", "faults: 30% of answers fail", "kycetl run --from 2026-11-16 --to 2026-11-22"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("sandbox output lacks %q:\n%s", want, out)
		}
	}
	dir := t.TempDir()
	vars := map[string]string{"ARGOS_API_URL": url, "ARGOS_API_KEY": "sandbox-key", "KYCETL_PII_KEY": "sandbox-test-pii-key"}
	kycetlAt := func(args ...string) (int, string, string) {
		var o, eo bytes.Buffer
		e := &env{stdout: &o, stderr: &eo, now: func() time.Time { return sandboxNow }, getenv: func(k string) string { return vars[k] }}
		return run(context.Background(), e, args), o.String(), eo.String()
	}
	if code, _, stderr := kycetlAt("run", "--from", "2026-11-16", "--to", "2026-11-18", "--dir", dir, "--project", "acme"); code != ExitOK {
		t.Fatalf("run against the sandbox: exit %d\n%s", code, stderr)
	}
	code, js, stderr := kycetlAt("stats", "--dir", dir, "--project", "acme", "--format", "json")
	if code != ExitOK {
		t.Fatalf("stats: exit %d\n%s", code, stderr)
	}
	var got struct {
		Days []struct {
			Day                                            string
			Total, Approved, Rejected, Incomplete, Pending int64
			AMLCount                                       int64 `json:"aml_count"`
		} `json:"days"`
	}
	if err := json.Unmarshal([]byte(js), &got); err != nil {
		t.Fatalf("stats json: %v\n%s", err, js)
	}
	want, err := kyctest.Expected(synth.New(5, synth.WithAsOf(sandboxNow)), time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Days) != len(want) {
		t.Fatalf("stats has %d days, want %d", len(got.Days), len(want))
	}
	for _, d := range got.Days {
		g := kyctest.Counts{Total: d.Total, Approved: d.Approved, Rejected: d.Rejected, Incomplete: d.Incomplete, Pending: d.Pending, AML: d.AMLCount}
		if g != want[d.Day] {
			t.Errorf("%s under faults: %+v, independent count %+v", d.Day, g, want[d.Day])
		}
	}

	// The run met faults, and the sandbox counted them.
	req, _ := http.NewRequest(http.MethodGet, url+sandbox.FaultsPath, nil)
	req.Header.Set("x-api-key", "sandbox-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var view struct{ Injected sandbox.FaultCounts }
	err = json.NewDecoder(resp.Body).Decode(&view)
	resp.Body.Close()
	if err != nil || view.Injected.Total() == 0 {
		t.Errorf("the sandbox injected no fault (%+v, %v)", view.Injected, err)
	}

	if code, report, _ := kycetlAt("verify", "--dir", dir); code != ExitOK {
		t.Fatalf("verify of a good archive: exit %d\n%s", code, report)
	}
	parquet, _ := filepath.Glob(filepath.Join(dir, "parquet", "submissions", "project=acme", "created_date=2026-11-17", "*.parquet"))
	raw, _ := filepath.Glob(filepath.Join(dir, "raw", "argos", "project=acme", "created_date=2026-11-18", "*.ndjson.zst"))
	if len(parquet) != 1 || len(raw) != 1 {
		t.Fatalf("archive files: %v %v", parquet, raw)
	}
	b, err := os.ReadFile(parquet[0])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(parquet[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(raw[0]); err != nil {
		t.Fatal(err)
	}
	code, report, stderr := kycetlAt("verify", "--dir", dir)
	if code != ExitFailed {
		t.Errorf("verify of a damaged archive: exit %d, want %d", code, ExitFailed)
	}
	for _, want := range []string{"corrupt: parquet/submissions/project=acme/created_date=2026-11-17/", "missing: raw/argos/project=acme/created_date=2026-11-18/"} {
		if !strings.Contains(report, want) {
			t.Errorf("verify report lacks %q:\n%s\n%s", want, report, stderr)
		}
	}
	if err := stop(); err != nil {
		t.Errorf("sandbox: %v", err)
	}
}

func TestSandboxSecureTransferAndSwitch(t *testing.T) {
	url, out, stop := startSandbox(t, "--secure", "--secret-key", "sandbox-secret", "--latency", "1ms")
	if !strings.Contains(out.String(), "export ARGOS_SECRET_KEY=sandbox-secret") {
		t.Errorf("no ARGOS_SECRET_KEY to export:\n%s", out)
	}
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	c, err := argos.NewClient(url, sandbox.DefaultAPIKey, argos.WithSecureTransfer("sandbox-secret"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Page(context.Background(), argos.Query{StartDate: day, EndDate: day})
	if err != nil || len(p.Items) == 0 {
		t.Fatalf("secure page: %d items, %v", len(p.Items), err)
	}

	// Faults switched at run time.
	req, _ := http.NewRequest(http.MethodPost, url+sandbox.FaultsPath+"?rate=1", nil)
	req.Header.Set("x-api-key", sandbox.DefaultAPIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c, _ = argos.NewClient(url, sandbox.DefaultAPIKey, argos.WithSecureTransfer("sandbox-secret"), argos.WithRetry(2, time.Millisecond, time.Millisecond))
	if _, err := c.Page(context.Background(), argos.Query{StartDate: day, EndDate: day}); err == nil {
		t.Error("a page was served at a fault rate of 1")
	}
	if err := stop(); err != nil {
		t.Errorf("sandbox: %v", err)
	}
}

func TestSandboxUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--fault-rate", "1.5"},
		{"--latency", "-1s"},
		{"--secret-key", "s"},
		{"--api-key", ""},
		{"--addr", ""},
	} {
		e := &env{stdout: io.Discard, stderr: io.Discard, log: zerolog.Nop(), now: time.Now, getenv: func(string) string { return "" }}
		cmd := e.sandboxCmd()
		cmd.SetArgs(args)
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		var u usageError
		if err := cmd.ExecuteContext(context.Background()); !errors.As(err, &u) {
			t.Errorf("sandbox %s: %v, want a usage error", strings.Join(args, " "), err)
		}
	}
}

// TestSandboxPrintedCommandsWork runs the commands the sandbox prints,
// exactly as printed (its export lines as the only environment, its
// kycetl run line word for word, in a fresh directory), plain and with
// secure data transfer.
func TestSandboxPrintedCommandsWork(t *testing.T) {
	for _, args := range [][]string{nil, {"--secure", "--secret-key", "printed-secret"}} {
		_, out, stop := startSandbox(t, args...)
		vars := map[string]string{}
		var runLine []string
		for _, line := range strings.Split(out.String(), "\n") {
			if kv, ok := strings.CutPrefix(line, "export "); ok {
				k, v, _ := strings.Cut(kv, "=")
				vars[k] = v
			}
			if strings.HasPrefix(line, "kycetl run ") {
				runLine = strings.Fields(line)[1:]
			}
		}
		if runLine == nil {
			t.Fatalf("sandbox %v printed no kycetl run line:\n%s", args, out)
		}
		t.Chdir(t.TempDir())
		code, stdout, stderr := kycetl(t, vars, runLine...)
		if code != ExitOK || !strings.Contains(stdout, "warehouse: ") {
			t.Errorf("sandbox %v: the printed %q with the printed exports %v: exit %d\n%s", args, strings.Join(runLine, " "), keys(vars), code, stderr)
		}
		if err := stop(); err != nil {
			t.Errorf("sandbox: %v", err)
		}
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
