package bigquery

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"github.com/apache/arrow-go/v18/arrow"
	bq "google.golang.org/api/bigquery/v2"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/fractal"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/load/bigquery/bqfake"
	"github.com/kycetl/kycetl/load/loadtest"
	"github.com/kycetl/kycetl/sql"
	"github.com/kycetl/kycetl/transform/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func TestPrepareDefinesDatasetTablesAndViews(t *testing.T) {
	ctx := context.Background()
	fake := bqfake.New()
	t.Cleanup(fake.Close)
	w := openOn(t, fake, Config{Project: testProject, Dataset: testDataset, Location: "EU"})
	defer w.Close()
	if err := w.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	ds, ok := fake.Dataset(testProject, testDataset)
	if !ok || ds.Location != "EU" {
		t.Fatalf("dataset %+v, want one in EU", ds)
	}
	for _, st := range schema.All() {
		tbl, ok := fake.Table(testProject, testDataset, st.Name)
		if !ok {
			t.Errorf("table %s is missing", st.Name)
			continue
		}
		cols := st.AllColumns()
		if len(tbl.Schema.Fields) != len(cols) {
			t.Errorf("%s has %d columns, want %d", st.Name, len(tbl.Schema.Fields), len(cols))
			continue
		}
		want := map[arrow.Type]string{arrow.STRING: "STRING", arrow.INT64: "INTEGER", arrow.FLOAT64: "FLOAT", arrow.BOOL: "BOOLEAN",
			arrow.TIMESTAMP: "TIMESTAMP", arrow.DATE32: "DATE", arrow.BINARY: "BYTES"}
		for i, c := range cols {
			f := tbl.Schema.Fields[i]
			if f.Name != c.Name || f.Type != want[c.Type.ID()] || (f.Mode != "" && f.Mode != "NULLABLE") || f.Description != c.Doc {
				t.Errorf("%s column %d is %s %s %s %q, want %s %s NULLABLE %q", st.Name, i, f.Name, f.Type, f.Mode, f.Description, c.Name, want[c.Type.ID()], c.Doc)
			}
		}
		if st.Unpartitioned {
			if tbl.TimePartitioning != nil || tbl.Clustering != nil {
				t.Errorf("%s is partitioned or clustered", st.Name)
			}
			continue
		}
		wantDay := "created_date"
		if st.Day != nil {
			wantDay = st.Day.Name
		}
		if tp := tbl.TimePartitioning; tp == nil || tp.Type != "DAY" || tp.Field != wantDay {
			t.Errorf("%s partitioning %+v, want DAY on %s", st.Name, tp, wantDay)
		}
		wantCluster := []string{"project", "submission_id"}
		switch st {
		case argos.Submissions:
			wantCluster = []string{"project", "status"}
		case schema.Quarantine:
			wantCluster = []string{"project"}
		case fractal.TotalsTable:
			wantCluster = []string{"project", "status"}
		case fractal.CountriesTable:
			wantCluster = []string{"project", "country", "status"}
		case fractal.UsersTable:
			wantCluster = []string{"project", "user_id"}
		}
		if tbl.Clustering == nil || !slices.Equal(tbl.Clustering.Fields, wantCluster) {
			t.Errorf("%s clustering %+v, want %v", st.Name, tbl.Clustering, wantCluster)
		}
	}
	// Views: the sql/ files, rendered with fully qualified references.
	for _, v := range sql.Views() {
		tbl, ok := fake.Table(testProject, testDataset, v.Name)
		want, err := sql.Render(v, func(n string) string { return "`kyc-test.kyc." + n + "`" })
		if err != nil {
			t.Fatal(err)
		}
		if !ok || tbl.View == nil || tbl.View.Query != want {
			t.Errorf("view %s is not the rendered %s.sql", v.Name, v.Name)
		}
	}
	// Every query job is GoogleSQL, run in the dataset's location.
	var queries []string
	for _, j := range fake.Jobs() {
		q := j.Configuration.Query
		if q == nil || q.UseLegacySql == nil || *q.UseLegacySql || j.JobReference.Location != "EU" {
			t.Errorf("job %s is not a GoogleSQL query in EU", j.Id)
			continue
		}
		queries = append(queries, q.Query)
	}
	if len(queries) != len(sql.Views())+1 || !strings.HasPrefix(queries[0], "CREATE OR REPLACE VIEW `kyc-test.kyc.submission_facts` AS\n") {
		t.Errorf("Prepare ran %d queries, want one per view and the seeding", len(queries))
	}
	seed := queries[len(queries)-1]
	for _, s := range []string{"IF NOT EXISTS (SELECT 1 FROM `kyc-test.kyc.credit_rates`) THEN", "('id_check', 1, DATE '2025-02-01', CAST(NULL AS DATE))",
		"('knowledge_check', 1, DATE '2025-02-01', CAST(NULL AS DATE))", "('aml_screening', 1, DATE '2025-02-01', CAST(NULL AS DATE))"} {
		if !strings.Contains(seed, s) {
			t.Errorf("the seeding\n%s\ndoes not contain %s", seed, s)
		}
	}

	// Again: nothing is created twice, and no table is touched.
	before := len(fake.Requests())
	if err := w.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range fake.Requests()[before:] {
		if r.Method != "GET" && !strings.HasSuffix(r.Path, "/jobs") {
			t.Errorf("the second Prepare sent %s %s", r.Method, r.Path)
		}
	}
}

func TestPrepareAddsMissingColumns(t *testing.T) {
	ctx := context.Background()
	w, fake := openFake(t)
	defer w.Close()
	ds := w.Client().Dataset(testDataset)
	if err := ds.Create(ctx, &bigquery.DatasetMetadata{Location: "US"}); err != nil {
		t.Fatal(err)
	}
	old := bigquery.Schema{
		{Name: "project", Type: bigquery.StringFieldType},
		{Name: "created_date", Type: bigquery.DateFieldType},
		{Name: "submission_id", Type: bigquery.StringFieldType},
		{Name: "legacy", Type: bigquery.StringFieldType},
	}
	if err := ds.Table("submissions").Create(ctx, &bigquery.TableMetadata{Schema: old}); err != nil {
		t.Fatal(err)
	}
	if err := w.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	tbl, _ := fake.Table(testProject, testDataset, "submissions")
	got := tableColumns(tbl)
	want := []string{"project", "created_date", "submission_id", "legacy"}
	for _, c := range argos.Submissions.AllColumns() {
		if !slices.Contains(want, c.Name) {
			want = append(want, c.Name)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("columns after Prepare:\n got %v\nwant %v", got, want)
	}
}

func TestFieldTypes(t *testing.T) {
	for _, c := range []struct {
		in       arrow.DataType
		want     bigquery.FieldType
		repeated bool
	}{
		{schema.String, bigquery.StringFieldType, false},
		{schema.Int64, bigquery.IntegerFieldType, false},
		{schema.Float64, bigquery.FloatFieldType, false},
		{schema.Bool, bigquery.BooleanFieldType, false},
		{schema.Timestamp, bigquery.TimestampFieldType, false},
		{schema.Date, bigquery.DateFieldType, false},
		{schema.Binary, bigquery.BytesFieldType, false},
		{arrow.ListOf(schema.String), bigquery.StringFieldType, true},
		{arrow.ListOf(schema.Timestamp), bigquery.TimestampFieldType, true},
	} {
		got, repeated, err := FieldType(c.in)
		if err != nil || got != c.want || repeated != c.repeated {
			t.Errorf("FieldType(%s) = %s, %v, %v; want %s, %v", c.in, got, repeated, err, c.want, c.repeated)
		}
	}
	for _, bad := range []arrow.DataType{arrow.ListOf(arrow.ListOf(schema.String)), arrow.PrimitiveTypes.Uint8, arrow.StructOf()} {
		if _, _, err := FieldType(bad); err == nil {
			t.Errorf("FieldType(%s) succeeded", bad)
		}
	}
}

// partitionFiles writes a partition of submissions (and quarantine rows).
func partitionFiles(t *testing.T, dir string, p load.Partition, quarantined int, ids ...string) load.PartitionFiles {
	t.Helper()
	var subs, quar []map[string]any
	for _, id := range ids {
		subs = append(subs, loadtest.Submission(p, id))
	}
	for i := 0; i < quarantined; i++ {
		quar = append(quar, loadtest.QuarantineRow(p, fmt.Sprintf("page %d", i)))
	}
	base := filepath.Join(dir, p.Project, argos.FormatDate(p.Day))
	return load.PartitionFiles{Partition: p, Files: map[string]string{
		"submissions": loadtest.WriteFile(t, base+"-s.parquet", argos.Submissions, subs),
		"quarantine":  loadtest.WriteFile(t, base+"-q.parquet", schema.Quarantine, quar),
	}}
}

func days(project string, from time.Time, n int) []load.Partition {
	out := make([]load.Partition, n)
	for i := range out {
		out[i] = load.Partition{Project: project, Day: from.AddDate(0, 0, i)}
	}
	return out
}

func jobsOf(fake *bqfake.Server, since int) (loads, queries []*bq.Job) {
	for _, j := range fake.Jobs()[since:] {
		if j.Configuration.Load != nil {
			loads = append(loads, j)
		} else {
			queries = append(queries, j)
		}
	}
	return loads, queries
}

func TestReplaceLoadsABatchWithOneJobPerTable(t *testing.T) {
	ctx := context.Background()
	w, fake := openPrepared(t)
	dir := t.TempDir()
	var parts []load.PartitionFiles
	for i, p := range days("acme", loadtest.Day(2025, 2, 1), 3) {
		parts = append(parts, partitionFiles(t, dir, p, i%2, fmt.Sprintf("s%d", i), fmt.Sprintf("t%d", i)))
	}
	since := len(fake.Jobs())
	if err := w.Replace(ctx, parts); err != nil {
		t.Fatal(err)
	}
	loads, queries := jobsOf(fake, since)
	if len(loads) != 2 || len(queries) != 1 {
		t.Fatalf("%d load jobs and %d queries, want 2 (submissions, quarantine) and 1", len(loads), len(queries))
	}
	wantRows := map[string]int64{"submissions": 6, "quarantine": 1}
	for _, j := range loads {
		l := j.Configuration.Load
		table := strings.TrimPrefix(l.DestinationTable.TableId, stagingPrefix)
		table = table[strings.Index(table, "_")+1:]
		if l.SourceFormat != "PARQUET" || l.WriteDisposition != "WRITE_TRUNCATE" || l.CreateDisposition != "CREATE_NEVER" ||
			l.DestinationTable.ProjectId != testProject || l.DestinationTable.DatasetId != testDataset ||
			!strings.HasPrefix(l.DestinationTable.TableId, stagingPrefix) || len(l.SourceUris) != 0 {
			t.Errorf("load job %s: %+v", j.Id, l)
		}
		if !strings.HasPrefix(j.JobReference.JobId, "kycetl_load_"+table+"_") {
			t.Errorf("load job ID %s does not name table %s", j.JobReference.JobId, table)
		}
		// One file per table for the batch: merged.
		if s := j.Statistics.Load; s.InputFiles != 1 || s.OutputRows != wantRows[table] {
			t.Errorf("load job of %s read %d files, %d rows; want 1 file, %d rows", table, s.InputFiles, s.OutputRows, wantRows[table])
		}
	}
	uploads := 0
	for _, r := range fake.Requests() {
		if r.Path == "/upload/bigquery/v2/projects/kyc-test/jobs" && r.Query.Get("uploadType") == "multipart" && r.Media > 0 {
			uploads++
		}
	}
	if uploads != 2 {
		t.Errorf("%d media uploads of load jobs, want 2", uploads)
	}
	// The transaction: pruned DELETEs and INSERTs from the staging tables.
	q := queries[0].Configuration.Query
	if !strings.Contains(q.Query, "DELETE FROM `kyc-test.kyc.submissions` WHERE created_date IN (DATE '2025-02-01', DATE '2025-02-02', DATE '2025-02-03') AND ((project = @project_0 AND created_date IN (DATE '2025-02-01', DATE '2025-02-02', DATE '2025-02-03')))") {
		t.Errorf("the transaction does not delete exactly the batch's partitions:\n%s", q.Query)
	}
	if len(q.QueryParameters) != 1 || q.QueryParameters[0].Name != "project_0" || q.QueryParameters[0].ParameterValue.Value != "acme" ||
		q.QueryParameters[0].ParameterType.Type != "STRING" {
		t.Errorf("parameters %+v, want project_0 = acme", q.QueryParameters)
	}
	// Staging tables are dropped.
	for _, name := range fake.TableNames(testProject, testDataset) {
		if strings.HasPrefix(name, stagingPrefix) {
			t.Errorf("staging table %s left behind", name)
		}
	}
	// Every day records the batch's three jobs.
	for _, p := range parts {
		jobs, err := w.Outcome(p.Partition)
		if err != nil || len(jobs) != 3 {
			t.Errorf("Outcome(%s) = %v, %v; want 3 jobs", argos.FormatDate(p.Day), jobs, err)
			continue
		}
		for _, j := range jobs {
			if j.Warehouse != "bigquery" || j.Outcome != archive.OutcomeOK || !strings.HasPrefix(j.ID, "kyc-test:US.kycetl_") || j.BytesProcessed <= 0 {
				t.Errorf("job %+v", j)
			}
		}
	}
	if _, err := w.Outcome(load.Partition{Project: "acme", Day: loadtest.Day(2024, 1, 1)}); !errors.Is(err, load.ErrNotReplaced) {
		t.Errorf("Outcome of a partition never replaced: %v", err)
	}
	m := shown(t, fake)
	if got := len(m.partition("submissions", parts[2].Partition)); got != 2 {
		t.Errorf("day 3 shows %d submissions, want 2", got)
	}
}

func TestBackfillJobsAreBoundedByBatches(t *testing.T) {
	ctx := context.Background()
	w, fake := openPrepared(t, WithBatchDays(31))
	dir := t.TempDir()
	var parts []load.PartitionFiles
	acme, beta := days("acme", loadtest.Day(2024, 1, 1), 31), days("beta", loadtest.Day(2024, 1, 1), 31)
	for i := range acme { // interleaved, so that each batch holds both projects
		for _, p := range []load.Partition{acme[i], beta[i]} {
			path := filepath.Join(dir, p.Project+argos.FormatDate(p.Day)+".parquet")
			loadtest.WriteFile(t, path, argos.Submissions, []map[string]any{loadtest.Submission(p, "s")})
			parts = append(parts, load.PartitionFiles{Partition: p, Files: map[string]string{"submissions": path}})
		}
	}
	since := len(fake.Jobs())
	if err := w.Replace(ctx, parts); err != nil {
		t.Fatal(err)
	}
	loads, queries := jobsOf(fake, since)
	// 62 partitions, 2 batches: one load job and one transaction each.
	if len(loads) != 2 || len(queries) != 2 {
		t.Errorf("%d load jobs and %d transactions for 62 days, want 2 and 2", len(loads), len(queries))
	}
	for _, j := range loads {
		if !strings.HasPrefix(j.Configuration.Load.DestinationTable.TableId, stagingPrefix) {
			t.Errorf("a load job into %s: only staging tables take load jobs", j.Configuration.Load.DestinationTable.TableId)
		}
		if j.Statistics.Load.OutputRows != 31 {
			t.Errorf("a batch loaded %d rows, want 31", j.Statistics.Load.OutputRows)
		}
	}
	for _, j := range queries {
		q := j.Configuration.Query.Query
		if n := strings.Count(q, "DELETE FROM `kyc-test.kyc.submissions`"); n != 1 {
			t.Errorf("a transaction deletes from submissions %d times, want once", n)
		}
		if !strings.Contains(q, "(project = @project_0 AND created_date IN (") || !strings.Contains(q, "(project = @project_1 AND created_date IN (") {
			t.Errorf("a batch does not name both projects' days")
		}
	}
	m := shown(t, fake)
	if got := len(m.tables["submissions"]); got != 62 {
		t.Errorf("%d submissions, want 62", got)
	}
}

// failLoads fails every load job into a staging table of table with a
// message BigQuery gives for an unreadable file.
func failLoads(table string) func(*bq.Job) *bq.ErrorProto {
	return func(j *bq.Job) *bq.ErrorProto {
		if l := j.Configuration.Load; l != nil && strings.HasSuffix(l.DestinationTable.TableId, "_"+table) {
			return &bq.ErrorProto{Reason: "invalid", Message: "Error while reading data, error message: Parquet column 'raw' has type BYTE_ARRAY which does not match the target cpp_type INT64.",
				Location: "gs://kycetl/quarantine.parquet"}
		}
		return nil
	}
}

func TestFailedJobFailsItsDayOnly(t *testing.T) {
	ctx := context.Background()
	w, fake := openPrepared(t)
	dir := t.TempDir()
	ps := days("acme", loadtest.Day(2025, 2, 1), 3)
	if err := w.Replace(ctx, []load.PartitionFiles{partitionFiles(t, dir+"/v1", ps[1], 0, "old")}); err != nil {
		t.Fatal(err)
	}
	fake.FailJobs(failLoads("quarantine"))
	// Only the second day has quarantine rows, so only its load fails.
	parts := []load.PartitionFiles{
		partitionFiles(t, dir, ps[0], 0, "a"), partitionFiles(t, dir, ps[1], 2, "b"), partitionFiles(t, dir, ps[2], 0, "c"),
	}
	err := w.Replace(ctx, parts)
	if err == nil {
		t.Fatal("Replace succeeded")
	}
	for _, s := range []string{"project=acme created_date=2025-02-02", "loading table quarantine",
		"Error while reading data, error message: Parquet column 'raw' has type BYTE_ARRAY which does not match the target cpp_type INT64. (invalid)"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
	if strings.Contains(err.Error(), "2025-02-01") || strings.Contains(err.Error(), "2025-02-03") {
		t.Errorf("error names a good day: %v", err)
	}
	m := shown(t, fake)
	for i, want := range []string{"a", "old", "c"} {
		rows := m.partition("submissions", ps[i])
		if len(rows) != 1 || rows[0]["submission_id"] != want {
			t.Errorf("day %d shows %v, want %s", i+1, rows, want)
		}
	}
	jobs, dayErr := w.Outcome(ps[1])
	if dayErr == nil || !strings.Contains(dayErr.Error(), "Parquet column 'raw'") {
		t.Errorf("Outcome error of the bad day: %v", dayErr)
	}
	failed := 0
	for _, j := range jobs {
		if j.Outcome == archive.OutcomeFailed {
			failed++
		}
	}
	// At least the batch's attempt and the day's own; a sibling load job
	// cancelled by the failure may be recorded failed too.
	if failed < 2 {
		t.Errorf("the bad day records %d failed jobs, want at least 2: %+v", failed, jobs)
	}
	if jobs, err := w.Outcome(ps[2]); err != nil || len(jobs) < 2 {
		t.Errorf("a good day: %v, %v", jobs, err)
	}
	for _, name := range fake.TableNames(testProject, testDataset) {
		if strings.HasPrefix(name, stagingPrefix) {
			t.Errorf("staging table %s left behind", name)
		}
	}

	// A retry of the day repairs it.
	fake.FailJobs(nil)
	if err := w.Replace(ctx, parts[1:2]); err != nil {
		t.Fatal(err)
	}
	if rows := shown(t, fake).partition("submissions", ps[1]); len(rows) != 1 || rows[0]["submission_id"] != "b" {
		t.Errorf("the retried day shows %v", rows)
	}
}

func TestFailedTransactionCarriesBigQuerysMessage(t *testing.T) {
	ctx := context.Background()
	w, fake := openPrepared(t)
	p := load.Partition{Project: "acme", Day: loadtest.Day(2025, 2, 1)}
	fake.FailJobs(failDay(p))
	err := w.Replace(ctx, []load.PartitionFiles{partitionFiles(t, t.TempDir(), p, 0, "s")})
	if err == nil || !strings.Contains(err.Error(), concurrentUpdate+" (invalidQuery)") || !strings.Contains(err.Error(), "in one transaction") {
		t.Errorf("error %v does not carry BigQuery's message", err)
	}
	jobs, _ := w.Outcome(p)
	if len(jobs) != 2 || jobs[1].Outcome != archive.OutcomeFailed || jobs[0].Outcome != archive.OutcomeOK {
		t.Errorf("jobs %+v, want the load ok and the transaction failed", jobs)
	}
}

func TestGCSStaging(t *testing.T) {
	ctx := context.Background()
	fake := bqfake.New()
	t.Cleanup(fake.Close)
	w := openOn(t, fake, Config{Project: testProject, Dataset: testDataset, Staging: "gs://kycetl-staging/loads/"})
	defer w.Close()
	if err := w.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var parts []load.PartitionFiles
	for _, p := range days("acme", loadtest.Day(2025, 2, 1), 2) {
		parts = append(parts, partitionFiles(t, dir, p, 0, "s1", "s2"))
	}
	since := len(fake.Jobs())
	if err := w.Replace(ctx, parts); err != nil {
		t.Fatal(err)
	}
	loads, _ := jobsOf(fake, since)
	if len(loads) != 1 {
		t.Fatalf("%d load jobs, want 1", len(loads))
	}
	uris := loads[0].Configuration.Load.SourceUris
	if len(uris) != 1 || !strings.HasPrefix(uris[0], "gs://kycetl-staging/loads/"+stagingPrefix) || !strings.HasSuffix(uris[0], "_submissions.parquet") {
		t.Errorf("source URIs %v", uris)
	}
	for _, r := range fake.Requests() {
		if strings.HasPrefix(r.Path, "/upload/bigquery/") {
			t.Errorf("a load file went with the job request: %s", r.Path)
		}
	}
	if objs := fake.Objects(); len(objs) != 0 {
		t.Errorf("staged objects left behind: %v", objs)
	}
	if got := len(shown(t, fake).tables["submissions"]); got != 4 {
		t.Errorf("%d submissions, want 4", got)
	}
}

func TestLargeFilesUploadResumably(t *testing.T) {
	ctx := context.Background()
	const chunk = 256 << 10 // the smallest chunk Google's upload protocol takes
	for _, staging := range []string{"", "gs://kycetl-staging"} {
		fake := bqfake.New()
		t.Cleanup(fake.Close)
		w := openOn(t, fake, Config{Project: testProject, Dataset: testDataset, Staging: staging}, func(w *Warehouse) { w.chunkSize = chunk })
		defer w.Close()
		if err := w.Prepare(ctx); err != nil {
			t.Fatal(err)
		}
		p := load.Partition{Project: "acme", Day: loadtest.Day(2025, 2, 1)}
		raw := make([]byte, 3*chunk) // random, so that compression keeps it large
		if _, err := rand.Read(raw); err != nil {
			t.Fatal(err)
		}
		row := loadtest.QuarantineRow(p, "big")
		row["raw"] = base64.StdEncoding.EncodeToString(raw)
		f := loadtest.WriteFile(t, filepath.Join(t.TempDir(), "q.parquet"), schema.Quarantine, []map[string]any{row})
		if err := w.Replace(ctx, []load.PartitionFiles{{Partition: p, Files: map[string]string{"quarantine": f}}}); err != nil {
			t.Fatal(err)
		}
		chunks := 0
		for _, r := range fake.Requests() {
			if strings.HasPrefix(r.Path, "/upload/session/") {
				chunks++
			}
		}
		if chunks < 3 {
			t.Errorf("staging %q: %d chunks uploaded, want at least 3", staging, chunks)
		}
		rows := shown(t, fake).partition("quarantine", p)
		if len(rows) != 1 || rows[0]["raw"] != row["raw"] {
			t.Errorf("staging %q: the large row did not arrive whole", staging)
		}
	}
}

func TestMergeFillsColumnsAFileLacks(t *testing.T) {
	ctx := context.Background()
	w, fake := openPrepared(t)
	dir := t.TempDir()
	ps := days("acme", loadtest.Day(2025, 2, 1), 2)
	// A file written before submissions had its extra column.
	older := &schema.Table{Name: "submissions", Shape: schema.PerSubmission, Columns: argos.Submissions.Columns}
	first := load.PartitionFiles{Partition: ps[0], Files: map[string]string{
		"submissions": loadtest.WriteFile(t, filepath.Join(dir, "old.parquet"), older, []map[string]any{loadtest.Submission(ps[0], "s1")}),
	}}
	if err := w.Replace(ctx, []load.PartitionFiles{first, partitionFiles(t, dir, ps[1], 0, "s2")}); err != nil {
		t.Fatal(err)
	}
	rows := shown(t, fake).tables["submissions"]
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	for _, r := range rows {
		if v, ok := r["extra"]; !ok || v != nil {
			t.Errorf("row %v: extra is not NULL", r["submission_id"])
		}
	}
}

func TestRecordRunsTypesItsParameters(t *testing.T) {
	w, _ := openFake(t)
	defer w.Close()
	t0 := time.Date(2026, 11, 23, 11, 4, 0, 0, time.UTC)
	m := &archive.Manifest{RunID: "R1", Command: "run", WindowFrom: "2026-11-16", WindowTo: "2026-11-16"}
	d := archive.DayRecord{Project: "acme", Day: "2026-11-16", StartedAt: t0, FinishedAt: t0.Add(2 * time.Second), Outcome: archive.OutcomeOK,
		Jobs: []archive.Job{{Warehouse: Name, ID: "kyc-test:US.j1", Outcome: archive.OutcomeOK, BytesProcessed: 42}}}
	text, params, err := w.RecordRunsSQL(m, []archive.DayRecord{d})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]any{}
	for _, p := range params {
		byName[p.Name] = p.Value
	}
	for name, want := range map[string]any{
		"r0_day":              bigquery.NullDate{Date: mustCivil(t, "2026-11-16"), Valid: true},
		"r0_started_at":       bigquery.NullTimestamp{Timestamp: t0, Valid: true},
		"r0_duration_seconds": bigquery.NullFloat64{Float64: 2, Valid: true},
		"r0_error":            bigquery.NullString{},
		"r0_pages":            bigquery.NullInt64{Valid: true},
		"run_id":              "R1",
		"project_0":           "acme",
	} {
		if got := byName[name]; got != want {
			t.Errorf("parameter %s = %#v, want %#v", name, got, want)
		}
	}
	if !strings.Contains(text, "DELETE FROM `kyc-test.kyc.load_runs` WHERE run_id = @run_id AND day IN (DATE '2026-11-16')") {
		t.Errorf("the ledger's DELETE:\n%s", text)
	}
	if _, ok := schema.LoadRuns.Column("jobs_json"); ok {
		if v, _ := byName["r0_jobs_json"].(bigquery.NullString); !strings.Contains(v.StringVal, `"id":"kyc-test:US.j1"`) {
			t.Errorf("jobs_json = %#v", v)
		}
	}
	bad := d
	bad.Day = "2026-13-01"
	if _, _, err := w.RecordRunsSQL(m, []archive.DayRecord{bad}); err == nil {
		t.Error("a bad day was accepted")
	}
}

// TestScriptsGolden pins the transactions kycetl sends.
func TestScriptsGolden(t *testing.T) {
	w, _ := openFake(t)
	defer w.Close()
	// Three ARGOS days and a Fractal snapshot of one of them: each table's
	// DELETE names the partitions that fill it.
	parts := append(argosDays(
		load.Partition{Project: "beta", Day: loadtest.Day(2025, 2, 1)},
		load.Partition{Project: "acme", Day: loadtest.Day(2025, 2, 2)},
		load.Partition{Project: "acme", Day: loadtest.Day(2025, 2, 1)},
	), fractalDay(load.Partition{Source: "fractal", Project: "acme", Day: loadtest.Day(2025, 2, 2)}))
	replaceSQL, params := w.ReplaceSQL(parts, map[string]string{"quarantine": "_kycetl_stage_0_quarantine"})
	runsSQL, _, err := w.RecordRunsSQL(&archive.Manifest{RunID: "R"}, []archive.DayRecord{{Project: "acme", Day: "2025-02-01", Outcome: "ok"}})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "-- replace (parameters: %s = %v, %s = %v)\n%s\n\n-- record runs\n%s\n\n-- seed credit rates\n%s\n",
		params[0].Name, params[0].Value, params[1].Name, params[1].Value, replaceSQL, runsSQL, w.SeedCreditRatesSQL())
	golden := filepath.Join("testdata", "scripts.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if b.String() != string(want) {
		t.Errorf("the scripts differ from %s (run go test -update if the change is meant):\n%s", golden, b.String())
	}
}

func TestViewDDLMatchesTheSharedGolden(t *testing.T) {
	// sql/testdata/bigquery.golden renders references as `my-project.kyc.name`.
	w := &Warehouse{cfg: Config{Project: "my-project", Dataset: "kyc"}}
	golden, err := os.ReadFile(filepath.Join("..", "..", "sql", "testdata", "bigquery.golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range sql.Views() {
		ddl, err := w.ViewDDL(v)
		if err != nil {
			t.Fatal(err)
		}
		head, body, _ := strings.Cut(ddl, "\n")
		if head != "CREATE OR REPLACE VIEW `my-project.kyc."+v.Name+"` AS" || !strings.Contains(string(golden), "-- view "+v.Name+"\n"+body) {
			t.Errorf("the DDL of %s is not the golden rendering", v.Name)
		}
	}
}

func TestParseURL(t *testing.T) {
	good := map[string]Config{
		"bigquery://my-project/kyc":                                               {Project: "my-project", Dataset: "kyc"},
		"bigquery://example.com:my-project/kyc_prod":                              {Project: "example.com:my-project", Dataset: "kyc_prod"},
		"bigquery://my-project/kyc?location=EU":                                   {Project: "my-project", Dataset: "kyc", Location: "EU"},
		"bigquery://my-project/kyc?location=asia-northeast3&staging=gs://b-1/p/q": {Project: "my-project", Dataset: "kyc", Location: "asia-northeast3", Staging: "gs://b-1/p/q"},
	}
	for in, want := range good {
		got, err := ParseURL(in)
		if err != nil || got != want {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "duckdb", "bigquery://", "bigquery://my-project", "bigquery://my-project/", "bigquery://My-Project/kyc",
		"bigquery://my-project/k-y-c", "bigquery://my-project/kyc/x", "bigquery://my-project/kyc?region=EU", "bigquery://my-project/kyc?staging=s3://b/p",
		"bigquery://my-project/kyc?location=EU&location=US", "bigquery://user@my-project/kyc", "bigquery://p/kyc", "bigquery://my-project/kyc?staging=gs://"} {
		if got, err := ParseURL(in); err == nil {
			t.Errorf("ParseURL(%q) = %+v, want an error", in, got)
		}
	}
}

func FuzzParseURL(f *testing.F) {
	f.Add("bigquery://my-project/kyc?location=EU&staging=gs://bucket/prefix")
	f.Add("bigquery://example.com:my-project/kyc")
	f.Add("bigquery://%zz/kyc")
	f.Fuzz(func(t *testing.T, s string) {
		cfg, err := ParseURL(s)
		if err != nil {
			return
		}
		if cfg.Validate() != nil || cfg.Project == "" || cfg.Dataset == "" {
			t.Errorf("ParseURL(%q) accepted %+v", s, cfg)
		}
	})
}

// TestTableMetadataPartitionsOnTheTablesDay: a table dated by a column of
// its own is DAY-partitioned on that column.
func TestTableMetadataPartitionsOnTheTablesDay(t *testing.T) {
	snapshot := schema.Column{Name: "snapshot_date", Type: schema.Date, Doc: "UTC day of the pull."}
	for _, tc := range []struct {
		t    *schema.Table
		want string
	}{
		{&schema.Table{Name: "snapshots", Day: &snapshot, Columns: []schema.Column{{Name: "n", Type: schema.Int64, Doc: "n"}}}, "snapshot_date"},
		{&schema.Table{Name: "created", Columns: []schema.Column{{Name: "n", Type: schema.Int64, Doc: "n"}}}, "created_date"},
	} {
		md, err := TableMetadata(tc.t)
		if err != nil {
			t.Fatal(err)
		}
		if md.TimePartitioning == nil || md.TimePartitioning.Field != tc.want || md.Schema[1].Name != tc.want {
			t.Errorf("%s: partitioned on %+v, second column %s; want %s", tc.t.Name, md.TimePartitioning, md.Schema[1].Name, tc.want)
		}
	}
}

// TestConcurrentAbortIsRetried: a transaction that a concurrent one
// aborted is run again, as a new job, and the day loads; any other failure
// is not tried again.
func TestConcurrentAbortIsRetried(t *testing.T) {
	ctx := context.Background()
	w, fake := openPrepared(t)
	p := load.Partition{Project: "acme", Day: loadtest.Day(2025, 2, 1)}
	var mu sync.Mutex
	aborts, other := 0, false
	fake.FailJobs(func(j *bq.Job) *bq.ErrorProto {
		mu.Lock()
		defer mu.Unlock()
		if failDay(p)(j) == nil {
			return nil
		}
		if other {
			aborts++
			return &bq.ErrorProto{Reason: "invalidQuery", Message: "Syntax error: Unexpected end of script"}
		}
		if aborts < fastRetry.MaxTries-1 {
			aborts++
			return &bq.ErrorProto{Reason: "invalidQuery", Message: concurrentUpdate}
		}
		return nil
	})
	if err := w.Replace(ctx, []load.PartitionFiles{partitionFiles(t, t.TempDir(), p, 0, "s")}); err != nil {
		t.Fatalf("Replace after %d aborts: %v", aborts, err)
	}
	if aborts != fastRetry.MaxTries-1 {
		t.Errorf("%d aborted tries, want %d", aborts, fastRetry.MaxTries-1)
	}
	mu.Lock()
	aborts, other = 0, true
	mu.Unlock()
	err := w.Replace(ctx, []load.PartitionFiles{partitionFiles(t, t.TempDir(), p, 0, "s2")})
	if err == nil || errors.Is(err, ErrConcurrentUpdate) || aborts != 1 {
		t.Errorf("another failure: %v after %d tries, want one try", err, aborts)
	}
}
