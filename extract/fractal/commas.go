package fractal

import (
	"bytes"
	"io"
)

// The vendor's own example of the user list ends an object with a comma
// before its closing brace ("credential": "pending",}), which is not JSON.
// Read as a typo or as what the server really sends, both readings are
// accepted: a comma followed (after whitespace) by a closing bracket is
// dropped before decoding. The raw archive keeps the bytes as sent.

// trailingCommaReader drops trailing commas from the JSON text it reads,
// across reads of any size, leaving strings untouched.
type trailingCommaReader struct {
	r        io.Reader
	buf      []byte // read, not yet returned
	held     []byte // a comma and the whitespace after it, pending
	inString bool
	escaped  bool
	eof      bool
}

func (t *trailingCommaReader) Read(p []byte) (int, error) {
	for len(t.buf) == 0 {
		if t.eof {
			if len(t.held) > 0 { // a comma at the very end: not ours to judge
				t.buf, t.held = t.held, nil
				break
			}
			return 0, io.EOF
		}
		chunk := make([]byte, max(len(p), 4096))
		n, err := t.r.Read(chunk)
		t.buf = t.filter(chunk[:n])
		if err == io.EOF {
			t.eof = true
		} else if err != nil {
			return 0, err
		}
	}
	n := copy(p, t.buf)
	t.buf = t.buf[n:]
	return n, nil
}

// filter passes in through, holding a comma (and the whitespace after it)
// until the next byte says whether it is trailing.
func (t *trailingCommaReader) filter(in []byte) []byte {
	out := make([]byte, 0, len(in)+len(t.held))
	for _, c := range in {
		switch {
		case t.inString:
			out = append(out, c)
			if t.escaped {
				t.escaped = false
			} else if c == '\\' {
				t.escaped = true
			} else if c == '"' {
				t.inString = false
			}
		case len(t.held) > 0 && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			t.held = append(t.held, c)
		case len(t.held) > 0 && (c == '}' || c == ']'):
			out = append(out, t.held[1:]...) // the whitespace, not the comma
			out = append(out, c)
			t.held = t.held[:0]
		case c == ',':
			out = append(out, t.held...)
			t.held = append(t.held[:0], c)
		default:
			out = append(out, t.held...)
			t.held = t.held[:0]
			out = append(out, c)
			if c == '"' {
				t.inString = true
			}
		}
	}
	return out
}

// dropTrailingCommas is trailingCommaReader over a whole answer.
func dropTrailingCommas(b []byte) []byte {
	if bytes.IndexByte(b, ',') < 0 {
		return b
	}
	out, _ := io.ReadAll(&trailingCommaReader{r: bytes.NewReader(b)})
	return out
}
