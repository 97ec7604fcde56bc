package bqfake

import (
	"strings"
	"testing"
)

// TestRewrite: the GoogleSQL spellings sql.go lists, and only those,
// become DuckDB's; literals and comments are left alone.
func TestRewrite(t *testing.T) {
	d := &dataset{project: "p", name: "d"}
	for in, want := range map[string]string{
		"SELECT * FROM `p.d.t` JOIN `d.u` ON `t`.x = @x_1": `SELECT * FROM "t" JOIN "u" ON "t".x = $x_1`,
		"SELECT '@a `b`', x -- `c` @d\nFROM t":             "SELECT '@a `b`', x -- `c` @d\nFROM t",
		`SELECT 'it\'s @x' AS s, ? AS n`:                   `SELECT 'it\'s @x' AS s, ? AS n`,
		"SELECT @@error.message":                           "SELECT @@error.message",
	} {
		got, e := d.rewrite(in)
		if e != nil || got != want {
			t.Errorf("rewrite(%q) = %q, %v; want %q", in, got, e, want)
		}
	}
	for in, want := range map[string]string{
		"SELECT * FROM `q.d.t`":   "of one dataset",
		"SELECT * FROM `p.e.t`":   "of one dataset",
		"SELECT $x":               "no $ parameter",
		"SELECT x::INT FROM t":    "no :: cast",
		"SELECT * FROM `p.d.t":    "Unclosed identifier",
		"SELECT `a.b.c.d` FROM t": "of one dataset",
	} {
		if _, e := d.rewrite(in); e == nil || !strings.Contains(e.Message, want) {
			t.Errorf("rewrite(%q): %v, want an error saying %q", in, e, want)
		}
	}
}

// FuzzRewrite: rewrite never panics; what it gives has no backquote and no
// @name left outside literals and comments, so that rewriting it again
// changes nothing.
func FuzzRewrite(f *testing.F) {
	for _, s := range []string{"SELECT * FROM `p.d.t` WHERE x = @x", "SELECT 'a\\'b' -- `c`\n, `d`", "@", "`", "'", "--", "SELECT @@e"} {
		f.Add(s)
	}
	d := &dataset{project: "p", name: "d"}
	f.Fuzz(func(t *testing.T, q string) {
		out, e := d.rewrite(q)
		if e != nil {
			if e.Message == "" || e.Reason == "" {
				t.Errorf("rewrite(%q): an error without a reason or message", q)
			}
			return
		}
		if strings.Contains(out, "$") {
			return // a parameter it wrote: a second pass refuses DuckDB's $
		}
		again, e := d.rewrite(out)
		if e != nil || again != out {
			t.Errorf("rewrite(%q) = %q, and again %q, %v", q, out, again, e)
		}
	})
}
