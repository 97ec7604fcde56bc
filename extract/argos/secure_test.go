package argos_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/argos/argoscrypt"
	"github.com/kycetl/kycetl/extract/argos/sandbox"
)

const secret = "project-secret-key-9c1e"

// onlyData fails the test when a request carries anything but data.
func onlyData(t *testing.T, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if len(q) != 1 || q.Get("data") == "" {
			t.Errorf("request parameters %v travel in the clear", q)
		}
		next.ServeHTTP(w, r)
	})
}

func TestSecureTransferRoundTrip(t *testing.T) {
	from, to := day0, day0.AddDate(0, 0, 2)
	plain := collect(t, argos.NewExtractor(client(t, serve(t, fake()), nil, argos.WithPageSize(13))), from, to)

	s := sandbox.New(gen(), sandbox.WithAPIKey(key), sandbox.WithSecureTransfer(secret))
	var log bytes.Buffer
	c := client(t, serve(t, onlyData(t, s)), &log, argos.WithPageSize(13), argos.WithSecureTransfer(secret))
	sameDays(t, "secure transfer", collect(t, argos.NewExtractor(c), from, to), plain)
	if strings.Contains(log.String(), secret) {
		t.Error("the secret reached the log")
	}

	// The API key as the secret works the same.
	s = sandbox.New(gen(), sandbox.WithAPIKey(key), sandbox.WithSecureTransfer(key))
	c = client(t, serve(t, onlyData(t, s)), nil, argos.WithPageSize(13), argos.WithSecureTransfer(key))
	sameDays(t, "API key as secret", collect(t, argos.NewExtractor(c), from, to), plain)
}

func TestSecureTransferWrongKeyFailsClearly(t *testing.T) {
	// The server cannot decrypt the request: 400, named, not retried.
	s := sandbox.New(gen(), sandbox.WithAPIKey(key), sandbox.WithSecureTransfer(secret))
	c := client(t, serve(t, s), nil, argos.WithSecureTransfer("a-wrong-secret"))
	rows := 0
	_, err := c.Day(context.Background(), day0, func(items []json.RawMessage) error { rows += len(items); return nil })
	var apiErr *argos.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 400 || !errors.Is(err, argos.ErrSecretKey) || errors.Is(err, argos.ErrAPIKey) {
		t.Fatalf("error %v, want a 400 of kind ErrSecretKey", err)
	}
	if rows != 0 || s.Calls() != 1 {
		t.Errorf("%d rows after %d calls, want none after 1", rows, s.Calls())
	}

	// The answer does not decrypt: ErrDecrypt, not retried, no rows.
	other, err := argoscrypt.New("the-server-uses-this")
	if err != nil {
		t.Fatal(err)
	}
	api := sandbox.New(gen(), sandbox.WithAPIKey(key))
	var calls atomic.Int64
	base := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		rec := httptest.NewRecorder()
		r.URL.RawQuery = "start_date=2025-02-01&end_date=2025-02-01"
		api.ServeHTTP(rec, r)
		body, _ := json.Marshal(map[string]any{"isEncrypted": true, "data": other.Encrypt(rec.Body.Bytes())})
		status(200, string(body))(w, r)
	}))
	c = client(t, base, nil, argos.WithSecureTransfer(secret))
	err = argos.NewExtractor(c, argos.WithMargin(0)).Window(context.Background(), day0, day0, func(_ context.Context, d argos.DayItems) error {
		t.Errorf("%s handed on with %d items under a wrong key", d.Day, len(d.Items))
		return nil
	})
	if !errors.Is(err, argos.ErrDecrypt) || !errors.Is(err, argos.ErrSecretKey) || calls.Load() != 1 {
		t.Fatalf("error %v after %d calls, want ErrDecrypt (of kind ErrSecretKey) after 1", err, calls.Load())
	}

	// Without a secret, an encrypted answer says what to set.
	s = sandbox.New(gen(), sandbox.WithAPIKey(key), sandbox.WithSecureTransfer(secret))
	_, err = client(t, serve(t, s), nil).Page(context.Background(), argos.Query{StartDate: day0, EndDate: day0})
	if !errors.Is(err, argos.ErrEncrypted) || !errors.Is(err, argos.ErrSecretKey) || s.Calls() != 1 {
		t.Errorf("error %v after %d calls, want ErrEncrypted (of kind ErrSecretKey) after 1", err, s.Calls())
	}
}
