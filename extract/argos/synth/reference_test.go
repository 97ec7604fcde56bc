package synth_test

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/argos/synth"
)

// The field sets of the vendor's reference, as testdata/argos-fields.tsv names them.
const (
	idDocument     = "id_document"
	knowledgeBased = "knowledge_based"
)

// reference is the documented paths of each field set, with array markers
// ([i], [j]) dropped; opaque holds the Object and Array paths whose content
// the reference does not document (anything may be below them).
type reference struct {
	paths  map[string][]string
	opaque map[string]bool
}

func readReference(t *testing.T) reference {
	t.Helper()
	f, err := os.Open("../../../testdata/argos-fields.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ref := reference{paths: map[string][]string{}, opaque: map[string]bool{}}
	types := map[string]string{}
	sc := bufio.NewScanner(f)
	header := true
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if header {
			header = false
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) < 3 {
			t.Fatalf("argos-fields.tsv: short line %q", line)
		}
		path := strings.NewReplacer("[i]", "", "[j]", "").Replace(cols[0])
		if strings.HasPrefix(path, "nextpageKey") {
			continue // the response's pagination key, not a submission field
		}
		types[path] = cols[1]
		for _, set := range strings.Split(cols[2], ",") {
			ref.paths[set] = append(ref.paths[set], path)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for path, typ := range types {
		if typ != "Object" && typ != "Array" {
			continue
		}
		parent := false
		for other := range types {
			parent = parent || childOf(other, path)
		}
		ref.opaque[path] = !parent
	}
	if len(ref.paths[idDocument]) < 150 || len(ref.paths[knowledgeBased]) < 100 {
		t.Fatalf("argos-fields.tsv: %d ID-document and %d knowledge-based paths, want the whole reference", len(ref.paths[idDocument]), len(ref.paths[knowledgeBased]))
	}
	return ref
}

// childOf tells whether the documented path child lies below the documented
// path parent, a wildcard on either side matching any key.
func childOf(child, parent string) bool {
	cs, ps := strings.Split(child, "."), strings.Split(parent, ".")
	if len(cs) <= len(ps) {
		return false
	}
	for i, p := range ps {
		if p != cs[i] && !wildcard(p) && !wildcard(cs[i]) {
			return false
		}
	}
	return true
}

func wildcard(key string) bool { return key == "*" || key == "{item}" }

// emitted walks v and adds the path of every leaf (a scalar, null, or an
// empty object or array; an array of scalars is one leaf) to out, without
// array indices, as the reference writes paths.
func emitted(v *fastjson.Value, path string, out map[string]bool) {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		if o.Len() == 0 {
			out[path] = true
			return
		}
		o.Visit(func(k []byte, c *fastjson.Value) {
			key := string(k)
			if path != "" {
				key = path + "." + key
			}
			emitted(c, key, out)
		})
	case fastjson.TypeArray:
		elems := v.GetArray()
		if len(elems) == 0 {
			out[path] = true
		}
		for _, e := range elems {
			emitted(e, path, out)
		}
	default:
		out[path] = true
	}
}

// match tells whether path is the documented path doc, or lies below it.
// The wildcards of the reference match one key each: {item} any key of
// OCR_raw but rotate (documented on its own), * any key (of matchResults).
func match(doc, path string) (exact, below bool) {
	ds, ps := strings.Split(doc, "."), strings.Split(path, ".")
	if len(ps) < len(ds) {
		return false, false
	}
	for i, d := range ds {
		switch {
		case d == ps[i], d == "*", d == "{item}" && ps[i] != "rotate":
		default:
			return false, false
		}
	}
	return len(ps) == len(ds), len(ps) > len(ds)
}

// driftField tells the unknown fields of drift: any path with a key named
// with synth.UnknownFieldPrefix.
func driftField(path string) bool {
	return strings.HasPrefix(path, synth.UnknownFieldPrefix) || strings.Contains(path, "."+synth.UnknownFieldPrefix)
}

// documented tells whether an emitted path is a documented path of the set
// or lies below one whose content the reference leaves open.
func (ref reference) documented(set, path string) bool {
	for _, p := range ref.paths[set] {
		if exact, below := match(p, path); exact || (below && ref.opaque[p]) {
			return true
		}
	}
	return false
}

// compare reports the documented paths of set that the emitted paths (with
// how many items emitted each) never cover, or cover in fewer than min items,
// and the emitted paths the set does not document, and returns how many
// emitted paths are drift's unknown fields.
func (ref reference) compare(t *testing.T, what, set string, counts map[string]int, min int) (drifted int) {
	t.Helper()
	var missing, rare, extra []string
	for _, doc := range ref.paths[set] {
		n := 0
		for path, c := range counts {
			if exact, below := match(doc, path); exact || below {
				n = max(n, c)
			}
		}
		switch {
		case n == 0:
			missing = append(missing, doc)
		case n < min:
			rare = append(rare, doc)
		}
	}
	for path := range counts {
		switch {
		case driftField(path):
			drifted++
		case !ref.documented(set, path):
			extra = append(extra, path)
		}
	}
	slices.Sort(missing)
	slices.Sort(rare)
	slices.Sort(extra)
	if len(missing) > 0 {
		t.Errorf("%s: documented paths of %s never emitted: %v", what, set, missing)
	}
	if len(rare) > 0 {
		t.Errorf("%s: documented paths of %s emitted by fewer than %d items: %v", what, set, min, rare)
	}
	if len(extra) > 0 {
		t.Errorf("%s: emitted paths the reference does not document for %s: %v", what, set, extra)
	}
	return drifted
}

// TestSpeaksTheReference checks that the generator speaks the vendor's GET
// /submission reference (testdata/argos-fields.tsv) over a 60-day demo
// window at the default volume: every documented path of each field set is
// emitted, many times, by items of that set, and every emitted path is
// documented for the item's set, but the unknown fields of drift.
func TestSpeaksTheReference(t *testing.T) {
	ref := readReference(t)
	g := synth.New(17, synth.WithAsOf(late))
	// counts[set][path] is how many items of the set emit the path.
	counts := map[string]map[string]int{idDocument: {}, knowledgeBased: {}}
	items := map[string]int{}
	var p fastjson.Parser
	one := map[string]bool{}
	last := time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC)
	for d := last.AddDate(0, 0, -59); !d.After(last); d = d.AddDate(0, 0, 1) {
		for _, it := range g.Day(d) {
			v, err := p.ParseBytes(it)
			if err != nil {
				t.Fatal(err)
			}
			set := idDocument
			if v.Exists("data", "ssnNumber") {
				set = knowledgeBased
			}
			items[set]++
			clear(one)
			emitted(v, "", one)
			for path := range one {
				counts[set][path]++
			}
		}
	}
	drifted := 0
	for _, set := range []string{idDocument, knowledgeBased} {
		drifted += ref.compare(t, set+" items", set, counts[set], max(items[set]/200, 1))
	}
	if drifted == 0 {
		t.Error("no unknown field of drift seen: the exemption is untested")
	}
}

func TestReferenceReading(t *testing.T) {
	ref := readReference(t)
	for path, want := range map[string]bool{
		"aml.raw_data": true, "OCR_raw.{item}.coordinates": true, "duplicated_users": true,
		"verification.faceAge.conditionResults.matchResults.idCardCustomMatch": false,
		"kyc.attempts.liveness": false, "data": false, "pre_verification": false,
	} {
		if got := ref.opaque[path]; got != want {
			t.Errorf("opaque[%s] = %v, want %v", path, got, want)
		}
	}
	for _, c := range []struct {
		doc, path    string
		exact, below bool
	}{
		{"OCR_raw.{item}.value", "OCR_raw.number.value", true, false},
		{"OCR_raw.{item}.value", "OCR_raw.rotate.value", false, false},
		{"OCR_raw.{item}.coordinates", "OCR_raw.number.coordinates.x", false, true},
		{"verification.faceAge.conditionResults.matchResults.*.result", "verification.faceAge.conditionResults.matchResults.idCardCustomMatch.result", true, false},
		{"data.cf1", "data.cf10", false, false},
	} {
		if exact, below := match(c.doc, c.path); exact != c.exact || below != c.below {
			t.Errorf("match(%s, %s) = %v, %v, want %v, %v", c.doc, c.path, exact, below, c.exact, c.below)
		}
	}
	if !driftField(synth.UnknownFieldPrefix+"x") || !driftField("data."+synth.UnknownFieldPrefix+"cf9") || driftField("data.cf9") {
		t.Error("driftField does not tell the drift's unknown fields")
	}
}

// timeKeys are the keys whose values are timestamps, in either format.
var timeKeys = map[string]bool{
	"created_at": true, "updated_at": true, "kyc_result_at": true, "pending_at": true,
	"startButtonClickTime": true, "processStartTime": true, "processEndTime": true,
	"step1Time1st": true, "step1Time2nd": true, "step1Time3rd": true,
	"step2Time1st": true, "step2Time2nd": true, "step2Time3rd": true,
	"createTime": true, "time": true, "updateTime": true, "checkedAt": true,
}

// stamps calls fn with the key and time of every timestamp below v.
func stamps(t *testing.T, v *fastjson.Value, fn func(key string, at time.Time)) {
	o, err := v.Object()
	if err == nil {
		o.Visit(func(k []byte, c *fastjson.Value) {
			if timeKeys[string(k)] && c.Type() == fastjson.TypeString {
				at, err := argos.ParseTime(string(c.GetStringBytes()))
				if err != nil {
					t.Fatalf("%s: %v", k, err)
				}
				fn(string(k), at)
				return
			}
			stamps(t, c, fn)
		})
		return
	}
	for _, e := range v.GetArray() {
		stamps(t, e, fn)
	}
}

func timeOf(t *testing.T, v *fastjson.Value, keys ...string) time.Time {
	t.Helper()
	if v = v.Get(keys...); v == nil || v.Type() != fastjson.TypeString {
		return time.Time{}
	}
	at, err := argos.ParseTime(string(v.GetStringBytes()))
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// TestItemsAreConsistent checks what a reader of one item would cross-check:
// no timestamp before created_at, the session in time order, the result with
// its dates and reasons, retries counted in both places, AML matches only on
// a red flag.
func TestItemsAreConsistent(t *testing.T) {
	g := synth.New(23, synth.WithAsOf(late))
	var p fastjson.Parser
	for i := range 10 {
		for _, it := range g.Day(day0.AddDate(0, 0, i)) {
			v, err := p.ParseBytes(it)
			if err != nil {
				t.Fatal(err)
			}
			checkItem(t, v)
		}
	}
}

// checkItem checks one item as TestItemsAreConsistent says.
func checkItem(t *testing.T, v *fastjson.Value) {
	t.Helper()
	id := string(v.GetStringBytes("submission_id"))
	created := timeOf(t, v, "created_at")
	stamps(t, v, func(key string, at time.Time) {
		if at.Before(created) {
			t.Fatalf("%s: %s %s before created_at %s", id, key, at, created)
		}
	})
	click := timeOf(t, v, "signals", "startButtonClickTime")
	var prev time.Time
	for _, c := range v.GetArray("signals", "cameraProcessInfo") {
		start, end := timeOf(t, c, "processStartTime"), timeOf(t, c, "processEndTime")
		if start.Before(click) || end.Before(start) || start.Before(prev) {
			t.Fatalf("%s: camera process %s out of order", id, c)
		}
		prev = end
	}
	pvs := v.GetArray("pre_verification")
	if pv := v.Get("pre_verification"); pv != nil && pv.Type() == fastjson.TypeObject {
		pvs = []*fastjson.Value{pv}
	}
	for _, pv := range pvs {
		if !timeOf(t, pv, "created_at").Before(click) {
			t.Fatalf("%s: pre-verification after the start click", id)
		}
	}
	if acts := v.GetArray("Injection_action"); len(acts) > 0 {
		newest := timeOf(t, acts[0], "createTime")
		for k, a := range acts {
			if k > 0 && !timeOf(t, a, "createTime").Before(timeOf(t, acts[k-1], "createTime")) {
				t.Fatalf("%s: Injection_action not newest first", id)
			}
			if !timeOf(t, a, "time").Equal(newest) {
				t.Fatalf("%s: Injection_action.time is not the newest createTime", id)
			}
		}
	}
	retries := 0
	for _, a := range v.GetArray("kyc", "attempts") {
		retries += len(a.GetArray("retryCode"))
	}
	if n := len(v.GetArray("kyc", "retry")); v.Exists("OCR_raw") && n != retries {
		t.Fatalf("%s: %d kyc.retry entries, %d retry codes in the attempts", id, n, retries)
	}
	updated := timeOf(t, v, "updated_at")
	for _, k := range [][]string{{"kyc_result_at"}, {"pending_at"}, {"updateHistory", "updateTime"}} {
		if updated.Before(timeOf(t, v, k...)) {
			t.Fatalf("%s: updated_at %s before %s", id, updated, strings.Join(k, "."))
		}
	}
	switch status(v) {
	case argos.StatusApproved, argos.StatusRejected:
		if !v.Exists("kyc_result_at") || !v.Exists("reviewer") {
			t.Fatalf("%s: decided without kyc_result_at or reviewer", id)
		}
	default:
		if v.Exists("kyc_result_at") {
			t.Fatalf("%s: kyc_result_at on an undecided item", id)
		}
	}
	code := v.Get("kyc", "commentCode")
	reasons := code != nil && (len(code.GetArray()) > 0 || len(code.GetStringBytes()) > 0)
	if rejected := status(v) == argos.StatusRejected; rejected != reasons {
		t.Fatalf("%s: rejected %v, reasons %q", id, rejected, v.Get("kyc", "commentCode"))
	}
	if v.Exists("aml", "matches") != (string(v.GetStringBytes("aml", "currentstatus")) == "Red Flag") {
		t.Fatalf("%s: aml.matches and currentstatus disagree", id)
	}
}

// TestFixturesSpeakTheReference checks the two hand-written fixtures: each
// carries every documented path of its field set, nothing else, and is
// consistent.
func TestFixturesSpeakTheReference(t *testing.T) {
	ref := readReference(t)
	for file, set := range map[string]string{
		"submission_id_document.json":     idDocument,
		"submission_knowledge_based.json": knowledgeBased,
	} {
		raw, err := os.ReadFile("../../../testdata/" + file)
		if err != nil {
			t.Fatal(err)
		}
		v, err := fastjson.ParseBytes(raw)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		paths := map[string]bool{}
		emitted(v, "", paths)
		counts := map[string]int{}
		for p := range paths {
			counts[p] = 1
		}
		if ref.compare(t, file, set, counts, 1) > 0 {
			t.Errorf("%s carries drift's unknown fields", file)
		}
		checkItem(t, v)
	}
}
