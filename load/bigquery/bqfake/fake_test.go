package bqfake

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"cloud.google.com/go/bigquery"
	bq "google.golang.org/api/bigquery/v2"
	"google.golang.org/api/googleapi"
)

// TestAnswersLikeBigQuery checks the fake refuses what BigQuery refuses.
func TestAnswersLikeBigQuery(t *testing.T) {
	ctx := context.Background()
	s := New()
	defer s.Close()
	c, err := bigquery.NewClient(ctx, "kyc-test", s.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ds := c.Dataset("kyc")
	if _, err := ds.Metadata(ctx); !isCode(err, http.StatusNotFound) {
		t.Errorf("a missing dataset: %v", err)
	}
	if err := ds.Create(ctx, &bigquery.DatasetMetadata{Location: "EU"}); err != nil {
		t.Fatal(err)
	}
	if err := ds.Create(ctx, nil); !isCode(err, http.StatusConflict) {
		t.Errorf("a dataset created twice: %v", err)
	}
	tbl := ds.Table("t")
	sc := bigquery.Schema{{Name: "a", Type: bigquery.StringFieldType}, {Name: "d", Type: bigquery.DateFieldType}}
	bad := &bigquery.TableMetadata{Schema: sc, TimePartitioning: &bigquery.TimePartitioning{Field: "a"}}
	if err := tbl.Create(ctx, bad); !isCode(err, http.StatusBadRequest) {
		t.Errorf("partitioning on a STRING column: %v", err)
	}
	if err := tbl.Create(ctx, &bigquery.TableMetadata{Schema: sc, TimePartitioning: &bigquery.TimePartitioning{Field: "d"}}); err != nil {
		t.Fatal(err)
	}
	md, err := tbl.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tbl.Update(ctx, bigquery.TableMetadataToUpdate{Schema: sc[:1]}, md.ETag); !isCode(err, http.StatusBadRequest) {
		t.Errorf("dropping a column: %v", err)
	}
	if _, err := tbl.Update(ctx, bigquery.TableMetadataToUpdate{Schema: append(sc, &bigquery.FieldSchema{Name: "b", Type: bigquery.IntegerFieldType})}, "stale"); !isCode(err, http.StatusPreconditionFailed) {
		t.Errorf("a stale etag: %v", err)
	}

	// A load of a file that is not Parquet fails the job, not the request.
	src := bigquery.NewReaderSource(bytes.NewReader([]byte("a,d\nx,2025-01-01\n")))
	src.SourceFormat = bigquery.Parquet
	job, err := tbl.LoaderFrom(src).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err := job.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Err() == nil || !strings.Contains(st.Err().Error(), "Error while reading data") {
		t.Errorf("loading CSV as Parquet: %v", st.Err())
	}

	// A failed query: getQueryResults answers with its error.
	s.FailJobs(func(*bq.Job) *bq.ErrorProto { return &bq.ErrorProto{Reason: "invalidQuery", Message: "Syntax error"} })
	q, err := c.Query("SELECT 1").Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Wait(ctx); err == nil || !strings.Contains(err.Error(), "Syntax error") {
		t.Errorf("waiting for a failed query: %v", err)
	}
	if st, err := q.Status(ctx); err != nil || st.Err() == nil {
		t.Errorf("a failed query's status: %v, %v", st, err)
	}
}

func isCode(err error, code int) bool {
	var e *googleapi.Error
	return errors.As(err, &e) && e.Code == code
}
