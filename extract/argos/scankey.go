package argos

import (
	"bytes"

	"github.com/kycetl/kycetl/internal/jsonskim"

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
	i := jsonskim.Space(item, 0)
	if i >= len(item) || item[i] != '{' {
		return spans, false
	}
	i = jsonskim.Space(item, i+1)
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
		i = jsonskim.Space(item, i+end+2)
		if i >= len(item) || item[i] != ':' {
			return spans, false
		}
		start := jsonskim.Space(item, i+1)
		stop, ok := jsonskim.Value(item, start)
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
		i = jsonskim.Space(item, stop)
		switch {
		case i >= len(item):
			return spans, false
		case item[i] == '}':
			return spans, true
		case item[i] != ',':
			return spans, false
		}
		i = jsonskim.Space(item, i+1)
	}
}
