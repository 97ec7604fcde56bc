package cli

import (
	"bufio"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/kycetl/kycetl/extract/argos/synth"
)

// generateCmd writes synthetic submissions as NDJSON, for benchmarks of
// `kycetl import` and for trying BI set-ups.
func (e *env) generateCmd() *cobra.Command {
	var out string
	var perDay int
	var seed int64
	var window dateFlags
	cmd := &cobra.Command{
		Use:   "generate --from D --to D --per-day N --out FILE",
		Short: "Write synthetic ARGOS submissions as NDJSON (benchmarks, demos), for kycetl import",
		Long: `generate writes deterministic synthetic ARGOS submissions (the ones the demo and
the sandbox serve) as NDJSON, --per-day of them for every UTC day of
[--from, --to], to --out. Load them with kycetl import, e.g. to try a BI
set-up or to time an import, without a vendor account.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, to, err := window.parse(true)
			if err != nil {
				return err
			}
			if perDay < 1 {
				return usagef("--per-day must be positive")
			}
			if out == "" {
				return usagef("--out is required")
			}
			fh, err := os.Create(out)
			if err != nil {
				return err
			}
			bw := bufio.NewWriterSize(fh, 1<<20)
			n, err := synth.New(seed, synth.WithVolume(perDay, perDay)).WriteNDJSON(bw, from, to)
			if err == nil {
				err = bw.Flush()
			}
			if cerr := fh.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("generating %s: %w", out, err)
			}
			fmt.Fprintf(e.stderr, "wrote %d submissions to %s\n", n, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "output file")
	cmd.Flags().IntVar(&perDay, "per-day", 1000, "submissions per day")
	cmd.Flags().Int64Var(&seed, "seed", 1, "seed")
	window.add(cmd, "to generate")
	return cmd
}
