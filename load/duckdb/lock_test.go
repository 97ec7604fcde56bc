package duckdb

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// holdEnv makes the test binary a process holding a warehouse open: it
// opens the DuckDB file named by the variable, prints "open" and holds it
// until its stdin closes.
const holdEnv = "KYCETL_DUCKDB_TEST_HOLD"

func TestMain(m *testing.M) {
	if path := os.Getenv(holdEnv); path != "" {
		w, err := Open(context.Background(), path)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("open")
		bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin
		w.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestOpenLockedByAnotherProcess: a file another process holds is refused
// with ErrLocked; once it is let go, it opens. Other failures are not
// ErrLocked.
func TestOpenLockedByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kyc.duckdb")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdEnv+"="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || strings.TrimSpace(line) != "open" {
		t.Fatalf("holder said %q, %v", line, err)
	}

	if w, err := Open(context.Background(), path); !errors.Is(err, ErrLocked) {
		if w != nil {
			w.Close()
		}
		t.Fatalf("Open of a file another process holds: %v, want ErrLocked", err)
	}

	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("holder: %v", err)
	}
	w, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open once the holder is gone: %v", err)
	}
	w.Close()

	notADatabase := filepath.Join(t.TempDir(), "not.duckdb")
	if err := os.WriteFile(notADatabase, []byte("not a DuckDB file, long enough to have a header of its own........"), 0o644); err != nil {
		t.Fatal(err)
	}
	if w, err := Open(context.Background(), notADatabase); err == nil || errors.Is(err, ErrLocked) {
		if w != nil {
			w.Close()
		}
		t.Errorf("Open of a file that is no database: %v, want an error other than ErrLocked", err)
	}
}
