package archive

import (
	"bytes"
	"fmt"
	"os"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	pqschema "github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/kycetl/kycetl/transform/schema"
)

// SchemaVersionKey is the Parquet key-value metadata entry holding the
// schema.Version a file was written with; Verify compares it with the
// manifest's.
const SchemaVersionKey = "kycetl.schema_version"

// ParquetWriter writes Arrow records to one Parquet file, ZSTD-compressed,
// one row group per record (or more when a record exceeds the row group
// limit). Arrow timestamps with a time zone land as TIMESTAMP(MICROS,
// isAdjustedToUTC) and Date32 as DATE.
type ParquetWriter struct {
	f    *atomicFile
	sc   *arrow.Schema
	w    *pqarrow.FileWriter // started by the first record (start)
	rows int64
	err  error
}

// parquetLevel is the zstd level of every Parquet page (see pageEncoders).
const parquetLevel = 1

// NewParquetWriter starts a Parquet file with the given schema at path;
// nothing is visible at path until Close.
func NewParquetWriter(path string, sc *arrow.Schema, opts ...WriterOption) (*ParquetWriter, error) {
	f, err := createAtomic(path, append(opts, buffered)...)
	if err != nil {
		return nil, err
	}
	return &ParquetWriter{f: f, sc: sc}, nil
}

// start begins the file, its writer properties chosen for first, the
// first record (nil for a file with no rows).
func (w *ParquetWriter) start(first arrow.RecordBatch) error {
	props := parquet.NewWriterProperties(append([]parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Zstd),
		// Level 1: most of zstd's ratio on this data at a fraction of the
		// CPU; the import's throughput is bound by compression otherwise.
		parquet.WithCompressionLevel(parquetLevel),
		// Dictionary encoding cost a third of the allocations of writing
		// (a memo table per column and row group) and bought nothing:
		// with zstd on top the files came out 5% larger than plain.
		parquet.WithDictionaryDefault(false),
		parquet.WithCreatedBy("kycetl"),
		// Min/max statistics only where a reader prunes or checks with
		// them: every file is one day of one project, so the other
		// columns' statistics skip nothing and cost a tenth of the write.
		parquet.WithStats(false),
	}, append(statsColumns(w.sc), tinyColumns(first)...)...)...)
	// Microseconds everywhere: both warehouses store timestamps at that
	// precision, and the stored Arrow schema lets Arrow readers get the
	// exact types (time zone included) back.
	arrProps := pqarrow.NewArrowWriterProperties(
		pqarrow.WithCoerceTimestamps(arrow.Microsecond),
		pqarrow.WithStoreSchema(),
	)
	pw, err := pqarrow.NewFileWriter(w.sc, w.f, props, arrProps)
	if err != nil {
		return fmt.Errorf("starting Parquet file %s: %w", w.f.path, err)
	}
	if err := pw.AppendKeyValueMetadata(SchemaVersionKey, strconv.Itoa(schema.Version)); err != nil {
		_ = pw.Close()
		return fmt.Errorf("starting Parquet file %s: %w", w.f.path, err)
	}
	w.w = pw
	return nil
}

// tinyValues is the size of plain-encoded values below which a column
// chunk is stored uncompressed: of a 200-day import of core fields, 41%
// of the chunks (13,526 of 32,600: the columns a day leaves null, or
// nearly) were under 100 bytes, and zstd made them half as large again
// while costing a call each.
const tinyValues = 64

// tinyColumns stores uncompressed the columns whose values in rec (the
// file's first record) are tiny.
func tinyColumns(rec arrow.RecordBatch) []parquet.WriterProperty {
	if rec == nil {
		return nil
	}
	var out []parquet.WriterProperty
	for i, col := range rec.Columns() {
		if plainSize(col) < tinyValues {
			out = append(out, parquet.WithCompressionFor(rec.ColumnName(i), compress.Codecs.Uncompressed))
		}
	}
	return out
}

// plainSize estimates the bytes of a flat column's values, plain-encoded:
// nulls take none.
func plainSize(a arrow.Array) int {
	n := a.Len() - a.NullN()
	switch a := a.(type) {
	case *array.String:
		return 4*n + len(a.ValueBytes())
	case *array.Binary:
		return 4*n + len(a.ValueBytes())
	case *array.Boolean:
		return (n + 7) / 8
	}
	if fw, ok := a.DataType().(arrow.FixedWidthDataType); ok {
		return n * fw.Bytes()
	}
	return tinyValues // unknown: compressed as any other
}

// Write appends rec as one row group. rec must have the writer's schema.
// The caller keeps ownership of rec.
func (w *ParquetWriter) Write(rec arrow.RecordBatch) error {
	if w.err != nil {
		return w.err
	}
	if w.f.done {
		return fmt.Errorf("writing to %s: %w", w.f.path, errClosed)
	}
	if rec.NumRows() == 0 {
		return nil // an empty row group carries nothing
	}
	if w.w == nil {
		if err := w.start(rec); err != nil {
			w.err = err
			return err
		}
	}
	if err := w.w.Write(rec); err != nil {
		w.err = fmt.Errorf("writing %d rows to %s: %w", rec.NumRows(), w.f.path, err)
		return w.err
	}
	w.rows += rec.NumRows()
	return nil
}

// buffered makes a Parquet file collect its bytes before they are written
// (see atomicFile.buffered).
func buffered(f *atomicFile) { f.buffered = true }

// Close writes the footer and renames the file into place. A file with no
// rows is valid: it holds the schema only. With OmitEmpty such a file is
// dropped instead, and the FileInfo returned has no Path.
func (w *ParquetWriter) Close() (FileInfo, error) {
	if w.err != nil {
		w.Abort()
		return FileInfo{}, w.err
	}
	if w.f.done {
		return FileInfo{}, fmt.Errorf("closing %s: %w", w.f.path, errClosed)
	}
	if w.rows == 0 && w.f.omitEmpty {
		w.Abort()
		return FileInfo{}, nil
	}
	if w.w == nil {
		if err := w.start(nil); err != nil {
			w.f.abort()
			return FileInfo{}, err
		}
	}
	if err := w.w.Close(); err != nil {
		w.f.abort()
		return FileInfo{}, fmt.Errorf("writing Parquet footer of %s: %w", w.f.path, err)
	}
	return w.f.commit(w.rows)
}

// Abort drops the file; nothing is left behind. It is safe after Close.
func (w *ParquetWriter) Abort() {
	if w.f.done {
		return
	}
	// Closing the pqarrow writer releases its buffers; it does not close
	// the temporary file (atomicFile is no io.Closer), abort does.
	if w.w != nil {
		_ = w.w.Close()
	}
	w.f.abort()
}

// statsColumnNames are the columns whose min/max statistics a Parquet file
// carries besides its day (see dayColumn): the project (which, with the
// day, ReadParquetFooter reads back to check a file's rows belong to its
// partition) and the submission's identity and time.
var statsColumnNames = []string{"project", "submission_id", "created_at"}

func statsColumns(sc *arrow.Schema) []parquet.WriterProperty {
	out := make([]parquet.WriterProperty, 0, len(statsColumnNames)+1)
	for _, c := range statsColumnNames {
		out = append(out, parquet.WithStatsFor(c, true))
	}
	if day := dayColumn(sc); day != "" {
		out = append(out, parquet.WithStatsFor(day, true))
	}
	return out
}

// dayColumn is the name of a partitioned table's day column: a DATE
// right after project (schema.Table.AllColumns), or "" for a table that
// has none.
func dayColumn(sc *arrow.Schema) string {
	if sc.NumFields() < 2 || sc.Field(0).Name != "project" || sc.Field(1).Type.ID() != arrow.DATE32 {
		return ""
	}
	return sc.Field(1).Name
}

// ParquetFooter is what a Parquet file's footer says about it.
type ParquetFooter struct {
	Rows          int64
	SchemaVersion string // "" when the file carries none
	// Project and Day are the single value of every row's project and day
	// column (the DATE after project), per the column statistics; "" when
	// the file has no such column or rows, or its rows disagree.
	Project, Day string
}

// ReadParquetFooter reads the row count, schema version and partition of a
// Parquet file without reading its data.
func ReadParquetFooter(path string) (ParquetFooter, error) {
	f, err := os.Open(path)
	if err != nil {
		return ParquetFooter{}, fmt.Errorf("opening Parquet file: %w", err)
	}
	defer f.Close()
	r, err := file.NewParquetReader(f)
	if err != nil {
		return ParquetFooter{}, fmt.Errorf("reading Parquet footer of %s: %w", path, err)
	}
	defer r.Close()
	md := r.MetaData()
	out := ParquetFooter{Rows: md.GetNumRows()}
	if v := md.KeyValueMetadata().FindValue(SchemaVersionKey); v != nil {
		out.SchemaVersion = *v
	}
	if out.Rows > 0 {
		out.Project = constantValue(md, "project", func(s metadata.TypedStatistics) (string, bool) {
			b, ok := s.(*metadata.ByteArrayStatistics)
			if !ok || !bytes.Equal(b.Min(), b.Max()) {
				return "", false
			}
			return string(b.Min()), true
		})
		out.Day = constantValue(md, fileDayColumn(md), func(s metadata.TypedStatistics) (string, bool) {
			d, ok := s.(*metadata.Int32Statistics)
			if !ok || d.Min() != d.Max() {
				return "", false
			}
			return arrow.Date32(d.Min()).FormattedString(), true
		})
	}
	return out, nil
}

// fileDayColumn is dayColumn read from a file's own schema: its second
// column when the first is project and it is a DATE, else "".
func fileDayColumn(md *metadata.FileMetaData) string {
	if md.Schema.NumColumns() < 2 || md.Schema.Column(0).Name() != "project" {
		return ""
	}
	if _, ok := md.Schema.Column(1).LogicalType().(pqschema.DateLogicalType); !ok {
		return ""
	}
	return md.Schema.Column(1).Name()
}

// constantValue is the one value a column holds in every row group, per
// its statistics (read by value), or "" when the statistics are missing,
// count nulls or disagree.
func constantValue(md *metadata.FileMetaData, column string, value func(metadata.TypedStatistics) (string, bool)) string {
	col := md.Schema.ColumnIndexByName(column)
	if col < 0 {
		return ""
	}
	var out string
	for i := 0; i < md.NumRowGroups(); i++ {
		cc, err := md.RowGroup(i).ColumnChunk(col)
		if err != nil {
			return ""
		}
		st, err := cc.Statistics()
		if err != nil || st == nil || !st.HasMinMax() || st.NullCount() > 0 {
			return ""
		}
		v, ok := value(st)
		if !ok || (i > 0 && v != out) {
			return ""
		}
		out = v
	}
	return out
}
