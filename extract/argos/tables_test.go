package argos

import (
	"testing"

	"github.com/kycetl/kycetl/transform/schema"
)

// TestDefaultPII pins the default policy: government ID,
// document, licence, CURP, serial, SSN and bank-account numbers and phone
// numbers are hashed, wherever the reference puts them (data.*, ocr.*,
// review.*, bank_verification.*).
func TestDefaultPII(t *testing.T) {
	want := map[string]bool{"identity_number": true, "document_number": true, "ssn_number": true, "phone_number": true,
		"ocr_number": true, "ocr_license_number": true, "ocr_identity_number": true, "ocr_curp_number": true, "ocr_serial_number": true,
		"review_document_number": true, "review_license_number": true, "review_identity_number": true, "review_curp_number": true,
		"bank_account_number": true}
	for _, c := range Submissions.Columns {
		if (c.PII == schema.Hash) != want[c.Name] {
			t.Errorf("submissions.%s: PII %s", c.Name, c.PII)
		}
	}
}
