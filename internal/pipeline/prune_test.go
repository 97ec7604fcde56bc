package pipeline_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	gbq "cloud.google.com/go/bigquery"
	"github.com/rs/zerolog"
	storage "google.golang.org/api/storage/v1"

	"github.com/kycetl/kycetl/internal/config"
	"github.com/kycetl/kycetl/internal/pipeline"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/load/bigquery"
	"github.com/kycetl/kycetl/load/bigquery/bqfake"
)

// TestPruneCleansBigQueryStaging: the prune of a BigQuery warehouse removes
// the staging tables and staged objects a crashed load left (named as
// load/bigquery names them), older than StagingGrace, and nothing else.
func TestPruneCleansBigQueryStaging(t *testing.T) {
	ctx := context.Background()
	fake := bqfake.New()
	defer fake.Close()
	cfg := bigquery.Config{Project: "kyc-test", Dataset: "kyc", Staging: "gs://kycetl-staging/loads"}
	wh, err := bigquery.Open(ctx, cfg, bigquery.WithClientOptions(fake.ClientOptions()...), bigquery.WithStorageOptions(fake.StorageOptions()...))
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	if err := wh.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	gcs, err := storage.NewService(ctx, fake.StorageOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	// What a load killed mid-batch leaves: a staging table per table and
	// its staged load file (load/bigquery's stage and upload).
	leave := func(at time.Time, name string) {
		fake.SetClock(at)
		md := &gbq.TableMetadata{Schema: gbq.Schema{{Name: "x", Type: gbq.StringFieldType}}}
		if err := wh.Client().Dataset(cfg.Dataset).Table(name).Create(ctx, md); err != nil {
			t.Fatal(err)
		}
		if _, err := gcs.Objects.Insert("kycetl-staging", &storage.Object{Name: "loads/" + name + ".parquet"}).Media(strings.NewReader("PAR1")).Do(); err != nil {
			t.Fatal(err)
		}
	}
	leave(now.Add(-pipeline.StagingGrace-time.Hour), "_kycetl_stage_crashed_submissions")
	leave(now.Add(-time.Minute), "_kycetl_stage_recent_submissions")

	dir := t.TempDir()
	res, err := pipeline.Prune(ctx, archive.Layout{Dir: dir}, wh, config.Retention{SupersededDays: config.KeepAll}, now, false, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"kyc._kycetl_stage_crashed_submissions", "gs://kycetl-staging/loads/_kycetl_stage_crashed_submissions.parquet"}
	if res.Archive != nil || !slices.Equal(res.Staging, want) {
		t.Errorf("prune removed %v (archive %+v), want %v and no archive prune", res.Staging, res.Archive, want)
	}
	if got := fake.TableNames(cfg.Project, cfg.Dataset); slices.Contains(got, "_kycetl_stage_crashed_submissions") ||
		!slices.Contains(got, "_kycetl_stage_recent_submissions") || !slices.Contains(got, "submissions") {
		t.Errorf("tables after the prune: %v", got)
	}
	if got := fake.Objects(); !slices.Equal(got, []string{"gs://kycetl-staging/loads/_kycetl_stage_recent_submissions.parquet"}) {
		t.Errorf("objects after the prune: %v", got)
	}
}
