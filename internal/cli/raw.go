package cli

import (
	"bufio"
	"fmt"
	"github.com/kycetl/kycetl/internal/pipeline"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kycetl/kycetl/internal/window"
	"github.com/kycetl/kycetl/load/archive"
)

// rawCmd is `kycetl raw`, the auditors' access to the raw archive.
func (e *env) rawCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "raw",
		Short: "Read the raw archive: the exact API items of a day",
		Long: `raw reads the raw archive, raw/<source>/project=<p>/<day column>=<d>/<run_id>.ndjson.zst (created_date for argos, snapshot_date for fractal),
which keeps the exact bytes the API returned for every day loaded. It is how an
auditor reads a day's items when the archive is encrypted at rest (age): the
host that loads needs only the public keys, and raw cat reads with the private
identity named by $` + envArchiveIdentity + `. See "raw cat --help".`,
		Args: noArgs,
	}
	cmd.AddCommand(e.rawCatCmd())
	return cmd
}

func (e *env) rawCatCmd() *cobra.Command {
	var dir, project, day, source string
	cmd := &cobra.Command{
		Use:   "cat --project P --day YYYY-MM-DD",
		Short: "Print the exact API items of a project's day (its current version), one per line",
		Long: `raw cat prints the items of the current raw archive file of --project and --day
(the newest complete run that loaded the day) to stdout, byte for byte as the API
returned them, one per line. An encrypted archive (archive.recipients) is read
with the age identities in the file $` + envArchiveIdentity + ` names; without it
the command fails naming the variable. Nothing is written.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := archiveDir(dir); err != nil {
				return err
			}
			d, err := window.ParseDay(day)
			if err != nil {
				return usagef("--day: %v", err)
			}
			ids, err := e.identities()
			if err != nil {
				return err
			}
			layout := archive.Layout{Dir: dir}
			ms, err := layout.ReadManifests()
			if err != nil {
				return fmt.Errorf("reading manifests: %w", err)
			}
			rec, ok := archive.Current(ms)[archive.PartitionKey{Source: source, Project: project, Day: window.FormatDate(d)}]
			if !ok {
				return usagef("no day %s of project %q from source %s in %s", window.FormatDate(d), project, source, dir)
			}
			out := bufio.NewWriterSize(cmd.OutOrStdout(), 1<<16)
			for _, f := range rec.Files {
				if f.Table != archive.RawTable {
					continue
				}
				path, err := layout.Abs(f.Path)
				if err != nil {
					return err
				}
				err = archive.ReadRaw(path, func(_ int, item []byte) error {
					if _, err := out.Write(item); err != nil {
						return err
					}
					return out.WriteByte('\n')
				}, archive.WithIdentities(ids...))
				if err != nil {
					return identityHint(fmt.Errorf("reading %s of %s %s: %w", f.Path, project, window.FormatDate(d), err))
				}
			}
			return out.Flush()
		},
	}
	cmd.Flags().StringVar(&dir, "dir", defaultDir, "archive directory")
	cmd.Flags().StringVar(&project, "project", defaultProj, "project")
	cmd.Flags().StringVar(&day, "day", "", "UTC day, YYYY-MM-DD")
	cmd.Flags().StringVar(&source, "source", pipeline.DefaultSource.Name(), "the source whose day it is: "+strings.Join(pipeline.Sources.Names(), ", "))
	return cmd
}
