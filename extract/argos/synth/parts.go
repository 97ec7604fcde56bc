package synth

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// ocrFields draws what OCR read from the person's ID (OCR_raw, keyed by item,
// and ocr) and what the applicant confirmed (review, nil when the project has
// no review step). Now and then OCR misreads the document number with a low,
// unaccepted score, and the applicant corrects it in review.
func ocrFields(r *rand.Rand, p *person, created time.Time) (raw, ocr, review obj) {
	issued, expire := p.issued(created), p.expires(created)
	layout := printedDate(p.issuing)
	misread := r.IntN(16) == 0
	number := p.documentNumber
	if misread {
		number = misreadDigit(r, number)
	}
	sex := "M"
	if p.female {
		sex = "F"
	}
	raw = make(obj, 0, 12)
	raw.set("rotate", obj{{"value", pick(r, []string{"0", "0", "0", "90", "180"})}})
	y := 100
	item := func(key, value string, bad bool) {
		score := 70 + r.IntN(30)
		if bad {
			score = 40 + r.IntN(30)
		}
		box := obj{{"x", 100 + r.IntN(30)}, {"y", y}, {"width", 150 + r.IntN(300)}, {"height", 24 + r.IntN(40)}}
		raw.set(key, obj{{"value", value}, {"score", score}, {"accepted", score >= 70}, {"coordinates", box}})
		y += 40 + r.IntN(20)
	}
	item("fullName", strings.ToUpper(p.fullName()), false)
	item("birthDate", p.dob.Format(layout), false)
	item("gender", sex, false)
	item("nationality", p.c.code, false)
	item("number", number, misread)
	extra := [...]struct{ ocrKey, reviewKey, value string }{
		{"licenseNumber", "licenseNumber", p.licenseNumber},
		{"identityNumber", "identityNumber", koreanOnly(p)},
		{"curpNumber", "curpNumber", p.curp},
		{"serialNumber", "", p.serial},
	}
	for _, e := range extra {
		if e.value != "" {
			item(e.ocrKey, e.value, false)
		}
	}
	item("issueDate", issued.Format(layout), false)
	item("expireDate", expire.Format(layout), false)

	ocr = obj{
		{"birthDate", p.dob.Format("2006-01-02")}, {"issueDate", issued.Format("2006-01-02")},
		{"expireDate", expire.Format("2006-01-02")}, {"firstName", p.first}, {"lastName", p.last},
		{"fullName", p.fullName()}, {"gender", p.gender()}, {"number", number},
	}
	for _, e := range extra[:3] {
		if e.value != "" {
			ocr.set(e.ocrKey, e.value)
		}
	}
	ocr.set("nationality", p.c.code)
	if p.serial != "" {
		ocr.set("serialNumber", p.serial)
	}
	if !misread && r.IntN(10) < 3 {
		return raw, ocr, nil
	}
	review = obj{
		{"birthDate", p.dob.Format("2006-01-02")}, {"issueDate", issued.Format("2006-01-02")},
		{"expireDate", expire.Format("2006-01-02")}, {"fullName", p.fullName()}, {"gender", p.gender()},
		{"nationality", p.c.code}, {"documentNumber", p.documentNumber},
	}
	for _, e := range extra[:3] {
		if e.value != "" {
			review.set(e.reviewKey, e.value)
		}
	}
	return raw, ocr, review
}

// koreanOnly is the identity number OCR reads: only Korean IDs carry one.
func koreanOnly(p *person) string {
	if p.issuing == "KOR" {
		return p.identityNumber
	}
	return ""
}

// printedDate is how an issuing country prints dates on its IDs.
func printedDate(issuing string) string {
	switch issuing {
	case "USA":
		return "01/02/2006"
	case "KOR", "JPN":
		return "2006.01.02"
	}
	return "02.01.2006"
}

// misreadDigit changes one digit of s, as OCR does on a worn document.
func misreadDigit(r *rand.Rand, s string) string {
	b := []byte(s)
	var digits []int
	for i, c := range b {
		if c >= '0' && c <= '9' {
			digits = append(digits, i)
		}
	}
	if len(digits) == 0 {
		return s
	}
	i := pick(r, digits)
	b[i] = '0' + (b[i]-'0'+1+byte(r.IntN(9)))%10
	return string(b)
}

// duplicates draws duplicated_users and duplicated_selfie_users: submission
// IDs with the same PII or the same face, always there for duplicate
// rejections and now and then otherwise.
func duplicates(r *rand.Rand, rej rejection) (pii, selfie []string) {
	pii, selfie = []string{}, []string{}
	nPII, nSelfie := 0, 0
	if x := r.Float64(); x < 0.06 || rej.code == "duplicate_user" || rej.code == "duplicated_user_PII_exact" {
		nPII = 1 + r.IntN(2)
	}
	if x := r.Float64(); x < 0.04 || rej.code == "duplicated_face" {
		nSelfie = 1 + r.IntN(2)
	}
	for range nPII {
		pii = append(pii, randomID(r, 15))
	}
	for range nSelfie {
		selfie = append(selfie, randomID(r, 15))
	}
	return pii, selfie
}

// additionalList draws the answers to the dashboard's additional form, nil
// for projects without one.
func additionalList(r *rand.Rand) []obj {
	n := r.IntN(3)
	if n == 0 {
		return nil
	}
	first := r.IntN(len(additionalFields))
	list := make([]obj, n)
	for i := range list {
		f := additionalFields[(first+i)%len(additionalFields)]
		list[i] = obj{{"answer", f.answer}, {"inputValue", pick(r, f.values)}, {"blockType", f.blockType}}
	}
	return list
}

func amlResult(r *rand.Rand) obj {
	if r.Float64() < 0.7 {
		return obj{{"raw_data", obj{}}, {"risk_level_summary", "Not Screened"}, {"currentstatus", "Not Screened"}}
	}
	levels := []string{"LOW", "MEDIUM", "HIGH"}
	n := 1 + r.IntN(3)
	matches := make([]obj, n)
	top := 0
	score := 95 - r.Float64()*15
	for k := range matches {
		lvl := r.IntN(3)
		top = max(top, lvl)
		icons := []string{pick(r, riskIcons)}
		if r.IntN(3) == 0 {
			icons = append(icons, pick(r, riskIcons))
		}
		matches[k] = obj{
			{"risk_level", levels[lvl]},
			{"argos_number", fmt.Sprintf("ARG-%06d", r.IntN(1e6))},
			{"resource_id", randomHex(r, 24)},
			{"score", round(score, 1)},
			{"risk_icons", icons},
		}
		score -= 3 + r.Float64()*12
	}
	summary := levels[top]
	if r.IntN(3) == 0 {
		// Both spellings occur in real payloads.
		summary = summary[:1] + strings.ToLower(summary[1:])
	}
	raw := obj{{"search_id", 10000000 + r.IntN(9e7)}, {"total_hits", n}, {"match_status", "potential_match"}, {"fuzziness", 0.6}}
	return obj{{"raw_data", raw}, {"risk_level_summary", summary}, {"currentstatus", "Red Flag"}, {"matches", matches}}
}

// preVerification draws the IP checks run between the submission's creation
// and the start click, and returns when the last ended. A blocked applicant's
// last check fails (a data-centre IP seen very often) and they go no further.
//
// The reference is ambiguous here: it types pre_verification as an Object
// with request_id, created_at, ... but describes it as a "List of
// pre-verification objects". Both readings are served: 3 in 4 submissions
// carry pre_verification (all blocked ones), 70% of them as one object and
// 30% as an array of one to three objects in time order.
func preVerification(r *rand.Rand, t time.Time, p *person, ip string, blocked bool) (any, time.Time) {
	present := r.IntN(4) != 0 || blocked
	asList := r.IntN(10) < 3
	n := 1
	if asList {
		n = 1 + r.IntN(3)
	}
	list := make([]obj, n)
	for i := range list {
		t = t.Add(ms(r, 40, 250))
		score, freq, conn, valid := r.IntN(40), attemptsFreq[r.IntN(2)], pick(r, connections), true
		if i > 0 {
			freq = "Frequent" // the same subnet again, moments later
		}
		if blocked && i == n-1 {
			score, freq, conn, valid = 85+r.IntN(15), "VeryFrequent", "DataCenter", false
		}
		list[i] = obj{
			{"request_id", "pv_" + randomHex(r, 16)}, {"created_at", stamp(t)}, {"ip_address", ip},
			{"fraud_score", score}, {"attempts_frequency", freq}, {"country_code", p.residenceISO2()},
			{"connection_type", conn}, {"is_valid", valid},
		}
	}
	switch {
	case !present:
		return nil, t
	case asList:
		return list, t
	}
	return list[0], t
}

// injectionAction draws the address injection an applicant may go through
// after the start click: the entered address is checked against the IP's
// location and the IP's risk. Earlier tries failed (an address far from the
// IP); the last one passed.
// It returns the action and when the last try ended.
//
// The reference is ambiguous here: it types Injection_action as an Object
// (type, time, attemptStatus, createTime, userInput, option) but orders
// createTime "newest first" and calls time the most recent execution of the
// type, which only make sense for several of them. Both readings are served:
// 12% of ID-document submissions that got past the start carry it; a single
// try is one object (3 in 4) or an array of one, two or three tries are an
// array, newest first. About 60% of them are objects, 40% arrays.
func injectionAction(r *rand.Rand, t time.Time, p *person, ip string) (any, time.Time) {
	n := oneToThree(r, 0.05, 0.15)
	asList := n > 1 || r.IntN(4) == 0
	at := make([]time.Time, n)
	for i := range at {
		t = t.Add(ms(r, 5000, 60000))
		at[i] = t
	}
	pl := p.place
	list := make([]obj, n)
	for i := range list {
		ok := i == n-1
		dist, risk := round(0.5+r.Float64()*40, 1), pick(r, []string{"low", "low", "low", "medium"})
		if !ok {
			dist = round(150+r.Float64()*800, 1) // a mistyped address, far from the IP
		}
		list[n-1-i] = obj{
			{"type", "address"},
			{"time", stamp(at[n-1])},
			{"attemptStatus", passFail(ok, "success", "fail")},
			{"createTime", stamp(at[i])},
			{"userInput", obj{{"address", obj{
				{"street", pl.street}, {"city", pl.city}, {"state", pl.state}, {"zipcode", pl.zip}, {"country", p.residence},
			}}}},
			{"option", obj{
				{"distanceChecks", obj{{"service", "ipGeolocation"}, {"distanceKm", dist}, {"maxDistanceKm", 100}, {"result", passFail(dist <= 100, "pass", "fail")}}},
				{"ipRisk", obj{{"category", risk}, {"prohibitionMinutes", 0}}},
				{"ipVerification", obj{{"ip", ip}, {"countryCode", p.residenceISO2()}, {"city", pl.city}}},
			}},
		}
	}
	if asList {
		return list, t
	}
	return list[0], t
}

// bankVerification is the account check of Korean residents before step2:
// a 1 KRW transfer with a code (occupancy), whose sending may fail and be
// retried, or a name check.
func bankVerification(r *rand.Rand, t time.Time) (obj, time.Time) {
	typ, retries := "occupancy", 0
	if r.IntN(10) < 4 {
		typ = "nameCheck"
	} else if r.IntN(5) == 0 {
		retries = 1 + r.IntN(2)
	}
	b := obj{
		{"result", passFail(r.IntN(15) != 0, "success", "fail")},
		{"type", typ},
		{"bank_code", pick(r, bankCodes)},
		{"account_number", fmt.Sprintf("%03d-***-***%03d", r.IntN(1000), r.IntN(1000))},
		{"retry_count", retries},
	}
	return b, t.Add(ms(r, 20000, 90000))
}

// idLivenessScore draws the ID card liveness of the three pipelines (1 is a
// live document); rejections of the ID image score lower on one of them.
func idLivenessScore(r *rand.Rand, rej rejection) obj {
	s := [3]float64{}
	for i := range s {
		s[i] = round(0.85+r.Float64()*0.149, 4)
	}
	if strings.HasPrefix(rej.code, "id_image") {
		s[r.IntN(3)] = round(0.05+r.Float64()*0.4, 4)
	}
	return obj{{"Screen_play", s[0]}, {"Paper_printed", s[1]}, {"Replace_portraits", s[2]}}
}
