package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/kycetl/kycetl/extract"
	"github.com/kycetl/kycetl/internal/window"
	"github.com/kycetl/kycetl/load/archive"
)

// Import loads exported submissions from files: NDJSON (one submission per
// line) or API pages ({"Items": [...]}, one or several per file, or a JSON
// array of submissions), plain, gzip or zstd (told by their magic bytes).
// Items are first split by their created_at day into raw archive files, then
// every day is derived from its file, so memory stays bounded whatever the
// input size.
//
// An export file is not a whole day the way an API day is: each day's new
// raw file holds the items of the day's current version first, then the
// imported ones, and a submission present more than once keeps its newest
// updated_at (the imported copy on a tie). An import so adds to and
// updates the days it touches; it never drops what they held. A file that
// holds no item at all is an error (ErrNoItems) naming it.
func (p *Pipeline) Import(ctx context.Context, project string, files []string) (*Summary, error) {
	if err := archive.ValidateProject(project); err != nil {
		return nil, err
	}
	if extract.IsSnapshot(p.source) {
		return nil, fmt.Errorf("%w: %s's days are snapshots of its API, pulled on the day itself", ErrNoImport, p.source.Name())
	}
	ms, err := p.layout.ReadManifests()
	if err != nil {
		return nil, fmt.Errorf("reading manifests: %w", err)
	}
	r, err := p.begin("import", time.Time{}, time.Time{})
	if err != nil {
		return nil, err
	}
	r.batch.deferred = true
	sp := &splitter{p: p, r: r, project: project, current: archive.Current(ms), days: map[time.Time]*rawDayFile{}}
	for _, name := range files {
		if err = sp.file(ctx, name); err != nil {
			break
		}
	}
	if err == nil {
		err = sp.close()
	} else {
		sp.abort()
	}
	if err != nil {
		return r.finish(err)
	}
	p.log.Info().Str("run_id", r.m.RunID).Int("days", len(sp.days)).Float64("seconds", p.now().Sub(r.start).Seconds()).Msg("import split into raw day files")
	days := make([]time.Time, 0, len(sp.days))
	for d := range sp.days {
		days = append(days, d)
	}
	sort.Slice(days, func(i, j int) bool { return days[i].Before(days[j]) })
	if len(days) > 0 {
		r.m.WindowFrom, r.m.WindowTo = window.FormatDate(days[0]), window.FormatDate(days[len(days)-1])
	}
	keys := make([]archive.PartitionKey, len(days))
	for i, d := range days {
		keys[i] = archive.PartitionKey{Source: p.source.Name(), Project: project, Day: window.FormatDate(d)}
	}
	if err := r.plan(ctx, keys); err != nil {
		return r.finish(err)
	}
	err = inParallel(ctx, p.workers, days, func(ctx context.Context, d time.Time) error {
		b := sp.days[d]
		rec := r.newDay(p.source.Name(), project, d)
		e, err := p.layout.Entry(archive.RawTable, b.fi)
		if err != nil {
			return err
		}
		rec.Files, rec.Bytes = append(rec.Files, e), b.fi.Bytes
		return r.loadDay(ctx, rec, p.source, b.fi.Path, b.copies)
	})
	if err == nil {
		err = ctx.Err()
	}
	return r.finish(err)
}

// ErrNoImport: the source has no export to import.
var ErrNoImport = errors.New("the source has no export to import")

// Rebuild re-derives every current partition (the newest complete version
// of each project and day) from the raw archive, with no API call, and
// reloads the warehouse. Each day is derived by the source whose raw
// archive holds it (see rawSources).
func (p *Pipeline) Rebuild(ctx context.Context) (*Summary, error) {
	ms, err := p.layout.ReadManifests()
	if err != nil {
		return nil, fmt.Errorf("reading manifests: %w", err)
	}
	cur := archive.Current(ms)
	keys := make([]archive.PartitionKey, 0, len(cur))
	for k := range cur {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].Project < keys[j].Project || keys[i].Project == keys[j].Project && keys[i].Day < keys[j].Day
	})
	srcs, err := p.rawSources(cur)
	if err != nil {
		return nil, err
	}
	r, err := p.begin("rebuild", time.Time{}, time.Time{})
	if err != nil {
		return nil, err
	}
	r.batch.deferred = true
	// The keys are sorted by project first: the window is the earliest and
	// the latest day of any project.
	for _, k := range keys {
		if r.m.WindowFrom == "" || k.Day < r.m.WindowFrom {
			r.m.WindowFrom = k.Day
		}
		if k.Day > r.m.WindowTo {
			r.m.WindowTo = k.Day
		}
	}
	if err := r.plan(ctx, keys); err != nil {
		return r.finish(err)
	}
	err = inParallel(ctx, p.workers, keys, func(ctx context.Context, k archive.PartitionKey) error {
		day, _ := window.ParseDate(k.Day)
		rec := r.newDay(k.Source, k.Project, day)
		var raw *archive.FileEntry
		for i, f := range cur[k].Files {
			if f.Table == archive.RawTable {
				raw = &cur[k].Files[i]
			}
		}
		if raw == nil {
			return r.commit(ctx, rec, fmt.Errorf("no raw file recorded for %s %s", k.Project, k.Day))
		}
		path, err := p.layout.Abs(raw.Path)
		if err != nil {
			return r.commit(ctx, rec, err)
		}
		src := srcs[k]
		dup, err := supersededCopies(path, src.NewKeyReader().Scan, r.readKeys())
		if err != nil {
			return r.commit(ctx, rec, err)
		}
		rec.Files = append(rec.Files, *raw)
		return r.loadDay(ctx, rec, src, path, dup)
	})
	if err == nil {
		err = ctx.Err()
	}
	return r.finish(err)
}

// rawSources finds the source of every current partition with a raw file:
// the one whose directory under raw/ holds the file (archive.RawSource),
// the pipeline's own source or a listed one. A partition of a source that
// is not listed is an *UnknownSourceError, before anything is rebuilt.
func (p *Pipeline) rawSources(cur map[archive.PartitionKey]*archive.DayRecord) (map[archive.PartitionKey]extract.Source, error) {
	out := make(map[archive.PartitionKey]extract.Source, len(cur))
	for k, rec := range cur {
		for _, f := range rec.Files {
			if f.Table != archive.RawTable {
				continue
			}
			name, err := archive.RawSource(f.Path)
			if err != nil {
				return nil, fmt.Errorf("rebuilding %s %s: %w", k.Project, k.Day, err)
			}
			src := p.source
			if name != src.Name() {
				if src, err = SourceNamed(name); err != nil {
					return nil, fmt.Errorf("rebuilding %s %s from %s: %w", k.Project, k.Day, f.Path, err)
				}
			}
			out[k] = src
		}
	}
	return out, nil
}

// supersededCopies scans a raw file for submissions present more than once
// (an import keeps every copy it was given) and finds all but the newest,
// by updated_at, reading identities with readKey (a KeyReader's Scan, or
// its checking Read).
func supersededCopies(rawPath string, readKey func([]byte) (window.Key, error), keys archive.ReadOption) (*copies, error) {
	c := newCopies()
	err := archive.ReadRaw(rawPath, func(ord int, item []byte) error {
		if k, err := readKey(item); err == nil {
			c.add(ord, k)
		} // else quarantined when derived
		return nil
	}, keys)
	c.drop()
	return c, err
}
