// Package extract reads submissions out of the ARGOS ID check API: a Client
// for GET /v3/submission (authentication, paging, retries with backoff that
// honours Retry-After, the API's own error messages) and an Extractor that
// turns a window of UTC days into complete, deduplicated days of items.
//
// The Extractor follows design §2: it never trusts the API's date filter to
// mean UTC days (the vendor reads start_date and end_date in its own zone), so
// it fetches every API day of the window plus a margin of one day on each
// side, keeps each item by the UTC day of its own created_at, drops items
// outside the window, and keeps the newest copy (by updated_at) of a
// submission seen twice. A day is handed on as soon as the API days that can
// hold its items are fetched, so memory holds about three API days, never the
// window. Items are kept as the exact bytes the API sent.
//
// The API key travels only in the x-api-key header: it is never logged, put in
// an error or in a URL.
package extract
