package archive

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"filippo.io/age"
)

// Encryption at rest of the raw archive (filippo.io/age): a raw file
// written WithRecipients is age(zstd(NDJSON)), under the same name, and
// its manifest records the sha256 and size of those stored bytes, so that
// Verify checks it without any key. Readers tell an encrypted file by age's
// header and need one of the recipients' identities (WithIdentities).

// ErrNoIdentity: a raw file is encrypted and no age identity was given to
// read it.
var ErrNoIdentity = errors.New("the file is encrypted (age) and no identity was given to read it")

// ErrWrongIdentity: no identity given matches any recipient the file was
// encrypted to.
var ErrWrongIdentity = errors.New("no identity given matches a recipient the file was encrypted to")

// ErrNotIdentities: a file meant to hold age identities holds none, or a
// malformed one.
var ErrNotIdentities = errors.New("not a file of age identities (AGE-SECRET-KEY-1... lines, as age-keygen writes them)")

// ageMagic starts every age file (binary format).
const ageMagic = "age-encryption.org/v1\n"

// WithRecipients encrypts a raw archive file to every recipient (none:
// the file is plain). Parquet writers ignore it.
func WithRecipients(rs ...age.Recipient) WriterOption {
	return func(f *atomicFile) { f.recipients = rs }
}

// ReadOption configures ReadRaw.
type ReadOption func(*readConfig)

type readConfig struct{ identities []age.Identity }

// WithIdentities gives the identities that an encrypted raw file is read
// with.
func WithIdentities(ids ...age.Identity) ReadOption {
	return func(c *readConfig) { c.identities = append(c.identities, ids...) }
}

// sealed tells whether the stream starts with age's header, without
// consuming it.
func sealed(br *bufio.Reader) bool {
	head, _ := br.Peek(len(ageMagic))
	return string(head) == ageMagic
}

// IsEncrypted tells whether the file at path is age-encrypted.
func IsEncrypted(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	return sealed(bufio.NewReaderSize(f, 64)), nil
}

// open returns the plain bytes of the stream: r itself when it is plain,
// else decrypted with the identities.
func (c *readConfig) open(r io.Reader, name string) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if !sealed(br) {
		return br, nil
	}
	if len(c.identities) == 0 {
		return nil, fmt.Errorf("reading %s: %w", name, ErrNoIdentity)
	}
	plain, err := age.Decrypt(br, c.identities...)
	if err != nil {
		var nomatch *age.NoIdentityMatchError
		if errors.As(err, &nomatch) {
			return nil, fmt.Errorf("decrypting %s: %w", name, ErrWrongIdentity)
		}
		return nil, fmt.Errorf("decrypting %s: %w", name, err)
	}
	return plain, nil
}

// CheckIdentities opens the header of the raw file at path with ids, as
// ReadRaw would, and reads nothing more: a plain file passes; an encrypted
// one fails with ErrNoIdentity or ErrWrongIdentity when it cannot be read.
func CheckIdentities(path string, ids ...age.Identity) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening raw archive: %w", err)
	}
	defer f.Close()
	c := readConfig{identities: ids}
	_, err = c.open(f, path)
	return err
}

// ParseRecipients parses age X25519 recipients (age1...), one per line or
// separated by commas; blank lines and # comments are skipped.
func ParseRecipients(text string) ([]age.Recipient, error) {
	text = strings.ReplaceAll(text, ",", "\n")
	var out []age.Recipient
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r, err := age.ParseX25519Recipient(line)
		if err != nil {
			return nil, fmt.Errorf("reading recipient %d: %w", i+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// ReadIdentities reads age identities (AGE-SECRET-KEY-1...) from the file
// at path, as age-keygen writes it.
func ReadIdentities(path string) ([]age.Identity, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading age identities: %w", err)
	}
	ids, err := age.ParseIdentities(bytes.NewReader(b))
	if err != nil {
		// age's message may quote part of a malformed key: not repeated.
		return nil, fmt.Errorf("reading age identities from %s: %w", path, ErrNotIdentities)
	}
	return ids, nil
}

// Seal encrypts data to the recipients, whole, in age's binary format.
func Seal(data []byte, rs ...age.Recipient) ([]byte, error) {
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, rs...)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
