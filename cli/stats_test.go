package cli

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kycetl/kycetl/internal/kyctest"
	"github.com/kycetl/kycetl/synth"
)

// helperEnv is the environment variable that makes the test binary run as
// kycetl (TestHelperKycetl), with the arguments after "--".
const helperEnv = "KYCETL_TEST_HELPER"

// TestHelperKycetl is no test: the tests that need kycetl in a process of
// its own run the test binary with helperArgs set, and it runs here.
func TestHelperKycetl(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("runs only as kycetl for other tests")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(Main(args))
}

// kycetlProcess is a command that runs kycetl with args in a process of its
// own, from the test binary at exe.
func kycetlProcess(exe string, args ...string) *exec.Cmd {
	cmd := exec.Command(exe, append([]string{"-test.run=^TestHelperKycetl$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	return cmd
}

// importedWarehouse imports synthetic submissions of the given projects
// over [from, to] into a new warehouse directory under parent.
func importedWarehouse(t *testing.T, parent string, from, to time.Time, projects ...string) string {
	t.Helper()
	dir := filepath.Join(parent, "wh")
	vars := map[string]string{"KYCETL_PII_KEY": "stats-test-key-0123456789"}
	for i, p := range projects {
		file := filepath.Join(t.TempDir(), p+".ndjson")
		var b bytes.Buffer
		if _, err := synth.New(int64(i+1), synth.WithVolume(5, 15), synth.WithAsOf(to.AddDate(0, 0, 30))).WriteNDJSON(&b, from, to); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, _, stderr := kycetl(t, vars, "import", "--project", p, "--dir", dir, file); code != ExitOK {
			t.Fatalf("import %s: exit %d\n%s", p, code, stderr)
		}
	}
	return dir
}

// tree describes every file and directory under dir (kyctest.Tree).
func tree(t *testing.T, dir string) string {
	t.Helper()
	s, err := kyctest.Tree(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStatsIsReadOnly runs six `kycetl stats` processes at once on a
// directory made read-only. As root, where permission bits stop no write,
// the processes run as nobody, who may not write there; either way every
// file and directory keeps its bytes and times and no WAL, lock or
// temporary file appears, and all six print the same numbers as one
// in-process call.
func TestStatsIsReadOnly(t *testing.T) {
	// A directory nobody can reach: 0755 all the way down.
	base, err := os.MkdirTemp("", "kycetl-stats-ro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(path, 0o755)
			}
			return nil
		})
		os.RemoveAll(base)
	})
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	from, to := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)
	dir := importedWarehouse(t, base, from, to, "acme")
	args := []string{"stats", "--dir", dir, "--format", "csv"}
	code, want, stderr := kycetl(t, nil, args...)
	if code != ExitOK || strings.Count(want, "\n") != 5 {
		t.Fatalf("stats in process: exit %d\n%s%s", code, want, stderr)
	}

	// The test binary, where nobody may run it.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(base, "kycetl.test")
	if err := copyFile(self, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	// Read-only, for everyone: files 0444, directories 0555.
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		return os.Chmod(path, 0o444)
	})
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chmod(dirs[i], 0o555); err != nil {
			t.Fatal(err)
		}
	}
	before := tree(t, dir)

	const readers = 6
	var wg sync.WaitGroup
	outs, errs := make([]string, readers), make([]error, readers)
	for i := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := kycetlProcess(exe, args...)
			if os.Geteuid() == 0 {
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			}
			var out, errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			if err := cmd.Run(); err != nil {
				errs[i] = fmt.Errorf("%w\n%s", err, errOut.String())
			}
			outs[i] = out.String()
		}()
	}
	wg.Wait()
	for i := range readers {
		if errs[i] != nil {
			t.Errorf("stats process %d: %v", i, errs[i])
		} else if outs[i] != want {
			t.Errorf("stats process %d printed\n%s\nwant\n%s", i, outs[i], want)
		}
	}
	if after := tree(t, dir); after != before {
		t.Errorf("stats changed the directory:\nbefore\n%s\nafter\n%s", before, after)
	}
}

func copyFile(from, to string, mode os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// TestStatsReadsAnOlderWarehouse: stats reads a warehouse that the schema-1
// code wrote, without upgrading it (it may not write), through this
// kycetl's views.
func TestStatsReadsAnOlderWarehouse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wh")
	if err := os.CopyFS(dir, os.DirFS("../testdata/warehouse-v1")); err != nil {
		t.Fatal(err)
	}
	before := tree(t, dir)
	code, out, stderr := kycetl(t, nil, "stats", "--dir", dir, "--format", "json")
	if code != ExitOK {
		t.Fatalf("stats: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(out, `"total": 313,`) {
		t.Errorf("stats of the v1 warehouse (313 submissions):\n%s", out)
	}
	if after := tree(t, dir); after != before {
		t.Errorf("stats changed the directory:\nbefore\n%s\nafter\n%s", before, after)
	}
}
