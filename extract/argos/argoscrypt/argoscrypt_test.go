package argoscrypt_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/kycetl/kycetl/extract/argos/argoscrypt"
)

const secret = "argos-secret-key"

func mustNew(t testing.TB, s string) *argoscrypt.Cipher {
	t.Helper()
	c, err := argoscrypt.New(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestKnownAnswers pins the cipher to an independent implementation:
// printf '%s' PLAIN | openssl enc -aes-256-ecb -K $(printf '%s' argos-secret-key | sha256sum | cut -c1-64) -base64 -A
func TestKnownAnswers(t *testing.T) {
	c := mustNew(t, secret)
	for plain, want := range map[string]string{
		`{"Items":[],"nextpageKey":null}`: "MyNeqxwSPzmsXYtlgyRX25MQ4XehJEBZr1SED0yeucQ=",
		"0123456789abcdef":                "5y8FQguUFK+LvpZvcjjWWd6a69cBiLkBDX9QL0hDDaE=", // a whole block gets a block of padding
	} {
		if got := c.Encrypt([]byte(plain)); got != want {
			t.Errorf("Encrypt(%q) = %s, want %s", plain, got, want)
		}
		got, err := c.Decrypt(want)
		if err != nil || string(got) != plain {
			t.Errorf("Decrypt(%s) = %q, %v; want %q", want, got, err, plain)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	c := mustNew(t, secret)
	for _, plain := range []string{"", "x", strings.Repeat("é", 100), `{"start_date":"2025-02-01","count":"2000"}`} {
		text := c.Encrypt([]byte(plain))
		got, err := c.Decrypt(text)
		if err != nil || string(got) != plain {
			t.Errorf("round trip of %q: %q, %v", plain, got, err)
		}
		// Unpadded base64 and surrounding white space are accepted.
		got, err = c.Decrypt(" " + strings.TrimRight(text, "=") + "\n")
		if err != nil || string(got) != plain {
			t.Errorf("round trip of %q without '=': %q, %v", plain, got, err)
		}
	}
}

func TestWrongKeyFails(t *testing.T) {
	text := mustNew(t, secret).Encrypt([]byte(`{"Items":[{"submission_id":"a"}]}`))
	wrong := mustNew(t, "another-secret")
	if _, err := wrong.Decrypt(text); !errors.Is(err, argoscrypt.ErrDecrypt) {
		t.Fatalf("decrypting with the wrong key: %v, want ErrDecrypt", err)
	}
	for _, bad := range []string{"", "not base64!", "q83v", mustNew(t, secret).Encrypt(nil)[:20]} {
		if _, err := wrong.Decrypt(bad); !errors.Is(err, argoscrypt.ErrDecrypt) {
			t.Errorf("Decrypt(%q): %v, want ErrDecrypt", bad, err)
		}
	}
	if _, err := argoscrypt.New(""); err == nil {
		t.Error("an empty secret was accepted")
	}
}

// FuzzDecrypt: any text decrypts to plaintext that encrypts back to the
// same blocks, or fails with ErrDecrypt; never a panic.
func FuzzDecrypt(f *testing.F) {
	c := mustNew(f, secret)
	f.Add(c.Encrypt([]byte(`{"Items":[]}`)))
	f.Add("MyNeqxwSPzmsXYtlgyRX25MQ4XehJEBZr1SED0yeucQ=")
	f.Add("")
	f.Add("====")
	f.Add("AAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, text string) {
		plain, err := c.Decrypt(text)
		if err != nil {
			if !errors.Is(err, argoscrypt.ErrDecrypt) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		again, err := c.Decrypt(c.Encrypt(plain))
		if err != nil || !bytes.Equal(again, plain) {
			t.Fatalf("re-encryption does not round-trip: %v", err)
		}
	})
}
