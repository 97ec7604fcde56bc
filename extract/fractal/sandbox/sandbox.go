// Package sandbox is a Fractal-compatible statistics API on loopback: the
// client credentials token endpoint and the three statistics endpoints,
// serving deterministic synthetic users whose credentials change from day
// to day, so that successive pulls differ as real ones do. The numbers of
// every endpoint agree with each other on a day (the totals are the sums
// of the user list). Faults can be switched on to test a client: a 401, a
// token that expires early, a malformed body, server errors, an empty user
// list and a status the vendor's documents do not list.
package sandbox

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The client the sandbox accepts unless WithClient says otherwise.
const (
	DefaultClientID     = "sandbox-client"
	DefaultClientSecret = "sandbox-secret"
)

// Statuses are the credential statuses Fractal documents.
var Statuses = []string{"approved", "rejected", "pending", "contacted", "expired"}

// levels are KYC levels as the vendor spells them in its examples and the
// design names them.
var levels = []string{"v1", "basic+liveness", "light+selfie+wallet"}

// countries the synthetic users live in (ISO 3166-1 alpha-2, as the
// vendor's example).
var countries = []string{"US", "DK", "RO", "DE", "GB", "FR", "KR", "BR", "IN", "NG"}

// Faults switches misbehaviour on, for tests.
type Faults struct {
	Unauthorized int    // the next n statistics requests answer 401
	ServerErrors int    // the next n statistics requests answer 503
	Malformed    string // the path whose next answer is cut short
	EmptyUsers   bool   // the user list is empty
	ExtraStatus  string // a status no document lists, given to every 7th user
}

// Server is the sandbox API.
type Server struct {
	id, secret string
	ttl        time.Duration
	users      int
	seed       uint64
	now        func() time.Time

	mu          sync.Mutex
	tokens      map[string]time.Time // access token → expiry
	faults      Faults
	tokenCalls  int
	resourceHit int

	srv *http.Server
}

// Option configures a Server.
type Option func(*Server)

// WithClient sets the client id and secret the token endpoint accepts.
func WithClient(id, secret string) Option { return func(s *Server) { s.id, s.secret = id, secret } }

// WithTokenTTL sets how long a token lives (default 7200 s, as the vendor's).
func WithTokenTTL(d time.Duration) Option { return func(s *Server) { s.ttl = d } }

// WithUsers sets how many users the client has (default 500).
func WithUsers(n int) Option { return func(s *Server) { s.users = n } }

// WithSeed sets the seed of the synthetic users.
func WithSeed(seed uint64) Option { return func(s *Server) { s.seed = seed } }

// WithClock sets the server's clock: the day it serves, and token expiry.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// New makes a sandbox server.
func New(opts ...Option) *Server {
	s := &Server{id: DefaultClientID, secret: DefaultClientSecret, ttl: 7200 * time.Second, users: 500, seed: 1,
		now: time.Now, tokens: map[string]time.Time{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// SetFaults replaces the faults in force.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// TokenCalls is how many token requests the server has answered.
func (s *Server) TokenCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenCalls
}

// ExpireTokens makes every token handed out so far expire now, as a token
// revoked or expired mid-pull.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// Start serves on a loopback port and returns the base URL, which serves
// both the auth and the resource paths.
func (s *Server) Start() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return "http://" + ln.Addr().String(), nil
}

// Close stops the server.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Close()
}

// ServeHTTP answers the token endpoint and the statistics endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/oauth/token":
		s.token(w, r)
	case "/v2/stats/total-verifications", "/v2/stats/country-verifications", "/v2/stats/user-verifications":
		s.stats(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.tokenCalls++
	s.mu.Unlock()
	if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != s.id || secret != s.secret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	if !strings.Contains(" "+r.PostForm.Get("scope")+" ", " client.stats:read ") {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_scope"})
		return
	}
	b := make([]byte, 16)
	rand.Read(b)
	tok := hex.EncodeToString(b)
	s.mu.Lock()
	s.tokens[tok] = s.now().Add(s.ttl)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer",
		"expires_in": int(s.ttl / time.Second), "scope": "client.stats:read"})
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	exp, known := s.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	f := &s.faults
	unauthorized := f.Unauthorized > 0
	if unauthorized {
		f.Unauthorized--
	}
	serverError := !unauthorized && f.ServerErrors > 0
	if serverError {
		f.ServerErrors--
	}
	cut := f.Malformed == r.URL.Path
	if cut {
		f.Malformed = ""
	}
	faults := *f
	now := s.now()
	s.mu.Unlock()
	switch {
	case r.Method != http.MethodGet:
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method_not_allowed"})
		return
	case unauthorized || !known || !now.Before(exp):
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
		return
	case serverError:
		w.Header().Set("Retry-After", "0")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "unavailable"})
		return
	}
	day := now.UTC().Truncate(24 * time.Hour)
	w.Header().Set("Content-Type", "application/json")
	bw := bufio.NewWriterSize(w, 64<<10)
	defer bw.Flush()
	if cut {
		bw.WriteString(`{"approved": 1, "pend`)
		return
	}
	switch r.URL.Path {
	case "/v2/stats/total-verifications":
		totals := map[string]int64{}
		s.each(day, faults, func(u User) { totals[u.Credential]++ })
		writeCounts(bw, totals)
	case "/v2/stats/country-verifications":
		byCountry := map[string]map[string]int64{}
		s.each(day, faults, func(u User) {
			if byCountry[u.Country] == nil {
				byCountry[u.Country] = map[string]int64{}
			}
			byCountry[u.Country][u.Credential]++
		})
		bw.WriteByte('{')
		for i, c := range sortedKeys(byCountry) {
			if i > 0 {
				bw.WriteByte(',')
			}
			fmt.Fprintf(bw, "%q:", c)
			writeCounts(bw, byCountry[c])
		}
		bw.WriteByte('}')
	default:
		bw.WriteByte('[')
		i := 0
		s.each(day, faults, func(u User) {
			if i > 0 {
				bw.WriteByte(',')
			}
			i++
			fmt.Fprintf(bw, `{"user_id":%q,"level":%q,"credential":%q}`, u.UserID, u.Level, u.Credential)
		})
		bw.WriteByte(']')
	}
}

// User is one synthetic user as of a day, with the country only the
// country endpoint reveals.
type User struct {
	UserID, Level, Credential, Country string
}

// Users lists the users the server serves on day, for tests to compare.
func (s *Server) Users(day time.Time) []User {
	s.mu.Lock()
	faults := s.faults
	s.mu.Unlock()
	var out []User
	s.each(day.UTC().Truncate(24*time.Hour), faults, func(u User) { out = append(out, u) })
	return out
}

// firstSignup is the day number (since 1970-01-01) of 2025-01-01: users
// sign up on a day of the two years from then, set by their hash, so the
// client's numbers grow from day to day.
const firstSignup = 20089

// each yields every user signed up by day. A user's credential is pending
// on the day it signs up, then moves through pending, contacted, approved,
// rejected or expired at days set by its own hash, so about one user in
// ten changes from one day to the next.
func (s *Server) each(day time.Time, f Faults, fn func(User)) {
	if f.EmptyUsers {
		return
	}
	d := uint64(day.Unix() / 86400)
	for i := 0; i < s.users; i++ {
		h := mix(s.seed, uint64(i))
		// The user's journey: signed up on its day, then a change every
		// `step` days; which status each step gives is the user's own draw.
		signup, step := firstSignup+mix(h, 3)%730, 5+mix(h, 4)%20
		if d < signup {
			continue
		}
		u := User{
			UserID:  fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(h), uint16(h>>32), (h>>48)&0xfff, mix(h, 1)&0xfff, mix(h, 2)&0xffffffffffff),
			Level:   levels[h%uint64(len(levels))],
			Country: countries[(h>>8)%uint64(len(countries))],
		}
		switch {
		case d < signup+step:
			u.Credential = "pending"
		default:
			u.Credential = Statuses[mix(h, 5+(d-signup)/step)%uint64(len(Statuses))]
		}
		if f.ExtraStatus != "" && i%7 == 0 {
			u.Credential = f.ExtraStatus
		}
		fn(u)
	}
}

// mix hashes two numbers into one (splitmix64's finaliser).
func mix(a, b uint64) uint64 {
	x := a ^ (b+1)*0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// writeCounts writes {"status": n, ...}, zero counts left out as the API
// does.
func writeCounts(bw *bufio.Writer, counts map[string]int64) {
	bw.WriteByte('{')
	for i, st := range sortedKeys(counts) {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString(strconv.Quote(st) + ":" + strconv.FormatInt(counts[st], 10))
	}
	bw.WriteByte('}')
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
