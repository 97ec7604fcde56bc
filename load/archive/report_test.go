package archive

import (
	"strings"
	"testing"
)

func TestReportString(t *testing.T) {
	r := &Report{Manifests: 2, Files: 3, Bytes: 2_500_000, Unlisted: []string{"raw/x"},
		Problems: []Problem{{RunID: "r1", Path: "parquet/a.parquet", Kind: ProblemMissing, Detail: "no such file"}}}
	got := r.String()
	for _, want := range []string{"missing: parquet/a.parquet (run r1): no such file", "unlisted", "raw/x", "verified 3 files (2.5 MB) of 2 manifests: 1 PROBLEMS"} {
		if !strings.Contains(got, want) {
			t.Errorf("report %q lacks %q", got, want)
		}
	}
	if s := (&Report{Files: 1}).String(); !strings.HasSuffix(s, ": OK\n") {
		t.Errorf("a clean report reads %q", s)
	}
}
