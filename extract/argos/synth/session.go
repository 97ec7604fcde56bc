package synth

import (
	"math/rand/v2"
	"strconv"
	"time"
)

// How far a session got; only an incomplete (abandoned) one stops early.
const (
	stopBeforeStep1 = iota // left before the first capture
	stopInStep1            // left while capturing the ID
	stopAfterStep1         // left once the ID was read (knowledge-based: the data checked)
	stopInStep2            // left while capturing the face
	finished               // went through to the end
)

// session is the applicant's journey through one submission, in time order:
// pre-verification, the start click, an address injection, then attempts of
// step1 (read the ID, or check the entered data) and step2 (capture and
// compare the face), each call of a step possibly failing into a retry.
type session struct {
	kb      bool
	id      string // submission_id, for image links
	p       *person
	created time.Time
	click   time.Time // signals.startButtonClickTime
	end     time.Time // the applicant's last action
	stop    int

	camera     []obj // signals.cameraProcessInfo
	attempts   []obj // kyc.attempts
	retry      []obj // kyc.retry
	verifAges  []obj // verification.faceAge, one per attempt that captured a face
	signalAges []obj // signals.faceAge, one per image whose age was estimated
	retries    [2]int

	step1      bool   // a step1 call was made: the ID was read
	back       bool   // the back of the ID was captured
	selfie     string // the last captured selfie, "" when none
	idLiveness obj    // id_LivenessScore

	injection       any // Injection_action: nil, an obj or a []obj
	preVerification any // pre_verification: nil, an obj or a []obj
	bank            obj // bank_verification, nil when not done
	ages            faceAgeConfig
}

// methods are how the applicant captures the ID and the face.
type methods struct {
	front, back, face string // camera process types of 5-2-c
	hasBack           bool
}

func newSession(r *rand.Rand, s *sub, p *person, rej rejection, id, ip string) *session {
	ss := &session{kb: s.kb, id: id, p: p, created: s.created, stop: finished}
	if s.final == "incomplete" {
		ss.stop = r.IntN(finished)
		if s.kb && ss.stop == stopInStep1 {
			ss.stop = stopBeforeStep1 // a knowledge check has no ID to capture
		}
	}
	blocked := r.IntN(2) == 0 && ss.stop == stopBeforeStep1
	t := s.created
	ss.preVerification, t = preVerification(r, t, p, ip, blocked)
	ss.click = t.Add(ms(r, 300, 900))
	t = ss.click.Add(ms(r, 2000, 6000))

	inject := r.Float64() < 0.12
	injection, afterInjection := injectionAction(r, t, p, ip)
	if inject && !s.kb && ss.stop > stopBeforeStep1 {
		ss.injection, t = injection, afterInjection
	}

	nAttempts := oneToThree(r, 0.12, 0.23)
	if rej.code == "too_many_retry" {
		nAttempts = 3
	}
	if ss.stop == stopBeforeStep1 {
		nAttempts = 0
		t = t.Add(ms(r, 1000, 60000))
	}
	m := drawMethods(r, p, s.kb)
	ss.ages = pick(r, faceAgeConfigs)
	ss.idLiveness = idLivenessScore(r, rej)
	bank := !s.kb && p.residence == "KOR" && r.IntN(2) == 0
	for k := 1; k <= nAttempts; k++ {
		last := k == nAttempts
		t = ss.attempt(r, t, k, !last || rej.code == "too_many_retry", last, m, bank)
	}
	ss.end = t
	return ss
}

func drawMethods(r *rand.Rand, p *person, kb bool) methods {
	capture := pick(r, []string{"upload", "capture", "autocapture", "autocapture"})
	face := "passive"
	if r.IntN(10) < 3 {
		face = "active"
	}
	if kb {
		return methods{face: "knowledge-face-" + face}
	}
	return methods{
		front: "idcard-front-" + capture, back: "idcard-back-" + capture,
		face: "id-document-face-" + face, hasBack: p.idType != "passport",
	}
}

// attempt plays one attempt from t and returns when it ended. A failing
// attempt exhausts three calls of one step; the last attempt of an
// incomplete session stops where the session does.
func (ss *session) attempt(r *rand.Rand, t time.Time, k int, failing, last bool, m methods, bank bool) time.Time {
	failStep := 0
	if failing {
		failStep = 2
		if r.IntN(10) < 4 {
			failStep = 1
		}
	}
	stop := finished
	if last {
		stop = ss.stop
	}
	var times [2][3]any
	msgs, codes := []string{}, []string{}
	fail := func(step int, rs reason) {
		msgs, codes = append(msgs, rs.msg), append(codes, rs.code)
		ss.retries[step-1]++
		ss.retry = append(ss.retry, obj{
			{"type", "step" + strconv.Itoa(step)}, {"retryCnt", ss.retries[step-1]},
			{"retryCode", rs.code}, {"retryMessage", rs.msg},
		})
	}
	a := make(obj, 0, 22)
	a.set("attemptCnt", k)
	t = t.Add(ms(r, 1000, 4000))

	// step1: read the ID (knowledge-based: check the entered data).
	var idAge *ageRange
	if stop == stopInStep1 {
		t = ss.capture(r, t, m.front, true)
	} else {
		n := calls(r, failStep == 1)
		for j := range n {
			if !ss.kb {
				t = ss.capture(r, t, m.front, false)
				if m.hasBack {
					t = ss.capture(r, t, m.back, false)
					ss.back = true
				}
			}
			t = t.Add(ms(r, 800, 3000))
			times[0][j] = stamp(t)
			ss.step1 = true
			if j < n-1 || failStep == 1 {
				retries := idStep1Retries
				if ss.kb {
					retries = kbStep1Retries
				}
				fail(1, pick(r, retries))
			}
		}
		if !ss.kb {
			ss.idResults(r, &a, t, failStep == 1)
			age := ss.p.estimatedAge(r, ss.created, true)
			idAge = &age
			ss.signalAges = append(ss.signalAges, age.signal("idImage"))
		}
	}

	// step2: capture the face and compare it.
	var selfieAge *ageRange
	if failStep != 1 && stop >= stopInStep2 {
		if bank && ss.bank == nil {
			ss.bank, t = bankVerification(r, t)
		}
		if stop == stopInStep2 {
			t = ss.capture(r, t, m.face, true)
		} else {
			n := calls(r, failStep == 2)
			for j := range n {
				t = ss.capture(r, t, m.face, false)
				t = t.Add(ms(r, 800, 3000))
				times[1][j] = stamp(t)
				if j < n-1 || failStep == 2 {
					fail(2, pick(r, step2Retries))
				}
			}
			age := ss.p.estimatedAge(r, ss.created, false)
			selfieAge = &age
			ss.signalAges = append(ss.signalAges, age.signal("selfieImage"))
			ss.verifAges = append(ss.verifAges, ss.ages.verify(&age, idAge, ageAt(ss.created, ss.p.dob)))
		}
	}

	var errCode, errMsg any
	if failStep > 0 {
		e := pick(r, attemptErrors[failStep-1])
		if ss.kb && failStep == 1 {
			e = kbAttemptError
		}
		errCode, errMsg = e.code, e.msg
	}
	a.set("errorCode", errCode)
	a.set("errorMsg", errMsg)
	for step, name := range [2]string{"step1Time", "step2Time"} {
		for j, nth := range [3]string{"1st", "2nd", "3rd"} {
			a.set(name+nth, times[step][j])
		}
	}
	a.set("retryMsg", msgs)
	a.set("retryCode", codes)
	ss.faceResults(r, &a, k, selfieAge, failStep == 2)
	ss.attempts = append(ss.attempts, a)
	return t
}

// calls draws how many calls a step takes: three failing ones when the
// attempt fails at it, else mostly one.
func calls(r *rand.Rand, failing bool) int {
	switch x := r.IntN(20); {
	case failing:
		return 3
	case x < 1:
		return 3
	case x < 2:
		return 2
	}
	return 1
}

// capture records one camera process from t and returns its end. Now and
// then the camera fails first and the applicant starts the process again;
// an abandoned capture may end with the applicant cancelling it.
func (ss *session) capture(r *rand.Rand, t time.Time, typ string, abandon bool) time.Time {
	t = t.Add(ms(r, 300, 3000))
	if r.IntN(30) == 0 {
		end := t.Add(ms(r, 500, 8000))
		ss.camera = append(ss.camera, cameraProcess(typ, t, end, pick(r, cameraErrors)))
		t = end.Add(ms(r, 1000, 5000))
	}
	end := t.Add(ms(r, 2000, 20000))
	var err any
	if abandon && r.IntN(2) == 0 {
		err = "user_cancelled"
	}
	ss.camera = append(ss.camera, cameraProcess(typ, t, end, err))
	return end
}

func cameraProcess(typ string, start, end time.Time, err any) obj {
	return obj{{"type", typ}, {"processStartTime", isoStamp(start)}, {"processEndTime", isoStamp(end)}, {"error", err}}
}

// idResults adds the ID checks of an attempt's step1: the barcode of US and
// Mexican IDs, and the issuing authority's check of Korean IDs and US
// driver's licences.
func (ss *session) idResults(r *rand.Rand, a *obj, t time.Time, failed bool) {
	p := ss.p
	barcodeOK := r.IntN(12) != 0
	if (p.issuing == "USA" || p.issuing == "MEX") && p.idType != "passport" {
		a.set("idBarcodeResult", passFail(barcodeOK && !failed, "success", "fail"))
	}
	if p.issuing != "KOR" && (p.issuing != "USA" || p.idType != "drivers_license") {
		return
	}
	a.set("verificationResult", passFail(!failed, "success", "fail"))
	if failed {
		a.set("verification", obj{{"resultCode", "E201"}, {"resultMessage", "No matching record at the issuing authority"}, {"checkedAt", stamp(t)}})
	} else {
		a.set("verification", obj{{"resultCode", "0000"}, {"resultMessage", "Verified with the issuing authority"}, {"checkedAt", stamp(t)}})
	}
	a.set("verificationParams", obj{{"idType", p.idType}, {"issuingCountry", p.issuing}, {"issueDate", p.issued(ss.created).Format("2006-01-02")}})
}

// faceResults adds the face comparison and liveness of an attempt's step2
// (nulls when the attempt never captured a face) and, knowledge-based, the
// face detection.
func (ss *session) faceResults(r *rand.Rand, a *obj, k int, age *ageRange, failed bool) {
	sim := round(80+r.Float64()*19.9, 2)
	live := round(70+r.Float64()*29.9, 1)
	if failed {
		sim, live = round(25+r.Float64()*40, 2), round(20+r.Float64()*40, 1)
	}
	liveness := obj{{"score", live}, {"probability", round(live/100-r.Float64()*0.05, 4)}, {"quality", round(0.55+r.Float64()*0.45, 3)}}
	genderConf := round(90+r.Float64()*9.9, 2)
	if age == nil {
		for _, key := range [...]string{"faceSimilarityScore", "selfieImage", "livenessScore", "liveness"} {
			a.set(key, nil)
		}
		return
	}
	ss.selfie = "https://files.example.invalid/" + ss.id + "/selfie-" + strconv.Itoa(k) + ".jpg"
	a.set("faceSimilarityScore", sim)
	a.set("selfieImage", ss.selfie)
	a.set("livenessScore", live)
	a.set("liveness", liveness)
	if ss.kb {
		g := "Male"
		if ss.p.female {
			g = "Female"
		}
		a.set("detectFace", []obj{{
			{"AgeRange", obj{{"High", age.high}, {"Low", age.low}}},
			{"Gender", obj{{"Confidence", genderConf}, {"Value", g}}},
		}})
	}
}

// images links the captured images.
func (ss *session) images(addressDoc bool) obj {
	base := "https://files.example.invalid/" + ss.id + "/"
	o := obj{{"idImage", base + "id_front.jpg"}}
	if ss.back {
		o.set("idBackImage", base+"id_back.jpg")
	}
	if ss.selfie != "" {
		o.set("selfieImage", ss.selfie)
	}
	if addressDoc {
		o.set("addressImage", base+"address.jpg")
	}
	return o
}

func (ss *session) signals() obj {
	o := make(obj, 0, 3)
	if len(ss.signalAges) > 0 {
		o.set("faceAge", ss.signalAges)
	}
	o.set("startButtonClickTime", isoStamp(ss.click))
	if len(ss.camera) > 0 {
		o.set("cameraProcessInfo", ss.camera)
	}
	return o
}

// kyc builds the kyc object, or nil when the submission has none (users who
// left before the first capture).
func (ss *session) kyc(r *rand.Rand, s *sub, status string, rej rejection) obj {
	shape := r.Float64()
	k := make(obj, 0, 5)
	switch s.final {
	case "incomplete":
		switch {
		case ss.stop == stopBeforeStep1:
			return nil
		case shape < 0.3:
			// Captures began but no result was ever set.
		case shape < 0.9:
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
	if len(ss.attempts) > 0 {
		k.set("attempts", ss.attempts)
	}
	if !ss.kb && len(ss.retry) > 0 {
		k.set("retry", ss.retry)
	}
	return k
}

// ageRange is an estimate of a face's age.
type ageRange struct{ low, median, high int }

// estimatedAge draws the age estimate of the person's selfie, or of the
// photo on the ID, which is as old as the document.
func (p *person) estimatedAge(r *rand.Rand, at time.Time, idPhoto bool) ageRange {
	age := ageAt(at, p.dob)
	if idPhoto {
		age = max(age-p.issueYearsBefore, 10)
	}
	med := age + r.IntN(7) - 3
	return ageRange{med - 2 - r.IntN(4), med, med + 2 + r.IntN(4)}
}

func (a *ageRange) signal(source string) obj {
	return obj{{"ageRange", obj{{"low", a.low}, {"high", a.high}, {"median", a.median}}}, {"source", source}}
}

func (a *ageRange) target(t string) int {
	switch t {
	case "low":
		return a.low
	case "high":
		return a.high
	}
	return a.median
}

// faceAgeConfig is the project's face-age verification: how far it widens
// the estimates (the LOW/HIGH extension) and its conditions.
type faceAgeConfig struct {
	ext   int
	conds []ageCondition
	ops   []string // verification.faceAge[].logicalOperators
}

type ageCondition struct {
	op, target string
	age        int // the custom age value
}

var faceAgeConfigs = []faceAgeConfig{
	{0, []ageCondition{{"gte", "median", 18}}, []string{}},
	{2, []ageCondition{{"gte", "low", 18}, {"gte", "median", 20}}, []string{"or"}},
	{1, []ageCondition{{"gte", "median", 18}, {"lte", "high", 80}}, []string{"and"}},
}

// verify builds one verification.faceAge entry from the selfie's and (ID
// documents) the ID photo's estimates. Each condition compares the target
// estimate of each image with the custom age and with the birth-date age; the
// selfie against the custom age decides the condition (the photo on an ID
// is as old as the document, so it only informs).
func (c *faceAgeConfig) verify(selfie, id *ageRange, birthDateAge int) obj {
	widen := func(a *ageRange) *ageRange {
		if a == nil {
			return nil
		}
		return &ageRange{a.low - c.ext, a.median, a.high + c.ext}
	}
	s, i := widen(selfie), widen(id)
	vals := func(a *ageRange) (lo, hi, med any) {
		if a == nil {
			return nil, nil, nil
		}
		return a.low, a.high, a.median
	}
	osl, osh, osm := vals(selfie)
	oil, oih, oim := vals(id)
	sl, sh, sm := vals(s)
	il, ih, im := vals(i)
	used := obj{
		{"originalSelfieLow", osl}, {"originalSelfieHigh", osh}, {"originalSelfieMedian", osm},
		{"originalIdLow", oil}, {"originalIdHigh", oih}, {"originalIdMedian", oim},
		{"selfieLow", sl}, {"selfieHigh", sh}, {"selfieMedian", sm},
		{"idLow", il}, {"idHigh", ih}, {"idMedian", im},
		{"birthDateAge", birthDateAge},
	}
	results := make([]obj, len(c.conds))
	for n, cond := range c.conds {
		idCustom, _ := compareAge(i, cond, cond.age)
		idBirth, _ := compareAge(i, cond, birthDateAge)
		faceCustom, faceOK := compareAge(s, cond, cond.age)
		faceBirth, _ := compareAge(s, cond, birthDateAge)
		results[n] = obj{
			{"condition", obj{{"comparisonOperator", cond.op}, {"target", cond.target}}},
			{"conditionIndex", n},
			{"finalResult", faceOK},
			{"matchResults", obj{
				{"idCardCustomMatch", idCustom}, {"idCardBirthDateMatch", idBirth},
				{"faceImageCustomMatch", faceCustom}, {"faceImageBirthDateMatch", faceBirth},
			}},
		}
	}
	return obj{{"usedValues", used}, {"conditionResults", results}, {"logicalOperators", c.ops}}
}

// compareAge compares an image's target estimate with ref and reports the
// result. Without the image nothing is compared (result null).
func compareAge(a *ageRange, cond ageCondition, ref int) (match obj, ok bool) {
	if a == nil {
		return obj{{"result", nil}, {"processed", false}, {"statement", nil}}, true
	}
	v := a.target(cond.target)
	var res bool
	switch cond.op {
	case "gte":
		res = v >= ref
	case "gt":
		res = v > ref
	case "lte":
		res = v <= ref
	default:
		res = v < ref
	}
	st := strconv.Itoa(v) + " " + cond.op + " " + strconv.Itoa(ref)
	return obj{{"result", res}, {"processed", true}, {"statement", st}}, res
}

func passFail(ok bool, pass, fail string) string {
	if ok {
		return pass
	}
	return fail
}
