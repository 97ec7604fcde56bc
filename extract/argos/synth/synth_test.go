package synth_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/argos/synth"
)

var (
	day0 = time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	late = time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC) // long after every test day
)

func TestDayIsDeterministicAndIndependent(t *testing.T) {
	a := synth.New(42, synth.WithAsOf(late))
	b := synth.New(42, synth.WithAsOf(late))
	d1, d2 := day0, day0.AddDate(0, 0, 1)
	a1, a2 := a.Day(d1), a.Day(d2)
	b2, b1 := b.Day(d2), b.Day(d1.Add(13*time.Hour)) // other order, any time of the day
	if !equalItems(a1, b1) || !equalItems(a2, b2) {
		t.Fatal("same seed and day gave different items")
	}
	if !equalItems(a1, a.Day(d1)) {
		t.Fatal("a second call gave different items")
	}
	if equalItems(a1, synth.New(43, synth.WithAsOf(late)).Day(d1)) {
		t.Fatal("another seed gave the same items")
	}
	if equalItems(a1, a2) {
		t.Fatal("two days gave the same items")
	}
}

func equalItems(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestItemsAreValidAndOnTheirDay(t *testing.T) {
	g := synth.New(1, synth.WithAsOf(late))
	var p fastjson.Parser
	ids := map[string]bool{}
	for i := range 5 {
		d := day0.AddDate(0, 0, i)
		items := g.Day(d)
		if len(items) < 150 || len(items) > 400 {
			t.Errorf("%s: %d items, want 150..400", argos.FormatDate(d), len(items))
		}
		var prev time.Time
		nearMidnight := 0
		for _, it := range items {
			if !json.Valid(it) {
				t.Fatalf("invalid JSON: %.200s", it)
			}
			if bytes.ContainsAny(it, "\n\t") {
				t.Fatalf("item is not compact: %.200s", it)
			}
			k, err := argos.ReadKey(&p, it)
			if err != nil {
				t.Fatalf("reading key: %v: %.200s", err, it)
			}
			if !argos.Day(k.CreatedAt).Equal(d) {
				t.Errorf("item created %s is not on %s", k.CreatedAt, argos.FormatDate(d))
			}
			if k.CreatedAt.Before(prev) {
				t.Errorf("items not in created_at order")
			}
			prev = k.CreatedAt
			if k.UpdatedAt.Before(k.CreatedAt) {
				t.Errorf("%s: updated_at %s before created_at %s", k.SubmissionID, k.UpdatedAt, k.CreatedAt)
			}
			if ids[k.SubmissionID] {
				t.Errorf("submission_id %s repeats", k.SubmissionID)
			}
			ids[k.SubmissionID] = true
			if off := k.CreatedAt.Sub(d); off < 30*time.Minute || off > 23*time.Hour+30*time.Minute {
				nearMidnight++
			}
		}
		if nearMidnight == 0 {
			t.Errorf("%s: no item within 30 minutes of midnight", argos.FormatDate(d))
		}
	}
}

// status is an item's status as the statistics page counts it.
func status(v *fastjson.Value) argos.Status {
	return argos.NormalizeStatus(argos.ScalarString(v.Get("kyc", "result")))
}

func TestStatusMixOverAMonth(t *testing.T) {
	g := synth.New(9, synth.WithAsOf(late))
	var p fastjson.Parser
	counts := map[argos.Status]int{}
	total, aml, kb, noResult := 0, 0, 0, 0
	for i := range 30 {
		for _, it := range g.Day(day0.AddDate(0, 0, i)) {
			v, err := p.ParseBytes(it)
			if err != nil {
				t.Fatal(err)
			}
			total++
			counts[status(v)]++
			if v.Get("aml") != nil && v.Get("aml").Type() == fastjson.TypeObject {
				aml++
			}
			if v.Exists("data", "ssnNumber") {
				kb++
			}
			if v.Get("kyc", "result") == nil {
				noResult++
			}
		}
	}
	share := func(n int) float64 { return float64(n) / float64(total) }
	for _, c := range []struct {
		what   string
		got    float64
		lo, hi float64
	}{
		{"approved", share(counts[argos.StatusApproved]), 0.57, 0.67},
		{"rejected", share(counts[argos.StatusRejected]), 0.14, 0.23},
		{"incomplete", share(counts[argos.StatusIncomplete]), 0.08, 0.16},
		{"pending", share(counts[argos.StatusPending]), 0.05, 0.11},
		{"aml", share(aml), 0.33, 0.47},
		{"knowledge-based", share(kb), 0.07, 0.13},
	} {
		if c.got < c.lo || c.got > c.hi {
			t.Errorf("%s share %.3f, want %.2f..%.2f", c.what, c.got, c.lo, c.hi)
		}
	}
	if noResult == 0 || noResult >= counts[argos.StatusIncomplete] {
		t.Errorf("%d items without kyc.result, want some but fewer than the %d incomplete", noResult, counts[argos.StatusIncomplete])
	}
	if len(counts) != 4 {
		t.Errorf("statuses %v, want exactly the four known ones", counts)
	}
}

// drifts lists the kinds of drift an item shows.
func drifts(v *fastjson.Value) []string {
	var out []string
	if c := v.Get("kyc", "commentCode"); c != nil && c.Type() == fastjson.TypeString {
		out = append(out, "comment_string")
	}
	if s := v.Get("recognition_score"); s != nil && s.Type() == fastjson.TypeString {
		out = append(out, "score_string")
	}
	if strings.Contains(argos.ScalarString(v.Get("created_at")), "T") {
		out = append(out, "iso_time")
	}
	if s := v.Get("tokenId"); s != nil && s.Type() == fastjson.TypeNull {
		out = append(out, "nulls")
	}
	if v.Exists(synth.UnknownFieldPrefix+"riskSignals") && v.Exists("data", synth.UnknownFieldPrefix+"cf9") {
		out = append(out, "unknown_fields")
	}
	if r := argos.ScalarString(v.Get("kyc", "result")); r != "" && r != strings.ToLower(r) {
		out = append(out, "capitalised_status")
	}
	return out
}

func TestDriftEveryKindEveryDay(t *testing.T) {
	var p fastjson.Parser
	for _, on := range []bool{true, false} {
		g := synth.New(5, synth.WithAsOf(late), synth.WithDrift(on))
		total, drifted := 0, 0
		for i := range 10 {
			d := day0.AddDate(0, 0, i)
			kinds := map[string]int{}
			for _, it := range g.Day(d) {
				v, err := p.ParseBytes(it)
				if err != nil {
					t.Fatal(err)
				}
				total++
				ds := drifts(v)
				if len(ds) > 0 {
					drifted++
				}
				for _, k := range ds {
					kinds[k]++
				}
				// Drift changes shapes, never identity.
				if _, err := argos.KeyOf(v); err != nil {
					t.Fatalf("drifted item unreadable: %v", err)
				}
			}
			if on && len(kinds) != 6 {
				t.Errorf("%s: drift kinds %v, want all 6", argos.FormatDate(d), kinds)
			}
			if !on && len(kinds) != 0 {
				t.Errorf("%s: drift %v with drift off", argos.FormatDate(d), kinds)
			}
		}
		if s := float64(drifted) / float64(total); on && (s < 0.10 || s > 0.17) {
			t.Errorf("%.3f of items drifted, want 0.10..0.17", s)
		}
	}
}

func TestAsOfResolvesPendingLater(t *testing.T) {
	early := synth.New(3, synth.WithAsOf(day0.Add(25*time.Hour)))
	later := synth.New(3, synth.WithAsOf(late))
	var p1, p2 fastjson.Parser
	e, l := early.Day(day0), later.Day(day0)
	if len(e) != len(l) {
		t.Fatalf("%d items early, %d later: the day is over in both", len(e), len(l))
	}
	resolved := 0
	for i := range e {
		ve, err := p1.ParseBytes(e[i])
		if err != nil {
			t.Fatal(err)
		}
		vl, err := p2.ParseBytes(l[i])
		if err != nil {
			t.Fatal(err)
		}
		if string(ve.GetStringBytes("submission_id")) != string(vl.GetStringBytes("submission_id")) {
			t.Fatal("asOf changed which items exist")
		}
		if ve.Get("data").String() != vl.Get("data").String() {
			t.Fatal("asOf changed an item's data")
		}
		se, sl := status(ve), status(vl)
		if se == sl {
			continue
		}
		if se != argos.StatusPending || (sl != argos.StatusApproved && sl != argos.StatusRejected) {
			t.Errorf("status went %s → %s, want pending → approved|rejected", se, sl)
		}
		ke, _ := argos.KeyOf(ve)
		kl, _ := argos.KeyOf(vl)
		if !argos.Newer(kl, ke) || !kl.UpdatedAt.After(ke.UpdatedAt) {
			t.Errorf("resolved copy is not newer: %s vs %s", kl.UpdatedAt, ke.UpdatedAt)
		}
		if !vl.Exists("kyc_result_at") || ve.Exists("kyc_result_at") {
			t.Errorf("kyc_result_at should appear with the decision")
		}
		resolved++
	}
	if resolved == 0 {
		t.Error("no pending item was resolved later")
	}

	midday := synth.New(3, synth.WithAsOf(day0.Add(12*time.Hour)))
	part := midday.Day(day0)
	if len(part) == 0 || len(part) >= len(l) {
		t.Errorf("at noon %d of %d items exist, want a part", len(part), len(l))
	}
}

func TestVolumeAndShareOptions(t *testing.T) {
	g := synth.New(1, synth.WithAsOf(late), synth.WithVolume(10, 10), synth.WithKnowledgeShare(1))
	items := g.Day(day0)
	if len(items) != 10 {
		t.Fatalf("%d items, want 10", len(items))
	}
	for _, it := range items {
		if !bytes.Contains(it, []byte(`"ssnNumber"`)) && bytes.Contains(it, []byte(`"full_name"`)) {
			t.Errorf("knowledge share 1 gave an item without ssnNumber: %.200s", it)
		}
		if bytes.Contains(it, []byte(`"OCR_raw"`)) {
			t.Errorf("knowledge-based item with OCR_raw")
		}
	}
	if n := len(synth.New(1, synth.WithAsOf(late), synth.WithVolume(-5, -9)).Day(day0)); n != 0 {
		t.Errorf("volume (-5,-9) gave %d items, want 0", n)
	}
}

func TestWriteNDJSON(t *testing.T) {
	g := synth.New(2, synth.WithAsOf(late), synth.WithVolume(20, 30))
	var buf bytes.Buffer
	n, err := g.WriteNDJSON(&buf, day0, day0.AddDate(0, 0, 2))
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	count := 0
	for i := range 3 {
		for _, it := range g.Day(day0.AddDate(0, 0, i)) {
			want = append(append(want, it...), '\n')
			count++
		}
	}
	if n != count || !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("wrote %d items (%d bytes), want %d (%d bytes)", n, buf.Len(), count, len(want))
	}
}

// BenchmarkDay generates one day of 2000 submissions.
func BenchmarkDay(b *testing.B) {
	g := synth.New(1, synth.WithVolume(2000, 2000), synth.WithAsOf(late))
	size := 0
	for b.Loop() {
		size = 0
		for _, it := range g.Day(day0) {
			size += len(it)
		}
	}
	b.ReportMetric(float64(size)/2000, "bytes/item")
}
