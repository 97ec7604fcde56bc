// Package jsonskim finds where JSON values end without decoding them: it
// matches quotes and brackets only. It serves where the bytes are already
// known to be JSON, or where a full parse follows anyway, and is several
// times faster than a parser.
package jsonskim

import "bytes"

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
		depth := 0
		for i < len(b) {
			switch c := b[i]; {
			case !structural[c]:
				i++
			case c == '"':
				end, ok := String(b, i)
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
