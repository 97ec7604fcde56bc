package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kycetl/kycetl/extract/argos/sandbox"
	"github.com/kycetl/kycetl/extract/argos/synth"
)

// TestErrorsNameTheConfiguredVariables: with a configuration file naming
// its own variables, an error about a key names the variable the file
// names and the field that names it, never the variable a run without
// --config would read.
func TestErrorsNameTheConfiguredVariables(t *testing.T) {
	const apiKey, secret, piiKey = "the-right-api-key", "the-right-secret", "the-first-pii-key-aaaa"
	plain := start(t, sandbox.New(synth.New(4, synth.WithVolume(3, 5)), sandbox.WithAPIKey(apiKey)))
	secure := start(t, sandbox.New(synth.New(4, synth.WithVolume(3, 5)), sandbox.WithAPIKey(apiKey), sandbox.WithSecureTransfer(secret)))
	config := func(t *testing.T, dir, url, project string) string {
		t.Helper()
		path := filepath.Join(t.TempDir(), "kycetl.yaml")
		body := "dir: " + dir + "\npii:\n  key_env: OTHER_PII_KEY\nprojects:\n  - name: p\n    api_url: " + url + "\n    api_key_env: P_KEY\n" + project
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	runArgs := func(cfg string) []string {
		return []string{"run", "--config", cfg, "--from", "2025-03-01", "--to", "2025-03-02"}
	}
	for _, tc := range []struct {
		name, url, project string
		vars               map[string]string
		naming             []string // in stderr
		notNaming          string   // the variable of a run without --config
	}{
		{"wrong API key", plain, "", map[string]string{"P_KEY": "a-wrong-key"},
			[]string{"the API key is read from $P_KEY, named by api_key_env of project p in "}, "ARGOS_API_KEY"},
		{"wrong secret key", secure, "    secret_key_env: P_SECRET\n", map[string]string{"P_KEY": apiKey, "P_SECRET": "a-wrong-secret"},
			[]string{"the secret key is read from $P_SECRET, named by secret_key_env of project p in "}, "ARGOS_SECRET_KEY"},
		{"no secret key", secure, "", map[string]string{"P_KEY": apiKey},
			[]string{"the secret key is read from secret_key_env of project p in ", ", which is not set"}, "ARGOS_SECRET_KEY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.vars["OTHER_PII_KEY"] = piiKey
			cfg := config(t, filepath.Join(t.TempDir(), "wh"), tc.url, tc.project)
			code, _, stderr := kycetl(t, tc.vars, runArgs(cfg)...)
			if code != ExitUsage || strings.Contains(stderr, tc.notNaming) {
				t.Errorf("exit %d, stderr %q; want exit 2, not naming %s", code, stderr, tc.notNaming)
			}
			for _, want := range tc.naming {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q does not say %q", stderr, want)
				}
			}
		})
	}

	t.Run("another PII key", func(t *testing.T) {
		dir := t.TempDir()
		if code, _, stderr := kycetl(t, map[string]string{"KYCETL_PII_KEY": piiKey}, "import", "--dir", dir, "../../testdata/pages/drift.ndjson"); code != ExitOK {
			t.Fatalf("import: exit %d\n%s", code, stderr)
		}
		cfg := config(t, dir, plain, "")
		code, _, stderr := kycetl(t, map[string]string{"P_KEY": apiKey, "OTHER_PII_KEY": "the-second-pii-key-bbbb"}, runArgs(cfg)...)
		if code != ExitUsage || strings.Contains(stderr, "KYCETL_PII_KEY") || !strings.Contains(stderr, "the PII key is read from $OTHER_PII_KEY, named by pii.key_env in "+cfg) {
			t.Errorf("exit %d, stderr %q; want exit 2 naming $OTHER_PII_KEY and pii.key_env, not KYCETL_PII_KEY", code, stderr)
		}
	})
}
