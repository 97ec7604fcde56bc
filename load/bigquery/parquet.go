package bigquery

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/transform/schema"
)

// readBatchRows is how many rows a merge reads at a time.
const readBatchRows = 64 << 10

// openParquet opens a Parquet file for Arrow reading; close releases it.
func openParquet(path string) (fr *pqarrow.FileReader, close func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	pf, err := file.NewParquetReader(f)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("reading Parquet footer: %w", err)
	}
	fr, err = pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: readBatchRows}, memory.DefaultAllocator)
	if err != nil {
		pf.Close()
		return nil, nil, fmt.Errorf("reading Parquet schema: %w", err)
	}
	return fr, func() { pf.Close() }, nil
}

// checkFile checks, before any job runs, that a partition's file can be
// loaded into table: the table is a partitioned table of the schema, each
// column of the file is declared there with the same type, and every row
// belongs to the partition (a row of another day would escape the next
// replacement of this one). It returns the file's row count.
func checkFile(ctx context.Context, table, path, project string, day time.Time) (*schema.Table, int64, error) {
	t, ok := schema.ByName(table)
	if !ok {
		return nil, 0, load.ErrUnknownTable
	}
	if t.Unpartitioned {
		return nil, 0, load.ErrUnpartitioned
	}
	if path == "" { // no rows (load.PartitionFiles): the day's rows go, none come
		return t, 0, nil
	}
	fr, closeFile, err := openParquet(path)
	if err != nil {
		return nil, 0, err
	}
	defer closeFile()
	sc, err := fr.Schema()
	if err != nil {
		return nil, 0, fmt.Errorf("reading Parquet schema: %w", err)
	}
	leaves := map[string]int{}
	for i, f := range sc.Fields() {
		c, ok := t.Column(f.Name)
		if !ok {
			return nil, 0, fmt.Errorf("column %s is not declared", f.Name)
		}
		if !arrow.TypeEqual(c.Type, f.Type) {
			return nil, 0, fmt.Errorf("column %s is %s, declared %s", f.Name, f.Type, c.Type)
		}
		if sf := fr.Manifest.Fields[i]; sf.IsLeaf() {
			leaves[f.Name] = sf.ColIndex
		}
	}
	rows := fr.ParquetReader().NumRows()
	if rows == 0 {
		return t, 0, nil
	}
	pi, okP := leaves[schema.ProjectCol.Name]
	dayCol := t.DayColumn().Name
	di, okD := leaves[dayCol]
	if !okP || !okD {
		return nil, 0, fmt.Errorf("%d rows without project or %s", rows, dayCol)
	}
	rr, err := fr.GetRecordReader(ctx, []int{pi, di}, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("reading project and %s: %w", dayCol, err)
	}
	defer rr.Release()
	want := arrow.Date32FromTime(day)
	var stray int64
	for rr.Next() {
		rec := rr.RecordBatch()
		projects, ok1 := rec.Column(0).(*array.String)
		days, ok2 := rec.Column(1).(*array.Date32)
		if !ok1 || !ok2 {
			return nil, 0, fmt.Errorf("project or %s has an unexpected type", dayCol)
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			if projects.IsNull(i) || days.IsNull(i) || projects.Value(i) != project || days.Value(i) != want {
				stray++
			}
		}
	}
	if err := rr.Err(); err != nil {
		return nil, 0, fmt.Errorf("reading project and %s: %w", dayCol, err)
	}
	if stray > 0 {
		return nil, 0, fmt.Errorf("%d %w", stray, load.ErrStrayRows)
	}
	return t, rows, nil
}

// mergeParquet writes the rows of srcs (checked files of table t) to one
// Parquet file at dst, in the declared schema: a column a file lacks (one
// written before the column was declared) is NULL.
func mergeParquet(ctx context.Context, dst string, t *schema.Table, srcs []string) error {
	w, err := archive.NewParquetWriter(dst, t.ArrowSchema())
	if err != nil {
		return err
	}
	for _, src := range srcs {
		if err := appendParquet(ctx, w, t.ArrowSchema(), src); err != nil {
			w.Abort()
			return fmt.Errorf("merging %s: %w", src, err)
		}
	}
	if _, err := w.Close(); err != nil {
		return err
	}
	return nil
}

func appendParquet(ctx context.Context, w *archive.ParquetWriter, sc *arrow.Schema, src string) error {
	fr, closeFile, err := openParquet(src)
	if err != nil {
		return err
	}
	defer closeFile()
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		return err
	}
	defer rr.Release()
	for rr.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := conform(rr.RecordBatch(), sc)
		if err != nil {
			return err
		}
		err = w.Write(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return rr.Err()
}

// conform lays rec out in schema sc, by column name.
func conform(rec arrow.RecordBatch, sc *arrow.Schema) (arrow.RecordBatch, error) {
	n := rec.NumRows()
	cols := make([]arrow.Array, sc.NumFields())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, f := range sc.Fields() {
		idx := rec.Schema().FieldIndices(f.Name)
		if len(idx) == 0 {
			cols[i] = array.MakeArrayOfNull(memory.DefaultAllocator, f.Type, int(n))
			continue
		}
		c := rec.Column(idx[0])
		if !arrow.TypeEqual(c.DataType(), f.Type) {
			return nil, fmt.Errorf("column %s is %s, declared %s", f.Name, c.DataType(), f.Type)
		}
		c.Retain()
		cols[i] = c
	}
	return array.NewRecordBatch(sc, cols, n), nil
}
