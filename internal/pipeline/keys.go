package pipeline

import (
	"fmt"
	"sort"

	"filippo.io/age"

	"github.com/kycetl/kycetl/load/archive"
)

// CheckRawIdentities opens the header of every current raw file of the
// archive with ids, before a rebuild writes anything: a plain file passes,
// an encrypted one that ids cannot read fails with archive.ErrNoIdentity
// or archive.ErrWrongIdentity, naming the first such file.
func CheckRawIdentities(layout archive.Layout, ids ...age.Identity) error {
	ms, err := layout.ReadManifests()
	if err != nil {
		return fmt.Errorf("reading manifests: %w", err)
	}
	cur := archive.Current(ms)
	var paths []string
	for _, rec := range cur {
		for _, f := range rec.Files {
			if f.Table == archive.RawTable {
				paths = append(paths, f.Path)
			}
		}
	}
	sort.Strings(paths)
	for _, rel := range paths {
		path, err := layout.Abs(rel)
		if err != nil {
			return err
		}
		if err := archive.CheckIdentities(path, ids...); err != nil {
			return fmt.Errorf("checking the archive's keys: %w", err)
		}
	}
	return nil
}
