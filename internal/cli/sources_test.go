package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract"
	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/argos/sandbox"
	argossource "github.com/kycetl/kycetl/extract/argos/source"
	"github.com/kycetl/kycetl/extract/argos/synth"
	"github.com/kycetl/kycetl/internal/pipeline"
	"github.com/kycetl/kycetl/internal/window"
)

// copySource is ARGOS under another name, counting the fetchers it makes:
// a second source a configuration can name.
type copySource struct {
	argossource.Source
	fetchers *int
}

func (copySource) Name() string { return "argos_copy" }

func (c copySource) Fetcher(ctx context.Context, s window.Settings) (extract.Fetcher, extract.Budget, error) {
	*c.fetchers++
	return c.Source.Fetcher(ctx, s)
}

// TestRunConfigSource: run --config fetches a project through the source
// its source: names — that source makes the fetcher and names the raw
// archive — and a project naming none through the default source.
func TestRunConfigSource(t *testing.T) {
	srv := httptest.NewServer(sandbox.New(synth.New(7, synth.WithVolume(20, 40)), sandbox.WithAPIKey("k")))
	defer srv.Close()
	var fetchers int
	sources := extract.Sources{pipeline.DefaultSource, copySource{fetchers: &fetchers}}
	dir := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "kycetl.yaml")
	if err := os.WriteFile(cfg, []byte("dir: "+dir+"\nprojects:\n  - name: a\n    api_url: "+srv.URL+
		"\n  - name: b\n    source: argos_copy\n    api_url: "+srv.URL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"ARGOS_API_KEY": "k", "KYCETL_PII_KEY": "a-pii-key-for-tests"}
	for _, tc := range []struct {
		project, source string
		fetchers        int
	}{
		{"b", "argos_copy", 1},
		{"a", "argos", 1},
	} {
		var out, errOut bytes.Buffer
		e := &env{stdout: &out, stderr: &errOut, now: time.Now, getenv: func(k string) string { return vars[k] }, sources: sources}
		if code := run(context.Background(), e, []string{"run", "--config", cfg, "--project", tc.project, "--from", "2025-03-01", "--to", "2025-03-01"}); code != ExitOK {
			t.Fatalf("run --project %s: exit %d\n%s", tc.project, code, errOut.String())
		}
		if fetchers != tc.fetchers {
			t.Errorf("run --project %s: %d fetchers of argos_copy, want %d", tc.project, fetchers, tc.fetchers)
		}
		for _, s := range sources.Names() {
			files, _ := filepath.Glob(filepath.Join(dir, "raw", s, "project="+tc.project, "*", "*.ndjson.zst"))
			if (s == tc.source) != (len(files) > 0) {
				t.Errorf("run --project %s: raw files under %s: %v", tc.project, s, files)
			}
		}
	}
	// An unknown source is the configuration's error, naming the field
	// and the sources there are.
	if err := os.WriteFile(cfg, []byte("projects:\n  - name: a\n    source: nope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	e := &env{stdout: &out, stderr: &errOut, now: time.Now, getenv: func(k string) string { return vars[k] }, sources: sources}
	if code := run(context.Background(), e, []string{"run", "--config", cfg, "--from", "2025-03-01", "--to", "2025-03-01"}); code != ExitUsage || !bytes.Contains(errOut.Bytes(), []byte(`:3: projects[0].source: unknown source "nope": want one of argos, argos_copy`)) {
		t.Errorf("unknown source: exit %d\n%s", code, errOut.String())
	}
}

// TestFlagDefaultsAreTheDefaultSources: run's --concurrency, --daily-calls
// and --page-size default to ARGOS's values, read from the default source.
func TestFlagDefaultsAreTheDefaultSources(t *testing.T) {
	code, out, _ := kycetl(t, nil, "run", "--help")
	for _, want := range []string{
		fmt.Sprintf("fetched at once (default %d)", argos.DefaultConcurrency),
		fmt.Sprintf("from which day to continue (default %d)", argos.DefaultDailyCalls),
		fmt.Sprintf("for the rest of the run) (default %d)", argos.DefaultPageSize),
	} {
		if code != ExitOK || !strings.Contains(out, want) {
			t.Errorf("run --help: exit %d, no %q in\n%s", code, want, out)
		}
	}
}

// TestFromTakesCompactDays: --from and --to take YYYYMMDD too; a day they
// cannot read is a usage error quoting it.
func TestFromTakesCompactDays(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := kycetl(t, nil, "stats", "--dir", dir, "--from", "20250301", "--to", " 2025-03-02")
	if strings.Contains(stderr, "--from") || strings.Contains(stderr, "--to") {
		t.Errorf("stats --from 20250301: exit %d\n%s", code, stderr)
	}
	code, _, stderr = kycetl(t, nil, "stats", "--dir", dir, "--from", "2025/03/01")
	if code != ExitUsage || !strings.Contains(stderr, `--from: unrecognised time format: want YYYY-MM-DD, got "2025/03/01"`) {
		t.Errorf("stats --from 2025/03/01: exit %d\n%s", code, stderr)
	}
}
