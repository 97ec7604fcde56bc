package extract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Errors of page decoding.
var (
	// ErrMalformedPage means a 200 answer was not a page; it is retried, as
	// a cut connection produces it too.
	ErrMalformedPage = errors.New("malformed page")
	// ErrEncrypted means the project has secure data transfer on and the
	// answer is ciphertext, which this client does not decrypt.
	ErrEncrypted = errors.New("the response is encrypted (the project has secure data transfer on); turn it off for the API key kycetl uses")
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
