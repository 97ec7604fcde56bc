package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/kycetl/kycetl/extract/argos/sandbox"
	"github.com/kycetl/kycetl/extract/argos/synth"
	fractalsandbox "github.com/kycetl/kycetl/extract/fractal/sandbox"
	"github.com/kycetl/kycetl/internal/window"
)

// sandboxCmd runs the built-in ARGOS-compatible API until interrupted, so
// that users can try kycetl and their BI set-up without a vendor account.
func (e *env) sandboxCmd() *cobra.Command {
	var addr, apiKey, secret string
	var seed int64
	var faultRate float64
	var latency, retryAfter time.Duration
	var secure bool
	var fractalUsers int
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Serve a built-in ARGOS-compatible API with synthetic data (no vendor account needed)",
		Long: `sandbox serves the ARGOS ID check submission API (GET /v3/submission) on
--addr with deterministic synthetic submissions, until Ctrl-C. Point kycetl run,
kycetl schedule or any ARGOS client at it with the variables it prints; they
include KYCETL_PII_KEY, set to the fixed key of synthetic data (the demo's), so
that the printed kycetl run works as it is.

--fault-rate makes that share of answers fail like a real API on a bad day
(429 with Retry-After, 500, 502, truncated bodies, malformed JSON, spread
evenly; a repeated nextpageKey at a twentieth of the rate); --latency delays
every answer. Both can be switched while it runs:
  curl -X POST -H "x-api-key: KEY" "URL` + sandbox.FaultsPath + `?rate=0.3&latency=100ms"
--secure turns on the vendor's secure data transfer (encrypted parameters and
answers) with --secret-key, or the API key when it is empty.

Beside it, on a free loopback port, a Fractal-compatible statistics API
(its token endpoint and the three statistics endpoints) serves
--fractal-users synthetic users whose credentials change from day to day; it
prints the FRACTAL_* variables for kycetl fractal.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case addr == "":
				return usagef("--addr is empty: give host:port, e.g. 127.0.0.1:8080")
			case apiKey == "":
				return usagef("--api-key is empty")
			case faultRate < 0 || faultRate > 1:
				return usagef("--fault-rate %v: want a share from 0 to 1", faultRate)
			case latency < 0:
				return usagef("--latency %s is negative", latency)
			case retryAfter < 0:
				return usagef("--retry-after %s is negative", retryAfter)
			case secret != "" && !secure:
				return usagef("--secret-key needs --secure")
			case fractalUsers < 0:
				return usagef("--fractal-users %d is negative", fractalUsers)
			}
			faults := sandbox.FaultMix(faultRate)
			faults.Latency, faults.RetryAfter, faults.Seed = latency, retryAfter, seed
			opts := []sandbox.Option{sandbox.WithAPIKey(apiKey), sandbox.WithLogger(e.log),
				sandbox.WithFaults(faults), sandbox.WithFaultSwitch()}
			if secure {
				if secret == "" {
					secret = apiKey
				}
				opts = append(opts, sandbox.WithSecureTransfer(secret))
			}
			now := e.now()
			srv := sandbox.New(synth.New(seed, synth.WithAsOf(now)), opts...)
			url, err := srv.StartAt(addr)
			if err != nil {
				return fmt.Errorf("starting the sandbox API: %w", err)
			}
			defer srv.Close()

			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "ARGOS-compatible sandbox API with synthetic data (seed %d) listening on %s\n", seed, url)
			if faultRate > 0 || latency > 0 {
				fmt.Fprintf(out, "faults: %.0f%% of answers fail (429 with Retry-After %s, 500, 502, truncated, malformed); latency %s\n", faultRate*100, retryAfter, latency)
			}
			// Printing the keys is the point: they are the sandbox's own,
			// guarding synthetic data only.
			fmt.Fprintf(out, "\nexport ARGOS_API_URL=%s\nexport ARGOS_API_KEY=%s\nexport %s=%s\n", url, apiKey, envPIIKey, syntheticPIIKey)
			if secure {
				fmt.Fprintf(out, "export ARGOS_SECRET_KEY=%s\n", secret)
			}
			today := window.Day(now)
			fmt.Fprintf(out, "kycetl run --from %s --to %s\n", window.FormatDate(today.AddDate(0, 0, -7)), window.FormatDate(today.AddDate(0, 0, -1)))
			fsrv := fractalsandbox.New(fractalsandbox.WithUsers(fractalUsers), fractalsandbox.WithSeed(uint64(seed)))
			furl, err := fsrv.Start()
			if err != nil {
				return fmt.Errorf("starting the Fractal sandbox API: %w", err)
			}
			defer fsrv.Close()
			fmt.Fprintf(out, "\nFractal-compatible sandbox API (%d users) listening on %s\n", fractalUsers, furl)
			fmt.Fprintf(out, "export FRACTAL_AUTH_URL=%s\nexport FRACTAL_RESOURCE_URL=%s\nexport FRACTAL_CLIENT_ID=%s\nexport FRACTAL_CLIENT_SECRET=%s\nkycetl fractal\n",
				furl, furl, fractalsandbox.DefaultClientID, fractalsandbox.DefaultClientSecret)
			fmt.Fprintf(out, "\nswitch faults: curl -X POST -H \"x-api-key: $ARGOS_API_KEY\" \"%s%s?rate=0.3&latency=100ms\"\nstop with Ctrl-C\n", url, sandbox.FaultsPath)

			<-cmd.Context().Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				srv.Close()
			}
			e.log.Info().Int64("requests", srv.Calls()).Msg("sandbox stopped")
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "host:port to listen on (port 0 picks a free one)")
	cmd.Flags().Int64Var(&seed, "seed", 1, "seed of the synthetic data and of the faults")
	cmd.Flags().StringVar(&apiKey, "api-key", sandbox.DefaultAPIKey, "API key the sandbox accepts")
	cmd.Flags().Float64Var(&faultRate, "fault-rate", 0, "share of answers that fail, 0 to 1")
	cmd.Flags().DurationVar(&latency, "latency", 0, "delay before every answer, e.g. 100ms")
	cmd.Flags().DurationVar(&retryAfter, "retry-after", time.Second, "Retry-After of 429 answers (whole seconds)")
	cmd.Flags().BoolVar(&secure, "secure", false, "turn on secure data transfer (encrypted parameters and answers)")
	cmd.Flags().StringVar(&secret, "secret-key", "", "secret key of secure data transfer (default: the API key)")
	cmd.Flags().IntVar(&fractalUsers, "fractal-users", 500, "users of the Fractal-compatible API")
	return cmd
}
