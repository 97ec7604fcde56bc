package schema

// LoadRuns is the ledger: one row per run and day.
var LoadRuns = &Table{
	Name:          "load_runs",
	Doc:           "One row per run and day: what was fetched and written, how long it took, and how it ended.",
	Shape:         Operational,
	Unpartitioned: true,
	Columns: []Column{
		{Name: "run_id", Type: String, Doc: "Run identifier; sorting by it gives the order the runs started in."},
		{Name: "project", Type: String, Doc: "Configured project name."},
		{Name: "day", Type: Date, Doc: "UTC day this row describes."},
		{Name: "command", Type: String, Doc: "kycetl command that ran: run, demo, import, rebuild, or schedule:<job> for a scheduled job."},
		{Name: "window_from", Type: Date, Doc: "First day of the run's window."},
		{Name: "window_to", Type: Date, Doc: "Last day of the run's window."},
		{Name: "started_at", Type: Timestamp, Doc: "When work on the day started."},
		{Name: "finished_at", Type: Timestamp, Doc: "When work on the day ended."},
		{Name: "duration_seconds", Type: Float64, Doc: "Wall time spent on the day."},
		{Name: "pages", Type: Int64, Doc: "API pages fetched for the day (margins included)."},
		{Name: "api_calls", Type: Int64, Doc: "HTTP requests made, retries included."},
		{Name: "retries", Type: Int64, Doc: "Requests retried after a 429, 5xx, timeout or unreadable body, and restarts of a stalled page chain."},
		{Name: "wait_seconds", Type: Float64, Doc: "Seconds waited on Retry-After and backoff."},
		{Name: "submissions", Type: Int64, Doc: "Submissions written to the day's partition (Fractal: users in the snapshot)."},
		{Name: "quarantined", Type: Int64, Doc: "Items sent to the quarantine table."},
		{Name: "rows_json", Type: String, Doc: "JSON object: rows written per table."},
		{Name: "bytes", Type: Int64, Doc: "Bytes of archive files written for the day."},
		{Name: "coercions_json", Type: String, Doc: "JSON array of values set to NULL because they could not be coerced: path, reason, count."},
		{Name: "outcome", Type: String, Doc: "ok, failed, skipped (not loaded: the run was stopped, or ran out of API calls) or planned (the run set out to load the day and has not finished it: still running, or killed)."},
		{Name: "error", Type: String, Doc: "Error message when the day failed."},
		// Added after the first release: new columns go last, so that an
		// upgraded warehouse keeps its column order.
		{Name: "jobs_json", Type: String, Doc: "JSON array of the day's warehouse jobs: warehouse, id, outcome, bytes_processed."},
		{Name: "throttled_seconds", Type: Float64, Doc: "Seconds waited on 429 answers (part of wait_seconds)."},
		{Name: "files_json", Type: String, Doc: "JSON array of the day's archive files: table, path, rows, bytes, sha256."},
		{Name: "source", Type: String, Doc: "Source whose day this is (argos, fractal); NULL on rows written before there was more than one source, which are argos's."},
	},
}

// Quarantine keeps every item that could not be read as a submission.
var Quarantine = &Table{
	Name:  "quarantine",
	Doc:   "Anything that could not be read as a submission, with the reason and the exact bytes. created_date is the day being loaded when it was met.",
	Shape: Operational,
	Columns: []Column{
		{Name: "source", Type: String, Doc: "Where the item came from (API day and page, or file and line)."},
		{Name: "ordinal", Type: Int64, Doc: "Position of the item in its source."},
		{Name: "reason", Type: String, Doc: "Why it could not be read."},
		{Name: "raw", Type: Binary, Doc: "The item's exact bytes."},
	},
}

// CreditRates is the credit rate card in force: what each checked submission costs, from when.
var CreditRates = &Table{
	Name:          "credit_rates",
	Doc:           "Credits charged per check, by item and validity period. Seeded with the default rate card; edit to match your contract.",
	Shape:         Operational,
	Unpartitioned: true,
	Columns: []Column{
		{Name: "item", Type: String, Doc: "id_check, knowledge_check or aml_screening."},
		{Name: "credits", Type: Float64, Doc: "Credits charged per item."},
		{Name: "valid_from", Type: Date, Doc: "First UTC day the rate applies."},
		{Name: "valid_to", Type: Date, Doc: "Last UTC day the rate applies; NULL means open-ended."},
	},
}

// Credit items of the rate card.
const (
	CreditIDCheck        = "id_check"
	CreditKnowledgeCheck = "knowledge_check"
	CreditAMLScreening   = "aml_screening"
)

// CreditRate is one row of the rate card.
type CreditRate struct {
	Item      string
	Credits   float64
	ValidFrom string // YYYY-MM-DD
	ValidTo   string // YYYY-MM-DD or "" for open-ended
}

// DefaultCreditRates is the vendor's default card: 1 credit per ID or
// knowledge check that reached a result, plus 1 per AML screening, counted
// from 2025-02-01.
var DefaultCreditRates = []CreditRate{
	{Item: CreditIDCheck, Credits: 1, ValidFrom: "2025-02-01"},
	{Item: CreditKnowledgeCheck, Credits: 1, ValidFrom: "2025-02-01"},
	{Item: CreditAMLScreening, Credits: 1, ValidFrom: "2025-02-01"},
}
