package synth

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// sub is one generated submission before encoding, with what drift needs to
// know about it.
type sub struct {
	o       obj
	created time.Time
	final   string // the status it ends with, whatever asOf shows
	kb      bool
}

// person is an applicant: the same userid always has the same person.
type person struct {
	userid           string
	c                *country
	female           bool
	first, last      string
	dob              time.Time
	email, phone     string
	ssn              string
	identityNumber   string
	documentNumber   string
	place            place
	street2          string
	permitKOR        bool // a foreigner verifying with a Korean residence card
	permit           string
	idType           string
	issueYearsBefore int
}

func (p *person) fullName() string {
	if p.c.langFirst {
		return p.last + " " + p.first
	}
	return p.first + " " + p.last
}

func (p *person) gender() string {
	if p.female {
		return "female"
	}
	return "male"
}

// person draws applicant user's stable attributes from the user's own stream.
func (g *Generator) person(user int, kb bool) *person {
	r := rand.New(rand.NewPCG(g.userKey(user), 7))
	p := &person{userid: fmt.Sprintf("user-%05d", user)}
	p.c = pickCountry(r)
	if kb {
		// Knowledge-based checks verify US applicants against SSN records.
		p.c = &countries[0]
	}
	p.female = r.IntN(2) == 0
	sex := 1
	if p.female {
		sex = 0
	}
	p.first = pick(r, p.c.first[sex])
	p.last = pick(r, p.c.last)
	// Adults in the 2020s, and about 2% minors who try anyway.
	p.dob = time.Date(2006, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -int(math.Abs(r.NormFloat64())*14*365))
	if r.IntN(50) == 0 {
		p.dob = time.Date(2009+r.IntN(3), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
	}
	p.email = fmt.Sprintf("%s.%s%d@%s", ascii(p.first), ascii(p.last), r.IntN(100), pick(r, mailDomains))
	p.phone = fmt.Sprintf("+1555555%04d", 100+r.IntN(100))
	p.ssn = fmt.Sprintf("000-%02d-%04d", r.IntN(100), r.IntN(10000))
	p.identityNumber = idNumber(r, p.c.code)
	p.documentNumber = fmt.Sprintf("%c%08d", 'A'+rune(r.IntN(26)), r.IntN(1e8))
	p.place = pick(r, p.c.places)
	if r.IntN(3) == 0 {
		p.street2 = fmt.Sprintf("Apt %d%c", 1+r.IntN(20), 'A'+rune(r.IntN(6)))
	}
	p.idType = pick(r, p.c.idTypes)
	if p.c.code != "KOR" && !kb && r.IntN(8) == 0 {
		p.permitKOR = true
		p.idType = "foreign_registrator"
		p.permit = pick(r, permits)
		p.place = countries[1].places[r.IntN(len(countries[1].places))]
	}
	p.issueYearsBefore = 1 + r.IntN(8)
	return p
}

func idNumber(r *rand.Rand, code string) string {
	switch code {
	case "USA":
		return fmt.Sprintf("D%03d-%04d-%04d", r.IntN(1000), r.IntN(10000), r.IntN(10000))
	case "KOR":
		return fmt.Sprintf("%06d-*******", r.IntN(1e6))
	case "IND":
		return fmt.Sprintf("%04d %04d %04d", r.IntN(1e4), r.IntN(1e4), r.IntN(1e4))
	case "MEX":
		return fmt.Sprintf("%c%c%c%c%06dH%s", 'A'+rune(r.IntN(26)), 'A'+rune(r.IntN(26)), 'A'+rune(r.IntN(26)), 'A'+rune(r.IntN(26)), r.IntN(1e6), "DFRRN09")
	}
	return fmt.Sprintf("%09d", r.IntN(1e9))
}

// build draws one submission created on day d. Every random draw happens
// whatever asOf is (asOf only decides what is shown), so the same item has
// the same content at any asOf.
func (g *Generator) build(r *rand.Rand, d time.Time) *sub {
	s := &sub{}
	s.created = d.Add(createdOffset(r))
	s.kb = r.Float64() < g.kbShare
	user := r.IntN(g.users)
	if s.kb {
		user += g.users // a separate pool: KB applicants are US residents
	}
	p := g.person(user, s.kb)
	id := randomID(r, 15)

	// The final outcome; about 2% of attempts are minors, always rejected.
	minor := s.created.Sub(p.dob) < 18*365*24*time.Hour
	u := r.Float64()
	switch {
	case minor:
		s.final = "rejected"
	case u < 0.625:
		s.final = "approved"
	case u < 0.80:
		s.final = "rejected"
	case u < 0.92:
		s.final = "incomplete"
	default:
		s.final = "pending"
	}
	var rej rejection
	if s.final == "rejected" {
		rej = pickRejection(r, minor, s.kb)
	}
	viaPending := s.final == "pending" ||
		(s.final == "approved" && r.Float64() < 0.2) ||
		(s.final == "rejected" && r.Float64() < 0.3)

	// The session's timeline.
	click := s.created.Add(ms(r, 300, 900))
	var steps []obj
	at := click.Add(ms(r, 2000, 6000))
	stepNames := []string{"id_front", "id_back", "selfie", "address"}
	if s.kb {
		stepNames = []string{"selfie"}
	}
	stepsDone := len(stepNames)
	if s.final == "incomplete" {
		stepsDone = r.IntN(len(stepNames))
	}
	for _, name := range stepNames[:stepsDone] {
		dur := ms(r, 4000, 25000)
		steps = append(steps, obj{
			{"step", name}, {"startTime", isoStamp(at)}, {"endTime", isoStamp(at.Add(dur))},
			{"captureCount", 1 + r.IntN(3)},
		})
		at = at.Add(dur + ms(r, 1000, 15000))
	}
	submit := at.Add(ms(r, 1000, 20000))
	decided := submit.Add(ms(r, 1000, 6000))
	pendingAt := submit.Add(ms(r, 400, 2000))
	resolveAt := pendingAt.Add(time.Duration(6*3600+r.IntN(90*3600)) * time.Second)
	lastActivity := at
	if s.final == "incomplete" && stepsDone == 0 {
		lastActivity = click.Add(ms(r, 1000, 60000))
	}

	// What asOf shows; no draw below may depend on these.
	status := s.final
	resolved := true
	if viaPending {
		resolved = s.final != "pending" && !g.asOf.Before(resolveAt)
		if !resolved {
			status = "pending"
		}
	}
	decidedAt := decided
	if viaPending {
		decidedAt = resolveAt
	}
	updated := decidedAt
	switch {
	case s.final == "incomplete":
		updated = lastActivity
	case status == "pending":
		updated = pendingAt
	}

	o := &s.o
	o.set("data", g.data(r, p, s))
	if !s.kb && stepsDone > 0 {
		ocrRaw, ocr := ocrFields(r, p, s.created)
		o.set("OCR_raw", ocrRaw)
		o.set("ocr", ocr)
	}
	faceAge := faceAgeCheck(r, p, s.created, minor)
	if !s.kb && s.final != "incomplete" {
		o.set("verification", obj{{"faceAge", []obj{faceAge}}})
	}
	o.set("email", p.email)
	o.set("submission_id", id)
	o.set("userid", p.userid)
	tokenID := "tok-" + randomHex(r, 8)
	if r.Float64() < 0.4 {
		o.set("tokenId", tokenID)
	}
	name := p.fullName()
	o.set("duplicated_information", hashHex(name, p.dob.Format("2006-01-02"), p.gender(), p.c.code)[:16])
	if status == "approved" {
		o.set("applicant_id", "ap-"+hashHex(p.userid, "applicant")[:10])
	}
	o.set("created_at", stamp(s.created))
	o.set("updated_at", stamp(updated))
	if status == "approved" || status == "rejected" {
		o.set("kyc_result_at", stamp(decidedAt))
	}
	if viaPending {
		o.set("pending_at", stamp(pendingAt))
	}
	agent := viaPending && resolved
	switch {
	case agent:
		o.set("reviewer", "agent")
	case status == "approved" || status == "rejected":
		o.set("reviewer", "system")
	}
	recognition := math.Round((70+r.Float64()*29.5)*2) / 2
	argosScore := math.Round(55 + r.Float64()*44)
	if s.final == "rejected" {
		argosScore = math.Round(20 + r.Float64()*50)
	}
	if !s.kb && s.final != "incomplete" {
		o.set("recognition_score", recognition)
		o.set("argos_score", argosScore)
	}
	if stepsDone > 0 {
		o.set("image", images(id, stepNames[:stepsDone]))
	}
	memo := obj{{"text", pick(r, memoTexts)}, {"updated_at", stamp(decidedAt.Add(ms(r, 60000, 3600000)))}}
	if s.final != "incomplete" && r.Float64() < 0.2 && status != "pending" {
		o.set("memo", memo)
	}
	o.set("project_options", projectOptions(s.kb))
	if k := g.kyc(r, s, status, rej, stepsDone, steps); k != nil {
		o.set("kyc", k)
	}
	// AML screening runs after the KYC check passed (or while it waits for
	// a reviewer), never for rejected or abandoned checks.
	aml := amlResult(r, p)
	if x := r.Float64(); (s.final == "approved" && x < 0.6) || (s.final == "pending" && x < 0.3) {
		o.set("aml", aml)
	}
	projection := obj{{"projectionId", randomID(r, 15)}, {"projectionName", pick(r, []string{"name_projection", "kb_minimal_v1", "eu_minimal", "address_only"})}}
	if r.Float64() < 0.3 {
		o.set("projection", projection)
	}
	if !s.kb && len(steps) > 0 {
		o.set("cameraProcess", obj{{"steps", steps}})
	}
	ua := pick(r, userAgents)
	signals := obj{{"startButtonClickTime", isoStamp(click)}}
	if s.final != "incomplete" {
		signals.set("submitTime", isoStamp(submit))
	}
	signals.set("deviceType", ua.device)
	signals.set("userAgent", ua.ua)
	o.set("signals", signals)
	o.set("pre_verification", preVerification(r, s.final == "incomplete" && stepsDone == 0))

	injectAt := decided.Add(time.Duration(3600+r.IntN(48*3600)) * time.Second)
	injectFail := any(nil)
	if r.IntN(4) == 0 {
		injectFail = pick(r, injectionFails)
	}
	if !s.kb && s.final == "approved" && r.Float64() < 0.06 && !g.asOf.Before(injectAt) {
		o.set("injection", []obj{{{"type", "address"}, {"created_at", stamp(injectAt)}, {"failCode", injectFail}}})
	}
	var additional []obj
	for range r.IntN(3) {
		q := pick(r, additionalQs)
		additional = append(additional, obj{{"blockType", q.blockType}, {"answer", q.answer}, {"inputValue", q.input}})
	}
	if len(additional) > 0 && s.final != "incomplete" {
		o.set("additional", additional)
	}
	// Duplicate links: the same PII under another submission, or the same
	// face (a selfie match with its similarity).
	links := []obj{{
		{"submission_id", randomID(r, 15)},
		{"email", fmt.Sprintf("%s.%s@%s", ascii(p.first)[:1], ascii(p.last), pick(r, mailDomains))},
		{"duplicated_information", hashHex(name, p.dob.Format("2006-01-02"), p.gender(), p.c.code)[:16]},
		{"type", "pii"},
	}}
	selfieLink := obj{{"type", "selfie"}, {"submission_id", randomID(r, 15)}, {"similarity", math.Round((85+r.Float64()*14.9)*10) / 10}}
	if !s.kb && (r.IntN(3) == 0 || rej.code == "duplicated_face") {
		links = append(links, selfieLink)
	}
	if r.Float64() < 0.08 || rej.code == "duplicate_user" || rej.code == "duplicated_face" || rej.code == "duplicated_user_PII_exact" {
		o.set("duplicated", obj{{"links", links}})
	}
	reviewComment := pick(r, reviewComments)
	if agent {
		o.set("review", obj{{"admin", pick(r, admins)}, {"result", status}, {"comment", reviewComment}, {"reviewed_at", stamp(decidedAt)}})
	}
	editAt := submit.Add(time.Duration(3600+r.IntN(7*24*3600)) * time.Second)
	edit := obj{{"admin", pick(r, admins)}, {"update_time", isoStamp(editAt)}, {"update", []string{pick(r, updatableFields)}}}
	if s.final != "incomplete" && r.Float64() < 0.06 && !g.asOf.Before(editAt) {
		o.set("updateHistory", []obj{edit})
	}
	return s
}

// data builds the applicant data object of either field set.
func (g *Generator) data(r *rand.Rand, p *person, s *sub) obj {
	var o obj
	if s.final == "incomplete" && r.IntN(3) == 0 {
		// Left before entering anything but the form's hidden fields.
		o.set("ip_address", ipAddress(r))
		o.set("cf1", "campaign-"+pick(r, []string{"spring", "summer", "partner"}))
		return o
	}
	o.set("age_group", ageGroup(s.created, p.dob))
	o.set("first_name", p.first)
	o.set("last_name", p.last)
	o.set("full_name", p.fullName())
	if p.c.langFirst && r.IntN(2) == 0 {
		o.set("full_name_en", strings.ToUpper(p.first+" "+p.last))
	}
	if s.kb || r.IntN(4) == 0 {
		o.set("name", p.fullName()) // legacy single name field
	}
	o.set("gender", p.gender())
	o.set("nationality", p.c.code)
	o.set("date_of_birth", p.dob.Format("2006-01-02"))
	o.set("ip_address", ipAddress(r))
	if s.kb {
		o.set("ssnNumber", p.ssn)
		o.set("phoneNumber", p.phone)
	} else {
		issuing := p.c.code
		if p.permitKOR {
			issuing = "KOR"
		}
		issued := time.Date(s.created.Year()-p.issueYearsBefore, p.dob.Month(), p.dob.Day(), 0, 0, 0, 0, time.UTC)
		expires := issued.AddDate(10, 0, 0)
		o.set("idType", p.idType)
		o.set("idcard_issuingCountry", issuing)
		o.set("idcard_issueDate", issued.Format("2006-01-02"))
		o.set("idcard_expireDate", expires.Format("2006-01-02"))
		o.set("identityNumber", p.identityNumber)
		o.set("documentNumber", "********")
		if r.IntN(3) == 0 {
			o.set("serialNumber", fmt.Sprintf("%02d%c%c%02d", r.IntN(100), 'A'+rune(r.IntN(26)), 'A'+rune(r.IntN(26)), r.IntN(100)))
			o.set("version", fmt.Sprint(issued.Year()))
		}
		if p.c.code == "MEX" {
			o.set("curpNumber", p.identityNumber)
		}
		if r.IntN(10) == 0 {
			o.set("privacyShield", "N/A")
		}
		if p.permitKOR {
			o.set("typeOfPermit", p.permit)
			o.set("typeOfPermitGovKor", p.permit)
			o.set("expiryDateOfStayKor", s.created.AddDate(1+r.IntN(3), 0, 0).Format("2006-01-02"))
			o.set("nationalityGovKor", p.c.demonym)
		}
		if r.IntN(6) == 0 {
			o.set("phoneNumber", p.phone) // the liveform's auxidField
		}
		pl := p.place
		country := p.c.code
		if p.permitKOR {
			country = "KOR"
		}
		o.set("address_city", pl.city)
		o.set("address_country", country)
		o.set("address_state", pl.state)
		o.set("address_street", pl.street)
		if p.street2 != "" {
			o.set("address_street2", p.street2)
		}
		o.set("address_zipcode", pl.zip)
		o.set("address_globalCode", pl.plus)
		o.set("address_compoundCode", pl.plus[4:]+" "+pl.city+", "+country)
		formatted := pl.street
		if p.street2 != "" {
			formatted += ", " + p.street2
		}
		o.set("address_formatted", formatted+", "+pl.city+", "+pl.state+" "+pl.zip+", "+country)
		o.set("address_input", pl.street+", "+pl.city)
		if p.street2 != "" {
			o.set("address_detail", p.street2)
		}
	}
	for k, v := range []string{"cf1", "cf2", "cf3"} {
		if r.IntN(3+k) == 0 {
			o.set(v, fmt.Sprintf("%s-%03d", pick(r, []string{"campaign", "tier", "ref", "partner"}), r.IntN(1000)))
		}
	}
	return o
}

// kyc builds the kyc object, or nil when the submission has none (users who
// left before the first capture).
func (g *Generator) kyc(r *rand.Rand, s *sub, status string, rej rejection, stepsDone int, steps []obj) obj {
	// Attempts: retries happen before the last attempt; too_many_retry means
	// every attempt failed.
	nAttempts := 1
	if x := r.Float64(); x < 0.12 {
		nAttempts = 3
	} else if x < 0.35 {
		nAttempts = 2
	}
	if rej.code == "too_many_retry" {
		nAttempts = 3
	}
	var attempts, retries []obj
	t := s.created.Add(20 * time.Second)
	for k := 1; k <= nAttempts; k++ {
		a := obj{{"attemptCnt", k}}
		liveness := float64(60 + r.IntN(40))
		if r.Float64() < 0.8 {
			a.set("livenessScore", liveness)
		}
		failed := k < nAttempts || rej.code == "too_many_retry"
		var msgs, codes []string
		if failed {
			reason := pick(r, retryReasons)
			if s.kb {
				reason = kbRetry
			}
			msgs, codes = append(msgs, reason.msg), append(codes, reason.code)
			t = t.Add(ms(r, 5000, 40000))
			retries = append(retries, obj{{"retryCode", reason.code}, {"retryMsg", reason.msg}, {"created_at", stamp(t)}})
		}
		if msgs == nil {
			msgs, codes = []string{}, []string{}
		}
		a.set("retryMsg", msgs)
		a.set("retryCode", codes)
		attempts = append(attempts, a)
	}
	shape := r.Float64()
	k := obj{}
	switch s.final {
	case "incomplete":
		switch {
		case stepsDone == 0 || shape < 0.45:
			return nil
		case shape < 0.75:
			// Captures began but no result was ever set.
		case shape < 0.95:
			k.set("result", "incomplete")
		default:
			k.set("result", "")
		}
	default:
		k.set("result", status)
		comment, code := []string{}, []string{}
		if status == "rejected" {
			comment, code = []string{rej.msg}, []string{rej.code}
		}
		k.set("comment", comment)
		k.set("commentCode", code)
	}
	if !s.kb && stepsDone > 0 {
		k.set("attempts", attempts)
	}
	if len(retries) > 0 && stepsDone > 0 {
		k.set("retries", retries)
	}
	return k
}

func ocrFields(r *rand.Rand, p *person, created time.Time) (raw, ocr obj) {
	box := func(y int) obj {
		return obj{{"x", 100 + r.IntN(30)}, {"y", y}, {"width", 150 + r.IntN(300)}, {"height", 24 + r.IntN(40)}}
	}
	item := func(value string, y int) obj {
		score := 55 + r.IntN(45)
		return obj{{"value", value}, {"score", score}, {"accepted", score >= 70}, {"coordinates", box(y)}}
	}
	expire := time.Date(created.Year()-p.issueYearsBefore+10, p.dob.Month(), p.dob.Day(), 0, 0, 0, 0, time.UTC)
	raw = obj{{"rotate", obj{{"value", pick(r, []string{"0", "0", "0", "90", "180"})}}}}
	raw.set("fullName", item(strings.ToUpper(p.fullName()), 120))
	raw.set("birthDate", item(p.dob.Format("01/02/2006"), 190))
	raw.set("identityNumber", item(p.identityNumber, 240))
	raw.set("expireDate", item(expire.Format("01/02/2006"), 290))
	raw.set("address", item(p.fullName()+", "+p.place.street+", "+p.place.city+" "+p.place.zip, 344))
	ocr = obj{
		{"birthDate", p.dob.Format("2006-01-02")}, {"expireDate", expire.Format("2006-01-02")},
		{"firstName", p.first}, {"fullName", p.fullName()}, {"identityNumber", p.identityNumber},
		{"lastName", p.last}, {"nationality", p.c.code},
	}
	return raw, ocr
}

func faceAgeCheck(r *rand.Rand, p *person, created time.Time, minor bool) obj {
	age := int(created.Sub(p.dob).Hours() / 24 / 365.25)
	est := func(spread int) (lo, med, hi int) {
		med = age + r.IntN(7) - 3
		return med - 2 - r.IntN(spread), med, med + 2 + r.IntN(spread)
	}
	osl, osm, osh := est(4)
	il, im, ih := est(5)
	sl, sm, sh := est(4)
	selfieOK := absInt(sm-age) <= 5
	idOK := absInt(im-sm) <= 8
	minAgeOK := !minor
	result := "pass"
	if !selfieOK || !idOK || !minAgeOK {
		result = "fail"
	}
	return obj{
		{"usedValues", obj{
			{"originalSelfieLow", osl}, {"originalSelfieHigh", osh}, {"originalSelfieMedian", osm},
			{"idLow", il}, {"idMedian", im}, {"idHigh", ih},
			{"selfieLow", sl}, {"selfieHigh", sh}, {"selfieMedian", sm},
			{"birthDateAge", age},
		}},
		{"conditions", []obj{
			{{"name", "selfieVsBirthDate"}, {"usedValue", sm}, {"threshold", 5}, {"matched", selfieOK}},
			{{"name", "idVsSelfie"}, {"usedValue", absInt(im - sm)}, {"threshold", 8}, {"matched", idOK}},
			{{"name", "minimumAge"}, {"usedValue", age}, {"threshold", 18}, {"matched", minAgeOK}},
		}},
		{"result", result},
	}
}

func images(id string, steps []string) obj {
	base := "https://files.example.invalid/" + id + "/"
	o := obj{}
	for _, s := range steps {
		switch s {
		case "id_front":
			o.set("idImage", base+"id_front.jpg")
		case "id_back":
			o.set("idBackImage", base+"id_back.jpg")
		case "selfie":
			o.set("selfieImage", base+"selfie.jpg")
		case "address":
			o.set("addressImage", base+"address.jpg")
		}
	}
	return o
}

func projectOptions(kb bool) obj {
	o := obj{
		{"option_aml", true}, {"option_addressData", !kb}, {"policy_approvePeriod", 0},
		{"option_idNumber", !kb}, {"policy_blacklistCountries", []string{"PRK", "IRN"}},
	}
	if !kb {
		o.set("policy_acceptedID", []string{"government_id", "passport", "drivers_license", "residence_permit", "foreign_registrator", "aadhaar", "pancard"})
	}
	return o
}

func amlResult(r *rand.Rand, p *person) obj {
	if r.Float64() < 0.7 {
		return obj{{"currentstatus", "Not Screened"}, {"risk_level_summary", "Not Screened"}}
	}
	levels := []string{"LOW", "MEDIUM", "HIGH"}
	n := 1 + r.IntN(3)
	var matches []obj
	top := 0
	score := 95 - r.IntN(15)
	for k := 0; k < n; k++ {
		lvl := r.IntN(3)
		top = max(top, lvl)
		name := p.first + " " + p.last
		if k > 0 || r.IntN(2) == 0 {
			name = p.first + " " + p.last[:len(p.last)-1] + pick(r, []string{"e", "a", "er", "s"})
		}
		matches = append(matches, obj{
			{"name", name}, {"score", score}, {"risk_level", levels[lvl]},
			{"categories", []string{pick(r, amlCategories)}}, {"countries", []string{p.c.code}},
			{"date_of_birth", fmt.Sprint(p.dob.Year() + r.IntN(3) - 1)},
			{"argos_number", fmt.Sprintf("ARG-%06d", r.IntN(1e6))},
		})
		score -= 3 + r.IntN(12)
	}
	summary := levels[top]
	if r.IntN(3) == 0 {
		// Both spellings occur in real payloads.
		summary = summary[:1] + strings.ToLower(summary[1:])
	}
	return obj{{"currentstatus", "Red Flag"}, {"risk_level_summary", summary}, {"matches", matches}}
}

func preVerification(r *rand.Rand, blocked bool) obj {
	pass := func(ok bool) string {
		if ok {
			return "pass"
		}
		return "fail"
	}
	vm, emu, bot := false, false, false
	proxy := []string{}
	dupCount := 1 + r.IntN(2)
	if blocked {
		switch r.IntN(3) {
		case 0:
			emu = true
		case 1:
			bot = true
		default:
			proxy = []string{pick(r, []string{"vpn", "proxy", "tor"})}
		}
	}
	deviceOK := !vm && !emu && !bot
	return obj{
		{"deviceInfo", obj{
			{"result", pass(deviceOK)},
			{"fingerprint", obj{{"virtualMachine", vm}, {"emulator", emu}, {"maliciousBot", bot}, {"browserTampering", false}}},
			{"deviceDuplicate", obj{{"count", dupCount}, {"result", "pass"}}},
		}},
		{"turnstile", obj{{"result", pass(!bot)}}},
		{"proxyVpn", obj{{"result", pass(len(proxy) == 0)}, {"categories", proxy}}},
	}
}

func pickRejection(r *rand.Rand, minor, kb bool) rejection {
	if minor {
		if r.IntN(2) == 0 {
			return rejections[9] // id_info_notOfAge
		}
		return rejections[13] // under_ageLimit
	}
	total := 0
	for _, x := range rejections {
		total += x.weight
	}
	n := r.IntN(total)
	for _, x := range rejections {
		if n < x.weight {
			if kb && strings.HasPrefix(x.code, "id_image") {
				return rejections[5] // id_info_dataMismatch: KB has no ID image
			}
			return x
		}
		n -= x.weight
	}
	return rejections[len(rejections)-1]
}

func pickCountry(r *rand.Rand) *country {
	total := 0
	for _, c := range countries {
		total += c.weight
	}
	n := r.IntN(total)
	for i := range countries {
		if n < countries[i].weight {
			return &countries[i]
		}
		n -= countries[i].weight
	}
	return &countries[0]
}

// createdOffset spreads creation times over the day with a daytime peak and,
// on purpose, a share within 20 minutes of either midnight, where a client
// that trusts the API's date filter loses items.
func createdOffset(r *rand.Rand) time.Duration {
	const day = 24 * time.Hour
	switch x := r.Float64(); {
	case x < 0.03:
		return time.Duration(r.Int64N(int64(20 * time.Minute)))
	case x < 0.06:
		return day - 1 - time.Duration(r.Int64N(int64(20*time.Minute)))
	case x < 0.6:
		return time.Duration(r.Int64N(int64(day))).Truncate(time.Millisecond)
	default:
		// A peak around 06:00 UTC (afternoon in Asia, night in America).
		h := 6*time.Hour + time.Duration(r.NormFloat64()*float64(4*time.Hour))
		return (((h % day) + day) % day).Truncate(time.Millisecond)
	}
}

func ageGroup(at, dob time.Time) string {
	age := int(at.Sub(dob).Hours() / 24 / 365.25)
	switch {
	case age <= 13:
		return "minor"
	case age <= 15:
		return "early-teen"
	case age <= 17:
		return "teen"
	}
	return "adult"
}

func ipAddress(r *rand.Rand) string {
	return fmt.Sprintf("%s%d", pick(r, ipPrefixes), 1+r.IntN(254))
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

func randomID(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = idAlphabet[r.IntN(len(idAlphabet))]
	}
	return string(b)
}

func randomHex(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = hexDigits[r.IntN(16)]
	}
	return string(b)
}

func hashHex(parts ...string) string {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

func ms(r *rand.Rand, lo, hi int) time.Duration {
	return time.Duration(lo+r.IntN(hi-lo+1)) * time.Millisecond
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

var asciiFold = strings.NewReplacer("ü", "u", "ß", "ss", "í", "i", "á", "a", "é", "e", "ó", "o", "ã", "a", "ç", "c", "ñ", "n", "ê", "e", "'", "", " ", "")

// ascii folds a name into something usable in an email's local part.
func ascii(s string) string { return strings.ToLower(asciiFold.Replace(s)) }
