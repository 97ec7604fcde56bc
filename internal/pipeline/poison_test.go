package pipeline_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/argos/sandbox"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/transform/schema"
)

// poisonDay is the day of poisonItems.
var poisonDay = time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)

// poisonItems once made a day unreadable or its averages meaningless
// (issue 21): text that is not UTF-8, numbers that are not finite or do
// not fit INT64, an item nested past Go's decoders' depth; and one plain
// submission beside them.
var poisonItems = [][]byte{
	[]byte("{\"submission_id\":\"utf8\",\"created_at\":\"2025-02-01T01:00:00Z\",\"email\":\"a\xff\xfe\xc3@x\",\"x\xffkey\":1,\"aml\":{\"raw_data\":{\"k\":\"\xc3\"}}}"),
	[]byte(`{"submission_id":"numbers","created_at":"2025-02-01T02:00:00Z","recognition_score":1e400,"argos_score":"NaN","kyc":{"attempts":[{"attemptCnt":1e30,"livenessScore":"Infinity"}]}}`),
	[]byte(`{"submission_id":"deep","created_at":"2025-02-01T03:00:00Z","x":` + strings.Repeat("[", 200000) + strings.Repeat("]", 200000) + `}`),
	[]byte(`{"submission_id":"plain","created_at":"2025-02-01T04:00:00Z","kyc":{"result":"approved"}}`),
}

type poisonSource struct{}

func (poisonSource) Day(d time.Time) [][]byte {
	if d.Equal(poisonDay) {
		return poisonItems
	}
	return nil
}

// TestNoValuePoisonsTheWarehouse fetches the poison items through the
// built-in API and imports them as a page file: both loads succeed, every
// table reads whole with SELECT *, the coercions are counted in load_runs,
// the deep item is quarantined, and the raw archive keeps the exact bytes.
func TestNoValuePoisonsTheWarehouse(t *testing.T) {
	ctx := context.Background()
	srv := sandbox.New(poisonSource{}, sandbox.WithAPIKey(apiKey))
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c, err := argos.NewClient(url, apiKey, argos.WithPageSize(2))
	if err != nil {
		t.Fatal(err)
	}
	page := append([]byte(`{"Items":[`), bytes.Join(poisonItems, []byte(","))...)
	page = append(page, "]}"...)
	file := filepath.Join(t.TempDir(), "page.json")
	if err := os.WriteFile(file, page, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, load := range []struct {
		name string
		run  func(e *env) error
	}{
		{"fetched", func(e *env) error {
			_, err := e.pl.Load(ctx, argos.NewExtractor(c), "run", "acme", poisonDay, poisonDay)
			return err
		}},
		{"imported", func(e *env) error { _, err := e.pl.Import(ctx, "acme", []string{file}); return err }},
	} {
		e := open(t, t.TempDir())
		if err := load.run(e); err != nil {
			t.Fatalf("%s: %v", load.name, err)
		}
		for _, tb := range schema.Partitioned() {
			rows, err := e.wh.DB().QueryContext(ctx, "SELECT * FROM "+tb.Name)
			if err != nil {
				t.Fatalf("%s: SELECT * FROM %s: %v", load.name, tb.Name, err)
			}
			for rows.Next() {
			}
			if err := rows.Err(); err != nil {
				t.Errorf("%s: reading %s: %v", load.name, tb.Name, err)
			}
			rows.Close()
		}
		if n := e.count(t, "SELECT count(*) FROM submissions"); n != 3 {
			t.Errorf("%s: %d submissions, want 3", load.name, n)
		}
		if n := e.count(t, "SELECT count(*) FROM quarantine WHERE reason LIKE '%deep%' OR reason LIKE '%depth%'"); n != 1 {
			t.Errorf("%s: %d deep items quarantined, want 1", load.name, n)
		}
		var coercions string
		if err := e.wh.DB().QueryRow("SELECT coercions_json FROM load_runs WHERE day = DATE '2025-02-01'").Scan(&coercions); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`"email"`, `"recognition_score"`, `"argos_score"`, `"kyc.attempts[].attemptCnt"`, "invalid UTF-8", "not a finite number", "does not fit INT64"} {
			if !strings.Contains(coercions, want) {
				t.Errorf("%s: load_runs.coercions_json lacks %s: %s", load.name, want, coercions)
			}
		}
		var raw [][]byte
		ms, err := e.layout.ReadManifests()
		if err != nil || len(ms) == 0 {
			t.Fatalf("%s: manifests %v", load.name, err)
		}
		for _, d := range ms[len(ms)-1].Days {
			for _, f := range d.Files {
				if f.Table == archive.RawTable {
					abs, _ := e.layout.Abs(f.Path)
					if err := archive.ReadRaw(abs, func(_ int, item []byte) error { raw = append(raw, bytes.Clone(item)); return nil }); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		for _, item := range poisonItems {
			found := false
			for _, r := range raw {
				found = found || bytes.Equal(r, item)
			}
			if !found {
				t.Errorf("%s: the raw archive lacks the exact bytes of %.40q", load.name, item)
			}
		}
	}
}
