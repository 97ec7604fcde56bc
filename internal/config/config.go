// Package config reads kycetl's configuration file (kycetl.yaml): the
// projects to load (name, source, API URL, the names of the environment
// variables that hold their keys, the API page size), the warehouse, the archive directory, the PII
// policy, the credit rate card, the scheduled jobs and the retention of
// superseded versions.
//
// Decoding is strict: an unknown key is an error naming its line. ${VAR}
// and $VAR in string values are expanded from the environment (os.Expand
// semantics, $$ for a literal $); a referenced variable that is unset or
// empty is an error naming it. Values of keys ending in _env are never
// expanded: they hold the NAME of a variable, and secrets stay in the
// environment, never in the file.
package config

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // time zones work in minimal containers without /usr/share/zoneinfo

	"github.com/kycetl/kycetl/load/bigquery"

	"github.com/robfig/cron/v3"

	"github.com/kycetl/kycetl/internal/window"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/transform/pii"
	"github.com/kycetl/kycetl/transform/schema"
)

// Defaults of the file's optional fields.
const (
	DefaultDir            = "./warehouse"
	DefaultAPIURL         = "https://rest-api.argosidentity.com"
	DefaultAPIKeyEnv      = "ARGOS_API_KEY"
	DefaultPIIKeyEnv      = "KYCETL_PII_KEY"
	DefaultMaxCatchUpDays = 90
	// maxDays bounds every day count, as the CLI bounds --days.
	maxDays = 3660
)

// Kind is what a job is for; it sets the job's default schedule and
// look-back.
type Kind string

// The job kinds.
const (
	Nightly   Kind = "nightly"   // nightly load with a short look-back, for late status changes
	Reconcile Kind = "reconcile" // weekly re-extraction of a long look-back
	Hourly    Kind = "hourly"    // load of today, through the day
	// Fractal pulls a snapshot of Fractal's statistics: today only, as its
	// API has no history (the only kind of a FractalSource project).
	Fractal Kind = "fractal"
)

// FractalSource is the name of the source whose projects take the Fractal
// keys (FractalEnv) and the fractal job kind (extract/fractal/source.Name:
// a test of internal/pipeline checks they agree).
const FractalSource = "fractal"

// FractalEnv names the environment variables of a Fractal project.
type FractalEnv struct {
	ClientID, ClientSecret string // the OAuth2 client's id and secret
	// AuthURL and ResourceURL hold the base URLs; unset, the production
	// domains.
	AuthURL, ResourceURL string
}

// DefaultFractalEnv are the variables a Fractal project reads unless the
// file names others.
var DefaultFractalEnv = FractalEnv{ClientID: "FRACTAL_CLIENT_ID", ClientSecret: "FRACTAL_CLIENT_SECRET",
	AuthURL: "FRACTAL_AUTH_URL", ResourceURL: "FRACTAL_RESOURCE_URL"}

// kindDefaults are the schedule and look-back of each kind when the file
// does not set them. Schedules are in the configured time zone (UTC by
// default).
var kindDefaults = map[Kind]struct {
	schedule string
	lookback int
}{
	Nightly:   {"0 2 * * *", 7},
	Reconcile: {"0 3 * * 0", 90},
	Hourly:    {"0 * * * *", 0},
	Fractal:   {"30 0 * * *", 0},
}

// DefaultJobs are a project's jobs when the file lists none: a nightly load
// at 02:00 with a 7-day look-back and a reconcile on Sundays at 03:00 with
// a 90-day look-back.
func DefaultJobs() []Job {
	var jobs []Job
	for _, k := range []Kind{Nightly, Reconcile} {
		d := kindDefaults[k]
		jobs = append(jobs, Job{Name: string(k), Kind: k, Schedule: d.schedule, LookbackDays: d.lookback, MaxCatchUpDays: DefaultMaxCatchUpDays})
	}
	return jobs
}

// Config is a loaded, validated configuration with every default applied.
type Config struct {
	File      string         // the file it was read from, for messages
	Dir       string         // archive and warehouse directory
	Warehouse Warehouse      // where partitions are loaded
	Timezone  string         // IANA name of Location, for display
	Location  *time.Location // time zone of the job schedules (days are UTC regardless)
	PII       PII
	// CreditRates is the rate card the file sets, nil when it sets none:
	// the warehouse then keeps its own card (seeded with
	// schema.DefaultCreditRates, possibly edited by hand).
	CreditRates []schema.CreditRate
	Projects    []Project
	// ArchiveRecipients are the age X25519 public keys (age1...) that the
	// raw archive is encrypted to (archive.recipients); none: plain.
	ArchiveRecipients []string
	// Retention is how long the archive keeps superseded versions.
	Retention Retention
}

// KeepAll is Retention.SupersededDays when the file sets no limit: every
// version is kept, as auditors who must keep everything want.
const KeepAll = -1

// Retention is how long superseded versions of a partition (the files of
// earlier runs of the same day) are kept: kycetl prune, and the daemon
// after its nightly job, delete those superseded for more than
// SupersededDays days (0: every superseded version); KeepAll keeps them all.
//
// CompactAfterDays, when above 0 (0: no compaction, the zero value),
// makes the daemon compact the DuckDB warehouse after its nightly job as
// kycetl compact --keep N does: the months whose every day is older than
// N days are read from one file per table and month.
type Retention struct {
	SupersededDays   int
	CompactAfterDays int
}

// Compacts reports whether the daemon compacts after its nightly job.
func (r Retention) Compacts() bool { return r.CompactAfterDays > 0 }

// Limited reports whether anything is ever pruned.
func (r Retention) Limited() bool { return r.SupersededDays >= 0 }

// PII is the PII policy: where the HMAC key is and per-column overrides of
// the schema's default actions.
type PII struct {
	KeyEnv  string         // variable holding the HMAC key (default KYCETL_PII_KEY)
	Columns []ColumnAction // sorted by column
}

// ColumnAction overrides the PII action of one column, "table.column".
type ColumnAction struct {
	Column string
	Action schema.PII
}

// Project is one project of a source.
type Project struct {
	Name         string // recorded with every row; names the partitions
	Source       string // name of the source the project is fetched from (see WithSources); "" for the default
	APIURL       string // base URL of the API
	APIKeyEnv    string // variable holding the API key
	SecretKeyEnv string // variable holding the secure-transfer secret key, if the project uses one
	// PageSize is the count asked for per API page, 0 for the source's
	// default; a run halves it while the API refuses it.
	PageSize int
	// Fractal names the variables of a FractalSource project (which has no
	// APIURL, APIKeyEnv or SecretKeyEnv).
	Fractal FractalEnv
	Jobs    []Job
}

// IsFractal says whether the project is fetched from FractalSource.
func (p Project) IsFractal() bool { return p.Source == FractalSource }

// Job is one scheduled load of a project.
type Job struct {
	Name     string // unique within its project; runs are recorded as command "schedule:<name>"
	Kind     Kind
	Schedule string // cron spec (5 fields, no seconds) or descriptor (@daily, @every 1h, ...)
	// LookbackDays is how many days before today each run re-extracts:
	// the window is [today-LookbackDays, today], UTC.
	LookbackDays int
	// MaxCatchUpDays bounds how far back a run reaches to fill a gap
	// left by downtime or failed days (see package schedules).
	MaxCatchUpDays int
}

// Warehouse names the warehouse engine and, for BigQuery, the dataset.
type Warehouse struct {
	Engine   string          // EngineDuckDB or EngineBigQuery
	BigQuery bigquery.Config // project, dataset, location, staging, when BigQuery
	spec     string          // as written, for String
}

// Warehouse engines.
const (
	EngineDuckDB   = "duckdb"
	EngineBigQuery = "bigquery"
)

func (w Warehouse) String() string {
	if w.Engine == EngineBigQuery {
		return w.spec
	}
	return w.Engine
}

var (
	envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	jobName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
)

// ParseWarehouse reads a warehouse: duckdb, or a BigQuery URL as
// bigquery.ParseURL reads it (the one parser of those URLs).
func ParseWarehouse(s string) (Warehouse, error) {
	if s == EngineDuckDB {
		return Warehouse{Engine: EngineDuckDB}, nil
	}
	if !strings.HasPrefix(s, EngineBigQuery+"://") {
		return Warehouse{}, fmt.Errorf("%q: want duckdb or bigquery://PROJECT/DATASET", s)
	}
	cfg, err := bigquery.ParseURL(s)
	if err != nil {
		return Warehouse{}, err
	}
	return Warehouse{Engine: EngineBigQuery, BigQuery: cfg, spec: s}, nil
}

// specParser reads job schedules: five fields (minute to day of week, no
// seconds), descriptors (@daily, @every 1h) and an optional CRON_TZ= prefix.
var specParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ErrBadSchedule is the kind of ParseSchedule's errors.
var ErrBadSchedule = errors.New("bad schedule")

// scheduleError gives an error the kind ErrBadSchedule, its message
// unchanged.
type scheduleError struct{ err error }

func (e scheduleError) Error() string        { return e.err.Error() }
func (e scheduleError) Unwrap() error        { return e.err }
func (e scheduleError) Is(target error) bool { return target == ErrBadSchedule }

// ParseSchedule reads a job's schedule. It is the one parser of schedules:
// the daemon, the dry run and the status use it too. Its errors are of
// kind ErrBadSchedule.
func ParseSchedule(spec string) (cron.Schedule, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, scheduleError{errors.New("empty schedule")}
	}
	s, err := specParser.Parse(spec)
	if err != nil {
		return nil, scheduleError{fmt.Errorf("%q: %w", spec, err)}
	}
	// cron turns an interval under a second, negative ones included,
	// into one second: refuse them rather than fire every second.
	if every, ok := s.(cron.ConstantDelaySchedule); ok {
		d, _ := time.ParseDuration(strings.TrimSpace(spec[strings.Index(spec, "@every")+len("@every"):]))
		if d < time.Second || every.Delay < time.Second {
			return nil, scheduleError{fmt.Errorf("%q: the interval must be at least 1s", spec)}
		}
	}
	return s, nil
}

// SpecParser is the schedule parser, for cron.WithParser.
func SpecParser() cron.ScheduleParser { return specParser }

// Project returns the project named name.
func (c *Config) Project(name string) (Project, bool) {
	for _, p := range c.Projects {
		if p.Name == name {
			return p, true
		}
	}
	return Project{}, false
}

// Policy builds the PII policy: the HMAC key from the variable named by
// pii.key_env, and the file's column overrides.
func (c *Config) Policy(getenv func(string) string) (*pii.Policy, error) {
	var opts []pii.Option
	if k := getenv(c.PII.KeyEnv); k != "" {
		opts = append(opts, pii.WithKey([]byte(k)))
	}
	for _, ca := range c.PII.Columns {
		opts = append(opts, pii.WithAction(ca.Column, ca.Action))
	}
	p, err := pii.New(opts...)
	if errors.Is(err, pii.ErrNoKey) {
		return nil, fmt.Errorf("%s: PII hashing is on but %s (pii.key_env) is not set: set it to a secret of at least 16 bytes, or set the hashed columns to keep or drop under pii.columns", c.File, c.PII.KeyEnv)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: reading the PII key from %s: %w", c.File, c.PII.KeyEnv, err)
	}
	return p, nil
}

// APIKey reads the project's API key from the variable the file names. The
// error names the variable, never a value.
func (p Project) APIKey(getenv func(string) string) (string, error) {
	k := getenv(p.APIKeyEnv)
	if k == "" {
		return "", fmt.Errorf("project %s: %s is not set: set it to the project's ARGOS API key", p.Name, p.APIKeyEnv)
	}
	return k, nil
}

// FractalSettings reads a Fractal project's client and URLs from the
// variables the file names (URLs unset: ""). The error names the
// variables, never a value.
func (p Project) FractalSettings(getenv func(string) string) (window.Settings, error) {
	e := p.Fractal
	s := window.Settings{Key: getenv(e.ClientID), Secret: getenv(e.ClientSecret), AuthURL: getenv(e.AuthURL), URL: getenv(e.ResourceURL)}
	var unset []string
	for name, v := range map[string]string{e.ClientID: s.Key, e.ClientSecret: s.Secret} {
		if v == "" {
			unset = append(unset, name)
		}
	}
	if len(unset) > 0 {
		sort.Strings(unset)
		return window.Settings{}, fmt.Errorf("project %s: %s not set: set %s to the Fractal OAuth2 client's id and %s to its secret",
			p.Name, strings.Join(unset, " and "), e.ClientID, e.ClientSecret)
	}
	return s, nil
}

// Option is an option of Load and Parse.
type Option func(*validator)

// WithSources names the sources a project's source: may name, the first
// being the default of a project that names none. This package cannot
// know them (the list is internal/pipeline's, which imports this one):
// without WithSources, a project's Source is what the file says, unchecked,
// and empty when it says nothing, which callers read as their default.
func WithSources(names ...string) Option {
	return func(v *validator) { v.sources = names }
}

// Load reads, expands, decodes and validates the configuration file at
// path. getenv (os.Getenv in production) supplies ${VAR} values. Every
// error names the file and, where it can, the line and the field.
func Load(path string, getenv func(string) string, opts ...Option) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	return Parse(path, data, getenv, opts...)
}

// Parse is Load of data already read; name is used in messages.
func Parse(name string, data []byte, getenv func(string) string, opts ...Option) (*Config, error) {
	var f file
	pos, err := decode(name, data, getenv, &f)
	if err != nil {
		return nil, err
	}
	v := &validator{name: name, pos: pos}
	for _, o := range opts {
		o(v)
	}
	c := v.config(&f)
	if err := errors.Join(v.errs...); err != nil {
		return nil, err
	}
	c.File = name
	return c, nil
}

// file is the configuration as written; pointers tell an omitted value
// from a zero one.
type file struct {
	Dir         string        `yaml:"dir"`
	Warehouse   string        `yaml:"warehouse"`
	Timezone    string        `yaml:"timezone"`
	PII         filePII       `yaml:"pii"`
	CreditRates *[]fileRate   `yaml:"credit_rates"`
	Projects    []fileProject `yaml:"projects"`
	Archive     fileArchive   `yaml:"archive"`
	Retention   fileRetention `yaml:"retention"`
}

type fileArchive struct {
	Recipients []string `yaml:"recipients"`
}

type fileRetention struct {
	SupersededDays   *int `yaml:"superseded_days"`
	CompactAfterDays *int `yaml:"compact_after_days"`
}

type filePII struct {
	KeyEnv  string            `yaml:"key_env"`
	Columns map[string]string `yaml:"columns"`
}

type fileRate struct {
	Item      string   `yaml:"item"`
	Credits   *float64 `yaml:"credits"`
	ValidFrom string   `yaml:"valid_from"`
	ValidTo   string   `yaml:"valid_to"`
}

type fileProject struct {
	Name         string `yaml:"name"`
	Source       string `yaml:"source"`
	APIURL       string `yaml:"api_url"`
	APIKeyEnv    string `yaml:"api_key_env"`
	SecretKeyEnv string `yaml:"secret_key_env"`
	PageSize     *int   `yaml:"page_size"`
	// The keys of a Fractal project.
	ClientIDEnv     string     `yaml:"client_id_env"`
	ClientSecretEnv string     `yaml:"client_secret_env"`
	AuthURLEnv      string     `yaml:"auth_url_env"`
	ResourceURLEnv  string     `yaml:"resource_url_env"`
	Jobs            *[]fileJob `yaml:"jobs"`
}

type fileJob struct {
	Name           string `yaml:"name"`
	Kind           string `yaml:"kind"`
	Schedule       string `yaml:"schedule"`
	LookbackDays   *int   `yaml:"lookback_days"`
	MaxCatchUpDays *int   `yaml:"max_catchup_days"`
}

// validator applies defaults and collects every problem, located.
type validator struct {
	name    string
	pos     positions
	sources []string // see WithSources
	errs    []error
}

func (v *validator) errorf(path, format string, a ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s: %s", v.pos.locate(v.name, path), path, fmt.Sprintf(format, a...)))
}

func (v *validator) config(f *file) *Config {
	c := &Config{Dir: f.Dir, Timezone: f.Timezone, Location: time.UTC}
	if c.Dir == "" {
		c.Dir = DefaultDir
	}
	wh := f.Warehouse
	if wh == "" {
		wh = EngineDuckDB
	}
	var err error
	if c.Warehouse, err = ParseWarehouse(wh); err != nil {
		v.errorf("warehouse", "%v", err)
	}
	if c.Timezone == "" {
		c.Timezone = "UTC"
	}
	if c.Location, err = time.LoadLocation(c.Timezone); err != nil {
		v.errorf("timezone", "unknown time zone %q: want an IANA name such as UTC or Asia/Seoul", c.Timezone)
		c.Location = time.UTC
	}
	c.PII = v.pii(f.PII)
	for i, r := range f.Archive.Recipients {
		if _, err := archive.ParseRecipients(r); err != nil || strings.TrimSpace(r) == "" {
			v.errorf(fmt.Sprintf("archive.recipients[%d]", i), "not an age X25519 recipient (age1...)")
		}
	}
	c.ArchiveRecipients = f.Archive.Recipients
	if f.CreditRates != nil {
		c.CreditRates = make([]schema.CreditRate, 0, len(*f.CreditRates))
		for i, r := range *f.CreditRates {
			c.CreditRates = append(c.CreditRates, v.rate(fmt.Sprintf("credit_rates[%d]", i), r))
		}
	}
	c.Retention = Retention{SupersededDays: KeepAll}
	if d := f.Retention.CompactAfterDays; d != nil {
		if *d < 1 || *d > maxDays {
			v.errorf("retention.compact_after_days", "%d: want a number of days from 1 to %d (leave it out not to compact)", *d, maxDays)
		} else {
			c.Retention.CompactAfterDays = *d
		}
	}
	if d := f.Retention.SupersededDays; d != nil {
		if *d < 0 || *d > maxDays {
			v.errorf("retention.superseded_days", "%d: want a number of days from 0 to %d (leave it out to keep every version)", *d, maxDays)
		} else {
			c.Retention.SupersededDays = *d
		}
	}
	if len(f.Projects) == 0 {
		v.errorf("projects", "no project: list at least one under projects")
	}
	seen := map[string]bool{}
	for i, fp := range f.Projects {
		path := fmt.Sprintf("projects[%d]", i)
		p := v.project(path, fp)
		if p.Name != "" && seen[p.Name] {
			v.errorf(path+".name", "project %q is listed twice", p.Name)
		}
		seen[p.Name] = true
		c.Projects = append(c.Projects, p)
	}
	return c
}

func (v *validator) envName(path, name string) {
	if !envName.MatchString(name) {
		v.errorf(path, "%q is not an environment variable name: this field holds the NAME of the variable that holds the secret (such as ARGOS_API_KEY), never the secret", name)
	}
}

func (v *validator) pii(f filePII) PII {
	p := PII{KeyEnv: f.KeyEnv}
	if p.KeyEnv == "" {
		p.KeyEnv = DefaultPIIKeyEnv
	}
	v.envName("pii.key_env", p.KeyEnv)
	cols := make([]string, 0, len(f.Columns))
	for col := range f.Columns {
		cols = append(cols, col)
	}
	sort.Strings(cols)
	for _, col := range cols {
		path := keyPath("pii.columns", col)
		action, err := schema.ParsePII(f.Columns[col])
		if err != nil {
			v.errorf(path, "%v", err)
			continue
		}
		// Check the column now, so that the error points at the file.
		if err := pii.WithAction(col, action)(&pii.Policy{}); err != nil {
			v.errorf(path, "%v", err)
			continue
		}
		p.Columns = append(p.Columns, ColumnAction{Column: col, Action: action})
	}
	return p
}

var creditItems = []string{schema.CreditIDCheck, schema.CreditKnowledgeCheck, schema.CreditAMLScreening}

func (v *validator) rate(path string, f fileRate) schema.CreditRate {
	r := schema.CreditRate{Item: f.Item, ValidFrom: f.ValidFrom, ValidTo: f.ValidTo}
	if !contains(creditItems, f.Item) {
		v.errorf(path+".item", "%q: want one of %s", f.Item, strings.Join(creditItems, ", "))
	}
	switch {
	case f.Credits == nil:
		v.errorf(path+".credits", "missing: credits charged per item")
	case *f.Credits < 0 || math.IsNaN(*f.Credits) || math.IsInf(*f.Credits, 0):
		v.errorf(path+".credits", "%v: want a number of credits, 0 or more", *f.Credits)
	default:
		r.Credits = *f.Credits
	}
	from, err := window.ParseDay(f.ValidFrom)
	if err != nil {
		v.errorf(path+".valid_from", "%v", err)
	} else {
		r.ValidFrom = window.FormatDate(from)
	}
	if f.ValidTo != "" {
		to, err := window.ParseDay(f.ValidTo)
		switch {
		case err != nil:
			v.errorf(path+".valid_to", "%v", err)
		case !from.IsZero() && to.Before(from):
			v.errorf(path+".valid_to", "%s is before valid_from %s", f.ValidTo, f.ValidFrom)
		default:
			r.ValidTo = window.FormatDate(to)
		}
	}
	return r
}

func (v *validator) project(path string, f fileProject) Project {
	p := Project{Name: f.Name, Source: f.Source, APIURL: f.APIURL, APIKeyEnv: f.APIKeyEnv, SecretKeyEnv: f.SecretKeyEnv}
	if err := archive.ValidateProject(p.Name); err != nil {
		v.errorf(path+".name", "%v", err)
	}
	if len(v.sources) > 0 {
		if p.Source == "" {
			p.Source = v.sources[0]
		}
		if !contains(v.sources, p.Source) {
			v.errorf(path+".source", "unknown source %q: want one of %s (default %s)", p.Source, strings.Join(v.sources, ", "), v.sources[0])
		}
	}
	if p.IsFractal() {
		return v.fractalProject(path, f, p)
	}
	for key, val := range map[string]string{"client_id_env": f.ClientIDEnv, "client_secret_env": f.ClientSecretEnv,
		"auth_url_env": f.AuthURLEnv, "resource_url_env": f.ResourceURLEnv} {
		if val != "" {
			v.errorf(path+"."+key, "is a key of a %s project, and this one's source is %s", FractalSource, p.Source)
		}
	}
	if p.APIURL == "" {
		p.APIURL = DefaultAPIURL
	}
	if u, err := url.Parse(p.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.errorf(path+".api_url", "%q: want an http or https URL such as %s", p.APIURL, DefaultAPIURL)
	}
	if p.APIKeyEnv == "" {
		p.APIKeyEnv = DefaultAPIKeyEnv
	}
	v.envName(path+".api_key_env", p.APIKeyEnv)
	if p.SecretKeyEnv != "" {
		v.envName(path+".secret_key_env", p.SecretKeyEnv)
	}
	if f.PageSize != nil {
		p.PageSize = *f.PageSize
		if p.PageSize < 1 {
			v.errorf(path+".page_size", "%d: want a positive number of items per API page (default: the source's)", p.PageSize)
		}
	}
	if f.Jobs == nil {
		p.Jobs = DefaultJobs()
		return p
	}
	p.Jobs = v.jobs(path, p, *f.Jobs)
	return p
}

// fractalProject reads the keys of a Fractal project: the variables of its
// client and URLs, and its jobs, all of kind fractal (default: one, daily at
// 00:30).
func (v *validator) fractalProject(path string, f fileProject, p Project) Project {
	for key, set := range map[string]bool{"api_url": f.APIURL != "", "api_key_env": f.APIKeyEnv != "",
		"secret_key_env": f.SecretKeyEnv != "", "page_size": f.PageSize != nil} {
		if set {
			v.errorf(path+"."+key, "is not a key of a %s project: it takes client_id_env, client_secret_env, auth_url_env and resource_url_env", FractalSource)
		}
	}
	p.APIURL, p.APIKeyEnv, p.SecretKeyEnv = "", "", ""
	d := DefaultFractalEnv
	p.Fractal = FractalEnv{ClientID: or(f.ClientIDEnv, d.ClientID), ClientSecret: or(f.ClientSecretEnv, d.ClientSecret),
		AuthURL: or(f.AuthURLEnv, d.AuthURL), ResourceURL: or(f.ResourceURLEnv, d.ResourceURL)}
	v.envName(path+".client_id_env", p.Fractal.ClientID)
	v.envName(path+".client_secret_env", p.Fractal.ClientSecret)
	v.envName(path+".auth_url_env", p.Fractal.AuthURL)
	v.envName(path+".resource_url_env", p.Fractal.ResourceURL)
	if f.Jobs == nil {
		d := kindDefaults[Fractal]
		p.Jobs = []Job{{Name: string(Fractal), Kind: Fractal, Schedule: d.schedule}}
		return p
	}
	p.Jobs = v.jobs(path, p, *f.Jobs)
	return p
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// jobs reads a project's jobs: a Fractal project's are of kind fractal,
// the others' of any other kind.
func (v *validator) jobs(path string, p Project, fjs []fileJob) []Job {
	var jobs []Job
	seen := map[string]bool{}
	for i, fj := range fjs {
		jp := fmt.Sprintf("%s.jobs[%d]", path, i)
		j := v.job(jp, fj)
		if j.Name != "" && seen[j.Name] {
			v.errorf(jp+".name", "job %q is listed twice in project %s", j.Name, p.Name)
		}
		switch {
		case p.IsFractal() && j.Kind != Fractal && j.Kind != "":
			v.errorf(jp+".kind", "%q: a %s project's jobs are of kind %s (its API answers for today only)", j.Kind, FractalSource, Fractal)
		case !p.IsFractal() && j.Kind == Fractal:
			v.errorf(jp+".kind", "%q is the kind of a %s project's job; this project's source is %s", j.Kind, FractalSource, p.Source)
		}
		if j.Kind == Fractal {
			// A snapshot is of today: no look-back, and a missed day is lost.
			if fj.LookbackDays != nil && *fj.LookbackDays != 0 || fj.MaxCatchUpDays != nil && *fj.MaxCatchUpDays != 0 {
				v.errorf(jp+".lookback_days", "a %s job pulls today only: its API has no history, so it has no look-back or catch-up", Fractal)
			}
			j.LookbackDays, j.MaxCatchUpDays = 0, 0
		}
		seen[j.Name] = true
		jobs = append(jobs, j)
	}
	return jobs
}

func (v *validator) job(path string, f fileJob) Job {
	j := Job{Name: f.Name, Kind: Kind(f.Kind), Schedule: f.Schedule}
	if j.Kind == "" && kindDefaults[Kind(j.Name)].schedule != "" {
		j.Kind = Kind(j.Name) // "name: nightly" says the kind too
	}
	d, ok := kindDefaults[j.Kind]
	if !ok {
		v.errorf(path+".kind", "%q: want nightly, reconcile, hourly or fractal", f.Kind)
	}
	if j.Name == "" {
		j.Name = string(j.Kind)
	}
	if !jobName.MatchString(j.Name) {
		v.errorf(path+".name", "%q: want lower-case letters, digits, '-' and '_' (at most 63)", j.Name)
	}
	if j.Schedule == "" {
		j.Schedule = d.schedule
	}
	if _, err := ParseSchedule(j.Schedule); ok && err != nil {
		v.errorf(path+".schedule", "%v: want 5 fields (minute hour day-of-month month day-of-week) or a descriptor such as @daily or @every 1h", err)
	}
	j.LookbackDays = d.lookback
	if f.LookbackDays != nil {
		j.LookbackDays = *f.LookbackDays
		if j.LookbackDays < 0 || j.LookbackDays > maxDays {
			v.errorf(path+".lookback_days", "%d: want 0 to %d", j.LookbackDays, maxDays)
		}
	}
	j.MaxCatchUpDays = DefaultMaxCatchUpDays
	if f.MaxCatchUpDays != nil {
		j.MaxCatchUpDays = *f.MaxCatchUpDays
		if j.MaxCatchUpDays < 0 || j.MaxCatchUpDays > maxDays {
			v.errorf(path+".max_catchup_days", "%d: want 0 to %d", j.MaxCatchUpDays, maxDays)
		}
	}
	return j
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
