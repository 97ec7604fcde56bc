package jsonskim

import (
	"bufio"
	"errors"
	"io"
)

// ErrUnexpectedEOF: the input ended inside a value.
var ErrUnexpectedEOF = errors.New("the input ends inside a JSON value")

// ReadValue reads the next JSON value of a stream of values (whitespace
// between them) from br and appends its bytes to dst. It matches quotes and
// brackets only, at any depth: the caller checks the value. skipped counts
// the whitespace read before it. At the end of the stream it returns io.EOF
// with nothing appended.
func ReadValue(br *bufio.Reader, dst []byte) (value []byte, skipped int, err error) {
	for {
		b, err := br.Peek(1)
		if err != nil {
			return dst, skipped, err // io.EOF between values: the end
		}
		if b[0] != ' ' && b[0] != '\t' && b[0] != '\n' && b[0] != '\r' {
			break
		}
		br.Discard(1)
		skipped++
	}
	var s scan
	start := len(dst)
	for {
		if br.Buffered() == 0 {
			if _, err := br.Peek(1); err != nil {
				if errors.Is(err, io.EOF) {
					if s.scalar && s.started {
						return dst, skipped, nil // a scalar ends with the input
					}
					return dst, skipped, ErrUnexpectedEOF
				}
				return dst, skipped, err
			}
		}
		chunk, _ := br.Peek(br.Buffered())
		n, done := s.feed(chunk)
		dst = append(dst, chunk[:n]...)
		br.Discard(n)
		if done {
			if len(dst) == start {
				return dst, skipped, ErrNotJSON // a closing bracket or comma where a value starts
			}
			return dst, skipped, nil
		}
	}
}

// scan is ReadValue's state between chunks.
type scan struct {
	started, scalar, inString, escaped bool
	depth                              int
}

// feed consumes bytes of chunk and reports how many belong to the value
// and whether it ended there.
func (s *scan) feed(chunk []byte) (int, bool) {
	i := 0
	if !s.started {
		s.started = true
		switch chunk[0] {
		case '{', '[':
			s.depth = 1
		case '"':
			s.inString = true
		default:
			s.scalar = true
		}
		i = 1
		if s.scalar {
			i = 0
		}
	}
	for ; i < len(chunk); i++ {
		c := chunk[i]
		switch {
		case s.escaped:
			s.escaped = false
		case s.inString:
			if c == '\\' {
				s.escaped = true
			} else if c == '"' {
				s.inString = false
				if s.depth == 0 {
					return i + 1, true // a top-level string
				}
			}
		case s.scalar:
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' || structural[c] || c == ',' {
				return i, true
			}
		case c == '"':
			s.inString = true
		case c == '{' || c == '[':
			s.depth++
		case c == '}' || c == ']':
			if s.depth--; s.depth == 0 {
				return i + 1, true
			}
		}
	}
	return len(chunk), false
}
