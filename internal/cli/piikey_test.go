package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract/argos/sandbox"
	"github.com/kycetl/kycetl/extract/argos/synth"
)

// TestAnotherPIIKeyIsRefused: the archive records a fingerprint of its PII
// key (never the key); import, run, rebuild and schedule refuse another key
// with exit 2, naming KYCETL_PII_KEY and the way on; rebuild --rehash moves
// the archive to the new key, which is then the one runs must use (issue
// 13 item 5).
func TestAnotherPIIKeyIsRefused(t *testing.T) {
	const keyA, keyB = "the-first-pii-key-aaaa", "the-second-pii-key-bbbb"
	dir := t.TempDir()
	export := "../../testdata/pages/drift.ndjson"
	a := map[string]string{"KYCETL_PII_KEY": keyA}
	b := map[string]string{"KYCETL_PII_KEY": keyB}
	if code, _, stderr := kycetl(t, a, "import", "--dir", dir, export); code != ExitOK {
		t.Fatalf("import with the first key: exit %d\n%s", code, stderr)
	}
	manifests, _ := filepath.Glob(filepath.Join(dir, "manifests", "*.json"))
	for _, m := range manifests {
		data, _ := os.ReadFile(m)
		if !strings.Contains(string(data), `"pii_key_fingerprint"`) || strings.Contains(string(data), keyA) {
			t.Errorf("manifest %s: no fingerprint, or the key itself", m)
		}
	}
	refused := func(what string, vars map[string]string, args ...string) {
		t.Helper()
		// A cancelled context: a daemon that is not refused stops at once
		// instead of running on.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var errOut bytes.Buffer
		e := &env{stdout: io.Discard, stderr: &errOut, now: time.Now, getenv: func(k string) string { return vars[k] }}
		code, stderr := run(ctx, e, args), errOut.String()
		if code != ExitUsage || !strings.Contains(stderr, "KYCETL_PII_KEY") || !strings.Contains(stderr, "kycetl rebuild --rehash") {
			t.Errorf("%s with another PII key: exit %d, stderr %q; want exit 2 naming KYCETL_PII_KEY and rebuild --rehash", what, code, stderr)
		}
	}
	refused("import", b, "import", "--dir", dir, export)
	refused("rebuild", b, "rebuild", "--dir", dir)

	srv := sandbox.New(synth.New(2, synth.WithVolume(3, 5)), sandbox.WithAPIKey("k"))
	url := start(t, srv)
	api := map[string]string{"ARGOS_API_URL": url, "ARGOS_API_KEY": "k", "KYCETL_PII_KEY": keyB}
	refused("run", api, "run", "--dir", dir, "--from", "2025-03-01", "--to", "2025-03-02")
	if srv.Calls() != 0 {
		t.Errorf("the refused run made %d API calls", srv.Calls())
	}
	cfg := filepath.Join(t.TempDir(), "kycetl.yaml")
	if err := os.WriteFile(cfg, []byte("dir: "+dir+"\nprojects:\n  - name: p\n    api_url: "+url+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	refused("schedule", api, "schedule", "--config", cfg)

	// The move to the new key is asked for: every partition is re-hashed.
	if code, _, stderr := kycetl(t, b, "rebuild", "--rehash", "--dir", dir); code != ExitOK {
		t.Fatalf("rebuild --rehash: exit %d\n%s", code, stderr)
	}
	for _, args := range [][]string{{"rebuild", "--dir", dir}, {"import", "--dir", dir, export}} {
		if code, _, stderr := kycetl(t, b, args...); code != ExitOK {
			t.Errorf("%s with the new key after the re-hash: exit %d\n%s", args[0], code, stderr)
		}
	}
	refused("import with the old key", a, "import", "--dir", dir, export)
}
