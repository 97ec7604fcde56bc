package schema

import (
	"bytes"
	"flag"
	"os"
	"regexp"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/tables.md")

// TestDictionaryIsCurrent fails when docs/tables.md no longer matches the
// declarations.
func TestDictionaryIsCurrent(t *testing.T) {
	var b bytes.Buffer
	if err := WriteDictionary(&b); err != nil {
		t.Fatal(err)
	}
	const path = "../../docs/tables.md"
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, b.Bytes()) {
		t.Fatal("docs/tables.md is stale: run `go test ./transform/schema -update` and commit it")
	}
}

var snake = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

func TestDeclarations(t *testing.T) {
	tables := map[string]bool{}
	for _, tb := range All() {
		if tables[tb.Name] || !snake.MatchString(tb.Name) {
			t.Errorf("table name %q is duplicated or not snake_case", tb.Name)
		}
		tables[tb.Name] = true
		if tb.Doc == "" {
			t.Errorf("%s has no description", tb.Name)
		}
		if tb.Parent != nil && tb.Parent.Shape != PerElement {
			t.Errorf("%s: parent %s must be a per-element table", tb.Name, tb.Parent.Name)
		}
		cols := map[string]bool{}
		for _, c := range tb.AllColumns() {
			if cols[c.Name] || !snake.MatchString(c.Name) {
				t.Errorf("%s.%s is duplicated or not snake_case", tb.Name, c.Name)
			}
			cols[c.Name] = true
			if c.Doc == "" {
				t.Errorf("%s.%s has no description", tb.Name, c.Name)
			}
			if (c.PII == Hash || c.JSON) && c.Type != String {
				t.Errorf("%s.%s: hashed and JSON columns must be text", tb.Name, c.Name)
			}
		}
		if tb.KeyColumn != "" && !cols[tb.KeyColumn] {
			t.Errorf("%s: key column %s is not declared", tb.Name, tb.KeyColumn)
		}
		if tb.ArrowSchema().NumFields() != len(tb.AllColumns()) {
			t.Errorf("%s: Arrow schema does not match the columns", tb.Name)
		}
	}
}

// TestDayColumn: a partitioned table's day follows project, created_date
// unless the table declares its own.
func TestDayColumn(t *testing.T) {
	snapshot := Column{Name: "snapshot_date", Type: Date, Doc: "UTC day of the pull."}
	own := &Table{Name: "s", Day: &snapshot}
	plain := &Table{Name: "c"}
	if got := own.AllColumns(); got[0].Name != "project" || got[1].Name != "snapshot_date" || got[2].Name != "run_id" {
		t.Errorf("own day: columns %v", got[:3])
	}
	if got := plain.AllColumns(); got[1].Name != "created_date" || plain.DayColumn() != CreatedDateCol {
		t.Errorf("default day: columns %v", got[:3])
	}
}
