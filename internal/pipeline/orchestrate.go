package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/kycetl/kycetl/extract"
	"github.com/kycetl/kycetl/internal/config"
	"github.com/kycetl/kycetl/internal/lock"
	"github.com/kycetl/kycetl/internal/window"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/schedules"
	"github.com/kycetl/kycetl/transform/pii"
	"github.com/kycetl/kycetl/transform/schema"
)

// Opener opens the warehouse a run loads into and prepares it
// (load.Warehouse.Prepare); the caller closes it.
type Opener func(ctx context.Context) (load.Warehouse, error)

// Job is one window to load by a command (run, demo).
type Job struct {
	Layout archive.Layout
	// Policy is the run's PII policy, checked against the archive's key
	// (CheckPIIKey) before anything is written.
	Policy *pii.Policy
	// Open opens the warehouse, once the directory is locked.
	Open Opener
	// Local says the warehouse is the DuckDB file of Layout: when it does
	// not exist yet, no call was spent today and the source is checked
	// before the directory is even locked.
	Local bool
	// Pipeline makes the run's pipeline over the open warehouse, and
	// returns what to call when the run is over (a progress bar's end).
	Pipeline         func(load.Warehouse) (*Pipeline, func(), error)
	Src              Window
	Command, Project string
	From, To         time.Time
	// Rates replaces the warehouse's credit rate card; nil keeps it.
	Rates []schema.CreditRate
	// Budget is seeded with today's calls from the ledger; nil for none.
	Budget extract.Budget
}

// Days is the number of days of the job's window.
func (j Job) Days() int { return int(j.To.Sub(j.From).Hours()/24) + 1 }

// LoadJob runs one window through the pipeline under the directory lock,
// then calls report with the warehouse still open, the run's summary (nil
// when the run never started) and its error. Before anything is written,
// the source checks that the window can start, so that wrong keys or a
// spent budget leave no trace (no warehouse file, no ledger rows, no
// manifest). LoadJob returns report's error.
func LoadJob(ctx context.Context, job Job, report func(load.Warehouse, *Summary, error) error) error {
	if err := CheckPIIKey(job.Layout, job.Policy); err != nil {
		return err
	}
	check := func() error {
		if c, ok := job.Src.(extract.Checker); ok {
			return c.Check(ctx, job.From)
		}
		return nil
	}
	_, statErr := os.Stat(job.Layout.DuckDBPath())
	checked := job.Local && errors.Is(statErr, os.ErrNotExist)
	if checked {
		if err := check(); err != nil {
			return err
		}
	}
	lk, err := lock.Acquire(job.Layout.Dir)
	if err != nil {
		return err
	}
	defer lk.Close()
	wh, err := job.Open(ctx)
	if err != nil {
		return err
	}
	defer wh.Close()
	if job.Budget != nil {
		if err := seedBudget(ctx, wh, job.Budget, job.Project); err != nil {
			return err
		}
	}
	if !checked {
		if err := check(); err != nil {
			return err
		}
	}
	if err := setCreditRates(ctx, wh, job.Rates); err != nil {
		return err
	}
	pl, done, err := job.Pipeline(wh)
	if err != nil {
		return err
	}
	sum, err := pl.Load(ctx, job.Src, job.Command, job.Project, job.From, job.To)
	done()
	return report(wh, sum, err)
}

// ledger is the load_runs reader of a warehouse (DuckDB, BigQuery); false
// for one whose ledger kycetl cannot read back.
func ledger(wh load.Warehouse) (schedules.LoadRuns, bool) {
	r, ok := wh.(load.LedgerReader)
	if !ok {
		return schedules.LoadRuns{}, false
	}
	return schedules.LoadRuns{DB: r.LedgerDB()}, true
}

// seedBudget counts against today's call budget the API calls that earlier
// runs of the project made today (UTC), as the ledger has them. A warehouse
// whose ledger kycetl cannot read leaves the budget as it is.
func seedBudget(ctx context.Context, wh load.Warehouse, b extract.Budget, project string) error {
	l, ok := ledger(wh)
	if !ok {
		return nil
	}
	spent, err := l.Calls(ctx, project, b.Day())
	if err != nil {
		return fmt.Errorf("seeding today's call budget: %w", err)
	}
	b.Spend(spent)
	return nil
}

// setCreditRates replaces the warehouse's credit rate card with rates; nil
// rates, or a warehouse whose card kycetl does not write, keep the card.
func setCreditRates(ctx context.Context, wh load.Warehouse, rates []schema.CreditRate) error {
	rc, ok := wh.(load.RateCard)
	if rates == nil || !ok {
		return nil
	}
	return rc.SetCreditRates(ctx, rates)
}

// Scheduler runs the daemon's jobs through the pipeline. It opens the
// warehouse for each run and closes it after, so that BI tools and kycetl
// status can open the file between runs.
type Scheduler struct {
	layout  archive.Layout
	open    Opener
	sources map[string]Window         // by project name
	kinds   map[string]extract.Source // by project name; see SetSources
	keep    config.Retention          // see SetRetention
	// keyChecked: the PII key was checked against the archive once (see
	// Run); runs are serialised by the daemon, so no lock.
	keyChecked bool
	opts       []Option
	cfg        Pipeline // the options applied: logger and clock
}

var (
	_ schedules.Runner = (*Scheduler)(nil)
	_ schedules.Ledger = (*Scheduler)(nil)
)

// NewScheduler makes a Scheduler loading each project's window from its
// source in sources (by project name) into the warehouse open opens, with
// the pipeline options opts.
func NewScheduler(layout archive.Layout, open Opener, sources map[string]Window, opts ...Option) *Scheduler {
	s := &Scheduler{layout: layout, open: open, sources: sources, opts: opts, keep: config.Retention{SupersededDays: config.KeepAll}}
	s.cfg.now = time.Now
	for _, o := range opts {
		o(&s.cfg)
	}
	return s
}

// SetSources sets the source of each project (by name), whose archive and
// tables its runs use (WithSource); a project not in kinds is loaded as
// opts say, by DefaultSource unless they set another.
func (s *Scheduler) SetSources(kinds map[string]extract.Source) { s.kinds = kinds }

// SetRetention sets the retention the Scheduler prunes to after each run of
// a nightly job (default: keep every version; the warehouse's staging left
// by crashed loads is cleaned all the same), and whether it then compacts
// the warehouse's older months (load.Compactor).
func (s *Scheduler) SetRetention(r config.Retention) { s.keep = r }

// prune runs after a nightly job's run, in its run slot and under the
// daemon's directory lock, so that no run is in progress, then compacts
// when the retention says so; a run being stopped skips both. Their
// failures are logged: the job's outcome is the load's.
func (s *Scheduler) prune(ctx context.Context, wh load.Warehouse, job config.Job) {
	select {
	case <-schedules.StopRequested(ctx):
		return
	default:
	}
	if job.Kind != config.Nightly || ctx.Err() != nil {
		return
	}
	if _, err := Prune(ctx, s.layout, wh, s.keep, s.cfg.now(), false, s.cfg.log); err != nil {
		s.cfg.log.Error().Err(err).Str("job", job.Name).Msg("pruning after the nightly job")
	}
	c, ok := wh.(load.Compactor)
	if !ok || !s.keep.Compacts() || ctx.Err() != nil {
		return
	}
	done, err := c.Compact(ctx, s.cfg.now().UTC().AddDate(0, 0, -s.keep.CompactAfterDays))
	days := 0
	for _, m := range done {
		days += m.Days
	}
	ev := s.cfg.log.Info()
	if err != nil {
		ev = s.cfg.log.Error().Err(err)
	}
	ev.Str("job", job.Name).Int("months", len(done)).Int("day_files", days).Msg("compacting after the nightly job")
}

// Prepare creates the warehouse's tables and writes rates as its credit
// rate card (nil keeps the card), once, before the first tick.
func (s *Scheduler) Prepare(ctx context.Context, rates []schema.CreditRate) error {
	wh, err := s.open(ctx)
	if err != nil {
		return err
	}
	defer wh.Close()
	return setCreditRates(ctx, wh, rates)
}

// SeedBudget counts against project's call budget the API calls that runs
// of the project made today (UTC) before the daemon started, as the
// warehouse's ledger has them (DuckDB's or BigQuery's), so that a restart
// does not start the day's count from zero.
func (s *Scheduler) SeedBudget(ctx context.Context, project string, b extract.Budget) error {
	wh, err := s.open(ctx)
	if err != nil {
		return err
	}
	defer wh.Close()
	if err := seedBudget(ctx, wh, b, project); err != nil {
		return fmt.Errorf("project %s: %w", project, err)
	}
	return nil
}

// History implements schedules.Ledger from the warehouse's load_runs.
func (s *Scheduler) History(ctx context.Context, source, project string, since time.Time) (schedules.History, error) {
	wh, err := s.open(ctx)
	if err != nil {
		return schedules.History{}, err
	}
	defer wh.Close()
	l, ok := ledger(wh)
	if !ok {
		return schedules.History{}, fmt.Errorf("reading the history of %s: %w", project, ErrNoLedger)
	}
	return l.History(ctx, source, project, since)
}

// ErrNoLedger is returned when the warehouse's ledger cannot be read back
// by kycetl (a warehouse that is no load.LedgerReader).
var ErrNoLedger = errors.New("the warehouse's load_runs ledger cannot be read back by kycetl")

// Run implements schedules.Runner.
func (s *Scheduler) Run(ctx context.Context, job config.Job, p config.Project, from, to time.Time) error {
	wh, err := s.open(ctx)
	if err != nil {
		return err
	}
	defer wh.Close()
	defer s.prune(ctx, wh, job)
	opts := s.opts[:len(s.opts):len(s.opts)]
	if k, ok := s.kinds[p.Name]; ok {
		opts = append(opts, WithSource(k))
	}
	// The key is checked against the archive once: the daemon holds the
	// directory lock for its whole life and hashes with one key, so no
	// later run can find the archive changed. Checking it on every run
	// read every manifest each time, work (and garbage) growing with the
	// archive's history (about 19 KB a run per one-day manifest kept:
	// docs/benchmarks.md).
	if !s.keyChecked {
		if err := CheckPIIKey(s.layout, s.cfg.policy); err != nil && !s.cfg.rehash {
			return err
		}
		s.keyChecked = true
	}
	opts = append(opts, func(pl *Pipeline) { pl.keyChecked = true })
	pl, err := New(s.layout, wh, opts...)
	if err != nil {
		return err
	}
	src := BetweenDays(s.sources[p.Name], schedules.StopRequested(ctx))
	command := schedules.Command(job)
	sum, err := pl.Load(ctx, src, command, p.Name, from, to)
	if err == nil || errors.Is(err, ErrDaysFailed) || sum == nil {
		return err
	}
	// The run stopped early: record the days it did not get to, so that
	// the ledger shows the run and catch-up retries them.
	outcome, msg := archive.OutcomeFailed, err.Error()
	if errors.Is(err, ErrStopping) || ctx.Err() != nil {
		outcome, msg = archive.OutcomeSkipped, "abandoned: kycetl schedule was stopping"
	}
	if rerr := recordUnfinished(context.WithoutCancel(ctx), wh, sum.RunID, command, p.Name, from, to, outcome, msg, s.cfg.now().UTC()); rerr != nil {
		s.cfg.log.Error().Err(rerr).Str("run_id", sum.RunID).Msg("recording the days the run did not load")
	}
	return err
}

// recordUnfinished writes a load_runs row with outcome and msg for every
// day of [from, to] that run runID has no row for.
func recordUnfinished(ctx context.Context, wh load.Warehouse, runID, command, project string, from, to time.Time, outcome, msg string, now time.Time) error {
	done := map[time.Time]bool{}
	if l, ok := ledger(wh); ok {
		var err error
		if done, err = l.RunDays(ctx, runID, project); err != nil {
			return fmt.Errorf("recording the unfinished days of run %s: %w", runID, err)
		}
	}
	var days []archive.DayRecord
	for d := window.Day(from); !d.After(to); d = d.AddDate(0, 0, 1) {
		if !done[d] {
			days = append(days, archive.DayRecord{Project: project, Day: window.FormatDate(d), StartedAt: now, FinishedAt: now, Outcome: outcome, Error: msg})
		}
	}
	if len(days) == 0 {
		return nil
	}
	m := &archive.Manifest{RunID: runID, Command: command, WindowFrom: window.FormatDate(from), WindowTo: window.FormatDate(to)}
	return wh.RecordRuns(ctx, m, days)
}

// ErrStopping ends a window when the daemon is asked to stop.
var ErrStopping = errors.New("kycetl schedule is stopping")

// BetweenDays hands src's days on until stop is closed: then the day in
// flight finishes (its context is the run's, cancelled only at the end of
// the grace), a fetch in progress is abandoned, and the window ends before
// the next day with ErrStopping. A nil stop never stops.
func BetweenDays(src Window, stop <-chan struct{}) Window {
	return betweenDays{src: src, stop: stop}
}

type betweenDays struct {
	src  Window
	stop <-chan struct{}
}

func (b betweenDays) Window(ctx context.Context, from, to time.Time, fn func(context.Context, window.DayItems) error) error {
	fetchCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var mu sync.Mutex
	inDay, stopping := false, false
	go func() {
		select {
		case <-b.stop:
			mu.Lock()
			stopping = true
			if !inDay {
				cancel(ErrStopping)
			}
			mu.Unlock()
		case <-fetchCtx.Done():
		}
	}()
	err := b.src.Window(fetchCtx, from, to, func(_ context.Context, d window.DayItems) error {
		mu.Lock()
		if stopping {
			mu.Unlock()
			return ErrStopping
		}
		inDay = true
		mu.Unlock()
		err := fn(ctx, d)
		mu.Lock()
		inDay = false
		if stopping {
			cancel(ErrStopping)
		}
		mu.Unlock()
		return err
	})
	mu.Lock()
	defer mu.Unlock()
	if err != nil && stopping && !errors.Is(err, ErrStopping) {
		return fmt.Errorf("%w (%v)", ErrStopping, err)
	}
	return err
}
