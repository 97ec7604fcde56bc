package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kycetl/kycetl/extract/argos/sandbox"
	"github.com/kycetl/kycetl/extract/argos/synth"
)

func TestPageSizeUsage(t *testing.T) {
	dir := t.TempDir()
	zero := filepath.Join(dir, "zero.yaml")
	if err := os.WriteFile(zero, []byte("dir: "+filepath.Join(dir, "wh")+"\nprojects:\n  - name: p\n    page_size: 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"ARGOS_API_KEY": "k", "KYCETL_PII_KEY": "a-pii-key-for-tests"}
	window := []string{"--from", "2025-03-01", "--to", "2025-03-01", "--dir", dir}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{append([]string{"run", "--page-size", "0"}, window...), "--page-size must be a positive number of items per API page, got 0"},
		{append([]string{"run", "--page-size", "-20"}, window...), "--page-size must be a positive number of items per API page, got -20"},
		{append([]string{"run", "--page-size", "ten"}, window...), `invalid argument "ten" for "--page-size"`},
		{append([]string{"run", "--config", zero}, window...), "zero.yaml:4: projects[0].page_size: 0: want a positive number"},
		{append([]string{"run", "--config", zero, "--page-size", "0"}, window...), "--page-size must be a positive number"},
		{[]string{"demo", "--page-size", "0", "--dir", dir}, "--page-size must be a positive number"},
		{[]string{"schedule", "--config", zero}, "projects[0].page_size"},
	} {
		code, _, stderr := kycetl(t, vars, tc.args...)
		if code != ExitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("kycetl %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a usage error left files behind: %v", entries)
	}
}

// countingAPI is the built-in API over loopback, recording the count of
// every request it served (200).
type countingAPI struct {
	api    *sandbox.Server
	mu     sync.Mutex
	served map[int]int
}

func (c *countingAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	c.api.ServeHTTP(rec, r)
	if rec.Code == http.StatusOK {
		n, _ := strconv.Atoi(r.URL.Query().Get("count"))
		c.mu.Lock()
		c.served[n]++
		c.mu.Unlock()
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// counts returns the counts served since the last call, but for the one
// call of one item with which a run checks the keys before it starts.
func (c *countingAPI) counts() map[int]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.served
	c.served = map[int]int{}
	if out[1]--; out[1] <= 0 {
		delete(out, 1)
	}
	return out
}

// TestRunPageSize: kycetl run asks for --page-size items per page, or the
// project's page_size with --config (the flag wins); a size the API refuses
// is halved for the rest of the run and logged once.
func TestRunPageSize(t *testing.T) {
	api := &countingAPI{api: sandbox.New(synth.New(7, synth.WithVolume(20, 40)), sandbox.WithAPIKey("k"), sandbox.WithMaxCount(300)),
		served: map[int]int{}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	vars := map[string]string{"ARGOS_API_URL": srv.URL, "ARGOS_API_KEY": "k", "KYCETL_PII_KEY": "a-pii-key-for-tests"}
	window := []string{"--from", "2025-03-01", "--to", "2025-03-02"}

	// --page-size 1200 against a maximum of 300: 1200 → 600 → 300.
	code, _, stderr := kycetl(t, vars, append([]string{"run", "--dir", t.TempDir(), "--page-size", "1200"}, window...)...)
	if code != ExitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	if got := api.counts(); len(got) != 1 || got[300] == 0 {
		t.Errorf("pages served at counts %v, want all at 300", got)
	}
	var warned []map[string]any
	for _, line := range strings.Split(stderr, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["level"] == "warn" && strings.HasPrefix(m["message"].(string), "the API refused the page size") {
			warned = append(warned, m)
		}
	}
	if len(warned) != 1 || warned[0]["page_size_before"] != 1200.0 || warned[0]["page_size"] != 300.0 {
		t.Errorf("page size warnings %v, want one from 1200 to 300:\n%s", warned, stderr)
	}

	cfg := filepath.Join(t.TempDir(), "kycetl.yaml")
	if err := os.WriteFile(cfg, []byte("dir: "+t.TempDir()+"\nprojects:\n  - name: p\n    api_url: "+srv.URL+"\n    page_size: 7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		flags []string
		want  int
	}{
		{nil, 7},
		{[]string{"--page-size", "9"}, 9},
	} {
		code, _, stderr := kycetl(t, vars, append(append([]string{"run", "--config", cfg}, tc.flags...), window...)...)
		if code != ExitOK {
			t.Fatalf("run --config %v: exit %d\n%s", tc.flags, code, stderr)
		}
		if got := api.counts(); len(got) != 1 || got[tc.want] == 0 {
			t.Errorf("run --config %v: pages served at counts %v, want all at %d", tc.flags, got, tc.want)
		}
	}
}

// TestDemoPageSize: demo asks for --page-size items per page; its built-in
// API refuses more than fakeargos.DefaultMaxCount, so 5000 settles on 1250.
func TestDemoPageSize(t *testing.T) {
	code, _, stderr := kycetl(t, nil, "demo", "--days", "1", "--dir", t.TempDir(), "--page-size", "5000")
	if code != ExitOK {
		t.Fatalf("demo: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, `"page_size_before":5000,"page_size":1250,`) {
		t.Errorf("no warning that the page size went from 5000 to 1250:\n%s", stderr)
	}
}
