package archive

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
)

// TestEncryptedRawRoundTrip writes an encrypted raw file item by item,
// suspended and resumed, with a precompressed frame between: the stored
// bytes are age's, hold no item, and read back to the same items with the
// identity; without it ErrNoIdentity, with another ErrWrongIdentity.
func TestEncryptedRawRoundTrip(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	other, _ := age.GenerateX25519Identity()
	path := filepath.Join(t.TempDir(), "raw", "day.ndjson.zst")
	w, err := NewRawWriter(path, WithRecipients(id.Recipient()))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 3000 {
		item := fmt.Sprintf(`{"submission_id":"s%d","data":{"ssnNumber":"SECRET-%06d"}}`, i, i)
		want = append(want, item)
		if err := w.Write([]byte(item)); err != nil {
			t.Fatal(err)
		}
		if i == 1000 {
			if err := w.Suspend(); err != nil {
				t.Fatal(err)
			}
			frame, err := EncodeRawFrame(nil, [][]byte{[]byte(`{"frame":1}`), []byte(`{"frame":2}`)})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WriteFrame(frame, 2); err != nil {
				t.Fatal(err)
			}
			want = append(want, `{"frame":1}`, `{"frame":2}`)
		}
	}
	info, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if info.Rows != int64(len(want)) {
		t.Errorf("rows %d, want %d", info.Rows, len(want))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), ageMagic) || strings.Contains(string(b), "SECRET-") {
		t.Fatal("the file is not age-encrypted, or holds an item in clear")
	}
	if enc, err := IsEncrypted(path); !enc || err != nil {
		t.Errorf("IsEncrypted: %v, %v", enc, err)
	}
	var got []string
	if err := ReadRaw(path, func(_ int, item []byte) error { got = append(got, string(item)); return nil }, WithIdentities(other, id)); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("read back %d items, want %d, or not the same", len(got), len(want))
	}
	if err := ReadRaw(path, func(int, []byte) error { return nil }); !errors.Is(err, ErrNoIdentity) {
		t.Errorf("without identity: %v, want ErrNoIdentity", err)
	}
	if err := CheckIdentities(path, other); !errors.Is(err, ErrWrongIdentity) {
		t.Errorf("with another identity: %v, want ErrWrongIdentity", err)
	}
	if err := CheckIdentities(path, id); err != nil {
		t.Errorf("with the identity: %v", err)
	}
}

// TestReadIdentitiesQuotesNoKey: a malformed identity file fails without
// repeating any of its text.
func TestReadIdentitiesQuotesNoKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	bad := "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n"
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ReadIdentities(path)
	if !errors.Is(err, ErrNotIdentities) || strings.Contains(err.Error(), "QQQQ") {
		t.Errorf("ReadIdentities of a malformed key: %v", err)
	}
}

// FuzzParseRecipients: any text gives recipients or an error, never a panic.
func FuzzParseRecipients(f *testing.F) {
	id, _ := age.GenerateX25519Identity()
	f.Add(id.Recipient().String())
	f.Add(id.Recipient().String() + ", # comment\n" + id.Recipient().String())
	f.Add("age1xyz")
	f.Fuzz(func(t *testing.T, text string) {
		rs, err := ParseRecipients(text)
		if err == nil && strings.TrimSpace(text) == "" && len(rs) != 0 {
			t.Errorf("recipients from blank text")
		}
	})
}
