package schedules

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/transform/schema"
)

// Ledger is what the daemon reads of the load_runs ledger before a run.
type Ledger interface {
	// History returns the loads of source's days of project from since on
	// (a project's days of two sources are two partitions).
	History(ctx context.Context, source, project string, since time.Time) (History, error)
}

// History is what the ledger says of one project's days.
type History struct {
	// First is the first day the project ever had a load_runs row for,
	// whatever its outcome; zero when it has none. Days before it were
	// never meant to be loaded, so they are not gaps.
	First time.Time
	// Days holds the days from since on that have rows.
	Days map[time.Time]DayState
}

// DayState sums up the loads of one day.
type DayState struct {
	// OK: some load of the day succeeded.
	OK bool
	// Complete: a successful load of the day started after the day had
	// ended (UTC), so it holds all of the day's submissions. A day
	// loaded while it was still going on (a nightly run loads today too)
	// is OK but not complete.
	Complete bool
	// Failed: the latest load of the day (ok or failed; loads abandoned
	// on stop do not count) failed — even if an earlier one succeeded,
	// the day has to be loaded again.
	Failed bool
	// Error of the latest failed load, RunID of the latest load.
	Error, RunID string
}

// Loaded says whether the day needs no more loading: complete, and its
// latest load did not fail.
func (s DayState) Loaded() bool { return s.Complete && !s.Failed }

// LastOK returns the day before the first day in [max(since, First),
// today) that is not Loaded — a gap left by downtime, a failed day, a day
// last loaded before it ended — or zero when there is none. A run that
// starts the day after it (see Window) misses nothing.
func (h History) LastOK(since, today time.Time) time.Time {
	if h.First.IsZero() {
		return time.Time{}
	}
	d := argos.Day(since)
	if f := argos.Day(h.First); f.After(d) {
		d = f
	}
	for today = argos.Day(today); d.Before(today); d = d.AddDate(0, 0, 1) {
		if !h.Days[d].Loaded() {
			return d.AddDate(0, 0, -1)
		}
	}
	return time.Time{}
}

// Attempt is one load_runs row, as History needs it.
type Attempt struct {
	Day        time.Time
	Outcome    string
	StartedAt  time.Time
	FinishedAt time.Time
	Error      string
	RunID      string
}

// Summarize folds a project's load attempts into day states.
func Summarize(first time.Time, attempts []Attempt) History {
	sorted := append([]Attempt(nil), attempts...)
	// Oldest first, so that the latest attempt of a day is the last seen:
	// run IDs are the order of runs (archive.NewRunID), which no clock's
	// resolution can tie.
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].RunID < sorted[j].RunID })
	h := History{First: first, Days: map[time.Time]DayState{}}
	for _, a := range sorted {
		day := argos.Day(a.Day)
		s := h.Days[day]
		switch a.Outcome {
		case archive.OutcomeOK:
			s.OK, s.Failed, s.Error = true, false, ""
			if !a.StartedAt.Before(day.AddDate(0, 0, 1)) {
				s.Complete = true
			}
		case archive.OutcomeFailed:
			s.Failed, s.Error = true, a.Error
		default:
			continue // skipped: abandoned on stop, says nothing of the data
		}
		s.RunID = a.RunID
		h.Days[day] = s
	}
	return h
}

// LoadRuns reads the load_runs table of a warehouse through database/sql
// (load.LedgerReader): DuckDB's connection, or BigQuery's query jobs. The
// SQL is plain enough for DuckDB and BigQuery alike.
type LoadRuns struct {
	DB *sql.DB
}

var _ Ledger = LoadRuns{}

var loadRuns = schema.LoadRuns.Name

// LegacySource is the source of load_runs rows written before the ledger
// named sources (their source is NULL): ARGOS, the only source then.
const LegacySource = "argos"

// ofSource selects a source's rows.
const ofSource = "coalesce(source, '" + LegacySource + "') = ?"

// The ledger's queries: the very text LoadRuns sends to DuckDB and to
// BigQuery, which runs it with the dataset as the default (unqualified
// load_runs). The BigQuery fake answers exactly these (see Queries).
var (
	queryFirstDay = "SELECT min(day) FROM " + loadRuns + " WHERE project = ? AND " + ofSource
	queryDays     = "SELECT day, outcome, started_at, finished_at, error, run_id FROM " + loadRuns +
		" WHERE project = ? AND " + ofSource + " AND day >= CAST(? AS DATE)"
	queryRuns = `SELECT run_id, min(window_from), max(window_to), min(started_at), max(finished_at), count(*),
	sum(CASE WHEN outcome = 'ok' THEN 1 ELSE 0 END),
	sum(CASE WHEN outcome = 'failed' THEN 1 ELSE 0 END),
	sum(CASE WHEN outcome = 'skipped' THEN 1 ELSE 0 END),
	sum(CASE WHEN outcome = 'planned' THEN 1 ELSE 0 END),
	min(CASE WHEN outcome = 'failed' THEN error END)
FROM ` + loadRuns + ` WHERE project = ? AND command = ?
GROUP BY run_id ORDER BY run_id DESC LIMIT ?`
	queryIncomplete = `SELECT DISTINCT u.day FROM ` + loadRuns + ` u
WHERE u.project = ? AND u.run_id <> ? AND u.outcome IN ('` + archive.OutcomePlanned + `', '` + archive.OutcomeSkipped + `')
AND NOT EXISTS (SELECT 1 FROM ` + loadRuns + ` o WHERE o.project = u.project AND o.day = u.day AND o.outcome = '` + archive.OutcomeOK + `')
ORDER BY u.day`
	queryLatest  = "SELECT max(run_id) FROM " + loadRuns
	querySources = "SELECT DISTINCT project, command FROM " + loadRuns + " WHERE command IS NOT NULL ORDER BY project, command"
	queryCalls   = "SELECT COALESCE(SUM(api_calls), 0) FROM " + loadRuns + " WHERE project = ? AND started_at >= ? AND started_at < ?"
	queryRunDays = "SELECT day FROM " + loadRuns + " WHERE run_id = ? AND project = ?"
)

// Queries are the ledger's queries by name, for a fake warehouse that
// answers them (load/bigquery/bqfake, Server.AnswerLedger): first_day
// (project, source), days (project, source, since), runs (project,
// command, limit), incomplete (project, running run), latest, sources,
// calls (project, from, to) and run_days (run, project).
func Queries() map[string]string {
	return map[string]string{
		"first_day": queryFirstDay, "days": queryDays, "runs": queryRuns, "incomplete": queryIncomplete,
		"latest": queryLatest, "sources": querySources, "calls": queryCalls, "run_days": queryRunDays,
	}
}

// History implements Ledger.
func (l LoadRuns) History(ctx context.Context, source, project string, since time.Time) (History, error) {
	if source == "" {
		source = LegacySource
	}
	var first sql.NullTime
	if err := l.DB.QueryRowContext(ctx, queryFirstDay, project, source).Scan(&first); err != nil {
		return History{}, fmt.Errorf("reading the first day of %s from %s: %w", project, loadRuns, err)
	}
	rows, err := l.DB.QueryContext(ctx, queryDays, project, source, argos.FormatDate(since))
	if err != nil {
		return History{}, fmt.Errorf("reading the loads of %s from %s: %w", project, loadRuns, err)
	}
	defer rows.Close()
	var attempts []Attempt
	for rows.Next() {
		var a Attempt
		var started, finished sql.NullTime
		var outcome, msg sql.NullString
		if err := rows.Scan(&a.Day, &outcome, &started, &finished, &msg, &a.RunID); err != nil {
			return History{}, fmt.Errorf("reading the loads of %s from %s: %w", project, loadRuns, err)
		}
		a.Outcome, a.StartedAt, a.Error = outcome.String, started.Time, msg.String
		a.FinishedAt = finished.Time
		if !finished.Valid {
			a.FinishedAt = started.Time
		}
		attempts = append(attempts, a)
	}
	if err := rows.Err(); err != nil {
		return History{}, fmt.Errorf("reading the loads of %s from %s: %w", project, loadRuns, err)
	}
	return Summarize(first.Time, attempts), nil
}

// Run sums up one run of a job (or command) from its load_runs rows.
type Run struct {
	RunID                  string
	Command                string
	From, To               time.Time // the run's window
	StartedAt, FinishedAt  time.Time
	Days, OK, Failed, Left int // Left: days abandoned when the run was stopped (outcome skipped)
	// Unfinished: days still planned, which the run never finished: it was
	// killed or crashed (or is still running).
	Unfinished int
	Error      string
}

// Outcomes of a run besides ok and failed.
const (
	RunStopped     = "stopped"
	RunInterrupted = "interrupted"
)

// Outcome of a run: failed when any day failed, interrupted when it ended
// without finishing its days (killed), stopped when it was stopped before
// the end of its window, else ok.
func (r Run) Outcome() string {
	switch {
	case r.Failed > 0:
		return archive.OutcomeFailed
	case r.Unfinished > 0:
		return RunInterrupted
	case r.Left > 0:
		return RunStopped
	}
	return archive.OutcomeOK
}

// Runs returns the last runs of command for project, newest first.
func (l LoadRuns) Runs(ctx context.Context, project, command string, limit int) ([]Run, error) {
	rows, err := l.DB.QueryContext(ctx, queryRuns, project, command, limit)
	if err != nil {
		return nil, fmt.Errorf("reading the runs of %s %s from %s: %w", project, command, loadRuns, err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r := Run{Command: command}
		var from, to, started, finished sql.NullTime
		var msg sql.NullString
		if err := rows.Scan(&r.RunID, &from, &to, &started, &finished, &r.Days, &r.OK, &r.Failed, &r.Left, &r.Unfinished, &msg); err != nil {
			return nil, fmt.Errorf("reading the runs of %s %s from %s: %w", project, command, loadRuns, err)
		}
		r.From, r.To, r.StartedAt, r.FinishedAt, r.Error = from.Time, to.Time, started.Time, finished.Time, msg.String
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the runs of %s %s from %s: %w", project, command, loadRuns, err)
	}
	return out, nil
}

// Incomplete lists, sorted, the days of project that a run set out to load
// and did not finish (left planned by a killed run, or skipped by a stopped
// one) and that no run has loaded: the windows not complete yet. Rows of
// the run named running (one in progress; "" for none) do not count.
func (l LoadRuns) Incomplete(ctx context.Context, project, running string) ([]time.Time, error) {
	rows, err := l.DB.QueryContext(ctx, queryIncomplete, project, running)
	if err != nil {
		return nil, fmt.Errorf("reading the unfinished days of %s from %s: %w", project, loadRuns, err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var d time.Time
		if err := rows.Scan(&d); err != nil {
			return nil, fmt.Errorf("reading the unfinished days of %s from %s: %w", project, loadRuns, err)
		}
		out = append(out, argos.Day(d))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the unfinished days of %s from %s: %w", project, loadRuns, err)
	}
	return out, nil
}

// Latest is the newest run ID of the ledger, "" when it has none.
func (l LoadRuns) Latest(ctx context.Context) (string, error) {
	var id sql.NullString
	if err := l.DB.QueryRowContext(ctx, queryLatest).Scan(&id); err != nil {
		return "", fmt.Errorf("reading the latest run from %s: %w", loadRuns, err)
	}
	return id.String, nil
}

// Source is a project and a command that have runs in the ledger.
type Source struct{ Project, Command string }

// Sources lists every (project, command) of the ledger, sorted.
func (l LoadRuns) Sources(ctx context.Context) ([]Source, error) {
	rows, err := l.DB.QueryContext(ctx, querySources)
	if err != nil {
		return nil, fmt.Errorf("listing the commands of %s: %w", loadRuns, err)
	}
	defer rows.Close()
	var out []Source
	for rows.Next() {
		var s Source
		if err := rows.Scan(&s.Project, &s.Command); err != nil {
			return nil, fmt.Errorf("listing the commands of %s: %w", loadRuns, err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Calls is the number of API calls that the runs of project started on
// day (UTC) made, as their rows recorded them.
func (l LoadRuns) Calls(ctx context.Context, project string, day time.Time) (int64, error) {
	day = argos.Day(day)
	var spent int64
	err := l.DB.QueryRowContext(ctx, queryCalls, project, day, day.AddDate(0, 0, 1)).Scan(&spent)
	if err != nil {
		return 0, fmt.Errorf("reading the API calls of %s on %s from %s: %w", project, argos.FormatDate(day), loadRuns, err)
	}
	return spent, nil
}

// RunDays is the set of days of project that run runID has rows for.
func (l LoadRuns) RunDays(ctx context.Context, runID, project string) (map[time.Time]bool, error) {
	rows, err := l.DB.QueryContext(ctx, queryRunDays, runID, project)
	if err != nil {
		return nil, fmt.Errorf("reading the days of run %s from %s: %w", runID, loadRuns, err)
	}
	defer rows.Close()
	done := map[time.Time]bool{}
	for rows.Next() {
		var d time.Time
		if err := rows.Scan(&d); err != nil {
			return nil, fmt.Errorf("reading the days of run %s from %s: %w", runID, loadRuns, err)
		}
		done[argos.Day(d)] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the days of run %s from %s: %w", runID, loadRuns, err)
	}
	return done, nil
}
