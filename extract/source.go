// Package extract is the seam between kycetl and its vendors. A Source
// declares the tables it fills, names its raw archive, brings its own
// sandbox server, makes its fetcher of a project's settings, reads its raw
// items' identities and flattens a day's raw items into records; the
// pipeline runs any Source and knows no vendor (the model is cloudquery's
// plugin SDK: a source declares its tables and emits records). Each vendor
// lives in a folder beneath this one (extract/argos); adding one means a
// new folder and one line in the list of sources (internal/pipeline).
//
// What a source and the pipeline exchange — days, items and their keys,
// the work of fetching, a window's errors, the settings — is in
// internal/window, which imports nothing of kycetl: the vendor packages
// use it too, and this package cannot be imported by them, since it
// imports transform, which imports them.
package extract

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/rs/zerolog"

	"github.com/kycetl/kycetl/internal/window"
	"github.com/kycetl/kycetl/transform"
	"github.com/kycetl/kycetl/transform/schema"
)

// Source is one vendor behind the seam.
type Source interface {
	// Name names the source; it is also its raw archive's directory under
	// raw/, so it never changes once data was archived.
	Name() string
	// Tables are the partitioned tables the source's records fill, each
	// with project, its day (created_date unless the table says) and
	// run_id.
	Tables() []*schema.Table
	// NewFlattener flattens one day's raw items, one Add per item in
	// archive order, into records of Tables written to sink.
	NewFlattener(project, runID string, day time.Time, sink transform.Sink, opts ...transform.Option) (Flattener, error)
	// NewKeyReader reads raw items' identities, which put an item on its
	// UTC day (created) and pick the newest of its copies (updated).
	NewKeyReader() KeyReader
	// Fetcher makes the source's fetcher of a project's settings, and the
	// daily call budget it spends from (nil when it has none), which a
	// run seeds with the calls earlier runs made today. A setting the
	// source refuses is an error that says which (a *window.SettingError
	// where no error of the source's own says it).
	Fetcher(ctx context.Context, s window.Settings) (Fetcher, Budget, error)
	// Defaults are the PageSize, Concurrency and DailyCalls the source's
	// fetcher uses where Settings leaves them zero; the commands offer
	// the default source's as their flags' defaults.
	Defaults() window.Settings
	// Sandbox starts the source's built-in API on loopback, serving
	// deterministic synthetic data, and returns a Fetcher that reads it;
	// closing the Closer stops the server.
	Sandbox(ctx context.Context, o SandboxOptions) (Fetcher, io.Closer, error)
}

// Fetcher fetches a window of days into raw day items, one day at a time,
// in order; a day is handed on only once all its pages were fetched.
type Fetcher interface {
	Window(ctx context.Context, from, to time.Time, fn func(ctx context.Context, d window.DayItems) error) error
}

// KeyReader reads the identity of the source's raw items. One reader is
// not safe for concurrent use: each goroutine makes its own.
type KeyReader interface {
	// Scan reads an item's identity without checking the rest of the item:
	// for an item that is valid JSON it returns what Read returns; for a
	// broken one it may return a key, which the caller must not trust over
	// another copy's before parsing the item.
	Scan(item []byte) (window.Key, error)
	// Read parses the whole item and reads its identity.
	Read(item []byte) (window.Key, error)
}

// Snapshotter is a Source whose days are snapshots of the API's state at
// the pull (Fractal's statistics), not items the API dates: such a day can
// only be pulled on the day itself, so a day missed is lost; there is no
// export to import; and its items are checked whole at the pull, so it has
// no quarantine: a raw line that cannot be read fails its day's rebuild.
type Snapshotter interface {
	Source
	// Snapshots says the source's days are snapshots.
	Snapshots() bool
}

// IsSnapshot says whether s's days are snapshots (Snapshotter).
func IsSnapshot(s Source) bool {
	sn, ok := s.(Snapshotter)
	return ok && sn.Snapshots()
}

// Checker is a Fetcher that can tell, before a run writes anything,
// whether its window can start: keys the API accepts, a call budget left
// for a day.
type Checker interface {
	Check(ctx context.Context, from time.Time) error
}

// Budget is a daily call budget that a run seeds with the calls the ledger
// says earlier runs made today.
type Budget interface {
	// Day is the UTC day the budget counts.
	Day() time.Time
	// Spend counts n calls against it.
	Spend(n int64)
}

// Flattener turns a day's raw items into records (*transform.Flattener).
type Flattener interface {
	// Add flattens one raw item; source and ordinal name it in quarantine.
	Add(item []byte, source string, ordinal int64) error
	// Close flushes the last records and sums up the day.
	Close() (transform.Result, error)
	// Release frees the records of a day abandoned before Close.
	Release()
}

var _ Flattener = (*transform.Flattener)(nil)

// SandboxOptions configure a source's sandbox.
type SandboxOptions struct {
	// Seed makes the synthetic data; the same seed gives the same data.
	Seed int64
	// AsOf is the sandbox's now: no data after it.
	AsOf time.Time
	// PageSize is the items the Fetcher asks for per page; 0 for the
	// source's default.
	PageSize int
	Log      zerolog.Logger
}

// validName is what a source name may be: it names a directory.
var validName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Sources is a list of sources, by Name.
type Sources []Source

// List checks srcs — names that can name a directory, each once, no table
// in two sources — registers their tables with schema.Register, and
// returns them. It panics on a mistake: the list is written in code.
func List(srcs ...Source) Sources {
	seen := map[string]bool{}
	for _, s := range srcs {
		if !validName.MatchString(s.Name()) || seen[s.Name()] {
			panic(fmt.Sprintf("extract: source name %q is invalid or listed twice", s.Name()))
		}
		seen[s.Name()] = true
		schema.Register(s.Tables()...)
	}
	return Sources(srcs)
}

// Names are the sources' names, in list order.
func (l Sources) Names() []string {
	names := make([]string, len(l))
	for i, s := range l {
		names[i] = s.Name()
	}
	return names
}

// Get returns the source named name.
func (l Sources) Get(name string) (Source, bool) {
	for _, s := range l {
		if s.Name() == name {
			return s, true
		}
	}
	return nil, false
}
