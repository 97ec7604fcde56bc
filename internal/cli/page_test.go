package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kycetl/kycetl/internal/kyctest"
)

// serveProcess runs kycetl serve in-process until the test ends, and
// returns the page's URL that it prints.
func serveProcess(t *testing.T, vars map[string]string, args ...string) string {
	t.Helper()
	return serveIn(t, &env{now: time.Now, getenv: func(k string) string { return vars[k] }}, args...)
}

// serveIn is serveProcess in the environment e (its stdout and stderr
// replaced).
func serveIn(t *testing.T, e *env, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut kyctest.SyncBuffer
	e.stdout, e.stderr = &out, &errOut
	done := make(chan int, 1)
	go func() { done <- run(ctx, e, append([]string{"serve"}, args...)) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != ExitOK {
			t.Errorf("serve: exit %d\n%s", code, errOut.String())
		}
	})
	address := regexp.MustCompile(`http://\S+/`)
	for {
		if u := address.FindString(out.String()); u != "" {
			return u
		}
		select {
		case code := <-done:
			t.Fatalf("serve ended: exit %d\n%s", code, errOut.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func fetchPage(t *testing.T, u string, header http.Header) (int, string) {
	t.Helper()
	resp, body := kyctest.Get(t, nil, u, header)
	return resp.StatusCode, body
}

// TestServeAndReport: kycetl serve answers with the numbers kycetl stats
// prints, asks for the token on another address and refuses such an
// address without one; kycetl report writes the page as one file.
func TestServeAndReport(t *testing.T) {
	from, to := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)
	dir, _ := importedWarehouse(t, t.TempDir(), from, to, "acme", "beta")
	code, out, stderr := kycetl(t, nil, "stats", "--dir", dir, "--from", "2025-03-01", "--to", "2025-03-04", "--status", "approved", "--format", "json")
	if code != ExitOK {
		t.Fatalf("stats: exit %d\n%s", code, stderr)
	}
	var want, got struct {
		Cards map[string]any `json:"cards"`
	}
	json.Unmarshal([]byte(out), &want)

	u := serveProcess(t, nil, "--dir", dir, "--addr", "127.0.0.1:0")
	status, body := fetchPage(t, u+"api/overview?from=2025-03-01&to=2025-03-04&status=approved", nil)
	if err := json.Unmarshal([]byte(body), &got); status != http.StatusOK || err != nil {
		t.Fatalf("api: %d %v\n%s", status, err, body)
	}
	if g, w := mustJSON(got.Cards), mustJSON(want.Cards); g != w || len(want.Cards) == 0 {
		t.Errorf("serve's cards %s, stats' %s", g, w)
	}
	if status, body := fetchPage(t, u+"?project=gamma&from=2025-03-01", nil); status != http.StatusNotFound || !strings.Contains(body, "acme, beta") {
		t.Errorf("an unknown project: %d %q", status, body)
	}

	// Another address: refused without a token, and asks for it.
	// (With its context already done, a serve that did start stops at
	// once, with exit 0.)
	var errOut strings.Builder
	stopped, stop := context.WithCancel(context.Background())
	stop()
	e := &env{stdout: io.Discard, stderr: &errOut, now: time.Now, getenv: func(string) string { return "" }}
	if code := run(stopped, e, []string{"serve", "--dir", dir, "--addr", "0.0.0.0:0"}); code != ExitUsage || !strings.Contains(errOut.String(), "KYCETL_SERVE_TOKEN") {
		t.Errorf("serve on 0.0.0.0 without a token: exit %d, %q", code, errOut.String())
	}
	const token = "cli-serve-token-41"
	open := serveProcess(t, map[string]string{"KYCETL_SERVE_TOKEN": token}, "--dir", dir, "--addr", "0.0.0.0:0")
	open = strings.Replace(open, "0.0.0.0", "127.0.0.1", 1)
	if status, _ := fetchPage(t, open+"api/overview", nil); status != http.StatusUnauthorized {
		t.Errorf("without the token: %d", status)
	}
	if status, _ := fetchPage(t, open+"api/overview?from=2025-03-01", http.Header{"Authorization": {"Bearer " + token}}); status != http.StatusOK {
		t.Errorf("with the token: %d", status)
	}

	// The report.
	file := filepath.Join(t.TempDir(), "sub", "march.html")
	code, out, stderr = kycetl(t, nil, "report", "--dir", dir, "--out", file, "--from", "2025-03-01", "--to", "2025-03-04", "--tz", "Asia/Seoul")
	if code != ExitOK || !strings.Contains(out, "march.html") {
		t.Fatalf("report: exit %d\n%s%s", code, out, stderr)
	}
	b, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(b), `data-indicator="total"`) || !strings.Contains(string(b), `"from":"2025-03-01"`) ||
		!strings.Contains(string(b), `"tz":"Asia/Seoul"`) || !strings.Contains(string(b), `data-section="peak-times"`) {
		t.Errorf("the report file: %v, %d bytes", err, len(b))
	}
	for _, args := range [][]string{
		{"report", "--dir", dir},
		{"report", "--dir", dir, "--out", file, "--period", "2w"},
		{"report", "--dir", dir, "--out", file, "--project", "gamma"},
		{"serve", "--dir", dir, "--addr", "nowhere"},
		{"report", "--dir", dir, "--out", file, "--tz", "Mars/Olympus"},
		{"serve", "--dir", dir, "--tz", "Local"},
	} {
		if code, _, stderr := kycetl(t, nil, args...); code != ExitUsage {
			t.Errorf("%v: exit %d, %q; want 2", args, code, stderr)
		}
	}
	if code, _, _ := kycetl(t, nil, "report", "--dir", t.TempDir(), "--out", file); code != ExitFailed {
		t.Errorf("report of a directory with no warehouse: exit %d, want 1", code)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
