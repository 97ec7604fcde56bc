package argos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/kycetl/kycetl/extract/argos/argoscrypt"
	"github.com/kycetl/kycetl/extract/retry"
	// Named: this package has a type window of its own.
	iw "github.com/kycetl/kycetl/internal/window"
)

// SubmissionPath is the API's submission endpoint under the base URL.
const SubmissionPath = "/v3/submission"

// DefaultPageSize is the count a client asks for per page unless
// WithPageSize says otherwise. The reference documents no maximum (only a
// default of 50); an API that refuses a count gets half of it (see
// ErrCountRefused).
const DefaultPageSize = 2000

// maxBody bounds a response body; a page of 2,000 large items is far
// smaller, and a larger page size that exceeds it fails with a hint to
// lower it.
const maxBody = 512 << 20

// The vendor's per-project request rate (5,000 calls/s), the client's
// default limit; the burst lets a few slices start at once.
const (
	DefaultRateLimit rate.Limit = 5000
	DefaultBurst                = 50
)

// Client calls the ARGOS submission API. It is safe for concurrent use.
type Client struct {
	endpoint  url.URL
	apiKey    string
	http      *http.Client
	pageSize  int
	log       zerolog.Logger
	policy    retry.Policy
	timeout   time.Duration
	limiter   *rate.Limiter      // shared by every request of the client
	cipher    *argoscrypt.Cipher // secure data transfer, when on
	optErrors []error
}

// ClientOption configures a Client.
type ClientOption func(*Client)

// WithHTTPClient sets the HTTP client (default: a client without its own
// timeout; each request gets the request timeout).
func WithHTTPClient(h *http.Client) ClientOption {
	return func(c *Client) {
		if h != nil {
			c.http = h
		}
	}
}

// WithPageSize sets the count asked for per page: any positive number
// (default DefaultPageSize). The reference documents no maximum; when the
// API refuses the count (ErrCountRefused), a run goes on with half of it.
func WithPageSize(n int) ClientOption {
	return func(c *Client) {
		if n < 1 {
			c.optErrors = append(c.optErrors, fmt.Errorf("%w: page size %d is not a positive number of items", ErrInvalidOption, n))
			return
		}
		c.pageSize = n
	}
}

// WithLogger sets the logger (default: none).
func WithLogger(l zerolog.Logger) ClientOption { return func(c *Client) { c.log = l } }

// WithRetry sets how often and how patiently a page is retried: at most
// maxTries requests in all, waiting from initial, doubling with jitter, up to
// max between tries (defaults 6, 500ms, 30s). A Retry-After answer replaces
// the computed wait, up to ten times max; an API that asks for a longer wait
// (a spent daily quota) fails the page at once.
func WithRetry(maxTries int, initial, max time.Duration) ClientOption {
	return func(c *Client) {
		p := retry.Policy{MaxTries: maxTries, Initial: initial, Max: max}
		if err := p.Validate(); err != nil {
			c.optErrors = append(c.optErrors, fmt.Errorf("%w: %w", ErrInvalidOption, err))
			return
		}
		c.policy = p
	}
}

// WithRateLimit sets the client-side rate limit: every HTTP request of the
// client, retries included and from whatever goroutine, waits for a token
// of one limiter of limit requests per second with the given burst
// (default DefaultRateLimit, DefaultBurst: the vendor's 5,000 calls/s).
// rate.Inf turns the limit off.
func WithRateLimit(limit rate.Limit, burst int) ClientOption {
	return func(c *Client) {
		if limit <= 0 || burst < 1 {
			c.optErrors = append(c.optErrors, fmt.Errorf("%w: rate limit %v/s with burst %d needs a positive rate and a burst of at least 1", ErrInvalidOption, limit, burst))
			return
		}
		c.limiter = rate.NewLimiter(limit, burst)
	}
}

// WithSecureTransfer speaks the project's secure data transfer with secret
// (the project's secretKey, or its API key when it has none; see package
// argoscrypt): each request's parameters go JSON-encoded and encrypted in
// one data query parameter, and encrypted answers are decrypted. An answer
// that does not decrypt fails at once with ErrDecrypt, never with rows.
func WithSecureTransfer(secret string) ClientOption {
	return func(c *Client) {
		ci, err := argoscrypt.New(secret)
		if err != nil {
			c.optErrors = append(c.optErrors, &settingError{kind: ErrSecretKey,
				msg: "the secret key for secure data transfer is empty: it must be the project's secret key, or its API key when it has none"})
			return
		}
		c.cipher = ci
	}
}

// WithRequestTimeout bounds one request, body included (default 60s).
func WithRequestTimeout(d time.Duration) ClientOption {
	return func(c *Client) {
		if d <= 0 {
			c.optErrors = append(c.optErrors, fmt.Errorf("%w: request timeout %s is not positive", ErrInvalidOption, d))
			return
		}
		c.timeout = d
	}
}

// NewClient returns a client for the API at baseURL (e.g.
// https://rest-api.argosidentity.com; a URL that already ends in
// /v3/submission is accepted too) with the project's API key.
func NewClient(baseURL, apiKey string, opts ...ClientOption) (*Client, error) {
	// Concurrent day slices keep their connections to the one host.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 32
	c := &Client{
		apiKey:   apiKey,
		http:     &http.Client{Transport: transport},
		limiter:  rate.NewLimiter(DefaultRateLimit, DefaultBurst),
		pageSize: DefaultPageSize,
		log:      zerolog.Nop(),
		policy:   retry.DefaultPolicy,
		timeout:  60 * time.Second,
	}
	baseURL = strings.TrimSpace(baseURL)
	if baseURL == "" {
		return nil, &settingError{kind: ErrAPIURL, msg: "the API base URL is empty: it must be one such as https://rest-api.argosidentity.com"}
	}
	// The URL is not quoted in errors: it might carry credentials.
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &settingError{kind: ErrAPIURL, msg: "the API base URL is not an http(s) URL such as https://rest-api.argosidentity.com"}
	}
	if apiKey == "" {
		return nil, &settingError{kind: ErrAPIKey, msg: "the API key is empty: it must be the project's API key"}
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), SubmissionPath) + SubmissionPath
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	c.endpoint = *u
	for _, o := range opts {
		o(c)
	}
	if err := errors.Join(c.optErrors...); err != nil {
		return nil, fmt.Errorf("configuring the ARGOS client: %w", err)
	}
	return c, nil
}

// PageSize returns the count the client asks for per page when a run
// starts (a run may lower it, see ErrCountRefused).
func (c *Client) PageSize() int { return c.pageSize }

// Query is one GET /v3/submission request. Zero fields are left out.
type Query struct {
	StartDate, EndDate time.Time // calendar days, sent as YYYY-MM-DD
	Count              int       // 0 means the client's page size
	Next               *PageKey  // the previous page's nextpageKey
	SubmissionID       string
	UserID             string
	Email              string
	RequestType        string // kyc, aml, data or others
	page               int    // the page's number within its day, for logs; 0 unknown
}

func (q Query) values(defaultCount int) url.Values {
	v := url.Values{}
	if !q.StartDate.IsZero() {
		v.Set("start_date", FormatDate(q.StartDate))
	}
	if !q.EndDate.IsZero() {
		v.Set("end_date", FormatDate(q.EndDate))
	}
	count := q.Count
	if count == 0 {
		count = defaultCount
	}
	v.Set("count", strconv.Itoa(count))
	if q.Next != nil {
		v.Set("nextpage_id", q.Next.ID)
		v.Set("nextpage_date", q.Next.CreatedAt)
	}
	for k, s := range map[string]string{"submission_id": q.SubmissionID, "userid": q.UserID, "email": q.Email, "request_type": q.RequestType} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// Page is one API answer.
type Page struct {
	Items []json.RawMessage // each item exactly as the API sent it
	Next  *PageKey          // nil on the last page
}

// PageKey is the API's nextpageKey: pass it back to get the next page.
type PageKey struct {
	ID        string
	CreatedAt string
}

// Kinds of API errors a run adapts to rather than fails on. An *APIError
// matches them (errors.Is), classified once where the answer is read.
var (
	// ErrCountRefused: the API refused the request's count (the page
	// size), 400 invalid_parameter about count. A run goes on with half
	// the page size, down to 1.
	ErrCountRefused = errors.New("the API refused the page size (count)")
	// ErrPageTooLarge: the API could not send a page that large (413). The
	// day goes on with half the count.
	ErrPageTooLarge = errors.New("the page is too large for the API")
)

// ErrCredentials is the kind of every error that says the client's
// credentials are wrong, so that no call of the run can succeed: a 401 or
// 403 answer (a wrong API key, or a caller's IP the project does not
// allow), a 400 invalid_payload to an encrypted request (the API could not
// decrypt it: a wrong secret key), an encrypted answer to a client
// without the secret (ErrEncrypted) or one that does not decrypt with it
// (ErrDecrypt). Such an error is a configuration error, not a failed day:
// a Window stops at once on it, and Check finds it with one call before a
// run writes anything.
var ErrCredentials = iw.ErrCredentials

// ErrRateLimitWait is the kind of a request that could not wait for the
// client's own rate limit (WithRateLimit) within its context's deadline.
var ErrRateLimitWait = errors.New("waiting for the client's rate limit")

// GaveUpError is the error of a request that failed every one of its
// tries (retry.GaveUpError, the policy every source shares).
type GaveUpError = retry.GaveUpError

// ErrInvalidOption is the kind of an option of a client or an extractor
// given a value out of its range.
var ErrInvalidOption = errors.New("invalid option")

// Kinds that say which of the client's settings an error is about, so that
// a caller that knows where it read them can say so: the API base URL
// (NewClient), the API key (empty, or refused with a 401 or 403) and the
// secret key of secure data transfer (empty, missing for an encrypted
// answer, refused, or not decrypting the answer).
// They are window's, which names them for the fields of Settings.
var (
	ErrAPIURL    = iw.ErrAPIURL
	ErrAPIKey    = iw.ErrAPIKey
	ErrSecretKey = iw.ErrSecretKey
)

// APIError is an answer of the API other than 200, with the API's own code
// and message. Check for it with errors.As, and for its kind with
// errors.Is (ErrCountRefused, ErrPageTooLarge).
type APIError struct {
	Status       int
	Code         string // e.g. invalid_parameter; empty when the API sent none
	Message      string
	secure       bool // the request was encrypted: a 400 may mean a wrong secret
	countRefused bool // see refusesCount
}

// Is reports whether the error is of kind target: ErrCountRefused,
// ErrPageTooLarge, ErrCredentials, and which key the API refused,
// ErrAPIKey or ErrSecretKey.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrCountRefused:
		return e.countRefused
	case ErrPageTooLarge:
		return e.Status == http.StatusRequestEntityTooLarge
	case ErrCredentials:
		return e.refusesCredentials()
	case ErrAPIKey:
		return e.refusesCredentials() && !e.refusesSecret()
	case ErrSecretKey:
		return e.refusesSecret()
	}
	return false
}

// refusesSecret reports whether the answer refuses the secret key: a 400
// invalid_payload to an encrypted request.
func (e *APIError) refusesSecret() bool {
	return e.Status == http.StatusBadRequest && e.secure && e.Code == "invalid_payload"
}

// refusesCredentials reports whether the answer refuses the client's keys:
// 401 or 403, or, to an encrypted request, 400 invalid_payload (the only
// parameter of an encrypted request is its data, which the API could not
// decrypt or read with its secret).
func (e *APIError) refusesCredentials() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden || e.refusesSecret()
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ARGOS API %d: %s", e.Status, e.Message)
	if e.Code != "" && e.Code != e.Message {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	if e.Status == http.StatusForbidden || e.Status == http.StatusUnauthorized {
		b.WriteString(" (the API refused the API key, or the caller's IP address)")
	}
	if e.Status == http.StatusBadRequest && e.secure {
		b.WriteString(" (secure data transfer is on: the secret key may be wrong)")
	}
	return b.String()
}

// Retryable reports whether the same request may succeed later.
func (e *APIError) Retryable() bool {
	switch e.Status {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// Page makes one request, retried as the client's policy says.
func (c *Client) Page(ctx context.Context, q Query) (Page, error) {
	var st Stats
	return c.page(ctx, q, &st)
}

// page makes one request with retries and adds its work to st.
func (c *Client) page(ctx context.Context, q Query, st *Stats) (Page, error) {
	target, err := c.target(q)
	if err != nil {
		return Page{}, err
	}

	try := func() (Page, time.Duration, error) {
		if err := c.limiter.Wait(ctx); err != nil {
			return Page{}, 0, retry.Permanent(fmt.Errorf("%w: %w", ErrRateLimitWait, err))
		}
		st.Calls++
		return c.do(ctx, target)
	}
	notify := func(err error, tries int, wait time.Duration) {
		st.Retries++
		st.Waited += wait
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.Status == http.StatusTooManyRequests {
			st.Throttled += wait
		}
		ev := c.log.Warn().Err(err).Int("try", tries).Dur("wait", wait)
		if !q.StartDate.IsZero() {
			ev = ev.Str("api_day", FormatDate(q.StartDate))
		}
		if q.page > 0 {
			ev = ev.Int("page", q.page)
		}
		ev.Msg("retrying ARGOS request")
	}
	p, err := retry.Do(ctx, c.policy, try, notify)
	if err != nil {
		return Page{}, err
	}
	st.Pages++
	return p, nil
}

// target is the URL of a query: its parameters in the query string, or
// JSON-encoded and encrypted into one data parameter under secure data
// transfer.
func (c *Client) target(q Query) (string, error) {
	u := c.endpoint
	v := q.values(c.pageSize)
	if c.cipher != nil {
		params := make(map[string]string, len(v))
		for k := range v {
			params[k] = v.Get(k)
		}
		plain, err := json.Marshal(params)
		if err != nil {
			return "", fmt.Errorf("encoding request parameters: %w", err)
		}
		v = url.Values{"data": {c.cipher.Encrypt(plain)}}
	}
	u.RawQuery = v.Encode()
	return u.String(), nil
}

// do makes one request. It returns the API's Retry-After (0 when absent) and
// marks errors that no retry can fix as permanent.
func (c *Client) do(ctx context.Context, target string) (Page, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return Page{}, 0, retry.Permanent(fmt.Errorf("building request: %w", err))
	}
	req.Header.Set("x-api-key", c.apiKey)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "kycetl")
	started := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return Page{}, 0, err // transport errors (refused, reset, timeout) are worth a retry
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return Page{}, 0, fmt.Errorf("reading response (HTTP %d): %w", resp.StatusCode, err)
	}
	if len(body) > maxBody {
		return Page{}, 0, retry.Permanent(fmt.Errorf("response larger than %d MiB: use a smaller page size", maxBody>>20))
	}
	c.log.Debug().Str("host", c.endpoint.Host).Int("status", resp.StatusCode).Int("bytes", len(body)).
		Dur("took", time.Since(started)).Msg("ARGOS response")
	if resp.StatusCode == http.StatusOK {
		var p Page
		if c.cipher != nil {
			p, err = decodeSecurePage(body, c.cipher)
		} else {
			p, err = decodePage(body)
		}
		if errors.Is(err, ErrEncrypted) || errors.Is(err, ErrDecrypt) {
			return Page{}, 0, retry.Permanent(err)
		}
		return p, 0, err
	}
	apiErr := c.apiError(resp.StatusCode, body)
	if !apiErr.Retryable() {
		return Page{}, 0, retry.Permanent(apiErr)
	}
	return Page{}, retry.RetryAfter(resp.Header.Get("Retry-After"), time.Now()), apiErr
}

// apiError reads the API's error body: {"message": ...} with an optional
// code under errorCode, code or error; anything else is quoted briefly.
func (c *Client) apiError(status int, body []byte) *APIError {
	e := &APIError{Status: status, secure: c.cipher != nil}
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		for _, k := range []string{"message", "Message", "errorMessage"} {
			if s, ok := m[k].(string); ok && s != "" {
				e.Message = s
				break
			}
		}
		for _, k := range []string{"errorCode", "code", "error"} {
			if s, ok := m[k].(string); ok && s != "" {
				e.Code = s
				break
			}
		}
	}
	if e.Message == "" {
		e.Message = strings.Join(strings.Fields(string(body)), " ")
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	if len(e.Message) > 300 {
		e.Message = e.Message[:300] + "…"
	}
	// A proxy could echo request headers; the key must not reach an error.
	e.Message = strings.ReplaceAll(e.Message, c.apiKey, "[redacted]")
	e.Code = strings.ReplaceAll(e.Code, c.apiKey, "[redacted]")
	e.countRefused = refusesCount(e.Status, e.Code, e.Message)
	return e
}

// countWord is the parameter name count as a word of a message, in any
// case ("count", "Count", "'count'"; not "account" or "counts").
var countWord = regexp.MustCompile(`(?i)\bcount\b`)

// refusesCount reports whether an API error refuses the count parameter:
// status 400, code invalid_parameter, and a message that names count, such
// as the built-in server's "count must be an integer from 1 to 300". The
// vendor documents neither a maximum count nor a code of its own for this
// refusal, so the message is read, here and nowhere else; callers test
// errors.Is(err, ErrCountRefused). A 400 invalid_parameter about any other
// parameter stays a plain error.
func refusesCount(status int, code, message string) bool {
	return status == http.StatusBadRequest && code == "invalid_parameter" && countWord.MatchString(message)
}
