// Package synth generates deterministic synthetic ARGOS ID check submissions:
// the items a project's GET /v3/submission would return, one UTC day at a
// time, with the field names and nesting of the vendor's reference (both the
// ID-document and the knowledge-based field set), a believable status mix,
// late status changes (pending items resolved days after creation) and the
// drift real payloads show (strings for arrays and numbers, two timestamp
// shapes, nulls, unknown fields, upper-case statuses).
//
// Every value is fake: names from small lists, documentation IP ranges,
// example.com mail, example.invalid image links, SSNs in the never-issued 000
// area and 555-01xx phone numbers.
//
// A Generator is a pure function of its seed and options: Day(d) returns the
// same bytes for the same (seed, d, options) whenever and in whatever order it
// is called, because each day draws from its own random stream and each item
// from its own stream within the day.
package synth
