package argos

import (
	"bytes"

	"github.com/valyala/fastjson"
)

// ScanKey reads the identity fields of one raw item like ReadKey, at a
// fraction of the cost: it skims the top-level keys up to the last identity
// field and parses only the three values, so the rest of the item is not
// checked to be JSON. For any item that is valid JSON it returns exactly what
// ReadKey returns (FuzzScanKey checks it); for a broken one it may return a
// key, and the caller must then parse the item before trusting it over
// another copy. An escaped key, or a layout it does not follow, falls back to
// ReadKey. p is reused between calls and must not be shared.
func ScanKey(p *fastjson.Parser, item []byte) (Key, error) {
	spans, ok := scanIdentity(item)
	if !ok {
		return ReadKey(p, item)
	}
	var k Key
	var err error
	v, ok := spanValue(p, spans[0])
	if !ok {
		return ReadKey(p, item)
	}
	if k.SubmissionID, err = idOf(v); err != nil {
		return Key{}, err
	}
	if v, ok = spanValue(p, spans[1]); !ok {
		return ReadKey(p, item)
	}
	if k.CreatedAt, err = createdOf(v); err != nil {
		return Key{}, err
	}
	if v, ok = spanValue(p, spans[2]); !ok {
		return ReadKey(p, item)
	}
	k.UpdatedAt = updatedOf(v)
	return k, nil
}

// identityKeys are the top-level keys ScanKey looks for, in spans order.
var identityKeys = [3][]byte{[]byte("submission_id"), []byte("created_at"), []byte("updated_at")}

// spanValue parses one value's bytes; nil (absent) stays nil.
func spanValue(p *fastjson.Parser, span []byte) (*fastjson.Value, bool) {
	if span == nil {
		return nil, true
	}
	v, err := p.ParseBytes(span)
	return v, err == nil
}

// scanIdentity finds the value bytes of the first occurrence of each
// identity key at the top level of item. ok is false when item is not laid
// out as an object of plain keys, or is not an object at all: ReadKey
// then gives the answer (and the error) a full parse gives.
func scanIdentity(item []byte) (spans [3][]byte, ok bool) {
	i := skipSpace(item, 0)
	if i >= len(item) || item[i] != '{' {
		return spans, false
	}
	i = skipSpace(item, i+1)
	if i < len(item) && item[i] == '}' {
		return spans, true
	}
	found := 0
	for {
		if i >= len(item) || item[i] != '"' {
			return spans, false
		}
		end := bytes.IndexByte(item[i+1:], '"')
		if end < 0 {
			return spans, false
		}
		key := item[i+1 : i+1+end]
		if bytes.IndexByte(key, '\\') >= 0 {
			return spans, false // escaped: only a full parse unescapes it
		}
		i = skipSpace(item, i+end+2)
		if i >= len(item) || item[i] != ':' {
			return spans, false
		}
		start := skipSpace(item, i+1)
		stop, ok := skipValue(item, start)
		if !ok {
			return spans, false
		}
		for j, want := range identityKeys {
			if spans[j] == nil && bytes.Equal(key, want) {
				spans[j] = item[start:stop]
				if found++; found == len(spans) {
					return spans, true
				}
			}
		}
		i = skipSpace(item, stop)
		switch {
		case i >= len(item):
			return spans, false
		case item[i] == '}':
			return spans, true
		case item[i] != ',':
			return spans, false
		}
		i = skipSpace(item, i+1)
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// structural marks the bytes skipValue stops at inside objects and arrays.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

// skipValue returns the end of the value starting at b[i], matching quotes
// and brackets only (the value is not checked further).
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch c := b[i]; {
			case !structural[c]:
				i++
			case c == '"':
				end, ok := skipString(b, i)
				if !ok {
					return i, false
				}
				i = end
			case c == '{' || c == '[':
				depth++
				i++
			default:
				i++
				if depth--; depth == 0 {
					return i, true
				}
			}
		}
		return i, false
	}
	start := i
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i, i > start
}

// skipString returns the end of the string whose opening quote is b[i].
func skipString(b []byte, i int) (int, bool) {
	i++
	for {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return len(b), false
		}
		i += q
		n := 0 // backslashes before the quote: an odd count escapes it
		for j := i - 1; j >= 0 && b[j] == '\\'; j-- {
			n++
		}
		i++
		if n%2 == 0 {
			return i, true
		}
	}
}
