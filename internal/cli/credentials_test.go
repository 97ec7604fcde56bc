package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kycetl/kycetl/extract/argos/sandbox"
	"github.com/kycetl/kycetl/extract/argos/synth"
)

// TestWrongKeysAreAConfigurationError: a wrong API key, a wrong secret key
// or a missing one on a project with secure transfer on stops kycetl run
// at the first call with exit 2, names the variable, and writes nothing:
// no warehouse file where there was none, no manifest, no partition, and
// no ledger row in a warehouse that exists (issue 13 item 9).
func TestWrongKeysAreAConfigurationError(t *testing.T) {
	const apiKey, secret = "the-right-api-key", "the-right-secret"
	plain := sandbox.New(synth.New(4, synth.WithVolume(5, 10)), sandbox.WithAPIKey(apiKey))
	secure := sandbox.New(synth.New(4, synth.WithVolume(5, 10)), sandbox.WithAPIKey(apiKey), sandbox.WithSecureTransfer(secret))
	plainURL, secureURL := start(t, plain), start(t, secure)
	args := func(dir string) []string {
		return []string{"run", "--from", "2025-03-01", "--to", "2025-03-20", "--dir", dir, "--concurrency", "2"}
	}
	for _, tc := range []struct {
		name   string
		srv    *sandbox.Server
		vars   map[string]string
		naming string
	}{
		{"wrong API key", plain, map[string]string{"ARGOS_API_URL": plainURL, "ARGOS_API_KEY": "a-wrong-key"}, "ARGOS_API_KEY"},
		{"wrong secret key", secure, map[string]string{"ARGOS_API_URL": secureURL, "ARGOS_API_KEY": apiKey, "ARGOS_SECRET_KEY": "a-wrong-secret"}, "ARGOS_SECRET_KEY"},
		{"missing secret key", secure, map[string]string{"ARGOS_API_URL": secureURL, "ARGOS_API_KEY": apiKey}, "ARGOS_SECRET_KEY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.vars["KYCETL_PII_KEY"] = "a-pii-key-for-tests"
			// A fresh directory: nothing is created.
			dir := filepath.Join(t.TempDir(), "wh")
			before := tc.srv.Calls()
			code, stdout, stderr := kycetl(t, tc.vars, args(dir)...)
			if code != ExitUsage || !strings.Contains(stderr, tc.naming) {
				t.Errorf("exit %d, stderr %q; want exit 2 naming %s", code, stderr, tc.naming)
			}
			if n := tc.srv.Calls() - before; n != 1 {
				t.Errorf("%d API calls, want the 1 that found the keys wrong", n)
			}
			if strings.Count(stderr, "403")+strings.Count(stderr, "400") > 1 || stdout != "" {
				t.Errorf("more than one error, or statistics printed:\nstdout %q\nstderr %q", stdout, stderr)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("%s was created (%v)", dir, err)
			}

			// An existing warehouse gains no ledger row, manifest or file.
			dir = t.TempDir()
			good := map[string]string{"ARGOS_API_URL": tc.vars["ARGOS_API_URL"], "ARGOS_API_KEY": apiKey, "KYCETL_PII_KEY": tc.vars["KYCETL_PII_KEY"]}
			if tc.srv == secure {
				good["ARGOS_SECRET_KEY"] = secret
			}
			if code, _, stderr := kycetl(t, good, "run", "--from", "2025-03-01", "--to", "2025-03-02", "--dir", dir); code != ExitOK {
				t.Fatalf("a run with the right keys: exit %d\n%s", code, stderr)
			}
			files := archiveFiles(t, dir)
			rows := queryInt(t, dir, "SELECT count(*) FROM load_runs")
			if code, _, stderr := kycetl(t, tc.vars, args(dir)...); code != ExitUsage {
				t.Errorf("over an existing warehouse: exit %d, want 2\n%s", code, stderr)
			}
			if got := queryInt(t, dir, "SELECT count(*) FROM load_runs"); got != rows {
				t.Errorf("load_runs has %d rows after the refused run, %d before", got, rows)
			}
			if got := archiveFiles(t, dir); got != files {
				t.Errorf("files changed by the refused run:\nbefore %s\nafter  %s", files, got)
			}
		})
	}
}

func start(t *testing.T, s *sandbox.Server) string {
	t.Helper()
	url, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return url
}

// archiveFiles lists the archive's files (not the DuckDB file and its
// lock), one per line.
func archiveFiles(t *testing.T, dir string) string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if !strings.HasPrefix(rel, "kyc.duckdb") && !strings.HasPrefix(filepath.Base(rel), ".") {
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, "\n")
}
