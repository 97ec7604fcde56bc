package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
	"strings"
	"testing"
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

// FuzzReadValues: any bytes give items that are each one JSON value, or an
// error; never a panic.
func FuzzReadValues(f *testing.F) {
	for _, s := range []string{`{"Items":[{"a":1}]}`, `[{"a":1},2]`, `{"a":1} {"b":2}`, `{"Items":[`, "\"x\" 1 null"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		items, err := values(t, s)
		if err != nil {
			return
		}
		for _, it := range items {
			if !json.Valid([]byte(it)) {
				t.Fatalf("item %q of %q is not one JSON value", it, s)
			}
		}
	})
}
