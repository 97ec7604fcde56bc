// Package argos is the ARGOS ID check source: its tables (Tables:
// submissions and its child tables, every column with the JSON path it
// reads), its vocabulary (submission statuses and kinds, the vendor's timestamp and date formats, the fields
// submission_id, created_at and updated_at that extraction needs before a
// submission is flattened), and the client that reads submissions out of
// GET /v3/submission: a Client (authentication, paging, one rate limiter for
// all its requests, bounded retries with exponential backoff and jitter that
// honour Retry-After, the API's own error messages, secure data transfer) and
// an Extractor that turns a window of UTC days into complete, deduplicated
// days of items. Its cipher (argoscrypt), its sandbox API (sandbox) and its
// synthetic data (synth) live beside it.
//
// The Extractor never trusts the API's date filter to
// mean UTC days (the vendor reads start_date and end_date in its own zone), so
// it fetches every API day of the window plus a margin of one day on each
// side, keeps each item by the UTC day of its own created_at, drops items
// outside the window, and keeps the newest copy (by updated_at) of a
// submission seen twice. Items are kept as the exact bytes the API sent.
//
// API days are fetched by several day slices at once (WithConcurrency,
// default 4) and merged in day order, so the result does not depend on the
// concurrency; a day is handed on as soon as the API days that can hold its
// items are merged, so memory holds a few API days, never the window.
//
// Faults are contained per day: a page is retried a bounded number of times
// (WithRetry), a stalled page chain (a repeated nextpageKey) is fetched again
// from its first page a bounded number of times (WithChainRestarts), and a
// day that still fails is not handed on — its neighbours within the margin
// neither, as they may miss its items — while the window goes on and
// reports the failed days at the end (*DayErrors). A daily call budget per
// project (Budget, default 500,000 calls per UTC day, the vendor's quota)
// stops a window cleanly at a day boundary and says from which day to
// continue (*BudgetError, ErrBudgetExhausted).
//
// Pages ask for DefaultPageSize items (WithPageSize: any positive count;
// the vendor documents no maximum). When the API refuses the count (a 400
// invalid_parameter about count, ErrCountRefused), the window goes on
// with half the page size, shared by its day slices, instead of failing
// every day.
//
// The API key travels only in the x-api-key header, and the secure data
// transfer secret only as a cipher key: neither is logged, put in an error
// or in a URL.
package argos
