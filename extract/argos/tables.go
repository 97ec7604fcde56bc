package argos

import (
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/kycetl/kycetl/transform/schema"
)

// The tables ARGOS submissions are flattened into. Every path declared here
// is in the vendor's GET /submission reference (testdata/argos-fields.tsv
// transcribes it; TestEveryDocumentedPathLands and
// TestEveryColumnIsDocumented hold the two to each other). A field no
// vendor document names is not given a column: it still lands, in its row's
// extra column.

func col(name string, t arrow.DataType, path, doc string) schema.Column {
	return schema.Column{Name: name, Type: t, Path: path, Doc: doc}
}

func hashed(name, path, doc string) schema.Column {
	return schema.Column{Name: name, Type: schema.String, Path: path, PII: schema.Hash, Doc: doc}
}

func jsonCol(name, path, doc string) schema.Column {
	return schema.Column{Name: name, Type: schema.String, Path: path, JSON: true, Doc: doc + " (JSON text)"}
}

// Submissions is one row per submission: every scalar field of both field
// sets, plus the columns kycetl derives. The derived columns' names are part
// of the view contract (sql/).
var Submissions = &schema.Table{
	Name:  "submissions",
	Doc:   "One row per submission: every scalar field of the ID-document and knowledge-based field sets, the normalised status and kind, and counts of child rows.",
	Shape: schema.PerSubmission,
	Extra: true,
	// The statistics views group submissions by status.
	Cluster: []string{"status"},
	Columns: []schema.Column{
		schema.SubmissionCol,
		col("kind", schema.String, "", "id_document or knowledge_based: knowledge-based submissions carry data.ssnNumber or data.phoneNumber and no data.idType."),
		col("status", schema.String, "", "Normalised kyc.result: lower-cased; missing or empty is incomplete."),
		col("has_aml", schema.Bool, "", "The submission carries an aml object (counts toward AML Count)."),
		col("attempt_count", schema.Int64, "", "Number of kyc.attempts elements."),
		col("aml_match_count", schema.Int64, "", "Number of aml.matches elements."),
		col("created_at", schema.Timestamp, "created_at", "Date and time of submission (UTC)."),
		col("updated_at", schema.Timestamp, "updated_at", "When the submission was last updated (UTC)."),
		col("kyc_result_at", schema.Timestamp, "kyc_result_at", "When the KYC result was finalised."),
		col("pending_at", schema.Timestamp, "pending_at", "When the submission was marked pending."),
		col("kyc_result", schema.String, "kyc.result", "Raw kyc.result as sent."),
		col("reviewer", schema.String, "reviewer", "Who decided: system (AI review) or agent (human review)."),
		col("userid", schema.String, "userid", "Optional user ID passed when the submission was created."),
		col("email", schema.String, "email", "Email address of the submission."),
		col("token_id", schema.String, "tokenId", "Token of a private-mode live-form submission."),
		col("applicant_id", schema.String, "applicant_id", "Identifier shared by a user's duplicate submissions."),
		col("duplicated_information", schema.String, "duplicated_information", "ID built from name, birth date, gender and nationality, for duplicate checks."),
		col("recognition_score", schema.Float64, "recognition_score", "ID document recognition score."),
		col("argos_score", schema.Float64, "argos_score", "ARGOS comprehensive evaluation score."),
		// data.* — both field sets
		col("age_group", schema.String, "data.age_group", "minor, early-teen, teen or adult."),
		col("first_name", schema.String, "data.first_name", "Applicant's first name."),
		col("last_name", schema.String, "data.last_name", "Applicant's last name."),
		col("full_name", schema.String, "data.full_name", "Applicant's full name."),
		col("name", schema.String, "data.name", "Applicant's name (knowledge-based)."),
		col("gender", schema.String, "data.gender", "male or female."),
		col("nationality", schema.String, "data.nationality", "Nationality (ISO 3166-1 alpha-3)."),
		col("date_of_birth", schema.Date, "data.date_of_birth", "Date of birth."),
		col("ip_address", schema.String, "data.ip_address", "Submitter's IPv4 address."),
		col("cf1", schema.String, "data.cf1", "Custom field 1."),
		col("cf2", schema.String, "data.cf2", "Custom field 2."),
		col("cf3", schema.String, "data.cf3", "Custom field 3."),
		hashed("ssn_number", "data.ssnNumber", "Social Security number (knowledge-based)."),
		hashed("phone_number", "data.phoneNumber", "Phone number (knowledge-based)."),
		// data.* — ID document
		col("id_type", schema.String, "data.idType", "Type of ID used."),
		col("idcard_issuing_country", schema.String, "data.idcard_issuingCountry", "Issuing country of the ID document (alpha-3)."),
		col("idcard_issue_date", schema.Date, "data.idcard_issueDate", "Issue date of the ID document."),
		col("idcard_expire_date", schema.Date, "data.idcard_expireDate", "Expiry date of the ID document."),
		hashed("identity_number", "data.identityNumber", "Identification number."),
		hashed("document_number", "data.documentNumber", "Document number of the ID."),
		col("type_of_permit", schema.String, "data.typeOfPermit", "Permit class or visa type printed on the ID."),
		col("address_city", schema.String, "data.address_city", "Address: city."),
		col("address_country", schema.String, "data.address_country", "Address: country."),
		col("address_state", schema.String, "data.address_state", "Address: state."),
		col("address_street", schema.String, "data.address_street", "Address: street."),
		col("address_zipcode", schema.String, "data.address_zipcode", "Address: zip code."),
		col("address_global_code", schema.String, "data.address_globalCode", "Address: global plus-code (e.g. 8Q98HXPG+MP)."),
		col("address_compound_code", schema.String, "data.address_compoundCode", "Address: compound plus-code (e.g. HXPG+MP Seoul, South Korea)."),
		col("address_formatted", schema.String, "data.address_formatted", "Address: converted detailed address."),
		col("address_input", schema.String, "data.address_input", "Address: as typed by the user."),
		col("address_detail", schema.String, "data.address_detail", "Address: detail as typed by the user."),
		// ocr.*
		col("ocr_birth_date", schema.Date, "ocr.birthDate", "Date of birth read by OCR."),
		col("ocr_issue_date", schema.Date, "ocr.issueDate", "Issue date read by OCR."),
		col("ocr_expire_date", schema.Date, "ocr.expireDate", "Expiry date read by OCR."),
		col("ocr_first_name", schema.String, "ocr.firstName", "First name read by OCR."),
		col("ocr_last_name", schema.String, "ocr.lastName", "Last name read by OCR."),
		col("ocr_full_name", schema.String, "ocr.fullName", "Full name read by OCR."),
		col("ocr_gender", schema.String, "ocr.gender", "Gender read by OCR."),
		hashed("ocr_number", "ocr.number", "Document number read by OCR."),
		hashed("ocr_license_number", "ocr.licenseNumber", "Licence number read by OCR."),
		hashed("ocr_identity_number", "ocr.identityNumber", "Korean national identification number read by OCR."),
		hashed("ocr_curp_number", "ocr.curpNumber", "CURP (MEX.ID) read by OCR."),
		col("ocr_nationality", schema.String, "ocr.nationality", "Nationality (alpha-3) read by OCR."),
		hashed("ocr_serial_number", "ocr.serialNumber", "Serial number read by OCR."),
		// review.*: what the applicant confirmed
		col("review_birth_date", schema.Date, "review.birthDate", "Birth date reviewed by the applicant."),
		col("review_issue_date", schema.Date, "review.issueDate", "Issue date reviewed by the applicant."),
		col("review_expire_date", schema.Date, "review.expireDate", "Expiry date reviewed by the applicant."),
		col("review_full_name", schema.String, "review.fullName", "Full name reviewed by the applicant."),
		col("review_gender", schema.String, "review.gender", "Gender reviewed by the applicant."),
		col("review_nationality", schema.String, "review.nationality", "Nationality (alpha-3) reviewed by the applicant."),
		hashed("review_document_number", "review.documentNumber", "Document number reviewed by the applicant."),
		hashed("review_license_number", "review.licenseNumber", "Licence number reviewed by the applicant."),
		hashed("review_identity_number", "review.identityNumber", "Korean identity number reviewed by the applicant."),
		hashed("review_curp_number", "review.curpNumber", "CURP (MEX.ID) reviewed by the applicant."),
		// image.*, memo.*, updateHistory.*
		col("id_image", schema.String, "image.idImage", "ArgosServer link to the ID front image."),
		col("id_back_image", schema.String, "image.idBackImage", "ArgosServer link to the ID back image."),
		col("selfie_image", schema.String, "image.selfieImage", "ArgosServer link to the selfie image."),
		col("address_image", schema.String, "image.addressImage", "ArgosServer link to the address document image."),
		col("memo_text", schema.String, "memo.text", "Dashboard submission memo."),
		col("memo_updated_at", schema.Timestamp, "memo.updated_at", "When the memo was last updated."),
		col("update_admin", schema.String, "updateHistory.updateAdmin", "Email of the admin who last updated the submission."),
		col("update_time", schema.Timestamp, "updateHistory.updateTime", "When the submission's information was last updated by an admin."),
		// aml.*, projection.*, signals.*
		col("aml_current_status", schema.String, "aml.currentstatus", "Not Screened or Red Flag."),
		col("aml_risk_level_summary", schema.String, "aml.risk_level_summary", "Not Screened, High, Medium or Low (case as sent)."),
		jsonCol("aml_raw_data", "aml.raw_data", "Raw AML screening results"),
		col("projection_id", schema.String, "projection.projectionId", "Projection ID applied to the submission."),
		col("projection_name", schema.String, "projection.projectionName", "Name of that projection."),
		col("start_button_click_time", schema.Timestamp, "signals.startButtonClickTime", "When the user clicked the start button."),
		// bank_verification.*, id_LivenessScore.*
		col("bank_verification_result", schema.String, "bank_verification.result", "Bank account verification result: success or fail."),
		col("bank_verification_type", schema.String, "bank_verification.type", "occupancy (1 KRW verification) or nameCheck."),
		col("bank_code", schema.String, "bank_verification.bank_code", "Bank code used for verification."),
		hashed("bank_account_number", "bank_verification.account_number", "Account number used for verification."),
		col("bank_retry_count", schema.Int64, "bank_verification.retry_count", "Failures during code transmission (pre-step2)."),
		col("id_liveness_screen_play", schema.Float64, "id_LivenessScore.Screen_play", "ID card liveness score: screen-play pipeline."),
		col("id_liveness_paper_printed", schema.Float64, "id_LivenessScore.Paper_printed", "ID card liveness score: paper-printed pipeline."),
		col("id_liveness_replace_portraits", schema.Float64, "id_LivenessScore.Replace_portraits", "ID card liveness score: replaced-portrait pipeline."),
	},
}

// KYCAttempts is one row per liveform attempt.
var KYCAttempts = &schema.Table{
	Name: "kyc_attempts", Doc: "One row per KYC attempt (kyc.attempts).",
	Shape: schema.PerElement, Source: "kyc.attempts", Extra: true,
	Columns: []schema.Column{
		col("attempt_cnt", schema.Int64, "attemptCnt", "Number of retries after failed submissions."),
		col("id_barcode_result", schema.String, "idBarcodeResult", "Barcode verification result (IDs from USA, CAN, MEX)."),
		col("verification_result", schema.String, "verificationResult", "Result of ID verification: success or fail."),
		jsonCol("verification", "verification", "Detailed ID verification results"),
		jsonCol("verification_params", "verificationParams", "Parameters of the ID verification"),
		col("error_code", schema.String, "errorCode", "Error code of liveness, face detection, face comparison or ID verification."),
		col("error_msg", schema.String, "errorMsg", "Error message of liveness, face detection, face comparison or ID verification."),
		col("step1_time_1st", schema.Timestamp, "step1Time1st", "First call to step1."),
		col("step1_time_2nd", schema.Timestamp, "step1Time2nd", "Second call to step1."),
		col("step1_time_3rd", schema.Timestamp, "step1Time3rd", "Third call to step1."),
		col("step2_time_1st", schema.Timestamp, "step2Time1st", "First call to step2."),
		col("step2_time_2nd", schema.Timestamp, "step2Time2nd", "Second call to step2."),
		col("step2_time_3rd", schema.Timestamp, "step2Time3rd", "Third call to step2."),
		col("face_similarity_score", schema.Float64, "faceSimilarityScore", "Face comparison similarity score."),
		col("selfie_image", schema.String, "selfieImage", "URL of the submitted selfie image."),
		col("liveness_score", schema.Float64, "livenessScore", "Liveness score of the attempt."),
		col("liveness_detail_score", schema.Float64, "liveness.score", "Overall liveness score (liveness object)."),
		col("liveness_probability", schema.Float64, "liveness.probability", "Liveness probability."),
		col("liveness_quality", schema.Float64, "liveness.quality", "Liveness quality score."),
	},
}

// AttemptFaceDetections is one row per face an attempt's detection found.
var AttemptFaceDetections = &schema.Table{
	Name: "attempt_face_detections", Doc: "One row per face detection result of an attempt (kyc.attempts[].detectFace, an AWS Rekognition DetectFaces response); parent_ordinal is the attempt's ordinal.",
	Shape: schema.PerElement, Source: "detectFace", Parent: KYCAttempts, Extra: true,
	Columns: []schema.Column{
		col("age_range_high", schema.Float64, "AgeRange.High", "Highest estimated age of the face."),
		col("age_range_low", schema.Float64, "AgeRange.Low", "Lowest estimated age of the face."),
		col("gender_confidence", schema.Float64, "Gender.Confidence", "Gender detection confidence (0-100)."),
		col("gender_value", schema.String, "Gender.Value", "Detected gender: Male or Female."),
	},
}

// AttemptRetryMessages pairs each attempt's retryCode[i] with retryMsg[i].
var AttemptRetryMessages = &schema.Table{
	Name: "attempt_retry_messages", Doc: "One row per failure reason of an attempt: retryCode[i] with retryMsg[i] (a lone string counts as one); parent_ordinal is the attempt's ordinal.",
	Shape: schema.PerIndex, Parent: KYCAttempts,
	Columns: []schema.Column{
		col("retry_code", schema.String, "retryCode", "Failure reason code."),
		col("retry_msg", schema.String, "retryMsg", "Failure reason message."),
	},
}

// KYCRetries is one row per retry condition met during KYC processing.
var KYCRetries = &schema.Table{
	Name: "kyc_retries", Doc: "One row per retry condition met during KYC processing (kyc.retry).",
	Shape: schema.PerElement, Source: "kyc.retry", Extra: true,
	Columns: []schema.Column{
		col("type", schema.String, "type", "Step that caused the retry: step1 or step2."),
		col("retry_cnt", schema.Int64, "retryCnt", "Retry attempt number of this condition."),
		col("retry_code", schema.String, "retryCode", "Code of the retry condition."),
		col("retry_message", schema.String, "retryMessage", "Message explaining the retry condition."),
	},
}

// RejectionReasons pairs kyc.comment[i] with kyc.commentCode[i].
var RejectionReasons = &schema.Table{
	Name: "rejection_reasons", Doc: "One row per rejection reason: kyc.commentCode[i] with kyc.comment[i] (documented as text, sent as arrays too; a lone string counts as one).",
	Shape: schema.PerIndex, Source: "kyc",
	Columns: []schema.Column{
		col("comment_code", schema.String, "commentCode", "Reject code, e.g. too_many_retry."),
		col("comment", schema.String, "comment", "Reject reason as text."),
	},
}

// AMLMatches is one row per Red Flag match.
var AMLMatches = &schema.Table{
	Name: "aml_matches", Doc: "One row per AML match (aml.matches, present on Red Flag).",
	Shape: schema.PerElement, Source: "aml.matches", Extra: true,
	Columns: []schema.Column{
		col("risk_level", schema.String, "risk_level", "HIGH, MEDIUM or LOW."),
		col("argos_number", schema.String, "argos_number", "ID for retrieving the AML report."),
		col("resource_id", schema.String, "resource_id", "Resource ID for retrieving the AML report."),
		col("score", schema.Float64, "score", "AML screening match score."),
		jsonCol("risk_icons", "risk_icons", "Risk icons of the match"),
	},
}

// FaceAgeVerifications is one row per face-based age verification.
var FaceAgeVerifications = &schema.Table{
	Name: "face_age_verifications", Doc: "One row per face-based age verification (verification.faceAge, cumulative per attempt) with the age values it used.",
	Shape: schema.PerElement, Source: "verification.faceAge", Extra: true,
	Columns: []schema.Column{
		col("original_selfie_low", schema.Float64, "usedValues.originalSelfieLow", "Selfie age estimate before LOW/HIGH extension: low."),
		col("original_selfie_high", schema.Float64, "usedValues.originalSelfieHigh", "Selfie age estimate before LOW/HIGH extension: high."),
		col("original_selfie_median", schema.Float64, "usedValues.originalSelfieMedian", "Selfie age estimate before LOW/HIGH extension: median."),
		col("original_id_low", schema.Float64, "usedValues.originalIdLow", "ID image age estimate before LOW/HIGH extension: low."),
		col("original_id_high", schema.Float64, "usedValues.originalIdHigh", "ID image age estimate before LOW/HIGH extension: high."),
		col("original_id_median", schema.Float64, "usedValues.originalIdMedian", "ID image age estimate before LOW/HIGH extension: median."),
		col("selfie_low", schema.Float64, "usedValues.selfieLow", "Selfie age estimate after LOW/HIGH extension: low."),
		col("selfie_high", schema.Float64, "usedValues.selfieHigh", "Selfie age estimate after LOW/HIGH extension: high."),
		col("selfie_median", schema.Float64, "usedValues.selfieMedian", "Selfie age estimate after LOW/HIGH extension: median."),
		col("id_low", schema.Float64, "usedValues.idLow", "ID image age estimate after LOW/HIGH extension: low."),
		col("id_high", schema.Float64, "usedValues.idHigh", "ID image age estimate after LOW/HIGH extension: high."),
		col("id_median", schema.Float64, "usedValues.idMedian", "ID image age estimate after LOW/HIGH extension: median."),
		col("birth_date_age", schema.Float64, "usedValues.birthDateAge", "Age from the user-input date of birth."),
		jsonCol("logical_operators", "logicalOperators", "Logical operators between conditions (and, or)"),
	},
}

// matchResult declares the three columns of one documented matchResults
// entry; the reference documents them once as matchResults.*.
func matchResult(prefix, key, what string) []schema.Column {
	p := "matchResults." + key + "."
	return []schema.Column{
		col(prefix+"_result", schema.Bool, p+"result", what+": success (true), failure (false) or NULL when absent."),
		col(prefix+"_processed", schema.Bool, p+"processed", what+": whether the comparison was executed."),
		col(prefix+"_statement", schema.String, p+"statement", what+": the comparison made, e.g. 36 gte 18."),
	}
}

// FaceAgeConditions is one row per condition of a face-age verification.
var FaceAgeConditions = &schema.Table{
	Name: "face_age_conditions", Doc: "One row per condition result of a face-age verification (verification.faceAge[].conditionResults); parent_ordinal is the verification's ordinal.",
	Shape: schema.PerElement, Source: "conditionResults", Parent: FaceAgeVerifications, Extra: true,
	Columns: slices.Concat([]schema.Column{
		col("comparison_operator", schema.String, "condition.comparisonOperator", "Comparison operator: gte, gt, lte or lt."),
		col("target", schema.String, "condition.target", "Target age type: low, high or median."),
		col("condition_index", schema.Int64, "conditionIndex", "Condition index (from 0)."),
		col("final_result", schema.Bool, "finalResult", "Final result of the condition."),
	},
		matchResult("id_card_custom_match", "idCardCustomMatch", "ID image against the custom age"),
		matchResult("id_card_birth_date_match", "idCardBirthDateMatch", "ID image against the birth-date age"),
		matchResult("face_image_custom_match", "faceImageCustomMatch", "Selfie against the custom age"),
		matchResult("face_image_birth_date_match", "faceImageBirthDateMatch", "Selfie against the birth-date age"),
	),
}

// FaceAgeSignals is one row per age range extracted from a face.
var FaceAgeSignals = &schema.Table{
	Name: "face_age_signals", Doc: "One row per age range extracted from a face (signals.faceAge, cumulative per attempt).",
	Shape: schema.PerElement, Source: "signals.faceAge", Extra: true,
	Columns: []schema.Column{
		col("age_range_low", schema.Float64, "ageRange.low", "Lowest age estimate."),
		col("age_range_high", schema.Float64, "ageRange.high", "Highest age estimate."),
		col("age_range_median", schema.Float64, "ageRange.median", "Median age estimate."),
		col("source", schema.String, "source", "Image the age was estimated from: selfieImage or idImage."),
	},
}

// CameraProcesses is one row per camera process stage.
var CameraProcesses = &schema.Table{
	Name: "camera_processes", Doc: "One row per camera process stage the user went through (signals.cameraProcessInfo, in order), with its duration.",
	Shape: schema.PerElement, Source: "signals.cameraProcessInfo", Extra: true,
	Columns: []schema.Column{
		col("type", schema.String, "type", "Process type, e.g. idcard-front-capture, id-document-face-passive, knowledge-face-active."),
		col("process_start_time", schema.Timestamp, "processStartTime", "When the process started."),
		col("process_end_time", schema.Timestamp, "processEndTime", "When the process ended."),
		col("error", schema.String, "error", "Error of the process; NULL when none."),
		col("duration_seconds", schema.Float64, "", "process_end_time - process_start_time in seconds; NULL when either is missing."),
	},
}

// OCRFields is one row per OCR_raw item.
var OCRFields = &schema.Table{
	Name: "ocr_fields", Doc: "One row per OCR_raw item: the item, the detected value, its score and acceptance. The value of an item named like a hashed field (number, identityNumber, licenseNumber, ...) is hashed unless the value column's PII action is drop.",
	Shape: schema.PerEntry, Source: "OCR_raw", KeyColumn: "item", Extra: true, SensitiveKeys: true,
	Columns: []schema.Column{
		col("item", schema.String, "", "OCR item name (the OCR_raw key)."),
		col("value", schema.String, "value", "OCR-detected value."),
		col("score", schema.Float64, "score", "Recognition confidence (0-100)."),
		col("accepted", schema.Bool, "accepted", "Whether the OCR value was accepted."),
		jsonCol("coordinates", "coordinates", "Vector coordinates of the detected value"),
	},
}

// AdditionalFields is one row per additional form answer.
var AdditionalFields = &schema.Table{
	Name: "additional_fields", Doc: "One row per field of the additional forms configured in the dashboard (additional_list).",
	Shape: schema.PerElement, Source: "additional_list", Extra: true,
	Columns: []schema.Column{
		col("answer", schema.String, "answer", "Name of the form field."),
		col("input_value", schema.String, "inputValue", "User-inputted value."),
		col("block_type", schema.String, "blockType", "Data type of the form field."),
	},
}

// DuplicateLinks is one row per submission ID listed as a duplicate.
var DuplicateLinks = &schema.Table{
	Name: "duplicate_links", Doc: "One row per submission ID in duplicated_users (duplicated PII) or duplicated_selfie_users (duplicated selfie); ordinal is the position in that list.",
	Shape: schema.PerValue, Sources: []string{"duplicated_users", "duplicated_selfie_users"}, KeyColumn: "list", ValueColumn: "linked_submission_id",
	Columns: []schema.Column{
		col("list", schema.String, "", "The list the ID came from: duplicated_users or duplicated_selfie_users."),
		col("linked_submission_id", schema.String, "", "The other submission's ID."),
	},
}

// InjectionActions is one row per injection process execution.
var InjectionActions = &schema.Table{
	Name: "injection_actions", Doc: "One row per injection process execution (Injection_action). The reference types it as an Object yet orders it newest first: a lone object is one row, an array one row per element.",
	Shape: schema.PerElement, Source: "Injection_action", ObjectOrArray: true, Extra: true,
	Columns: []schema.Column{
		col("type", schema.String, "type", "Type of the injection process."),
		col("time", schema.Timestamp, "time", "Most recent execution of this injection process type."),
		col("attempt_status", schema.String, "attemptStatus", "Status of the injection action result."),
		col("create_time", schema.Timestamp, "createTime", "When the injection happened (UTC)."),
		jsonCol("user_input_address", "userInput.address", "Address information from user input"),
		jsonCol("distance_checks", "option.distanceChecks", "Service used for distance checks and the measured distance"),
		jsonCol("ip_risk", "option.ipRisk", "IP risk category and prohibition time"),
		jsonCol("ip_verification", "option.ipVerification", "Verified accessed IP information"),
	},
}

// PreVerifications is one row per pre-verification check.
var PreVerifications = &schema.Table{
	Name: "pre_verifications", Doc: "One row per pre-verification check (pre_verification). The reference types it as an Object yet calls it a list: a lone object is one row, an array one row per element.",
	Shape: schema.PerElement, Source: "pre_verification", ObjectOrArray: true, Extra: true,
	Columns: []schema.Column{
		col("request_id", schema.String, "request_id", "Request ID of the check."),
		col("created_at", schema.Timestamp, "created_at", "When the check was requested."),
		col("ip_address", schema.String, "ip_address", "IP address evaluated."),
		col("fraud_score", schema.Float64, "fraud_score", "Fraud score."),
		col("attempts_frequency", schema.String, "attempts_frequency", "Subnet attempt frequency: FirstSeen, Rare, Frequent or VeryFrequent."),
		col("country_code", schema.String, "country_code", "Country code of the IP address."),
		col("connection_type", schema.String, "connection_type", "Residential, Corporate, Education, Mobile or DataCenter."),
		col("is_valid", schema.Bool, "is_valid", "Whether the pre-verification passed."),
	},
}

// Children lists the child tables of submissions; a nested table follows its parent.
func Children() []*schema.Table {
	return []*schema.Table{
		KYCAttempts, AttemptFaceDetections, AttemptRetryMessages, KYCRetries, RejectionReasons,
		AMLMatches, FaceAgeVerifications, FaceAgeConditions, FaceAgeSignals, CameraProcesses,
		OCRFields, AdditionalFields, DuplicateLinks, InjectionActions, PreVerifications,
	}
}

// Tables lists the tables the submission flattener (transform) fills from
// ARGOS submissions: submissions, then its children, in the order they are
// registered and loaded.
func Tables() []*schema.Table {
	return append([]*schema.Table{Submissions}, Children()...)
}
