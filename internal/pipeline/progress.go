package pipeline

import (
	"fmt"
	"time"

	"github.com/rs/zerolog"
)

// Defaults of WithProgress: a progress line after every tenth of a run's
// days, and at least every DefaultProgressInterval, whichever comes first.
const (
	DefaultProgressParts    = 10
	DefaultProgressInterval = 30 * time.Second
)

// WithProgress sets how often a long run logs its progress (an info line
// with days done of the total, elapsed time and ETA): after every
// total/parts days, and when interval has passed since the last line,
// whichever comes first; never more than once per day done. parts < 1
// turns the lines off.
func WithProgress(parts int, interval time.Duration) Option {
	return func(pl *Pipeline) { pl.progressParts, pl.progressEvery = parts, interval }
}

// progress logs a run's progress at a bounded rate. Its methods are called
// with the run's mutex held.
type progress struct {
	log      zerolog.Logger
	now      func() time.Time
	start    time.Time
	total    int
	step     int           // days between lines
	every    time.Duration // time between lines
	done     int
	lastDone int
	lastAt   time.Time
}

// newProgress returns the progress of a run of total days, nil when it is
// too short for progress lines or they are off.
func (p *Pipeline) newProgress(log zerolog.Logger, start time.Time, total int) *progress {
	if p.progressParts < 1 || total < 2 {
		return nil
	}
	return &progress{log: log, now: p.now, start: start, total: total, step: max(total/p.progressParts, 1),
		every: p.progressEvery, lastAt: start}
}

// day counts one day done (loaded, failed or skipped) and logs a line when
// one is due.
func (g *progress) day() {
	if g == nil {
		return
	}
	g.done++
	now := g.now()
	if g.done < g.total && g.done-g.lastDone < g.step && (g.every <= 0 || now.Sub(g.lastAt) < g.every) {
		return
	}
	g.lastDone, g.lastAt = g.done, now
	elapsed := now.Sub(g.start)
	ev := g.log.Info().Int("days_done", g.done).Int("days_total", g.total).
		Str("percent", fmt.Sprintf("%.0f%%", 100*float64(g.done)/float64(g.total))).Float64("elapsed_seconds", elapsed.Seconds())
	if left := g.total - g.done; left > 0 {
		eta := time.Duration(float64(elapsed) / float64(g.done) * float64(left))
		ev = ev.Float64("eta_seconds", eta.Round(time.Second).Seconds()).Time("eta", now.Add(eta).UTC())
	}
	ev.Msg("progress")
}
