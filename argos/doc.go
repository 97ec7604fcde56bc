// Package argos holds the ARGOS ID check vocabulary that every other package
// shares: submission statuses and kinds, the vendor's timestamp and date
// formats, and the few fields (submission_id, created_at, updated_at) that
// extraction needs before a submission is flattened. Each of these is defined
// here once.
package argos
