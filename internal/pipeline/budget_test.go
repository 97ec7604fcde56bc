package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/argos/sandbox"
	"github.com/kycetl/kycetl/extract/argos/synth"
	"github.com/kycetl/kycetl/internal/pipeline"
	"github.com/kycetl/kycetl/transform/pii"
)

// TestBudgetSpentBeforeALongBackfill: a backfill of three years whose call
// budget is spent before its first day makes no call, logs the days it
// could not load in one line (not one per day), records them skipped
// together, and suggests no --from (it would be the day it started from)
// (issue 13 item 8).
func TestBudgetSpentBeforeALongBackfill(t *testing.T) {
	ctx := context.Background()
	start, end := time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2001, 12, 31, 0, 0, 0, 0, time.UTC)
	days := int(end.Sub(start).Hours()/24) + 1
	srv := sandbox.New(synth.New(1), sandbox.WithAPIKey(apiKey))
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c, err := argos.NewClient(url, apiKey)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	budget, err := argos.NewBudget(argos.MinDailyCalls, argos.WithSpent(now, argos.MinDailyCalls-1))
	if err != nil {
		t.Fatal(err)
	}
	e := open(t, t.TempDir())
	var log bytes.Buffer
	pol, _ := pii.New(pii.WithKey([]byte("pipeline-test-pii-key")))
	pl, err := pipeline.New(e.layout, e.wh, pipeline.WithPolicy(pol), pipeline.WithLogger(zerolog.New(&log)))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := pl.Load(ctx, argos.NewExtractor(c, argos.WithBudget(budget)), "run", "acme", start, end)
	if !errors.Is(err, argos.ErrBudgetExhausted) || srv.Calls() != 0 {
		t.Fatalf("error %v after %d calls, want the budget's before any call", err, srv.Calls())
	}
	if strings.Contains(err.Error(), "--from 1999-01-01") || !strings.Contains(err.Error(), "nothing was loaded") {
		t.Errorf("error %q: suggests the start as continuation, or does not say nothing was loaded", err)
	}
	if n := strings.Count(log.String(), `"day loaded"`); n != 0 {
		t.Errorf("%d per-day log lines for days the budget left out, want none", n)
	}
	if n := strings.Count(log.String(), "days not loaded: the call budget ran out"); n != 1 {
		t.Errorf("%d summary lines of the days left out, want 1:\n%.2000s", n, log.String())
	}
	if sum == nil || sum.Days != days {
		t.Errorf("summary %v, want %d days recorded", sum, days)
	}
	if n := e.count(t, "SELECT count(*) FROM load_runs WHERE outcome = 'skipped'"); n != int64(days) {
		t.Errorf("load_runs has %d skipped days, want %d", n, days)
	}
}
