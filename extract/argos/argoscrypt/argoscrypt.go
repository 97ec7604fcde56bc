// Package argoscrypt is the cipher of the ARGOS ID check "secure data
// transfer" mode, in one place so that it can be corrected against the
// vendor if needed.
//
// When a project turns secure data transfer on, a request's query
// parameters travel encrypted in one `data` parameter and a response body
// is {"isEncrypted": true, "data": "<ciphertext>"}. The vendor documents
// the module as AES-256 in ECB mode with key = SHA-256(secret), where the
// secret is the project's separate secretKey or, without one, its API key,
// and no IV. The padding and the text encoding of the ciphertext are not
// published: this package ASSUMES PKCS#7 padding and standard base64 (with
// '=' padding) of the ciphertext, and UTF-8 plaintext. If the vendor's
// module turns out to differ, this file is the only one to change.
//
// ECB encrypts equal blocks to equal blocks; that weakness is the vendor's
// design and is reproduced here only to speak its protocol.
package argoscrypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// ErrDecrypt means a ciphertext could not be decrypted with the key: it is
// not base64, not whole blocks, or its padding is wrong — the usual sign
// of a wrong secret. It never quotes the ciphertext or the key.
var ErrDecrypt = errors.New("ciphertext does not decrypt with this key")

// Cipher encrypts and decrypts with one secret. It is safe for concurrent
// use.
type Cipher struct {
	block cipher.Block
}

// New returns the cipher for secret (the project's secretKey, or its API
// key when it has none).
func New(secret string) (*Cipher, error) {
	if secret == "" {
		return nil, errors.New("the secure data transfer secret is empty")
	}
	key := sha256.Sum256([]byte(secret))
	b, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, fmt.Errorf("making the AES-256 cipher: %w", err)
	}
	return &Cipher{block: b}, nil
}

// Encrypt returns base64(AES-256-ECB(PKCS#7(plain))).
func (c *Cipher) Encrypt(plain []byte) string {
	bs := c.block.BlockSize()
	pad := bs - len(plain)%bs
	buf := make([]byte, len(plain)+pad)
	copy(buf, plain)
	for i := len(plain); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	for i := 0; i < len(buf); i += bs {
		c.block.Encrypt(buf[i:i+bs], buf[i:i+bs])
	}
	return base64.StdEncoding.EncodeToString(buf)
}

// Decrypt reverses Encrypt. Surrounding white space is ignored, and so is
// missing base64 '=' padding, which some encoders leave out. Any other
// defect is ErrDecrypt.
func (c *Cipher) Decrypt(text string) ([]byte, error) {
	text = strings.TrimRight(strings.TrimSpace(text), "=")
	buf, err := base64.RawStdEncoding.DecodeString(text)
	if err != nil {
		return nil, fmt.Errorf("%w: not base64", ErrDecrypt)
	}
	bs := c.block.BlockSize()
	if len(buf) == 0 || len(buf)%bs != 0 {
		return nil, fmt.Errorf("%w: %d bytes is not a whole number of %d-byte blocks", ErrDecrypt, len(buf), bs)
	}
	for i := 0; i < len(buf); i += bs {
		c.block.Decrypt(buf[i:i+bs], buf[i:i+bs])
	}
	pad := int(buf[len(buf)-1])
	if pad < 1 || pad > bs || !bytes.Equal(buf[len(buf)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, fmt.Errorf("%w: bad padding", ErrDecrypt)
	}
	return buf[:len(buf)-pad], nil
}
