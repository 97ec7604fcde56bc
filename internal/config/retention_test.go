package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestRetention(t *testing.T) {
	for src, want := range map[string]int{
		"":                                    KeepAll, // no limit: every version is kept
		"retention: {}\n":                     KeepAll,
		"retention:\n  superseded_days: 30\n": 30,
		"retention:\n  superseded_days: 0\n":  0,
	} {
		c, err := Parse("k.yaml", []byte(src+"projects:\n  - name: p\n"), env(nil))
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		if c.Retention.SupersededDays != want || c.Retention.Limited() != (want >= 0) {
			t.Errorf("%q: retention %+v, want %d days", src, c.Retention, want)
		}
	}
	for src, want := range map[string]string{
		"retention:\n  superseded_days: -1\n":  "k.yaml:2: retention.superseded_days: -1",
		"retention:\n  superseded_days: 30d\n": "k.yaml:2:",
		"retention:\n  keep: all\n":            `unknown field "keep"`,
	} {
		_, err := Parse("k.yaml", []byte(src+"projects:\n  - name: p\n"), env(nil))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one with %q", src, err, want)
		}
	}
	c, err := Load(filepath.Join("..", "..", "kycetl.example.yaml"), env(map[string]string{
		"KYCETL_DIR": "/data/kyc", "ARGOS_EU_API_URL": "https://eu.example.com",
	}), WithSources("argos", FractalSource))
	if err != nil {
		t.Fatal(err)
	}
	if c.Retention.SupersededDays != 30 || c.Retention.CompactAfterDays != 95 {
		t.Errorf("the example's retention is %+v, want 30 days", c.Retention)
	}
}

func TestRetentionCompaction(t *testing.T) {
	for src, want := range map[string]int{
		"":                                       0, // no compaction
		"retention:\n  compact_after_days: 35\n": 35,
	} {
		c, err := Parse("k.yaml", []byte(src+"projects:\n  - name: p\n"), env(nil))
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		if c.Retention.CompactAfterDays != want || c.Retention.Compacts() != (want > 0) {
			t.Errorf("%q: retention %+v, want compaction after %d days", src, c.Retention, want)
		}
	}
	for _, src := range []string{"retention:\n  compact_after_days: 0\n", "retention:\n  compact_after_days: -3\n", "retention:\n  compact_after_days: 35d\n"} {
		_, err := Parse("k.yaml", []byte(src+"projects:\n  - name: p\n"), env(nil))
		if err == nil || !strings.Contains(err.Error(), "k.yaml:2:") {
			t.Errorf("%q: error %v, want one naming k.yaml:2", src, err)
		}
	}
}
