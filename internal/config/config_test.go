package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kycetl/kycetl/load/bigquery"

	"github.com/kycetl/kycetl/transform/schema"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// TestExampleLoads keeps the shipped example valid and checks what it says.
func TestExampleLoads(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "kycetl.example.yaml"), env(map[string]string{
		"KYCETL_DIR": "/data/kyc", "ARGOS_EU_API_URL": "https://eu.example.com",
	}), WithSources("argos", "other", FractalSource))
	if err != nil {
		t.Fatal(err)
	}
	if c.Dir != "/data/kyc" || c.Warehouse.String() != "duckdb" || c.Location != time.UTC {
		t.Errorf("dir %q, warehouse %v, location %v", c.Dir, c.Warehouse, c.Location)
	}
	if c.PII.KeyEnv != "KYCETL_PII_KEY" || !reflect.DeepEqual(c.PII.Columns, []ColumnAction{
		{"submissions.email", schema.Hash}, {"submissions.ip_address", schema.Drop},
	}) {
		t.Errorf("PII %+v", c.PII)
	}
	if len(c.CreditRates) != 4 || c.CreditRates[3] != (schema.CreditRate{Item: "aml_screening", Credits: 0.5, ValidFrom: "2026-01-01"}) ||
		c.CreditRates[2].ValidTo != "2025-12-31" {
		t.Errorf("credit rates %+v", c.CreditRates)
	}
	if len(c.Projects) != 3 {
		t.Fatalf("projects %+v", c.Projects)
	}
	wantFractal := Project{Name: "acme-fractal", Source: FractalSource, Fractal: DefaultFractalEnv,
		Jobs: []Job{{Name: "fractal", Kind: Fractal, Schedule: "30 0 * * *"}}}
	if !reflect.DeepEqual(c.Projects[2], wantFractal) {
		t.Errorf("acme-fractal\n got %+v\nwant %+v", c.Projects[2], wantFractal)
	}
	acme, eu := c.Projects[0], c.Projects[1]
	if acme.Name != "acme" || acme.Source != "argos" || acme.APIKeyEnv != "ARGOS_API_KEY" || acme.PageSize != 2000 || !reflect.DeepEqual(acme.Jobs, DefaultJobs()) {
		t.Errorf("acme %+v", acme)
	}
	wantEU := Project{Name: "acme-eu", Source: "argos", APIURL: "https://eu.example.com", APIKeyEnv: "ARGOS_EU_API_KEY", SecretKeyEnv: "ARGOS_EU_SECRET_KEY",
		Jobs: []Job{
			{Name: "nightly", Kind: Nightly, Schedule: "30 1 * * *", LookbackDays: 7, MaxCatchUpDays: 90},
			{Name: "reconcile", Kind: Reconcile, Schedule: "0 4 * * 6", LookbackDays: 90, MaxCatchUpDays: 120},
			{Name: "today", Kind: Hourly, Schedule: "@every 1h", LookbackDays: 0, MaxCatchUpDays: 90},
		}}
	if !reflect.DeepEqual(eu, wantEU) {
		t.Errorf("acme-eu\n got %+v\nwant %+v", eu, wantEU)
	}
	// The PII policy hashes email on top of the defaults, with the key
	// from the variable the file names.
	pol, err := c.Policy(env(map[string]string{"KYCETL_PII_KEY": "0123456789abcdef0123"}))
	if err != nil {
		t.Fatal(err)
	}
	if h := pol.Hashed(); !contains(h, "submissions.email") {
		t.Errorf("hashed columns %v lack submissions.email", h)
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse("k.yaml", []byte("projects:\n  - name: p\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{File: "k.yaml", Dir: DefaultDir, Warehouse: Warehouse{Engine: EngineDuckDB}, Timezone: "UTC", Location: time.UTC,
		PII:       PII{KeyEnv: "KYCETL_PII_KEY"},
		Projects:  []Project{{Name: "p", APIURL: DefaultAPIURL, APIKeyEnv: DefaultAPIKeyEnv, Jobs: DefaultJobs()}},
		Retention: Retention{SupersededDays: KeepAll}}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("\n got %+v\nwant %+v", c, want)
	}
	if j := DefaultJobs(); j[0].Schedule != "0 2 * * *" || j[0].LookbackDays != 7 || j[1].Schedule != "0 3 * * 0" || j[1].LookbackDays != 90 {
		t.Errorf("default jobs %+v", j)
	}
	// An explicitly empty jobs list means no jobs, not the defaults.
	c, err = Parse("k.yaml", []byte("projects:\n  - name: p\n    jobs: []\n"), env(nil))
	if err != nil || len(c.Projects[0].Jobs) != 0 {
		t.Errorf("jobs: [] gave %+v, %v", c, err)
	}
	// A kind alone is a job: name, schedule and look-back follow from it.
	c, err = Parse("k.yaml", []byte("projects:\n  - name: p\n    jobs:\n      - kind: hourly\n      - name: nightly\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Projects[0].Jobs; !reflect.DeepEqual(got, []Job{
		{Name: "hourly", Kind: Hourly, Schedule: "0 * * * *", MaxCatchUpDays: 90},
		{Name: "nightly", Kind: Nightly, Schedule: "0 2 * * *", LookbackDays: 7, MaxCatchUpDays: 90},
	}) {
		t.Errorf("jobs %+v", got)
	}
}

func TestExpansion(t *testing.T) {
	vars := env(map[string]string{"BASE": "https://api.example.com", "D": "/srv/kyc", "TZ_NAME": "Asia/Seoul", "SCHED": "15 3 * * *"})
	src := `dir: $D/warehouse
timezone: ${TZ_NAME}
# a comment mentioning ${NOT_SET} is not expanded
projects:
  - name: p
    api_url: "${BASE}/v1$$x"
    api_key_env: MY_KEY
    jobs:
      - kind: nightly
        schedule: ${SCHED}
`
	c, err := Parse("k.yaml", []byte(src), vars)
	if err != nil {
		t.Fatal(err)
	}
	if c.Dir != "/srv/kyc/warehouse" || c.Location.String() != "Asia/Seoul" || c.Projects[0].APIURL != "https://api.example.com/v1$x" ||
		c.Projects[0].APIKeyEnv != "MY_KEY" || c.Projects[0].Jobs[0].Schedule != "15 3 * * *" {
		t.Errorf("expanded config %+v %+v", c, c.Projects[0])
	}
}

// TestErrors checks that every bad file gives an error that says where
// and what.
func TestErrors(t *testing.T) {
	vars := env(map[string]string{"SET": "x"})
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"unknown key", "projects:\n  - name: p\n    jobz: []\n", []string{"k.yaml:3:", `unknown field "jobz"`}},
		{"secret in file", "projects:\n  - name: p\n    api_key: abc\n", []string{"k.yaml:3:", "api_key_env"}},
		{"unset variable", "dir: ${NOPE}\nprojects:\n  - name: p\n", []string{"k.yaml:1: dir: environment variable NOPE is not set"}},
		{"bad reference", "dir: ${a-b}\nprojects:\n  - name: p\n", []string{"k.yaml:1: dir: bad variable reference"}},
		{"unterminated reference", "dir: ${X\nprojects:\n  - name: p\n", []string{"k.yaml:1: dir: bad variable reference"}},
		{"key env holds a value", "projects:\n  - name: p\n    api_key_env: ${SET}\n", []string{"k.yaml:3: projects[0].api_key_env:", "NAME"}},
		{"syntax", "projects: [\n", []string{"k.yaml:"}},
		{"empty", "# nothing\n", []string{"k.yaml: the file is empty"}},
		{"two documents", "projects: []\n---\nprojects: []\n", []string{"more than one YAML document"}},
		{"no project", "dir: x\n", []string{"k.yaml: projects: no project"}},
		{"type", "projects:\n  - name: p\n    jobs:\n      - kind: nightly\n        lookback_days: lots\n", []string{"k.yaml:5:24: projects[0].jobs[0].lookback_days: \"lots\" is not a whole number"}},
		{"bad schedule", "projects:\n  - name: p\n  - name: q\n    jobs:\n      - kind: nightly\n        schedule: \"0 2 * *\"\n",
			[]string{"k.yaml:6: projects[1].jobs[0].schedule:", "expected exactly 5 fields"}},
		{"seconds refused", "projects:\n  - name: p\n    jobs:\n      - kind: nightly\n        schedule: \"0 0 2 * * *\"\n",
			[]string{"k.yaml:5: projects[0].jobs[0].schedule:"}},
		{"bad kind", "projects:\n  - name: p\n    jobs:\n      - name: x\n        kind: weekly\n", []string{"k.yaml:5: projects[0].jobs[0].kind:", `"weekly"`}},
		{"missing kind", "projects:\n  - name: p\n    jobs:\n      - name: x\n", []string{"k.yaml:4: projects[0].jobs[0].kind:"}},
		{"negative look-back", "projects:\n  - name: p\n    jobs:\n      - kind: nightly\n        lookback_days: -1\n", []string{"k.yaml:5: projects[0].jobs[0].lookback_days: -1"}},
		{"duplicate job", "projects:\n  - name: p\n    jobs:\n      - kind: nightly\n      - kind: nightly\n", []string{"projects[0].jobs[1].name:", "twice"}},
		{"duplicate project", "projects:\n  - name: p\n  - name: p\n", []string{"k.yaml:3: projects[1].name:", "twice"}},
		{"project name", "projects:\n  - name: a/b\n", []string{"k.yaml:2: projects[0].name:"}},
		{"missing project name", "projects:\n  - api_url: https://x.example.com\n", []string{"k.yaml:2: projects[0].name:"}},
		{"api url", "projects:\n  - name: p\n    api_url: ftp://x\n", []string{"k.yaml:3: projects[0].api_url:"}},
		{"warehouse", "warehouse: postgres\nprojects:\n  - name: p\n", []string{"k.yaml:1: warehouse:"}},
		{"bigquery dataset", "warehouse: bigquery://my-project/bad-dataset\nprojects:\n  - name: p\n", []string{"k.yaml:1: warehouse:"}},
		{"timezone", "timezone: Mars/Olympus\nprojects:\n  - name: p\n", []string{"k.yaml:1: timezone:", "Mars/Olympus"}},
		{"pii action", "pii:\n  columns:\n    submissions.email: encrypt\nprojects:\n  - name: p\n", []string{`k.yaml:3: pii.columns["submissions.email"]:`, "keep, hash or drop"}},
		{"pii column", "pii:\n  columns:\n    submissions.shoe_size: drop\nprojects:\n  - name: p\n", []string{`k.yaml:3: pii.columns["submissions.shoe_size"]:`, "no column"}},
		{"rate item", "credit_rates:\n  - item: selfie\n    credits: 1\n    valid_from: 2025-01-01\nprojects:\n  - name: p\n", []string{"k.yaml:2: credit_rates[0].item:"}},
		{"rate credits", "credit_rates:\n  - item: id_check\n    valid_from: 2025-01-01\nprojects:\n  - name: p\n", []string{"k.yaml:2: credit_rates[0].credits: missing"}},
		{"rate dates", "credit_rates:\n  - item: id_check\n    credits: 1\n    valid_from: 2025-02-01\n    valid_to: 2025-01-01\nprojects:\n  - name: p\n", []string{"k.yaml:5: credit_rates[0].valid_to:", "before"}},
	} {
		_, err := Parse("k.yaml", []byte(tc.src), vars)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tc.name, err, w)
			}
		}
	}
}

// TestSource: a project's source: defaults to the first source WithSources
// names; another listed source is taken; an unknown one is an error naming
// the field, its line and the sources there are. Without WithSources the
// name is left as written.
func TestSource(t *testing.T) {
	for src, want := range map[string][]string{
		"projects:\n  - name: p\n":                                                    {"argos"},
		"projects:\n  - name: p\n    source: other\n":                                 {"other"},
		"projects:\n  - name: p\n    source: argos\n  - name: q\n    source: other\n": {"argos", "other"},
	} {
		c, err := Parse("k.yaml", []byte(src), env(nil), WithSources("argos", "other"))
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		var got []string
		for _, p := range c.Projects {
			got = append(got, p.Source)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: sources %v, want %v", src, got, want)
		}
	}
	for src, want := range map[string]string{
		"projects:\n  - name: p\n    source: nope\n":               `k.yaml:3: projects[0].source: unknown source "nope": want one of argos, other (default argos)`,
		"projects:\n  - name: p\n  - name: q\n    source: ARGOS\n": `k.yaml:4: projects[1].source: unknown source "ARGOS": want one of argos, other (default argos)`,
		"projects:\n  - name: p\n    source: [argos]\n":            `k.yaml:3:13: projects[0].source`,
	} {
		_, err := Parse("k.yaml", []byte(src), env(nil), WithSources("argos", "other"))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", src, err, want)
		}
	}
	c, err := Parse("k.yaml", []byte("projects:\n  - name: p\n  - name: q\n    source: any\n"), env(nil))
	if err != nil || c.Projects[0].Source != "" || c.Projects[1].Source != "any" {
		t.Errorf("without WithSources: %+v, %v", c, err)
	}
}

// TestPageSize: page_size takes any positive count (the API documents no
// maximum); 0 or less is an error naming the field and its line.
func TestPageSize(t *testing.T) {
	for src, want := range map[string]int{
		"projects:\n  - name: p\n":                       0, // the source's default
		"projects:\n  - name: p\n    page_size: 1\n":     1,
		"projects:\n  - name: p\n    page_size: 250\n":   250,
		"projects:\n  - name: p\n    page_size: 50000\n": 50000,
	} {
		c, err := Parse("k.yaml", []byte(src), env(nil))
		if err != nil || c.Projects[0].PageSize != want {
			t.Errorf("%q: page size %+v, %v; want %d", src, c, err, want)
		}
	}
	for src, want := range map[string]string{
		"projects:\n  - name: p\n    page_size: 0\n":               "k.yaml:3: projects[0].page_size: 0: want a positive number",
		"projects:\n  - name: p\n  - name: q\n    page_size: -5\n": "k.yaml:4: projects[1].page_size: -5: want a positive number",
		"projects:\n  - name: p\n    page_size: lots\n":            `k.yaml:3:16: projects[0].page_size: "lots" is not a whole number`,
	} {
		_, err := Parse("k.yaml", []byte(src), env(nil))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", src, err, want)
		}
	}
}

// TestAllErrorsAtOnce: validation reports every problem, not the first.
func TestAllErrorsAtOnce(t *testing.T) {
	_, err := Parse("k.yaml", []byte("timezone: Nowhere\nprojects:\n  - name: p\n    api_url: nope\n"), env(nil))
	if err == nil || !strings.Contains(err.Error(), "timezone") || !strings.Contains(err.Error(), "api_url") {
		t.Errorf("error %v should name both timezone and api_url", err)
	}
}

func TestSecretsStayOut(t *testing.T) {
	c, err := Parse("k.yaml", []byte("projects:\n  - name: p\n    api_key_env: P_KEY\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Projects[0].APIKey(env(nil)); err == nil || !strings.Contains(err.Error(), "P_KEY is not set") {
		t.Errorf("missing key: %v", err)
	}
	if k, err := c.Projects[0].APIKey(env(map[string]string{"P_KEY": "secret"})); k != "secret" || err != nil {
		t.Errorf("key %q, %v", k, err)
	}
	_, err = c.Policy(env(nil))
	if err == nil || !strings.Contains(err.Error(), "KYCETL_PII_KEY (pii.key_env) is not set") {
		t.Errorf("policy without key: %v", err)
	}
	// Dropping every default-hashed column needs no key.
	var b strings.Builder
	b.WriteString("pii:\n  key_env: OTHER\n  columns:\n")
	for _, col := range func() []string {
		p, _ := c.Policy(env(map[string]string{"KYCETL_PII_KEY": "0123456789abcdef"}))
		return p.Hashed()
	}() {
		b.WriteString("    " + col + ": drop\n")
	}
	b.WriteString("projects:\n  - name: p\n")
	c, err = Parse("k.yaml", []byte(b.String()), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Policy(env(nil)); err != nil {
		t.Errorf("policy hashing nothing: %v", err)
	}
}

func bq(spec, project, dataset, location string) Warehouse {
	return Warehouse{Engine: EngineBigQuery, spec: spec, BigQuery: bigquery.Config{Project: project, Dataset: dataset, Location: location}}
}

func TestParseWarehouse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Warehouse
		ok   bool
	}{
		{"duckdb", Warehouse{Engine: EngineDuckDB}, true},
		{"bigquery://my-project-1/kyc_data", bq("bigquery://my-project-1/kyc_data", "my-project-1", "kyc_data", ""), true},
		{"bigquery://example.com:my-project/kyc", bq("bigquery://example.com:my-project/kyc", "example.com:my-project", "kyc", ""), true},
		{"bigquery://my-project-1/kyc?location=EU", bq("bigquery://my-project-1/kyc?location=EU", "my-project-1", "kyc", "EU"), true},
		{"bigquery://My-Project/kyc", Warehouse{}, false},
		{"bigquery://my-project", Warehouse{}, false},
		{"bigquery://my-project/", Warehouse{}, false},
		{"bigquery://my-project/a/b", Warehouse{}, false},
		{"DuckDB", Warehouse{}, false},
		{"", Warehouse{}, false},
	} {
		got, err := ParseWarehouse(tc.in)
		if (err == nil) != tc.ok || tc.ok && (got.Engine != tc.want.Engine || got.BigQuery.Project != tc.want.BigQuery.Project ||
			got.BigQuery.Dataset != tc.want.BigQuery.Dataset || tc.want.BigQuery.Location != "" && got.BigQuery.Location != tc.want.BigQuery.Location) {
			t.Errorf("ParseWarehouse(%q) = %+v, %v", tc.in, got, err)
		}
		if tc.ok && got.String() != tc.in {
			t.Errorf("%+v.String() = %q, want %q", got, got.String(), tc.in)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.yaml"), env(nil))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// FuzzParse: any bytes give a config or an error, never a panic, and a
// config that loads is valid.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile(filepath.Join("..", "..", "kycetl.example.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte("projects:\n  - name: p\n"))
	f.Add([]byte("projects: [{name: p, jobs: [{kind: hourly, schedule: '@every 1s'}]}]"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("dir: ${X}${\n"))
	f.Add([]byte("projects: [{name: p, page_size: 0}, {name: q, page_size: 300}]"))
	f.Add([]byte("projects: [{name: p, source: other}, {name: q, source: nope}, {name: r}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.yaml", data, env(map[string]string{"X": "v", "KYCETL_DIR": "d", "ARGOS_EU_API_URL": "https://x.example.com"}), WithSources("argos", "other"))
		if err != nil {
			return
		}
		if len(c.Projects) == 0 || c.Location == nil {
			t.Fatalf("valid config without projects or location: %+v", c)
		}
		for _, p := range c.Projects {
			if p.PageSize < 0 {
				t.Fatalf("valid config with page size %d", p.PageSize)
			}
			if p.Source != "argos" && p.Source != "other" {
				t.Fatalf("valid config with source %q", p.Source)
			}
			for _, j := range p.Jobs {
				if _, err := ParseSchedule(j.Schedule); err != nil {
					t.Fatalf("valid config with a bad schedule %q", j.Schedule)
				}
			}
		}
	})
}

func TestWellFormed(t *testing.T) {
	for s, want := range map[string]bool{
		"plain": true, "$A": true, "${A_1}": true, "a$$b": true, "$A/b": true, "${A}${B}": true,
		"${": false, "${}": false, "${a-b}": false, "$1": false, "x$": false, "$-": false, "${A": false,
	} {
		if got := wellFormed(s); got != want {
			t.Errorf("wellFormed(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestFractalProjects: a Fractal project takes its own keys and jobs of
// kind fractal only, which have no look-back; the ARGOS keys and kinds are
// refused on it, and its keys on an ARGOS project, each naming the line.
func TestFractalProjects(t *testing.T) {
	load := func(text string) (*Config, error) {
		return Parse("k.yaml", []byte(text), env(nil), WithSources("argos", FractalSource))
	}
	c, err := load("projects:\n  - name: f\n    source: fractal\n    client_id_env: MY_ID\n")
	if err != nil {
		t.Fatal(err)
	}
	p := c.Projects[0]
	if !p.IsFractal() || p.Fractal.ClientID != "MY_ID" || p.Fractal.ClientSecret != "FRACTAL_CLIENT_SECRET" || p.APIURL != "" ||
		len(p.Jobs) != 1 || p.Jobs[0].Kind != Fractal || p.Jobs[0].Schedule != "30 0 * * *" || p.Jobs[0].MaxCatchUpDays != 0 {
		t.Errorf("fractal project %+v", p)
	}
	if _, err := p.FractalSettings(env(map[string]string{"MY_ID": "id"})); err == nil || !strings.Contains(err.Error(), "FRACTAL_CLIENT_SECRET") {
		t.Errorf("no secret: %v, want an error naming FRACTAL_CLIENT_SECRET", err)
	}
	for text, want := range map[string]string{
		"projects:\n  - name: f\n    source: fractal\n    api_key_env: K\n":                                    "k.yaml:4: projects[0].api_key_env: is not a key of a fractal project",
		"projects:\n  - name: f\n    source: fractal\n    jobs:\n      - kind: nightly\n":                       "projects[0].jobs[0].kind: \"nightly\": a fractal project's jobs are of kind fractal",
		"projects:\n  - name: f\n    source: fractal\n    jobs:\n      - kind: fractal\n        lookback_days: 3\n": "a fractal job pulls today only",
		"projects:\n  - name: a\n    client_secret_env: S\n":                                                  "projects[0].client_secret_env: is a key of a fractal project",
		"projects:\n  - name: a\n    jobs:\n      - kind: fractal\n":                                             "\"fractal\" is the kind of a fractal project's job",
	} {
		if _, err := load(text); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", text, err, want)
		}
	}
}
