package synth

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/kycetl/kycetl/extract/argos"
)

// Generator makes the submissions of one synthetic ARGOS project.
type Generator struct {
	seed           int64
	minVol, maxVol int
	asOf           time.Time
	drift          bool
	kbShare        float64
	users          int // size of the applicant pool; repeat applicants share a userid
}

// Option configures a Generator.
type Option func(*Generator)

// WithVolume sets how many submissions a day has, drawn uniformly from
// [min, max] per day (default 150..400). A negative min is read as 0 and a max
// below min as min. Below about 50 a day, not every kind of drift is
// guaranteed to appear every day.
func WithVolume(min, max int) Option {
	return func(g *Generator) {
		g.minVol, g.maxVol = min, max
	}
}

// WithAsOf sets the moment at which statuses are seen (default: the time New
// is called). Submissions created after it do not exist yet; a submission
// that went to manual review is still pending when asOf is before its
// reviewer's decision (a few hours to four days after creation), and events
// after asOf (data edits, address injections) are not there yet.
func WithAsOf(t time.Time) Option {
	return func(g *Generator) { g.asOf = t.UTC() }
}

// WithDrift turns the payload drift of real exports on or off (default on).
// With drift on, a deterministic 12-15% of each day's items carry one kind of
// drift each, and every kind is present every day: kyc.comment and
// kyc.commentCode as plain strings, scores as numeric strings, ISO 8601
// instead of YYYY-MM-DD-HH-MM-SS-ZZZ timestamps, nulls for optional fields,
// unknown fields (named with UnknownFieldPrefix) and capitalised statuses.
func WithDrift(on bool) Option {
	return func(g *Generator) { g.drift = on }
}

// WithKnowledgeShare sets the share of knowledge-based submissions (default
// 0.1); the rest are ID-document submissions. It is clamped into [0, 1].
func WithKnowledgeShare(share float64) Option {
	return func(g *Generator) { g.kbShare = share }
}

// New returns a generator for the project identified by seed.
func New(seed int64, opts ...Option) *Generator {
	g := &Generator{
		seed:    seed,
		minVol:  150,
		maxVol:  400,
		asOf:    time.Now().UTC(),
		drift:   true,
		kbShare: 0.1,
		users:   40000,
	}
	for _, o := range opts {
		o(g)
	}
	g.minVol = max(g.minVol, 0)
	g.maxVol = max(g.maxVol, g.minVol)
	g.kbShare = min(max(g.kbShare, 0), 1)
	return g
}

// AsOf returns the moment at which the generator sees statuses.
func (g *Generator) AsOf() time.Time { return g.asOf }

// Day returns the compact JSON of every submission created on the UTC day of
// day (as seen at the generator's asOf), in created_at order. The result is
// the same for the same seed, options and day.
func (g *Generator) Day(day time.Time) [][]byte {
	d := argos.Day(day)
	key := g.dayKey(d)
	n := g.minVol
	if g.maxVol > g.minVol {
		n += rand.New(rand.NewPCG(key, 0)).IntN(g.maxVol - g.minVol + 1)
	}
	type made struct {
		at  time.Time
		raw []byte
	}
	out := make([]made, 0, n)
	// All items of the day are encoded into one buffer, each handed out as
	// its own capacity-limited slice of it.
	buf := make([]byte, 0, n*itemSizeHint)
	var dr drifter
	for i := range n {
		// Each item has its own stream, so that changing one item's shape
		// never shifts the values of the next.
		r := rand.New(rand.NewPCG(key, uint64(i)+1))
		s := g.build(r, d)
		if g.drift {
			dr.apply(s)
		}
		if s.created.After(g.asOf) {
			continue
		}
		start := len(buf)
		buf = appendJSON(buf, s.o)
		out = append(out, made{s.created, buf[start:len(buf):len(buf)]})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	items := make([][]byte, len(out))
	for i, m := range out {
		items[i] = m.raw
	}
	return items
}

// WriteNDJSON writes the submissions of every UTC day from from to to
// (inclusive) as newline-delimited JSON, one item a line, and returns how many
// it wrote.
func (g *Generator) WriteNDJSON(w io.Writer, from, to time.Time) (n int, err error) {
	bw := bufio.NewWriterSize(w, 1<<16)
	for d := argos.Day(from); !d.After(argos.Day(to)); d = d.AddDate(0, 0, 1) {
		for _, it := range g.Day(d) {
			if _, err := bw.Write(it); err != nil {
				return n, fmt.Errorf("writing submissions of %s: %w", argos.FormatDate(d), err)
			}
			if err := bw.WriteByte('\n'); err != nil {
				return n, fmt.Errorf("writing submissions of %s: %w", argos.FormatDate(d), err)
			}
			n++
		}
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("writing submissions: %w", err)
	}
	return n, nil
}

// itemSizeHint is about the encoded size of an average item, to size a
// day's buffer at once.
const itemSizeHint = 7 << 10

// dayKey mixes the seed and the day number into one stream key, so that days
// are independent of each other and of the order they are generated in.
func (g *Generator) dayKey(d time.Time) uint64 {
	return splitmix(uint64(g.seed) ^ splitmix(uint64(d.Unix()/86400)))
}

// userKey is the stream key of one applicant's stable attributes.
func (g *Generator) userKey(user int) uint64 {
	return splitmix(uint64(g.seed)*0x9e3779b97f4a7c15 ^ splitmix(uint64(user)+0x5851f42d4c957f2d))
}

// splitmix is the SplitMix64 finaliser: a cheap, well-mixed hash of a word.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
