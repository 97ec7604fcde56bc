package cli

import (
	"errors"
	"fmt"
	"strings"

	"filippo.io/age"

	"github.com/kycetl/kycetl/internal/pipeline"
	"github.com/kycetl/kycetl/load/archive"
)

// Environment variables of the raw archive's encryption at rest.
const (
	// envArchiveRecipients lists the age X25519 public keys (age1...,
	// separated by commas or newlines) the raw archive is encrypted to; it
	// overrides archive.recipients of the configuration.
	envArchiveRecipients = "KYCETL_ARCHIVE_RECIPIENTS"
	// envArchiveIdentity names a file of age identities (age-keygen's
	// output) that encrypted raw files are read with: rebuild, raw cat, an
	// import merging with an encrypted day.
	envArchiveIdentity = "KYCETL_ARCHIVE_IDENTITY"
)

// recipients are the archive's age recipients: $KYCETL_ARCHIVE_RECIPIENTS,
// else the configuration's; none when neither is set.
func (e *env) recipientsOf() ([]age.Recipient, error) {
	text, from := e.getenv(envArchiveRecipients), envArchiveRecipients
	if text == "" {
		text, from = strings.Join(e.recipients, "\n"), "archive.recipients"
	}
	rs, err := archive.ParseRecipients(text)
	if err != nil {
		return nil, usagef("%s: %v", from, err)
	}
	return rs, nil
}

// identities are the age identities in the file $KYCETL_ARCHIVE_IDENTITY
// names; none when it is not set.
func (e *env) identities() ([]age.Identity, error) {
	path := e.getenv(envArchiveIdentity)
	if path == "" {
		return nil, nil
	}
	ids, err := archive.ReadIdentities(path)
	if err != nil {
		return nil, usagef("%s: %v", envArchiveIdentity, err)
	}
	return ids, nil
}

// archiveKeys are the pipeline options of the archive's encryption. Without
// recipients it logs, once, that the raw archive is written in plain text.
func (e *env) archiveKeys() ([]pipeline.Option, error) {
	rs, err := e.recipientsOf()
	if err != nil {
		return nil, err
	}
	ids, err := e.identities()
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		e.log.Warn().Msg("the raw archive is not encrypted: it keeps every identity number the API returns in plain text; set archive.recipients or " + envArchiveRecipients + " to age public keys")
	}
	return []pipeline.Option{pipeline.WithRecipients(rs...), pipeline.WithIdentities(ids...)}, nil
}

// identityHint adds to an error about an encrypted raw file what to set.
func identityHint(err error) error {
	switch {
	case errors.Is(err, archive.ErrNoIdentity):
		return fmt.Errorf("%w; set %s to the file of an age identity of the archive's recipients", err, envArchiveIdentity)
	case errors.Is(err, archive.ErrWrongIdentity):
		return fmt.Errorf("%w; %s must name the file of an age identity of the archive's recipients", err, envArchiveIdentity)
	}
	return err
}
