package schema

// Field shapes that the vendor's reference documents are used as they are;
// shapes it does not publish (camera process, signals, pre-verification,
// injection, additional answers, duplicate links, review, update history,
// retries, AML matches, face-age conditions) are modelled in
// docs/argos-fields-research.md. Any field not declared here still lands,
// in its row's extra column.

func col(name string, t arrowType, path, doc string) Column {
	return Column{Name: name, Type: t, Path: path, Doc: doc}
}

func hashed(name, path, doc string) Column {
	return Column{Name: name, Type: String, Path: path, PII: Hash, Doc: doc}
}

func jsonCol(name, path, doc string) Column {
	return Column{Name: name, Type: String, Path: path, JSON: true, Doc: doc + " (JSON text)"}
}

// Submissions is one row per submission: every scalar field of both field
// sets, plus the columns kycetl derives. The derived columns' names are part
// of the view contract (sql/).
var Submissions = &Table{
	Name:  "submissions",
	Doc:   "One row per submission: every scalar field of the ID-document and knowledge-based field sets, the normalised status and kind, and counts of child rows.",
	Shape: PerSubmission,
	Extra: true,
	Columns: []Column{
		SubmissionCol,
		col("kind", String, "", "id_document or knowledge_based: knowledge-based submissions carry data.ssnNumber or data.phoneNumber and no data.idType."),
		col("status", String, "", "Normalised kyc.result: lower-cased; missing or empty is incomplete."),
		col("has_aml", Bool, "", "The submission carries an aml object (counts toward AML Count)."),
		col("attempt_count", Int64, "", "Number of kyc.attempts elements."),
		col("aml_match_count", Int64, "", "Number of aml.matches elements."),
		col("created_at", Timestamp, "created_at", "When the submission was created (UTC)."),
		col("updated_at", Timestamp, "updated_at", "When the submission last changed (UTC)."),
		col("kyc_result_at", Timestamp, "kyc_result_at", "When the KYC result was first decided."),
		col("pending_at", Timestamp, "pending_at", "When the submission entered pending review."),
		col("kyc_result", String, "kyc.result", "Raw kyc.result as sent."),
		col("reviewer", String, "reviewer", "Who decided: system (AI) or agent (human)."),
		col("userid", String, "userid", "Customer's user ID passed to the liveform."),
		col("email", String, "email", "Applicant's email."),
		col("token_id", String, "tokenId", "Token of a private-mode liveform."),
		col("applicant_id", String, "applicant_id", "Duplicate-detection ID across submissions (approved only)."),
		col("duplicated_information", String, "duplicated_information", "ID built from name, birth date, gender and nationality, for duplicate checks."),
		col("recognition_score", Float64, "recognition_score", "OCR recognition score."),
		col("argos_score", Float64, "argos_score", "ARGOS trust score."),
		// data.* — both field sets
		col("age_group", String, "data.age_group", "minor, early-teen, teen, adult or N/A."),
		col("first_name", String, "data.first_name", "Applicant's first name."),
		col("last_name", String, "data.last_name", "Applicant's last name."),
		col("full_name", String, "data.full_name", "Applicant's full name."),
		col("full_name_en", String, "data.full_name_en", "Romanised full name."),
		col("name", String, "data.name", "Applicant's name (older single-name field; knowledge-based)."),
		col("gender", String, "data.gender", "male or female."),
		col("nationality", String, "data.nationality", "Nationality (ISO 3166-1 alpha-3)."),
		col("date_of_birth", Date, "data.date_of_birth", "Date of birth."),
		col("ip_address", String, "data.ip_address", "Submitter's IP address."),
		col("cf1", String, "data.cf1", "Custom field 1."),
		col("cf2", String, "data.cf2", "Custom field 2."),
		col("cf3", String, "data.cf3", "Custom field 3."),
		hashed("ssn_number", "data.ssnNumber", "Social Security number (knowledge-based)."),
		hashed("phone_number", "data.phoneNumber", "Phone number (knowledge-based)."),
		// data.* — ID document
		col("id_type", String, "data.idType", "ID type: government_id, passport, drivers_license, residence_permit, ..."),
		col("idcard_issuing_country", String, "data.idcard_issuingCountry", "Issuing country of the ID document (alpha-3)."),
		col("idcard_issue_date", Date, "data.idcard_issueDate", "Issue date of the ID document."),
		col("idcard_expire_date", Date, "data.idcard_expireDate", "Expiry date of the ID document."),
		hashed("identity_number", "data.identityNumber", "Government identity number."),
		hashed("document_number", "data.documentNumber", "Document (passport, licence) number."),
		hashed("serial_number", "data.serialNumber", "Serial number of the ID document."),
		hashed("curp_number", "data.curpNumber", "Mexican CURP."),
		col("privacy_shield", String, "data.privacyShield", "Privacy-shield field of the document."),
		col("document_version", String, "data.version", "Document version."),
		col("type_of_permit", String, "data.typeOfPermit", "Residence permit type (e.g. F-1)."),
		col("type_of_permit_gov_kor", String, "data.typeOfPermitGovKor", "Permit type per the Korean government check."),
		col("expiry_date_of_stay_kor", Date, "data.expiryDateOfStayKor", "Stay expiry per the Korean government check."),
		col("nationality_gov_kor", String, "data.nationalityGovKor", "Nationality per the Korean government check."),
		col("address_city", String, "data.address_city", "Address: city."),
		col("address_country", String, "data.address_country", "Address: country."),
		col("address_state", String, "data.address_state", "Address: state."),
		col("address_street", String, "data.address_street", "Address: street."),
		col("address_street2", String, "data.address_street2", "Address: street, second line."),
		col("address_zipcode", String, "data.address_zipcode", "Address: zip code."),
		col("address_global_code", String, "data.address_globalCode", "Address: plus-code (global)."),
		col("address_compound_code", String, "data.address_compoundCode", "Address: plus-code (compound)."),
		col("address_formatted", String, "data.address_formatted", "Address: formatted by the vendor."),
		col("address_input", String, "data.address_input", "Address: as typed by the user."),
		col("address_detail", String, "data.address_detail", "Address: detail as typed by the user."),
		// ocr.*
		col("ocr_birth_date", Date, "ocr.birthDate", "Birth date read from the ID."),
		col("ocr_expire_date", Date, "ocr.expireDate", "Expiry date read from the ID."),
		col("ocr_first_name", String, "ocr.firstName", "First name read from the ID."),
		col("ocr_last_name", String, "ocr.lastName", "Last name read from the ID."),
		col("ocr_full_name", String, "ocr.fullName", "Full name read from the ID."),
		hashed("ocr_identity_number", "ocr.identityNumber", "Identity number read from the ID."),
		col("ocr_nationality", String, "ocr.nationality", "Nationality read from the ID."),
		// image.*, memo.*, review.*
		col("id_image", String, "image.idImage", "Reference to the ID front image."),
		col("id_back_image", String, "image.idBackImage", "Reference to the ID back image."),
		col("selfie_image", String, "image.selfieImage", "Reference to the selfie image."),
		col("address_image", String, "image.addressImage", "Reference to the proof-of-address image."),
		col("memo_text", String, "memo.text", "Dashboard memo."),
		col("memo_updated_at", Timestamp, "memo.updated_at", "When the memo was last edited."),
		col("review_admin", String, "review.admin", "Admin who reviewed the submission."),
		col("review_result", String, "review.result", "Outcome of the manual review."),
		col("review_comment", String, "review.comment", "Reviewer's note."),
		col("reviewed_at", Timestamp, "review.reviewed_at", "When the review was made."),
		// aml.*, projection.*, signals.*, project_options.*
		col("aml_current_status", String, "aml.currentstatus", "Not Screened, No Matches or Red Flag."),
		col("aml_risk_level_summary", String, "aml.risk_level_summary", "Not Screened, High, Medium or Low (case as sent)."),
		col("projection_id", String, "projection.projectionId", "Projection applied at submission."),
		col("projection_name", String, "projection.projectionName", "Name of that projection."),
		col("start_button_click_time", Timestamp, "signals.startButtonClickTime", "When the user pressed Start in the liveform."),
		col("submit_time", Timestamp, "signals.submitTime", "When the user submitted."),
		col("device_type", String, "signals.deviceType", "mobile or desktop."),
		col("user_agent", String, "signals.userAgent", "Browser user agent."),
		col("option_aml", Bool, "project_options.option_aml", "Project option: AML screening on."),
		col("option_address_data", Bool, "project_options.option_addressData", "Project option: address collection on."),
		col("option_id_number", Bool, "project_options.option_idNumber", "Project option: ID number collection on."),
		col("policy_approve_period", Int64, "project_options.policy_approvePeriod", "Project policy: approved-duplicate prevention period in days (0 = off)."),
		jsonCol("policy_blacklist_countries", "project_options.policy_blacklistCountries", "Project policy: blocked countries"),
		jsonCol("policy_accepted_id", "project_options.policy_acceptedID", "Project policy: accepted ID types"),
		jsonCol("update_history", "updateHistory", "Edits made to the submission's data: admin, time, fields"),
	},
}

// KYCAttempts is one row per liveform attempt.
var KYCAttempts = &Table{
	Name: "kyc_attempts", Doc: "One row per liveform attempt (kyc.attempts).",
	Shape: PerElement, Source: "kyc.attempts", Extra: true,
	Columns: []Column{
		col("attempt_cnt", Int64, "attemptCnt", "Attempt number as sent (1-based)."),
		col("liveness_score", Float64, "livenessScore", "Liveness score, when scored."),
	},
}

// AttemptRetryMessages pairs each attempt's retryCode[i] with retryMsg[i].
var AttemptRetryMessages = &Table{
	Name: "attempt_retry_messages", Doc: "One row per retry reason of an attempt: retryCode[i] with retryMsg[i]; parent_ordinal is the attempt's ordinal.",
	Shape: PerIndex, Parent: KYCAttempts,
	Columns: []Column{
		col("retry_code", String, "retryCode", "Retry code, e.g. liveness_error."),
		col("retry_msg", String, "retryMsg", "Retry message shown to the user."),
	},
}

// KYCRetries is one row per retry event.
var KYCRetries = &Table{
	Name: "kyc_retries", Doc: "One row per retry event (kyc.retries).",
	Shape: PerElement, Source: "kyc.retries", Extra: true,
	Columns: []Column{
		col("retry_code", String, "retryCode", "Retry code."),
		col("retry_msg", String, "retryMsg", "Retry message."),
		col("created_at", Timestamp, "created_at", "When the retry happened."),
	},
}

// RejectionReasons pairs kyc.comment[i] with kyc.commentCode[i].
var RejectionReasons = &Table{
	Name: "rejection_reasons", Doc: "One row per rejection reason: kyc.commentCode[i] with kyc.comment[i] (a lone string counts as one).",
	Shape: PerIndex, Source: "kyc",
	Columns: []Column{
		col("comment_code", String, "commentCode", "Reject code, e.g. too_many_retry."),
		col("comment", String, "comment", "Reject reason as text."),
	},
}

// AMLMatches is one row per matched risk profile.
var AMLMatches = &Table{
	Name: "aml_matches", Doc: "One row per AML match (aml.matches, present on Red Flag).",
	Shape: PerElement, Source: "aml.matches", Extra: true,
	Columns: []Column{
		col("name", String, "name", "Matched profile's name."),
		col("score", Float64, "score", "Similarity score."),
		col("risk_level", String, "risk_level", "HIGH, MEDIUM or LOW."),
		jsonCol("categories", "categories", "Risk categories (PEP, SAN, AM, ...)"),
		jsonCol("countries", "countries", "Related countries"),
		col("date_of_birth", String, "date_of_birth", "Profile's birth date or year as sent."),
		col("argos_number", String, "argos_number", "ARGOS number for the AML report."),
	},
}

// CameraProcesses is one row per camera capture step.
var CameraProcesses = &Table{
	Name: "camera_processes", Doc: "One row per camera capture step (cameraProcess.steps), with its duration.",
	Shape: PerElement, Source: "cameraProcess.steps", Extra: true,
	Columns: []Column{
		col("step", String, "step", "Capture step: id_front, id_back, selfie, address."),
		col("start_time", Timestamp, "startTime", "When the step started."),
		col("end_time", Timestamp, "endTime", "When the step ended."),
		col("capture_count", Int64, "captureCount", "Shots taken."),
		col("duration_seconds", Float64, "", "end_time - start_time in seconds; NULL when either is missing."),
	},
}

// FaceAgeSignals is one row per face-age verification.
var FaceAgeSignals = &Table{
	Name: "face_age_signals", Doc: "One row per face-based age verification (verification.faceAge) with the age estimates it used.",
	Shape: PerElement, Source: "verification.faceAge", Extra: true,
	Columns: []Column{
		col("result", String, "result", "pass or fail."),
		col("original_selfie_low", Float64, "usedValues.originalSelfieLow", "Age estimate: original selfie, low."),
		col("original_selfie_median", Float64, "usedValues.originalSelfieMedian", "Age estimate: original selfie, median."),
		col("original_selfie_high", Float64, "usedValues.originalSelfieHigh", "Age estimate: original selfie, high."),
		col("selfie_low", Float64, "usedValues.selfieLow", "Age estimate: selfie, low."),
		col("selfie_median", Float64, "usedValues.selfieMedian", "Age estimate: selfie, median."),
		col("selfie_high", Float64, "usedValues.selfieHigh", "Age estimate: selfie, high."),
		col("id_low", Float64, "usedValues.idLow", "Age estimate: ID photo, low."),
		col("id_median", Float64, "usedValues.idMedian", "Age estimate: ID photo, median."),
		col("id_high", Float64, "usedValues.idHigh", "Age estimate: ID photo, high."),
		col("birth_date_age", Float64, "usedValues.birthDateAge", "Age from the birth date."),
	},
}

// FaceAgeChecks is one row per condition of a face-age verification.
var FaceAgeChecks = &Table{
	Name: "face_age_checks", Doc: "One row per condition of a face-age verification, with the value used and whether it matched; parent_ordinal is the verification's ordinal.",
	Shape: PerElement, Source: "conditions", Parent: FaceAgeSignals, Extra: true,
	Columns: []Column{
		col("name", String, "name", "Condition name."),
		col("used_value", Float64, "usedValue", "Value the condition was evaluated on."),
		col("threshold", Float64, "threshold", "Threshold it was compared with."),
		col("matched", Bool, "matched", "Whether the condition held."),
	},
}

// OCRFields is one row per OCR_raw item.
var OCRFields = &Table{
	Name: "ocr_fields", Doc: "One row per OCR_raw item: the field, the raw text, its score and acceptance. The value of identity, document, SSN, phone and CURP numbers follows the value column's PII action only when set to drop; otherwise it is hashed.",
	Shape: PerEntry, Source: "OCR_raw", KeyColumn: "field", Extra: true,
	SensitiveKeys: []string{"identityNumber", "documentNumber", "serialNumber", "licenseNumber", "curpNumber", "ssnNumber", "phoneNumber"},
	Columns: []Column{
		col("field", String, "", "OCR field name (the OCR_raw key)."),
		col("value", String, "value", "Recognised text."),
		col("score", Float64, "score", "Recognition confidence."),
		col("accepted", Bool, "accepted", "Whether the value passed the acceptance threshold."),
		jsonCol("coordinates", "coordinates", "Bounding box on the image"),
	},
}

// InjectionActions is one row per data-injection event.
var InjectionActions = &Table{
	Name: "injection_actions", Doc: "One row per data-injection action (injection), such as address verification.",
	Shape: PerElement, Source: "injection", Extra: true,
	Columns: []Column{
		col("action_type", String, "type", "Action type, e.g. address."),
		col("created_at", Timestamp, "created_at", "When the action happened."),
		col("fail_code", String, "failCode", "Why it failed, when it did."),
	},
}

// AdditionalFields is one row per additional form answer.
var AdditionalFields = &Table{
	Name: "additional_fields", Doc: "One row per answer of the project's additional-information form (additional).",
	Shape: PerElement, Source: "additional", Extra: true,
	Columns: []Column{
		col("block_type", String, "blockType", "Form block type."),
		col("answer", String, "answer", "Selected answer."),
		col("input_value", String, "inputValue", "Free-text input."),
	},
}

// PreVerifications is one row per pre-verification check.
var PreVerifications = &Table{
	Name: "pre_verifications", Doc: "One row per liveform pre-verification check (pre_verification: deviceInfo, turnstile, proxyVpn, ...).",
	Shape: PerEntry, Source: "pre_verification", KeyColumn: "check_name", Extra: true,
	Columns: []Column{
		col("check_name", String, "", "Check name (the pre_verification key)."),
		col("result", String, "result", "pass or fail."),
		col("fingerprint_virtual_machine", Bool, "fingerprint.virtualMachine", "Device fingerprint: virtual machine detected."),
		col("fingerprint_emulator", Bool, "fingerprint.emulator", "Device fingerprint: emulator detected."),
		col("fingerprint_malicious_bot", Bool, "fingerprint.maliciousBot", "Device fingerprint: malicious bot detected."),
		col("fingerprint_browser_tampering", Bool, "fingerprint.browserTampering", "Device fingerprint: browser tampering detected."),
		col("device_duplicate_count", Int64, "deviceDuplicate.count", "Approvals seen from the same device."),
		col("device_duplicate_result", String, "deviceDuplicate.result", "Device duplicate check outcome."),
		jsonCol("categories", "categories", "Proxy/VPN categories detected"),
	},
}

// DuplicateLinks is one row per linked duplicate submission.
var DuplicateLinks = &Table{
	Name: "duplicate_links", Doc: "One row per submission this one duplicates (duplicated.links): by PII or by selfie.",
	Shape: PerElement, Source: "duplicated.links", Extra: true,
	Columns: []Column{
		col("link_type", String, "type", "pii or selfie."),
		col("linked_submission_id", String, "submission_id", "The other submission."),
		col("email", String, "email", "The other submission's email."),
		col("duplicated_information", String, "duplicated_information", "Shared duplicate-detection ID."),
		col("similarity", Float64, "similarity", "Face similarity, for selfie duplicates."),
	},
}

// All lists every table: submissions, its children, then the operational tables.
func All() []*Table {
	return append(Flattened(), Quarantine, LoadRuns, CreditRates)
}

// Children lists the child tables of submissions; a nested table follows its parent.
func Children() []*Table {
	return []*Table{
		KYCAttempts, AttemptRetryMessages, KYCRetries, RejectionReasons, AMLMatches,
		CameraProcesses, FaceAgeSignals, FaceAgeChecks, OCRFields, InjectionActions,
		AdditionalFields, PreVerifications, DuplicateLinks,
	}
}

// Flattened lists the tables the flattener fills from submissions.
func Flattened() []*Table {
	return append([]*Table{Submissions}, Children()...)
}

// Partitioned lists the tables that are replaced day by day.
func Partitioned() []*Table {
	var out []*Table
	for _, t := range All() {
		if !t.Unpartitioned {
			out = append(out, t)
		}
	}
	return out
}
