package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/kycetl/kycetl/extract/argos/synth"
	"github.com/kycetl/kycetl/internal/pipeline"
	"github.com/kycetl/kycetl/transform/pii"
)

// TestProgressLines: a run logs its progress — days done of the total,
// elapsed time and ETA — after every share of its days and whenever the
// interval passed, never per day unless asked (issue 13 item 15). The
// clock is injected: each reading is a minute after the last.
func TestProgressLines(t *testing.T) {
	first, last := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	gen := synth.New(8, synth.WithVolume(2, 4), synth.WithAsOf(last.AddDate(0, 0, 3)))
	for _, tc := range []struct {
		name     string
		parts    int
		interval time.Duration
		wantDone []float64
	}{
		{"every fifth of the days", 5, time.Hour, []float64{2, 4, 6, 8, 10}},
		{"every minute", 1, time.Minute, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{"off", 0, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ticks atomic.Int64
			clock := func() time.Time {
				return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(ticks.Add(1)) * time.Minute)
			}
			e := open(t, t.TempDir())
			var log bytes.Buffer
			pol, _ := pii.New(pii.WithKey([]byte("pipeline-test-pii-key")))
			pl, err := pipeline.New(e.layout, e.wh, pipeline.WithPolicy(pol), pipeline.WithClock(clock),
				pipeline.WithLogger(zerolog.New(zerolog.SyncWriter(&log))), pipeline.WithProgress(tc.parts, tc.interval))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := pl.Load(context.Background(), startAPI(t, gen), "run", "acme", first, last); err != nil {
				t.Fatal(err)
			}
			var done []float64
			for _, line := range strings.Split(log.String(), "\n") {
				var m map[string]any
				if json.Unmarshal([]byte(line), &m) != nil || m["message"] != "progress" {
					continue
				}
				done = append(done, m["days_done"].(float64))
				if m["days_total"] != 10.0 || m["run_id"] == nil || m["elapsed_seconds"].(float64) <= 0 {
					t.Errorf("progress line %v lacks the total, the run or the elapsed time", m)
				}
				if eta, ok := m["eta_seconds"].(float64); m["days_done"] != 10.0 && (!ok || eta <= 0 || m["eta"] == nil) {
					t.Errorf("progress line %v has no ETA", m)
				}
			}
			if len(done) != len(tc.wantDone) {
				t.Fatalf("progress after days %v, want %v", done, tc.wantDone)
			}
			for i := range done {
				if done[i] != tc.wantDone[i] {
					t.Errorf("progress after days %v, want %v", done, tc.wantDone)
					break
				}
			}
		})
	}
}
