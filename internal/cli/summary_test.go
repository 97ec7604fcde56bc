package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/kycetl/kycetl/extract/argos/sandbox"
	"github.com/kycetl/kycetl/extract/argos/synth"
	"github.com/kycetl/kycetl/transform/schema"
)

// TestRunSummaryJSON: run --format json prints the run's summary as JSON on
// stdout and nothing else, --summary-json writes the same to a file; its
// days carry every load_runs column, and its totals are the ledger's
// (issue 13 item 15).
func TestRunSummaryJSON(t *testing.T) {
	srv := sandbox.New(synth.New(6, synth.WithVolume(5, 10)), sandbox.WithAPIKey("k"))
	url := start(t, srv)
	dir := t.TempDir()
	file := filepath.Join(t.TempDir(), "summary.json")
	vars := map[string]string{"ARGOS_API_URL": url, "ARGOS_API_KEY": "k", "KYCETL_PII_KEY": "a-pii-key-for-tests"}
	code, stdout, stderr := kycetl(t, vars, "run", "--from", "2025-03-01", "--to", "2025-03-04", "--dir", dir, "--format", "json", "--summary-json", file)
	if code != ExitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	saved, err := os.ReadFile(file)
	if err != nil || string(saved) != stdout {
		t.Fatalf("--summary-json wrote %q (%v), stdout has %q", saved, err, stdout)
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("stdout is not only the JSON summary: %v\n%s", err, stdout)
	}
	days, _ := s["days"].([]any)
	if len(days) != 4 || s["outcome"] != "ok" || s["complete"] != true || s["days_ok"] != 4.0 {
		t.Fatalf("summary %v: want 4 days ok, complete", s)
	}
	for _, d := range days {
		row := d.(map[string]any)
		for _, c := range schema.LoadRuns.Columns {
			if _, ok := row[c.Name]; !ok {
				t.Errorf("summary day %v lacks the load_runs column %s", row["day"], c.Name)
			}
		}
	}
	for _, col := range []string{"api_calls", "pages", "submissions", "bytes", "retries"} {
		want := queryInt(t, dir, fmt.Sprintf("SELECT CAST(SUM(%s) AS BIGINT) FROM load_runs WHERE run_id = '%s'", col, s["run_id"]))
		if got := s[col].(float64); int64(got) != want {
			t.Errorf("summary %s %v, the ledger %d", col, got, want)
		}
	}
	for _, args := range [][]string{{"import", "--dir", dir, "../../testdata/pages/drift.ndjson"}, {"rebuild", "--dir", dir}} {
		code, stdout, stderr := kycetl(t, vars, append(args, "--format", "json")...)
		var s map[string]any
		if code != ExitOK || json.Unmarshal([]byte(stdout), &s) != nil || s["command"] != args[0] || len(s["days"].([]any)) == 0 {
			t.Errorf("%s --format json: exit %d, stdout %q\n%s", args[0], code, stdout, stderr)
		}
	}
	if code, _, stderr := kycetl(t, vars, "run", "--from", "2025-03-01", "--to", "2025-03-01", "--dir", dir, "--format", "xml"); code != ExitUsage {
		t.Errorf("--format xml: exit %d\n%s", code, stderr)
	}
}
