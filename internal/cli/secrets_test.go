package cli

import (
	"bytes"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/rs/zerolog"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/extract/argos/sandbox"
	"github.com/kycetl/kycetl/extract/argos/synth"
	fractalsandbox "github.com/kycetl/kycetl/extract/fractal/sandbox"
)

// auditedSecrets are distinctive secrets, each given where kycetl takes
// it; none may appear in a file, a log line or an error.
type auditedSecrets struct {
	apiKey, secretKey, piiKey, fractalSecret string
	identity                                 *age.X25519Identity
}

func (s auditedSecrets) all() map[string]string {
	return map[string]string{
		"ARGOS_API_KEY":         s.apiKey,
		"ARGOS_SECRET_KEY":      s.secretKey,
		"KYCETL_PII_KEY":        s.piiKey,
		"FRACTAL_CLIENT_SECRET": s.fractalSecret,
		"age identity":          s.identity.String(),
		"age identity (body)":   strings.TrimPrefix(s.identity.String(), "AGE-SECRET-KEY-1"),
	}
}

// audit fails the test for every secret found in text (what names it)
// or in any file under dir.
func (s auditedSecrets) audit(t *testing.T, what, text string, dirs ...string) {
	t.Helper()
	for name, secret := range s.all() {
		if strings.Contains(strings.ToUpper(text), strings.ToUpper(secret)) {
			t.Errorf("%s holds %s", what, name)
		}
	}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for name, secret := range s.all() {
				if bytes.Contains(bytes.ToUpper(b), []byte(strings.ToUpper(secret))) {
					t.Errorf("%s holds %s", path, name)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestSecretsAudit runs the demo, a sandbox run with secure transfer
// (and one with a wrong key, for its error), an encrypted rebuild and the
// daemon with distinctive secrets, at debug level, and searches every file
// under their directories, every log line and every error for them.
func TestSecretsAudit(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	s := auditedSecrets{apiKey: "AUDIT-API-KEY-7f3a9c51e2", secretKey: "AUDIT-SECRET-KEY-0b8d44e6a1", piiKey: "AUDIT-PII-KEY-5c2e19f07d",
		fractalSecret: "AUDIT-FRACTAL-SECRET-9e1c07b3d2", identity: id}
	keys := t.TempDir()
	idFile := filepath.Join(keys, "archive.key")
	if err := os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	recipients := id.Recipient().String()

	// The demo.
	demoDir := filepath.Join(t.TempDir(), "demo")
	vars := map[string]string{"KYCETL_PII_KEY": s.piiKey, envArchiveRecipients: recipients}
	code, out, stderr := kycetl(t, vars, "--log-level", "debug", "demo", "--days", "3", "--dir", demoDir)
	if code != ExitOK {
		t.Fatalf("demo: exit %d\n%s", code, stderr)
	}
	s.audit(t, "the demo's output", out+stderr, demoDir)

	// A sandbox run with secure transfer, an encrypted rebuild, and a run
	// with a wrong API key (its error).
	now := time.Now().UTC()
	srv := httptest.NewServer(sandbox.New(synth.New(4, synth.WithVolume(5, 10), synth.WithAsOf(now)),
		sandbox.WithAPIKey(s.apiKey), sandbox.WithSecureTransfer(s.secretKey)))
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "wh")
	vars = map[string]string{"ARGOS_API_URL": srv.URL, "ARGOS_API_KEY": s.apiKey, "ARGOS_SECRET_KEY": s.secretKey, "KYCETL_PII_KEY": s.piiKey,
		envArchiveRecipients: recipients, envArchiveIdentity: idFile}
	from, to := argos.FormatDate(now.AddDate(0, 0, -3)), argos.FormatDate(now.AddDate(0, 0, -2))
	code, out, stderr = kycetl(t, vars, "--log-level", "debug", "run", "--project", "acme", "--dir", dir, "--from", from, "--to", to)
	if code != ExitOK {
		t.Fatalf("secure run: exit %d\n%s", code, stderr)
	}
	s.audit(t, "the secure run's output", out+stderr)
	code, out, stderr = kycetl(t, vars, "--log-level", "debug", "rebuild", "--dir", dir)
	if code != ExitOK {
		t.Fatalf("rebuild: exit %d\n%s", code, stderr)
	}
	s.audit(t, "the rebuild's output", out+stderr)
	wrong := map[string]string{"ARGOS_API_URL": srv.URL, "ARGOS_API_KEY": s.apiKey + "-WRONG", "ARGOS_SECRET_KEY": s.secretKey, "KYCETL_PII_KEY": s.piiKey}
	code, out, stderr = kycetl(t, wrong, "--log-level", "debug", "run", "--project", "acme", "--dir", dir, "--from", from, "--to", to)
	if code == ExitOK {
		t.Error("a run with a wrong API key succeeded")
	}
	s.audit(t, "the refused run's output", out+stderr)

	// The daemon, one scheduled run.
	getenv := func(k string) string { return vars[k] }
	logs, err := runDaemonOnce(t, dir, srv.URL, "secret_key_env: ARGOS_SECRET_KEY", "archive:\n  recipients: ["+recipients+"]\n", getenv, zerolog.DebugLevel)
	if err != nil {
		t.Errorf("the daemon's run: %v", err)
		s.audit(t, "the daemon's error", err.Error())
	}
	s.audit(t, "the daemon's log", logs, dir)

	// A Fractal pull, and one with a wrong secret (its error), at debug level.
	at := now
	fsrv := fractalsandbox.New(fractalsandbox.WithClient("audit-client", s.fractalSecret), fractalsandbox.WithClock(func() time.Time { return at }))
	furl, err := fsrv.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer fsrv.Close()
	fvars := map[string]string{"FRACTAL_CLIENT_ID": "audit-client", "FRACTAL_CLIENT_SECRET": s.fractalSecret, "FRACTAL_AUTH_URL": furl,
		"FRACTAL_RESOURCE_URL": furl, "KYCETL_PII_KEY": s.piiKey, envArchiveRecipients: recipients}
	code, out, stderr = cli(t, now, fvars, "--log-level", "debug", "fractal", "--dir", dir)
	if code != ExitOK {
		t.Fatalf("fractal: exit %d\n%s", code, stderr)
	}
	s.audit(t, "the Fractal pull's output", out+stderr, dir)
	fvars["FRACTAL_CLIENT_SECRET"] = s.fractalSecret + "-WRONG"
	if code, out, stderr = cli(t, now, fvars, "--log-level", "debug", "fractal", "--dir", dir); code == ExitOK {
		t.Error("a Fractal pull with a wrong secret succeeded")
	}
	s.audit(t, "the refused Fractal pull's output", out+stderr)
}
