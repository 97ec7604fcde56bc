package synth

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzAppendString checks that appendString writes a JSON string that reads
// back as s, each byte of invalid UTF-8 as U+FFFD, and nothing else.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "tab\tnew\nline\rcr\x01\x1f", "Müller Weiß", "bad \xff\xfe byte", "\xe2\x82", "日本語"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString([]byte("x"), s)
		if b[0] != 'x' {
			t.Fatal("appendString changed what was there")
		}
		var got string
		if err := json.Unmarshal(b[1:], &got); err != nil {
			t.Fatalf("appendString(%q) = %s: %v", s, b[1:], err)
		}
		var want strings.Builder
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			want.WriteRune(r) // RuneError for an invalid byte
			i += size
		}
		if got != want.String() {
			t.Fatalf("appendString(%q) reads back as %q, want %q", s, got, want.String())
		}
	})
}
