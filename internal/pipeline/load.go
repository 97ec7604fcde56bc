package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kycetl/kycetl/extract"
	"github.com/kycetl/kycetl/internal/window"
	"github.com/kycetl/kycetl/load/archive"
)

// Window is what a load needs from extraction: the items of every day of a
// window, one day at a time (a source's extract.Fetcher).
type Window = extract.Fetcher

// Load extracts the window [from, to] for project and loads every day:
// raw archive, Parquet, warehouse. command names the run in the ledger.
func (p *Pipeline) Load(ctx context.Context, src Window, command, project string, from, to time.Time) (*Summary, error) {
	r, err := p.begin(command, from, to)
	if err != nil {
		return nil, err
	}
	r.progress = p.newProgress(p.log.With().Str("run_id", r.m.RunID).Str("project", project).Logger(), r.start, int(to.Sub(from).Hours()/24)+1)
	var keys []archive.PartitionKey
	for d := window.Day(from); !d.After(to); d = d.AddDate(0, 0, 1) {
		keys = append(keys, archive.PartitionKey{Source: p.source.Name(), Project: project, Day: window.FormatDate(d)})
	}
	if err := r.plan(ctx, keys); err != nil {
		return r.finish(err)
	}
	err = src.Window(ctx, from, to, func(ctx context.Context, d window.DayItems) error {
		rec := r.newDay(p.source.Name(), project, d.Day)
		rec.Pages, rec.APICalls, rec.Retries = d.Stats.Pages, d.Stats.Calls, d.Stats.Retries
		rec.WaitSeconds, rec.ThrottledSeconds = d.Stats.Waited.Seconds(), d.Stats.Throttled.Seconds()
		path, err := r.writeDayRaw(ctx, rec, d)
		if err != nil {
			return r.commit(ctx, rec, err)
		}
		return r.loadDay(ctx, rec, r.p.source, path, nil)
	})
	// Days the extraction could not complete (their API day or a margin
	// day failed after retries, or the call budget ran out) were never
	// handed on, so their previous partitions stand; they are recorded.
	// They are committed together, in one manifest rewrite and one ledger
	// write, and the days the budget left out are logged in one line: a
	// budget stop early in a long backfill leaves thousands of them.
	var de *window.DayErrors
	if errors.As(err, &de) {
		recs := make([]*archive.DayRecord, len(de.Days))
		errs := make([]error, len(de.Days))
		skipped := 0
		for i, f := range de.Days {
			rec := r.newDay(p.source.Name(), project, f.Day)
			rec.Pages, rec.APICalls, rec.Retries = f.Stats.Pages, f.Stats.Calls, f.Stats.Retries
			rec.WaitSeconds, rec.ThrottledSeconds = f.Stats.Waited.Seconds(), f.Stats.Throttled.Seconds()
			if f.Skipped() {
				rec.Outcome = archive.OutcomeSkipped
				skipped++
			}
			recs[i], errs[i] = rec, f.Err
		}
		if skipped > 0 {
			r.p.log.Warn().Str("run_id", r.m.RunID).Str("project", project).Int("days", skipped).
				Str("first_day", window.FormatDate(de.Budget.ContinueFrom)).Err(de.Budget).Msg("days not loaded: the call budget ran out")
		}
		if cerr := r.commitDays(ctx, recs, errs); cerr != nil {
			err = errors.Join(err, cerr)
		}
		if de.Budget == nil {
			err = fmt.Errorf("%w: %w", ErrDaysFailed, de)
		}
	}
	if err != nil {
		err = fmt.Errorf("loading %s %s..%s: %w", project, r.m.WindowFrom, r.m.WindowTo, err)
	}
	return r.finish(err)
}

// writeDayRaw writes a day's items to the raw archive and records the file;
// a day that streams (window.DayItems.Stream) is fetched as it is written,
// and its work added to rec.
func (r *run) writeDayRaw(ctx context.Context, rec *archive.DayRecord, d window.DayItems) (string, error) {
	items := func(yield func([]byte) error) error {
		for _, it := range d.Items {
			if err := yield(it.Raw); err != nil {
				return err
			}
		}
		// Unreadable items go to the raw archive too: the flattener
		// quarantines them, and a rebuild quarantines them again.
		for _, b := range d.Bad {
			if err := yield(b.Raw); err != nil {
				return err
			}
		}
		if d.Stream == nil {
			return nil
		}
		st, err := d.Stream(ctx, yield)
		rec.Pages, rec.APICalls, rec.Retries = rec.Pages+st.Pages, rec.APICalls+st.Calls, rec.Retries+st.Retries
		rec.WaitSeconds, rec.ThrottledSeconds = rec.WaitSeconds+st.Waited.Seconds(), rec.ThrottledSeconds+st.Throttled.Seconds()
		return err
	}
	fi, err := r.writeRaw(r.p.layout.RawPath(r.p.source.Name(), rawDayColumn(r.p.source), rec.Project, d.Day, r.m.RunID), items)
	if err != nil {
		return "", fmt.Errorf("writing raw archive: %w", err)
	}
	e, err := r.p.layout.Entry(archive.RawTable, fi)
	if err != nil {
		return "", err
	}
	rec.Files = append(rec.Files, e)
	rec.Bytes += fi.Bytes
	return fi.Path, nil
}
