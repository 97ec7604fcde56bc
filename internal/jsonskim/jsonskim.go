// Package jsonskim finds where JSON values end without decoding them: it
// matches quotes and brackets only. It serves where the bytes are already
// known to be JSON, or where a full parse follows anyway, and is several
// times faster than a parser.
package jsonskim

import (
	"bytes"
	"errors"
)

// Space returns the index of the first byte at or after i that is not JSON
// whitespace.
func Space(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// structural marks the bytes Value stops at inside objects and arrays.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

// Value returns the end of the value starting at b[i]; ok is false when
// the input ends first or no value starts there. Scalars end at the next
// comma, closing bracket or whitespace.
func Value(b []byte, i int) (end int, ok bool) {
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '"':
		return String(b, i)
	case '{', '[':
		end, _, ok := brackets(b, i)
		return end, ok
	}
	start := i
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i, i > start
}

// String returns the end of the string whose opening quote is b[i].
func String(b []byte, i int) (end int, ok bool) {
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

// DecoderMaxDepth is the nesting depth past which Go's JSON decoders
// (encoding/json and jsontext) refuse a value as a whole. A value deeper
// than that is still one value to Depth and Value, so a reader can cut it
// out and quarantine it alone instead of failing the page or file it is in.
const DecoderMaxDepth = 10000

// Depth returns the deepest nesting of objects and arrays in the value
// starting at b[i] (0 for a scalar), matching quotes and brackets only; for
// a value the input ends inside, the deepest nesting reached.
func Depth(b []byte, i int) int {
	if i >= len(b) || (b[i] != '{' && b[i] != '[') {
		return 0
	}
	_, deepest, _ := brackets(b, i)
	return deepest
}

// brackets skims the object or array whose opening bracket is b[i]: its
// end, its deepest nesting, and whether it ends before the input does.
func brackets(b []byte, i int) (end, deepest int, ok bool) {
	depth := 0
	for i < len(b) {
		switch c := b[i]; {
		case !structural[c]:
			i++
		case c == '"':
			end, ok := String(b, i)
			if !ok {
				return i, deepest, false
			}
			i = end
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
			i++
		default:
			i++
			if depth--; depth == 0 {
				return i, deepest, true
			}
		}
	}
	return i, deepest, false
}

// Elements yields the elements of the JSON array whose '[' is v[i]. The
// array's own punctuation is checked; its elements are not.
func Elements(v []byte, i int, yield func([]byte) error) error {
	i = Space(v, i+1)
	if i < len(v) && v[i] == ']' {
		return nil
	}
	for i < len(v) {
		end, ok := Value(v, i)
		if !ok {
			return ErrNotJSON
		}
		if err := yield(v[i:end]); err != nil {
			return err
		}
		i = Space(v, end)
		if i < len(v) && v[i] == ']' {
			return nil
		}
		if i >= len(v) || v[i] != ',' {
			return ErrNotJSON
		}
		i = Space(v, i+1)
	}
	return ErrNotJSON
}

// Members yields the name (as written, quotes excluded, escapes kept) and
// the value bytes of each member of the JSON object whose '{' is v[i],
// until yield returns false. The object's own punctuation is checked; its
// values are not.
func Members(v []byte, i int, yield func(name, value []byte) bool) error {
	i = Space(v, i+1)
	for i < len(v) && v[i] != '}' {
		end, ok := String(v, i)
		if !ok || v[i] != '"' {
			return ErrNotJSON
		}
		name := v[i+1 : end-1]
		i = Space(v, end)
		if i >= len(v) || v[i] != ':' {
			return ErrNotJSON
		}
		i = Space(v, i+1)
		if end, ok = Value(v, i); !ok {
			return ErrNotJSON
		}
		if !yield(name, v[i:end]) {
			return nil
		}
		i = Space(v, end)
		if i < len(v) && v[i] == ',' {
			i = Space(v, i+1)
		} else if i >= len(v) || v[i] != '}' {
			return ErrNotJSON
		}
	}
	if i >= len(v) {
		return ErrNotJSON
	}
	return nil
}

// ErrNotJSON: the bytes do not skim as JSON (brackets or punctuation out of
// place, or the input ends inside a value).
var ErrNotJSON = errors.New("not JSON: brackets or punctuation out of place")
