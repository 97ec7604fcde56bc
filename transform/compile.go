package transform

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/valyala/fastjson"

	"github.com/kycetl/kycetl/transform/pii"
	"github.com/kycetl/kycetl/transform/schema"
)

// node is one step of a compiled JSON path.
type node struct {
	kids   map[string]*node
	first  *node         // the kid met first in the object walked last
	next   *node         // the kid expected next during a walk
	col    int           // declared column of scope's table, or -1
	child  *tableBuilder // key holds a child table's rows (PerElement, PerEntry)
	zip    *tableBuilder // key holds one of a PerIndex table's parallel arrays
	zipCol int
	path   string // full source path, for extra keys and coercion records
	rel    string // path relative to the scope's element, the extra key
	name   string // the key that leads here
	key    []byte // name, as a PerValue row's list
	after  *node  // the kid of the same parent last met right after this one
}

// keyWalk looks up the keys of one object, in order, among n's kids.
// Every submission of a feed spells its keys in the same order, so the kid
// that came next last time is tried before the map: hashing every key was
// a tenth of the flattening.
type keyWalk struct {
	n, prev *node
}

func (n *node) walkKeys() keyWalk {
	n.next = n.first
	return keyWalk{n: n}
}

// kid returns the kid at key k, or nil, and learns the order of the keys.
func (w *keyWalk) kid(k []byte) *node {
	n := w.n
	c := n.next
	if c == nil || c.name != string(k) {
		if c = n.kids[string(k)]; c == nil {
			return nil // an unknown key: the expected kid may still come next
		}
	}
	if w.prev == nil {
		n.first = c
	} else {
		w.prev.after = c
	}
	w.prev, n.next = c, c.after
	return c
}

func newNode(name, path, rel string) *node {
	return &node{col: -1, zipCol: -1, name: name, key: []byte(name), path: path, rel: rel}
}

// deriver computes a derived column from the row's source element and
// appends it to the builder.
type deriver func(elem *fastjson.Value, b array.Builder)

// tableBuilder accumulates one table's rows.
type tableBuilder struct {
	t       *schema.Table
	cols    []schema.Column
	acts    []schema.PII
	rb      *array.RecordBuilder
	root    *node           // trie of the element scope; nil for PerIndex tables
	zips    []*tableBuilder // PerIndex tables whose arrays live in this scope
	derive  []deriver       // by column; nil for source columns
	colPath []string        // by column: full source path, for coercion records
	colRel  []string        // by column: path relative to the row's element, the extra key

	kinds  []colKind // by column: how a row fills it
	iExtra int       // the extra column, or -1
	iValue int       // PerValue: the element's column, or -1

	vals    []*fastjson.Value   // current element's values, by column
	zipVals [][]*fastjson.Value // PerIndex: gathered array elements, by column
	extra   []byte              // current element's extra JSON object
	rows    int64
	batched int // rows since the last flush
}

// colKind says how a row's column is filled; compile decides it once.
type colKind uint8

const (
	fromSource    colKind = iota // the row's value at the column's path (PerValue: the element)
	derived                      // computed from the row's element: tableBuilder.derive
	subID                        // the submission's ID, on a child row
	ordinal                      // the row's position in its source
	parentOrdinal                // the position of the element the row is nested in
	entryKey                     // the object key (PerEntry) or the list's key (PerValue)
	project                      // these three are the same in every row:
	createdDate                  // built whole at flush by
	runID                        // Flattener.partitionColumn
	extraText                    // the row's extra object, appended last
)

// columnKind decides how column c of table t is filled.
func columnKind(t *schema.Table, c schema.Column) colKind {
	switch {
	case c.Name == schema.ProjectCol.Name:
		return project
	case c.Name == t.DayColumn().Name && !t.Unpartitioned:
		return createdDate
	case c.Name == schema.RunIDCol.Name:
		return runID
	case c.Name == schema.SubmissionCol.Name && t.Shape != schema.PerSubmission:
		return subID
	case c.Name == schema.OrdinalCol.Name:
		return ordinal
	case c.Name == schema.ParentOrdCol.Name:
		return parentOrdinal
	case c.Name == schema.ExtraCol.Name:
		return extraText
	case c.Name == t.KeyColumn && (t.Shape == schema.PerEntry || t.Shape == schema.PerValue):
		return entryKey
	case c.Name == t.ValueColumn && t.Shape == schema.PerValue, c.Path != "":
		return fromSource
	}
	return derived
}

// compile builds the builders and tries for every flattened table.
func compile(mem memory.Allocator, policy *pii.Policy, tables []*schema.Table, derivers map[string]deriver) (map[string]*tableBuilder, error) {
	tbs := make(map[string]*tableBuilder, len(tables))
	for _, t := range tables {
		tb := &tableBuilder{t: t, cols: t.AllColumns(), rb: array.NewRecordBuilder(mem, t.ArrowSchema())}
		tb.acts = make([]schema.PII, len(tb.cols))
		tb.derive = make([]deriver, len(tb.cols))
		tb.colPath = make([]string, len(tb.cols))
		tb.colRel = make([]string, len(tb.cols))
		tb.kinds = make([]colKind, len(tb.cols))
		tb.iExtra, tb.iValue = -1, -1
		for i, c := range tb.cols {
			tb.acts[i] = policy.Action(t, c)
			tb.kinds[i] = columnKind(t, c)
			switch {
			case tb.kinds[i] == extraText:
				tb.iExtra = i
			case tb.kinds[i] == entryKey:
				tb.colPath[i] = rowPath(t) // where an unreadable key is recorded
			case tb.kinds[i] == fromSource && c.Path == "":
				tb.iValue = i
			case tb.kinds[i] == derived:
				d, ok := derivers[t.Name+"."+c.Name]
				if !ok {
					return nil, fmt.Errorf("compiling %s: derived column %s has no deriver", t.Name, c.Name)
				}
				tb.derive[i] = d
			}
		}
		tb.vals = make([]*fastjson.Value, len(tb.cols))
		if t.Shape == schema.PerIndex {
			tb.zipVals = make([][]*fastjson.Value, len(tb.cols))
		} else {
			tb.root = newNode("", rowPath(t), "")
		}
		tbs[t.Name] = tb
	}
	// Place each table's columns in its own scope, and each child table's
	// source in its parent's scope (the submission's when it has none).
	var subs *tableBuilder
	for _, t := range tables {
		if t.Shape == schema.PerSubmission {
			subs = tbs[t.Name]
		}
	}
	if subs == nil {
		return nil, fmt.Errorf("compiling: no per-submission table among %d tables", len(tables))
	}
	for _, t := range tables {
		tb := tbs[t.Name]
		scope := tb
		prefix := ""
		if t.Shape == schema.PerIndex {
			scope = subs
			if t.Parent != nil {
				scope = tbs[t.Parent.Name]
			}
			prefix = t.Source
			scope.zips = append(scope.zips, tb)
		}
		for i, c := range tb.cols {
			if c.Path == "" || (c.Name == schema.SubmissionCol.Name && t.Shape != schema.PerSubmission) {
				continue
			}
			n, err := scope.root.place(join(prefix, c.Path))
			if err != nil {
				return nil, fmt.Errorf("compiling %s.%s: %w", t.Name, c.Name, err)
			}
			if t.Shape == schema.PerIndex {
				n.zip, n.zipCol = tb, i
			} else {
				n.col = i
			}
			tb.colPath[i], tb.colRel[i] = n.path, n.rel
		}
		sources := []string{t.Source}
		switch t.Shape {
		case schema.PerValue:
			sources = t.Sources
		case schema.PerElement, schema.PerEntry:
		default:
			continue
		}
		parent := subs
		if t.Parent != nil {
			parent = tbs[t.Parent.Name]
		}
		for _, src := range sources {
			n, err := parent.root.place(src)
			if err != nil {
				return nil, fmt.Errorf("compiling %s source %s: %w", t.Name, src, err)
			}
			n.child = tb
		}
	}
	return tbs, nil
}

func join(prefix, path string) string {
	if prefix == "" {
		return path
	}
	return prefix + "." + path
}

// place walks (creating) the trie to path and checks that the path does not
// already end, or pass through, a leaf.
func (n *node) place(path string) (*node, error) {
	cur := n
	for _, k := range strings.Split(path, ".") {
		if cur.col >= 0 || cur.child != nil || cur.zip != nil {
			return nil, fmt.Errorf("path %s passes through the leaf %s", path, cur.path)
		}
		next := cur.kids[k]
		if next == nil {
			if cur.kids == nil {
				cur.kids = map[string]*node{}
			}
			next = newNode(k, joinPath(cur.path, k), join(cur.rel, k))
			cur.kids[k] = next
		}
		cur = next
	}
	if cur.col >= 0 || cur.child != nil || cur.zip != nil || len(cur.kids) > 0 {
		return nil, fmt.Errorf("path %s is declared twice", path)
	}
	return cur, nil
}

func joinPath(base, k string) string {
	switch {
	case base == "":
		return k
	case strings.HasSuffix(base, "]"):
		return base + "." + k
	}
	return base + "." + k
}

// rowPath names a table's row element in source paths: [] for an array
// element, .* for an object entry.
func rowPath(t *schema.Table) string {
	switch t.Shape {
	case schema.PerElement:
		return t.FullSource() + "[]"
	case schema.PerEntry:
		return t.FullSource() + ".*"
	case schema.PerValue:
		return t.FullSource() + "[]"
	}
	return t.FullSource()
}
