// Package fakeargos is an in-process server that speaks the ARGOS ID check
// submission API (GET /v3/submission) over real HTTP, for the demo, the
// sandbox command and tests. It serves the items of a Source (usually a
// synth.Generator) byte for byte, with the vendor's authentication, date
// filter, paging and errors:
//
//   - x-api-key header; a wrong or missing key gets 403 {"message":"Forbidden"}.
//   - start_date and end_date (inclusive, YYYY-MM-DD; the older YYYYMMDD is
//     accepted too) are calendar days in the server's zone, Asia/Seoul
//     (+09:00) by default, as a Korean vendor's would be: a client that
//     trusts the filter to mean UTC days loses items near midnight. Without
//     dates the last 7 days up to today are searched; with one date, that day.
//   - count (default 50), nextpage_id and nextpage_date page through the
//     result, which is ordered by created_at then submission_id. A page
//     carries nextpageKey {id, created_at} only when another page exists.
//     The vendor documents no maximum count; the fake refuses a count above
//     its own (DefaultMaxCount, or WithMaxCount; none with WithMaxCount(0))
//     with 400 invalid_parameter and a message naming count, as a limit
//     the vendor does not document would show itself.
//   - submission_id, userid and email filter by exact match; request_type
//     (kyc, aml, data, others) projects each item to that part plus
//     submission_id ("others" is everything but kyc, aml and data).
//
// Errors other than 403 read like the vendor's: status 400 with
// {"errorCode":"invalid_format"|"invalid_parameter"|"missing_data","message":"..."},
// 404 {"message":"Not Found"} for other paths and 405 {"message":"Method Not
// Allowed"} for methods other than GET.
//
// Items are embedded in the page exactly as the Source produced them; only a
// request_type projection re-encodes an item. An item whose created_at cannot
// be read is served as created at noon UTC of the Source day that returned
// it, so that clients see (and quarantine) it rather than the fake hiding it;
// an item that is not valid JSON is served as a JSON string of its text, so
// that it cannot break the page around it.
//
// Two modes reproduce what a real project can meet:
//   - Faults (WithFaults, or SetFaults at run time): 429 with Retry-After,
//     500, 502, truncated bodies, malformed JSON, a repeated nextpageKey and
//     latency, drawn deterministically from a seed so that tests reproduce.
//   - Secure data transfer (WithSecureTransfer): encrypted parameters and
//     answers, with the cipher of package argoscrypt.
package sandbox
