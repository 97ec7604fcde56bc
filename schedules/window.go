// Package schedules runs kycetl's scheduled jobs: a daemon on robfig/cron
// that fires each configured job, computes the days the run loads —
// the job's look-back, extended back over any gap left by downtime or
// failed days (catch-up) — and hands them to a Runner, never two runs at
// once, and stops cleanly. Which days a run loads is a pure function of
// time and of the ledger (load_runs), tested with tables of times.
package schedules

import (
	"fmt"
	"time"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/internal/config"
)

// CommandPrefix starts the load_runs command of every scheduled run.
const CommandPrefix = "schedule:"

// Command is the load_runs command recorded for a job's runs,
// "schedule:<job name>": with the project, it finds the job's runs.
func Command(j config.Job) string { return CommandPrefix + j.Name }

// Window returns the UTC days [from, to] that a run of j fired at firedAt
// loads: the look-back [today-LookbackDays, today], reaching further back to
// the day after lastOK when that is earlier, so that no day is skipped after
// downtime — but never before today-max(MaxCatchUpDays, LookbackDays).
//
// lastOK is the last day loaded completely (see History.LastOK), or zero
// when nothing is known. The run starts after lastOK, not at it: lastOK was
// loaded after it had ended, so it holds every submission of that day, and
// later status changes on it are the look-back's and the reconcile's job.
func Window(j config.Job, firedAt, lastOK time.Time) (from, to time.Time) {
	to = argos.Day(firedAt)
	from = to.AddDate(0, 0, -j.LookbackDays)
	if lastOK.IsZero() {
		return from, to
	}
	if next := argos.Day(lastOK).AddDate(0, 0, 1); next.Before(from) {
		from = next
		if h := horizon(j, firedAt); from.Before(h) {
			from = h
		}
	}
	return from, to
}

// horizon is the earliest day a run of j fired at firedAt may load.
func horizon(j config.Job, firedAt time.Time) time.Time {
	return argos.Day(firedAt).AddDate(0, 0, -max(j.MaxCatchUpDays, j.LookbackDays))
}

// Next returns the n fire times of spec after `after`, in after's location
// (a CRON_TZ= prefix in spec overrides it), as the daemon would fire them.
func Next(spec string, after time.Time, n int) ([]time.Time, error) {
	s, err := config.ParseSchedule(spec)
	if err != nil {
		return nil, err
	}
	var out []time.Time
	for t := after; len(out) < n; {
		t = s.Next(t)
		if t.IsZero() {
			break // a schedule that never fires again, such as 30 February
		}
		out = append(out, t)
	}
	return out, nil
}

// prevSpans are the look-behinds Prev tries, shortest first, so that a
// frequent schedule costs few steps and a yearly one is still found.
var prevSpans = []time.Duration{time.Minute, time.Hour, 25 * time.Hour, 8 * 24 * time.Hour, 32 * 24 * time.Hour, 367 * 24 * time.Hour}

// Prev returns the last fire time of spec at or before t, in t's location,
// or zero when it did not fire within the year before t. For @every
// schedules, whose ticks count from the daemon's start, it is approximate.
func Prev(spec string, t time.Time) (time.Time, error) {
	s, err := config.ParseSchedule(spec)
	if err != nil {
		return time.Time{}, err
	}
	for _, span := range prevSpans {
		var last time.Time
		for next, steps := s.Next(t.Add(-span)), 0; !next.IsZero() && !next.After(t); next, steps = s.Next(next), steps+1 {
			if steps > 100_000 {
				return time.Time{}, fmt.Errorf("finding the previous fire time of %q: too many steps", spec)
			}
			last = next
		}
		if !last.IsZero() {
			return last, nil
		}
	}
	return time.Time{}, nil
}
