package cli

import (
	"bytes"
	gosql "database/sql"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"

	"github.com/kycetl/kycetl/extract/argos/synth"
	"github.com/kycetl/kycetl/load/archive"
)

// canaries are PII values planted in an export: two in hashed fields of a
// submission, one in an item that cannot be read (quarantined).
var canaries = []string{"CANARY-SSN-31337", "CANARY-PHONE-27182", "CANARY-QUARANTINE-SSN-4242"}

// canaryExport is synthetic submissions of three days and the planted items.
func canaryExport(t *testing.T) string {
	t.Helper()
	from := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	if _, err := synth.New(11, synth.WithVolume(5, 10), synth.WithAsOf(from.AddDate(0, 0, 30))).WriteNDJSON(&b, from, from.AddDate(0, 0, 2)); err != nil {
		t.Fatal(err)
	}
	b.WriteString(`{"submission_id":"canary-1","created_at":"2025-03-02T10:00:00Z","updated_at":"2025-03-02T10:00:00Z","data":{"ssnNumber":"` + canaries[0] +
		`","phoneNumber":"` + canaries[1] + `","name":"x"},"kyc":{"result":"approved"}}` + "\n")
	b.WriteString(`{"submission_id":"canary-2","created_at":"2025-03-02T11:00:00Z","data":{"ssnNumber":"` + canaries[2] + `"}` + "\n")
	file := filepath.Join(t.TempDir(), "export.ndjson")
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// findCanaries returns the canaries found in any byte of any file under
// dir, in zstd streams decompressed, and in any Parquet row read back by
// DuckDB.
func findCanaries(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
			dec, _ := zstd.NewReader(nil)
			if plain, err := dec.DecodeAll(b, nil); err == nil {
				b = append(b, plain...)
			}
			dec.Close()
		}
		for _, c := range canaries {
			if bytes.Contains(b, []byte(c)) {
				found = append(found, c+" in "+path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db, err := gosql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	glob := strings.ReplaceAll(filepath.Join(dir, "parquet", "*", "*", "*", "*.parquet"), "'", "''")
	for _, c := range canaries {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM read_parquet('" + glob + "', union_by_name = true) t WHERE CAST(t AS VARCHAR) LIKE '%" + c + "%'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			found = append(found, c+" in a Parquet row")
		}
	}
	return found
}

// TestArchiveEncryptedAtRest imports submissions into an archive encrypted
// to an age recipient: no planted PII value is in any byte under the
// directory; verify passes without the key; raw cat and rebuild read it
// with the identity, and the rebuilt warehouse gives the same statistics;
// without the identity, or with another, rebuild fails naming the variable
// and writes nothing.
func TestArchiveEncryptedAtRest(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	other, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	keys := t.TempDir()
	idFile, otherFile := filepath.Join(keys, "archive.key"), filepath.Join(keys, "other.key")
	if err := os.WriteFile(idFile, []byte("# created: test\n"+id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(otherFile, []byte(other.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "wh")
	pii := "encryption-test-pii-key"
	vars := map[string]string{"KYCETL_PII_KEY": pii, envArchiveRecipients: id.Recipient().String()}
	code, _, stderr := kycetl(t, vars, "import", "--project", "acme", "--dir", dir, canaryExport(t))
	if code != ExitOK {
		t.Fatalf("import: exit %d\n%s", code, stderr)
	}
	if strings.Contains(stderr, "not encrypted") {
		t.Errorf("an encrypted import says the archive is not encrypted:\n%s", stderr)
	}
	if found := findCanaries(t, dir); len(found) > 0 {
		t.Errorf("raw PII values in the encrypted archive: %v", found)
	}
	raws, _ := filepath.Glob(filepath.Join(dir, "raw", "argos", "project=acme", "*", "*.ndjson.zst"))
	if len(raws) != 3 {
		t.Fatalf("raw files %v, want 3", raws)
	}
	for _, r := range raws {
		if enc, err := archive.IsEncrypted(r); err != nil || !enc {
			t.Errorf("%s is not encrypted (%v)", r, err)
		}
	}
	if code, out, stderr := kycetl(t, nil, "verify", "--dir", dir); code != ExitOK {
		t.Errorf("verify without the key: exit %d\n%s%s", code, out, stderr)
	}
	_, statsBefore, _ := kycetl(t, nil, "stats", "--dir", dir, "--format", "csv")

	// raw cat: the day's exact items with the identity; none without.
	code, items, stderr := kycetl(t, map[string]string{envArchiveIdentity: idFile}, "raw", "cat", "--dir", dir, "--project", "acme", "--day", "2025-03-02")
	if code != ExitOK || !strings.Contains(items, canaries[0]) || !strings.Contains(items, canaries[2]) {
		t.Errorf("raw cat with the identity: exit %d, canaries missing\n%s", code, stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(items), "\n") {
		if !json.Valid([]byte(line)) && !strings.Contains(line, canaries[2]) {
			t.Errorf("raw cat printed %q", line)
		}
	}
	if code, out, stderr := kycetl(t, nil, "raw", "cat", "--dir", dir, "--project", "acme", "--day", "2025-03-02"); code == ExitOK || out != "" || !strings.Contains(stderr, envArchiveIdentity) {
		t.Errorf("raw cat without the identity: exit %d, stdout %q, stderr %q; want a failure naming %s", code, out, stderr, envArchiveIdentity)
	}

	// rebuild without the identity, or with another: fails, writes nothing.
	before := tree(t, dir)
	for name, v := range map[string]map[string]string{"without the identity": {"KYCETL_PII_KEY": pii}, "with another identity": {"KYCETL_PII_KEY": pii, envArchiveIdentity: otherFile}} {
		code, _, stderr := kycetl(t, v, "rebuild", "--dir", dir)
		if code == ExitOK || !strings.Contains(stderr, envArchiveIdentity) {
			t.Errorf("rebuild %s: exit %d, stderr %q; want a failure naming %s", name, code, stderr, envArchiveIdentity)
		}
		if after := tree(t, dir); after != before {
			t.Errorf("rebuild %s wrote:\nbefore\n%s\nafter\n%s", name, before, after)
		}
	}

	// rebuild with it: the same warehouse.
	v := map[string]string{"KYCETL_PII_KEY": pii, envArchiveIdentity: idFile, envArchiveRecipients: id.Recipient().String()}
	if code, _, stderr := kycetl(t, v, "rebuild", "--dir", dir); code != ExitOK {
		t.Fatalf("rebuild with the identity: exit %d\n%s", code, stderr)
	}
	if _, statsAfter, _ := kycetl(t, nil, "stats", "--dir", dir, "--format", "csv"); statsAfter != statsBefore || statsAfter == "" {
		t.Errorf("stats after rebuild:\n%s\nbefore:\n%s", statsAfter, statsBefore)
	}
	if got := queryInt(t, dir, "SELECT count(*) FROM submissions WHERE submission_id = 'canary-1'"); got != 1 {
		t.Errorf("after rebuild: %d rows of the planted submission, want 1", got)
	}
	if got := queryInt(t, dir, "SELECT count(*) FROM quarantine"); got != 1 {
		t.Errorf("after rebuild: %d quarantined items, want 1", got)
	}
	if found := findCanaries(t, dir); len(found) > 0 {
		t.Errorf("raw PII values in the archive after rebuild: %v", found)
	}
}

// TestPlainArchiveSaysSo: without recipients, a load says once that the raw
// archive is not encrypted, and it is not.
func TestPlainArchiveSaysSo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wh")
	code, _, stderr := kycetl(t, map[string]string{"KYCETL_PII_KEY": "plain-test-pii-key"}, "import", "--project", "acme", "--dir", dir, canaryExport(t))
	if code != ExitOK {
		t.Fatalf("import: exit %d\n%s", code, stderr)
	}
	if n := strings.Count(stderr, "the raw archive is not encrypted"); n != 1 {
		t.Errorf("the warning is said %d times, want once:\n%s", n, stderr)
	}
	if found := findCanaries(t, dir); len(found) == 0 {
		t.Error("no planted value found in a plain archive: the search finds nothing")
	}
}
