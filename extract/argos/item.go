package argos

import (
	"errors"
	"fmt"
	"time"

	"github.com/valyala/fastjson"
)

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
	var err error
	if k.SubmissionID, err = idOf(v.Get("submission_id")); err != nil {
		return Key{}, err
	}
	if k.CreatedAt, err = createdOf(v.Get("created_at")); err != nil {
		return Key{}, err
	}
	k.UpdatedAt = updatedOf(v.Get("updated_at"))
	return k, nil
}

// The three identity fields, read from their values (nil when absent). They
// are the one definition ReadKey and ScanKey share.

func idOf(v *fastjson.Value) (string, error) {
	id := ScalarString(v)
	if id == "" {
		return "", ErrNoID
	}
	return id, nil
}

func createdOf(v *fastjson.Value) (time.Time, error) {
	if v == nil || v.Type() == fastjson.TypeNull {
		return time.Time{}, ErrNoCreatedAt
	}
	t, err := TimeOf(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %v", ErrBadCreatedAt, err)
	}
	return t, nil
}

func updatedOf(v *fastjson.Value) time.Time {
	if v == nil {
		return time.Time{}
	}
	t, err := TimeOf(v)
	if err != nil {
		return time.Time{}
	}
	return t
}

// TimeOf reads a JSON value holding a timestamp: a string in any ParseTime
// shape or an epoch number.
func TimeOf(v *fastjson.Value) (time.Time, error) {
	switch v.Type() {
	case fastjson.TypeString:
		return ParseTimeBytes(v.GetStringBytes())
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
