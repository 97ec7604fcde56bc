package fractal_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract/fractal"
	"github.com/kycetl/kycetl/extract/fractal/sandbox"
)

// BenchmarkUsers1M pulls a user list of 1,000,000 users from the sandbox
// over loopback: "stream" is the client (each user handed on, the bytes to
// the raw archive's writer); "whole" is the peer a reader would reach for,
// the body read and unmarshalled at once. Peak memory: run each alone
// under /usr/bin/time (docs/benchmarks.md).
func BenchmarkUsers1M(b *testing.B) {
	s := sandbox.New(sandbox.WithUsers(1_000_000), sandbox.WithClock(func() time.Time { return pullDay }))
	url, err := s.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c, err := fractal.NewClient(url, url, sandbox.DefaultClientID, sandbox.DefaultClientSecret)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	counted := &countingWriter{}
	b.Run("stream", func(b *testing.B) {
		for b.Loop() {
			counted.n = 0
			n, err := c.Users(ctx, func(_ fractal.User, raw []byte) error { counted.n += int64(len(raw)); return nil })
			if err != nil || n != 1_000_000 {
				b.Fatalf("%d users, %v", n, err)
			}
		}
		b.SetBytes(counted.n)
	})
	b.Run("whole", func(b *testing.B) {
		tok := token(b, url)
		for b.Loop() {
			req, _ := http.NewRequest(http.MethodGet, url+fractal.UserPath, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var users []fractal.User
			if err := json.Unmarshal(body, &users); err != nil || len(users) != 1_000_000 {
				b.Fatalf("%d users, %v", len(users), err)
			}
			b.SetBytes(int64(len(body)))
		}
	})
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

func token(b *testing.B, url string) string {
	resp, err := http.PostForm(url+fractal.TokenPath, map[string][]string{"grant_type": {"client_credentials"},
		"client_id": {sandbox.DefaultClientID}, "client_secret": {sandbox.DefaultClientSecret}, "scope": {fractal.Scope}})
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var t struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&t)
	return t.AccessToken
}
