package argos

import "strings"

// Status is a submission's normalised verification status: kyc.result lower-cased, missing or empty
// meaning incomplete, as the statistics page counts it.
type Status string

// The statuses of the vendor's statistics page.
const (
	StatusApproved   Status = "approved"
	StatusRejected   Status = "rejected"
	StatusPending    Status = "pending"
	StatusIncomplete Status = "incomplete"
)

// Statuses lists the known statuses in the order the statistics page shows them.
var Statuses = []Status{StatusApproved, StatusRejected, StatusIncomplete, StatusPending}

// NormalizeStatus maps a raw kyc.result to a Status: lower-cased and trimmed;
// missing or empty means the user never finished, which the vendor counts as
// incomplete. An unknown value is kept lower-cased so that it stays visible.
func NormalizeStatus(raw string) Status {
	s := strings.ToLower(strings.TrimSpace(raw))
	if s == "" {
		return StatusIncomplete
	}
	return Status(s)
}

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool {
	for _, k := range Statuses {
		if s == k {
			return true
		}
	}
	return false
}

// ReachedResult reports whether a check with this status consumed a credit
// under the default rate card: it reached a result (approved, rejected or
// pending review).
func (s Status) ReachedResult() bool {
	return s == StatusApproved || s == StatusRejected || s == StatusPending
}

// Kind tells the vendor's two field sets apart.
type Kind string

// The two kinds of submission.
const (
	KindIDDocument     Kind = "id_document"
	KindKnowledgeBased Kind = "knowledge_based"
)
