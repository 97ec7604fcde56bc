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
	identityNumber   string // data.identityNumber
	documentNumber   string // the number printed on the document (ocr.number)
	licenseNumber    string // driver's licences only
	curp             string // Mexican government IDs only
	serial           string // documents that carry a serial number
	place            place
	detail           string // apartment or floor: data.address_detail
	permitKOR        bool   // a foreigner verifying with a Korean residence card
	permit           string
	idType           string
	issuing          string // idcard_issuingCountry
	residence        string // address_country
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

// residenceISO2 is the alpha-2 code of the country the person lives in,
// where their IP is.
func (p *person) residenceISO2() string {
	if p.residence == "KOR" {
		return "KR"
	}
	return p.c.iso2
}

// issued and expires are the dates of the person's ID document.
func (p *person) issued(created time.Time) time.Time {
	return time.Date(created.Year()-p.issueYearsBefore, p.dob.Month(), p.dob.Day(), 0, 0, 0, 0, time.UTC)
}

func (p *person) expires(created time.Time) time.Time { return p.issued(created).AddDate(10, 0, 0) }

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
		p.detail = fmt.Sprintf("Apt %d%c", 1+r.IntN(20), 'A'+rune(r.IntN(6)))
	}
	p.idType = pick(r, p.c.idTypes)
	p.issuing, p.residence = p.c.code, p.c.code
	if p.c.code != "KOR" && !kb && r.IntN(8) == 0 {
		p.permitKOR = true
		p.idType = "foreign_registrator"
		p.permit = pick(r, permits)
		p.place = countries[1].places[r.IntN(len(countries[1].places))]
		p.issuing, p.residence = "KOR", "KOR"
		p.identityNumber = idNumber(r, "KOR") // the residence card's registration number
	}
	p.issueYearsBefore = 1 + r.IntN(8)
	serial := fmt.Sprintf("%02d%c%c%02d", r.IntN(100), 'A'+rune(r.IntN(26)), 'A'+rune(r.IntN(26)), r.IntN(100))
	switch {
	case p.idType == "drivers_license" && p.issuing == "KOR":
		p.licenseNumber = fmt.Sprintf("%02d-%02d-%06d-%02d", 11+r.IntN(18), r.IntN(100), r.IntN(1e6), r.IntN(100))
		p.serial = serial
	case p.idType == "drivers_license":
		p.licenseNumber = p.identityNumber
		if p.issuing == "JPN" || p.issuing == "USA" {
			p.serial = serial // the audit number (USA: document discriminator)
		}
	case p.idType == "government_id" && p.issuing == "MEX":
		p.curp = p.identityNumber
	case p.idType == "government_id" && p.issuing == "DEU":
		p.serial = serial
	}
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
// the same content at any asOf. Knowledge-based items carry only the fields
// of the reference's knowledge-based field set (5-2-b), ID-document items
// those of the ID-document set (5-2-a).
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

	// The session: pre-verification, start click, injection, captures,
	// attempts and retries.
	ip := ipAddress(r)
	ss := newSession(r, s, p, rej, id, ip)
	submit := ss.end.Add(ms(r, 1000, 20000))
	decided := submit.Add(ms(r, 1000, 6000))
	pendingAt := submit.Add(ms(r, 400, 2000))
	resolveAt := pendingAt.Add(time.Duration(6*3600+r.IntN(90*3600)) * time.Second)

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
		updated = ss.end
	case status == "pending":
		updated = pendingAt
	}
	done := s.final != "incomplete"
	// An admin's edit of the submission's information (updateHistory), once
	// it has happened, is its last update unless the decision came later.
	editAt := submit.Add(time.Duration(3600+r.IntN(7*24*3600)) * time.Second)
	editor := pick(r, admins)
	edited := !s.kb && done && r.Float64() < 0.06 && !g.asOf.Before(editAt)
	if edited && editAt.After(updated) {
		updated = editAt
	}

	o := &s.o
	*o = make(obj, 0, 40)
	o.set("data", g.data(r, p, s, ss, ip))
	o.set("email", p.email)
	agent := viaPending && resolved
	switch {
	case agent:
		o.set("reviewer", "agent")
	case status == "approved" || status == "rejected":
		o.set("reviewer", "system")
	}
	o.set("submission_id", id)
	recognition := math.Round((70+r.Float64()*29.5)*2) / 2
	argosScore := math.Round(55 + r.Float64()*44)
	if s.final == "rejected" {
		argosScore = math.Round(20 + r.Float64()*50)
	}
	if !s.kb && done {
		o.set("recognition_score", recognition)
		o.set("argos_score", argosScore)
	}
	name := p.fullName()
	o.set("duplicated_information", hashHex(name, p.dob.Format("2006-01-02"), p.gender(), p.c.code)[:16])
	if !s.kb && status == "approved" {
		o.set("applicant_id", "ap-"+hashHex(p.userid, "applicant")[:10])
	}
	o.set("created_at", stamp(s.created))
	if status == "approved" || status == "rejected" {
		o.set("kyc_result_at", stamp(decidedAt))
	}
	o.set("updated_at", stamp(updated))
	if viaPending {
		o.set("pending_at", stamp(pendingAt))
	}
	o.set("userid", p.userid)
	tokenID := "tok-" + randomHex(r, 8)
	if r.Float64() < 0.4 {
		o.set("tokenId", tokenID)
	}

	if !s.kb {
		addressDoc := r.Float64() < 0.35
		if ss.step1 {
			o.set("image", ss.images(addressDoc && done))
		}
		memo := obj{{"text", pick(r, memoTexts)}, {"updated_at", stamp(decidedAt.Add(ms(r, 60000, 3600000)))}}
		if done && r.Float64() < 0.2 && status != "pending" {
			o.set("memo", memo)
		}
		pii, selfie := duplicates(r, rej)
		if done {
			o.set("duplicated_users", pii)
			o.set("duplicated_selfie_users", selfie)
		}
		ocrRaw, ocr, review := ocrFields(r, p, s.created)
		if ss.step1 {
			o.set("OCR_raw", ocrRaw)
			o.set("ocr", ocr)
			if review != nil {
				o.set("review", review)
			}
		}
		if ss.injection != nil {
			o.set("Injection_action", ss.injection)
		}
	}
	if add := additionalList(r); add != nil && done {
		o.set("additional_list", add)
	}
	if k := ss.kyc(r, s, status, rej); k != nil {
		o.set("kyc", k)
	}
	if len(ss.verifAges) > 0 {
		o.set("verification", obj{{"faceAge", ss.verifAges}})
	}
	o.set("signals", ss.signals())
	if edited {
		o.set("updateHistory", obj{{"updateAdmin", editor}, {"updateTime", stamp(editAt)}})
	}
	// AML screening runs after the KYC check passed (or while it waits for
	// a reviewer), never for rejected or abandoned checks.
	aml := amlResult(r)
	if x := r.Float64(); (s.final == "approved" && x < 0.6) || (s.final == "pending" && x < 0.3) {
		o.set("aml", aml)
	}
	if !s.kb {
		if ss.bank != nil {
			o.set("bank_verification", ss.bank)
		}
		if ss.step1 {
			o.set("id_LivenessScore", ss.idLiveness)
		}
	}
	projection := obj{{"projectionId", randomID(r, 15)}, {"projectionName", pick(r, projectionName)}}
	if r.Float64() < 0.3 {
		o.set("projection", projection)
	}
	if ss.preVerification != nil {
		o.set("pre_verification", ss.preVerification)
	}
	return s
}

// data builds the applicant data object of the item's field set.
func (g *Generator) data(r *rand.Rand, p *person, s *sub, ss *session, ip string) obj {
	o := make(obj, 0, 30)
	cfs := customFields(r)
	if s.kb {
		o.set("name", p.fullName())
		o.set("gender", p.gender())
		o.set("nationality", p.c.code)
		o.set("date_of_birth", p.dob.Format("2006-01-02"))
		o.set("address_formatted", formattedAddress(p))
		if p.detail != "" {
			o.set("address_detail", p.detail)
		}
		o.set("ssnNumber", p.ssn)
		o.set("phoneNumber", p.phone)
		return append(o, cfs...)
	}
	if ss.stop == stopBeforeStep1 && r.IntN(2) == 0 {
		// Left before entering anything but the form's hidden fields.
		o.set("ip_address", ip)
		o.set("cf1", "campaign-"+pick(r, []string{"spring", "summer", "partner"}))
		return o
	}
	o.set("age_group", ageGroup(s.created, p.dob))
	o.set("first_name", p.first)
	o.set("last_name", p.last)
	o.set("full_name", p.fullName())
	o.set("gender", p.gender())
	o.set("nationality", p.c.code)
	o.set("date_of_birth", p.dob.Format("2006-01-02"))
	o.set("ip_address", ip)
	o.set("idType", p.idType)
	o.set("idcard_issuingCountry", p.issuing)
	o.set("idcard_issueDate", p.issued(s.created).Format("2006-01-02"))
	o.set("idcard_expireDate", p.expires(s.created).Format("2006-01-02"))
	o.set("identityNumber", p.identityNumber)
	o.set("documentNumber", "********")
	pl := p.place
	o.set("address_city", pl.city)
	o.set("address_country", p.residence)
	o.set("address_state", pl.state)
	o.set("address_street", pl.street)
	o.set("address_zipcode", pl.zip)
	o.set("address_globalCode", pl.plus)
	o.set("address_compoundCode", pl.plus[4:]+" "+pl.city+", "+p.residence)
	o.set("address_formatted", formattedAddress(p))
	o.set("address_input", pl.street+", "+pl.city)
	if p.detail != "" {
		o.set("address_detail", p.detail)
	}
	o = append(o, cfs...)
	if p.permitKOR {
		o.set("typeOfPermit", p.permit)
	}
	return o
}

// customFields draws data.cf1..cf3, each optional.
func customFields(r *rand.Rand) obj {
	var o obj
	for k, v := range []string{"cf1", "cf2", "cf3"} {
		if r.IntN(3+k) == 0 {
			o.set(v, fmt.Sprintf("%s-%03d", pick(r, []string{"campaign", "tier", "ref", "partner"}), r.IntN(1000)))
		}
	}
	return o
}

func formattedAddress(p *person) string {
	pl := p.place
	f := pl.street
	if p.detail != "" {
		f += ", " + p.detail
	}
	return f + ", " + pl.city + ", " + pl.state + " " + pl.zip + ", " + p.residence
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
	switch age := ageAt(at, dob); {
	case age <= 13:
		return "minor"
	case age <= 15:
		return "early-teen"
	case age <= 17:
		return "teen"
	}
	return "adult"
}

func ageAt(at, dob time.Time) int { return int(at.Sub(dob).Hours() / 24 / 365.25) }

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

// oneToThree draws 3 with probability three, 2 with probability two, else 1.
func oneToThree(r *rand.Rand, three, two float64) int {
	switch x := r.Float64(); {
	case x < three:
		return 3
	case x < three+two:
		return 2
	}
	return 1
}

func ms(r *rand.Rand, lo, hi int) time.Duration {
	return time.Duration(lo+r.IntN(hi-lo+1)) * time.Millisecond
}

// round rounds x to the given number of decimals.
func round(x float64, decimals int) float64 {
	p := math.Pow10(decimals)
	return math.Round(x*p) / p
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

var asciiFold = strings.NewReplacer("ü", "u", "ß", "ss", "í", "i", "á", "a", "é", "e", "ó", "o", "ã", "a", "ç", "c", "ñ", "n", "ê", "e", "'", "", " ", "")

// ascii folds a name into something usable in an email's local part.
func ascii(s string) string { return strings.ToLower(asciiFold.Replace(s)) }
