package extract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kycetl/kycetl/argoscrypt"
)

// Errors of page decoding.
var (
	// ErrMalformedPage means a 200 answer was not a page; it is retried, as
	// a cut connection produces it too.
	ErrMalformedPage = errors.New("malformed page")
	// ErrEncrypted means the project has secure data transfer on and the
	// client was not given the secret to decrypt the answer. It is of kind
	// ErrCredentials.
	ErrEncrypted error = &credentialError{"the response is encrypted (the project has secure data transfer on): set ARGOS_SECRET_KEY to the project's secret key, or to its API key when it has none"}
	// ErrDecrypt means an encrypted answer did not decrypt to JSON with
	// the client's secret: the secret is wrong. It is not retried. It is
	// of kind ErrCredentials.
	ErrDecrypt error = &credentialError{"decrypting the response failed: check ARGOS_SECRET_KEY (the project's secret key, or its API key when it has none)"}
	// ErrPageStall means the API returned a nextpageKey it had returned
	// before in the same chain: following it would loop forever.
	ErrPageStall = errors.New("page stall")
)

// decodePage reads a page body, keeping each item's exact bytes.
func decodePage(body []byte) (Page, error) {
	var env struct {
		Items       json.RawMessage `json:"Items"`
		NextpageKey json.RawMessage `json:"nextpageKey"`
		IsEncrypted json.RawMessage `json:"isEncrypted"`
		Data        json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return Page{}, fmt.Errorf("%w: %v", ErrMalformedPage, err)
	}
	if env.Items == nil {
		if string(env.IsEncrypted) == "true" || (len(env.Data) > 0 && env.Data[0] == '"') {
			return Page{}, ErrEncrypted
		}
		return Page{}, fmt.Errorf("%w: no Items", ErrMalformedPage)
	}
	var p Page
	if !isNull(env.Items) {
		if err := json.Unmarshal(env.Items, &p.Items); err != nil {
			return Page{}, fmt.Errorf("%w: Items is not an array", ErrMalformedPage)
		}
	}
	if env.NextpageKey != nil && !isNull(env.NextpageKey) {
		var k struct {
			ID        json.RawMessage `json:"id"`
			CreatedAt json.RawMessage `json:"created_at"`
		}
		if err := json.Unmarshal(env.NextpageKey, &k); err != nil {
			return Page{}, fmt.Errorf("%w: nextpageKey is not an object", ErrMalformedPage)
		}
		key := PageKey{ID: scalar(k.ID), CreatedAt: scalar(k.CreatedAt)}
		if key != (PageKey{}) {
			p.Next = &key
		}
	}
	return p, nil
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(raw, []byte("null")) }

// scalar renders a JSON string as its text and any other scalar as its JSON
// spelling; null, objects and arrays give "".
func scalar(raw json.RawMessage) string {
	if len(raw) == 0 || isNull(raw) {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	case '{', '[':
		return ""
	}
	return string(raw)
}

// decodeSecurePage reads the answer of a client with secure data transfer
// on: {"isEncrypted": true, "data": "<ciphertext>"} is decrypted and read
// as a page; a plain page is read as it is.
func decodeSecurePage(body []byte, c *argoscrypt.Cipher) (Page, error) {
	var env struct {
		IsEncrypted json.RawMessage `json:"isEncrypted"`
		Data        json.RawMessage `json:"data"`
		Items       json.RawMessage `json:"Items"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return Page{}, fmt.Errorf("%w: %v", ErrMalformedPage, err)
	}
	if env.Items != nil || env.Data == nil {
		p, err := decodePage(body)
		if errors.Is(err, ErrEncrypted) {
			return Page{}, fmt.Errorf("%w: isEncrypted without data", ErrMalformedPage)
		}
		return p, err
	}
	var text string
	if err := json.Unmarshal(env.Data, &text); err != nil {
		return Page{}, fmt.Errorf("%w: data is not a string", ErrMalformedPage)
	}
	plain, err := c.Decrypt(text)
	if err != nil {
		return Page{}, fmt.Errorf("%w: %w", ErrDecrypt, err)
	}
	// A wrong key that happens to leave valid padding yields noise, never JSON.
	if !json.Valid(plain) {
		return Page{}, fmt.Errorf("%w: the decrypted answer is not JSON", ErrDecrypt)
	}
	p, err := decodePage(plain)
	if errors.Is(err, ErrEncrypted) {
		return Page{}, fmt.Errorf("%w: the decrypted answer is encrypted again", ErrMalformedPage)
	}
	return p, err
}

// credentialError is a sentinel of kind ErrCredentials.
type credentialError struct{ msg string }

func (e *credentialError) Error() string { return e.msg }

// Is makes errors.Is(err, ErrCredentials) true.
func (e *credentialError) Is(target error) bool { return target == ErrCredentials }
