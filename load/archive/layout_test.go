package archive

import (
	"errors"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/kycetl/kycetl/transform/schema"
)

func TestLayoutPaths(t *testing.T) {
	l := Layout{Dir: filepath.FromSlash("/arch")}
	day := time.Date(2025, 2, 1, 23, 59, 0, 0, time.FixedZone("x", -3600)) // 2025-02-02 in UTC
	cases := []struct{ got, want string }{
		{l.RawPath("argos", "created_date", "acme", day, "R1"), "/arch/raw/argos/project=acme/created_date=2025-02-02/R1.ndjson.zst"},
		{l.ParquetPath(&schema.Table{Name: "submissions"}, "acme", day, "R1"), "/arch/parquet/submissions/project=acme/created_date=2025-02-02/R1.parquet"},
		{l.ManifestPath("R1"), "/arch/manifests/R1.json"},
		{l.DuckDBPath(), "/arch/kyc.duckdb"},
	}
	for _, c := range cases {
		if c.got != filepath.FromSlash(c.want) {
			t.Errorf("got %s, want %s", c.got, c.want)
		}
	}
	rel, err := l.Rel(l.ParquetPath(&schema.Table{Name: "t"}, "p", day, "R"))
	if err != nil || rel != "parquet/t/project=p/created_date=2025-02-02/R.parquet" {
		t.Errorf("Rel = %q, %v", rel, err)
	}
	if _, err := l.Rel(filepath.FromSlash("/elsewhere/x")); err == nil {
		t.Error("Rel accepted a path outside the archive")
	}
	if _, err := l.Abs("../x"); err == nil {
		t.Error("Abs accepted a path leaving the archive")
	}
	raw, _ := l.Rel(l.RawPath("fractal", "snapshot_date", "p", day, "R"))
	if src, err := RawSource(raw); src != "fractal" || err != nil {
		t.Errorf("RawSource(%s) = %q, %v; want fractal", raw, src, err)
	}
	for _, bad := range []string{rel, "raw//p", "raw/argos", ""} {
		if src, err := RawSource(bad); !errors.Is(err, ErrNotRaw) {
			t.Errorf("RawSource(%q) = %q, %v; want ErrNotRaw", bad, src, err)
		}
	}
}

func TestValidateProject(t *testing.T) {
	for _, ok := range []string{"acme", "acme-prod", "ACME_1", "a.b"} {
		if err := ValidateProject(ok); err != nil {
			t.Errorf("ValidateProject(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a/b", `a\b`, "a=b", "..", "a..b", ".", "a\nb"} {
		if err := ValidateProject(bad); err == nil {
			t.Errorf("ValidateProject(%q) accepted it", bad)
		}
	}
}

func TestNewRunID(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 4, 0, 123456789, time.FixedZone("CET", 3600))
	a := NewRunID(now, "")
	if !regexp.MustCompile(`^20261123T110400\.123456Z-[0-9a-f]{6}$`).MatchString(a) {
		t.Fatalf("run ID %q has the wrong shape", a)
	}
	if later := NewRunID(now.Add(time.Second), a); later <= a {
		t.Errorf("run IDs do not sort by time: %s then %s", a, later)
	}
	// Runs in one instant, or with the clock set back, still sort in the
	// order they were made, after those of older versions (seconds only).
	for _, c := range []struct {
		name  string
		now   time.Time
		after string
	}{
		{"same instant", now, a},
		{"clock set back", now.Add(-time.Hour), a},
		{"after a legacy run ID of the same second", now, "20261123T110400Z-ffffff"},
		{"after a legacy run ID of a later second", now, "20261123T120000Z-000000"},
	} {
		prev := c.after
		for i := 0; i < 3; i++ {
			id := NewRunID(c.now, prev)
			if id <= prev {
				t.Errorf("%s: run %d got %s, not after %s", c.name, i+1, id, prev)
			}
			prev = id
		}
	}
}
