package bigquery

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	storage "google.golang.org/api/storage/v1"

	"github.com/kycetl/kycetl/load/bigquery/bqfake"
)

// leave stages table's load file as a run does and leaves its staging
// table and object behind, as a run killed mid-load does, at the fake's
// time at.
func leave(t *testing.T, w *Warehouse, fake *bqfake.Server, at time.Time, stage string) {
	t.Helper()
	ctx := context.Background()
	fake.SetClock(at)
	md := &bigquery.TableMetadata{Schema: bigquery.Schema{{Name: "x", Type: bigquery.StringFieldType}}}
	if err := w.client.Dataset(testDataset).Table(stage).Create(ctx, md); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "load.parquet")
	if err := os.WriteFile(path, []byte("PAR1"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := w.upload(ctx, stage, f); err != nil {
		t.Fatal(err)
	}
}

func TestCleanStaging(t *testing.T) {
	ctx := context.Background()
	fake := bqfake.New()
	t.Cleanup(fake.Close)
	w := openOn(t, fake, Config{Project: testProject, Dataset: testDataset, Staging: "gs://kycetl-staging/loads/"})
	t.Cleanup(func() { w.Close() })
	if err := w.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	crash := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	leave(t, w, fake, crash, stagingPrefix+"crashed_submissions")
	leave(t, w, fake, crash.Add(2*time.Hour), stagingPrefix+"running_submissions") // a run going on elsewhere
	// Something else in the bucket and the dataset is never touched.
	if _, err := w.gcs.Objects.Insert("kycetl-staging", &storage.Object{Name: "loads/other.parquet"}).Media(strings.NewReader("x")).Do(); err != nil {
		t.Fatal(err)
	}
	before := crash.Add(time.Hour)
	want := []string{testDataset + "." + stagingPrefix + "crashed_submissions", "gs://kycetl-staging/loads/" + stagingPrefix + "crashed_submissions.parquet"}

	got, err := w.CleanStaging(ctx, before, true)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("dry run: %v, %v; want %v", got, err, want)
	}
	if _, ok := fake.Table(testProject, testDataset, stagingPrefix+"crashed_submissions"); !ok {
		t.Fatal("the dry run dropped the staging table")
	}
	got, err = w.CleanStaging(ctx, before, false)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("cleaning: %v, %v; want %v", got, err, want)
	}
	if _, ok := fake.Table(testProject, testDataset, stagingPrefix+"crashed_submissions"); ok {
		t.Error("the crashed run's staging table is still there")
	}
	if _, ok := fake.Table(testProject, testDataset, stagingPrefix+"running_submissions"); !ok {
		t.Error("the staging table of a run in progress was dropped")
	}
	if _, ok := fake.Table(testProject, testDataset, "submissions"); !ok {
		t.Error("a warehouse table was dropped")
	}
	wantObjects := []string{"gs://kycetl-staging/loads/" + stagingPrefix + "running_submissions.parquet", "gs://kycetl-staging/loads/other.parquet"}
	if got := fake.Objects(); !slices.Equal(got, wantObjects) {
		t.Errorf("objects left: %v, want %v", got, wantObjects)
	}
	if got, err := w.CleanStaging(ctx, before, false); err != nil || len(got) != 0 {
		t.Errorf("cleaning again: %v, %v", got, err)
	}
}
