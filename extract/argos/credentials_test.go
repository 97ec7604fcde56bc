package argos_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/argos/sandbox"
)

// wrongKeys are the ways a project's keys can be wrong, each against the
// fake API over loopback: the error must be of kind ErrCredentials and name
// the variable to fix.
func wrongKeys() []struct {
	name   string
	server *sandbox.Server
	opts   []argos.ClientOption
	key    error // which key is wrong: argos.ErrAPIKey or argos.ErrSecretKey
} {
	return []struct {
		name   string
		server *sandbox.Server
		opts   []argos.ClientOption
		key    error
	}{
		{"wrong API key", sandbox.New(gen(), sandbox.WithAPIKey("another-key")), nil, argos.ErrAPIKey},
		{"wrong secret key", sandbox.New(gen(), sandbox.WithAPIKey(key), sandbox.WithSecureTransfer(secret)),
			[]argos.ClientOption{argos.WithSecureTransfer("a-wrong-secret")}, argos.ErrSecretKey},
		{"missing secret key", sandbox.New(gen(), sandbox.WithAPIKey(key), sandbox.WithSecureTransfer(secret)), nil, argos.ErrSecretKey},
	}
}

// TestWrongKeysStopTheWindow: keys the API refuses fail every day alike, so
// the window stops at once with one error of kind ErrCredentials instead of
// failing day after day (issue 13 item 9).
func TestWrongKeysStopTheWindow(t *testing.T) {
	for _, tc := range wrongKeys() {
		t.Run(tc.name, func(t *testing.T) {
			from, to := day0, day0.AddDate(0, 0, 29)
			c := client(t, serve(t, tc.server), nil, tc.opts...)
			handed := 0
			err := argos.NewExtractor(c, argos.WithConcurrency(2)).Window(context.Background(), from, to, func(context.Context, argos.DayItems) error {
				handed++
				return nil
			})
			if !errors.Is(err, argos.ErrCredentials) || !errors.Is(err, tc.key) {
				t.Fatalf("error %v, want kinds ErrCredentials and %v", err, tc.key)
			}
			var de *argos.DayErrors
			if errors.As(err, &de) {
				t.Errorf("the window failed day by day (%d days) instead of stopping", len(de.Days))
			}
			// At most the day slices in flight when the first answer came.
			if handed != 0 || tc.server.Calls() > 2 {
				t.Errorf("%d days handed on, %d calls; want none handed on and at most 2 calls", handed, tc.server.Calls())
			}
		})
	}
}

// TestCheckFindsWrongKeysWithOneCall: Check spends one call, on the budget,
// and tells wrong keys from a good start.
func TestCheckFindsWrongKeysWithOneCall(t *testing.T) {
	for _, tc := range wrongKeys() {
		c := client(t, serve(t, tc.server), nil, tc.opts...)
		err := argos.NewExtractor(c).Check(context.Background(), day0)
		if !errors.Is(err, argos.ErrCredentials) || !errors.Is(err, tc.key) || tc.server.Calls() != 1 {
			t.Errorf("%s: Check: %v after %d calls, want kinds ErrCredentials and %v after 1", tc.name, err, tc.server.Calls(), tc.key)
		}
	}
	s := fake()
	b, err := argos.NewBudget(argos.MinDailyCalls)
	if err != nil {
		t.Fatal(err)
	}
	e := argos.NewExtractor(client(t, serve(t, s), nil), argos.WithBudget(b))
	if err := e.Check(context.Background(), day0); err != nil || s.Calls() != 1 || b.Spent() != 1 {
		t.Errorf("Check with good keys: %v, %d calls, budget spent %d; want nil, 1 and 1", err, s.Calls(), b.Spent())
	}
	// Now less than a day's reservation is left: Check says nothing can be
	// done, without a call, and suggests no --from.
	var be *argos.BudgetError
	if err := e.Check(context.Background(), day0); !errors.As(err, &be) || !be.NothingDone() || s.Calls() != 1 {
		t.Errorf("Check without budget: %v after %d calls; want a *BudgetError saying nothing was done, no call", err, s.Calls())
	} else if strings.Contains(err.Error(), "--from") || !strings.Contains(err.Error(), "nothing was loaded") {
		t.Errorf("budget message %q", err)
	}
}

// TestBudgetTooSmallForADay: a budget below what one API day is reserved
// is refused where it is made, instead of starting a window that can never
// fetch (issue 13 item 8).
func TestBudgetTooSmallForADay(t *testing.T) {
	for _, limit := range []int64{0, 3, argos.MinDailyCalls - 1} {
		if _, err := argos.NewBudget(limit); !errors.Is(err, argos.ErrBudgetTooSmall) {
			t.Errorf("NewBudget(%d): %v, want ErrBudgetTooSmall", limit, err)
		}
	}
	if _, err := argos.NewBudget(argos.MinDailyCalls); err != nil {
		t.Error(err)
	}
}

// TestBudgetStopBeforeTheFirstDaySuggestsNoContinuation: a window whose
// budget is spent before its first day says that nothing was loaded and
// names no --from to continue with (it would be the day it started from).
func TestBudgetStopBeforeTheFirstDaySuggestsNoContinuation(t *testing.T) {
	now := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	b, err := argos.NewBudget(25, argos.WithBudgetClock(func() time.Time { return now }), argos.WithSpent(now, 20))
	if err != nil {
		t.Fatal(err)
	}
	s := fake()
	days, err := collectErr(argos.NewExtractor(client(t, serve(t, s), nil), argos.WithBudget(b)), day0, day0.AddDate(0, 0, 9))
	var be *argos.BudgetError
	if !errors.As(err, &be) || !be.NothingDone() || len(days) != 0 || s.Calls() != 0 {
		t.Fatalf("%v, %d days, %d calls; want a budget stop before the first day, no call", err, len(days), s.Calls())
	}
	if msg := err.Error(); strings.Contains(msg, "--from") || !strings.Contains(msg, "nothing was loaded") {
		t.Errorf("message %q suggests a continuation, or does not say nothing was loaded", msg)
	}
}

// TestRetryWarningNamesTheDay: a retried request's warning says which API
// day and page it was for (issue 13 item 15).
func TestRetryWarningNamesTheDay(t *testing.T) {
	f := &faulty{next: fake(), script: map[int64]http.HandlerFunc{2: status(500, `{"message":"boom"}`)}}
	var log bytes.Buffer
	c := client(t, serve(t, f), &log, argos.WithPageSize(10))
	if _, err := c.Day(context.Background(), day0, func([]json.RawMessage) error { return nil }); err != nil {
		t.Fatal(err)
	}
	var warned int
	for _, line := range strings.Split(log.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil || m["message"] != "retrying ARGOS request" {
			continue
		}
		warned++
		if m["api_day"] != "2025-02-01" || m["page"] != 2.0 {
			t.Errorf("retry warning %v does not name the day and page", m)
		}
	}
	if warned != 1 {
		t.Errorf("%d retry warnings, want 1:\n%s", warned, log.String())
	}
}
