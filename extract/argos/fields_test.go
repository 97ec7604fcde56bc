package argos

import (
	"bufio"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kycetl/kycetl/transform/schema"
)

// documentedField is one row of testdata/argos-fields.tsv: a response field
// of the vendor's GET /submission reference.
type documentedField struct {
	path, typ, sets, notAColumn string
	norm                        []string // the path's steps, [i] dropped, {item} as *
}

var arrayIndex = regexp.MustCompile(`\[[a-z]\]`)

// normPath splits a path into steps: array markers ([i], [j], []) are
// dropped and the reference's {item} placeholder becomes the wildcard *.
func normPath(p string) []string {
	p = arrayIndex.ReplaceAllString(p, "")
	p = strings.ReplaceAll(p, "[]", "")
	p = strings.ReplaceAll(p, "{item}", "*")
	return strings.Split(p, ".")
}

func readDocumentedFields(t *testing.T) []documentedField {
	t.Helper()
	f, err := os.Open("../../testdata/argos-fields.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []documentedField
	sc := bufio.NewScanner(f)
	header := true
	for line := 1; sc.Scan(); line++ {
		l := sc.Text()
		if strings.HasPrefix(l, "#") || l == "" {
			continue
		}
		if header {
			header = false
			continue
		}
		cells := strings.Split(l, "\t")
		if len(cells) != 5 {
			t.Fatalf("argos-fields.tsv line %d: %d cells, want 5", line, len(cells))
		}
		out = append(out, documentedField{path: cells[0], typ: cells[1], sets: cells[2], notAColumn: cells[4], norm: normPath(cells[0])})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 200 {
		t.Fatalf("argos-fields.tsv holds %d fields; the reference has over 200", len(out))
	}
	return out
}

// stepsMatch compares two step lists; * on either side matches any one step
// (the reference's OCR_raw.{item} and matchResults.*, the flattener's
// OCR_raw entries).
func stepsMatch(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && a[i] != "*" && b[i] != "*" {
			return false
		}
	}
	return true
}

func isPrefix(prefix, p []string) bool {
	return len(prefix) < len(p) && stepsMatch(prefix, p[:len(prefix)])
}

// declaredPaths lists every source path the flattened tables read, from the
// submission root, with the column (or table source) that reads it.
func declaredPaths() map[string][]string {
	out := map[string][]string{}
	for _, t := range Tables() {
		if t.Shape == schema.PerValue {
			for _, s := range t.Sources {
				out[t.Name+"."+t.ValueColumn] = append(out[t.Name+"."+t.ValueColumn], s)
			}
			continue
		}
		for _, c := range t.Columns {
			if c.Path != "" {
				out[t.Name+"."+c.Name] = []string{t.SourcePath(c)}
			}
		}
	}
	return out
}

// TestEveryDocumentedPathLands: every field of the vendor's reference has a
// column or child table, unless argos-fields.tsv gives the reason; an Object
// or Array with documented children is covered by its children.
func TestEveryDocumentedPathLands(t *testing.T) {
	docs := readDocumentedFields(t)
	var declared [][]string
	for _, ps := range declaredPaths() {
		for _, p := range ps {
			declared = append(declared, normPath(p))
		}
	}
	for _, d := range docs {
		if d.notAColumn != "" {
			continue
		}
		covered := slices.ContainsFunc(declared, func(p []string) bool { return stepsMatch(d.norm, p) })
		if !covered && (d.typ == "Object" || d.typ == "Array") {
			covered = slices.ContainsFunc(docs, func(o documentedField) bool { return isPrefix(d.norm, o.norm) })
		}
		if !covered {
			t.Errorf("documented field %s (%s, %s) has no column", d.path, d.typ, d.sets)
		}
	}
}

// TestEveryColumnIsDocumented: every declared source path is in the
// vendor's reference, unless its column's description names the vendor
// page it came from; so is every child table's source.
func TestEveryColumnIsDocumented(t *testing.T) {
	docs := readDocumentedFields(t)
	documented := func(p []string, prefixOK bool) bool {
		return slices.ContainsFunc(docs, func(d documentedField) bool {
			return stepsMatch(d.norm, p) || (prefixOK && isPrefix(p, d.norm))
		})
	}
	for col, ps := range declaredPaths() {
		table, name, _ := strings.Cut(col, ".")
		i := slices.IndexFunc(Tables(), func(tb *schema.Table) bool { return tb.Name == table })
		c, _ := Tables()[i].Column(name)
		for _, p := range ps {
			if !documented(normPath(p), false) && !strings.Contains(c.Doc, "seeds/") {
				t.Errorf("%s reads %s, which no vendor document names", col, p)
			}
		}
	}
	for _, tb := range Children() {
		if tb.Shape == schema.PerIndex || tb.Shape == schema.PerValue {
			continue // their sources are their columns' paths, checked above
		}
		if !documented(normPath(tb.FullSource()), true) {
			t.Errorf("table %s reads %s, which no vendor document names", tb.Name, tb.FullSource())
		}
	}
}
