// Package pii applies the per-column PII policy: keep, hash
// (HMAC-SHA256 with a secret key) or drop. The default policy comes
// from the schema declarations; a configuration may override any column.
package pii

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"sort"
	"strings"
	"sync"

	"github.com/kycetl/kycetl/transform/schema"
)

// ErrNoKey is returned when a column is to be hashed and no key is set.
var ErrNoKey = errors.New("PII hashing is on but no key was given: hashing needs a secret of at least 16 bytes, or else the hashed columns set to keep or drop")

// ErrShortKey is returned for a key shorter than 16 bytes.
var ErrShortKey = errors.New("the PII key must be at least 16 bytes long")

// Policy decides the action for each column. The zero value keeps the
// schema defaults and has no key, which is only valid when no column hashes.
type Policy struct {
	overrides map[string]schema.PII // "table.column" → action
	keys      map[string]schema.PII // JSON key → action, see KeyAction
	key       []byte
	fpOnce    sync.Once
	fp        string
}

// fingerprintLabel is the fixed text whose HMAC under the key is the key's
// fingerprint; fingerprintRounds makes each guess of a key cost that many
// HMACs (PBKDF2-HMAC-SHA256 of the label).
const (
	fingerprintLabel  = "kycetl PII key fingerprint v1"
	fingerprintRounds = 100_000
	// FingerprintScheme prefixes every fingerprint, so that another scheme
	// can follow without being mistaken for another key.
	FingerprintScheme = "pbkdf2-sha256-100k:"
)

// Fingerprint identifies the HMAC key without revealing it, so that an
// archive can record which key its hashed columns were made with and a run
// can refuse another key: an HMAC-SHA256 of a fixed label under the key,
// iterated (PBKDF2, 100,000 rounds) so that testing a guessed key is slow,
// truncated to 128 bits. It is "" for a policy without a key (nothing is
// hashed).
func (p *Policy) Fingerprint() string {
	if p.key == nil {
		return ""
	}
	p.fpOnce.Do(func() {
		sum, err := pbkdf2.Key(sha256.New, string(p.key), []byte(fingerprintLabel), fingerprintRounds, 16)
		if err != nil { // only for lengths FIPS mode refuses; the key is at least 16 bytes
			mac := hmac.New(sha256.New, p.key)
			mac.Write([]byte(fingerprintLabel))
			sum = mac.Sum(nil)[:16]
		}
		p.fp = FingerprintScheme + hex.EncodeToString(sum)
	})
	return p.fp
}

// Option configures a Policy.
type Option func(*Policy) error

// WithKey sets the HMAC key.
func WithKey(key []byte) Option {
	return func(p *Policy) error {
		if len(key) < 16 {
			return ErrShortKey
		}
		p.key = append([]byte(nil), key...)
		return nil
	}
}

// WithAction overrides the action of one column, named "table.column".
func WithAction(column string, action schema.PII) Option {
	return func(p *Policy) error {
		table, col, ok := strings.Cut(column, ".")
		if !ok {
			return fmt.Errorf("PII policy: %q is not table.column", column)
		}
		t, ok := schema.ByName(table)
		if !ok {
			return fmt.Errorf("PII policy: no table %q", table)
		}
		c, ok := t.Column(col)
		if !ok {
			return fmt.Errorf("PII policy: table %s has no column %q", table, col)
		}
		if action == schema.Hash && c.Type != schema.String {
			return fmt.Errorf("PII policy: %s is %s, only text columns can be hashed", column, c.Type)
		}
		if p.overrides == nil {
			p.overrides = map[string]schema.PII{}
		}
		p.overrides[column] = action
		return nil
	}
}

// New builds a policy and checks it: a policy that hashes needs a key.
func New(opts ...Option) (*Policy, error) {
	p := &Policy{}
	for _, o := range opts {
		if err := o(p); err != nil {
			return nil, err
		}
	}
	if p.key == nil && len(p.Hashed()) > 0 {
		return nil, ErrNoKey
	}
	p.keys = map[string]schema.PII{}
	for _, t := range schema.Sourced() {
		for _, c := range t.Columns {
			if c.Path == "" {
				continue
			}
			name := c.Path[strings.LastIndexByte(c.Path, '.')+1:]
			if a := p.Action(t, c); a > p.keys[name] {
				p.keys[name] = a // drop wins over hash, hash over keep
			}
		}
	}
	return p, nil
}

// KeyAction is the action for a JSON key wherever it appears outside its
// column (in extra, inside JSON columns, as an OCR_raw item): the strictest
// action of the columns whose path ends in that key. A vendor moving a
// hashed field, or a document spelling it in an unexpected place, cannot
// leak it.
func (p *Policy) KeyAction(name string) schema.PII {
	return p.keys[name]
}

// KeyActions lists the keys whose action is not keep.
func (p *Policy) KeyActions() map[string]schema.PII {
	out := map[string]schema.PII{}
	for k, a := range p.keys {
		if a != schema.Keep {
			out[k] = a
		}
	}
	return out
}

// Action is the action for a column of a table.
func (p *Policy) Action(t *schema.Table, c schema.Column) schema.PII {
	if a, ok := p.overrides[t.Name+"."+c.Name]; ok {
		return a
	}
	return c.PII
}

// Hashed lists the "table.column" names that are hashed, sorted.
func (p *Policy) Hashed() []string {
	var out []string
	for _, t := range schema.All() {
		for _, c := range t.AllColumns() {
			if p.Action(t, c) == schema.Hash {
				out = append(out, t.Name+"."+c.Name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Hasher returns a fresh hasher for one goroutine.
func (p *Policy) Hasher() *Hasher {
	return &Hasher{mac: hmac.New(sha256.New, p.key)}
}

// Hasher computes the HMAC of values; it is not safe for concurrent use.
type Hasher struct {
	mac hash.Hash
	sum []byte
	hex []byte
}

// Hash returns the hex HMAC-SHA256 of v. Equal values hash equal, so joins
// and distinct counts still work on hashed columns.
func (h *Hasher) Hash(v []byte) string { return string(h.HashBytes(v)) }

// HashBytes is Hash without the string: the hex digest, valid until the
// next call.
func (h *Hasher) HashBytes(v []byte) []byte {
	h.mac.Reset()
	h.mac.Write(v)
	h.sum = h.mac.Sum(h.sum[:0])
	if cap(h.hex) < hex.EncodedLen(len(h.sum)) {
		h.hex = make([]byte, hex.EncodedLen(len(h.sum)))
	}
	h.hex = h.hex[:hex.EncodedLen(len(h.sum))]
	hex.Encode(h.hex, h.sum)
	return h.hex
}
