package schedules

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"

	"github.com/kycetl/kycetl/internal/config"
	"github.com/kycetl/kycetl/internal/kyctest"
)

// wait is how long a test waits for something that should happen within
// a tick or two; it only bounds a broken test.
const wait = 20 * time.Second

// fakeLedger returns a fixed history and records what it was asked.
type fakeLedger struct {
	h     History
	since []time.Time
}

func (l *fakeLedger) History(_ context.Context, _, _ string, since time.Time) (History, error) {
	l.since = append(l.since, since)
	return l.h, nil
}

// runnerFunc adapts a function to Runner.
type runnerFunc func(ctx context.Context, j config.Job, p config.Project, from, to time.Time) error

func (f runnerFunc) Run(ctx context.Context, j config.Job, p config.Project, from, to time.Time) error {
	return f(ctx, j, p, from, to)
}

func cfgWith(jobs ...config.Job) *config.Config {
	return &config.Config{Location: time.UTC, Projects: []config.Project{{Name: "p", Jobs: jobs}}}
}

func every(name string) config.Job {
	return config.Job{Name: name, Kind: config.Hourly, Schedule: "@every 1s", LookbackDays: 1, MaxCatchUpDays: 10}
}

// TestFireCatchUp drives one tick with a fake clock: the daemon asks the
// ledger from the catch-up horizon on and runs the window it implies.
func TestFireCatchUp(t *testing.T) {
	for _, tc := range []struct {
		now      string
		loaded   []string // days loaded completely
		from, to string
	}{
		{"2025-03-10T02:00:00Z", []string{"2025-03-01", "2025-03-02", "2025-03-03", "2025-03-04", "2025-03-05", "2025-03-06", "2025-03-07", "2025-03-08", "2025-03-09"}, "2025-03-03", "2025-03-10"},
		{"2025-03-10T02:00:00Z", []string{"2025-02-20", "2025-02-21"}, "2025-02-22", "2025-03-10"},
		{"2025-03-10T02:00:00Z", []string{"2024-12-30"}, "2025-02-08", "2025-03-10"}, // capped: max_catchup_days 30
	} {
		h := History{First: day(tc.loaded[0]), Days: map[time.Time]DayState{}}
		for _, d := range tc.loaded {
			h.Days[day(d)] = DayState{OK: true, Complete: true}
		}
		ledger := &fakeLedger{h: h}
		var got [][2]time.Time
		r := runnerFunc(func(_ context.Context, j config.Job, p config.Project, from, to time.Time) error {
			got = append(got, [2]time.Time{from, to})
			return nil
		})
		now := at(tc.now)
		d, err := New(cfgWith(nightly), r, ledger, WithClock(func() time.Time { return now }))
		if err != nil {
			t.Fatal(err)
		}
		d.fire(context.Background(), d.cfg.Projects[0], nightly)
		if len(got) != 1 || !got[0][0].Equal(day(tc.from)) || !got[0][1].Equal(day(tc.to)) {
			t.Errorf("at %s with %v loaded: ran %v, want %s..%s", tc.now, tc.loaded, got, tc.from, tc.to)
		}
		if len(ledger.since) != 1 || !ledger.since[0].Equal(day("2025-02-08")) {
			t.Errorf("ledger asked from %v, want 2025-02-08 (30 days back)", ledger.since)
		}
	}
}

// nextEvent waits for the next event matching ok, failing on the ones
// in forbidden.
func nextEvent(t *testing.T, events <-chan Event, ok func(Event) bool, forbidden func(Event) bool) Event {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case e := <-events:
			if forbidden != nil && forbidden(e) {
				t.Fatalf("unexpected event %+v", e)
			}
			if ok(e) {
				return e
			}
		case <-timeout:
			t.Fatal("no event came")
		}
	}
}

// TestOverlap: while one job's run is going, its next tick is skipped (and
// logged), and the other job waits for it rather than run alongside.
func TestOverlap(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var mu sync.Mutex
	running := 0
	r := runnerFunc(func(ctx context.Context, j config.Job, _ config.Project, _, _ time.Time) error {
		mu.Lock()
		running++
		n := running
		mu.Unlock()
		defer func() { mu.Lock(); running--; mu.Unlock() }()
		if n > 1 {
			return errors.New("two runs at once")
		}
		<-release
		return nil
	})
	events := make(chan Event, 100)
	var logs kyctest.SyncBuffer
	d, err := New(cfgWith(every("a"), every("b")), r, &fakeLedger{}, WithEvents(func(e Event) { events <- e }),
		WithLogger(zerolog.New(&logs)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()

	first := nextEvent(t, events, func(e Event) bool { return e.Kind == Started }, nil)
	other := map[string]string{"a": "b", "b": "a"}[first.Job]
	startedOther := func(e Event) bool { return e.Kind == Started && e.Job == other }
	nextEvent(t, events, func(e Event) bool { return e.Kind == Skipped && e.Job == first.Job }, startedOther)
	// The other job's tick has come by now; it waits for the slot.
	close(release)
	nextEvent(t, events, startedOther, nil)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Run did not return after cancel")
	}
	if !strings.Contains(logs.String(), `"job":"`+first.Job+`","message":"tick skipped: the job's previous run is still going"`) {
		t.Errorf("no skip in the log:\n%s", logs.String())
	}
	for {
		select {
		case e := <-events:
			if e.Err != nil {
				t.Errorf("run failed: %+v", e)
			}
			continue
		default:
		}
		break
	}
}

// TestStop checks the clean stop: a run that finishes its day when asked
// to stop; one that does not, abandoned (cancelled) at the end of the
// grace; one that does not even honour cancellation, left behind at the
// deadline.
func TestStop(t *testing.T) {
	for _, tc := range []struct {
		name      string
		run       func(ctx context.Context, release <-chan struct{}) error
		daemonErr error // what Run returns
		runErr    error // what the run returned, when Run waited for it
	}{
		{"finishes its day", func(ctx context.Context, _ <-chan struct{}) error {
			<-StopRequested(ctx)
			return ctx.Err() // nil: asked to stop, not cancelled
		}, nil, nil},
		{"abandoned after the grace", func(ctx context.Context, _ <-chan struct{}) error {
			<-ctx.Done()
			return ctx.Err()
		}, nil, context.Canceled},
		{"left behind at the deadline", func(ctx context.Context, release <-chan struct{}) error {
			<-release
			return nil
		}, ErrStopTimeout, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			defer close(release)
			results := make(chan error, 10)
			started := make(chan struct{}, 10)
			r := runnerFunc(func(ctx context.Context, _ config.Job, _ config.Project, _, _ time.Time) error {
				started <- struct{}{}
				err := tc.run(ctx, release)
				results <- err
				return err
			})
			d, err := New(cfgWith(every("j")), r, &fakeLedger{}, WithStop(100*time.Millisecond, 500*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- d.Run(ctx) }()
			select {
			case <-started:
			case <-time.After(wait):
				t.Fatal("the job never started")
			}
			cancel() // as SIGTERM does through signal.NotifyContext
			select {
			case err := <-done:
				if !errors.Is(err, tc.daemonErr) {
					t.Errorf("Run = %v, want %v", err, tc.daemonErr)
				}
			case <-time.After(wait):
				t.Fatal("Run did not return")
			}
			if tc.daemonErr != nil {
				return // the run is still going
			}
			select {
			case err := <-results:
				if !errors.Is(err, tc.runErr) {
					t.Errorf("the run returned %v, want %v", err, tc.runErr)
				}
			default:
				t.Error("Run returned before the run did")
			}
		})
	}
}

func TestNewRefusesBadSchedule(t *testing.T) {
	_, err := New(cfgWith(config.Job{Name: "x", Schedule: "every day"}), runnerFunc(nil), &fakeLedger{})
	if !errors.Is(err, config.ErrBadSchedule) || !strings.Contains(err.Error(), "scheduling p x") {
		t.Errorf("New = %v, want ErrBadSchedule naming project p's job x", err)
	}
}

func TestStopRequestedOutsideDaemon(t *testing.T) {
	if ch := StopRequested(context.Background()); ch != nil {
		t.Error("a plain context has a stop channel")
	}
}

// TestRunAnnouncesNextFireByTheClock: the next fire time Run logs for each
// job is computed from the daemon's clock, in the schedules' time zone.
func TestRunAnnouncesNextFireByTheClock(t *testing.T) {
	cfg := cfgWith(config.Job{Name: "nightly", Kind: config.Nightly, Schedule: "0 2 * * *", LookbackDays: 7, MaxCatchUpDays: 30})
	cfg.Location = time.FixedZone("UTC-5", -5*3600)
	now := at("2025-03-10T01:30:00Z") // 2025-03-09 20:30 in UTC-5
	var logs kyctest.SyncBuffer
	d, err := New(cfg, runnerFunc(nil), &fakeLedger{}, WithClock(func() time.Time { return now }), WithLogger(zerolog.New(&logs)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Run announces the jobs, then stops at once
	if err := d.Run(ctx); err != nil {
		t.Fatal(err)
	}
	var scheduled struct {
		Job  string    `json:"job"`
		Next time.Time `json:"next"`
	}
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, `"message":"job scheduled"`) {
			if err := json.Unmarshal([]byte(line), &scheduled); err != nil {
				t.Fatal(err)
			}
		}
	}
	if want := at("2025-03-10T07:00:00Z"); scheduled.Job != "nightly" || !scheduled.Next.Equal(want) {
		t.Errorf("announced %q next at %s, want nightly at %s (02:00 UTC-5 after the clock's %s)\n%s",
			scheduled.Job, scheduled.Next, want, now, logs.String())
	}
}

// TestSkipWhileRunning: a tick that comes while the job's previous run is
// going is skipped and reported; once the run has ended, the next tick runs.
func TestSkipWhileRunning(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	runs, skips := 0, 0
	job := skipWhileRunning(cron.FuncJob(func() {
		runs++
		started <- struct{}{}
		<-release
	}), func() { skips++ })
	done := make(chan struct{})
	go func() { job.Run(); close(done) }()
	<-started
	job.Run() // the first run is going: skipped at once
	if skips != 1 {
		t.Errorf("a tick during a run: %d skips, want 1", skips)
	}
	close(release)
	<-done
	go job.Run()
	<-started // the next tick runs
	if runs != 2 || skips != 1 {
		t.Errorf("%d runs and %d skips, want 2 and 1", runs, skips)
	}
}
