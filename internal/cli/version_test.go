package cli

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionFlag(t *testing.T) {
	code, out, errOut := kycetl(t, nil, "--version")
	if code != ExitOK || !strings.HasPrefix(out, "kycetl ") || !strings.Contains(out, Version()) {
		t.Fatalf("kycetl --version: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestDescribeBuild(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := describeBuild(bi), "v1.2.0 (revision 0123456789ab, 2026-01-02T03:04:05Z, modified) go1.26.0"; got != want {
		t.Errorf("describeBuild = %q, want %q", got, want)
	}
	if got := describeBuild(&debug.BuildInfo{}); got != "(devel)" {
		t.Errorf("describeBuild of nothing = %q", got)
	}
}

// TestHelpDescribesEveryCommand: every command is listed in the root help
// with a one-line summary, and has a real description of its own, not only
// its one line; no flag shows two defaults.
func TestHelpDescribesEveryCommand(t *testing.T) {
	e := &env{getenv: func(string) string { return "" }}
	root := e.root()
	_, list, _ := kycetl(t, nil, "--help")
	for _, c := range root.Commands() {
		if c.Hidden {
			t.Errorf("%s is hidden from the help", c.Name())
		}
		if !strings.Contains(list, c.Name()+" ") || c.Short == "" {
			t.Errorf("kycetl --help does not list %s with a summary", c.Name())
		}
		if len(strings.Fields(c.Long)) < 30 {
			t.Errorf("kycetl %s --help has no description beyond its one line: %q", c.Name(), c.Long)
		}
		_, out, _ := kycetl(t, nil, c.Name(), "--help")
		for _, line := range strings.Split(out, "\n") {
			if strings.Count(line, "(default") > 1 {
				t.Errorf("kycetl %s --help: two defaults in %q", c.Name(), strings.TrimSpace(line))
			}
		}
	}
}

// TestRunAndImportShareTheProjectDefault: --project means the same for run
// and import, so that an import lands beside a run's days by default.
func TestRunAndImportShareTheProjectDefault(t *testing.T) {
	e := &env{getenv: func(string) string { return "" }}
	root := e.root()
	for _, name := range []string{"run", "import"} {
		c, _, err := root.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		if f := c.Flags().Lookup("project"); f == nil || f.DefValue != defaultProj {
			t.Errorf("kycetl %s --project defaults to %v, want %q", name, f, defaultProj)
		}
	}
}
