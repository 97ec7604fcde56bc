package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/kycetl/kycetl/internal/config"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
)

// StagingGrace is how old a warehouse's staging resource (a BigQuery
// staging table, a staged Cloud Storage object) must be for a prune to
// remove it: a load in progress, from another directory or machine, has
// been staging for less.
const StagingGrace = 6 * time.Hour

// Pruned is what a prune removed (or, dry, would remove).
type Pruned struct {
	// Archive is the record of the archive's files deleted; nil when the
	// retention keeps every version.
	Archive *archive.PruneRecord
	// Staging lists the warehouse's staging resources removed.
	Staging []string
}

// Prune removes what a warehouse directory no longer needs: the archive's
// versions superseded for longer than the retention (archive.Layout.Prune),
// never a file wh reads (load.FileReader), and the staging resources that
// crashed loads left in wh (load.Janitor) more than StagingGrace ago. wh
// may be nil (no warehouse to ask). The caller holds the directory lock.
func Prune(ctx context.Context, layout archive.Layout, wh load.Warehouse, r config.Retention, now time.Time, dryRun bool, log zerolog.Logger) (*Pruned, error) {
	out := &Pruned{}
	if r.Limited() {
		var opts []archive.PruneOption
		if dryRun {
			opts = append(opts, archive.WithDryRun())
		}
		if fr, ok := wh.(load.FileReader); ok {
			files, err := fr.ReadsFiles(ctx)
			if err != nil {
				return nil, fmt.Errorf("pruning %s: %w", layout.Dir, err)
			}
			opts = append(opts, archive.WithProtected(layout, files))
		}
		rec, err := layout.Prune(ctx, now, r.SupersededDays, opts...)
		if err != nil {
			return nil, err
		}
		out.Archive = rec
		if !dryRun {
			log.Info().Str("prune_id", rec.PruneID).Int("files", len(rec.Files)).Int("manifests", len(rec.Manifests)).
				Int64("bytes", rec.Bytes()).Int("older_than_days", r.SupersededDays).Msg("archive pruned")
		}
	}
	if j, ok := wh.(load.Janitor); ok {
		staged, err := j.CleanStaging(ctx, now.Add(-StagingGrace), dryRun)
		out.Staging = staged
		if err != nil {
			return out, err
		}
		if !dryRun && len(staged) > 0 {
			log.Info().Strs("removed", staged).Msg("staging left by crashed loads removed")
		}
	}
	return out, nil
}
