package pipeline

import (
	"errors"
	"fmt"

	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/transform/pii"
)

// ErrPIIKeyChanged is returned (wrapped) when a run's PII key is not the
// key that the archive's current partitions were hashed with: loading with
// it would give the same values other hashes, and break every join and
// distinct count on a hashed column. It is a configuration error.
var ErrPIIKeyChanged = errors.New("the PII key changed")

// WithRehash lets a run hash with another key than the archive's current
// partitions were hashed with: a rebuild that re-hashes them all.
func WithRehash(on bool) Option { return func(pl *Pipeline) { pl.rehash = on } }

// checkPIIKey is CheckPIIKey of the pipeline's archive and policy, unless
// the pipeline re-hashes or its key was checked already.
func (p *Pipeline) checkPIIKey() error {
	if p.rehash || p.keyChecked {
		return nil
	}
	return CheckPIIKey(p.layout, p.policy)
}

// CheckPIIKey refuses (ErrPIIKeyChanged) a policy whose key differs from
// the key any current partition of the archive was hashed with, as the
// manifests record it. Partitions of runs that recorded no fingerprint
// (before kycetl recorded them, or that hashed nothing) are not compared.
// Every run checks it as it begins; commands check it before they call an
// API or start a daemon.
func CheckPIIKey(layout archive.Layout, pol *pii.Policy) error {
	fp := pol.Fingerprint()
	if fp == "" {
		return nil
	}
	ms, err := layout.ReadManifests()
	if err != nil {
		return fmt.Errorf("reading manifests to check the PII key: %w", err)
	}
	cur := archive.Current(ms)
	for _, m := range ms {
		if m.PIIKey == "" || m.PIIKey == fp {
			continue
		}
		for i := range m.Days {
			d := &m.Days[i]
			if cur[d.Key()] != d {
				continue
			}
			return fmt.Errorf("%w: the key given is not the key that the archive in %s was hashed with (run %s recorded fingerprint %s, the key given has %s; %s %s is one of its partitions): "+
				"give that key back, or re-hash every partition with the new one: kycetl rebuild --rehash",
				ErrPIIKeyChanged, layout.Dir, m.RunID, m.PIIKey, fp, d.Project, d.Day)
		}
	}
	return nil
}
