package duckdb

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kycetl/kycetl/internal/kyctest"
)

// holdEnv makes the test binary a process holding a warehouse open
// (kyctest.ServeHolder): it opens the DuckDB file named by the variable and
// prints "open".
const holdEnv = "KYCETL_DUCKDB_TEST_HOLD"

func TestMain(m *testing.M) {
	kyctest.ServeHolder(holdEnv, func(path string) (string, func(), error) {
		w, err := Open(context.Background(), path)
		if err != nil {
			return "", nil, err
		}
		return "open", func() { w.Close() }, nil
	})
	os.Exit(m.Run())
}

// TestOpenLockedByAnotherProcess: a file another process holds is refused
// with ErrLocked; once it is let go, it opens. Other failures are not
// ErrLocked.
func TestOpenLockedByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kyc.duckdb")
	line, _, release := kyctest.StartHolder(t, holdEnv, path)
	if line != "open" {
		t.Fatalf("holder said %q", line)
	}
	if w, err := Open(context.Background(), path); !errors.Is(err, ErrLocked) {
		if w != nil {
			w.Close()
		}
		t.Fatalf("Open of a file another process holds: %v, want ErrLocked", err)
	}

	if err := release(); err != nil {
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
