package synth

// country is what the generator needs to make a plausible applicant of one
// nationality: names, places and the ID types its authorities issue.
type country struct {
	code      string // ISO 3166-1 alpha-3
	iso2      string // ISO 3166-1 alpha-2, as IP intelligence services give it
	weight    int
	first     [2][]string // by gender: female, male
	last      []string
	places    []place
	idTypes   []string
	langFirst bool // family name first in full_name (KOR, JPN)
}

type place struct {
	city, state, zip, street, plus string
}

var countries = []country{
	{code: "USA", iso2: "US", weight: 24,
		first:   [2][]string{{"Dana", "Emily", "Ashley", "Morgan", "Olivia", "Grace"}, {"Jordan", "Michael", "Chris", "Taylor", "Ethan", "Noah"}},
		last:    []string{"Whitfield", "Ellery", "Carter", "Brooks", "Hayes", "Reed", "Parker", "O'Neil"},
		places:  []place{{"Springfield", "IL", "62704", "742 Evergreen Terrace", "86GGXXXX+XX"}, {"Austin", "TX", "78701", "500 Congress Ave", "862487XX+XX"}, {"Portland", "OR", "97201", "1120 SW 5th Ave", "84QVFXXX+XX"}, {"Columbus", "OH", "43215", "90 W Broad St", "86FVXXXX+XX"}},
		idTypes: []string{"drivers_license", "drivers_license", "passport", "government_id"}},
	{code: "KOR", iso2: "KR", weight: 20, langFirst: true,
		first:   [2][]string{{"Seoyeon", "Hayoon", "Jiwoo", "Minseo"}, {"Minjun", "Jiho", "Dohyun", "Seojun"}},
		last:    []string{"Kim", "Lee", "Park", "Choi", "Jung", "Kang"},
		places:  []place{{"Seoul", "Seoul", "04524", "110 Sejong-daero, Jung-gu", "8Q98HXPG+MP"}, {"Busan", "Busan", "48058", "30 Haeundaehaebyeon-ro", "8Q7FXXXX+XX"}, {"Incheon", "Incheon", "21999", "165 Convensia-daero", "8Q98XXXX+XX"}},
		idTypes: []string{"government_id", "government_id", "drivers_license", "passport"}},
	{code: "JPN", iso2: "JP", weight: 7, langFirst: true,
		first:   [2][]string{{"Yui", "Hina", "Aoi", "Sakura"}, {"Haruto", "Sota", "Ren", "Yuto"}},
		last:    []string{"Sato", "Suzuki", "Takahashi", "Tanaka", "Ito"},
		places:  []place{{"Tokyo", "Tokyo", "100-0001", "1-1 Chiyoda", "8Q7XXXXX+XX"}, {"Osaka", "Osaka", "530-0001", "3-1 Umeda, Kita-ku", "8Q6QXXXX+XX"}},
		idTypes: []string{"drivers_license", "passport", "government_id"}},
	{code: "GBR", iso2: "GB", weight: 6,
		first:   [2][]string{{"Amelia", "Isla", "Ava", "Freya"}, {"Oliver", "Harry", "George", "Arthur"}},
		last:    []string{"Smith", "Jones", "Taylor", "Brown", "Evans"},
		places:  []place{{"London", "England", "SW1A 1AA", "10 Downing St", "9C3XGV00+XX"}, {"Manchester", "England", "M1 1AE", "1 Piccadilly Gardens", "9C5VXXXX+XX"}},
		idTypes: []string{"passport", "drivers_license"}},
	{code: "DEU", iso2: "DE", weight: 6,
		first:   [2][]string{{"Mia", "Emma", "Lina", "Jülide"}, {"Lukas", "Leon", "Jonas", "Felix"}},
		last:    []string{"Müller", "Schmidt", "Schneider", "Fischer", "Weiß"},
		places:  []place{{"Berlin", "Berlin", "10115", "Invalidenstraße 1", "9F4MGCXX+XX"}, {"München", "Bayern", "80331", "Marienplatz 8", "8FWHXXXX+XX"}},
		idTypes: []string{"government_id", "passport", "drivers_license"}},
	{code: "MEX", iso2: "MX", weight: 8,
		first:   [2][]string{{"Sofía", "Valentina", "Regina", "Camila"}, {"Santiago", "Mateo", "Sebastián", "Diego"}},
		last:    []string{"García", "Hernández", "López", "Martínez", "González"},
		places:  []place{{"Ciudad de México", "CDMX", "06000", "Av. Juárez 10", "76F2CXXX+XX"}, {"Guadalajara", "JAL", "44100", "Av. Hidalgo 400", "75FXXXXX+XX"}},
		idTypes: []string{"government_id", "government_id", "passport"}},
	{code: "VNM", iso2: "VN", weight: 8, langFirst: true,
		first:   [2][]string{{"Linh", "Huong", "Mai", "Thao"}, {"Minh", "Anh", "Duc", "Quang"}},
		last:    []string{"Nguyen", "Tran", "Le", "Pham", "Hoang"},
		places:  []place{{"Hanoi", "Hanoi", "100000", "1 Trang Tien", "7PH7XXXX+XX"}, {"Ho Chi Minh City", "Ho Chi Minh", "700000", "86 Le Thanh Ton", "7P28XXXX+XX"}},
		idTypes: []string{"government_id", "passport"}},
	{code: "IND", iso2: "IN", weight: 8,
		first:   [2][]string{{"Diya", "Ananya", "Isha", "Saanvi"}, {"Aarav", "Vivaan", "Arjun", "Rohan"}},
		last:    []string{"Sharma", "Patel", "Singh", "Kumar", "Iyer"},
		places:  []place{{"Mumbai", "MH", "400001", "12 Marine Drive", "7JFJXXXX+XX"}, {"Bengaluru", "KA", "560001", "80 MG Road", "7J4VXXXX+XX"}},
		idTypes: []string{"aadhaar", "pancard", "passport"}},
	{code: "PHL", iso2: "PH", weight: 7,
		first:   [2][]string{{"Maria", "Angel", "Andrea", "Nicole"}, {"Jose", "Juan", "Mark", "Paolo"}},
		last:    []string{"Santos", "Reyes", "Cruz", "Bautista", "Dela Cruz"},
		places:  []place{{"Manila", "Metro Manila", "1000", "Roxas Blvd 1500", "7Q63XXXX+XX"}, {"Cebu City", "Cebu", "6000", "Osmeña Blvd 20", "7Q5CXXXX+XX"}},
		idTypes: []string{"government_id", "drivers_license", "passport"}},
	{code: "BRA", iso2: "BR", weight: 6,
		first:   [2][]string{{"Ana", "Julia", "Beatriz", "Larissa"}, {"Lucas", "Gabriel", "Rafael", "João"}},
		last:    []string{"Silva", "Santos", "Oliveira", "Souza", "Conceição"},
		places:  []place{{"São Paulo", "SP", "01000-000", "Av. Paulista 1000", "588MCXXX+XX"}, {"Rio de Janeiro", "RJ", "20000-000", "Av. Atlântica 1702", "589RXXXX+XX"}},
		idTypes: []string{"government_id", "drivers_license", "passport"}},
}

// rejection is one reject code with the message the vendor shows for it.
type rejection struct {
	code, msg string
	weight    int
}

// rejections are the vendor's reject codes, weighted roughly as a consumer
// app sees them: image problems and retries dominate.
var rejections = []rejection{
	{"too_many_retry", "Multiple invalid KYC attempts detected.", 18},
	{"id_image_invalidImage", "The ID image is not valid.", 10},
	{"id_image_badImage", "The ID image is blurry or has glare.", 9},
	{"id_image_invalidId", "The document is not a valid ID.", 6},
	{"id_image_error", "The ID image could not be processed.", 3},
	{"id_info_dataMismatch", "Entered data does not match the ID.", 8},
	{"id_info_blacklist", "The applicant is on the project blacklist.", 2},
	{"id_info_notOfAge", "The applicant is under the required age.", 3},
	{"duplicate_user", "The applicant is already verified.", 5},
	{"duplicated_user_PII_exact", "Identical personal information was already submitted.", 3},
	{"duplicated_face", "The face was already used by another applicant.", 4},
	{"blacklistCountry", "The issuing country is not allowed.", 3},
	{"under_ageLimit", "The applicant is under the age limit.", 3},
	{"invalid_acceptedID", "This ID type is not accepted.", 3},
	{"no-date-of-birth", "The date of birth could not be read.", 2},
	{"expired_id", "The ID is expired.", 5},
	{"automatic_verification_fail", "Automatic verification failed.", 4},
	{"address_image_invalidImage", "The proof of address is not valid.", 2},
	{"address_info_mismatch", "The address does not match the proof of address.", 2},
	{"timeout", "The session timed out.", 2},
	{"other", "Rejected by the reviewer.", 3},
}

// reason is a code with the message the vendor sends with it: a retry
// condition of kyc.retry[] and kyc.attempts[].retryCode/retryMsg, or the
// error of a failed attempt (kyc.attempts[].errorCode/errorMsg).
type reason struct{ code, msg string }

// Retry conditions by the step that raised them: step1 reads the ID (or, in a
// knowledge-based check, verifies the entered data), step2 checks the face.
var (
	idStep1Retries = []reason{
		{"recognition_fail", "We could not read the ID. Please retry."},
		{"glare_detected", "Glare detected on the ID. Please retry in a different light."},
		{"image_too_blurry", "The image is too blurry. Please retry."},
		{"screen_detected", "The ID seems to be shown on a screen. Please use the physical ID."},
		{"document_expired", "The ID is expired. Please use a valid ID."},
		{"invalid_back_document", "The back of the ID is not valid. Please retry."},
	}
	kbStep1Retries = []reason{
		{"data_mismatch", "Entered information could not be verified. Please retry."},
	}
	step2Retries = []reason{
		{"liveness_error", "Liveness fail: Face is too close to one or more borders. Please retry."},
		{"face_compare_underscore", "The face doesn't match. Please retry with another face image."},
		{"face_not_detected", "No face was detected. Please retry facing the camera."},
	}
	// attemptErrors end a failed attempt, by the step that failed it.
	attemptErrors = [2][]reason{
		{{"id_verification_fail", "ID verification failed after repeated retries."}, {"ocr_fail", "The ID could not be recognised."}},
		{{"liveness_fail", "Liveness check failed."}, {"face_compare_fail", "Face comparison failed."}, {"face_detection_fail", "Face detection failed."}},
	}
	kbAttemptError = reason{"knowledge_check_fail", "Entered information could not be verified."}
)

// cameraErrors are the errors of signals.cameraProcessInfo[].error.
var cameraErrors = []string{"camera_permission_denied", "camera_not_readable", "capture_timeout", "user_cancelled"}

// additionalField is one field of the dashboard's additional form:
// additional_list[].answer names it, inputValue is what the applicant entered.
type additionalField struct {
	blockType, answer string
	values            []string
}

var additionalFields = []additionalField{
	{"text", "Occupation", []string{"Software engineer", "Nurse", "Teacher", "Student", "Accountant"}},
	{"select", "Employment status", []string{"Salaried employee", "Self-employed", "Student", "Retired"}},
	{"select", "Annual income", []string{"Under 10,000 USD", "10,000-50,000 USD", "Over 50,000 USD"}},
	{"select", "Source of funds", []string{"Salary", "Savings", "Business income", "Inheritance"}},
	{"checkbox", "I am not a politically exposed person", []string{"true"}},
	{"date", "Employment start date", []string{"2019-03-01", "2021-09-15", "2023-01-09"}},
}

var (
	mailDomains = []string{"example.com", "example.org", "example.net"}
	ipPrefixes  = []string{"203.0.113.", "198.51.100.", "192.0.2."}
	admins      = []string{"reviewer@example.com", "ops@example.com", "compliance@example.com"}
	memoTexts   = []string{"Verified address against utility bill", "Called applicant, confirmed identity", "Escalated to compliance", "Second ID requested", "Checked against internal list"}
	permits     = []string{"F-1", "E-9", "D-2", "F-4", "H-2"}
	// Korean bank codes (KB, Shinhan, Woori, Hana, NH, Kakao Bank).
	bankCodes      = []string{"004", "088", "020", "081", "011", "090"}
	riskIcons      = []string{"sanction", "pep", "adverse-media", "warning", "fitness-probity"}
	projectionName = []string{"name_projection", "kb_minimal_v1", "eu_minimal", "address_only"}
	attemptsFreq   = []string{"FirstSeen", "Rare", "Frequent", "VeryFrequent"}
	connections    = []string{"Residential", "Residential", "Residential", "Mobile", "Mobile", "Corporate", "Education"}
)
