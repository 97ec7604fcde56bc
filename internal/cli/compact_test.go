package cli

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract/argos/sandbox"
	"github.com/kycetl/kycetl/extract/argos/synth"
)

// TestCompactKeepsEveryView: kycetl compact makes the months wholly older
// than --keep read from one file per table and month; every view answers
// the same, verify passes, a second compact has nothing to do, and after a
// rebuild (every day replaced) the views still answer the same and the
// months can be compacted again.
func TestCompactKeepsEveryView(t *testing.T) {
	const key = "compact-test-api-key"
	now := time.Date(2025, 4, 20, 2, 0, 0, 0, time.UTC)
	gen := synth.New(9, synth.WithVolume(10, 20), synth.WithAsOf(now))
	vars := argosServer(t, gen, key, "a-pii-key-for-compact-tests")
	dir := filepath.Join(t.TempDir(), "wh")
	if code, _, stderr := kycetlWith(t, now, vars, "run", "--dir", dir, "--project", "acme", "--from", "2025-02-25", "--to", "2025-04-05"); code != ExitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	// Fractal snapshots: two in March (compacted), one in April.
	fat := now
	_, fvars := fractalServer(t, &fat)
	fvars["KYCETL_PII_KEY"] = vars["KYCETL_PII_KEY"]
	for _, at := range []time.Time{time.Date(2025, 3, 10, 1, 0, 0, 0, time.UTC), time.Date(2025, 3, 11, 1, 0, 0, 0, time.UTC), now} {
		fat = at
		if code, _, stderr := kycetlWith(t, at, fvars, "fractal", "--dir", dir, "--project", "acme"); code != ExitOK {
			t.Fatalf("fractal at %s: exit %d\n%s", at, code, stderr)
		}
	}
	before := views(t, dir)
	compact := func(args ...string) (int, string, string) {
		t.Helper()
		return kycetlWith(t, now, vars, append([]string{"compact", "--dir", dir}, args...)...)
	}
	// Cutoff 2025-04-10: February (from the 25th) and March, not April.
	code, out, stderr := compact("--keep", "10d")
	if code != ExitOK {
		t.Fatalf("compact: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(out, "submissions of project acme, 2025-02: 4 day files") || !strings.Contains(out, "submissions of project acme, 2025-03: 31 day files") ||
		!strings.Contains(out, "fractal_user_verifications of project acme, 2025-03: 2 day files") || strings.Contains(out, "2025-04:") {
		t.Errorf("compact did not compact February and March only:\n%s", out)
	}
	if after := views(t, dir); after != before {
		t.Errorf("the views answer differently after compact:\nbefore\n%s\nafter\n%s", before, after)
	}
	if code, out, stderr := kycetlWith(t, now, vars, "verify", "--dir", dir); code != ExitOK {
		t.Errorf("verify after compact: exit %d\n%s%s", code, out, stderr)
	}
	if code, out, _ := compact("--keep", "10d"); code != ExitOK || !strings.HasPrefix(out, "0 table-months compacted") {
		t.Errorf("a second compact: exit %d\n%s", code, out)
	}
	// A rebuild replaces every day: the month files are stale, the views
	// read the new day files, and the months compact again.
	if code, _, stderr := kycetlWith(t, now, vars, "rebuild", "--dir", dir); code != ExitOK {
		t.Fatalf("rebuild: exit %d\n%s", code, stderr)
	}
	if after := views(t, dir); after != before {
		t.Errorf("the views answer differently after a rebuild of compacted months:\nbefore\n%s\nafter\n%s", before, after)
	}
	if code, out, stderr := compact("--keep", "10d"); code != ExitOK || !strings.Contains(out, "2025-03: 31 day files") {
		t.Errorf("compact after the rebuild: exit %d\n%s%s", code, out, stderr)
	}
	if after := views(t, dir); after != before {
		t.Errorf("the views answer differently after compacting again:\nbefore\n%s\nafter\n%s", before, after)
	}

	if code, _, stderr := compact("--keep", "soon"); code != ExitUsage || !strings.Contains(stderr, "--keep") {
		t.Errorf("compact --keep soon: exit %d, want 2 naming --keep\n%s", code, stderr)
	}
	if code, _, stderr := kycetlWith(t, now, vars, "compact", "--dir", filepath.Join(t.TempDir(), "none")); code != ExitUsage || !strings.Contains(stderr, "no archive directory") {
		t.Errorf("compact of a missing directory: exit %d, want 2\n%s", code, stderr)
	}
	if code, _, stderr := kycetlWith(t, now, vars, "compact", "--dir", t.TempDir()); code != ExitUsage || !strings.Contains(stderr, "no DuckDB warehouse") {
		t.Errorf("compact of a directory without a warehouse: exit %d, want 2\n%s", code, stderr)
	}
}

// argosServer serves gen's days on a loopback ARGOS-compatible API that
// takes key, until the test ends; it returns the environment a run needs
// (the API's URL and key, and piiKey).
func argosServer(t *testing.T, gen *synth.Generator, key, piiKey string) map[string]string {
	t.Helper()
	srv := sandbox.New(gen, sandbox.WithAPIKey(key))
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return map[string]string{"ARGOS_API_URL": url, "ARGOS_API_KEY": key, "KYCETL_PII_KEY": piiKey}
}
