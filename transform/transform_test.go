package transform

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/valyala/fastjson"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/transform/pii"
	"github.com/kycetl/kycetl/transform/schema"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

const testKey = "test-pii-key-0123456789"

// tableSink keeps every record as rows of JSON objects, by table.
type tableSink struct {
	rows map[string][]map[string]any
}

func newTableSink() *tableSink { return &tableSink{rows: map[string][]map[string]any{}} }

func (s *tableSink) Write(t *schema.Table, rec arrow.RecordBatch) error {
	b, err := rec.MarshalJSON()
	if err != nil {
		return err
	}
	var rows []map[string]any
	if err := json.Unmarshal(b, &rows); err != nil {
		return err
	}
	s.rows[t.Name] = append(s.rows[t.Name], rows...)
	return nil
}

func policy(t testing.TB) *pii.Policy {
	p, err := pii.New(pii.WithKey([]byte(testKey)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// flatten runs items of one day through a Flattener with a checked
// allocator, and fails the test if any Arrow memory leaks.
func flatten(t *testing.T, day string, items [][]byte, opts ...Option) (*tableSink, Result) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	d, err := argos.ParseDate(day)
	if err != nil {
		t.Fatal(err)
	}
	sink := newTableSink()
	f, err := New("acme", "run-1", d, sink, append([]Option{WithAllocator(mem), WithPolicy(policy(t))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		if err := f.Add(it, "test", int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := f.Close()
	if err != nil {
		t.Fatal(err)
	}
	return sink, res
}

func readLines(t testing.TB, path string) [][]byte {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out [][]byte
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, append([]byte(nil), sc.Bytes()...))
	}
	return out
}

func compact(t testing.TB, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// checkGolden compares got with testdata/golden/<name>, or rewrites it.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("..", "testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run `go test ./transform -update` if the change is intended.\ngot:\n%s", name, diffHint(got, want))
	}
}

func diffHint(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d:\n got: %s\nwant: %s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("lengths differ: %d vs %d lines", len(g), len(w))
}

func dump(t *testing.T, s *tableSink, res Result) []byte {
	t.Helper()
	out := map[string]any{"tables": s.rows, "result": res}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestGoldenFixtures(t *testing.T) {
	for _, tc := range []struct{ file, day string }{
		{"submission_id_document.json", "2025-03-14"},
		{"submission_knowledge_based.json", "2025-04-02"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			s, res := flatten(t, tc.day, [][]byte{compact(t, filepath.Join("..", "testdata", tc.file))})
			if res.Submissions != 1 || res.Quarantined != 0 || len(res.Coercions) != 0 {
				t.Errorf("result = %+v, want one clean submission", res)
			}
			checkGolden(t, strings.TrimSuffix(tc.file, ".json")+".golden.json", dump(t, s, res))
		})
	}
}

func TestGoldenDrift(t *testing.T) {
	s, res := flatten(t, "2025-02-01", readLines(t, filepath.Join("..", "testdata", "pages", "drift.ndjson")))
	checkGolden(t, "drift.golden.json", dump(t, s, res))

	if res.Submissions != 4 || res.Quarantined != 6 {
		t.Fatalf("submissions=%d quarantined=%d, want 4 and 6", res.Submissions, res.Quarantined)
	}
	byID := map[string]map[string]any{}
	for _, r := range s.rows["submissions"] {
		byID[r["submission_id"].(string)] = r
	}
	// Drifted values are read, not lost.
	if r := byID["drift-comment-string"]; r["status"] != "rejected" || r["recognition_score"] != 87.5 || r["argos_score"] != nil || r["date_of_birth"] != "1990-01-02" {
		t.Errorf("drift-comment-string = %v", r)
	}
	if r := byID["drift-incomplete"]; r["status"] != "incomplete" || r["kind"] != "knowledge_based" || r["attempt_count"] != float64(1) {
		t.Errorf("drift-incomplete = %v", r)
	}
	// An unparseable score is NULL, counted, and kept in extra.
	if extra, _ := byID["drift-comment-string"]["extra"].(string); !strings.Contains(extra, `"argos_score":"n/a"`) || !strings.Contains(extra, `"data.cf9":"new custom field"`) || !strings.Contains(extra, `"risk_signals":{"velocity":3}`) {
		t.Errorf("extra = %s", extra)
	}
	found := false
	for _, c := range res.Coercions {
		if c.Path == "argos_score" && c.Count == 1 {
			found = true
		}
	}
	if !found {
		t.Errorf("coercions %v lack argos_score", res.Coercions)
	}
	// A lone string comment is one rejection reason.
	if rr := s.rows["rejection_reasons"]; len(rr) != 1 || rr[0]["comment_code"] != "too_many_retry" {
		t.Errorf("rejection_reasons = %v", rr)
	}
	// The sensitive OCR value is hashed, never stored raw.
	for _, r := range s.rows["ocr_fields"] {
		if r["item"] == "identityNumber" && (r["value"] == "900101-1234567" || len(r["value"].(string)) != 64) {
			t.Errorf("identityNumber OCR value not hashed: %v", r["value"])
		}
	}
	// A hashed field's name is hashed wherever it appears, inside JSON
	// columns too.
	if ia := s.rows["injection_actions"]; len(ia) != 1 || !strings.Contains(fmt.Sprint(ia[0]["ip_risk"]), `"documentNumber":"hmac:`) || strings.Contains(fmt.Sprint(ia[0]["ip_risk"]), "M1234567") {
		t.Errorf("injection_actions = %v, want one row with documentNumber hashed", ia)
	}
	// Both readings of the lists the reference types as Object.
	if pv := s.rows["pre_verifications"]; len(pv) != 2 || pv[0]["is_valid"] != true || pv[0]["fraud_score"] != 12.0 {
		t.Errorf("pre_verifications = %v", pv)
	}
	// Duplicate links: each ID with its list; an element that is not an ID
	// is NULL and counted, and a lone ID is read as one element.
	var links []string
	for _, r := range s.rows["duplicate_links"] {
		links = append(links, fmt.Sprint(r["list"], "=", r["linked_submission_id"]))
	}
	if fmt.Sprint(links) != "[duplicated_users=dup-1 duplicated_users=<nil> duplicated_selfie_users=dup-3]" {
		t.Errorf("duplicate_links = %v", links)
	}
	if fd := s.rows["attempt_face_detections"]; len(fd) != 1 || fd[0]["age_range_high"] != 31.0 || fd[0]["gender_value"] != "Female" {
		t.Errorf("attempt_face_detections = %v", fd)
	}
	if fc := s.rows["face_age_conditions"]; len(fc) != 1 || fc[0]["final_result"] != false || fc[0]["id_card_custom_match_processed"] != true || fc[0]["id_card_custom_match_result"] != nil {
		t.Errorf("face_age_conditions = %v", fc)
	}
	if cp := s.rows["camera_processes"]; len(cp) != 1 || cp[0]["duration_seconds"] != 3.5 {
		t.Errorf("camera_processes = %v", cp)
	}
}

func TestQuarantineReasons(t *testing.T) {
	cases := map[string]string{
		`[1]`:                                   "not a JSON object",
		`{"created_at":"2025-02-01T00:00:00Z"}`: "no submission_id",
		`{"submission_id":"a"}`:                 "no created_at",
		`{"submission_id":"a","created_at":"soon"}`:                 "unreadable created_at",
		`{"submission_id":"a","created_at":"2025-02-03T00:00:00Z"}`: "does not belong to partition 2025-02-01",
		`{"submission_id":`: "not valid JSON",
		``:                  "not valid JSON",
	}
	for in, want := range cases {
		s, res := flatten(t, "2025-02-01", [][]byte{[]byte(in)})
		q := s.rows["quarantine"]
		if res.Quarantined != 1 || len(q) != 1 {
			t.Errorf("%q: quarantined %d", in, res.Quarantined)
			continue
		}
		if reason := q[0]["reason"].(string); !strings.Contains(reason, want) {
			t.Errorf("%q: reason %q, want %q", in, reason, want)
		}
		if len(s.rows["submissions"]) != 0 {
			t.Errorf("%q: a submission row was written", in)
		}
	}
}

// TestNothingLost walks every leaf of the fully populated fixtures and
// fails if a value is found in no table: a column value, its hash, or extra.
func TestNothingLost(t *testing.T) {
	hasher := policy(t).Hasher()
	for _, tc := range []struct{ file, day string }{
		{"submission_id_document.json", "2025-03-14"},
		{"submission_knowledge_based.json", "2025-04-02"},
	} {
		raw := compact(t, filepath.Join("..", "testdata", tc.file))
		s, _ := flatten(t, tc.day, [][]byte{raw})
		have := map[string]bool{}
		for _, rows := range s.rows {
			for _, r := range rows {
				for _, v := range r {
					for _, x := range stored(v) {
						have[x] = true
					}
				}
			}
		}
		var doc any
		json.Unmarshal(raw, &doc)
		leaves(doc, "", func(path string, v any) {
			if v == nil {
				return // stored as NULL
			}
			text := leafText(v)
			if have[text] || have[hasher.Hash([]byte(text))] {
				return
			}
			// Timestamps and dates are stored normalised.
			if tm, err := argos.ParseTime(text); err == nil && (have[tm.Format(time.RFC3339Nano)] || have[argos.FormatDate(tm)]) {
				return
			}
			t.Errorf("%s: %s = %q is in no table", tc.file, path, text)
		})
	}
}

// stored lists the texts a stored value stands for: itself, and for JSON
// columns every leaf inside.
func stored(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		out := []string{x, strings.TrimPrefix(x, "hmac:")}
		if tm, err := time.Parse(time.RFC3339Nano, x); err == nil {
			out = append(out, tm.UTC().Format(time.RFC3339Nano))
		}
		var inner any
		if (strings.HasPrefix(x, "{") || strings.HasPrefix(x, "[")) && json.Unmarshal([]byte(x), &inner) == nil {
			leaves(inner, "", func(_ string, l any) { out = append(out, leafText(l), strings.TrimPrefix(leafText(l), "hmac:")) })
		}
		return out
	default:
		return []string{leafText(x)}
	}
}

func leafText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return fmt.Sprint(x)
	case bool:
		return fmt.Sprint(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func leaves(v any, path string, fn func(string, any)) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			leaves(x[k], path+"."+k, fn)
		}
	case []any:
		for i, e := range x {
			leaves(e, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	default:
		fn(strings.TrimPrefix(path, "."), v)
	}
}

// TestChildRowCounts checks that every child table has exactly as many rows
// as the fixtures have array elements (or object entries) at its source, and
// that the fixtures between them fill every child table.
func TestChildRowCounts(t *testing.T) {
	total := map[string]int{}
	for _, tc := range []struct{ file, day string }{
		{"submission_id_document.json", "2025-03-14"},
		{"submission_knowledge_based.json", "2025-04-02"},
	} {
		raw := compact(t, filepath.Join("..", "testdata", tc.file))
		_, res := flatten(t, tc.day, [][]byte{raw})
		var doc map[string]any
		json.Unmarshal(raw, &doc)
		want := childCounts(doc)
		for _, c := range argos.Children() {
			if _, ok := want[c.Name]; !ok {
				t.Errorf("no expected count for child table %s", c.Name)
			}
		}
		for table, n := range want {
			total[table] += n
			if got := res.Rows[table]; got != int64(n) {
				t.Errorf("%s: %s: %d rows, want %d", tc.file, table, got, n)
			}
		}
	}
	for table, n := range total {
		// Both fixtures are approved: the drift page's rejected item fills
		// rejection_reasons (TestGoldenDrift).
		if n == 0 && table != "rejection_reasons" {
			t.Errorf("no fixture has an element for %s: together they must fill every table", table)
		}
	}
}

// childCounts counts, independently of the flattener, the rows each child
// table should get from one submission.
func childCounts(doc map[string]any) map[string]int {
	count := func(path string) int {
		var walk func(v any, parts []string) int
		walk = func(v any, parts []string) int {
			if len(parts) == 0 {
				switch x := v.(type) {
				case []any:
					return len(x)
				case map[string]any:
					return len(x)
				case string:
					return 1 // kyc.comment as a lone string
				}
				return 0
			}
			switch x := v.(type) {
			case map[string]any:
				return walk(x[parts[0]], parts[1:])
			case []any:
				n := 0
				for _, e := range x {
					n += walk(e, parts)
				}
				return n
			}
			return 0
		}
		return walk(doc, strings.Split(path, "."))
	}
	// A lone object where the reference types a list as Object is one
	// element; OCR_raw is the one object whose entries are rows.
	elems := func(path string) int {
		if v, ok := doc[path].(map[string]any); ok && v != nil {
			return 1
		}
		return count(path)
	}
	return map[string]int{
		"kyc_attempts": count("kyc.attempts"), "attempt_face_detections": count("kyc.attempts.detectFace"),
		"attempt_retry_messages": count("kyc.attempts.retryCode"),
		"kyc_retries":            count("kyc.retry"), "rejection_reasons": count("kyc.commentCode"),
		"aml_matches": count("aml.matches"), "camera_processes": count("signals.cameraProcessInfo"),
		"face_age_verifications": count("verification.faceAge"), "face_age_conditions": count("verification.faceAge.conditionResults"),
		"face_age_signals": count("signals.faceAge"),
		"ocr_fields":       count("OCR_raw"), "additional_fields": count("additional_list"),
		"duplicate_links":   count("duplicated_users") + count("duplicated_selfie_users"),
		"injection_actions": elems("Injection_action"), "pre_verifications": elems("pre_verification"),
	}
}

func TestPIIPolicy(t *testing.T) {
	raw := compact(t, filepath.Join("..", "testdata", "submission_knowledge_based.json"))
	dropPhone, err := pii.New(pii.WithKey([]byte(testKey)), pii.WithAction("submissions.phone_number", schema.Drop), pii.WithAction("submissions.email", schema.Hash))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := flatten(t, "2025-04-02", [][]byte{raw}, WithPolicy(dropPhone))
	r := s.rows["submissions"][0]
	if r["phone_number"] != nil {
		t.Errorf("phone_number = %v, want NULL (dropped)", r["phone_number"])
	}
	if e := r["email"].(string); e == "jordan.ellery@example.com" || len(e) != 64 {
		t.Errorf("email = %q, want a hash", e)
	}
	if ssn := r["ssn_number"].(string); strings.Contains(ssn, "000-12-3456") || len(ssn) != 64 {
		t.Errorf("ssn_number = %q, want a hash", ssn)
	}
	if _, err := pii.New(); !errors.Is(err, pii.ErrNoKey) {
		t.Errorf("a hashing policy without a key gave %v, want ErrNoKey", err)
	}
	if _, err := pii.New(pii.WithKey([]byte("too-short"))); !errors.Is(err, pii.ErrShortKey) {
		t.Errorf("a key of 9 bytes gave %v, want ErrShortKey", err)
	}
}

// flattenCopies flattens n copies of one submission, each with its own ID,
// batchRows at a time, into a sink that keeps nothing, and returns the
// batches each table arrived in and the most bytes the Flattener held at
// once.
func flattenCopies(t *testing.T, n, batchRows int) (batches map[string]int, peak int64) {
	t.Helper()
	raw := compact(t, filepath.Join("..", "testdata", "submission_id_document.json"))
	sink := &countingSink{}
	mem := &peakAllocator{mem: memory.NewCheckedAllocator(memory.NewGoAllocator())}
	defer mem.mem.AssertSize(t, 0)
	f, err := New("acme", "run-1", time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC), sink, WithBatchRows(batchRows), WithAllocator(mem), WithPolicy(policy(t)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		it := bytes.Replace(raw, []byte("q7x2m9k4v1z8t3p"), fmt.Appendf(nil, "id-%06d", i), 1)
		if err := f.Add(it, "test", int64(i)); err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
	}
	res, err := f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if res.Submissions != int64(n) || res.Quarantined != 0 {
		t.Fatalf("%d submissions and %d quarantined, want %d and none", res.Submissions, res.Quarantined, n)
	}
	return sink.n, mem.peak
}

// TestBatchesAreBatchRows: submissions reach the sink batchRows at a time,
// the remainder last.
func TestBatchesAreBatchRows(t *testing.T) {
	batches, _ := flattenCopies(t, 10, 3)
	if got := batches["submissions"]; got != 4 {
		t.Errorf("submissions arrived in %d batches, want 4 (3+3+3+1)", got)
	}
}

// TestBatchesBoundMemory: the most Arrow memory a Flattener holds at once
// depends on its batch size, not on how many items it is given.
func TestBatchesBoundMemory(t *testing.T) {
	_, few := flattenCopies(t, 20, 4)
	_, many := flattenCopies(t, 1000, 4)
	if many > few+few/2 {
		t.Errorf("peak of %d bytes for 1000 items, %d for 20: memory grows with the items", many, few)
	}
	// The measure sees what is buffered: one batch of all 1000 items holds
	// far more.
	_, whole := flattenCopies(t, 1000, 1000)
	t.Logf("peak bytes: 20 items %d, 1000 items %d (batches of 4); 1000 items in one batch %d", few, many, whole)
	if whole < 20*many {
		t.Errorf("peak of %d bytes for one batch of 1000 items, %d in batches of 4: want far more", whole, many)
	}
}

// peakAllocator notes the most bytes allocated and not yet freed at once.
type peakAllocator struct {
	mem       *memory.CheckedAllocator
	cur, peak int64
}

func (a *peakAllocator) Allocate(size int) []byte {
	a.grow(int64(size))
	return a.mem.Allocate(size)
}

func (a *peakAllocator) Reallocate(size int, b []byte) []byte {
	a.grow(int64(size - len(b)))
	return a.mem.Reallocate(size, b)
}

func (a *peakAllocator) Free(b []byte) {
	a.cur -= int64(len(b))
	a.mem.Free(b)
}

func (a *peakAllocator) grow(n int64) {
	a.cur += n
	a.peak = max(a.peak, a.cur)
}

type countingSink struct{ n map[string]int }

func (c *countingSink) Write(t *schema.Table, rec arrow.RecordBatch) error {
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[t.Name]++
	return nil
}

func TestSinkErrorStopsTheDay(t *testing.T) {
	f, err := New("acme", "run-1", time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC), failingSink{}, WithBatchRows(1), WithPolicy(policy(t)))
	if err != nil {
		t.Fatal(err)
	}
	err = f.Add(compact(t, filepath.Join("..", "testdata", "submission_id_document.json")), "test", 0)
	if !errors.Is(err, errDiskFull) || !strings.Contains(err.Error(), "writing submissions rows of acme 2025-03-14") {
		t.Errorf("err = %v, want the sink's error, naming the table and the partition", err)
	}
	f.Release()
}

type failingSink struct{}

var errDiskFull = errors.New("disk full")

func (failingSink) Write(*schema.Table, arrow.RecordBatch) error { return errDiskFull }

// FuzzFlatten: any bytes give one submission or one quarantine row, never a
// panic, and the records stay well formed.
func FuzzFlatten(f *testing.F) {
	f.Add(compact(f, filepath.Join("..", "testdata", "submission_id_document.json")))
	for _, l := range readLines(f, filepath.Join("..", "testdata", "pages", "drift.ndjson")) {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, item []byte) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		sink := &validatingSink{t: t}
		fl, err := New("acme", "run-1", time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), sink, WithAllocator(mem), WithPolicy(policy(t)))
		if err != nil {
			t.Fatal(err)
		}
		if err := fl.Add(item, "fuzz", 0); err != nil {
			t.Fatal(err)
		}
		res, err := fl.Close()
		if err != nil {
			t.Fatal(err)
		}
		if res.Submissions+res.Quarantined != 1 {
			t.Fatalf("submissions %d + quarantined %d != 1", res.Submissions, res.Quarantined)
		}
	})
}

type validatingSink struct{ t *testing.T }

func (v *validatingSink) Write(t *schema.Table, rec arrow.RecordBatch) error {
	if !rec.Schema().Equal(t.ArrowSchema()) {
		v.t.Fatalf("%s: schema %v", t.Name, rec.Schema())
	}
	for i := 0; i < int(rec.NumCols()); i++ {
		if err := array.ValidateFull(rec.Column(i)); err != nil {
			v.t.Fatalf("%s.%s: %v", t.Name, rec.Schema().Field(i).Name, err)
		}
	}
	return nil
}

// TestTextOfParsedItemStaysIntact: a value rendered as text (a number in a
// text column) must not be written over the parsed bytes of a string
// column appended before it, which derived columns may still read.
func TestTextOfParsedItemStaysIntact(t *testing.T) {
	f, err := New("acme", "run-1", time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), newTableSink(), WithPolicy(policy(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	var p fastjson.Parser
	v, err := p.Parse(`{"kyc":{"result":"rejected"},"n":12}`)
	if err != nil {
		t.Fatal(err)
	}
	tb := f.subs
	col := -1
	for i, c := range tb.cols {
		if c.Path == "kyc.result" {
			col = i
		}
	}
	if col < 0 {
		t.Fatal("no kyc.result column")
	}
	f.appendValue(tb, col, tb.rb.Field(col), v.Get("kyc", "result"))
	f.appendValue(tb, col, tb.rb.Field(col), v.Get("n"))
	if got := string(v.Get("kyc", "result").GetStringBytes()); got != "rejected" {
		t.Errorf("kyc.result reads %q after another value was rendered, want rejected", got)
	}
}

// TestOddValuesAreCoercedAndCounted: text that is not UTF-8 keeps its valid
// part with U+FFFD for the bad bytes, in typed, extra and JSON columns and
// keys alike; numbers that are not finite or do not fit INT64 are NULL; each
// is counted under its path with its reason.
func TestOddValuesAreCoercedAndCounted(t *testing.T) {
	item := "{\"submission_id\":\"odd\",\"created_at\":\"2025-02-01T00:00:00Z\",\"email\":\"a\xff\xfe\xc3@x\"," +
		"\"x\xffkey\":\"v\xfe\",\"aml\":{\"raw_data\":{\"k\":\"\xc3\"}},\"OCR_raw\":{\"n\xffum\":{\"value\":\"ok\"}}," +
		"\"recognition_score\":1e400,\"argos_score\":\"NaN\"," +
		"\"kyc\":{\"attempts\":[{\"attemptCnt\":1e30,\"livenessScore\":\"Infinity\"},{\"attemptCnt\":\"99999999999999999999\",\"faceSimilarityScore\":\"-Inf\"}]}}"
	s, res := flatten(t, "2025-02-01", [][]byte{[]byte(item)})
	sub := s.rows["submissions"][0]
	if sub["email"] != "a\uFFFD\uFFFD\uFFFD@x" {
		t.Errorf("email = %q, want the bad bytes as U+FFFD", sub["email"])
	}
	if sub["recognition_score"] != nil || sub["argos_score"] != nil {
		t.Errorf("scores = %v, %v; want NULL for 1e400 and NaN", sub["recognition_score"], sub["argos_score"])
	}
	if extra := fmt.Sprint(sub["extra"]); !strings.Contains(extra, "\"x\uFFFDkey\":\"v\uFFFD\"") {
		t.Errorf("extra = %s, want the unknown key and value with U+FFFD", extra)
	}
	if raw := fmt.Sprint(sub["aml_raw_data"]); raw != "{\"k\":\"\uFFFD\"}" {
		t.Errorf("aml_raw_data = %s", raw)
	}
	if item := s.rows["ocr_fields"][0]["item"]; item != "n\uFFFDum" {
		t.Errorf("ocr_fields.item = %q", item)
	}
	for _, a := range s.rows["kyc_attempts"] {
		if a["attempt_cnt"] != nil || a["liveness_score"] != nil || a["face_similarity_score"] != nil {
			t.Errorf("attempt = %v, want NULL counts and scores", a)
		}
	}
	want := map[string]string{
		"email": "invalid UTF-8, replaced by U+FFFD", "x\uFFFDkey": "invalid UTF-8, replaced by U+FFFD",
		"aml.raw_data": "invalid UTF-8, replaced by U+FFFD", "OCR_raw.*": "invalid UTF-8, replaced by U+FFFD",
		"recognition_score": "not a finite number", "argos_score": "not a finite number",
		"kyc.attempts[].attemptCnt": "integer does not fit INT64", "kyc.attempts[].livenessScore": "not a finite number",
		"kyc.attempts[].faceSimilarityScore": "not a finite number",
	}
	got := map[string]string{}
	for _, c := range res.Coercions {
		got[c.Path] = c.Reason
	}
	for path, reason := range want {
		if got[path] != reason {
			t.Errorf("coercion of %q: %q, want %q (all: %v)", path, got[path], reason, res.Coercions)
		}
	}
}
