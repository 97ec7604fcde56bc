package bigquery

import (
	"fmt"

	"cloud.google.com/go/bigquery"
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/kycetl/kycetl/transform/schema"
)

// maxDescription is BigQuery's limit on a column description.
const maxDescription = 1024

// TableMetadata is a table's BigQuery definition, derived from its
// declaration: every column nullable (lists REPEATED), described by its
// doc; partitioned tables DAY-partitioned on their day column and clustered.
func TableMetadata(t *schema.Table) (*bigquery.TableMetadata, error) {
	sc, err := Schema(t)
	if err != nil {
		return nil, err
	}
	md := &bigquery.TableMetadata{Schema: sc, Description: t.Doc}
	if !t.Unpartitioned {
		md.TimePartitioning = &bigquery.TimePartitioning{Type: bigquery.DayPartitioningType, Field: t.DayColumn().Name}
		md.Clustering = &bigquery.Clustering{Fields: ClusterColumns(t)}
	}
	return md, nil
}

// Schema is a table's BigQuery schema, in the declaration's column order.
func Schema(t *schema.Table) (bigquery.Schema, error) {
	cols := t.AllColumns()
	sc := make(bigquery.Schema, len(cols))
	for i, c := range cols {
		typ, repeated, err := FieldType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("declaring column %s.%s: %w", t.Name, c.Name, err)
		}
		doc := c.Doc
		if len(doc) > maxDescription {
			doc = doc[:maxDescription]
		}
		sc[i] = &bigquery.FieldSchema{Name: c.Name, Type: typ, Repeated: repeated, Description: doc}
	}
	return sc, nil
}

// FieldType maps a declared Arrow type to BigQuery's. Timestamps are UTC
// with microsecond precision in both, so TIMESTAMP holds them exactly; a list
// of a scalar type is a REPEATED column of that type.
func FieldType(t arrow.DataType) (typ bigquery.FieldType, repeated bool, err error) {
	if l, ok := t.(*arrow.ListType); ok {
		typ, repeated, err = FieldType(l.Elem())
		if err != nil {
			return "", false, err
		}
		if repeated {
			return "", false, fmt.Errorf("no BigQuery type for a list of lists (%s)", t)
		}
		return typ, true, nil
	}
	switch t.ID() {
	case arrow.STRING:
		return bigquery.StringFieldType, false, nil
	case arrow.INT64:
		return bigquery.IntegerFieldType, false, nil
	case arrow.FLOAT64:
		return bigquery.FloatFieldType, false, nil
	case arrow.BOOL:
		return bigquery.BooleanFieldType, false, nil
	case arrow.TIMESTAMP:
		return bigquery.TimestampFieldType, false, nil
	case arrow.DATE32:
		return bigquery.DateFieldType, false, nil
	case arrow.BINARY:
		return bigquery.BytesFieldType, false, nil
	}
	return "", false, fmt.Errorf("no BigQuery type for Arrow type %s", t)
}

// ClusterColumns are the clustering columns of a partitioned table. Every
// query, replacement and view groups or filters by project; then come the
// columns the table declares (schema.Table.Cluster), or else submission_id,
// by which child tables are read.
func ClusterColumns(t *schema.Table) []string {
	cols := []string{schema.ProjectCol.Name}
	if t.Cluster != nil {
		return append(cols, t.Cluster...)
	}
	if _, ok := t.Column(schema.SubmissionCol.Name); ok {
		cols = append(cols, schema.SubmissionCol.Name)
	}
	return cols
}
