package argos

import (
	"errors"
	"fmt"
	"time"

	"github.com/valyala/fastjson"
)

// Key is what extraction must know of a submission before flattening it: its
// identity, the UTC day it belongs to, and its version for deduplication.
type Key struct {
	SubmissionID string
	CreatedAt    time.Time
	UpdatedAt    time.Time // zero when the item carries no usable updated_at
}

// Errors of ReadKey; a caller quarantines the item with the message.
var (
	ErrNotObject    = errors.New("item is not a JSON object")
	ErrNoID         = errors.New("item has no submission_id")
	ErrNoCreatedAt  = errors.New("item has no created_at")
	ErrBadCreatedAt = errors.New("item has an unreadable created_at")
)

// ReadKey parses the identity fields of one raw submission item. p is reused
// between calls to avoid allocation and must not be shared between goroutines.
func ReadKey(p *fastjson.Parser, item []byte) (Key, error) {
	v, err := p.ParseBytes(item)
	if err != nil {
		return Key{}, fmt.Errorf("%w: %v", ErrNotObject, err)
	}
	return KeyOf(v)
}

// KeyOf reads the identity fields from an already parsed item.
func KeyOf(v *fastjson.Value) (Key, error) {
	if v.Type() != fastjson.TypeObject {
		return Key{}, ErrNotObject
	}
	var k Key
	id := ScalarString(v.Get("submission_id"))
	if id == "" {
		return Key{}, ErrNoID
	}
	k.SubmissionID = id
	c := v.Get("created_at")
	if c == nil || c.Type() == fastjson.TypeNull {
		return Key{}, ErrNoCreatedAt
	}
	t, err := TimeOf(c)
	if err != nil {
		return Key{}, fmt.Errorf("%w: %v", ErrBadCreatedAt, err)
	}
	k.CreatedAt = t
	if u := v.Get("updated_at"); u != nil {
		if t, err := TimeOf(u); err == nil {
			k.UpdatedAt = t
		}
	}
	return k, nil
}

// TimeOf reads a JSON value holding a timestamp: a string in any ParseTime
// shape or an epoch number.
func TimeOf(v *fastjson.Value) (time.Time, error) {
	switch v.Type() {
	case fastjson.TypeString:
		return ParseTime(string(v.GetStringBytes()))
	case fastjson.TypeNumber:
		n, err := v.Int64()
		if err != nil {
			return time.Time{}, fmt.Errorf("%w: %s", ErrBadTime, v.String())
		}
		return EpochTime(n), nil
	default:
		return time.Time{}, fmt.Errorf("%w: JSON %s", ErrBadTime, v.Type())
	}
}

// ScalarString renders a JSON scalar as text: strings as they are, numbers and
// booleans in their JSON spelling. Null, missing, objects and arrays give "".
func ScalarString(v *fastjson.Value) string {
	if v == nil {
		return ""
	}
	switch v.Type() {
	case fastjson.TypeString:
		return string(v.GetStringBytes())
	case fastjson.TypeNumber:
		return v.String()
	case fastjson.TypeTrue:
		return "true"
	case fastjson.TypeFalse:
		return "false"
	}
	return ""
}

// Newer reports whether a is a newer version of a submission than b, by
// updated_at; on a tie the later-seen copy (a) wins, so a re-fetch replaces.
func Newer(a, b Key) bool {
	return !a.UpdatedAt.Before(b.UpdatedAt)
}

// FormatDate renders a day as the API and the partitions spell it.
func FormatDate(t time.Time) string { return t.UTC().Format(DateLayout) }
