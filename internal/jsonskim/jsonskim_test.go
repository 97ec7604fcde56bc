package jsonskim

import (
	"bytes"
	"encoding/json"
	"testing"
)

var values = []string{
	`"a\"b\\"`, `{"a":[1,{"b":"}]"}],"c":"\\\\"}`, `[]`, `{}`, `-1.5e3`, `true`, `null`,
	`[ "x" , { "y" : [ ] } ]`, "\"\\u00e9\\\"\"",
}

func TestValueEndsWhereTheValueEnds(t *testing.T) {
	for _, v := range values {
		for _, tail := range []string{"", " ", ",1", "]", "}\n"} {
			checkValue(t, []byte(" \n"+v+tail))
		}
	}
	// No value starts, or the input ends inside one.
	for _, bad := range []string{`"abc`, `{"a":[1}`, `[`, ``, `,`, `}`, `["x\"]`} {
		if end, ok := Value([]byte(bad), 0); ok {
			t.Errorf("Value(%q) = %d, true; want false", bad, end)
		}
	}
}

// FuzzValue: on any input that starts with a valid JSON value, Value ends
// exactly after it; on any input it does not panic.
func FuzzValue(f *testing.F) {
	for _, v := range values {
		f.Add([]byte(v), []byte(",2"))
	}
	f.Fuzz(func(t *testing.T, v, tail []byte) {
		Value(append(v, tail...), 0) // no panic, whatever the bytes
		if !json.Valid(v) || len(tail) > 0 && !bytes.ContainsAny(tail[:1], ", \t\r\n]}") {
			return
		}
		checkValue(t, append(v, tail...))
	})
}

// checkValue checks that the JSON value at the start of b (after spaces)
// ends where encoding/json says.
func checkValue(t *testing.T, b []byte) {
	t.Helper()
	start := Space(b, 0)
	dec := json.NewDecoder(bytes.NewReader(b[start:]))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		t.Fatalf("test input %q: %v", b, err)
	}
	want := start + bytes.Index(b[start:], raw) + len(raw)
	if end, ok := Value(b, start); !ok || end != want {
		t.Fatalf("Value(%q) = %d, %v; want %d", b, end, ok, want)
	}
}
