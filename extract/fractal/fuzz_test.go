package fractal

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// FuzzTrailingCommas: valid JSON passes through unchanged, whatever the
// reads' sizes; any input is read without a panic, the same in one read
// or byte by byte.
func FuzzTrailingCommas(f *testing.F) {
	for _, s := range []string{`{"a":1,}`, `[1,2, ]`, `{"s":"a,}"}`, `"\",]"`, `[{"a":"b",},]`, `,`, `{"a":[1,],"b":{"c":2,},}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		whole := dropTrailingCommas(in)
		bytewise, err := io.ReadAll(&trailingCommaReader{r: iotest.OneByteReader(bytes.NewReader(in))})
		if err != nil || !bytes.Equal(whole, bytewise) {
			t.Fatalf("%q: whole %q, byte by byte %q (%v)", in, whole, bytewise, err)
		}
		if json.Valid(in) && !bytes.Equal(whole, in) {
			t.Fatalf("valid JSON %q changed to %q", in, whole)
		}
	})
}

// FuzzDecodeCounts: any answer gives counts of at least 0, or ErrMalformed.
func FuzzDecodeCounts(f *testing.F) {
	for _, s := range []string{`{"approved": 55, "contacted": 4}`, `{}`, `{"a":-1}`, `{"a":1.5}`, `[1]`, `{"a":1e3}`, `{"a":99999999999999999999}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		counts, err := DecodeCounts(in)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("%q: %v is not ErrMalformed", in, err)
			}
			return
		}
		for st, n := range counts {
			if n < 0 {
				t.Fatalf("%q: %s = %d", in, st, n)
			}
		}
	})
}
