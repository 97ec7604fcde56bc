// Package pipeline runs kycetl's loads: every day's items go to the raw
// archive first, and every partition is derived from its raw file — by the
// flattener into Parquet, then into the warehouse — so that an API load, an
// import and a rebuild share one path. Each completed day is recorded in the
// run's manifest and in the load_runs ledger as soon as it is done.
//
// A pipeline loads and imports one source's days (extract.Source: its raw
// archive, its tables, its flattener, its items' keys; WithSource), a
// rebuild derives each day with the source whose raw archive holds it, and
// it names no vendor but in the list of sources (sources.go). It is also the one place that orchestrates a run around
// the load — the directory lock, the PII key check, the source's check
// before anything is written, the call budget seeded from the ledger, the
// rate card, the daemon's runs and their unfinished days — so that the
// command line only parses flags and the environment.
package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"filippo.io/age"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/rs/zerolog"
	"github.com/valyala/fastjson"
	"golang.org/x/sync/errgroup"

	"github.com/kycetl/kycetl/extract"
	"github.com/kycetl/kycetl/internal/window"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/transform"
	"github.com/kycetl/kycetl/transform/pii"
	"github.com/kycetl/kycetl/transform/schema"
)

// Pipeline loads partitions into an archive and a warehouse.
type Pipeline struct {
	layout archive.Layout
	wh     load.Warehouse
	source extract.Source // see WithSource
	policy *pii.Policy
	log    zerolog.Logger
	now    func() time.Time
	onDay  func(archive.DayRecord)
	// workers derive days in parallel; whMu serialises the warehouse
	// loads, which a single-writer warehouse (DuckDB) needs anyway.
	workers int
	whMu    sync.Mutex
	rehash  bool // see WithRehash
	// recipients and identities: see WithRecipients, WithIdentities.
	recipients []age.Recipient
	identities []age.Identity
	// keyChecked: the caller checked the PII key against this archive
	// and nothing else can have written it since (see Scheduler.Run).
	keyChecked bool
	// progressParts and progressEvery: see WithProgress.
	progressParts int
	progressEvery time.Duration
}

// Option configures a Pipeline.
type Option func(*Pipeline)

// WithPolicy sets the PII policy (required when any column is hashed).
func WithPolicy(p *pii.Policy) Option { return func(pl *Pipeline) { pl.policy = p } }

// WithLogger sets the logger.
func WithLogger(l zerolog.Logger) Option { return func(pl *Pipeline) { pl.log = l } }

// WithClock sets the clock used for run IDs and timings.
func WithClock(now func() time.Time) Option { return func(pl *Pipeline) { pl.now = now } }

// WithDayHook is called after every day, done or failed (progress bars).
func WithDayHook(fn func(archive.DayRecord)) Option { return func(pl *Pipeline) { pl.onDay = fn } }

// WithWorkers sets how many days are derived (flattened and written as
// Parquet) at once; the default is one per CPU.
func WithWorkers(n int) Option { return func(pl *Pipeline) { pl.workers = n } }

// WithSource sets the source whose days the pipeline loads, imports,
// archives and derives; the default is DefaultSource. A rebuild derives
// each day with the source whose raw archive holds it.
func WithSource(s extract.Source) Option { return func(pl *Pipeline) { pl.source = s } }

// WithRecipients encrypts the raw files the pipeline writes to the age
// recipients (archive.WithRecipients); without any they are plain.
func WithRecipients(rs ...age.Recipient) Option {
	return func(pl *Pipeline) { pl.recipients = rs }
}

// WithIdentities gives the age identities that encrypted raw files of
// earlier runs are read with (a rebuild, an import merging with a day).
func WithIdentities(ids ...age.Identity) Option {
	return func(pl *Pipeline) { pl.identities = ids }
}

// New makes a Pipeline writing under layout and loading into wh.
func New(layout archive.Layout, wh load.Warehouse, opts ...Option) (*Pipeline, error) {
	p := &Pipeline{layout: layout, wh: wh, source: DefaultSource, log: zerolog.Nop(), now: time.Now, onDay: func(archive.DayRecord) {},
		workers: runtime.GOMAXPROCS(0), progressParts: DefaultProgressParts, progressEvery: DefaultProgressInterval}
	for _, o := range opts {
		o(p)
	}
	if p.workers < 1 {
		return nil, fmt.Errorf("pipeline workers must be at least 1, got %d", p.workers)
	}
	if p.policy == nil {
		pol, err := pii.New()
		if err != nil {
			return nil, err
		}
		p.policy = pol
	}
	return p, nil
}

// Summary sums up a run, for the one-line report and exit codes.
type Summary struct {
	RunID       string
	Command     string
	Days        int
	Failed      []string // "project day: error", one per failed day
	Pages       int64
	APICalls    int64
	Retries     int64
	Submissions int64
	Quarantined int64
	Bytes       int64
	Duration    time.Duration
	// Manifest is the run's final manifest: its window and every day it
	// recorded, as the ledger has them.
	Manifest *archive.Manifest
}

// String is the one-line summary of a run.
func (s *Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d days, %d pages, %d API calls, %d submissions, %d quarantined, %.1f MB written in %.1fs",
		s.Command, s.RunID, s.Days, s.Pages, s.APICalls, s.Submissions, s.Quarantined, float64(s.Bytes)/1e6, s.Duration.Seconds())
	if len(s.Failed) > 0 {
		fmt.Fprintf(&b, "; %d days FAILED", len(s.Failed))
	}
	return b.String()
}

// ErrDaysFailed is returned (wrapped) when some days of a run failed and the
// others were loaded.
var ErrDaysFailed = errors.New("some days failed")

// run is one run in progress: its manifest and totals.
type run struct {
	p     *Pipeline
	batch *batch
	mu    sync.Mutex
	m     *archive.Manifest
	sum   Summary
	start time.Time
	sizes *transform.Sizes // the days' batch sizes, shared by their flatteners
	// durable makes the run's files durable together, before a manifest
	// or the warehouse names them (writeManifest, batch.load).
	durable *archive.SyncGroup
	// planned holds the days recorded planned in the ledger and not
	// finished yet (see plan).
	planned map[archive.PartitionKey]bool
	// progress logs a long run's progress; nil when there is none to log.
	progress *progress
	// own is the run's own age identity, made for it and never stored:
	// the raw files it writes are encrypted to it too, so that it reads
	// them back without any identity of the archive's recipients.
	own *age.X25519Identity
}

func (p *Pipeline) begin(command string, from, to time.Time) (*run, error) {
	if err := p.checkPIIKey(); err != nil {
		return nil, err
	}
	durable, err := archive.NewSyncGroup(p.layout.Dir)
	if err != nil {
		return nil, err
	}
	now := p.now().UTC()
	last, err := p.layout.LastRunID()
	if err != nil {
		return nil, err
	}
	m := &archive.Manifest{
		RunID: archive.NewRunID(now, last), Command: command, SchemaVersion: schema.Version,
		StartedAt: now, PIIKey: p.policy.Fingerprint(),
	}
	if !from.IsZero() {
		m.WindowFrom, m.WindowTo = window.FormatDate(from), window.FormatDate(to)
	}
	r := &run{p: p, m: m, start: now, sum: Summary{RunID: m.RunID, Command: command}, sizes: transform.NewSizes(), durable: durable,
		planned: map[archive.PartitionKey]bool{}}
	r.batch = &batch{r: r, size: 1}
	if len(p.recipients) > 0 {
		if r.own, err = age.GenerateX25519Identity(); err != nil {
			return nil, fmt.Errorf("making the run's own age identity: %w", err)
		}
	}
	if b, ok := p.wh.(load.Batcher); ok && b.BatchDays() > 1 {
		r.batch.size = b.BatchDays()
	}
	p.log.Info().Str("run_id", m.RunID).Str("command", command).Str("from", m.WindowFrom).Str("to", m.WindowTo).Msg("run started")
	return r, nil
}

// newDay starts the record of one partition.
func (r *run) newDay(source, project string, day time.Time) *archive.DayRecord {
	return &archive.DayRecord{Source: source, Project: project, Day: window.FormatDate(day), StartedAt: r.p.now().UTC(), Rows: map[string]int64{}}
}

// plan records in the ledger, before any of them is loaded, every day the
// run sets out to load, as planned: each row is replaced when its day
// finishes, so a run killed before the end (kill -9, a crash) leaves the
// days it never finished on record, and status shows it interrupted.
func (r *run) plan(ctx context.Context, keys []archive.PartitionKey) error {
	if len(keys) == 0 {
		return nil
	}
	days := make([]archive.DayRecord, len(keys))
	r.mu.Lock()
	for i, k := range keys {
		days[i] = archive.DayRecord{Source: k.Source, Project: k.Project, Day: k.Day, StartedAt: r.start, Outcome: archive.OutcomePlanned}
		r.planned[k] = true
	}
	r.mu.Unlock()
	r.p.whMu.Lock()
	err := r.p.wh.RecordRuns(context.WithoutCancel(ctx), r.m, days)
	r.p.whMu.Unlock()
	if err != nil {
		return fmt.Errorf("recording the %d planned days of run %s: %w", len(days), r.m.RunID, err)
	}
	return nil
}

// unfinished records the planned days the run did not get to, skipped:
// it is ending (stopped, or failed before them).
func (r *run) unfinished(cause error) error {
	r.mu.Lock()
	var recs []*archive.DayRecord
	var errs []error
	for k := range r.planned {
		day, err := window.ParseDate(k.Day)
		if err != nil {
			continue
		}
		rec := r.newDay(k.Source, k.Project, day)
		rec.Outcome = archive.OutcomeSkipped
		recs = append(recs, rec)
		errs = append(errs, fmt.Errorf("not loaded: the run ended before this day (%w)", cause))
	}
	r.mu.Unlock()
	if len(recs) == 0 {
		return nil
	}
	return r.commitDays(context.Background(), recs, errs)
}

// commit records a finished day (done or failed) in the manifest, rewritten
// atomically so that a crash leaves it true, and in the ledger.
func (r *run) commit(ctx context.Context, rec *archive.DayRecord, dayErr error) error {
	return r.commitDays(ctx, []*archive.DayRecord{rec}, []error{dayErr})
}

// commitDays records finished days together: one manifest rewrite and one
// ledger write for all of them, which keeps a long import's bookkeeping
// linear (the manifest grows with every day).
func (r *run) commitDays(ctx context.Context, recs []*archive.DayRecord, dayErrs []error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	done := make([]archive.DayRecord, len(recs))
	for i, rec := range recs {
		r.record(rec, dayErrs[i])
		done[i] = *rec
	}
	if err := r.writeManifest(); err != nil {
		return err
	}
	// The ledger is written even when the run is being stopped, so that a
	// stopped day is on record.
	r.p.whMu.Lock()
	err := r.p.wh.RecordRuns(context.WithoutCancel(ctx), r.m, done)
	r.p.whMu.Unlock()
	if err != nil {
		return fmt.Errorf("recording load_runs of %d days from %s %s: %w", len(done), done[0].Project, done[0].Day, err)
	}
	return nil
}

// writeManifest rewrites the run's manifest atomically, once every file it
// names is durable; r.mu is held.
func (r *run) writeManifest() error {
	if err := r.durable.Sync(); err != nil {
		return fmt.Errorf("writing manifest of run %s: %w", r.m.RunID, err)
	}
	if err := r.p.layout.WriteManifest(r.m); err != nil {
		return fmt.Errorf("writing manifest of run %s: %w", r.m.RunID, err)
	}
	return nil
}

// record adds a finished day to the manifest and the summary, and logs it;
// r.mu is held.
func (r *run) record(rec *archive.DayRecord, dayErr error) {
	rec.FinishedAt = r.p.now().UTC()
	if rec.Outcome == "" {
		rec.Outcome = archive.OutcomeOK
		if dayErr != nil {
			rec.Outcome = archive.OutcomeFailed
		}
	}
	if dayErr != nil {
		rec.Error = dayErr.Error()
	}
	r.m.Days = append(r.m.Days, *rec)
	delete(r.planned, rec.Key())
	r.sum.Days++
	r.sum.Pages += rec.Pages
	r.sum.APICalls += rec.APICalls
	r.sum.Retries += rec.Retries
	r.sum.Submissions += rec.Submissions
	r.sum.Quarantined += rec.Quarantined
	r.sum.Bytes += rec.Bytes
	if rec.Outcome == archive.OutcomeFailed {
		r.sum.Failed = append(r.sum.Failed, fmt.Sprintf("%s %s: %v", rec.Project, rec.Day, dayErr))
	}
	if rec.Outcome == archive.OutcomeSkipped && errors.Is(dayErr, window.ErrBudgetExhausted) {
		r.p.onDay(*rec) // Load logs the days the budget left out in one line
		return
	}
	defer r.progress.day()
	ev := r.p.log.Info()
	if dayErr != nil {
		ev = r.p.log.Error().Str("error", rec.Error)
	}
	ev.Str("run_id", r.m.RunID).Str("project", rec.Project).Str("day", rec.Day).Int64("submissions", rec.Submissions).
		Int64("pages", rec.Pages).Int64("quarantined", rec.Quarantined).Int("coercion_paths", len(rec.Coercions)).
		Float64("seconds", rec.FinishedAt.Sub(rec.StartedAt).Seconds()).Str("outcome", rec.Outcome).Msg("day loaded")
	r.p.onDay(*rec)
}

// finish writes the final manifest and returns the summary; err is the
// run's own error, if it stopped early.
func (r *run) finish(err error) (*Summary, error) {
	// Days derived but not yet loaded: a run that was stopped records them
	// skipped (their previous partitions stand, a re-run loads them); a run
	// that ended otherwise loads them, since their files are complete.
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		if aerr := r.batch.abandon(err); aerr != nil {
			err = errors.Join(err, aerr)
		}
	} else if ferr := r.batch.flush(context.Background()); ferr != nil && err == nil {
		err = ferr
	}
	cause := err
	if cause == nil {
		cause = errors.New("the day was never handed on to be loaded")
	}
	if uerr := r.unfinished(cause); uerr != nil {
		err = errors.Join(err, uerr)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m.FinishedAt = r.p.now().UTC()
	r.m.Complete = err == nil
	sort.Slice(r.m.Days, func(i, j int) bool {
		a, b := r.m.Days[i], r.m.Days[j]
		return a.Project < b.Project || a.Project == b.Project && a.Day < b.Day
	})
	if werr := r.writeManifest(); werr != nil && err == nil {
		err = werr
	}
	if cerr := r.durable.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("closing the archive directory: %w", cerr)
	}
	r.sum.Duration = r.m.FinishedAt.Sub(r.start)
	s := r.sum
	s.Manifest = r.m
	if err == nil && len(s.Failed) > 0 {
		err = fmt.Errorf("%w: %s", ErrDaysFailed, strings.Join(s.Failed, "; "))
	}
	ev := r.p.log.Info()
	if err != nil {
		ev = r.p.log.Error().Str("error", err.Error())
	}
	ev.Str("run_id", s.RunID).Int("days", s.Days).Int64("pages", s.Pages).Int64("api_calls", s.APICalls).
		Int64("submissions", s.Submissions).Float64("seconds", s.Duration.Seconds()).Msg("run finished")
	return &s, err
}

// rawOptions are the options of the raw files the run writes.
func (r *run) rawOptions() []archive.WriterOption {
	opts := []archive.WriterOption{archive.WithSyncGroup(r.durable)}
	if r.own != nil {
		opts = append(opts, archive.WithRecipients(append(slices.Clip(r.p.recipients), r.own.Recipient())...))
	}
	return opts
}

// flattenOptions are the options of the run's flatteners: the PII policy,
// and the encryption of quarantined items when the archive is encrypted.
func (r *run) flattenOptions() []transform.Option {
	p := r.p
	opts := []transform.Option{transform.WithPolicy(p.policy), transform.WithSizes(r.sizes), transform.WithLogger(p.log)}
	if len(p.recipients) > 0 {
		opts = append(opts, transform.WithSeal(func(b []byte) ([]byte, error) { return archive.Seal(b, p.recipients...) }))
	}
	return opts
}

// readKeys reads raw files with the pipeline's identities and the run's own.
func (r *run) readKeys() archive.ReadOption {
	ids := slices.Clip(r.p.identities)
	if r.own != nil {
		ids = append(ids, r.own)
	}
	return archive.WithIdentities(ids...)
}

// writeRaw writes a day's items to the raw archive. Items are kept byte for
// byte; only one that spans lines (a pretty-printed export) is compacted, as
// the archive holds one item per line.
func (r *run) writeRaw(path string, items func(yield func([]byte) error) error) (archive.FileInfo, error) {
	w, err := archive.NewRawWriter(path, r.rawOptions()...)
	if err != nil {
		return archive.FileInfo{}, err
	}
	var buf bytes.Buffer
	err = items(func(it []byte) error {
		if bytes.IndexByte(it, '\n') >= 0 {
			buf.Reset()
			if json.Compact(&buf, it) == nil {
				it = buf.Bytes()
			} else {
				it = bytes.ReplaceAll(it, []byte("\n"), []byte(" "))
			}
		}
		return w.Write(it)
	})
	if err != nil {
		w.Abort()
		return archive.FileInfo{}, err
	}
	return w.Close()
}

// loadDay derives a day from its raw file and hands it to the batch that
// loads it into the warehouse; a day that cannot be derived is recorded
// failed at once.
func (r *run) loadDay(ctx context.Context, rec *archive.DayRecord, src extract.Source, rawPath string, dup *copies) error {
	part, err := r.derive(ctx, rec, src, rawPath, dup)
	if errors.Is(err, errBrokenCopy) {
		// The copy kept by its updated_at is not JSON, so an older copy
		// should have been kept: find the copies again, each one parsed.
		r.p.log.Warn().Str("project", rec.Project).Str("day", rec.Day).Err(err).Msg("deriving the day again from the copies that are JSON")
		if dup, err = supersededCopies(rawPath, src.NewKeyReader().Read, r.readKeys()); err == nil {
			part, err = r.derive(ctx, rec, src, rawPath, dup)
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			rec.Outcome = archive.OutcomeSkipped // stopped, not broken
		}
		return r.commit(ctx, rec, err)
	}
	return r.batch.add(ctx, rec, part)
}

// errBrokenCopy: a copy kept over another is not valid JSON.
var errBrokenCopy = errors.New("the newest copy of a submission is not valid JSON")

// derive builds one partition's Parquet files, one for every partitioned
// table of src that has rows in it (the others are named with no file, see
// load.PartitionFiles), from its raw file, with src's flattener. dup, when set, names the raw ordinals that are older
// copies of a submission, which are left out.
func (r *run) derive(ctx context.Context, rec *archive.DayRecord, src extract.Source, rawPath string, dup *copies) (load.PartitionFiles, error) {
	p := r.p
	day, err := window.ParseDate(rec.Day)
	if err != nil {
		return load.PartitionFiles{}, err
	}
	sink := &parquetSink{writers: map[string]*archive.ParquetWriter{}}
	defer sink.abort()
	tables := tablesOf(src)
	for _, t := range tables {
		w, err := archive.NewParquetWriter(p.layout.ParquetPath(t, rec.Project, day, r.m.RunID), t.ArrowSchema(), archive.WithSyncGroup(r.durable), archive.OmitEmpty())
		if err != nil {
			return load.PartitionFiles{}, fmt.Errorf("opening %s file: %w", t.Name, err)
		}
		sink.writers[t.Name] = w
	}
	f, err := src.NewFlattener(rec.Project, r.m.RunID, day, sink, r.flattenOptions()...)
	if err != nil {
		return load.PartitionFiles{}, err
	}
	rel, _ := p.layout.Rel(rawPath)
	source := "raw " + rel
	err = archive.ReadRaw(rawPath, func(ord int, item []byte) error {
		if ord%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if dup != nil {
			// Copies are rare, so checking each is cheap. A broken older
			// copy is quarantined like any broken item, not skipped.
			broken := (dup.skip[ord] || dup.won[ord]) && fastjson.ValidateBytes(item) != nil
			switch {
			case dup.skip[ord] && !broken:
				return nil
			case dup.won[ord] && broken:
				return fmt.Errorf("item %d: %w", ord, errBrokenCopy)
			}
		}
		return f.Add(item, source, int64(ord))
	}, r.readKeys())
	if err != nil {
		f.Release()
		return load.PartitionFiles{}, fmt.Errorf("flattening %s: %w", rel, err)
	}
	res, err := f.Close()
	if err != nil {
		return load.PartitionFiles{}, err
	}
	files := map[string]string{}
	for _, t := range tables {
		fi, err := sink.writers[t.Name].Close()
		delete(sink.writers, t.Name)
		if err != nil {
			return load.PartitionFiles{}, fmt.Errorf("closing %s file: %w", t.Name, err)
		}
		if fi.Path == "" { // no rows: no file, and the table's rows of the day go
			files[t.Name] = ""
			continue
		}
		e, err := p.layout.Entry(t.Name, fi)
		if err != nil {
			return load.PartitionFiles{}, err
		}
		rec.Files = append(rec.Files, e)
		rec.Bytes += fi.Bytes
		files[t.Name] = fi.Path
	}
	rec.Submissions, rec.Quarantined = res.Submissions, res.Quarantined
	for t, n := range res.Rows {
		rec.Rows[t] = n
	}
	for _, c := range res.Coercions {
		rec.Coercions = append(rec.Coercions, archive.Coercion{Path: c.Path, Reason: c.Reason, Count: c.Count})
	}
	return load.PartitionFiles{Partition: load.Partition{Source: src.Name(), Project: rec.Project, Day: day}, Files: files}, nil
}

// rawDayColumn names the day directories of src's raw archive: the day
// column of its tables (created_date, or a snapshot's snapshot_date).
func rawDayColumn(src extract.Source) string {
	if ts := src.Tables(); len(ts) > 0 {
		return ts[0].DayColumn().Name
	}
	return schema.CreatedDateCol.Name
}

// tablesOf are the partitioned tables a day of src fills: the source's own
// and the operational ones (quarantine) but for a snapshot source's, which
// has no quarantine (extract.Snapshotter), in the order of
// schema.Partitioned.
func tablesOf(src extract.Source) []*schema.Table {
	other := map[*schema.Table]bool{}
	for _, t := range schema.Sourced() {
		other[t] = true
	}
	if extract.IsSnapshot(src) {
		other[schema.Quarantine] = true
	}
	for _, t := range src.Tables() {
		other[t] = false
	}
	var out []*schema.Table
	for _, t := range schema.Partitioned() {
		if !other[t] {
			out = append(out, t)
		}
	}
	return out
}

// parquetSink routes each table's records to its Parquet file.
type parquetSink struct {
	writers map[string]*archive.ParquetWriter
}

var _ transform.Sink = (*parquetSink)(nil)

func (s *parquetSink) Write(t *schema.Table, rec arrow.RecordBatch) error {
	w, ok := s.writers[t.Name]
	if !ok {
		return fmt.Errorf("no Parquet file open for table %s", t.Name)
	}
	return w.Write(rec)
}

// abort removes the temporary files of writers not yet closed.
func (s *parquetSink) abort() {
	for _, w := range s.writers {
		w.Abort()
	}
}

// inParallel runs fn for every item (a day, a partition) with up to
// workers at once and returns the first error; the others are cancelled.
func inParallel[T any](ctx context.Context, workers int, items []T, fn func(ctx context.Context, item T) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, it := range items {
		g.Go(func() error { return fn(ctx, it) })
	}
	return g.Wait()
}

// batch collects derived days and loads them into the warehouse together,
// BatchDays at a time (one day at a time for a warehouse without Batcher).
type batch struct {
	r    *run
	size int
	// deferred holds every day until the run finishes: an import or a
	// rebuild derives all days first and loads them after, so that the
	// flattening and the warehouse never hold their memory at the same
	// time, and the warehouse gets full batches.
	deferred bool
	mu       sync.Mutex
	pending  []pendingDay
}

type pendingDay struct {
	rec  *archive.DayRecord
	part load.PartitionFiles
}

func (b *batch) add(ctx context.Context, rec *archive.DayRecord, part load.PartitionFiles) error {
	b.mu.Lock()
	b.pending = append(b.pending, pendingDay{rec, part})
	full := !b.deferred && len(b.pending) >= b.size
	b.mu.Unlock()
	if !full {
		return nil
	}
	return b.flush(ctx)
}

// flush loads the pending days, size at a time, and records each, done or
// failed.
func (b *batch) flush(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	pending := b.pending
	b.pending = nil
	if b.deferred && len(pending) > 0 {
		debug.FreeOSMemory() // the flattening is over: give its memory back before loading
		start := b.r.p.now()
		defer func() {
			b.r.p.log.Info().Str("run_id", b.r.m.RunID).Int("days", len(pending)).
				Float64("seconds", b.r.p.now().Sub(start).Seconds()).Msg("warehouse loaded")
		}()
		b.r.p.log.Info().Str("run_id", b.r.m.RunID).Int("days", len(pending)).
			Float64("seconds", start.Sub(b.r.start).Seconds()).Msg("days derived; loading the warehouse")
	}
	size := b.size
	if b.deferred {
		// One Replace for every day: DuckDB re-points its views once
		// instead of once per group (each time over every file loaded so
		// far), and a warehouse that batches (BigQuery) cuts its own.
		size = max(size, len(pending))
	}
	var first error
	for start := 0; start < len(pending); start += size {
		if err := b.load(ctx, pending[start:min(start+size, len(pending))]); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// abandon records the pending days skipped, without loading them.
func (b *batch) abandon(cause error) error {
	b.mu.Lock()
	pending := b.pending
	b.pending = nil
	b.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	recs := make([]*archive.DayRecord, len(pending))
	errs := make([]error, len(pending))
	for i, d := range pending {
		d.rec.Outcome = archive.OutcomeSkipped
		recs[i], errs[i] = d.rec, fmt.Errorf("not loaded into the warehouse: the run stopped (%w)", cause)
	}
	return b.r.commitDays(context.Background(), recs, errs)
}

func (b *batch) load(ctx context.Context, days []pendingDay) (errOut error) {
	parts := make([]load.PartitionFiles, len(days))
	for i, d := range days {
		parts[i] = d.part
	}
	p := b.r.p
	if pub, ok := p.wh.(load.Publisher); ok {
		// Readers see the days and their load_runs rows in one step.
		release := pub.HoldPublishing()
		defer func() {
			if err := release(context.WithoutCancel(ctx)); err != nil && errOut == nil {
				errOut = err
			}
		}()
	}
	// The warehouse reads the files from now on: they must outlive a crash.
	err := b.r.durable.Sync()
	replaced := err == nil
	if replaced {
		p.whMu.Lock()
		err = p.wh.Replace(ctx, parts)
		p.whMu.Unlock()
	}
	// A warehouse that reports per partition tells which days of a failed
	// batch are loaded all the same (load.Reporter answers nil only for a
	// partition its last Replace loaded); without one, the batch's error is
	// every day's.
	rep, _ := p.wh.(load.Reporter)
	recs := make([]*archive.DayRecord, len(days))
	errs := make([]error, len(days))
	for i, d := range days {
		dayErr := err
		if rep != nil && replaced {
			var jobs []archive.Job
			jobs, dayErr = rep.Outcome(d.part.Partition)
			d.rec.Jobs = append(d.rec.Jobs, jobs...)
		}
		if dayErr != nil {
			dayErr = fmt.Errorf("loading into the warehouse: %w", dayErr)
			if ctx.Err() != nil {
				d.rec.Outcome = archive.OutcomeSkipped // stopped, not broken
			}
		}
		recs[i], errs[i] = d.rec, dayErr
	}
	return b.r.commitDays(ctx, recs, errs)
}
