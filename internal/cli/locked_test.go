package cli

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kycetl/kycetl/load/duckdb"
)

// TestWhileLockedRetriesOnlyTheLock: an open refused because another
// process holds the DuckDB file is tried again; any other failure is
// returned after one try.
func TestWhileLockedRetriesOnlyTheLock(t *testing.T) {
	ctx := context.Background()
	tries := 0
	got, err := whileLocked(ctx, time.Minute, func() (string, error) {
		if tries++; tries < 2 {
			return "", fmt.Errorf("opening DuckDB warehouse x: %w", duckdb.ErrLocked)
		}
		return "open", nil
	})
	if err != nil || got != "open" || tries != 2 {
		t.Errorf("locked once: %q, %v after %d tries; want open after 2", got, err, tries)
	}
	broken := errors.New("not a DuckDB file")
	tries = 0
	if _, err := whileLocked(ctx, time.Minute, func() (string, error) { tries++; return "", broken }); !errors.Is(err, broken) || tries != 1 {
		t.Errorf("broken file: %v after %d tries; want it after 1", err, tries)
	}
}
