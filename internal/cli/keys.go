package cli

import (
	"errors"
	"fmt"

	"github.com/kycetl/kycetl/extract/fractal"
	"github.com/kycetl/kycetl/internal/config"
	"github.com/kycetl/kycetl/internal/pipeline"
	"github.com/kycetl/kycetl/internal/window"
	"github.com/kycetl/kycetl/transform/pii"
)

// keySources says where a command read the API URL and the keys, in the
// words the user set them with ("$ARGOS_API_KEY", or a variable and the
// configuration field that names it). The libraries say which setting is
// wrong (window.ErrAPIKey, pii.ErrNoKey, ...); the command, which knows
// where it came from, adds that. An empty field adds nothing.
type keySources struct {
	apiURL, apiKey, secretKey, piiKey string
	// client: an OAuth2 client's id and secret (Fractal).
	client string
}

// envKeySources are the variables a command without --config reads.
var envKeySources = keySources{apiURL: "$" + envAPIURL, apiKey: "$" + envAPIKey, secretKey: "$" + envSecretKey, piiKey: "$" + envPIIKey}

// fractalKeySources are the variables of a Fractal project's client, named
// by cfg (nil: the command's environment).
func fractalKeySources(cfg *config.Config, p config.Project) keySources {
	names := "$" + p.Fractal.ClientID + " and $" + p.Fractal.ClientSecret
	if cfg != nil {
		names += fmt.Sprintf(", named by client_id_env and client_secret_env of project %s in %s", p.Name, cfg.File)
	}
	return keySources{client: names}
}

// projectKeySources are the settings of project p of cfg.
func projectKeySources(cfg *config.Config, p config.Project) keySources {
	if p.IsFractal() {
		return fractalKeySources(cfg, p)
	}
	field := func(name string) string { return fmt.Sprintf("%s of project %s in %s", name, p.Name, cfg.File) }
	k := keySources{apiURL: field("api_url"), apiKey: "$" + p.APIKeyEnv + ", named by " + field("api_key_env"),
		secretKey: field("secret_key_env") + ", which is not set"}
	if p.SecretKeyEnv != "" {
		k.secretKey = "$" + p.SecretKeyEnv + ", named by " + field("secret_key_env")
	}
	return k
}

// explain adds to err, when it is about one of the settings, where that
// setting was read from.
func (k keySources) explain(err error) error {
	var what, where string
	switch {
	case errors.Is(err, window.ErrAPIURL):
		what, where = "the API base URL", k.apiURL
	case errors.Is(err, window.ErrSecretKey):
		what, where = "the secret key", k.secretKey
	case errors.Is(err, window.ErrAPIKey):
		what, where = "the API key", k.apiKey
	case errors.Is(err, pii.ErrNoKey), errors.Is(err, pii.ErrShortKey), errors.Is(err, pipeline.ErrPIIKeyChanged):
		what, where = "the PII key", k.piiKey
	case errors.Is(err, fractal.ErrCredentials):
		what, where = "the client id and secret", k.client
	}
	if err == nil || where == "" {
		return err
	}
	return fmt.Errorf("%w (%s is read from %s)", err, what, where)
}
