package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/kycetl/kycetl/extract/argos/synth"
	"github.com/kycetl/kycetl/internal/jsonskim"
)

// values cuts input with readValues and returns the items' exact bytes.
func values(t testing.TB, input string) ([]string, error) {
	var got []string
	c := &cutter{unit: "item", emit: func(b *itemBatch) error {
		for _, l := range b.items {
			got = append(got, string(l))
		}
		return nil
	}}
	err := readValues(context.Background(), bufio.NewReader(strings.NewReader(input)), c)
	if err == nil {
		err = c.close()
	}
	return got, err
}

func TestReadValues(t *testing.T) {
	cases := []struct {
		name, input string
		want        []string
	}{
		{"pages", `{"Items":[{"a":1},{"b":2}],"nextpageKey":"k"} {"nextpageKey":null,"Items":[ {"c" : 3} ]}`,
			[]string{`{"a":1}`, `{"b":2}`, `{"c" : 3}`}},
		{"pretty page", "{\n  \"Items\": [\n    {\n      \"a\": 1\n    }\n  ]\n}\n", []string{"{\n      \"a\": 1\n    }"}},
		{"array", `[{"a":1},{"a":"\u00e9"}]`, []string{`{"a":1}`, `{"a":"\u00e9"}`}},
		{"submissions", `{"submission_id":"s1"}` + "\n" + `{"submission_id":"s2","x":{"Items":[1]}}`,
			[]string{`{"submission_id":"s1"}`, `{"submission_id":"s2","x":{"Items":[1]}}`}},
		{"Items not an array", `{"Items":null,"submission_id":"s1"}`, []string{`{"Items":null,"submission_id":"s1"}`}},
		{"repeated keys and invalid UTF-8", "{\"Items\":[{\"a\":1,\"a\":2,\"b\":\"\xff\"}]}", []string{"{\"a\":1,\"a\":2,\"b\":\"\xff\"}"}},
		{"empty", " \n ", nil},
		{"escaped name", `{"\u0049tems":[{"a":1}, 2]}`, []string{`{"a":1}`, `2`}},
		{"Items after other keys", `{"k":{"Items":[9]},"s":"]}\"","Items":[ [1,2] ,"x"]}`, []string{`[1,2]`, `"x"`}},
		{"empty page and array", `{"Items":[]} [ ]`, nil},
	}
	for _, c := range cases {
		got, err := values(t, c.input)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s: items\n%q\nwant\n%q", c.name, got, c.want)
		}
	}
	for _, bad := range []string{`{"Items":[{"a":1},]}`, `{"Items":[{"a":1}]} {"Items":`, `[1,2`} {
		if _, err := values(t, bad); err == nil || !strings.Contains(err.Error(), "reading JSON value") {
			t.Errorf("%q: err = %v, want one naming the value", bad, err)
		}
	}
}

// TestTooDeepItemIsCutAlone: an item nested deeper than Go's decoders go
// is cut out of its page, array or stream on its own (for the flattener to
// quarantine), and the items around it are read; one that is also broken
// fails as any broken value.
func TestTooDeepItemIsCutAlone(t *testing.T) {
	deep := `{"submission_id":"deep","x":` + strings.Repeat("[", 200000) + strings.Repeat("]", 200000) + `}`
	for _, in := range []string{
		`{"Items":[{"submission_id":"a"},` + deep + `,{"submission_id":"b"}],"nextpageKey":null}`,
		`[{"submission_id":"a"},` + deep + `,{"submission_id":"b"}]`,
		`{"submission_id":"a"} ` + deep + ` {"submission_id":"b"}`,
	} {
		items, err := values(t, in)
		if err != nil || len(items) != 3 || items[1] != deep || items[0] != `{"submission_id":"a"}` || items[2] != `{"submission_id":"b"}` {
			t.Errorf("%.40q...: %d items, %v; want a, the deep item whole, b", in, len(items), err)
		}
	}
	broken := `[{"submission_id":"a"},` + deep + `,{"submission_id":}]`
	if _, err := values(t, broken); err == nil {
		t.Error("a broken item beside a deep one was accepted")
	}
}

// FuzzReadValues: any bytes give items that are each one JSON value, or an
// error; never a panic.
func FuzzReadValues(f *testing.F) {
	for _, s := range []string{`{"Items":[{"a":1}]}`, `[{"a":1},2]`, `{"a":1} {"b":2}`, `{"Items":[`, "\"x\" 1 null"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		items, err := values(t, s)
		want, werr := decodedValues(s)
		if werr != nil && jsonskim.Depth([]byte(s), jsonskim.Space([]byte(s), 0)) > jsonskim.DecoderMaxDepth {
			return // too deep for the decoder: TestTooDeepItemIsCutAlone
		}
		if (err == nil) != (werr == nil) || err == nil && strings.Join(items, "\x00") != strings.Join(want, "\x00") {
			t.Fatalf("%q: items %q, %v; the token decoder alone gives %q, %v", s, items, err, want, werr)
		}
		for _, it := range items {
			if !json.Valid([]byte(it)) {
				t.Fatalf("item %q of %q is not one JSON value", it, s)
			}
		}
	})
}

// decodedValues cuts input as readValues does, by the token decoder
// alone: the reference for the skimming.
func decodedValues(input string) ([]string, error) {
	var got []string
	yield := func(b []byte) error { got = append(got, string(b)); return nil }
	dec := jsontext.NewDecoder(strings.NewReader(input), lenient...)
	for {
		v, err := dec.ReadValue()
		if errors.Is(err, io.EOF) {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		switch v.Kind() {
		case '[':
			inner := jsontext.NewDecoder(bytes.NewReader(v), lenient...)
			inner.ReadToken()
			for inner.PeekKind() != ']' {
				e, err := inner.ReadValue()
				if err != nil {
					return got, err
				}
				yield(e)
			}
		case '{':
			page, err := pageItemsDecoded(v, yield)
			if err != nil {
				return got, err
			}
			if !page {
				yield(v)
			}
		default:
			yield(v)
		}
	}
}

// BenchmarkReadValues cuts one synthetic day as API pages of 100 items:
// the page reader alone, items discarded.
func BenchmarkReadValues(b *testing.B) {
	items := synth.New(1, synth.WithVolume(2000, 2000)).Day(time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC))
	var in bytes.Buffer
	for i := 0; i < len(items); i += 100 {
		in.WriteString(`{"Items":[`)
		in.Write(bytes.Join(items[i:min(i+100, len(items))], []byte(",")))
		in.WriteString("],\"nextpageKey\":null}\n")
	}
	b.SetBytes(int64(in.Len()))
	for b.Loop() {
		n := 0
		c := &cutter{unit: "item", emit: func(bt *itemBatch) error { n += len(bt.items); return nil }}
		if err := readValues(context.Background(), bufio.NewReader(bytes.NewReader(in.Bytes())), c); err != nil {
			b.Fatal(err)
		}
		if err := c.close(); err != nil || n != len(items) {
			b.Fatalf("%d items, %v", n, err)
		}
	}
}

// pageItemsDecoded is pageItems by the token decoder alone.
func pageItemsDecoded(v []byte, yield func([]byte) error) (bool, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(v), lenient...)
	if _, err := dec.ReadToken(); err != nil { // {
		return false, err
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return false, err
		}
		if name.String() == "Items" && dec.PeekKind() == '[' {
			if _, err := dec.ReadToken(); err != nil {
				return false, err
			}
			for dec.PeekKind() != ']' {
				e, err := dec.ReadValue()
				if err != nil {
					return false, err
				}
				if err := yield(e); err != nil {
					return false, err
				}
			}
			return true, nil
		}
		if err := dec.SkipValue(); err != nil {
			return false, err
		}
	}
	return false, nil
}
