package schedules

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/internal/config"
)

// Runner loads the days [from, to] of project for job. It honours ctx; see
// StopRequested for the clean stop.
type Runner interface {
	Run(ctx context.Context, job config.Job, project config.Project, from, to time.Time) error
}

// Defaults of the clean stop: a run in flight gets Grace to finish its
// current day, then its context is cancelled (the day is abandoned: its
// temporary files are removed and its warehouse transaction rolled back),
// and Run returns within StopTimeout of the stop in any case.
const (
	DefaultGrace       = 20 * time.Second
	DefaultStopTimeout = 30 * time.Second
)

// ErrStopTimeout is returned by Run when a run was still going at the stop
// deadline.
var ErrStopTimeout = errors.New("a run did not stop in time")

// EventKind says what happened to a job.
type EventKind int

// Event kinds.
const (
	Started  EventKind = iota // a run began; From and To are set
	Finished                  // a run ended; Err says how
	Skipped                   // a tick came while the job's previous run was still going
)

func (k EventKind) String() string {
	switch k {
	case Started:
		return "started"
	case Finished:
		return "finished"
	case Skipped:
		return "skipped"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is reported to the WithEvents hook.
type Event struct {
	Kind     EventKind
	Project  string
	Job      string
	From, To time.Time
	Err      error
}

// Daemon fires the jobs of a configuration on their schedules.
type Daemon struct {
	cfg         *config.Config
	runner      Runner
	ledger      Ledger
	log         zerolog.Logger
	now         func() time.Time
	onEvent     func(Event)
	grace       time.Duration
	stopTimeout time.Duration
	// slot is held by the run in progress: runs of different jobs wait
	// for each other rather than load the same partitions at once.
	slot chan struct{}
}

// Option configures a Daemon.
type Option func(*Daemon)

// WithLogger sets the logger (default: none).
func WithLogger(l zerolog.Logger) Option { return func(d *Daemon) { d.log = l } }

// WithClock sets the clock that windows and the announced next fire times
// are computed from (default time.Now); cron's own ticks follow the real
// clock.
func WithClock(now func() time.Time) Option { return func(d *Daemon) { d.now = now } }

// WithEvents sets a hook called on every start, end and skip of a run,
// from the job's goroutine.
func WithEvents(fn func(Event)) Option { return func(d *Daemon) { d.onEvent = fn } }

// WithStop sets how long a run in flight may take to finish its day after
// a stop (grace) and how long Run waits in all (timeout, at least grace).
func WithStop(grace, timeout time.Duration) Option {
	return func(d *Daemon) { d.grace, d.stopTimeout = grace, max(grace, timeout) }
}

// New makes a daemon for cfg's jobs. It checks every schedule.
func New(cfg *config.Config, r Runner, l Ledger, opts ...Option) (*Daemon, error) {
	d := &Daemon{cfg: cfg, runner: r, ledger: l, log: zerolog.Nop(), now: time.Now, onEvent: func(Event) {},
		grace: DefaultGrace, stopTimeout: DefaultStopTimeout, slot: make(chan struct{}, 1)}
	for _, o := range opts {
		o(d)
	}
	for _, p := range cfg.Projects {
		for _, j := range p.Jobs {
			if _, err := config.ParseSchedule(j.Schedule); err != nil {
				return nil, fmt.Errorf("scheduling %s %s: %w", p.Name, j.Name, err)
			}
		}
	}
	return d, nil
}

// location is the schedules' time zone.
func (d *Daemon) location() *time.Location {
	if d.cfg.Location != nil {
		return d.cfg.Location
	}
	return time.UTC
}

type stopKey struct{}

// StopRequested returns a channel closed when the daemon is asked to stop
// (SIGTERM, SIGINT): a Runner should finish the day in flight, start no
// other, and return. ctx itself is cancelled when the grace period ends.
// Outside the daemon it returns nil, which never closes.
func StopRequested(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(stopKey{}).(chan struct{})
	return ch
}

// Run fires the jobs until ctx is cancelled, then stops: no new run
// starts, a run in flight gets the grace period to finish its day and is
// then cancelled, and Run returns within the stop timeout. A job whose
// previous run is still going when its tick comes skips that tick.
func (d *Daemon) Run(ctx context.Context) error {
	stopping := make(chan struct{})
	hard, cancelHard := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancelHard(nil)
	jobCtx := context.WithValue(hard, stopKey{}, stopping)

	c := cron.New(cron.WithLocation(d.location()), cron.WithParser(config.SpecParser()), cron.WithLogger(cronLogger{log: d.log}))
	for _, p := range d.cfg.Projects {
		for _, j := range p.Jobs {
			fire := cron.FuncJob(func() { d.fire(jobCtx, p, j) })
			job := skipWhileRunning(fire, func() {
				d.log.Info().Str("project", p.Name).Str("job", j.Name).Msg("tick skipped: the job's previous run is still going")
				d.onEvent(Event{Kind: Skipped, Project: p.Name, Job: j.Name})
			})
			if _, err := c.AddJob(j.Schedule, job); err != nil {
				return fmt.Errorf("scheduling %s %s: %w", p.Name, j.Name, err)
			}
		}
	}
	c.Start()
	now := d.now().In(d.location())
	for _, p := range d.cfg.Projects {
		for _, j := range p.Jobs {
			next, _ := Next(j.Schedule, now, 1)
			ev := d.log.Info().Str("project", p.Name).Str("job", j.Name).Str("schedule", j.Schedule).Int("lookback_days", j.LookbackDays)
			if len(next) > 0 {
				ev = ev.Time("next", next[0])
			}
			ev.Msg("job scheduled")
		}
	}

	<-ctx.Done()
	d.log.Info().Msg("stopping: no new run starts; a run in flight finishes its day")
	close(stopping)
	done := c.Stop().Done()
	grace := time.NewTimer(d.grace)
	defer grace.Stop()
	select {
	case <-done:
		d.log.Info().Msg("stopped")
		return nil
	case <-grace.C:
	}
	d.log.Warn().Dur("grace", d.grace).Msg("a run is still going: abandoning its day in flight")
	cancelHard(errors.New("kycetl schedule is stopping"))
	rest := time.NewTimer(d.stopTimeout - d.grace)
	defer rest.Stop()
	select {
	case <-done:
		d.log.Info().Msg("stopped")
		return nil
	case <-rest.C:
		return fmt.Errorf("stopping after %s: %w", d.stopTimeout, ErrStopTimeout)
	}
}

// fire runs one tick of job j: it waits for the run slot, reads the
// ledger, computes the window and runs it.
func (d *Daemon) fire(ctx context.Context, p config.Project, j config.Job) {
	stopping := StopRequested(ctx)
	select {
	case d.slot <- struct{}{}:
	case <-stopping:
		return
	case <-ctx.Done():
		return
	}
	defer func() { <-d.slot }()
	select {
	case <-stopping:
		return // the stop came while this tick waited
	default:
	}
	log := d.log.With().Str("project", p.Name).Str("job", j.Name).Logger()
	from, to, err := d.window(ctx, p, j)
	if err != nil {
		log.Error().Err(err).Msg("job not started")
		d.onEvent(Event{Kind: Finished, Project: p.Name, Job: j.Name, Err: err})
		return
	}
	log.Info().Str("from", argos.FormatDate(from)).Str("to", argos.FormatDate(to)).Msg("job started")
	d.onEvent(Event{Kind: Started, Project: p.Name, Job: j.Name, From: from, To: to})
	err = d.runner.Run(ctx, j, p, from, to)
	ev := log.Info()
	if err != nil {
		ev = log.Error().Err(err)
	}
	ev.Str("from", argos.FormatDate(from)).Str("to", argos.FormatDate(to)).Msg("job finished")
	d.onEvent(Event{Kind: Finished, Project: p.Name, Job: j.Name, From: from, To: to, Err: err})
}

// window reads the ledger and computes the days of a run fired now.
func (d *Daemon) window(ctx context.Context, p config.Project, j config.Job) (from, to time.Time, err error) {
	now := d.now()
	since := horizon(j, now)
	h, err := d.ledger.History(ctx, p.Source, p.Name, since)
	if err != nil {
		return from, to, fmt.Errorf("reading the ledger of %s: %w", p.Name, err)
	}
	lastOK := h.LastOK(since, now)
	from, to = Window(j, now, lastOK)
	if look := to.AddDate(0, 0, -j.LookbackDays); from.Before(look) {
		d.log.Info().Str("project", p.Name).Str("job", j.Name).Str("catch_up_from", argos.FormatDate(from)).
			Msg("catching up: the window reaches back to the first day not loaded completely")
	}
	return from, to, nil
}

// skipWhileRunning runs job on each tick unless the job's previous run is
// still going, in which case the tick is skipped and onSkip called.
func skipWhileRunning(job cron.Job, onSkip func()) cron.Job {
	running := make(chan struct{}, 1)
	return cron.FuncJob(func() {
		select {
		case running <- struct{}{}:
			defer func() { <-running }()
			job.Run()
		default:
			onSkip()
		}
	})
}

// cronLogger adapts zerolog to cron's logger: cron's routine messages go to
// debug, its errors to error.
type cronLogger struct {
	log zerolog.Logger
}

var _ cron.Logger = cronLogger{}

func (l cronLogger) Info(msg string, kv ...any) {
	l.log.Debug().Fields(kv).Msg("cron: " + msg)
}

func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error().Err(err).Fields(kv).Msg("cron: " + msg)
}
