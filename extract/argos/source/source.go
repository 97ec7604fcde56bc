// Package source is ARGOS ID check behind the extract.Source seam: its
// tables (the submission tables declared in extract/argos), its raw archive
// (raw/argos), its flattener (transform) and its sandbox (the built-in
// ARGOS-compatible API over synthetic data). It sits beneath extract/argos,
// not in it, because the flattener and the sandbox import extract/argos.
package source

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/kycetl/kycetl/extract"
	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/argos/sandbox"
	"github.com/kycetl/kycetl/extract/argos/synth"
	"github.com/kycetl/kycetl/internal/window"
	"github.com/kycetl/kycetl/transform"
	"github.com/kycetl/kycetl/transform/schema"
)

// Name is the ARGOS source's name and raw archive directory.
const Name = "argos"

// Source is ARGOS ID check.
type Source struct{}

var (
	_ extract.Source  = Source{}
	_ extract.Fetcher = (*argos.Extractor)(nil)
	_ extract.Checker = (*argos.Extractor)(nil)
	_ extract.Budget  = (*argos.Budget)(nil)
)

// Name implements extract.Source.
func (Source) Name() string { return Name }

// Tables implements extract.Source: submissions and its child tables.
func (Source) Tables() []*schema.Table { return argos.Tables() }

// NewFlattener implements extract.Source with the submission flattener.
func (Source) NewFlattener(project, runID string, day time.Time, sink transform.Sink, opts ...transform.Option) (extract.Flattener, error) {
	return transform.New(project, runID, day, sink, opts...)
}

// NewKeyReader implements extract.Source with argos.ScanKey and
// argos.ReadKey.
func (Source) NewKeyReader() extract.KeyReader { return new(argos.KeyReader) }

var _ extract.KeyReader = (*argos.KeyReader)(nil)

// Fetcher implements extract.Source with the argos.Extractor of s
// (argos.Configure) and its budget.
func (Source) Fetcher(_ context.Context, s window.Settings) (extract.Fetcher, extract.Budget, error) {
	e, err := argos.Configure(s)
	if err != nil {
		return nil, nil, err
	}
	return e, e.Budget(), nil
}

// Defaults implements extract.Source: argos.DefaultPageSize,
// DefaultConcurrency and DefaultDailyCalls.
func (Source) Defaults() window.Settings {
	return window.Settings{PageSize: argos.DefaultPageSize, Concurrency: argos.DefaultConcurrency, DailyCalls: argos.DefaultDailyCalls}
}

// Sandbox implements extract.Source: the built-in ARGOS-compatible API on
// loopback, with a random API key, and an extractor reading it.
func (Source) Sandbox(_ context.Context, o extract.SandboxOptions) (extract.Fetcher, io.Closer, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, nil, fmt.Errorf("argos sandbox: making an API key: %w", err)
	}
	key := hex.EncodeToString(b)
	srv := sandbox.New(synth.New(o.Seed, synth.WithAsOf(o.AsOf)), sandbox.WithAPIKey(key), sandbox.WithLogger(o.Log))
	url, err := srv.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("argos sandbox: starting the built-in API: %w", err)
	}
	o.Log.Info().Str("url", url).Msg("built-in ARGOS-compatible API listening")
	opts := []argos.ClientOption{argos.WithLogger(o.Log)}
	if o.PageSize > 0 {
		opts = append(opts, argos.WithPageSize(o.PageSize))
	}
	c, err := argos.NewClient(url, key, opts...)
	if err != nil {
		srv.Close()
		return nil, nil, fmt.Errorf("argos sandbox: %w", err)
	}
	return argos.NewExtractor(c), srv, nil
}
