package pii_test

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/kycetl/kycetl/transform/pii"
)

func TestFingerprint(t *testing.T) {
	key := []byte("a-pii-key-for-tests-0001")
	p1, err := pii.New(pii.WithKey(key))
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := pii.New(pii.WithKey(key))
	other, _ := pii.New(pii.WithKey([]byte("a-pii-key-for-tests-0002")))
	fp := p1.Fingerprint()
	if fp == "" || fp != p2.Fingerprint() || fp == other.Fingerprint() {
		t.Errorf("fingerprints %q %q %q: want equal for one key, different for another", fp, p2.Fingerprint(), other.Fingerprint())
	}
	if !strings.HasPrefix(fp, pii.FingerprintScheme) {
		t.Errorf("fingerprint %q lacks its scheme", fp)
	}
	if strings.Contains(fp, string(key)) || strings.Contains(fp, hex.EncodeToString(key)) || strings.Contains(fp, p1.Hasher().Hash(nil)) {
		t.Errorf("fingerprint %q shows the key or a plain HMAC under it", fp)
	}
	noKey := &pii.Policy{}
	if noKey.Fingerprint() != "" {
		t.Error("a policy without a key has a fingerprint")
	}
}
