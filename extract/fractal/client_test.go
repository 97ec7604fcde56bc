package fractal_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract/fractal"
	"github.com/kycetl/kycetl/extract/fractal/sandbox"
	"github.com/kycetl/kycetl/extract/retry"
)

var quick = retry.Policy{MaxTries: 4, Initial: time.Millisecond, Max: 5 * time.Millisecond}

// pullDay is after every synthetic user signed up (2025–2026).
var pullDay = time.Date(2027, 2, 1, 12, 0, 0, 0, time.UTC)

func start(t *testing.T, opts ...sandbox.Option) (*sandbox.Server, string) {
	t.Helper()
	s := sandbox.New(append([]sandbox.Option{sandbox.WithClock(func() time.Time { return pullDay })}, opts...)...)
	url, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, url
}

func client(t *testing.T, url, secret string) *fractal.Client {
	t.Helper()
	c, err := fractal.NewClient(url, url, sandbox.DefaultClientID, secret, fractal.WithRetry(quick))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pull reads all three endpoints.
func pull(ctx context.Context, c *fractal.Client) (fractal.Counts, map[string]fractal.Counts, []fractal.User, error) {
	totals, _, err := c.Totals(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	countries, _, err := c.Countries(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	var users []fractal.User
	_, err = c.Users(ctx, func(u fractal.User, _ []byte) error { users = append(users, u); return nil })
	return totals, countries, users, err
}

// TestPullReadsWhatTheServerServes: over real HTTP, every number equals the
// server's own, the endpoints agree, and one token serves the whole pull.
func TestPullReadsWhatTheServerServes(t *testing.T) {
	s, url := start(t)
	c := client(t, url, sandbox.DefaultClientSecret)
	totals, countries, users, err := pull(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	want := s.Users(pullDay)
	if len(users) != len(want) || len(users) != 500 {
		t.Fatalf("%d users, want %d", len(users), len(want))
	}
	wantTotals, wantCountries := fractal.Counts{}, map[string]fractal.Counts{}
	for i, u := range want {
		if users[i] != (fractal.User{UserID: u.UserID, Level: u.Level, Credential: u.Credential}) {
			t.Fatalf("user %d = %+v, want %+v", i, users[i], u)
		}
		wantTotals[u.Credential]++
		if wantCountries[u.Country] == nil {
			wantCountries[u.Country] = fractal.Counts{}
		}
		wantCountries[u.Country][u.Credential]++
	}
	if !equalCounts(totals, wantTotals) {
		t.Errorf("totals %v, want %v", totals, wantTotals)
	}
	for c, w := range wantCountries {
		if !equalCounts(countries[c], w) {
			t.Errorf("country %s: %v, want %v", c, countries[c], w)
		}
	}
	if len(countries) != len(wantCountries) {
		t.Errorf("%d countries, want %d", len(countries), len(wantCountries))
	}
	if n := s.TokenCalls(); n != 1 || c.Tokens() != 1 {
		t.Errorf("%d token requests, want one token for the pull", n)
	}
}

func equalCounts(a, b fractal.Counts) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestTokenExpiringMidPull: a token the server stops accepting between two
// endpoints is replaced once, and the pull completes; a server that keeps
// answering 401 fails the pull after that one retry.
func TestTokenExpiringMidPull(t *testing.T) {
	s, url := start(t)
	c := client(t, url, sandbox.DefaultClientSecret)
	ctx := context.Background()
	if _, _, err := c.Totals(ctx); err != nil {
		t.Fatal(err)
	}
	s.ExpireTokens()
	if _, _, err := c.Countries(ctx); err != nil {
		t.Fatalf("after the token expired: %v", err)
	}
	if n := s.TokenCalls(); n != 2 {
		t.Errorf("%d token requests, want 2 (the first and one after the 401)", n)
	}
	s.SetFaults(sandbox.Faults{Unauthorized: 2})
	_, err := c.Users(ctx, func(fractal.User, []byte) error { return nil })
	var se *fractal.StatusError
	if !errors.As(err, &se) || se.Status != http.StatusUnauthorized {
		t.Errorf("two 401s in a row: %v, want the 401", err)
	}
}

// TestWrongSecretStopsAtOnce: a refused secret is ErrCredentials after one
// token request, and the secret is in no error.
func TestWrongSecretStopsAtOnce(t *testing.T) {
	s, url := start(t)
	c := client(t, url, "not-the-secret-4711")
	_, _, err := c.Totals(context.Background())
	if !errors.Is(err, fractal.ErrCredentials) {
		t.Fatalf("err = %v, want ErrCredentials", err)
	}
	if s.TokenCalls() != 1 {
		t.Errorf("%d token requests, want 1: a refused secret is not retried", s.TokenCalls())
	}
	if strings.Contains(err.Error(), "not-the-secret-4711") {
		t.Errorf("the secret is in the error: %v", err)
	}
}

// TestFaults: server errors are retried; a cut body is ErrMalformed; an
// empty user list is no error; a status no document lists is kept.
func TestFaults(t *testing.T) {
	ctx := context.Background()
	s, url := start(t)
	c := client(t, url, sandbox.DefaultClientSecret)
	s.SetFaults(sandbox.Faults{ServerErrors: 2})
	if _, _, err := c.Totals(ctx); err != nil {
		t.Errorf("two 503s then an answer: %v", err)
	}
	s.SetFaults(sandbox.Faults{Malformed: fractal.TotalPath})
	if _, _, err := c.Totals(ctx); !errors.Is(err, fractal.ErrMalformed) {
		t.Errorf("a cut body: %v, want ErrMalformed", err)
	}
	s.SetFaults(sandbox.Faults{EmptyUsers: true})
	if n, err := c.Users(ctx, func(fractal.User, []byte) error { return nil }); err != nil || n != 0 {
		t.Errorf("an empty list: %d users, %v", n, err)
	}
	s.SetFaults(sandbox.Faults{ExtraStatus: "on_hold"})
	totals, _, users, err := pull(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	held := 0
	for _, u := range users {
		if u.Credential == "on_hold" {
			held++
		}
	}
	if held == 0 || totals["on_hold"] != int64(held) {
		t.Errorf("on_hold: %d users, total %d; want it kept and counted", held, totals["on_hold"])
	}
}

// TestTheVendorsExample reads the documents' own example answers, the
// user list's trailing comma included, and keeps the raw bytes as sent.
func TestTheVendorsExample(t *testing.T) {
	answers := map[string]string{
		fractal.TotalPath:   `{"approved": 55, "contacted": 4, "rejected": 10, "pending": 7}`,
		fractal.CountryPath: `{"US": {"approved": 8, "contacted": 1, "rejected": 2, "pending": 3}, "DK": {"approved": 12}, "RO": {"approved": 3}}`,
		fractal.UserPath: "[\n{\n\"user_id\": \"320bfdaa-213e-41fb-8d77-ed98c415f01e\",\n\"level\": \"v1\",\n\"credential\": \"approved\"\n},\n" +
			"{\n\"user_id\": \"320bfdaa-213e-41fb-8d77-ed98c415f01e\",\n\"level\": \"light+selfie+wallet\",\n\"credential\": \"pending\",\n}\n]",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == fractal.TokenPath {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"access_token":"t","token_type":"Bearer","expires_in":7200}`)
			return
		}
		io.WriteString(w, answers[r.URL.Path])
	}))
	defer srv.Close()
	c, err := fractal.NewClient(srv.URL, srv.URL, "id", "secret", fractal.WithRetry(quick))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	totals, raw, err := c.Totals(ctx)
	if err != nil || totals["approved"] != 55 || totals["pending"] != 7 || len(totals) != 4 || string(raw) != answers[fractal.TotalPath] {
		t.Errorf("totals %v, %v", totals, err)
	}
	countries, _, err := c.Countries(ctx)
	if err != nil || countries["DK"]["approved"] != 12 || len(countries["DK"]) != 1 || countries["US"]["pending"] != 3 {
		t.Errorf("countries %v, %v", countries, err)
	}
	var users []fractal.User
	var rawUsers []string
	n, err := c.Users(ctx, func(u fractal.User, raw []byte) error {
		users, rawUsers = append(users, u), append(rawUsers, string(raw))
		return nil
	})
	if err != nil || n != 2 || users[1].Credential != "pending" || users[1].Level != "light+selfie+wallet" {
		t.Errorf("users %v, %v", users, err)
	}
	// Each element's bytes as sent (the list's trailing comma aside).
	noTrailing := regexp.MustCompile(`,(\s*)\}`).ReplaceAllString(answers[fractal.UserPath], "$1}")
	for _, raw := range rawUsers {
		if !strings.Contains(noTrailing, raw) || !strings.HasPrefix(raw, "{") {
			t.Errorf("user element %q is not the bytes as sent in:\n%s", raw, answers[fractal.UserPath])
		}
	}
}
