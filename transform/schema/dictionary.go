package schema

import (
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// TypeName is a column type as the dictionary and the warehouses' docs show it.
func TypeName(t arrow.DataType) string {
	switch t.ID() {
	case arrow.STRING:
		return "STRING"
	case arrow.INT64:
		return "INT64"
	case arrow.FLOAT64:
		return "FLOAT64"
	case arrow.BOOL:
		return "BOOL"
	case arrow.TIMESTAMP:
		return "TIMESTAMP (UTC)"
	case arrow.DATE32:
		return "DATE"
	case arrow.BINARY:
		return "BYTES"
	}
	return t.String()
}

// WriteDictionary writes the data dictionary (docs/tables.md) in Markdown:
// every table and column with its type, source JSON path, PII action and
// description, generated from the declarations so it cannot drift.
func WriteDictionary(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# kycetl data dictionary\n\n")
	b.WriteString("Generated from the table declarations (each source's under `extract/`, the operational ones in `transform/schema`; schema version " + fmt.Sprint(Version) + "); do not edit by hand.\n")
	b.WriteString("Regenerate with `go test ./transform/schema -update`.\n\n")
	b.WriteString("Source paths are JSON paths inside one item of the table's source (for ARGOS, one submission); `[]` marks an array element, `.*` an object entry.\n")
	b.WriteString("`derived` columns are computed by kycetl. PII actions: keep, hash (HMAC-SHA256 with `KYCETL_PII_KEY`), drop.\n\n")
	for _, t := range All() {
		fmt.Fprintf(&b, "- [%s](#%s)\n", t.Name, t.Name)
	}
	for _, t := range All() {
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n", t.Name, t.Doc)
		switch t.Shape {
		case PerElement:
			fmt.Fprintf(&b, "One row per element of `%s[]`", t.FullSource())
			if t.ObjectOrArray {
				fmt.Fprintf(&b, " (a lone object at `%s` is one element)", t.FullSource())
			}
			b.WriteString(".\n\n")
		case PerValue:
			fmt.Fprintf(&b, "One row per element of `%s[]` (the array's key is `%s`).\n\n", strings.Join(t.Sources, "[]` and of `"), t.KeyColumn)
		case PerEntry:
			fmt.Fprintf(&b, "One row per entry of `%s.*` (the key is `%s`).\n\n", t.FullSource(), t.KeyColumn)
		case PerIndex:
			src := t.Source
			if t.Parent != nil {
				src = t.Parent.FullSource() + "[]"
			}
			fmt.Fprintf(&b, "One row per index of the parallel arrays under `%s`.\n\n", src)
		}
		if !t.Unpartitioned {
			b.WriteString("Partitioned by `project`, `" + t.DayColumn().Name + "`.\n\n")
		}
		b.WriteString("| column | type | source | PII | description |\n|---|---|---|---|---|\n")
		for _, c := range t.AllColumns() {
			src := "derived"
			switch {
			case c.Path != "":
				src = "`" + t.SourcePath(c) + "`"
			case t.Shape == Operational || isLineage(t, c.Name):
				src = "kycetl"
			case t.Shape == PerValue && c.Name == t.ValueColumn:
				src = "`" + strings.Join(t.Sources, "[]`, `") + "[]`"
			case t.Shape == PerValue && c.Name == t.KeyColumn:
				src = "array key"
			case c.Name == t.KeyColumn:
				src = "`" + t.FullSource() + "` key"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", c.Name, TypeName(c.Type), src, c.PII, strings.ReplaceAll(c.Doc, "|", "\\|"))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func isLineage(t *Table, name string) bool {
	if name == t.DayColumn().Name {
		return true
	}
	switch name {
	case ProjectCol.Name, RunIDCol.Name, OrdinalCol.Name, ParentOrdCol.Name, ExtraCol.Name:
		return true
	}
	return false
}

// SourcePath is column c's JSON path from the submission root, with []
// marking each array step and .* each object entry, as the data dictionary
// shows it.
func (t *Table) SourcePath(c Column) string {
	if c.Name == SubmissionCol.Name {
		return SubmissionCol.Path
	}
	switch t.Shape {
	case PerElement:
		return t.FullSource() + "[]." + c.Path
	case PerEntry:
		return t.FullSource() + ".*." + c.Path
	case PerIndex:
		if t.Parent != nil {
			return t.Parent.FullSource() + "[]." + c.Path + "[]"
		}
		return t.Source + "." + c.Path + "[]"
	}
	return c.Path
}
