package sandbox

import (
	"context"
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Faults makes the server misbehave like a real API on a bad day. Each
// request to the submission path draws one number: with probability Rate429
// it gets 429 Too Many Requests with a Retry-After header, then 500, 502, a
// truncated body (the connection closes after half of the announced
// Content-Length) or malformed JSON with their rates; otherwise it is
// served. A served page that continues a chain (a request with nextpage_id)
// carries, with probability RateRepeatKey, the request's own nextpageKey
// again instead of the next one: a chain that would loop forever.
//
// Draws are deterministic: they depend on Seed, the request's query string
// and how many times the same query string was asked before, never on
// timing, so a test sees the same faults for the same requests whatever the
// concurrency. Latency delays every answer (faults included).
type Faults struct {
	Rate429, Rate500, Rate502, RateTruncate, RateMalformed float64
	RateRepeatKey                                          float64
	Latency                                                time.Duration
	// RetryAfter is sent with 429 answers in whole seconds, rounded up;
	// 0 sends "Retry-After: 0" (retry at once, at the client's pace).
	RetryAfter time.Duration
	Seed       int64
}

// FaultMix spreads rate evenly over the five per-request faults (429, 500,
// 502, truncated body, malformed JSON) and adds repeated nextpageKeys at a
// twentieth of rate, with a Retry-After of one second. rate is clamped into
// [0, 1].
func FaultMix(rate float64) Faults {
	rate = clamp01(rate)
	r := rate / 5
	return Faults{Rate429: r, Rate500: r, Rate502: r, RateTruncate: r, RateMalformed: r,
		RateRepeatKey: rate / 20, RetryAfter: time.Second}
}

// normalized clamps every rate into [0, 1], scales the five per-request
// rates down to a sum of 1 when they add up to more, and makes negative
// durations zero: any Faults value is usable.
func (f Faults) normalized() Faults {
	rs := []*float64{&f.Rate429, &f.Rate500, &f.Rate502, &f.RateTruncate, &f.RateMalformed}
	sum := 0.0
	for _, r := range rs {
		*r = clamp01(*r)
		sum += *r
	}
	if sum > 1 {
		for _, r := range rs {
			*r /= sum
		}
	}
	f.RateRepeatKey = clamp01(f.RateRepeatKey)
	f.Latency = max(f.Latency, 0)
	f.RetryAfter = max(f.RetryAfter, 0)
	return f
}

func clamp01(x float64) float64 {
	if math.IsNaN(x) || x < 0 {
		return 0
	}
	return min(x, 1)
}

// FaultCounts counts the faults a server injected.
type FaultCounts struct {
	TooManyRequests int64 `json:"429"`
	InternalError   int64 `json:"500"`
	BadGateway      int64 `json:"502"`
	Truncated       int64 `json:"truncated"`
	Malformed       int64 `json:"malformed"`
	RepeatedKeys    int64 `json:"repeated_keys"`
}

// Total is the number of faults of every kind.
func (c FaultCounts) Total() int64 {
	return c.TooManyRequests + c.InternalError + c.BadGateway + c.Truncated + c.Malformed + c.RepeatedKeys
}

// WithFaults turns fault injection on (default: off); see Faults.
func WithFaults(f Faults) Option { return func(s *Server) { s.faults.set(f) } }

// SetFaults replaces the faults at run time (the sandbox's switch); the zero
// Faults turns them off. Draw counts start again.
func (s *Server) SetFaults(f Faults) { s.faults.set(f) }

// Faults returns the faults in force, normalized.
func (s *Server) Faults() Faults { return s.faults.get() }

// Injected returns how many faults of each kind the server injected.
func (s *Server) Injected() FaultCounts {
	c := &s.faults.counts
	return FaultCounts{c.tooMany.Load(), c.internal.Load(), c.badGateway.Load(), c.truncated.Load(), c.malformed.Load(), c.repeated.Load()}
}

// fault is what a request draws.
type fault int

const (
	faultNone fault = iota
	fault429
	fault500
	fault502
	faultTruncate
	faultMalformed
)

// maxDrawKeys bounds the memory of draw counts in a long-running sandbox.
const maxDrawKeys = 1 << 16

type faultState struct {
	mu     sync.Mutex
	f      Faults
	seen   map[string]uint64 // query string → requests so far
	counts struct {
		tooMany, internal, badGateway, truncated, malformed, repeated atomic.Int64
	}
}

func (fs *faultState) set(f Faults) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.f = f.normalized()
	fs.seen = nil
}

func (fs *faultState) get() Faults {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.f
}

// draw decides the fault of one request and whether a served page repeats
// its key.
func (fs *faultState) draw(query string) (f Faults, kind fault, repeatKey bool) {
	fs.mu.Lock()
	f = fs.f
	if f == (Faults{}) {
		fs.mu.Unlock()
		return f, faultNone, false
	}
	if fs.seen == nil || len(fs.seen) >= maxDrawKeys {
		fs.seen = map[string]uint64{}
	}
	n := fs.seen[query]
	fs.seen[query] = n + 1
	fs.mu.Unlock()

	u1, u2 := uniforms(f.Seed, query, n)
	kind = faultNone
	for i, r := range []float64{f.Rate429, f.Rate500, f.Rate502, f.RateTruncate, f.RateMalformed} {
		if u1 < r {
			kind = fault(i + 1)
			break
		}
		u1 -= r
	}
	return f, kind, u2 < f.RateRepeatKey
}

// uniforms returns two independent numbers in [0, 1) determined by seed,
// query and n.
func uniforms(seed int64, query string, n uint64) (float64, float64) {
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(seed))
	binary.LittleEndian.PutUint64(b[8:], n)
	h.Write(b[:])
	h.Write([]byte(query))
	x := h.Sum64()
	a, c := splitmix(x), splitmix(x^0x9e3779b97f4a7c15)
	return float64(a>>11) / (1 << 53), float64(c>>11) / (1 << 53)
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// wait sleeps for d or until ctx ends, and reports whether the full wait
// passed.
func wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// injectFault answers a request with kind and counts it; body is the page
// the request would have got (for truncation).
func (s *Server) injectFault(w http.ResponseWriter, f Faults, kind fault, body []byte) {
	c := &s.faults.counts
	switch kind {
	case fault429:
		c.tooMany.Add(1)
		secs := int64((f.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		writeJSON(w, http.StatusTooManyRequests, `{"message":"Too Many Requests"}`)
	case fault500:
		c.internal.Add(1)
		writeJSON(w, http.StatusInternalServerError, `{"errorCode":"processing_error","message":"Internal server error"}`)
	case fault502:
		c.badGateway.Add(1)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>"))
	case faultTruncate:
		c.truncated.Add(1)
		// Announcing the full length and sending half makes the server
		// close the connection: the client reads an unexpected EOF.
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body[:len(body)/2])
	case faultMalformed:
		c.malformed.Add(1)
		cut := body[:len(body)/2]
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(cut)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(cut)
	}
}

// FaultsPath is where a server made with WithFaultSwitch shows (GET) and
// changes (POST) its faults at run time, with the same x-api-key as the
// API. POST takes query parameters rate (0..1, spread as by FaultMix),
// latency and retry_after (Go durations, e.g. 100ms); parameters left out
// keep their value. Both answer the faults in force, and the counts of
// faults injected so far, as JSON.
const FaultsPath = "/sandbox/faults"

// WithFaultSwitch serves FaultsPath (default: not served), for the sandbox
// command: faults can then be switched without a restart.
func WithFaultSwitch() Option { return func(s *Server) { s.faultSwitch = true } }

// faultsView is the JSON of FaultsPath.
type faultsView struct {
	Rate429       float64     `json:"rate_429"`
	Rate500       float64     `json:"rate_500"`
	Rate502       float64     `json:"rate_502"`
	RateTruncate  float64     `json:"rate_truncate"`
	RateMalformed float64     `json:"rate_malformed"`
	RateRepeatKey float64     `json:"rate_repeat_key"`
	Latency       string      `json:"latency"`
	RetryAfter    string      `json:"retry_after"`
	Seed          int64       `json:"seed"`
	Injected      FaultCounts `json:"injected"`
}

// serveFaultSwitch answers FaultsPath.
func (s *Server) serveFaultSwitch(w http.ResponseWriter, r *http.Request) {
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("x-api-key")), []byte(s.apiKey)) != 1 {
		writeJSON(w, http.StatusForbidden, `{"message":"Forbidden"}`)
		return
	}
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		f := s.Faults()
		v := r.URL.Query()
		if x := v.Get("rate"); x != "" {
			rate, err := strconv.ParseFloat(x, 64)
			if err != nil || rate < 0 || rate > 1 {
				writeJSON(w, http.StatusBadRequest, `{"errorCode":"invalid_parameter","message":"rate must be a number from 0 to 1"}`)
				return
			}
			m := FaultMix(rate)
			m.Latency, m.RetryAfter, m.Seed = f.Latency, f.RetryAfter, f.Seed
			f = m
		}
		for name, d := range map[string]*time.Duration{"latency": &f.Latency, "retry_after": &f.RetryAfter} {
			if x := v.Get(name); x != "" {
				dur, err := time.ParseDuration(x)
				if err != nil || dur < 0 {
					writeJSON(w, http.StatusBadRequest, `{"errorCode":"invalid_parameter","message":"`+name+` must be a duration such as 100ms"}`)
					return
				}
				*d = dur
			}
		}
		s.SetFaults(f)
		s.log.Info().Float64("rate_429", f.Rate429).Dur("latency", f.Latency).Msg("faults switched")
	default:
		w.Header().Set("Allow", "GET, POST")
		writeJSON(w, http.StatusMethodNotAllowed, `{"message":"Method Not Allowed"}`)
		return
	}
	f := s.Faults()
	view := faultsView{Rate429: f.Rate429, Rate500: f.Rate500, Rate502: f.Rate502, RateTruncate: f.RateTruncate,
		RateMalformed: f.RateMalformed, RateRepeatKey: f.RateRepeatKey, Latency: f.Latency.String(), RetryAfter: f.RetryAfter.String(), Seed: f.Seed}
	view.Injected = s.Injected()
	body, _ := json.Marshal(view)
	writeJSON(w, http.StatusOK, string(body))
}
