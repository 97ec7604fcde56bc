// Package bigquery is the BigQuery warehouse: one dataset holding the
// schema's tables (DAY-partitioned on created_date and clustered), the views
// of sql/ and the load_runs ledger, loaded from the archive's Parquet files
// with load jobs, never streaming inserts.
//
// A Replace stages each table's files of a batch of partitions in a
// short-lived table with one load job, then swaps the batch's partitions in
// one multi-statement transaction (DELETE of exactly those partitions, with
// literal dates so that BigQuery prunes, then INSERT from the staging
// tables). Readers see a partition's previous version or its new one, never
// a mix; the number of jobs grows with the number of batches, not days.
package bigquery

import (
	"context"
	gosql "database/sql"
	"errors"
	"fmt"
	"github.com/kycetl/kycetl/extract/retry"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/bigquery"
	"github.com/rs/zerolog"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	storage "google.golang.org/api/storage/v1"

	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/sql"
	"github.com/kycetl/kycetl/transform/schema"
)

// Scheme is the URL scheme of a BigQuery warehouse: bigquery://PROJECT/DATASET.
const Scheme = "bigquery"

// Name is the warehouse name recorded with every job (archive.Job.Warehouse).
const Name = "bigquery"

// DefaultLocation is where a missing dataset is created.
const DefaultLocation = "US"

// DefaultBatchDays is how many partitions one batch of Replace loads: a
// month, so that a two-year backfill takes 24 batches, each one load job per
// table (into a fresh staging table) and one transaction.
const DefaultBatchDays = 31

// Config names the dataset and how to reach it.
type Config struct {
	Project  string // Google Cloud project holding the dataset; jobs are billed to it
	Dataset  string
	Location string // where the dataset is created when missing; jobs run there (default US)
	// Staging, when set (gs://bucket/prefix), routes load files through
	// Cloud Storage instead of uploading them with the load job request.
	Staging string
}

var (
	projectRe  = regexp.MustCompile(`^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	datasetRe  = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	locationRe = regexp.MustCompile(`^[A-Za-z0-9-]{2,40}$`)
	bucketRe   = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$`)
)

// ParseURL reads a warehouse URL: bigquery://PROJECT/DATASET, optionally
// with ?location=EU and &staging=gs://bucket/prefix.
func ParseURL(raw string) (Config, error) {
	// Not url.Parse: a domain-scoped project (example.com:my-project)
	// reads as a host with a bad port.
	rest, ok := strings.CutPrefix(raw, Scheme+"://")
	if !ok {
		return Config{}, fmt.Errorf("reading warehouse URL %q: the scheme is not %s://", raw, Scheme)
	}
	rest, rawQuery, _ := strings.Cut(rest, "?")
	project, dataset, ok := strings.Cut(rest, "/")
	if !ok {
		return Config{}, fmt.Errorf("reading warehouse URL %q: want %s://PROJECT/DATASET[?location=L&staging=gs://BUCKET/PREFIX]", raw, Scheme)
	}
	cfg := Config{Project: project, Dataset: dataset}
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return Config{}, fmt.Errorf("reading warehouse URL %q: %w", raw, err)
	}
	for k, v := range query {
		if len(v) != 1 {
			return Config{}, fmt.Errorf("reading warehouse URL %q: %s given %d times", raw, k, len(v))
		}
		switch k {
		case "location":
			cfg.Location = v[0]
		case "staging":
			cfg.Staging = v[0]
		default:
			return Config{}, fmt.Errorf("reading warehouse URL %q: unknown parameter %q (want location or staging)", raw, k)
		}
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("reading warehouse URL %q: %w", raw, err)
	}
	return cfg, nil
}

// Validate checks the names.
func (c Config) Validate() error {
	if !projectRe.MatchString(c.Project) {
		return fmt.Errorf("project %q is not a Google Cloud project ID", c.Project)
	}
	if !datasetRe.MatchString(c.Dataset) || len(c.Dataset) > 1024 {
		return fmt.Errorf("dataset %q is not a BigQuery dataset name (letters, digits and underscores)", c.Dataset)
	}
	if c.Location != "" && !locationRe.MatchString(c.Location) {
		return fmt.Errorf("location %q is not a BigQuery location", c.Location)
	}
	if c.Staging != "" {
		if _, _, err := splitGCS(c.Staging); err != nil {
			return err
		}
	}
	return nil
}

// splitGCS splits gs://bucket/prefix into the bucket and the prefix
// (without a trailing slash).
func splitGCS(uri string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(uri, "gs://")
	if !ok {
		return "", "", fmt.Errorf("staging %q is not a gs://bucket/prefix URI", uri)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if !bucketRe.MatchString(bucket) {
		return "", "", fmt.Errorf("staging %q: %q is not a Cloud Storage bucket name", uri, bucket)
	}
	return bucket, strings.Trim(prefix, "/"), nil
}

// Warehouse is a BigQuery dataset holding the warehouse.
type Warehouse struct {
	cfg         Config
	client      *bigquery.Client
	gcs         *storage.Service // nil without staging
	log         zerolog.Logger
	batchDays   int
	tempDir     string
	chunkSize   int
	clientOpts  []option.ClientOption
	storageOpts []option.ClientOption
	now         func() time.Time
	retry       retry.Policy // see WithRetry

	// scripts serialises the transactions: two concurrent transactions on
	// one table make BigQuery abort one of them.
	scripts sync.Mutex

	mu       sync.Mutex
	outcomes map[partKey]outcome

	queryOnce sync.Once
	queryDB   *gosql.DB // see QueryDB
}

var _ load.Warehouse = (*Warehouse)(nil)

// Option configures a Warehouse.
type Option func(*Warehouse)

// WithLogger sets the logger (default: none).
func WithLogger(l zerolog.Logger) Option { return func(w *Warehouse) { w.log = l } }

// WithClientOptions adds options to the BigQuery client: credentials, or an
// endpoint (tests inject an in-process fake this way).
func WithClientOptions(opts ...option.ClientOption) Option {
	return func(w *Warehouse) { w.clientOpts = append(w.clientOpts, opts...) }
}

// WithStorageOptions adds options to the Cloud Storage client used for
// staging.
func WithStorageOptions(opts ...option.ClientOption) Option {
	return func(w *Warehouse) { w.storageOpts = append(w.storageOpts, opts...) }
}

// WithBatchDays sets how many partitions a batch loads (default
// DefaultBatchDays).
func WithBatchDays(n int) Option { return func(w *Warehouse) { w.batchDays = n } }

// WithTempDir sets where merged load files are written (default: the
// system's temporary directory).
func WithTempDir(dir string) Option { return func(w *Warehouse) { w.tempDir = dir } }

// WithClock sets the clock used for staging tables' expiry.
func WithClock(now func() time.Time) Option { return func(w *Warehouse) { w.now = now } }

// WithRetry sets how a query job that a concurrent transaction aborted is
// tried again (default retry.DefaultPolicy: backoff with jitter).
func WithRetry(p retry.Policy) Option { return func(w *Warehouse) { w.retry = p } }

// Open connects to the dataset named by cfg; nothing is created until
// Prepare. Credentials are Google's Application Default Credentials unless
// client options say otherwise.
func Open(ctx context.Context, cfg Config, opts ...Option) (*Warehouse, error) {
	if cfg.Location == "" {
		cfg.Location = DefaultLocation
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("opening BigQuery warehouse %s.%s: %w", cfg.Project, cfg.Dataset, err)
	}
	w := &Warehouse{cfg: cfg, log: zerolog.Nop(), batchDays: DefaultBatchDays, tempDir: os.TempDir(), now: time.Now, outcomes: map[partKey]outcome{},
		retry: retry.DefaultPolicy}
	for _, o := range opts {
		o(w)
	}
	if err := w.retry.Validate(); err != nil {
		return nil, fmt.Errorf("opening BigQuery warehouse %s.%s: retry policy: %w", cfg.Project, cfg.Dataset, err)
	}
	if w.batchDays < 1 {
		return nil, fmt.Errorf("opening BigQuery warehouse %s.%s: batch of %d days", cfg.Project, cfg.Dataset, w.batchDays)
	}
	client, err := bigquery.NewClient(ctx, cfg.Project, w.clientOpts...)
	if err != nil {
		return nil, fmt.Errorf("opening BigQuery warehouse %s.%s: %w", cfg.Project, cfg.Dataset, err)
	}
	client.Location = cfg.Location
	w.client = client
	if cfg.Staging != "" {
		opts := append([]option.ClientOption{option.WithScopes(storage.DevstorageReadWriteScope)}, w.storageOpts...)
		w.gcs, err = storage.NewService(ctx, opts...)
		if err != nil {
			client.Close()
			return nil, fmt.Errorf("opening Cloud Storage staging %s: %w", cfg.Staging, err)
		}
	}
	return w, nil
}

// Config is the dataset the warehouse loads.
func (w *Warehouse) Config() Config { return w.cfg }

// Client is the BigQuery client, for queries of the views.
func (w *Warehouse) Client() *bigquery.Client { return w.client }

// BatchDays is how many partitions the warehouse would take per Replace:
// jobs are counted per batch, not per day.
func (w *Warehouse) BatchDays() int { return w.batchDays }

// Close releases the client.
func (w *Warehouse) Close() error {
	if w.queryDB != nil {
		w.queryDB.Close() // closes nothing of BigQuery's: its connections are the warehouse
	}
	if err := w.client.Close(); err != nil {
		return fmt.Errorf("closing BigQuery warehouse: %w", err)
	}
	return nil
}

// ref is the quoted reference to a table or view of the dataset.
func (w *Warehouse) ref(name string) string {
	return "`" + w.cfg.Project + "." + w.cfg.Dataset + "." + name + "`"
}

// Prepare creates the dataset when missing, creates missing tables and adds
// missing columns, creates or replaces every view, and seeds credit_rates
// when it is empty.
func (w *Warehouse) Prepare(ctx context.Context) error {
	if err := w.prepare(ctx); err != nil {
		return fmt.Errorf("preparing BigQuery warehouse %s.%s: %w", w.cfg.Project, w.cfg.Dataset, err)
	}
	return nil
}

func (w *Warehouse) prepare(ctx context.Context) error {
	if err := w.prepareDataset(ctx); err != nil {
		return err
	}
	for _, t := range schema.All() {
		if err := w.prepareTable(ctx, t); err != nil {
			return err
		}
	}
	for _, v := range sql.Views() {
		ddl, err := w.ViewDDL(v)
		if err != nil {
			return err
		}
		if _, err := w.query(ctx, "kycetl_view_"+v.Name, ddl, nil); err != nil {
			return fmt.Errorf("creating view %s: %w", v.Name, err)
		}
	}
	if _, err := w.query(ctx, "kycetl_seed_credit_rates", w.SeedCreditRatesSQL(), nil); err != nil {
		return fmt.Errorf("seeding credit rates: %w", err)
	}
	return nil
}

func (w *Warehouse) prepareDataset(ctx context.Context) error {
	ds := w.client.Dataset(w.cfg.Dataset)
	md, err := ds.Metadata(ctx)
	if err == nil {
		if !strings.EqualFold(md.Location, w.cfg.Location) {
			w.log.Warn().Str("dataset", w.cfg.Dataset).Str("location", md.Location).Str("configured", w.cfg.Location).
				Msg("dataset exists in another location; jobs run there")
			w.client.Location = md.Location
		}
		return nil
	}
	if !isStatus(err, http.StatusNotFound) {
		return fmt.Errorf("reading dataset %s: %w", w.cfg.Dataset, err)
	}
	err = ds.Create(ctx, &bigquery.DatasetMetadata{
		Location:    w.cfg.Location,
		Description: "kycetl warehouse: ARGOS ID check KYC submissions, their child tables, the load_runs ledger and the statistics views.",
	})
	if err != nil && !isStatus(err, http.StatusConflict) { // a concurrent Prepare made it
		return fmt.Errorf("creating dataset %s in %s: %w", w.cfg.Dataset, w.cfg.Location, err)
	}
	w.log.Info().Str("dataset", w.cfg.Dataset).Str("location", w.cfg.Location).Msg("created dataset")
	return nil
}

func (w *Warehouse) prepareTable(ctx context.Context, t *schema.Table) error {
	want, err := TableMetadata(t)
	if err != nil {
		return err
	}
	tbl := w.client.Dataset(w.cfg.Dataset).Table(t.Name)
	md, err := tbl.Metadata(ctx)
	if isStatus(err, http.StatusNotFound) {
		err = tbl.Create(ctx, want)
		if err == nil || isStatus(err, http.StatusConflict) {
			return nil
		}
		return fmt.Errorf("creating table %s: %w", t.Name, err)
	}
	if err != nil {
		return fmt.Errorf("reading table %s: %w", t.Name, err)
	}
	have := map[string]bool{}
	for _, f := range md.Schema {
		have[f.Name] = true
	}
	next := append(bigquery.Schema(nil), md.Schema...)
	var added []string
	for _, f := range want.Schema {
		if !have[f.Name] {
			next = append(next, f)
			added = append(added, f.Name)
		}
	}
	if len(added) == 0 {
		return nil
	}
	if _, err := tbl.Update(ctx, bigquery.TableMetadataToUpdate{Schema: next}, md.ETag); err != nil {
		return fmt.Errorf("adding columns %s to %s: %w", strings.Join(added, ", "), t.Name, err)
	}
	w.log.Info().Str("table", t.Name).Strs("columns", added).Msg("added columns")
	return nil
}

// ViewDDL is the statement that creates or replaces a view, its table
// references rendered for this dataset.
func (w *Warehouse) ViewDDL(v sql.View) (string, error) {
	text, err := sql.Render(v, w.ref)
	if err != nil {
		return "", err
	}
	return "CREATE OR REPLACE VIEW " + w.ref(v.Name) + " AS\n" + text, nil
}

// SeedCreditRatesSQL fills credit_rates with schema.DefaultCreditRates
// when it holds no row; an edited card is never overwritten.
func (w *Warehouse) SeedCreditRatesSQL() string {
	var rows []string
	for _, r := range schema.DefaultCreditRates {
		validTo := "CAST(NULL AS DATE)"
		if r.ValidTo != "" {
			validTo = "DATE " + stringLiteral(r.ValidTo)
		}
		rows = append(rows, fmt.Sprintf("(%s, %v, DATE %s, %s)", stringLiteral(r.Item), r.Credits, stringLiteral(r.ValidFrom), validTo))
	}
	t := w.ref(schema.CreditRates.Name)
	return "IF NOT EXISTS (SELECT 1 FROM " + t + ") THEN\n" +
		"  INSERT INTO " + t + " (item, credits, valid_from, valid_to) VALUES\n    " + strings.Join(rows, ",\n    ") + ";\n" +
		"END IF;"
}

// stringLiteral quotes s as a GoogleSQL string literal.
func stringLiteral(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "\r", `\r`)
	return "'" + r.Replace(s) + "'"
}

// isStatus reports whether err is an API answer with the HTTP status code.
func isStatus(err error, code int) bool {
	var e *googleapi.Error
	return errors.As(err, &e) && e.Code == code
}

// Outcome reports what the last Replace that included p did to it: the
// BigQuery jobs that touched it (a batch's jobs appear in each of its days,
// so sum bytes once per job ID) and its error, nil when p is loaded.
func (w *Warehouse) Outcome(p load.Partition) (jobs []archive.Job, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	o, ok := w.outcomes[keyOf(p)]
	if !ok {
		return nil, load.ErrNotReplaced
	}
	return append([]archive.Job(nil), o.jobs...), o.err
}
