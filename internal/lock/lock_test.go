package lock

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kycetl/kycetl/internal/kyctest"
)

// helperEnv makes the test binary a lock holder (kyctest.ServeHolder): it
// takes the lock of the directory named by the variable and prints
// "locked <pid>".
const helperEnv = "KYCETL_LOCK_TEST_HOLD"

func TestMain(m *testing.M) {
	kyctest.ServeHolder(helperEnv, func(dir string) (string, func(), error) {
		l, err := Acquire(dir)
		if err != nil {
			return "", nil, err
		}
		return fmt.Sprint("locked ", os.Getpid()), func() { l.Close() }, nil
	})
	os.Exit(m.Run())
}

// holder starts a second process holding dir's lock and returns its pid
// and a function that makes it release and exit (or kills it).
func holder(t *testing.T, dir string) (pid int, cmd *exec.Cmd, release func()) {
	t.Helper()
	line, cmd, let := kyctest.StartHolder(t, helperEnv, dir)
	fields := strings.Fields(line)
	if len(fields) != 2 || fields[0] != "locked" {
		t.Fatalf("helper said %q", line)
	}
	pid, _ = strconv.Atoi(fields[1])
	return pid, cmd, func() { let() }
}

func TestSecondProcessIsRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "warehouse")
	pid, _, release := holder(t, dir)

	_, err := Acquire(dir)
	var le *LockedError
	if !errors.Is(err, ErrLocked) || !errors.As(err, &le) || le.PID != pid {
		t.Fatalf("Acquire while pid %d holds it: %v", pid, err)
	}
	want := fmt.Sprintf("warehouse directory %s is in use by kycetl pid %d (lock file %s)", dir, pid, filepath.Join(dir, FileName))
	if err.Error() != want {
		t.Errorf("error %q\nwant  %q", err, want)
	}
	if got, held, err := Holder(dir); err != nil || !held || got != pid {
		t.Errorf("Holder = %d, %v, %v; want %d", got, held, err, pid)
	}

	release()
	l, err := Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after release: %v", err)
	}
	defer l.Close()
	if got, held, _ := Holder(dir); !held || got != os.Getpid() {
		t.Errorf("Holder after taking it = %d, %v; want us (%d)", got, held, os.Getpid())
	}
}

// TestStaleLockIsTakenOver: a holder killed with SIGKILL leaves its pid in
// the file, but the kernel dropped its lock.
func TestStaleLockIsTakenOver(t *testing.T) {
	dir := t.TempDir()
	pid, cmd, _ := holder(t, dir)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	data, _ := os.ReadFile(filepath.Join(dir, FileName))
	if strings.TrimSpace(string(data)) != strconv.Itoa(pid) {
		t.Fatalf("lock file holds %q, want the dead pid %d", data, pid)
	}
	if _, held, _ := Holder(dir); held {
		t.Error("a dead process still holds the lock")
	}
	l, err := Acquire(dir)
	if err != nil {
		t.Fatalf("taking over a stale lock: %v", err)
	}
	defer l.Close()
	data, _ = os.ReadFile(filepath.Join(dir, FileName))
	if strings.TrimSpace(string(data)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file holds %q after take-over, want our pid", data)
	}
}

// TestSameProcess: a second open file description is refused as well, so
// a daemon and an in-process `run` exclude each other.
func TestSameProcess(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	var le *LockedError
	if _, err := Acquire(dir); !errors.Is(err, ErrLocked) || !errors.As(err, &le) || le.PID != os.Getpid() {
		t.Errorf("second Acquire: %v, want a *LockedError naming our pid", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, held, _ := Holder(dir); held {
		t.Error("still held after Close")
	}
	l2, err := Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after Close: %v", err)
	}
	l2.Close()
}

func TestHolderWithoutFile(t *testing.T) {
	if pid, held, err := Holder(t.TempDir()); pid != 0 || held || err != nil {
		t.Errorf("Holder of an empty directory = %d, %v, %v", pid, held, err)
	}
}

func TestAcquireBadDir(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := Acquire(filepath.Join(f, "sub")); err == nil || errors.Is(err, ErrLocked) {
		t.Errorf("Acquire under a file: %v", err)
	}
}
