package transform

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/rs/zerolog"
	"github.com/valyala/fastjson"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/transform/pii"
	"github.com/kycetl/kycetl/transform/schema"
)

// Sink receives the flattened records of one partition. Records arrive in
// batches; the sink must not keep rec past the call without retaining it.
type Sink interface {
	Write(t *schema.Table, rec arrow.RecordBatch) error
}

// Coercion counts the values of one path that could not be coerced to their
// column's type and were set to NULL (and kept in extra).
type Coercion struct {
	Path, Reason string
	Count        int64
}

// Result sums up what a Flattener wrote.
type Result struct {
	Submissions int64
	Quarantined int64
	Rows        map[string]int64 // by table, quarantine included
	Coercions   []Coercion       // sorted by path, then reason
}

// DefaultBatchRows is how many submissions are buffered before every table's
// rows are handed to the sink; it bounds memory whatever the input size.
const DefaultBatchRows = 4096

// Option configures a Flattener.
type Option func(*Flattener)

// WithAllocator sets the Arrow allocator (tests use a checked one).
func WithAllocator(mem memory.Allocator) Option { return func(f *Flattener) { f.mem = mem } }

// WithPolicy sets the PII policy; the default keeps the schema's actions and
// must then be given a key by the caller, so New fails without one.
func WithPolicy(p *pii.Policy) Option { return func(f *Flattener) { f.policy = p } }

// WithBatchRows sets how many submissions are buffered per batch.
func WithBatchRows(n int) Option { return func(f *Flattener) { f.batchRows = n } }

// WithSizes shares batch sizes between the Flatteners of a run (see Sizes).
func WithSizes(s *Sizes) Option { return func(f *Flattener) { f.sizes = s } }

// WithSeal encrypts the exact bytes of every quarantined item with seal
// (the archive's encryption at rest) before they are written; the reason
// then stops before the first double quote, where a parser's message
// starts quoting the item.
func WithSeal(seal func([]byte) ([]byte, error)) Option { return func(f *Flattener) { f.seal = seal } }

// WithLogger sets the logger.
func WithLogger(l zerolog.Logger) Option { return func(f *Flattener) { f.log = l } }

// Flattener turns the raw items of one partition (project, day) into Arrow
// records. It is not safe for concurrent use; run one per partition.
type Flattener struct {
	project, runID string
	day            time.Time
	day32          arrow.Date32
	sink           Sink
	mem            memory.Allocator
	policy         *pii.Policy
	hasher         *pii.Hasher
	batchRows      int
	sizes          *Sizes
	log            zerolog.Logger

	parser     fastjson.Parser
	tables     []*tableBuilder // argos.Tables() order
	subs       *tableBuilder
	quarantine *array.RecordBuilder
	seal       func([]byte) ([]byte, error) // see WithSeal
	qRows      int64
	pending    int // submissions since the last flush

	subID     []byte     // current submission's ID
	sensitive schema.PII // action of the current PerEntry row's key (pii.Policy.KeyAction)
	coercions map[coercionKey]int64
	buf       []byte
	scratch   []byte // appendHashed's and validText's, apart from buf which may be in use
	replaced  bool   // appendJSONText replaced invalid UTF-8 since the caller last looked
	result    Result
	closed    bool
}

type coercionKey struct{ path, reason string }

// New makes a Flattener for one partition. runID and project are written to
// every row; day is the partition, and an item created on another day is
// quarantined rather than written into the wrong partition.
func New(project, runID string, day time.Time, sink Sink, opts ...Option) (*Flattener, error) {
	f := &Flattener{
		project: project, runID: runID, day: argos.Day(day), sink: sink,
		mem: memory.DefaultAllocator, batchRows: DefaultBatchRows, log: zerolog.Nop(),
		coercions: map[coercionKey]int64{},
	}
	f.day32 = arrow.Date32FromTime(f.day)
	for _, o := range opts {
		o(f)
	}
	if f.policy == nil {
		p, err := pii.New()
		if err != nil {
			return nil, fmt.Errorf("flattening %s %s: %w", project, argos.FormatDate(day), err)
		}
		f.policy = p
	}
	if f.batchRows <= 0 {
		return nil, errors.New("flattener batch size must be positive")
	}
	f.hasher = f.policy.Hasher()
	tbs, err := compile(f.mem, f.policy, argos.Tables(), derivers)
	if err != nil {
		return nil, err
	}
	for _, t := range argos.Tables() {
		f.tables = append(f.tables, tbs[t.Name])
	}
	f.subs = tbs[argos.Submissions.Name]
	f.quarantine = array.NewRecordBuilder(f.mem, schema.Quarantine.ArrowSchema())
	f.sizes.reserve(f.tables)
	return f, nil
}

// Add flattens one raw item. Input that is not a submission goes to the
// quarantine table; only a failing sink returns an error.
func (f *Flattener) Add(item []byte, source string, ordinal int64) error {
	if f.closed {
		return errors.New("flattener is closed")
	}
	v, err := f.parser.ParseBytes(item)
	if err != nil {
		return f.quarantined(item, source, ordinal, "not valid JSON: "+err.Error())
	}
	key, err := argos.KeyOf(v)
	if err != nil {
		return f.quarantined(item, source, ordinal, err.Error())
	}
	if d := argos.Day(key.CreatedAt); !d.Equal(f.day) {
		return f.quarantined(item, source, ordinal, fmt.Sprintf("created_at day %s does not belong to partition %s", argos.FormatDate(d), argos.FormatDate(f.day)))
	}
	f.subID = append(f.subID[:0], key.SubmissionID...)
	if !utf8.Valid(f.subID) {
		f.subID = append(f.subID[:0], f.validText(f.subID, schema.SubmissionCol.Path)...)
	}
	f.element(f.subs, v, -1, -1, nil)
	f.result.Submissions++
	f.pending++
	if f.pending >= f.batchRows {
		return f.flush(true)
	}
	return nil
}

// Close flushes what is buffered and returns the totals. The Flattener
// cannot be used afterwards.
func (f *Flattener) Close() (Result, error) {
	if f.closed {
		return f.result, nil
	}
	err := f.flush(false)
	f.Release()
	res := f.result
	res.Rows = map[string]int64{}
	for _, tb := range f.tables {
		res.Rows[tb.t.Name] = tb.rows
	}
	res.Rows[schema.Quarantine.Name] = f.qRows
	res.Quarantined = f.qRows
	for k, n := range f.coercions {
		res.Coercions = append(res.Coercions, Coercion{Path: k.path, Reason: k.reason, Count: n})
	}
	sort.Slice(res.Coercions, func(i, j int) bool {
		a, b := res.Coercions[i], res.Coercions[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Reason < b.Reason
	})
	f.result = res
	return res, err
}

// Release frees the builders without flushing (on an abandoned partition).
func (f *Flattener) Release() {
	if f.closed {
		return
	}
	f.closed = true
	for _, tb := range f.tables {
		tb.rb.Release()
	}
	f.quarantine.Release()
}

// flush hands every table's buffered rows to the sink; more says that more
// rows will follow, so the builders are sized for another batch.
func (f *Flattener) flush(more bool) error {
	f.pending = 0
	for _, tb := range f.tables {
		fixed := func(i, n int) arrow.Array { return f.partitionColumn(tb, i, n) }
		if err := f.emit(tb.t, tb.rb, tb.batched, fixed, more); err != nil {
			return err
		}
		tb.batched = 0
	}
	rows := f.quarantine.Field(0).Len()
	return f.emit(schema.Quarantine, f.quarantine, rows, nil, more)
}

// emit hands rows buffered in rb to the sink. fixed, when set, builds the
// columns that are not appended row by row (nil for the others).
func (f *Flattener) emit(t *schema.Table, rb *array.RecordBuilder, rows int, fixed func(i, n int) arrow.Array, more bool) error {
	if rows == 0 {
		return nil
	}
	cols := make([]arrow.Array, len(rb.Fields()))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	data := make([]int, len(cols))
	for i, b := range rb.Fields() {
		if fixed != nil {
			if cols[i] = fixed(i, rows); cols[i] != nil {
				data[i] = -1 // not appended: nothing to reserve
				continue
			}
		}
		if bb, ok := b.(interface{ DataLen() int }); ok {
			data[i] = bb.DataLen()
		}
		cols[i] = b.NewArray()
	}
	// Builders start empty after NewArray: sized for another batch like
	// this one, they need not grow to it again by doubling.
	if more {
		reserveBatch(rb, rows, data)
	}
	f.sizes.record(t, rows, data)
	rec := array.NewRecordBatch(rb.Schema(), cols, int64(rows))
	defer rec.Release()
	return f.write(t, rec)
}

// partitionColumn builds column i of tb's batch of n rows when it is one
// that every row of the partition shares (project, created_date, run_id),
// in one go: appending them row by row was a tenth of the flattening.
func (f *Flattener) partitionColumn(tb *tableBuilder, i, n int) arrow.Array {
	switch tb.kinds[i] {
	case project:
		return repeatedString(f.project, n)
	case runID:
		return repeatedString(f.runID, n)
	case createdDate:
		days := make([]arrow.Date32, n)
		for j := range days {
			days[j] = f.day32
		}
		data := array.NewData(arrow.FixedWidthTypes.Date32, n,
			[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Date32Traits.CastToBytes(days))}, nil, 0, 0)
		defer data.Release()
		return array.NewDate32Data(data)
	}
	return nil
}

// repeatedString is a string array of n copies of s.
func repeatedString(s string, n int) arrow.Array {
	offsets := make([]int32, n+1)
	for j := range offsets {
		offsets[j] = int32(j * len(s))
	}
	data := array.NewData(arrow.BinaryTypes.String, n, []*memory.Buffer{nil,
		memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offsets)),
		memory.NewBufferBytes([]byte(strings.Repeat(s, n)))}, nil, 0, 0)
	defer data.Release()
	return array.NewStringData(data)
}

func (f *Flattener) write(t *schema.Table, rec arrow.RecordBatch) error {
	if err := f.sink.Write(t, rec); err != nil {
		return fmt.Errorf("writing %s rows of %s %s: %w", t.Name, f.project, argos.FormatDate(f.day), err)
	}
	return nil
}

func (f *Flattener) quarantined(item []byte, source string, ordinal int64, reason string) error {
	if f.seal != nil {
		sealed, err := f.seal(item)
		if err != nil {
			return fmt.Errorf("encrypting quarantined item %d of %s: %w", ordinal, source, err)
		}
		item = sealed
		reason, _, _ = strings.Cut(reason, `"`)
	}
	b := f.quarantine
	b.Field(0).(*array.StringBuilder).Append(f.project)
	b.Field(1).(*array.Date32Builder).Append(f.day32)
	b.Field(2).(*array.StringBuilder).Append(f.runID)
	b.Field(3).(*array.StringBuilder).Append(strings.ToValidUTF8(source, "\uFFFD"))
	b.Field(4).(*array.Int64Builder).Append(ordinal)
	b.Field(5).(*array.StringBuilder).Append(strings.ToValidUTF8(reason, "\uFFFD")) // may quote the item
	b.Field(6).(*array.BinaryBuilder).Append(item)
	f.qRows++
	f.log.Debug().Str("source", source).Int64("ordinal", ordinal).Str("reason", reason).Msg("item quarantined")
	return nil
}

// element writes one row of tb from the JSON value e (the submission, or one
// element of a child array), and the rows of everything nested in it.
func (f *Flattener) element(tb *tableBuilder, e *fastjson.Value, ord, parentOrd int64, key []byte) {
	clear(tb.vals)
	tb.extra = tb.extra[:0]
	for _, z := range tb.zips {
		for i := range z.zipVals {
			z.zipVals[i] = z.zipVals[i][:0]
		}
	}
	if e.Type() == fastjson.TypeObject {
		f.walk(tb, tb.root, e, ord)
	} else {
		f.coerced(tb.root.path, "element is not an object")
		f.addExtra(tb, ".", e, schema.Keep)
	}
	if key != nil && tb.t.SensitiveKeys {
		f.sensitive = f.policy.KeyAction(string(key))
	}
	f.appendRow(tb, e, ord, parentOrd, key)
	f.sensitive = schema.Keep
	if tb.iExtra >= 0 {
		b := tb.rb.Field(tb.iExtra).(*array.StringBuilder)
		if len(tb.extra) == 0 {
			b.AppendNull()
		} else {
			tb.extra = append(tb.extra, '}')
			b.BinaryBuilder.Append(tb.extra)
		}
	}
	for _, z := range tb.zips {
		f.emitZip(z, ord)
	}
}

// appendRow appends one row's columns to tb, but for extra (appended by the
// caller once coercions have added theirs) and the partition's columns
// (built whole at flush): the one place a column is filled by its kind.
// elem is the row's element (nil for a zipped row), key its object key or
// list name.
func (f *Flattener) appendRow(tb *tableBuilder, elem *fastjson.Value, ord, parentOrd int64, key []byte) {
	for i, b := range tb.rb.Fields() {
		switch tb.kinds[i] {
		case fromSource:
			if v := tb.vals[i]; v != nil {
				f.appendValue(tb, i, b, v)
			} else {
				b.AppendNull() // most declared fields are absent from a row
			}
		case derived:
			tb.derive[i](elem, b)
		case subID:
			b.(*array.StringBuilder).BinaryBuilder.Append(f.subID)
		case ordinal:
			b.(*array.Int64Builder).Append(ord)
		case parentOrdinal:
			b.(*array.Int64Builder).Append(parentOrd)
		case entryKey:
			b.(*array.StringBuilder).BinaryBuilder.Append(f.validText(key, tb.colPath[i]))
		}
	}
	tb.rows++
	tb.batched++
}

// walk visits the keys of the object o at trie node n of tb's scope.
func (f *Flattener) walk(tb *tableBuilder, n *node, o *fastjson.Value, ord int64) {
	obj, _ := o.Object()
	keys := n.walkKeys()
	obj.Visit(func(k []byte, v *fastjson.Value) {
		c := keys.kid(k)
		switch {
		case c == nil:
			f.addExtra(tb, join(n.rel, string(k)), v, schema.Keep)
		case c.col >= 0:
			tb.vals[c.col] = v
		case c.child != nil:
			f.children(tb, c, v, ord)
		case c.zip != nil:
			f.gatherZip(tb, c, v)
		case v.Type() == fastjson.TypeObject:
			f.walk(tb, c, v, ord)
		case v.Type() == fastjson.TypeNull:
		default:
			f.coerced(c.path, "expected an object, got "+v.Type().String())
			f.addExtra(tb, c.rel, v, schema.Keep)
		}
	})
}

// children writes the rows of the child table at node c from v.
func (f *Flattener) children(tb *tableBuilder, c *node, v *fastjson.Value, parentOrd int64) {
	child := c.child
	switch {
	case v.Type() == fastjson.TypeNull:
	case child.t.Shape == schema.PerEntry && v.Type() == fastjson.TypeObject:
		obj, _ := v.Object()
		var i int64
		obj.Visit(func(k []byte, e *fastjson.Value) {
			f.element(child, e, i, parentOrd, k)
			i++
		})
	case child.t.Shape == schema.PerElement && v.Type() == fastjson.TypeArray:
		arr, _ := v.Array()
		for i, e := range arr {
			f.element(child, e, int64(i), parentOrd, nil)
		}
	case child.t.Shape == schema.PerElement && v.Type() == fastjson.TypeObject:
		// A lone object where an array is documented: one element. Where
		// the reference itself types a list as an Object, that is no drift.
		if !child.t.ObjectOrArray {
			f.coerced(c.path, "object where an array was expected; read as one element")
		}
		f.element(child, v, 0, parentOrd, nil)
	case child.t.Shape == schema.PerValue && v.Type() == fastjson.TypeArray:
		arr, _ := v.Array()
		for i, e := range arr {
			f.value(child, c, e, int64(i))
		}
	case child.t.Shape == schema.PerValue && v.Type() != fastjson.TypeObject:
		// A lone value where a list is documented, as kyc.comment arrives.
		f.coerced(c.path, "a lone value where an array was expected; read as one element")
		f.value(child, c, v, 0)
	default:
		f.coerced(c.path, "expected "+shapeWord(child.t.Shape)+", got "+v.Type().String())
		f.addExtra(tb, c.rel, v, schema.Keep)
	}
}

func shapeWord(s schema.Shape) string {
	if s == schema.PerEntry {
		return "an object"
	}
	return "an array"
}

// gatherZip collects one of a PerIndex table's parallel arrays.
func (f *Flattener) gatherZip(tb *tableBuilder, c *node, v *fastjson.Value) {
	z := c.zip
	switch v.Type() {
	case fastjson.TypeArray:
		arr, _ := v.Array()
		z.zipVals[c.zipCol] = append(z.zipVals[c.zipCol], arr...)
	case fastjson.TypeNull:
	case fastjson.TypeObject:
		f.coerced(c.path, "expected an array or text, got object")
		f.addExtra(tb, c.rel, v, schema.Keep)
	default:
		// kyc.comment arrives as a plain string as often as an array.
		z.zipVals[c.zipCol] = append(z.zipVals[c.zipCol], v)
	}
}

func (f *Flattener) emitZip(z *tableBuilder, parentOrd int64) {
	n := 0
	for _, vs := range z.zipVals {
		n = max(n, len(vs))
	}
	for i := 0; i < n; i++ {
		clear(z.vals)
		for c, vs := range z.zipVals {
			if i < len(vs) {
				z.vals[c] = vs[i]
			}
		}
		f.appendRow(z, nil, int64(i), parentOrd, nil)
	}
}

// value writes one row of the PerValue table z: element e of the array at
// node c, whose key names the list.
func (f *Flattener) value(z *tableBuilder, c *node, e *fastjson.Value, ord int64) {
	clear(z.vals)
	z.vals[z.iValue] = e
	z.colPath[z.iValue], z.colRel[z.iValue] = c.path+"[]", c.rel+"[]" // where a coercion is recorded
	f.appendRow(z, e, ord, -1, c.key)
}

func (f *Flattener) coerced(path, reason string) {
	if !utf8.ValidString(path) { // a path through an unknown key names it as sent
		path = strings.ToValidUTF8(path, "\uFFFD")
	}
	f.coercions[coercionKey{path, reason}]++
}
