package synth

import (
	"strconv"
	"strings"
)

// UnknownFieldPrefix starts the name of every field the unknown-field drift
// adds, so that no reader can take one for a field of the vendor's
// reference. The fields stand for what real exports carry before the
// reference lists it.
const UnknownFieldPrefix = "x_synth_"

// driftKind is one way real payloads depart from the vendor's reference.
type driftKind struct {
	name     string
	eligible func(*sub) bool
	// Every period-th eligible item of a day drifts, starting with the
	// offset-th, so each kind appears every day once a day has enough items.
	period, offset int
	apply          func(*sub)
}

var driftKinds = [...]driftKind{
	{"comment_string", func(s *sub) bool { return s.final == "rejected" }, 6, 0, commentAsString},
	{"score_string", func(s *sub) bool { return s.o.get("recognition_score") != nil }, 30, 1, scoresAsStrings},
	{"iso_time", func(*sub) bool { return true }, 40, 2, func(s *sub) { isoStamps(s.o) }},
	{"nulls", func(*sub) bool { return true }, 40, 5, optionalNulls},
	{"unknown_fields", func(*sub) bool { return true }, 45, 7, unknownFields},
	{"capitalised_status", func(s *sub) bool { return s.final != "incomplete" }, 45, 11, capitalisedStatus},
}

// drifter counts eligible items per kind over one day, in generation order.
type drifter struct {
	seen [len(driftKinds)]int
}

func (d *drifter) apply(s *sub) {
	for k, kind := range driftKinds {
		if !kind.eligible(s) {
			continue
		}
		n := d.seen[k]
		d.seen[k]++
		if n%kind.period == kind.offset {
			kind.apply(s)
		}
	}
}

// commentAsString turns kyc.comment and kyc.commentCode into plain strings,
// as the reference types them.
func commentAsString(s *sub) {
	k, ok := s.o.get("kyc").(obj)
	if !ok {
		return
	}
	for _, key := range []string{"comment", "commentCode"} {
		if v, ok := k.get(key).([]string); ok {
			k.replace(key, strings.Join(v, ","))
		}
	}
}

// scoresAsStrings sends the scores as numeric strings ("87.5"):
// recognition_score, argos_score and each attempt's faceSimilarityScore.
func scoresAsStrings(s *sub) {
	numericString(s.o, "recognition_score", "argos_score")
	if k, ok := s.o.get("kyc").(obj); ok {
		attempts, _ := k.get("attempts").([]obj)
		for _, a := range attempts {
			numericString(a, "faceSimilarityScore")
		}
	}
}

func numericString(o obj, keys ...string) {
	for _, key := range keys {
		if v, ok := o.get(key).(float64); ok {
			o.replace(key, strconv.FormatFloat(v, 'f', -1, 64))
		}
	}
}

// isoStamps renders every documented-format timestamp of an item in ISO 8601.
func isoStamps(o obj) {
	for i := range o {
		switch v := o[i].val.(type) {
		case stamp:
			o[i].val = isoStamp(v)
		case obj:
			isoStamps(v)
		case []obj:
			for _, e := range v {
				isoStamps(e)
			}
		}
	}
}

// optionalNulls sends null for optional fields instead of leaving them out.
func optionalNulls(s *sub) {
	if !s.o.replace("tokenId", nil) {
		s.o.set("tokenId", nil)
	}
	for _, key := range []string{"memo", "projection", "pending_at"} {
		s.o.replace(key, nil)
	}
	if d, ok := s.o.get("data").(obj); ok {
		d.replace("address_detail", nil)
		d.replace("cf1", nil)
	}
	if !s.kb && !s.o.replace("applicant_id", nil) {
		s.o.set("applicant_id", nil)
	}
}

// unknownFields adds fields the reference does not list (yet), named with
// UnknownFieldPrefix: an object at the top and a custom field in data.
func unknownFields(s *sub) {
	s.o.set(UnknownFieldPrefix+"riskSignals", obj{
		{"model", "rs-2025-07"},
		{"riskScore", 0.12},
		{"velocity", obj{{"sameDevice24h", 1}, {"sameIp24h", 2}}},
	})
	if i := s.o.index("data"); i >= 0 {
		if d, ok := s.o[i].val.(obj); ok {
			d.set(UnknownFieldPrefix+"cf9", "beta-flow")
			s.o[i].val = d
		}
	}
}

// capitalisedStatus sends "Approved" for "approved".
func capitalisedStatus(s *sub) {
	k, ok := s.o.get("kyc").(obj)
	if !ok {
		return
	}
	if v, ok := k.get("result").(string); ok && v != "" {
		k.replace("result", strings.ToUpper(v[:1])+v[1:])
	}
}
