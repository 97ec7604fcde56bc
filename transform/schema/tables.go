package schema

import "slices"

// Every path declared here is in the vendor's GET /submission reference
// (testdata/argos-fields.tsv transcribes it; TestEveryDocumentedPathLands and
// TestEveryColumnIsDocumented hold the two to each other). A field no
// vendor document names is not given a column: it still lands, in its row's
// extra column.

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
		col("created_at", Timestamp, "created_at", "Date and time of submission (UTC)."),
		col("updated_at", Timestamp, "updated_at", "When the submission was last updated (UTC)."),
		col("kyc_result_at", Timestamp, "kyc_result_at", "When the KYC result was finalised."),
		col("pending_at", Timestamp, "pending_at", "When the submission was marked pending."),
		col("kyc_result", String, "kyc.result", "Raw kyc.result as sent."),
		col("reviewer", String, "reviewer", "Who decided: system (AI review) or agent (human review)."),
		col("userid", String, "userid", "Optional user ID passed when the submission was created."),
		col("email", String, "email", "Email address of the submission."),
		col("token_id", String, "tokenId", "Token of a private-mode live-form submission."),
		col("applicant_id", String, "applicant_id", "Identifier shared by a user's duplicate submissions."),
		col("duplicated_information", String, "duplicated_information", "ID built from name, birth date, gender and nationality, for duplicate checks."),
		col("recognition_score", Float64, "recognition_score", "ID document recognition score."),
		col("argos_score", Float64, "argos_score", "ARGOS comprehensive evaluation score."),
		// data.* — both field sets
		col("age_group", String, "data.age_group", "minor, early-teen, teen or adult."),
		col("first_name", String, "data.first_name", "Applicant's first name."),
		col("last_name", String, "data.last_name", "Applicant's last name."),
		col("full_name", String, "data.full_name", "Applicant's full name."),
		col("name", String, "data.name", "Applicant's name (knowledge-based)."),
		col("gender", String, "data.gender", "male or female."),
		col("nationality", String, "data.nationality", "Nationality (ISO 3166-1 alpha-3)."),
		col("date_of_birth", Date, "data.date_of_birth", "Date of birth."),
		col("ip_address", String, "data.ip_address", "Submitter's IPv4 address."),
		col("cf1", String, "data.cf1", "Custom field 1."),
		col("cf2", String, "data.cf2", "Custom field 2."),
		col("cf3", String, "data.cf3", "Custom field 3."),
		hashed("ssn_number", "data.ssnNumber", "Social Security number (knowledge-based)."),
		hashed("phone_number", "data.phoneNumber", "Phone number (knowledge-based)."),
		// data.* — ID document
		col("id_type", String, "data.idType", "Type of ID used."),
		col("idcard_issuing_country", String, "data.idcard_issuingCountry", "Issuing country of the ID document (alpha-3)."),
		col("idcard_issue_date", Date, "data.idcard_issueDate", "Issue date of the ID document."),
		col("idcard_expire_date", Date, "data.idcard_expireDate", "Expiry date of the ID document."),
		hashed("identity_number", "data.identityNumber", "Identification number."),
		hashed("document_number", "data.documentNumber", "Document number of the ID."),
		col("type_of_permit", String, "data.typeOfPermit", "Permit class or visa type printed on the ID."),
		col("address_city", String, "data.address_city", "Address: city."),
		col("address_country", String, "data.address_country", "Address: country."),
		col("address_state", String, "data.address_state", "Address: state."),
		col("address_street", String, "data.address_street", "Address: street."),
		col("address_zipcode", String, "data.address_zipcode", "Address: zip code."),
		col("address_global_code", String, "data.address_globalCode", "Address: global plus-code (e.g. 8Q98HXPG+MP)."),
		col("address_compound_code", String, "data.address_compoundCode", "Address: compound plus-code (e.g. HXPG+MP Seoul, South Korea)."),
		col("address_formatted", String, "data.address_formatted", "Address: converted detailed address."),
		col("address_input", String, "data.address_input", "Address: as typed by the user."),
		col("address_detail", String, "data.address_detail", "Address: detail as typed by the user."),
		// ocr.*
		col("ocr_birth_date", Date, "ocr.birthDate", "Date of birth read by OCR."),
		col("ocr_issue_date", Date, "ocr.issueDate", "Issue date read by OCR."),
		col("ocr_expire_date", Date, "ocr.expireDate", "Expiry date read by OCR."),
		col("ocr_first_name", String, "ocr.firstName", "First name read by OCR."),
		col("ocr_last_name", String, "ocr.lastName", "Last name read by OCR."),
		col("ocr_full_name", String, "ocr.fullName", "Full name read by OCR."),
		col("ocr_gender", String, "ocr.gender", "Gender read by OCR."),
		hashed("ocr_number", "ocr.number", "Document number read by OCR."),
		hashed("ocr_license_number", "ocr.licenseNumber", "Licence number read by OCR."),
		hashed("ocr_identity_number", "ocr.identityNumber", "Korean national identification number read by OCR."),
		hashed("ocr_curp_number", "ocr.curpNumber", "CURP (MEX.ID) read by OCR."),
		col("ocr_nationality", String, "ocr.nationality", "Nationality (alpha-3) read by OCR."),
		hashed("ocr_serial_number", "ocr.serialNumber", "Serial number read by OCR."),
		// review.*: what the applicant confirmed
		col("review_birth_date", Date, "review.birthDate", "Birth date reviewed by the applicant."),
		col("review_issue_date", Date, "review.issueDate", "Issue date reviewed by the applicant."),
		col("review_expire_date", Date, "review.expireDate", "Expiry date reviewed by the applicant."),
		col("review_full_name", String, "review.fullName", "Full name reviewed by the applicant."),
		col("review_gender", String, "review.gender", "Gender reviewed by the applicant."),
		col("review_nationality", String, "review.nationality", "Nationality (alpha-3) reviewed by the applicant."),
		hashed("review_document_number", "review.documentNumber", "Document number reviewed by the applicant."),
		hashed("review_license_number", "review.licenseNumber", "Licence number reviewed by the applicant."),
		hashed("review_identity_number", "review.identityNumber", "Korean identity number reviewed by the applicant."),
		hashed("review_curp_number", "review.curpNumber", "CURP (MEX.ID) reviewed by the applicant."),
		// image.*, memo.*, updateHistory.*
		col("id_image", String, "image.idImage", "ArgosServer link to the ID front image."),
		col("id_back_image", String, "image.idBackImage", "ArgosServer link to the ID back image."),
		col("selfie_image", String, "image.selfieImage", "ArgosServer link to the selfie image."),
		col("address_image", String, "image.addressImage", "ArgosServer link to the address document image."),
		col("memo_text", String, "memo.text", "Dashboard submission memo."),
		col("memo_updated_at", Timestamp, "memo.updated_at", "When the memo was last updated."),
		col("update_admin", String, "updateHistory.updateAdmin", "Email of the admin who last updated the submission."),
		col("update_time", Timestamp, "updateHistory.updateTime", "When the submission's information was last updated by an admin."),
		// aml.*, projection.*, signals.*
		col("aml_current_status", String, "aml.currentstatus", "Not Screened or Red Flag."),
		col("aml_risk_level_summary", String, "aml.risk_level_summary", "Not Screened, High, Medium or Low (case as sent)."),
		jsonCol("aml_raw_data", "aml.raw_data", "Raw AML screening results"),
		col("projection_id", String, "projection.projectionId", "Projection ID applied to the submission."),
		col("projection_name", String, "projection.projectionName", "Name of that projection."),
		col("start_button_click_time", Timestamp, "signals.startButtonClickTime", "When the user clicked the start button."),
		// bank_verification.*, id_LivenessScore.*
		col("bank_verification_result", String, "bank_verification.result", "Bank account verification result: success or fail."),
		col("bank_verification_type", String, "bank_verification.type", "occupancy (1 KRW verification) or nameCheck."),
		col("bank_code", String, "bank_verification.bank_code", "Bank code used for verification."),
		hashed("bank_account_number", "bank_verification.account_number", "Account number used for verification."),
		col("bank_retry_count", Int64, "bank_verification.retry_count", "Failures during code transmission (pre-step2)."),
		col("id_liveness_screen_play", Float64, "id_LivenessScore.Screen_play", "ID card liveness score: screen-play pipeline."),
		col("id_liveness_paper_printed", Float64, "id_LivenessScore.Paper_printed", "ID card liveness score: paper-printed pipeline."),
		col("id_liveness_replace_portraits", Float64, "id_LivenessScore.Replace_portraits", "ID card liveness score: replaced-portrait pipeline."),
	},
}

// KYCAttempts is one row per liveform attempt.
var KYCAttempts = &Table{
	Name: "kyc_attempts", Doc: "One row per KYC attempt (kyc.attempts).",
	Shape: PerElement, Source: "kyc.attempts", Extra: true,
	Columns: []Column{
		col("attempt_cnt", Int64, "attemptCnt", "Number of retries after failed submissions."),
		col("id_barcode_result", String, "idBarcodeResult", "Barcode verification result (IDs from USA, CAN, MEX)."),
		col("verification_result", String, "verificationResult", "Result of ID verification: success or fail."),
		jsonCol("verification", "verification", "Detailed ID verification results"),
		jsonCol("verification_params", "verificationParams", "Parameters of the ID verification"),
		col("error_code", String, "errorCode", "Error code of liveness, face detection, face comparison or ID verification."),
		col("error_msg", String, "errorMsg", "Error message of liveness, face detection, face comparison or ID verification."),
		col("step1_time_1st", Timestamp, "step1Time1st", "First call to step1."),
		col("step1_time_2nd", Timestamp, "step1Time2nd", "Second call to step1."),
		col("step1_time_3rd", Timestamp, "step1Time3rd", "Third call to step1."),
		col("step2_time_1st", Timestamp, "step2Time1st", "First call to step2."),
		col("step2_time_2nd", Timestamp, "step2Time2nd", "Second call to step2."),
		col("step2_time_3rd", Timestamp, "step2Time3rd", "Third call to step2."),
		col("face_similarity_score", Float64, "faceSimilarityScore", "Face comparison similarity score."),
		col("selfie_image", String, "selfieImage", "URL of the submitted selfie image."),
		col("liveness_score", Float64, "livenessScore", "Liveness score of the attempt."),
		col("liveness_detail_score", Float64, "liveness.score", "Overall liveness score (liveness object)."),
		col("liveness_probability", Float64, "liveness.probability", "Liveness probability."),
		col("liveness_quality", Float64, "liveness.quality", "Liveness quality score."),
	},
}

// AttemptFaceDetections is one row per face an attempt's detection found.
var AttemptFaceDetections = &Table{
	Name: "attempt_face_detections", Doc: "One row per face detection result of an attempt (kyc.attempts[].detectFace, an AWS Rekognition DetectFaces response); parent_ordinal is the attempt's ordinal.",
	Shape: PerElement, Source: "detectFace", Parent: KYCAttempts, Extra: true,
	Columns: []Column{
		col("age_range_high", Float64, "AgeRange.High", "Highest estimated age of the face."),
		col("age_range_low", Float64, "AgeRange.Low", "Lowest estimated age of the face."),
		col("gender_confidence", Float64, "Gender.Confidence", "Gender detection confidence (0-100)."),
		col("gender_value", String, "Gender.Value", "Detected gender: Male or Female."),
	},
}

// AttemptRetryMessages pairs each attempt's retryCode[i] with retryMsg[i].
var AttemptRetryMessages = &Table{
	Name: "attempt_retry_messages", Doc: "One row per failure reason of an attempt: retryCode[i] with retryMsg[i] (a lone string counts as one); parent_ordinal is the attempt's ordinal.",
	Shape: PerIndex, Parent: KYCAttempts,
	Columns: []Column{
		col("retry_code", String, "retryCode", "Failure reason code."),
		col("retry_msg", String, "retryMsg", "Failure reason message."),
	},
}

// KYCRetries is one row per retry condition met during KYC processing.
var KYCRetries = &Table{
	Name: "kyc_retries", Doc: "One row per retry condition met during KYC processing (kyc.retry).",
	Shape: PerElement, Source: "kyc.retry", Extra: true,
	Columns: []Column{
		col("type", String, "type", "Step that caused the retry: step1 or step2."),
		col("retry_cnt", Int64, "retryCnt", "Retry attempt number of this condition."),
		col("retry_code", String, "retryCode", "Code of the retry condition."),
		col("retry_message", String, "retryMessage", "Message explaining the retry condition."),
	},
}

// RejectionReasons pairs kyc.comment[i] with kyc.commentCode[i].
var RejectionReasons = &Table{
	Name: "rejection_reasons", Doc: "One row per rejection reason: kyc.commentCode[i] with kyc.comment[i] (documented as text, sent as arrays too; a lone string counts as one).",
	Shape: PerIndex, Source: "kyc",
	Columns: []Column{
		col("comment_code", String, "commentCode", "Reject code, e.g. too_many_retry."),
		col("comment", String, "comment", "Reject reason as text."),
	},
}

// AMLMatches is one row per Red Flag match.
var AMLMatches = &Table{
	Name: "aml_matches", Doc: "One row per AML match (aml.matches, present on Red Flag).",
	Shape: PerElement, Source: "aml.matches", Extra: true,
	Columns: []Column{
		col("risk_level", String, "risk_level", "HIGH, MEDIUM or LOW."),
		col("argos_number", String, "argos_number", "ID for retrieving the AML report."),
		col("resource_id", String, "resource_id", "Resource ID for retrieving the AML report."),
		col("score", Float64, "score", "AML screening match score."),
		jsonCol("risk_icons", "risk_icons", "Risk icons of the match"),
	},
}

// FaceAgeVerifications is one row per face-based age verification.
var FaceAgeVerifications = &Table{
	Name: "face_age_verifications", Doc: "One row per face-based age verification (verification.faceAge, cumulative per attempt) with the age values it used.",
	Shape: PerElement, Source: "verification.faceAge", Extra: true,
	Columns: []Column{
		col("original_selfie_low", Float64, "usedValues.originalSelfieLow", "Selfie age estimate before LOW/HIGH extension: low."),
		col("original_selfie_high", Float64, "usedValues.originalSelfieHigh", "Selfie age estimate before LOW/HIGH extension: high."),
		col("original_selfie_median", Float64, "usedValues.originalSelfieMedian", "Selfie age estimate before LOW/HIGH extension: median."),
		col("original_id_low", Float64, "usedValues.originalIdLow", "ID image age estimate before LOW/HIGH extension: low."),
		col("original_id_high", Float64, "usedValues.originalIdHigh", "ID image age estimate before LOW/HIGH extension: high."),
		col("original_id_median", Float64, "usedValues.originalIdMedian", "ID image age estimate before LOW/HIGH extension: median."),
		col("selfie_low", Float64, "usedValues.selfieLow", "Selfie age estimate after LOW/HIGH extension: low."),
		col("selfie_high", Float64, "usedValues.selfieHigh", "Selfie age estimate after LOW/HIGH extension: high."),
		col("selfie_median", Float64, "usedValues.selfieMedian", "Selfie age estimate after LOW/HIGH extension: median."),
		col("id_low", Float64, "usedValues.idLow", "ID image age estimate after LOW/HIGH extension: low."),
		col("id_high", Float64, "usedValues.idHigh", "ID image age estimate after LOW/HIGH extension: high."),
		col("id_median", Float64, "usedValues.idMedian", "ID image age estimate after LOW/HIGH extension: median."),
		col("birth_date_age", Float64, "usedValues.birthDateAge", "Age from the user-input date of birth."),
		jsonCol("logical_operators", "logicalOperators", "Logical operators between conditions (and, or)"),
	},
}

// matchResult declares the three columns of one documented matchResults
// entry; the reference documents them once as matchResults.*.
func matchResult(prefix, key, what string) []Column {
	p := "matchResults." + key + "."
	return []Column{
		col(prefix+"_result", Bool, p+"result", what+": success (true), failure (false) or NULL when absent."),
		col(prefix+"_processed", Bool, p+"processed", what+": whether the comparison was executed."),
		col(prefix+"_statement", String, p+"statement", what+": the comparison made, e.g. 36 gte 18."),
	}
}

// FaceAgeConditions is one row per condition of a face-age verification.
var FaceAgeConditions = &Table{
	Name: "face_age_conditions", Doc: "One row per condition result of a face-age verification (verification.faceAge[].conditionResults); parent_ordinal is the verification's ordinal.",
	Shape: PerElement, Source: "conditionResults", Parent: FaceAgeVerifications, Extra: true,
	Columns: slices.Concat([]Column{
		col("comparison_operator", String, "condition.comparisonOperator", "Comparison operator: gte, gt, lte or lt."),
		col("target", String, "condition.target", "Target age type: low, high or median."),
		col("condition_index", Int64, "conditionIndex", "Condition index (from 0)."),
		col("final_result", Bool, "finalResult", "Final result of the condition."),
	},
		matchResult("id_card_custom_match", "idCardCustomMatch", "ID image against the custom age"),
		matchResult("id_card_birth_date_match", "idCardBirthDateMatch", "ID image against the birth-date age"),
		matchResult("face_image_custom_match", "faceImageCustomMatch", "Selfie against the custom age"),
		matchResult("face_image_birth_date_match", "faceImageBirthDateMatch", "Selfie against the birth-date age"),
	),
}

// FaceAgeSignals is one row per age range extracted from a face.
var FaceAgeSignals = &Table{
	Name: "face_age_signals", Doc: "One row per age range extracted from a face (signals.faceAge, cumulative per attempt).",
	Shape: PerElement, Source: "signals.faceAge", Extra: true,
	Columns: []Column{
		col("age_range_low", Float64, "ageRange.low", "Lowest age estimate."),
		col("age_range_high", Float64, "ageRange.high", "Highest age estimate."),
		col("age_range_median", Float64, "ageRange.median", "Median age estimate."),
		col("source", String, "source", "Image the age was estimated from: selfieImage or idImage."),
	},
}

// CameraProcesses is one row per camera process stage.
var CameraProcesses = &Table{
	Name: "camera_processes", Doc: "One row per camera process stage the user went through (signals.cameraProcessInfo, in order), with its duration.",
	Shape: PerElement, Source: "signals.cameraProcessInfo", Extra: true,
	Columns: []Column{
		col("type", String, "type", "Process type, e.g. idcard-front-capture, id-document-face-passive, knowledge-face-active."),
		col("process_start_time", Timestamp, "processStartTime", "When the process started."),
		col("process_end_time", Timestamp, "processEndTime", "When the process ended."),
		col("error", String, "error", "Error of the process; NULL when none."),
		col("duration_seconds", Float64, "", "process_end_time - process_start_time in seconds; NULL when either is missing."),
	},
}

// OCRFields is one row per OCR_raw item.
var OCRFields = &Table{
	Name: "ocr_fields", Doc: "One row per OCR_raw item: the item, the detected value, its score and acceptance. The value of an item named like a hashed field (number, identityNumber, licenseNumber, ...) is hashed unless the value column's PII action is drop.",
	Shape: PerEntry, Source: "OCR_raw", KeyColumn: "item", Extra: true, SensitiveKeys: true,
	Columns: []Column{
		col("item", String, "", "OCR item name (the OCR_raw key)."),
		col("value", String, "value", "OCR-detected value."),
		col("score", Float64, "score", "Recognition confidence (0-100)."),
		col("accepted", Bool, "accepted", "Whether the OCR value was accepted."),
		jsonCol("coordinates", "coordinates", "Vector coordinates of the detected value"),
	},
}

// AdditionalFields is one row per additional form answer.
var AdditionalFields = &Table{
	Name: "additional_fields", Doc: "One row per field of the additional forms configured in the dashboard (additional_list).",
	Shape: PerElement, Source: "additional_list", Extra: true,
	Columns: []Column{
		col("answer", String, "answer", "Name of the form field."),
		col("input_value", String, "inputValue", "User-inputted value."),
		col("block_type", String, "blockType", "Data type of the form field."),
	},
}

// DuplicateLinks is one row per submission ID listed as a duplicate.
var DuplicateLinks = &Table{
	Name: "duplicate_links", Doc: "One row per submission ID in duplicated_users (duplicated PII) or duplicated_selfie_users (duplicated selfie); ordinal is the position in that list.",
	Shape: PerValue, Sources: []string{"duplicated_users", "duplicated_selfie_users"}, KeyColumn: "list", ValueColumn: "linked_submission_id",
	Columns: []Column{
		col("list", String, "", "The list the ID came from: duplicated_users or duplicated_selfie_users."),
		col("linked_submission_id", String, "", "The other submission's ID."),
	},
}

// InjectionActions is one row per injection process execution.
var InjectionActions = &Table{
	Name: "injection_actions", Doc: "One row per injection process execution (Injection_action). The reference types it as an Object yet orders it newest first: a lone object is one row, an array one row per element.",
	Shape: PerElement, Source: "Injection_action", ObjectOrArray: true, Extra: true,
	Columns: []Column{
		col("type", String, "type", "Type of the injection process."),
		col("time", Timestamp, "time", "Most recent execution of this injection process type."),
		col("attempt_status", String, "attemptStatus", "Status of the injection action result."),
		col("create_time", Timestamp, "createTime", "When the injection happened (UTC)."),
		jsonCol("user_input_address", "userInput.address", "Address information from user input"),
		jsonCol("distance_checks", "option.distanceChecks", "Service used for distance checks and the measured distance"),
		jsonCol("ip_risk", "option.ipRisk", "IP risk category and prohibition time"),
		jsonCol("ip_verification", "option.ipVerification", "Verified accessed IP information"),
	},
}

// PreVerifications is one row per pre-verification check.
var PreVerifications = &Table{
	Name: "pre_verifications", Doc: "One row per pre-verification check (pre_verification). The reference types it as an Object yet calls it a list: a lone object is one row, an array one row per element.",
	Shape: PerElement, Source: "pre_verification", ObjectOrArray: true, Extra: true,
	Columns: []Column{
		col("request_id", String, "request_id", "Request ID of the check."),
		col("created_at", Timestamp, "created_at", "When the check was requested."),
		col("ip_address", String, "ip_address", "IP address evaluated."),
		col("fraud_score", Float64, "fraud_score", "Fraud score."),
		col("attempts_frequency", String, "attempts_frequency", "Subnet attempt frequency: FirstSeen, Rare, Frequent or VeryFrequent."),
		col("country_code", String, "country_code", "Country code of the IP address."),
		col("connection_type", String, "connection_type", "Residential, Corporate, Education, Mobile or DataCenter."),
		col("is_valid", Bool, "is_valid", "Whether the pre-verification passed."),
	},
}

// All lists every table: the registered sources' tables (Register), then
// the operational tables.
func All() []*Table {
	return append(Sourced(), Quarantine, LoadRuns, CreditRates)
}

// Children lists the child tables of submissions; a nested table follows its parent.
func Children() []*Table {
	return []*Table{
		KYCAttempts, AttemptFaceDetections, AttemptRetryMessages, KYCRetries, RejectionReasons,
		AMLMatches, FaceAgeVerifications, FaceAgeConditions, FaceAgeSignals, CameraProcesses,
		OCRFields, AdditionalFields, DuplicateLinks, InjectionActions, PreVerifications,
	}
}

// SubmissionTables lists the tables the submission flattener (transform)
// fills from ARGOS submissions: submissions, then its children. The ARGOS
// source registers them.
func SubmissionTables() []*Table {
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
