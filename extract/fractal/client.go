package fractal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/kycetl/kycetl/extract/retry"
)

// The production domains and the scope the statistics API needs.
const (
	DefaultAuthURL     = "https://auth.fractal.id"
	DefaultResourceURL = "https://resource.fractal.id"
	Scope              = "client.stats:read"
	// TokenPath is where the auth domain hands out tokens. The statistics
	// document (seeds/001_…) refers to "the previous section" for the grant
	// without including it; the path, the form fields and the answer are
	// design.md §1.2's, the OAuth2 client credentials grant (RFC 6749 §4.4).
	TokenPath = "/oauth/token"
)

// The statistics endpoints, on the resource domain.
const (
	TotalPath   = "/v2/stats/total-verifications"
	CountryPath = "/v2/stats/country-verifications"
	UserPath    = "/v2/stats/user-verifications"
)

// maxBody bounds the two small answers; the user list is streamed.
const maxBody = 64 << 20

// Errors of a pull.
var (
	// ErrCredentials: the token endpoint refused the client id or secret
	// (or the scope). Nothing can succeed, so a pull stops at once.
	ErrCredentials = errors.New("the Fractal token endpoint refused the client id or secret")
	// ErrMalformed: a 200 answer did not say what the API documents.
	ErrMalformed = errors.New("malformed Fractal answer")
)

// Counts is a number of verifications by status, statuses as sent.
type Counts map[string]int64

// User is one element of the user list.
type User struct {
	UserID     string `json:"user_id"`
	Level      string `json:"level"`
	Credential string `json:"credential"`
}

// Client reads Fractal's statistics API. It is safe for concurrent use.
type Client struct {
	resource string
	cc       clientcredentials.Config
	http     *http.Client
	policy   retry.Policy
	log      zerolog.Logger

	mu     sync.Mutex
	token  *oauth2.Token
	tokens int // tokens fetched, for tests and the run's figures
	// requests and retries count the statistics requests made and those
	// repeated, for the run's figures.
	requests, retries int64
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client of both domains.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithRetry sets the retry policy (default retry.DefaultPolicy).
func WithRetry(p retry.Policy) Option { return func(c *Client) { c.policy = p } }

// WithLogger sets the logger.
func WithLogger(l zerolog.Logger) Option { return func(c *Client) { c.log = l } }

// NewClient makes a client of the auth and resource base URLs (empty: the
// production domains) with the client's id and secret.
func NewClient(authURL, resourceURL, clientID, clientSecret string, opts ...Option) (*Client, error) {
	if authURL == "" {
		authURL = DefaultAuthURL
	}
	if resourceURL == "" {
		resourceURL = DefaultResourceURL
	}
	switch {
	case clientID == "":
		return nil, errors.New("fractal client: the client id is empty")
	case clientSecret == "":
		return nil, errors.New("fractal client: the client secret is empty")
	}
	for name, u := range map[string]string{"auth": authURL, "resource": resourceURL} {
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			return nil, fmt.Errorf("fractal client: the %s URL %q is not http(s)", name, u)
		}
	}
	c := &Client{
		resource: strings.TrimRight(resourceURL, "/"),
		cc: clientcredentials.Config{
			ClientID: clientID, ClientSecret: clientSecret, Scopes: []string{Scope},
			TokenURL: strings.TrimRight(authURL, "/") + TokenPath,
			// The documented request carries the id and secret in the form.
			AuthStyle: oauth2.AuthStyleInParams,
		},
		http: &http.Client{Timeout: 5 * time.Minute}, policy: retry.DefaultPolicy, log: zerolog.Nop(),
	}
	for _, o := range opts {
		o(c)
	}
	if err := c.policy.Validate(); err != nil {
		return nil, fmt.Errorf("fractal client: %w", err)
	}
	return c, nil
}

// Check fetches a token, or reuses a valid one: it fails with
// ErrCredentials when the token endpoint refuses the client id or secret,
// before anything is pulled.
func (c *Client) Check(ctx context.Context) error {
	_, err := c.tokenFor(ctx)
	return err
}

// Work is how many statistics requests the client has made, and how many
// of them repeated one that failed.
func (c *Client) Work() (requests, retries int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests, c.retries
}

// Tokens is how many tokens the client has fetched.
func (c *Client) Tokens() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tokens
}

// Totals reads the total verifications by status, with the answer's bytes.
func (c *Client) Totals(ctx context.Context) (Counts, []byte, error) {
	body, err := c.small(ctx, TotalPath)
	if err != nil {
		return nil, nil, err
	}
	counts, err := DecodeCounts(body)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", TotalPath, err)
	}
	return counts, body, nil
}

// Countries reads the verifications by country and status, with the
// answer's bytes. A country or status the API leaves out has no count.
func (c *Client) Countries(ctx context.Context) (map[string]Counts, []byte, error) {
	body, err := c.small(ctx, CountryPath)
	if err != nil {
		return nil, nil, err
	}
	out, err := DecodeCountries(body)
	if err != nil {
		return nil, nil, err
	}
	return out, body, nil
}

// DecodeCountries reads an answer of the country endpoint:
// {"country": {"status": count, ...}, ...}.
func DecodeCountries(body []byte) (map[string]Counts, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(dropTrailingCommas(body), &raw); err != nil {
		return nil, fmt.Errorf("reading %s: %w: %v", CountryPath, ErrMalformed, err)
	}
	out := make(map[string]Counts, len(raw))
	for country, v := range raw {
		counts, err := DecodeCounts(v)
		if err != nil {
			return nil, fmt.Errorf("reading %s, country %q: %w", CountryPath, country, err)
		}
		out[country] = counts
	}
	return out, nil
}

// Users streams the user list: each user goes to fn with the exact bytes
// of its element of the list (valid until fn returns; a trailing comma the
// vendor's examples show is the only byte left out), so memory stays
// bounded whatever the list's length. It returns how many users were read.
func (c *Client) Users(ctx context.Context, fn func(u User, raw []byte) error) (int64, error) {
	resp, err := c.get(ctx, UserPath)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return DecodeUsers(resp.Body, fn)
}

// DecodeUsers reads a user list as Users does, from r: the API's answer,
// or the elements of one kept in the raw archive.
func DecodeUsers(r io.Reader, fn func(u User, raw []byte) error) (int64, error) {
	dec := json.NewDecoder(&trailingCommaReader{r: r})
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return 0, fmt.Errorf("reading %s: %w: the answer is not a list (%v)", UserPath, ErrMalformed, err)
	}
	var n int64
	var raw json.RawMessage
	for dec.More() {
		raw = raw[:0]
		if err := dec.Decode(&raw); err != nil {
			return n, fmt.Errorf("reading %s, user %d: %w: %v", UserPath, n, ErrMalformed, err)
		}
		u, err := ParseUser(raw)
		if err != nil {
			return n, fmt.Errorf("reading %s, user %d: %w", UserPath, n, err)
		}
		if err := fn(u, raw); err != nil {
			return n, err
		}
		n++
	}
	if _, err := dec.Token(); err != nil {
		return n, fmt.Errorf("reading %s after %d users: %w: %v", UserPath, n, ErrMalformed, err)
	}
	return n, nil
}

// ParseUser reads one element of the user list: an object with a user_id
// (a string); level and credential are strings when present.
func ParseUser(raw []byte) (User, error) {
	var u User
	if err := json.Unmarshal(dropTrailingCommas(raw), &u); err != nil {
		return User{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if u.UserID == "" {
		return User{}, fmt.Errorf("%w: no user_id", ErrMalformed)
	}
	return u, nil
}

// DecodeCounts reads an answer of the totals endpoint, or one country's
// counts: {"status": count, ...}; every count is a whole number of at
// least 0.
func DecodeCounts(b []byte) (Counts, error) {
	var raw map[string]json.Number
	dec := json.NewDecoder(bytes.NewReader(dropTrailingCommas(b)))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	out := make(Counts, len(raw))
	for status, v := range raw {
		n, err := v.Int64()
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%w: %s count %q is not a whole number", ErrMalformed, status, v)
		}
		out[status] = n
	}
	return out, nil
}

// small reads a whole answer of bounded size.
func (c *Client) small(ctx context.Context, path string) ([]byte, error) {
	resp, err := c.get(ctx, path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("reading %s: %w: larger than %d MiB", path, ErrMalformed, maxBody>>20)
	}
	return body, nil
}

// StatusError is an answer other than 200 from the resource server.
type StatusError struct {
	Path   string
	Status int
	Body   string // the start of the answer, for the reader of the error
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("GET %s: HTTP %d: %s", e.Path, e.Status, e.Body)
}

// get answers a 200 response whose body the caller reads: a token is
// fetched or reused, a 401 is answered once with a fresh token, and 429 and
// 5xx are retried by the shared policy.
func (c *Client) get(ctx context.Context, path string) (*http.Response, error) {
	refreshed := false
	try := func() (*http.Response, time.Duration, error) {
		tok, err := c.tokenFor(ctx)
		if err != nil {
			return nil, 0, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.resource+path, nil)
		if err != nil {
			return nil, 0, retry.Permanent(fmt.Errorf("building GET %s: %w", path, err))
		}
		req.Header.Set("Content-Type", "application/json")
		tok.SetAuthHeader(req)
		c.mu.Lock()
		c.requests++
		c.mu.Unlock()
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, 0, fmt.Errorf("GET %s: %w", path, err) // a cut connection: retried
		}
		if resp.StatusCode == http.StatusOK {
			return resp, 0, nil
		}
		head, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		serr := &StatusError{Path: path, Status: resp.StatusCode, Body: strings.TrimSpace(string(head))}
		switch {
		case resp.StatusCode == http.StatusUnauthorized && !refreshed:
			// A token revoked or expired early: once more with a new one.
			refreshed = true
			c.forget(tok)
			return nil, 0, serr
		case retry.Retryable(resp.StatusCode):
			return nil, retry.RetryAfter(resp.Header.Get("Retry-After"), time.Now()), serr
		}
		return nil, 0, retry.Permanent(serr)
	}
	notify := func(err error, tries int, wait time.Duration) {
		c.mu.Lock()
		c.retries++
		c.mu.Unlock()
		c.log.Warn().Err(err).Str("path", path).Int("try", tries).Dur("wait", wait).Msg("retrying Fractal request")
	}
	resp, err := retry.Do(ctx, c.policy, try, notify)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", path, err)
	}
	return resp, nil
}

// tokenFor returns the cached token while it is valid, else a new one.
func (c *Client) tokenFor(ctx context.Context) (*oauth2.Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token.Valid() { // false for nil, and ahead of the expiry
		return c.token, nil
	}
	tok, err := c.cc.Token(context.WithValue(ctx, oauth2.HTTPClient, c.http))
	if err != nil {
		return nil, classifyTokenError(err)
	}
	c.token = tok
	c.tokens++
	return tok, nil
}

// forget drops tok from the cache, unless another caller replaced it.
func (c *Client) forget(tok *oauth2.Token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == tok {
		c.token = nil
	}
}

// classifyTokenError turns the token endpoint's refusal of the client into
// ErrCredentials (permanent) and leaves other failures to be retried. The
// message never carries the secret: only the endpoint's status and error code.
func classifyTokenError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil {
		return fmt.Errorf("fetching a Fractal token: %w", err)
	}
	status := re.Response.StatusCode
	if status == http.StatusBadRequest || status == http.StatusUnauthorized || status == http.StatusForbidden {
		code := re.ErrorCode
		if code == "" {
			code = http.StatusText(status)
		}
		return retry.Permanent(fmt.Errorf("%w (HTTP %d, %s)", ErrCredentials, status, code))
	}
	if retry.Retryable(status) {
		return fmt.Errorf("fetching a Fractal token: HTTP %d", status)
	}
	return retry.Permanent(fmt.Errorf("fetching a Fractal token: HTTP %d", status))
}
