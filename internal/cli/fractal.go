package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kycetl/kycetl/internal/config"
	"github.com/kycetl/kycetl/internal/pipeline"
	"github.com/kycetl/kycetl/internal/window"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/sql/stats"
)

func (e *env) fractalCmd() *cobra.Command {
	var dir, project, warehouse, cfgPath string
	cmd := &cobra.Command{
		Use:   "fractal",
		Short: "Pull one dated snapshot of Fractal ID's statistics (totals, countries, users)",
		Long: `fractal pulls Fractal ID's statistics API (total, country and user
verifications) as one snapshot of today (UTC): the exact answers go to
raw/fractal/, the rows to fractal_verification_totals,
fractal_country_verifications and fractal_user_verifications, partitioned by
snapshot_date. The API answers "right now" only, so each pull is kept as a
dated snapshot; a second pull on the same UTC day replaces that day's. A day
not pulled cannot be pulled later.

The client id and secret are read from $FRACTAL_CLIENT_ID and
$FRACTAL_CLIENT_SECRET, the base URLs from $FRACTAL_AUTH_URL (default
https://auth.fractal.id) and $FRACTAL_RESOURCE_URL (default
https://resource.fractal.id); with --config, from the variables a project of
source fractal names. Before writing anything a token is fetched: a client id
or secret the token endpoint refuses stops the pull with exit code 1 and leaves
the directory as it was. An unset variable is a usage error (exit 2).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, err := pipeline.SourceNamed(config.FractalSource)
			if err != nil {
				return err
			}
			today := window.Day(e.now())
			job := loadJob{command: "fractal", source: src, from: today, to: today, dir: dir, project: project, warehouse: warehouse,
				report: e.printSnapshot}
			p := config.Project{Name: project, Source: config.FractalSource, Fractal: config.DefaultFractalEnv}
			if cfgPath != "" {
				cfg, err := e.configJob(cmd, cfgPath, &job)
				if err != nil {
					return err
				}
				var fractals []config.Project
				for _, cp := range cfg.Projects {
					if cp.IsFractal() {
						fractals = append(fractals, cp)
					}
				}
				var ok bool
				p, ok = cfg.Project(project)
				if !cmd.Flags().Changed("project") && len(fractals) == 1 {
					p, ok = fractals[0], true
				}
				switch {
				case !ok:
					return usagef("--project %q is not in %s", project, cfgPath)
				case !p.IsFractal():
					return usagef("project %s in %s is a %s project: kycetl fractal pulls a project of source %s", p.Name, cfgPath, p.Source, config.FractalSource)
				}
				job.project, job.rates = p.Name, cfg.CreditRates
				if job.policy, err = e.configPolicy(cfg); err != nil {
					return err
				}
				if _, job.src, job.budget, err = e.configFetcher(cmd.Context(), cfg, p, window.Settings{}); err != nil {
					return err
				}
				return e.load(cmd.Context(), job)
			}
			if err := archive.ValidateProject(project); err != nil {
				return usagef("--project: %v", err)
			}
			e.keys = fractalKeySources(nil, p)
			s, err := p.FractalSettings(e.getenv)
			if err != nil {
				return usageError{err}
			}
			s.Clock = e.now
			if job.src, job.budget, err = e.fetcher(cmd.Context(), src, s, ""); err != nil {
				return err
			}
			if job.policy, err = e.policy(false); err != nil {
				return err
			}
			return e.load(cmd.Context(), job)
		},
	}
	addTargetFlags(cmd, &dir, &project, &warehouse, &cfgPath)
	return cmd
}

// printSnapshot prints the snapshot days of job's window as the
// fractal_status_daily view has them.
func (e *env) printSnapshot(ctx context.Context, db stats.DB, job loadJob) error {
	days, err := stats.FractalStatusDaily(ctx, db, stats.Range{From: job.from, To: job.to, Project: job.project})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%-10s %9s %9s %9s %9s %9s %9s %9s %9s\n", "snapshot", "approved", "rejected", "pending", "contacted", "expired", "other", "total", "change")
	for _, d := range days {
		ch := "-"
		if d.TotalChange != nil {
			ch = fmt.Sprintf("%+d", *d.TotalChange)
		}
		fmt.Fprintf(e.stdout, "%-10.10s %9d %9d %9d %9d %9d %9d %9d %9s\n", d.Day, d.Approved, d.Rejected, d.Pending, d.Contacted, d.Expired, d.Other, d.Total, ch)
	}
	fmt.Fprintln(e.stdout, "\nviews: fractal_status_daily, fractal_country_latest, fractal_credential_changes")
	return nil
}
