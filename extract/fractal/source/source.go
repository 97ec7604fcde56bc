// Package source is Fractal ID's statistics API behind the extract.Source
// seam: its tables (extract/fractal), its raw archive (raw/fractal), its
// snapshot flattener and its sandbox.
//
// A Fractal day is a snapshot: the API answers "right now" only, so a pull
// is of today (UTC), and a second pull on the same day replaces the first.
// A snapshot's raw file holds, one per line:
//
//	0: {"snapshot_at":"2026-12-02T00:30:00.123456Z"}  kycetl's own line: when the pull started
//	1: the answer of GET /v2/stats/total-verifications, as sent
//	2: the answer of GET /v2/stats/country-verifications, as sent
//	3…: each element of GET /v2/stats/user-verifications, as sent
//
// The user list is split into its elements, as the raw archive keeps one
// item per line: a list of millions on one line could not be read back in
// bounded memory. Bytes are otherwise the API's, but for a line break inside
// an answer (compacted, as for any item) and a trailing comma the vendor's
// examples show before a closing brace.
package source

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kycetl/kycetl/extract"
	"github.com/kycetl/kycetl/extract/fractal"
	"github.com/kycetl/kycetl/extract/fractal/sandbox"
	"github.com/kycetl/kycetl/internal/window"
	"github.com/kycetl/kycetl/transform"
	"github.com/kycetl/kycetl/transform/schema"
)

// Name is the Fractal source's name and raw archive directory.
const Name = "fractal"

// Source is Fractal ID's statistics API.
type Source struct{}

var (
	_ extract.Source      = Source{}
	_ extract.Snapshotter = Source{}
	_ extract.Fetcher     = (*Fetcher)(nil)
	_ extract.Checker     = (*Fetcher)(nil)
	_ extract.Flattener   = (*Flattener)(nil)
	_ extract.KeyReader   = KeyReader{}
)

// Name implements extract.Source.
func (Source) Name() string { return Name }

// Tables implements extract.Source: totals, countries and users.
func (Source) Tables() []*schema.Table { return fractal.Tables() }

// Snapshots implements extract.Snapshotter: every day is a snapshot.
func (Source) Snapshots() bool { return true }

// Defaults implements extract.Source: the API has no pages and no budget.
func (Source) Defaults() window.Settings { return window.Settings{} }

// NewKeyReader implements extract.Source: snapshot lines carry no
// identity, so no line is another's copy.
func (Source) NewKeyReader() extract.KeyReader { return KeyReader{} }

// ErrNoIdentity is KeyReader's answer for every line.
var ErrNoIdentity = errors.New("a Fractal snapshot line has no identity of its own")

// KeyReader reads no identity: a snapshot is kept whole.
type KeyReader struct{}

// Scan implements extract.KeyReader.
func (KeyReader) Scan([]byte) (window.Key, error) { return window.Key{}, ErrNoIdentity }

// Read implements extract.KeyReader.
func (KeyReader) Read([]byte) (window.Key, error) { return window.Key{}, ErrNoIdentity }

// Fetcher implements extract.Source: a client of s.AuthURL and s.URL (the
// production domains when empty) with the client id s.Key and secret
// s.Secret, pulling today's snapshot.
func (Source) Fetcher(_ context.Context, s window.Settings) (extract.Fetcher, extract.Budget, error) {
	switch {
	case s.Key == "":
		return nil, nil, &window.SettingError{Setting: "Key", Err: fmt.Errorf("%w: the Fractal client id is empty", window.ErrAPIKey)}
	case s.Secret == "":
		return nil, nil, &window.SettingError{Setting: "Secret", Err: fmt.Errorf("%w: the Fractal client secret is empty", window.ErrSecretKey)}
	}
	c, err := fractal.NewClient(s.AuthURL, s.URL, s.Key, s.Secret, fractal.WithLogger(s.Log))
	if err != nil {
		return nil, nil, &window.SettingError{Setting: "URL", Err: fmt.Errorf("%w: %w", window.ErrAPIURL, err)}
	}
	var opts []FetcherOption
	if s.Clock != nil {
		opts = append(opts, WithClock(s.Clock))
	}
	return NewFetcher(c, opts...), nil, nil
}

// Sandbox implements extract.Source: the built-in Fractal-compatible API on
// loopback, with a random client secret. Its fetcher pulls any day up to
// o.AsOf as if it were that day at 00:30 UTC (the sandbox's clock is set to
// it), so that a demo holds several days of snapshots.
func (Source) Sandbox(_ context.Context, o extract.SandboxOptions) (extract.Fetcher, io.Closer, error) {
	secret, err := randomSecret()
	if err != nil {
		return nil, nil, err
	}
	var at atomic.Int64 // the sandbox's now, in Unix nanoseconds
	// Tokens outlive the days the clock jumps through (a pull of each day
	// at its 00:30), as they would the minutes of a real pull.
	srv := sandbox.New(sandbox.WithClient(sandbox.DefaultClientID, secret), sandbox.WithSeed(uint64(o.Seed)),
		sandbox.WithClock(func() time.Time { return time.Unix(0, at.Load()).UTC() }), sandbox.WithTokenTTL(10*366*24*time.Hour))
	url, err := srv.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("fractal sandbox: starting the built-in API: %w", err)
	}
	o.Log.Info().Str("url", url).Msg("built-in Fractal-compatible API listening")
	c, err := fractal.NewClient(url, url, sandbox.DefaultClientID, secret, fractal.WithLogger(o.Log))
	if err != nil {
		srv.Close()
		return nil, nil, fmt.Errorf("fractal sandbox: %w", err)
	}
	asOf := o.AsOf
	if asOf.IsZero() {
		asOf = time.Now()
	}
	f := NewFetcher(c)
	f.pullAt = func(day time.Time) (time.Time, error) {
		if day.After(window.Day(asOf)) {
			return time.Time{}, fmt.Errorf("%w: the sandbox's today is %s, not %s", ErrNotToday, window.FormatDate(asOf), window.FormatDate(day))
		}
		t := day.Add(30 * time.Minute)
		if t.After(asOf) {
			t = asOf
		}
		at.Store(t.UnixNano())
		return t, nil
	}
	return f, srv, nil
}

// ErrNotToday: a snapshot can only be pulled of today (UTC).
var ErrNotToday = errors.New("the Fractal API answers for right now only: a snapshot can only be taken of today (UTC)")

// Fetcher pulls one snapshot: the totals and the countries whole, the user
// list streamed into the raw archive.
type Fetcher struct {
	c *fractal.Client
	// pullAt says when a pull of day happens: now, when day is today.
	pullAt func(day time.Time) (time.Time, error)
}

// NewFetcher makes a Fetcher of today's snapshots with c.
func NewFetcher(c *fractal.Client, opts ...FetcherOption) *Fetcher {
	f := &Fetcher{c: c}
	now := time.Now
	for _, o := range opts {
		o(&now)
	}
	f.pullAt = func(day time.Time) (time.Time, error) {
		t := now().UTC()
		if !window.Day(t).Equal(day) {
			return time.Time{}, fmt.Errorf("%w: today is %s, not %s", ErrNotToday, window.FormatDate(t), window.FormatDate(day))
		}
		return t, nil
	}
	return f
}

// FetcherOption configures a Fetcher.
type FetcherOption func(now *func() time.Time)

// WithClock sets the clock that says what today is (default time.Now).
func WithClock(now func() time.Time) FetcherOption { return func(n *func() time.Time) { *n = now } }

// Check implements extract.Checker: the token endpoint accepts the client
// (fractal.ErrCredentials when it refuses the id or secret).
func (f *Fetcher) Check(ctx context.Context, _ time.Time) error {
	if err := f.c.Check(ctx); err != nil {
		return fmt.Errorf("checking the Fractal client before the pull: %w", err)
	}
	return nil
}

// Header is the first line of a snapshot's raw file.
type Header struct {
	SnapshotAt time.Time `json:"snapshot_at"`
}

// Window implements extract.Fetcher: a snapshot of each day of the window,
// which must be today, the one day the API can answer for (the sandbox's
// fetcher answers for any day up to its today). The day's user list streams
// (DayItems.Stream).
func (f *Fetcher) Window(ctx context.Context, from, to time.Time, fn func(ctx context.Context, d window.DayItems) error) error {
	for day := window.Day(from); !day.After(to); day = day.AddDate(0, 0, 1) {
		if err := f.day(ctx, day, fn); err != nil {
			return err
		}
	}
	return nil
}

func (f *Fetcher) day(ctx context.Context, from time.Time, fn func(ctx context.Context, d window.DayItems) error) error {
	at, err := f.pullAt(from)
	if err != nil {
		return err
	}
	req0, retry0 := f.c.Work()
	work := func() window.Stats {
		req, retries := f.c.Work()
		return window.Stats{Pages: req - req0 - (retries - retry0), Calls: req - req0, Retries: retries - retry0}
	}
	fail := func(err error) error {
		return &window.DayErrors{Days: []window.DayFailure{{Day: from, Err: err, Stats: work()}}}
	}
	header, err := json.Marshal(Header{SnapshotAt: at.UTC().Truncate(time.Microsecond)})
	if err != nil {
		return fail(err)
	}
	_, totals, err := f.c.Totals(ctx)
	if err != nil {
		return fail(err)
	}
	_, countries, err := f.c.Countries(ctx)
	if err != nil {
		return fail(err)
	}
	d := window.DayItems{Day: from, Items: []window.Item{{Raw: header}, {Raw: totals}, {Raw: countries}}, Stats: work()}
	d.Stream = func(ctx context.Context, yield func([]byte) error) (window.Stats, error) {
		before := work()
		_, err := f.c.Users(ctx, func(_ fractal.User, raw []byte) error { return yield(raw) })
		after := work()
		return window.Stats{Pages: after.Pages - before.Pages, Calls: after.Calls - before.Calls, Retries: after.Retries - before.Retries}, err
	}
	return fn(ctx, d)
}

// The lines of a snapshot's raw file before its users.
const (
	headerLine = iota
	totalsLine
	countriesLine
	firstUserLine
)

// NewFlattener implements extract.Source with the snapshot flattener.
func (Source) NewFlattener(project, runID string, day time.Time, sink transform.Sink, opts ...transform.Option) (extract.Flattener, error) {
	return &Flattener{project: project, runID: runID, day: day, sink: sink, mem: memory.DefaultAllocator,
		rows: map[string]int64{}}, nil
}

// batchRows bounds the user rows held before they go to the sink.
const batchRows = 64 << 10

// Flattener turns a snapshot's raw lines into rows of the three tables.
// A line that cannot be read fails the day (no quarantine: see
// extract.Snapshotter), naming the line.
type Flattener struct {
	project, runID string
	day            time.Time
	sink           transform.Sink
	mem            memory.Allocator

	at    time.Time // the header's snapshot_at
	next  int64     // the line expected next
	users *builder
	rows  map[string]int64
}

// Add implements extract.Flattener.
func (f *Flattener) Add(item []byte, source string, ordinal int64) error {
	if ordinal != f.next {
		return fmt.Errorf("reading %s line %d: want line %d: a snapshot's lines are read in order", source, ordinal, f.next)
	}
	f.next++
	var err error
	switch ordinal {
	case headerLine:
		var h Header
		if err = json.Unmarshal(item, &h); err == nil && h.SnapshotAt.IsZero() {
			err = errors.New("no snapshot_at")
		}
		f.at = h.SnapshotAt.UTC()
	case totalsLine:
		var counts fractal.Counts
		if counts, err = fractal.DecodeCounts(item); err == nil {
			err = f.counts(fractal.TotalsTable, map[string]fractal.Counts{"": counts})
		}
	case countriesLine:
		var byCountry map[string]fractal.Counts
		if byCountry, err = fractal.DecodeCountries(item); err == nil {
			err = f.counts(fractal.CountriesTable, byCountry)
		}
	default:
		var u fractal.User
		if u, err = fractal.ParseUser(item); err == nil {
			err = f.user(u)
		}
	}
	if err != nil {
		return fmt.Errorf("reading %s line %d: %w", source, ordinal, err)
	}
	return nil
}

// counts writes one row per country (the key "" for none) and status.
func (f *Flattener) counts(t *schema.Table, byCountry map[string]fractal.Counts) error {
	b := f.newBuilder(t)
	defer b.release()
	for _, country := range sortedKeys(byCountry) {
		counts := byCountry[country]
		for _, status := range sortedKeys(counts) {
			b.lineage()
			if t == fractal.CountriesTable {
				b.str(country)
			}
			b.str(status)
			b.int(counts[status])
		}
	}
	return b.flush(f)
}

func (f *Flattener) user(u fractal.User) error {
	if f.users == nil {
		f.users = f.newBuilder(fractal.UsersTable)
	}
	b := f.users
	b.lineage()
	b.str(u.UserID)
	b.optStr(u.Level)
	b.optStr(u.Credential)
	if b.n >= batchRows {
		return b.flush(f)
	}
	return nil
}

// Close implements extract.Flattener: a snapshot without its header,
// totals and countries lines is incomplete.
func (f *Flattener) Close() (transform.Result, error) {
	if f.users == nil {
		f.users = f.newBuilder(fractal.UsersTable)
	}
	defer f.Release()
	if f.next < firstUserLine {
		return transform.Result{}, fmt.Errorf("the snapshot has %d lines, want at least %d: the header, the totals and the countries", f.next, firstUserLine)
	}
	if err := f.users.flush(f); err != nil {
		return transform.Result{}, err
	}
	for _, t := range fractal.Tables() {
		f.rows[t.Name] += 0
	}
	return transform.Result{Submissions: f.rows[fractal.UsersTable.Name], Rows: f.rows}, nil
}

// Release implements extract.Flattener.
func (f *Flattener) Release() {
	if f.users != nil {
		f.users.release()
		f.users = nil
	}
}

// builder builds one table's records: the lineage columns, then the
// declared ones in order.
type builder struct {
	t   *schema.Table
	rb  *array.RecordBuilder
	col int
	n   int64
	f   *Flattener
}

func (f *Flattener) newBuilder(t *schema.Table) *builder {
	return &builder{t: t, rb: array.NewRecordBuilder(f.mem, t.ArrowSchema()), f: f}
}

// lineage starts a row: project, snapshot_date, run_id, snapshot_at.
func (b *builder) lineage() {
	b.col = 0
	b.n++
	b.str(b.f.project)
	b.rb.Field(b.col).(*array.Date32Builder).Append(arrow.Date32FromTime(b.f.day))
	b.col++
	b.str(b.f.runID)
	b.rb.Field(b.col).(*array.TimestampBuilder).Append(arrow.Timestamp(b.f.at.UnixMicro()))
	b.col++
}

func (b *builder) str(s string) {
	// Valid UTF-8: encoding/json replaced any invalid byte with U+FFFD.
	b.rb.Field(b.col).(*array.StringBuilder).Append(s)
	b.col++
}

// optStr appends s, or NULL when the API left the field out.
func (b *builder) optStr(s string) {
	if s == "" {
		b.rb.Field(b.col).AppendNull()
		b.col++
		return
	}
	b.str(s)
}

func (b *builder) int(n int64) {
	b.rb.Field(b.col).(*array.Int64Builder).Append(n)
	b.col++
}

// flush hands the rows built so far to the sink (none: nothing).
func (b *builder) flush(f *Flattener) error {
	if b.n == 0 {
		return nil
	}
	rec := b.rb.NewRecordBatch()
	defer rec.Release()
	f.rows[b.t.Name] += b.n
	b.n = 0
	if err := f.sink.Write(b.t, rec); err != nil {
		return fmt.Errorf("writing %s: %w", b.t.Name, err)
	}
	return nil
}

func (b *builder) release() { b.rb.Release() }

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// randomSecret makes the sandbox's client secret, so that no fixed secret
// is ever accepted by a sandbox a user leaves running.
func randomSecret() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("fractal sandbox: making a client secret: %w", err)
	}
	return hex.EncodeToString(b), nil
}
