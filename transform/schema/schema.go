// Package schema declares every warehouse table once, as Arrow: its columns,
// their types, the JSON path each value comes from, the PII action and a
// description. Parquet files, warehouse DDL, the flattener and the data
// dictionary are all derived from these declarations.
//
// This package holds the vendor-neutral machinery and the operational
// tables (load_runs, quarantine, credit_rates). The tables a source fills
// are declared beside it (ARGOS's in extract/argos), and the list of tables
// (All, Partitioned) holds only those registered (Register) by the sources
// kycetl loads, plus the operational tables: this package is imported by
// every source and so cannot name them itself.
package schema

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Version is the schema version recorded in manifests. Bump it on any change
// to a declaration, so that auditors can tell which files share a layout.
//
// Version 2: the vendor's field list became the schema (every documented
// path in a column or child table; invented shapes removed).
const Version = 2

// The column types in use. Every timestamp is UTC with microsecond precision.
type arrowType = arrow.DataType

var (
	String    arrow.DataType = arrow.BinaryTypes.String
	Int64     arrow.DataType = arrow.PrimitiveTypes.Int64
	Float64   arrow.DataType = arrow.PrimitiveTypes.Float64
	Bool      arrow.DataType = arrow.FixedWidthTypes.Boolean
	Timestamp arrow.DataType = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	Date      arrow.DataType = arrow.FixedWidthTypes.Date32
	Binary    arrow.DataType = arrow.BinaryTypes.Binary
)

// PII is what happens to a column's values before they leave the flattener.
type PII uint8

// The PII actions a column can have.
const (
	Keep PII = iota // stored as received
	Hash            // HMAC-SHA256 with the PII key, hex encoded
	Drop            // always NULL
)

func (p PII) String() string {
	switch p {
	case Hash:
		return "hash"
	case Drop:
		return "drop"
	}
	return "keep"
}

// ParsePII reads a PII action by name.
func ParsePII(s string) (PII, error) {
	switch s {
	case "keep":
		return Keep, nil
	case "hash":
		return Hash, nil
	case "drop":
		return Drop, nil
	}
	return Keep, fmt.Errorf("unknown PII action %q (want keep, hash or drop)", s)
}

// Column is one warehouse column.
type Column struct {
	Name string
	Type arrow.DataType
	// Path is the JSON path of the source value, relative to the element a
	// row is made from (the submission, or one element of a child array).
	// Empty for columns the flattener derives.
	Path string
	// JSON stores the value as JSON text whatever its JSON type: for
	// objects kept whole (coordinates, project options). Only on String.
	JSON bool
	PII  PII
	Doc  string
}

// Shape says how a table's rows are cut out of a submission.
type Shape uint8

// The shapes of rows.
const (
	// PerSubmission: one row per submission (the submissions table).
	PerSubmission Shape = iota
	// PerElement: one row per element of the array at Source.
	PerElement
	// PerEntry: one row per key of the object at Source; the key goes to the
	// column named by KeyColumn.
	PerEntry
	// PerIndex: one row per index of the parallel arrays named in the
	// columns' paths (relative to Source); a lone string counts as a
	// one-element array, as kyc.comment sometimes arrives.
	PerIndex
	// PerValue: one row per scalar element of each array in Sources; the
	// array's key goes to KeyColumn and the element to ValueColumn.
	PerValue
	// Operational tables are written by kycetl itself, not the flattener.
	Operational
)

// Table is one warehouse table.
type Table struct {
	Name string
	Doc  string
	// Shape and Source say where rows come from. Source is the JSON path of
	// the array or object; for a table nested in another child table's
	// elements (Parent set) it is relative to the parent's element.
	Shape  Shape
	Source string
	Parent *Table
	// Sources are the arrays a PerValue table reads, relative to the
	// submission.
	Sources []string
	// ObjectOrArray (PerElement) reads a lone object at Source as one
	// element without counting a coercion: for paths the reference types
	// as an Object but describes as a list.
	ObjectOrArray bool
	// KeyColumn names the column that receives an object's key (PerEntry)
	// or the source array's key (PerValue).
	KeyColumn string
	// ValueColumn names the column that receives a PerValue element.
	ValueColumn string
	// SensitiveKeys (PerEntry): a row whose key is the name of a hashed
	// field (pii.Policy.KeyAction) carries a sensitive value, so its source
	// columns are hashed unless the policy drops them.
	SensitiveKeys bool
	// Extra adds an extra column holding, as JSON text, every field of the
	// source element that no column declares.
	Extra   bool
	Columns []Column
	// Partitioned tables carry project and their day (Day) and are replaced
	// day by day; the others are appended to (the ledger) or replaced whole.
	Unpartitioned bool
	// Day is a partitioned table's day column, the partition; nil means
	// CreatedDateCol, the UTC day of a submission's created_at. A source
	// whose rows are dated otherwise (a snapshot's day) declares its own.
	Day *Column
	// Cluster names the columns a warehouse that clusters (BigQuery)
	// clusters the table by after project; nil means submission_id, for a
	// table that has it.
	Cluster []string
}

// Key columns every partitioned table starts with.
var (
	ProjectCol     = Column{Name: "project", Type: String, Doc: "Configured project name."}
	CreatedDateCol = Column{Name: "created_date", Type: Date, Doc: "UTC day of the submission's created_at; the partition."}
	RunIDCol       = Column{Name: "run_id", Type: String, Doc: "Run that wrote this row."}
	SubmissionCol  = Column{Name: "submission_id", Type: String, Path: "submission_id", Doc: "Vendor's unique submission ID."}
	OrdinalCol     = Column{Name: "ordinal", Type: Int64, Doc: "0-based position in the source array (or object key order)."}
	ParentOrdCol   = Column{Name: "parent_ordinal", Type: Int64, Doc: "Ordinal of the parent element this row is nested in."}
	ExtraCol       = Column{Name: "extra", Type: String, Doc: "JSON object of every field (by path) the schema does not declare, and of values that could not be coerced to their column's type."}
)

// DayColumn is the table's partition day column: Day, or CreatedDateCol.
// In storage it always follows project, so a Parquet file's second column
// is its day.
func (t *Table) DayColumn() Column {
	if t.Day != nil {
		return *t.Day
	}
	return CreatedDateCol
}

// AllColumns lists the table's columns in storage order: the lineage columns
// first, then the declared ones, then extra.
func (t *Table) AllColumns() []Column {
	var cols []Column
	if !t.Unpartitioned {
		cols = append(cols, ProjectCol, t.DayColumn(), RunIDCol)
	}
	switch t.Shape {
	case PerElement, PerEntry, PerIndex, PerValue:
		cols = append(cols, SubmissionCol, OrdinalCol)
		if t.Parent != nil {
			cols = append(cols, ParentOrdCol)
		}
	}
	cols = append(cols, t.Columns...)
	if t.Extra {
		cols = append(cols, ExtraCol)
	}
	return cols
}

// ArrowSchema is the table's Arrow schema; every column is nullable.
func (t *Table) ArrowSchema() *arrow.Schema {
	cols := t.AllColumns()
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.Name, Type: c.Type, Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// Column returns the named column, or false.
func (t *Table) Column(name string) (Column, bool) {
	for _, c := range t.AllColumns() {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// FullSource is the table's source path from the submission root, with []
// marking each array step, as the data dictionary shows it.
func (t *Table) FullSource() string {
	if t.Shape == PerValue {
		return strings.Join(t.Sources, "[], ")
	}
	if t.Parent == nil {
		return t.Source
	}
	return t.Parent.FullSource() + "[]." + t.Source
}

// ByName finds a table declaration.
func ByName(name string) (*Table, bool) {
	for _, t := range All() {
		if t.Name == name {
			return t, true
		}
	}
	return nil, false
}
