// Package retry is the retry and backoff policy every source's HTTP client
// shares: a bounded number of tries, exponential backoff with jitter between
// them, and the server's Retry-After honoured in place of the next wait.
// One policy for every vendor, so that a backfill treats every API alike.
package retry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Policy says how often and how patiently a request is tried.
type Policy struct {
	MaxTries int           // tries in all, the first included
	Initial  time.Duration // the first wait
	Max      time.Duration // the longest wait; a Retry-After beyond 10× this fails at once
}

// DefaultPolicy is 6 tries, waits from 500 ms doubling to at most 30 s.
var DefaultPolicy = Policy{MaxTries: 6, Initial: 500 * time.Millisecond, Max: 30 * time.Second}

// Validate names the bad field of a policy.
func (p Policy) Validate() error {
	switch {
	case p.MaxTries < 1:
		return fmt.Errorf("retry policy: MaxTries %d: want at least 1", p.MaxTries)
	case p.Initial <= 0 || p.Max < p.Initial:
		return fmt.Errorf("retry policy: waits %s..%s: want 0 < Initial <= Max", p.Initial, p.Max)
	}
	return nil
}

// Permanent marks an error that no retry can mend.
func Permanent(err error) error { return backoff.Permanent(err) }

// Attempt is one try: its result, the server's Retry-After (0 when absent)
// and its error, which is retried unless Permanent.
type Attempt[T any] func() (T, time.Duration, error)

// Do runs try until it succeeds, fails permanently, the context ends or the
// policy's tries are spent. notify, when set, hears of every retry and its
// wait. The error says how many tries were made when they ran out.
func Do[T any](ctx context.Context, p Policy, try Attempt[T], notify func(err error, tries int, wait time.Duration)) (T, error) {
	var hint time.Duration
	bo := &hintedBackOff{
		exp: &backoff.ExponentialBackOff{
			InitialInterval: p.Initial, RandomizationFactor: 0.5, Multiplier: 2, MaxInterval: p.Max,
		},
		hint: &hint,
	}
	tries := 0
	op := func() (T, error) {
		tries++
		v, ra, err := try()
		hint = ra
		if err != nil && ctx.Err() != nil {
			return v, backoff.Permanent(context.Cause(ctx))
		}
		if limit := 10 * p.Max; ra > limit {
			return v, backoff.Permanent(fmt.Errorf("%w; the server asks to wait %s, more than %s", err, ra.Round(time.Second), limit))
		}
		return v, err
	}
	opts := []backoff.RetryOption{backoff.WithBackOff(bo), backoff.WithMaxTries(uint(p.MaxTries)), backoff.WithMaxElapsedTime(0)}
	if notify != nil {
		opts = append(opts, backoff.WithNotify(func(err error, wait time.Duration) { notify(err, tries, wait) }))
	}
	v, err := backoff.Retry(ctx, op, opts...)
	if err != nil {
		var perm *backoff.PermanentError
		if errors.As(err, &perm) {
			err = perm.Err
		}
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			err = fmt.Errorf("%w (last error: %v)", cerr, err)
		}
		if tries >= p.MaxTries && tries > 1 && ctx.Err() == nil {
			err = &GaveUpError{Tries: tries, Err: err}
		}
	}
	return v, err
}

// GaveUpError is the error of a request that failed every one of its
// tries; Err is the last try's.
type GaveUpError struct {
	Tries int
	Err   error
}

func (e *GaveUpError) Error() string {
	return fmt.Sprintf("giving up after %d tries: %v", e.Tries, e.Err)
}

func (e *GaveUpError) Unwrap() error { return e.Err }

// RetryAfter reads a Retry-After header: delay seconds or an HTTP date.
func RetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(h); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Retryable says whether an HTTP status may succeed when asked again: a
// timeout, throttling, or the 5xx answers of an overloaded or restarting
// server (not 501 and the like, which will answer the same).
func Retryable(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// hintedBackOff is exponential backoff with jitter whose next wait is
// replaced by the server's Retry-After when the last answer carried one.
type hintedBackOff struct {
	exp  *backoff.ExponentialBackOff
	hint *time.Duration
}

func (b *hintedBackOff) NextBackOff() time.Duration {
	if h := *b.hint; h > 0 {
		return h
	}
	return b.exp.NextBackOff()
}

func (b *hintedBackOff) Reset() { b.exp.Reset() }

var _ backoff.BackOff = (*hintedBackOff)(nil)
