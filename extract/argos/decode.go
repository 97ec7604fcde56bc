package argos

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kycetl/kycetl/extract/argos/argoscrypt"
	"github.com/kycetl/kycetl/internal/jsonskim"
)

// Errors of page decoding.
var (
	// ErrMalformedPage means a 200 answer was not a page; it is retried, as
	// a cut connection produces it too.
	ErrMalformedPage = errors.New("malformed page")
	// ErrEncrypted means the project has secure data transfer on and the
	// client was not given the secret to decrypt the answer. It is of kinds
	// ErrCredentials and ErrSecretKey.
	ErrEncrypted error = &settingError{kind: ErrSecretKey, refused: true,
		msg: "the response is encrypted (the project has secure data transfer on) and the client has no secret key: it needs the project's secret key, or its API key when it has none"}
	// ErrDecrypt means an encrypted answer did not decrypt to JSON with
	// the client's secret: the secret is wrong. It is not retried. It is
	// of kinds ErrCredentials and ErrSecretKey.
	ErrDecrypt error = &settingError{kind: ErrSecretKey, refused: true,
		msg: "the secret key cannot decrypt the answer (it must be the project's secret key, or its API key when it has none)"}
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
		if jsonskim.Depth(body, jsonskim.Space(body, 0)) <= jsonskim.DecoderMaxDepth {
			return Page{}, fmt.Errorf("%w: %v", ErrMalformedPage, err)
		}
		return decodeDeepPage(body)
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
	return p, p.readNext(env.NextpageKey)
}

// decodeDeepPage reads a page holding an item nested deeper than Go's JSON
// decoders go (jsonskim.DecoderMaxDepth): the page is cut by skimming, every
// other item must be JSON, and the deep item is kept whole, for the
// flattener to quarantine, instead of failing the day.
func decodeDeepPage(body []byte) (Page, error) {
	i := jsonskim.Space(body, 0)
	if i >= len(body) || body[i] != '{' {
		return Page{}, fmt.Errorf("%w: not an object", ErrMalformedPage)
	}
	var items, next json.RawMessage
	err := jsonskim.Members(body, i, func(name, value []byte) bool {
		switch string(name) {
		case "Items":
			items = value
		case "nextpageKey":
			next = value
		}
		return true
	})
	if err != nil || items == nil || items[0] != '[' {
		return Page{}, fmt.Errorf("%w: no Items array", ErrMalformedPage)
	}
	var p Page
	err = jsonskim.Elements(items, 0, func(item []byte) error {
		if jsonskim.Depth(item, 0) <= jsonskim.DecoderMaxDepth && !json.Valid(item) {
			return fmt.Errorf("%w: item %d is not JSON", ErrMalformedPage, len(p.Items))
		}
		p.Items = append(p.Items, json.RawMessage(item))
		return nil
	})
	if errors.Is(err, jsonskim.ErrNotJSON) {
		err = fmt.Errorf("%w: %w", ErrMalformedPage, err)
	}
	if err != nil {
		return Page{}, err
	}
	return p, p.readNext(next)
}

// readNext reads the page's nextpageKey, when it has one.
func (p *Page) readNext(raw json.RawMessage) error {
	if raw != nil && !isNull(raw) {
		var k struct {
			ID        json.RawMessage `json:"id"`
			CreatedAt json.RawMessage `json:"created_at"`
		}
		if err := json.Unmarshal(raw, &k); err != nil {
			return fmt.Errorf("%w: nextpageKey is not an object", ErrMalformedPage)
		}
		key := PageKey{ID: scalar(k.ID), CreatedAt: scalar(k.CreatedAt)}
		if key != (PageKey{}) {
			p.Next = &key
		}
	}
	return nil
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
		return decodePage(body) // malformed, or a plain page too deep for the decoder
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
	if !json.Valid(plain) && jsonskim.Depth(plain, jsonskim.Space(plain, 0)) <= jsonskim.DecoderMaxDepth {
		return Page{}, fmt.Errorf("%w: the decrypted answer is not JSON", ErrDecrypt)
	}
	p, err := decodePage(plain)
	if errors.Is(err, ErrEncrypted) {
		return Page{}, fmt.Errorf("%w: the decrypted answer is encrypted again", ErrMalformedPage)
	}
	return p, err
}

// settingError is an error about one of the client's settings: kind
// (ErrAPIURL, ErrAPIKey or ErrSecretKey) says which, and refused that the
// API refused it, which makes it of kind ErrCredentials too.
type settingError struct {
	kind    error
	msg     string
	refused bool
}

func (e *settingError) Error() string { return e.msg }

// Is makes errors.Is(err, e.kind) true, and errors.Is(err, ErrCredentials)
// when the API refused the setting.
func (e *settingError) Is(target error) bool {
	return target == e.kind || e.refused && target == ErrCredentials
}
