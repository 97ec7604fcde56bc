package bigquery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"cloud.google.com/go/bigquery"
	"golang.org/x/sync/errgroup"
	"google.golang.org/api/googleapi"
	storage "google.golang.org/api/storage/v1"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/transform/schema"
)

const (
	// stagingTTL is how long a staging table outlives a crash: it is
	// dropped after its batch, and expires by itself otherwise.
	stagingTTL = 24 * time.Hour
	// stagingPrefix starts every staging table's name.
	stagingPrefix = "_kycetl_stage_"
	// loadParallelism is how many load jobs of a batch run at once.
	loadParallelism = 4
	// cleanupTimeout bounds the dropping of a batch's staging tables.
	cleanupTimeout = time.Minute
)

// partKey is a partition as a map key.
type partKey struct{ source, project, day string }

func keyOf(p load.Partition) partKey { return partKey{p.Source, p.Project, argos.FormatDate(p.Day)} }

// outcome is what a Replace did to one partition.
type outcome struct {
	jobs []archive.Job
	err  error
}

// checked is a partition whose files passed checkFile.
type checked struct {
	load.PartitionFiles
	tables map[string]*schema.Table
	rows   map[string]int64
}

// Replace loads the partitions in batches of BatchDays: per batch, one load
// job per table with rows into a staging table, then one transaction that
// deletes the batch's partitions from every partitioned table and inserts
// the staged rows. When a batch fails, its days are loaded one by one, so
// that a bad day fails alone with BigQuery's message and the others go on.
// The error joins every failed partition's error (each names the table,
// project and day); Outcome tells them apart.
func (w *Warehouse) Replace(ctx context.Context, parts []load.PartitionFiles) error {
	var errs []error
	for len(parts) > 0 {
		n := min(w.batchDays, len(parts))
		chunk := parts[:n]
		if err := ctx.Err(); err != nil {
			err = fmt.Errorf("replacing partitions: %w", err)
			for _, p := range parts {
				w.setOutcome(p.Partition, nil, err)
			}
			errs = append(errs, err)
			break
		}
		parts = parts[n:]
		errs = append(errs, w.replaceChunk(ctx, chunk)...)
	}
	return errors.Join(errs...)
}

func (w *Warehouse) setOutcome(p load.Partition, jobs []archive.Job, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.outcomes[keyOf(p)] = outcome{jobs: append([]archive.Job(nil), jobs...), err: err}
}

func partitionErr(p load.Partition, err error) error {
	return fmt.Errorf("replacing partition project=%s created_date=%s: %w", p.Project, argos.FormatDate(p.Day), err)
}

func (w *Warehouse) replaceChunk(ctx context.Context, chunk []load.PartitionFiles) []error {
	var errs []error
	fail := func(p load.Partition, jobs []archive.Job, err error) {
		err = partitionErr(p, err)
		w.setOutcome(p, jobs, err)
		errs = append(errs, err)
	}
	var good []checked
	seen := map[partKey]bool{}
	for _, p := range chunk {
		if k := keyOf(p.Partition); seen[k] {
			fail(p.Partition, nil, errors.New("partition given twice in one Replace"))
			continue
		} else {
			seen[k] = true
		}
		c, err := check(ctx, p)
		if err != nil {
			fail(p.Partition, nil, err)
			continue
		}
		good = append(good, c)
	}
	if len(good) == 0 {
		return errs
	}
	jobs, err := w.replaceBatch(ctx, good)
	switch {
	case err == nil:
		for _, c := range good {
			w.setOutcome(c.Partition, jobs, nil)
		}
	case len(good) == 1 || ctx.Err() != nil:
		for _, c := range good {
			fail(c.Partition, jobs, err)
		}
	default:
		w.log.Warn().Str("error", err.Error()).Int("days", len(good)).Msg("batch failed; loading its days one by one")
		for _, c := range good {
			more, err := w.replaceBatch(ctx, []checked{c})
			all := append(append([]archive.Job(nil), jobs...), more...)
			if err != nil {
				fail(c.Partition, all, err)
				continue
			}
			w.setOutcome(c.Partition, all, nil)
		}
	}
	return errs
}

// check checks every file of a partition before anything is sent.
func check(ctx context.Context, p load.PartitionFiles) (checked, error) {
	c := checked{PartitionFiles: p, tables: map[string]*schema.Table{}, rows: map[string]int64{}}
	names := make([]string, 0, len(p.Files))
	for name := range p.Files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t, rows, err := checkFile(ctx, name, p.Files[name], p.Project, p.Day)
		if err != nil {
			return checked{}, fmt.Errorf("loading table %s from %s: %w", name, p.Files[name], err)
		}
		c.tables[name], c.rows[name] = t, rows
	}
	return c, nil
}

func newBatchID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// replaceBatch stages the batch's tables and swaps its partitions in. It
// returns every job it ran, in order: the loads by table, then the
// transaction.
func (w *Warehouse) replaceBatch(ctx context.Context, parts []checked) ([]archive.Job, error) {
	id := newBatchID()
	files := map[string][]string{} // table → files with rows, in partition order
	tables := map[string]*schema.Table{}
	for _, c := range parts {
		for name, path := range c.Files {
			if c.rows[name] > 0 {
				files[name] = append(files[name], path)
				tables[name] = c.tables[name]
			}
		}
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)

	dir, err := os.MkdirTemp(w.tempDir, "kycetl-bigquery-")
	if err != nil {
		return nil, fmt.Errorf("making a directory for load files: %w", err)
	}
	defer os.RemoveAll(dir)

	loads := make([]archive.Job, len(names))
	var mu sync.Mutex
	staged := map[string]string{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(loadParallelism)
	for i, name := range names {
		g.Go(func() error {
			stage := stagingPrefix + id + "_" + name
			job, created, err := w.stage(gctx, tables[name], stage, files[name], dir, id)
			mu.Lock()
			defer mu.Unlock()
			loads[i] = job
			if created {
				staged[name] = stage
			}
			if err != nil {
				return fmt.Errorf("loading table %s: %w", name, err)
			}
			return nil
		})
	}
	err = g.Wait()
	defer w.dropStaging(ctx, staged)
	var jobs []archive.Job
	for _, j := range loads {
		if j.ID != "" {
			jobs = append(jobs, j)
		}
	}
	if err != nil {
		return jobs, err
	}
	pp := make([]load.PartitionFiles, len(parts))
	for i, c := range parts {
		pp[i] = c.PartitionFiles
	}
	text, params := w.ReplaceSQL(pp, staged)
	w.scripts.Lock()
	job, err := w.query(ctx, "kycetl_replace_"+id, text, params)
	w.scripts.Unlock()
	if job.ID != "" {
		jobs = append(jobs, job)
	}
	if err != nil {
		return jobs, fmt.Errorf("replacing the partitions in one transaction: %w", err)
	}
	return jobs, nil
}

// stage creates a staging table for t and loads files into it with one
// load job; several files are merged into one first. created says whether
// the staging table exists (and must be dropped).
func (w *Warehouse) stage(ctx context.Context, t *schema.Table, stage string, files []string, dir, id string) (job archive.Job, created bool, err error) {
	sc, err := Schema(t)
	if err != nil {
		return archive.Job{}, false, err
	}
	tbl := w.client.Dataset(w.cfg.Dataset).Table(stage)
	if err := ctx.Err(); err != nil {
		return archive.Job{}, false, fmt.Errorf("creating staging table %s: %w", stage, err)
	}
	// The creation is not cancelled with ctx (a sibling load failing
	// cancels it): cut mid-request, its answer would be lost while the table
	// is made all the same, after the drop that was meant for it. It is
	// short, and bounded.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	err = tbl.Create(cctx, &bigquery.TableMetadata{
		Schema:         sc,
		ExpirationTime: w.now().Add(stagingTTL),
		Description:    "kycetl staging table of " + t.Name + ": dropped after its load, expires otherwise.",
	})
	cancel()
	if err != nil {
		return archive.Job{}, false, fmt.Errorf("creating staging table %s: %s", stage, message(err))
	}
	path := files[0]
	if len(files) > 1 {
		path = filepath.Join(dir, t.Name+".parquet")
		if err := mergeParquet(ctx, path, t, files); err != nil {
			return archive.Job{}, true, err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return archive.Job{}, true, fmt.Errorf("opening load file: %w", err)
	}
	defer f.Close()
	var src bigquery.LoadSource
	if w.gcs != nil {
		uri, err := w.upload(ctx, stage, f)
		if err != nil {
			return archive.Job{}, true, err
		}
		defer w.deleteObject(ctx, uri)
		ref := bigquery.NewGCSReference(uri)
		ref.SourceFormat = bigquery.Parquet
		src = ref
	} else {
		rs := bigquery.NewReaderSource(f)
		rs.SourceFormat = bigquery.Parquet
		src = rs
	}
	loader := tbl.LoaderFrom(src)
	loader.WriteDisposition = bigquery.WriteTruncate
	loader.CreateDisposition = bigquery.CreateNever
	loader.JobIDConfig = bigquery.JobIDConfig{JobID: "kycetl_load_" + t.Name + "_" + id, AddJobIDSuffix: true}
	if w.chunkSize > 0 {
		loader.MediaOptions = []googleapi.MediaOption{googleapi.ChunkSize(w.chunkSize)}
	}
	job, err = w.run(ctx, loader.Run)
	return job, true, err
}

// dropStaging drops a batch's staging tables, even when ctx is done; a
// table that cannot be dropped expires by itself.
func (w *Warehouse) dropStaging(ctx context.Context, staged map[string]string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	for _, stage := range staged {
		if err := w.client.Dataset(w.cfg.Dataset).Table(stage).Delete(ctx); err != nil && !isStatus(err, http.StatusNotFound) {
			w.log.Warn().Str("table", stage).Str("error", message(err)).Msg("dropping staging table; it expires by itself")
		}
	}
}

// upload copies a load file to the staging bucket.
func (w *Warehouse) upload(ctx context.Context, stage string, f *os.File) (string, error) {
	bucket, prefix, err := splitGCS(w.cfg.Staging)
	if err != nil {
		return "", err
	}
	name := stage + ".parquet"
	if prefix != "" {
		name = prefix + "/" + name
	}
	call := w.gcs.Objects.Insert(bucket, &storage.Object{Name: name, ContentType: "application/vnd.apache.parquet"}).Context(ctx)
	opts := []googleapi.MediaOption{googleapi.ContentType("application/vnd.apache.parquet")}
	if w.chunkSize > 0 {
		opts = append(opts, googleapi.ChunkSize(w.chunkSize))
	}
	if _, err := call.Media(f, opts...).Do(); err != nil {
		return "", fmt.Errorf("uploading load file to gs://%s/%s: %s", bucket, name, message(err))
	}
	return "gs://" + bucket + "/" + name, nil
}

// deleteObject removes a staged load file.
func (w *Warehouse) deleteObject(ctx context.Context, uri string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	bucket, name, _ := splitGCS(uri)
	if err := w.gcs.Objects.Delete(bucket, name).Context(ctx).Do(); err != nil {
		w.log.Warn().Str("object", uri).Str("error", message(err)).Msg("deleting staged load file")
	}
}
