package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/kycetl/kycetl/internal/pipeline"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
)

// summaryFlags are --summary-json and --format of the commands that load.
type summaryFlags struct{ file, format string }

func (f *summaryFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.file, "summary-json", "", "write the run's summary as JSON to this file: its totals and one object per day with the columns of the load_runs ledger")
	cmd.Flags().StringVar(&f.format, "format", "table", "what stdout shows: table (the usual output) or json (the run's summary, as --summary-json writes it)")
}

func (f summaryFlags) check() error {
	if f.format != "table" && f.format != "json" {
		return usagef("--format %q: want table or json", f.format)
	}
	return nil
}

// runSummary is the machine-readable summary of a run: its totals, and its
// days as load_runs rows (load.RunRow, the ledger's one layout).
type runSummary struct {
	RunID            string           `json:"run_id"`
	Command          string           `json:"command"`
	WindowFrom       string           `json:"window_from,omitempty"`
	WindowTo         string           `json:"window_to,omitempty"`
	StartedAt        time.Time        `json:"started_at"`
	FinishedAt       time.Time        `json:"finished_at"`
	DurationSeconds  float64          `json:"duration_seconds"`
	Complete         bool             `json:"complete"`
	Outcome          string           `json:"outcome"` // ok when the run ended without an error, else failed
	Error            string           `json:"error,omitempty"`
	DaysOK           int              `json:"days_ok"`
	DaysFailed       int              `json:"days_failed"`
	DaysSkipped      int              `json:"days_skipped"`
	Pages            int64            `json:"pages"`
	APICalls         int64            `json:"api_calls"`
	Retries          int64            `json:"retries"`
	WaitSeconds      float64          `json:"wait_seconds"`
	ThrottledSeconds float64          `json:"throttled_seconds"`
	Submissions      int64            `json:"submissions"`
	Quarantined      int64            `json:"quarantined"`
	Bytes            int64            `json:"bytes"`
	Days             []map[string]any `json:"days"`
}

func newRunSummary(sum *pipeline.Summary, runErr error) (*runSummary, error) {
	m := sum.Manifest
	s := &runSummary{RunID: m.RunID, Command: m.Command, WindowFrom: m.WindowFrom, WindowTo: m.WindowTo,
		StartedAt: m.StartedAt, FinishedAt: m.FinishedAt, DurationSeconds: sum.Duration.Seconds(), Complete: m.Complete,
		Outcome: archive.OutcomeOK, Days: make([]map[string]any, 0, len(m.Days))}
	if runErr != nil {
		s.Outcome, s.Error = archive.OutcomeFailed, runErr.Error()
	}
	for i := range m.Days {
		d := &m.Days[i]
		row, err := load.RunRow(m, d)
		if err != nil {
			return nil, err
		}
		s.Days = append(s.Days, row)
		switch d.Outcome {
		case archive.OutcomeOK:
			s.DaysOK++
		case archive.OutcomeFailed:
			s.DaysFailed++
		default:
			s.DaysSkipped++
		}
		s.Pages += d.Pages
		s.APICalls += d.APICalls
		s.Retries += d.Retries
		s.WaitSeconds += d.WaitSeconds
		s.ThrottledSeconds += d.ThrottledSeconds
		s.Submissions += d.Submissions
		s.Quarantined += d.Quarantined
		s.Bytes += d.Bytes
	}
	return s, nil
}

// write writes the summary of a finished run where the flags ask for it.
func (f summaryFlags) write(e *env, sum *pipeline.Summary, runErr error) error {
	if sum == nil || sum.Manifest == nil || (f.file == "" && f.format != "json") {
		return nil
	}
	s, err := newRunSummary(sum, runErr)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the run summary: %w", err)
	}
	data = append(data, '\n')
	if f.format == "json" {
		if _, err := e.stdout.Write(data); err != nil {
			return fmt.Errorf("writing the run summary: %w", err)
		}
	}
	if f.file != "" {
		if err := os.WriteFile(f.file, data, 0o644); err != nil {
			return fmt.Errorf("writing the run summary: %w", err)
		}
	}
	return nil
}
