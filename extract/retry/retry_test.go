package retry

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 2, 1, 12, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{
		"":     0,
		"7":    7 * time.Second,
		"-3":   0,
		"soon": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
	} {
		if got := RetryAfter(h, now); got != want {
			t.Errorf("Retry-After %q: %s, want %s", h, got, want)
		}
	}
}

// TestDo: a retried error is tried again up to the policy's tries, a
// Permanent one is not, and the error says how many tries were made.
func TestDo(t *testing.T) {
	p := Policy{MaxTries: 3, Initial: time.Millisecond, Max: 2 * time.Millisecond}
	flaky := errors.New("flaky")
	n, notified := 0, 0
	_, err := Do(context.Background(), p, func() (int, time.Duration, error) { n++; return 0, 0, flaky },
		func(error, int, time.Duration) { notified++ })
	if !errors.Is(err, flaky) || n != 3 || notified != 2 {
		t.Errorf("%d tries, %d retries notified, %v; want 3, 2 and the error", n, notified, err)
	}
	n = 0
	_, err = Do(context.Background(), p, func() (int, time.Duration, error) { n++; return 0, 0, Permanent(flaky) }, nil)
	if !errors.Is(err, flaky) || n != 1 {
		t.Errorf("a permanent error: %d tries, %v", n, err)
	}
	n = 0
	v, err := Do(context.Background(), p, func() (int, time.Duration, error) {
		n++
		if n < 2 {
			return 0, 0, flaky
		}
		return 7, 0, nil
	}, nil)
	if err != nil || v != 7 || n != 2 {
		t.Errorf("a success on the second try: %d, %v after %d tries", v, err, n)
	}
	_, err = Do(context.Background(), p, func() (int, time.Duration, error) { return 0, time.Hour, flaky }, nil)
	if err == nil || !errors.Is(err, flaky) {
		t.Errorf("a Retry-After beyond 10× Max: %v, want it to fail at once", err)
	}
	if (Policy{MaxTries: 0, Initial: time.Second, Max: time.Second}).Validate() == nil {
		t.Error("a policy of 0 tries is valid")
	}
}
