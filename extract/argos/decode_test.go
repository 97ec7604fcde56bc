package argos

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/kycetl/kycetl/extract/argos/argoscrypt"
)

func TestDecodePage(t *testing.T) {
	body := []byte(`{"Items":[ {"b": "é\u00e9" ,"a":1} , "x" ],"nextpageKey":{"id":"abc","created_at":"2025-02-01-01-02-03-004"}}`)
	p, err := decodePage(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 2 || string(p.Items[0]) != `{"b": "é\u00e9" ,"a":1}` || string(p.Items[1]) != `"x"` {
		t.Errorf("items not kept byte for byte: %q", p.Items)
	}
	if p.Next == nil || *p.Next != (PageKey{"abc", "2025-02-01-01-02-03-004"}) {
		t.Errorf("next %+v", p.Next)
	}
	for _, c := range []struct {
		body string
		err  error
		next bool
	}{
		{`{"Items":[]}`, nil, false},
		{`{"Items":null,"nextpageKey":null}`, nil, false},
		{`{"Items":[],"nextpageKey":{}}`, nil, false},
		{`{"Items":[],"nextpageKey":{"id":17,"created_at":1738371723004}}`, nil, true},
		{`{"Items":{}}`, ErrMalformedPage, false},
		{`{"items2":[]}`, ErrMalformedPage, false},
		{`{"Items":[1,]}`, ErrMalformedPage, false},
		{`{"Items":[],"nextpageKey":"abc"}`, ErrMalformedPage, false},
		{``, ErrMalformedPage, false},
		{`{"isEncrypted":true,"data":"q83v"}`, ErrEncrypted, false},
		{`{"data":"q83v"}`, ErrEncrypted, false},
	} {
		p, err := decodePage([]byte(c.body))
		if !errors.Is(err, c.err) || (err == nil && (p.Next != nil) != c.next) {
			t.Errorf("%s: %+v, %v; want error %v, next %v", c.body, p, err, c.err, c.next)
		}
	}
}

// FuzzDecodePage: any body decodes to a page of valid JSON items or to an
// error, never a panic, and a decoded page survives re-encoding.
func FuzzDecodePage(f *testing.F) {
	for _, s := range []string{
		`{"Items":[{"submission_id":"a","created_at":"2025-02-01-00-00-00-000"}],"nextpageKey":{"id":"a","created_at":"2025-02-01-00-00-00-000"}}`,
		`{"Items":[]}`,
		`{"Items":null}`,
		`{"isEncrypted":true,"data":"abc"}`,
		`{"Items":[1,"x",null,[],{}],"nextpageKey":{"id":null}}`,
		`{"Items":[{"a":"\ud800"}]}`,
		`[]`,
		`{"Items":[{"a":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodePage(body)
		if err != nil {
			if !errors.Is(err, ErrMalformedPage) && !errors.Is(err, ErrEncrypted) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		for _, it := range p.Items {
			if !json.Valid(it) {
				t.Fatalf("invalid item %q", it)
			}
		}
		if p.Next != nil && *p.Next == (PageKey{}) {
			t.Fatal("empty next key")
		}
	})
}

func TestDecodeSecurePage(t *testing.T) {
	c, err := argoscrypt.New("k")
	if err != nil {
		t.Fatal(err)
	}
	wrong, _ := argoscrypt.New("not-k")
	page := `{"Items":[{"submission_id":"a"}],"nextpageKey":{"id":"a","created_at":"2025-02-01-00-00-00-000"}}`
	env := func(data string) string { return `{"isEncrypted":true,"data":"` + data + `"}` }
	for _, tc := range []struct {
		name, body string
		err        error
		items      int
	}{
		{"encrypted page", env(c.Encrypt([]byte(page))), nil, 1},
		{"plain page", page, nil, 1},
		{"wrong key", env(wrong.Encrypt([]byte(page))), ErrDecrypt, 0},
		{"not base64", env("%%%"), ErrDecrypt, 0},
		{"decrypts to non-JSON", env(c.Encrypt([]byte("\x00\x01garbage"))), ErrDecrypt, 0},
		{"decrypts to a non-page", env(c.Encrypt([]byte(`{"message":"x"}`))), ErrMalformedPage, 0},
		{"data not a string", `{"isEncrypted":true,"data":42}`, ErrMalformedPage, 0},
		{"cut envelope", env(c.Encrypt([]byte(page)))[:30], ErrMalformedPage, 0},
	} {
		p, err := decodeSecurePage([]byte(tc.body), c)
		if !errors.Is(err, tc.err) || len(p.Items) != tc.items {
			t.Errorf("%s: %d items, %v; want %d, %v", tc.name, len(p.Items), err, tc.items, tc.err)
		}
	}
}

// TestDeepItemDoesNotFailThePage: an item nested deeper than Go's JSON
// decoders go is kept whole (the flattener quarantines it) and the page's
// other items and key are read, plain or encrypted; a page with such an
// item and a broken one is still malformed.
func TestDeepItemDoesNotFailThePage(t *testing.T) {
	c, err := argoscrypt.New("k")
	if err != nil {
		t.Fatal(err)
	}
	deep := `{"submission_id":"deep","x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`
	page := `{"Items":[{"submission_id":"a"},` + deep + `,{"submission_id":"b"}],"nextpageKey":{"id":"b","created_at":"2025-02-01-00-00-00-000"}}`
	for name, body := range map[string]string{
		"plain":     page,
		"encrypted": `{"isEncrypted":true,"data":"` + c.Encrypt([]byte(page)) + `"}`,
	} {
		p, err := decodeSecurePage([]byte(body), c)
		if err != nil || len(p.Items) != 3 || string(p.Items[1]) != deep || p.Next == nil || p.Next.ID != "b" {
			t.Errorf("%s: %d items, next %v, %v; want 3 with the deep one whole and the key", name, len(p.Items), p.Next, err)
		}
	}
	broken := strings.Replace(page, `{"submission_id":"b"}`, `{"submission_id":}`, 1)
	if _, err := decodePage([]byte(broken)); !errors.Is(err, ErrMalformedPage) {
		t.Errorf("a broken item beside a deep one: %v, want ErrMalformedPage", err)
	}
}

// FuzzDecodeSecurePage: any body gives a page or a decoding error, never a
// panic, and never items that are not JSON.
func FuzzDecodeSecurePage(f *testing.F) {
	c, _ := argoscrypt.New("k")
	f.Add([]byte(`{"isEncrypted":true,"data":"` + c.Encrypt([]byte(`{"Items":[1]}`)) + `"}`))
	f.Add([]byte(`{"isEncrypted":true,"data":"AAAA"}`))
	f.Add([]byte(`{"Items":[]}`))
	f.Add([]byte(`{"data":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodeSecurePage(body, c)
		if err != nil {
			if !errors.Is(err, ErrMalformedPage) && !errors.Is(err, ErrDecrypt) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		for _, it := range p.Items {
			if !json.Valid(it) {
				t.Fatalf("invalid item %q", it)
			}
		}
	})
}
