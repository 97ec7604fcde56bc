package duckdb

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/load/loadtest"
	"github.com/kycetl/kycetl/sql"
	"github.com/kycetl/kycetl/transform/schema"
)

func TestPrepareIsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kyc.duckdb")
	w := openWarehouse(t, path)
	for i := 0; i < 2; i++ {
		if err := w.Prepare(ctx); err != nil {
			t.Fatalf("Prepare #%d: %v", i+1, err)
		}
	}
	db := w.DB()
	for _, tbl := range schema.All() {
		got := query(t, db, "SELECT column_name || ' ' || data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", tbl.Name)
		var want []string
		for _, c := range tbl.AllColumns() {
			typ, _ := columnType(c.Type)
			want = append(want, c.Name+" "+typ)
		}
		assertRows(t, "columns of "+tbl.Name, got, want...)
	}
	assertRows(t, "seeded rate card", query(t, db, "SELECT item, credits, valid_from, valid_to FROM credit_rates ORDER BY item"),
		"aml_screening|1|2025-02-01|NULL", "id_check|1|2025-02-01|NULL", "knowledge_check|1|2025-02-01|NULL")

	// An edited rate card survives Prepare, and so does the file.
	if _, err := db.Exec("DELETE FROM credit_rates WHERE item = 'aml_screening'"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	w = openWarehouse(t, path)
	if err := w.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	assertRows(t, "edited rate card", query(t, w.DB(), "SELECT count(*) FROM credit_rates"), "2")
}

func TestPrepareAddsMissingColumns(t *testing.T) {
	ctx := context.Background()
	w := openWarehouse(t, filepath.Join(t.TempDir(), "kyc.duckdb"))
	// A ledger made by an older kycetl, with fewer columns and a row.
	if _, err := w.DB().Exec(`CREATE TABLE load_runs (run_id VARCHAR, project VARCHAR, day DATE);
		INSERT INTO load_runs VALUES ('r1', 'acme', DATE '2025-02-01')`); err != nil {
		t.Fatal(err)
	}
	if err := w.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	got := query(t, w.DB(), "SELECT count(*) FROM information_schema.columns WHERE table_name = 'load_runs'")
	assertRows(t, "columns after Prepare", got, strconv.Itoa(len(schema.LoadRuns.AllColumns())))
	assertRows(t, "old row", query(t, w.DB(), "SELECT run_id, outcome FROM load_runs"), "r1|NULL")
}

// An earlier kycetl copied rows into tables; Prepare replaces them by the
// views of the archive, and a load lists the partitions again.
func TestPrepareReplacesCopiedTables(t *testing.T) {
	ctx := context.Background()
	w := openWarehouse(t, filepath.Join(t.TempDir(), "kyc.duckdb"))
	if _, err := w.DB().Exec(`CREATE TABLE submissions (project VARCHAR, created_date DATE, submission_id VARCHAR);
		INSERT INTO submissions VALUES ('acme', DATE '2025-02-01', 's1')`); err != nil {
		t.Fatal(err)
	}
	if err := w.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	assertRows(t, "kind of submissions", query(t, w.DB(), "SELECT table_type FROM information_schema.tables WHERE table_name = 'submissions'"), "VIEW")
	parts := partitionsOf(t, t.TempDir(), argos.Submissions, []map[string]any{submission("acme", "2025-02-01", "s1")})
	if err := w.Replace(ctx, parts); err != nil {
		t.Fatal(err)
	}
	assertRows(t, "reloaded row through the views", query(t, w.DB(), "SELECT total FROM stats_totals"), "1")
}

// TestViewColumnsAreTheContract checks that every published view has
// exactly the columns sql.Views declares (whose own test checks that they
// only grow), in order and with their types.
func TestViewColumnsAreTheContract(t *testing.T) {
	w := openPrepared(t)
	published := map[string]bool{"stats_daily": true, "stats_totals": true, "stats_status_distribution": true,
		"stats_by_country": true, "stats_by_user": true, "credit_usage_daily": true}
	types := map[string]string{
		"project": "VARCHAR", "day": "DATE", "status": "VARCHAR", "country": "VARCHAR", "userid": "VARCHAR",
		"last_submitted_at": "TIMESTAMP", "credits": "DOUBLE", "share": "DOUBLE", "approval_rate": "DOUBLE",
	}
	for _, v := range sql.Views() {
		if !published[v.Name] {
			continue
		}
		got := query(t, w.DB(), "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "+quote(v.Name)+")")
		var names []string
		for _, row := range got {
			name, typ, _ := strings.Cut(row, "|")
			names = append(names, name)
			wantType := types[name]
			switch {
			case strings.HasSuffix(name, "_ratio"):
				wantType = "DOUBLE"
			case wantType == "":
				wantType = "BIGINT"
			}
			if typ != wantType {
				t.Errorf("%s.%s is %s, want %s", v.Name, name, typ, wantType)
			}
		}
		if want := strings.Join(v.Columns, " "); strings.Join(names, " ") != want {
			t.Errorf("%s has columns\n  %s\nwant\n  %s", v.Name, strings.Join(names, " "), want)
		}
		delete(published, v.Name)
	}
	for name := range published {
		t.Errorf("view %s is missing", name)
	}
}

func submission(project, day, id string) map[string]any {
	return map[string]any{"project": project, "created_date": day, "run_id": "R", "submission_id": id,
		"kind": "id_document", "status": "approved", "created_at": day + "T10:00:00Z"}
}

func TestReplace(t *testing.T) {
	ctx := context.Background()
	w := openPrepared(t)
	dir := t.TempDir()
	sub, quar := argos.Submissions, schema.Quarantine
	day := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	p := load.Partition{Project: "acme", Day: day}
	first := load.PartitionFiles{Partition: p, Files: map[string]string{
		"submissions": loadtest.WriteFile(t, filepath.Join(dir, "1s.parquet"), sub, []map[string]any{
			submission("acme", "2025-02-01", "s1"), submission("acme", "2025-02-01", "s2")}),
		"quarantine": loadtest.WriteFile(t, filepath.Join(dir, "1q.parquet"), quar, []map[string]any{
			{"project": "acme", "created_date": "2025-02-01", "run_id": "R", "source": "page 1", "ordinal": 3, "reason": "no id", "raw": "e30="}}),
	}}
	other := load.PartitionFiles{Partition: load.Partition{Project: "acme", Day: day.AddDate(0, 0, 1)}, Files: map[string]string{
		"submissions": loadtest.WriteFile(t, filepath.Join(dir, "o.parquet"), sub, []map[string]any{submission("acme", "2025-02-02", "o1")}),
	}}
	otherProject := load.PartitionFiles{Partition: load.Partition{Project: "beta", Day: day}, Files: map[string]string{
		"submissions": loadtest.WriteFile(t, filepath.Join(dir, "b.parquet"), sub, []map[string]any{submission("beta", "2025-02-01", "b1")}),
	}}
	if err := w.Replace(ctx, []load.PartitionFiles{first, other, otherProject}); err != nil {
		t.Fatal(err)
	}
	db := w.DB()
	all := "SELECT project, created_date, submission_id FROM submissions ORDER BY ALL"
	assertRows(t, "after the first load", query(t, db, all),
		"acme|2025-02-01|s1", "acme|2025-02-01|s2", "acme|2025-02-02|o1", "beta|2025-02-01|b1")
	assertRows(t, "quarantine", query(t, db, "SELECT source, ordinal, reason, raw FROM quarantine"), "page 1|3|no id|{}")

	// Replaced by a run with one submission and an empty quarantine file:
	// the day's quarantine rows go, other partitions stay.
	second := load.PartitionFiles{Partition: p, Files: map[string]string{
		"submissions": loadtest.WriteFile(t, filepath.Join(dir, "2s.parquet"), sub, []map[string]any{submission("acme", "2025-02-01", "s3")}),
		"quarantine":  loadtest.WriteFile(t, filepath.Join(dir, "2q.parquet"), quar, nil),
	}}
	if err := w.Replace(ctx, []load.PartitionFiles{second}); err != nil {
		t.Fatal(err)
	}
	assertRows(t, "after the second load", query(t, db, all),
		"acme|2025-02-01|s3", "acme|2025-02-02|o1", "beta|2025-02-01|b1")
	assertRows(t, "quarantine after the second load", query(t, db, "SELECT count(*) FROM quarantine"), "0")

	// A day with an empty file is empty.
	empty := load.PartitionFiles{Partition: p, Files: map[string]string{
		"submissions": loadtest.WriteFile(t, filepath.Join(dir, "3s.parquet"), sub, nil),
	}}
	if err := w.Replace(ctx, []load.PartitionFiles{empty}); err != nil {
		t.Fatal(err)
	}
	assertRows(t, "after an empty load", query(t, db, "SELECT count(*) FROM submissions WHERE project = 'acme' AND created_date = DATE '2025-02-01'"), "0")
}

func TestReplaceRollsBack(t *testing.T) {
	ctx := context.Background()
	w := openPrepared(t)
	dir := t.TempDir()
	sub := argos.Submissions
	p := load.Partition{Project: "acme", Day: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)}
	good := loadtest.WriteFile(t, filepath.Join(dir, "good.parquet"), sub, []map[string]any{submission("acme", "2025-02-01", "s1")})
	if err := w.Replace(ctx, []load.PartitionFiles{{Partition: p, Files: map[string]string{"submissions": good}}}); err != nil {
		t.Fatal(err)
	}
	newer := loadtest.WriteFile(t, filepath.Join(dir, "newer.parquet"), sub, []map[string]any{submission("acme", "2025-02-01", "s2")})
	wrongDay := loadtest.WriteFile(t, filepath.Join(dir, "wrong.parquet"), sub, []map[string]any{submission("acme", "2025-02-02", "x")})
	cases := []struct {
		name  string
		files map[string]string
		kind  error    // what failed
		want  []string // what the error names
	}{
		{"missing file", map[string]string{"submissions": newer, "quarantine": filepath.Join(dir, "absent.parquet")},
			fs.ErrNotExist, []string{"quarantine", "acme", "2025-02-01", "absent.parquet"}},
		{"rows of another day", map[string]string{"submissions": wrongDay}, load.ErrStrayRows, []string{"submissions"}},
		{"unknown table", map[string]string{"submissions": newer, "nonesuch": newer}, load.ErrUnknownTable, []string{"nonesuch"}},
		{"unpartitioned table", map[string]string{"submissions": newer, "credit_rates": newer}, load.ErrUnpartitioned, []string{"credit_rates"}},
	}
	for _, c := range cases {
		err := w.Replace(ctx, []load.PartitionFiles{{Partition: p, Files: c.files}})
		if !errors.Is(err, c.kind) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.kind)
		}
		for _, s := range c.want {
			if err != nil && !strings.Contains(err.Error(), s) {
				t.Errorf("%s: error %q does not name %q", c.name, err, s)
			}
		}
		assertRows(t, c.name+": partition after the failure", query(t, w.DB(), "SELECT submission_id FROM submissions"), "s1")
	}

	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	if err := w.Replace(ctx2, []load.PartitionFiles{{Partition: p, Files: map[string]string{"submissions": newer}}}); err == nil {
		t.Error("Replace ignored a cancelled context")
	}
}

func TestTimestampsStayUTC(t *testing.T) {
	ctx := context.Background()
	w := openPrepared(t)
	row := submission("acme", "2025-02-01", "s1")
	row["created_at"] = "2025-02-01T23:59:59.123456Z"
	row["updated_at"] = "2025-02-02T00:00:00.5Z"
	parts := partitionsOf(t, t.TempDir(), argos.Submissions, []map[string]any{row})
	if err := w.Replace(ctx, parts); err != nil {
		t.Fatal(err)
	}
	// Several pooled connections, each must run in UTC.
	var conns []interface{ Close() error }
	for i := 0; i < 3; i++ {
		c, err := w.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var tz, created, updated string
		if err := c.QueryRowContext(ctx, `SELECT current_setting('TimeZone'), CAST(created_at AS VARCHAR), CAST(updated_at AS VARCHAR) FROM submissions`).
			Scan(&tz, &created, &updated); err != nil {
			t.Fatal(err)
		}
		if tz != "UTC" || created != "2025-02-01 23:59:59.123456" || updated != "2025-02-02 00:00:00.5" {
			t.Errorf("connection %d: zone %s, created_at %s, updated_at %s", i, tz, created, updated)
		}
	}
	for _, c := range conns {
		c.Close()
	}
	// A BI tool's session in another zone reads the same UTC values.
	c, err := w.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var local string
	if _, err := c.ExecContext(ctx, "SET TimeZone = 'America/New_York'"); err != nil {
		t.Fatal(err)
	}
	if err := c.QueryRowContext(ctx, "SELECT CAST(created_at AS VARCHAR) FROM submissions").Scan(&local); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecContext(ctx, "SET TimeZone = 'UTC'"); err != nil {
		t.Fatal(err)
	}
	if local != "2025-02-01 23:59:59.123456" {
		t.Errorf("in New York, created_at reads %s", local)
	}
	var created time.Time
	if err := w.DB().QueryRow("SELECT created_at FROM submissions").Scan(&created); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2025, 2, 1, 23, 59, 59, 123456000, time.UTC); !created.Equal(want) {
		t.Errorf("created_at scans as %s, want %s", created, want)
	}
}

func TestRecordRuns(t *testing.T) {
	ctx := context.Background()
	w := openPrepared(t)
	t0 := time.Date(2026, 11, 23, 11, 4, 0, 0, time.UTC)
	m := &archive.Manifest{RunID: "20261123T110400Z-abcdef", Command: "run", SchemaVersion: 1, WindowFrom: "2026-11-16", WindowTo: "2026-11-22", StartedAt: t0}
	days := []archive.DayRecord{
		{Project: "acme", Day: "2026-11-16", StartedAt: t0, FinishedAt: t0.Add(1500 * time.Millisecond), Pages: 2, APICalls: 3, Retries: 1,
			WaitSeconds: 0.25, Submissions: 40, Quarantined: 1, Rows: map[string]int64{"submissions": 40, "quarantine": 1}, Bytes: 1234,
			Coercions: []archive.Coercion{{Path: "kyc.score", Reason: "not a number", Count: 2}}, Outcome: archive.OutcomeOK},
		{Project: "acme", Day: "2026-11-17", StartedAt: t0, Outcome: archive.OutcomeFailed, Error: "fetching page 1 of 2026-11-17: 500"},
	}
	for i := 0; i < 2; i++ { // recording again replaces
		if err := w.RecordRuns(ctx, m, days); err != nil {
			t.Fatal(err)
		}
	}
	// More days than one statement takes (inChunks): each recorded once,
	// again after a second recording.
	many := make([]archive.DayRecord, 300)
	for i := range many {
		many[i] = archive.DayRecord{Project: "bulk", Day: t0.AddDate(0, 0, -i).Format(time.DateOnly), StartedAt: t0, Outcome: archive.OutcomeOK}
	}
	for i := 0; i < 2; i++ {
		if err := w.RecordRuns(ctx, m, many); err != nil {
			t.Fatal(err)
		}
	}
	assertRows(t, "bulk load_runs", query(t, w.DB(), "SELECT count(*), count(DISTINCT day) FROM load_runs WHERE project = 'bulk'"), "300|300")
	if _, err := w.DB().ExecContext(ctx, "DELETE FROM load_runs WHERE project = 'bulk'"); err != nil {
		t.Fatal(err)
	}
	got := query(t, w.DB(), `SELECT run_id, project, day, command, window_from, window_to, started_at, finished_at, duration_seconds,
		pages, api_calls, retries, wait_seconds, submissions, quarantined, rows_json, bytes, coercions_json, outcome, error
		FROM load_runs ORDER BY day`)
	assertRows(t, "load_runs", got,
		`20261123T110400Z-abcdef|acme|2026-11-16|run|2026-11-16|2026-11-22|2026-11-23T11:04:00Z|2026-11-23T11:04:01.5Z|1.5|2|3|1|0.25|40|1|{"quarantine":1,"submissions":40}|1234|[{"path":"kyc.score","reason":"not a number","count":2}]|ok|NULL`,
		`20261123T110400Z-abcdef|acme|2026-11-17|run|2026-11-16|2026-11-22|2026-11-23T11:04:00Z|NULL|NULL|0|0|0|0|0|0|{}|0|[]|failed|fetching page 1 of 2026-11-17: 500`)
}

// The views name files relative to the warehouse's directory, so a moved
// directory works again after the next Prepare.
func TestMovedDirectory(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	old := filepath.Join(root, "old")
	w, err := Open(ctx, filepath.Join(old, "kyc.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	parts := partitionsOf(t, filepath.Join(old, "parquet"), argos.Submissions, []map[string]any{submission("acme", "2025-02-01", "s1")})
	if err := w.Replace(ctx, parts); err != nil {
		t.Fatal(err)
	}
	assertRows(t, "stored path", query(t, w.DB(), "SELECT path FROM partition_files"), "parquet/submissions/acme/2025-02-01.parquet")
	w.Close()
	moved := filepath.Join(root, "moved")
	if err := os.Rename(old, moved); err != nil {
		t.Fatal(err)
	}
	w = openWarehouse(t, filepath.Join(moved, "kyc.duckdb"))
	if err := w.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	assertRows(t, "rows after the move", query(t, w.DB(), "SELECT submission_id FROM submissions"), "s1")
}

// Changes made while publishing is held reach readers of the published
// file at the last release, all at once.
func TestHoldPublishing(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kyc.duckdb")
	w := openWarehouse(t, path)
	if err := w.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	published := func() string {
		t.Helper()
		r, err := Open(ctx, path, WithReadOnly())
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		got := query(t, r.DB(), "SELECT (SELECT count(*) FROM submissions) || '/' || (SELECT count(*) FROM load_runs)")
		return got[0]
	}
	dir := t.TempDir()
	day := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	part := load.PartitionFiles{Partition: load.Partition{Project: "acme", Day: day}, Files: map[string]string{
		"submissions": loadtest.WriteFile(t, filepath.Join(dir, "s.parquet"), argos.Submissions, []map[string]any{submission("acme", "2025-02-01", "s1")}),
	}}
	m := &archive.Manifest{RunID: "20250201T000000Z-abcdef", Command: "run", SchemaVersion: 1, StartedAt: day}
	outer := w.HoldPublishing()
	inner := w.HoldPublishing()
	if err := w.Replace(ctx, []load.PartitionFiles{part}); err != nil {
		t.Fatal(err)
	}
	if err := w.RecordRuns(ctx, m, []archive.DayRecord{{Project: "acme", Day: "2025-02-01", StartedAt: day, Outcome: archive.OutcomeOK}}); err != nil {
		t.Fatal(err)
	}
	if got := published(); got != "0/0" {
		t.Fatalf("published while held: submissions/load_runs = %s, want 0/0", got)
	}
	if err := inner(ctx); err != nil {
		t.Fatal(err)
	}
	if err := inner(ctx); err != nil { // a second call of one release is a no-op
		t.Fatal(err)
	}
	if got := published(); got != "0/0" {
		t.Fatalf("published while the outer hold stands: %s, want 0/0", got)
	}
	if err := outer(ctx); err != nil {
		t.Fatal(err)
	}
	if got := published(); got != "1/1" {
		t.Fatalf("published after the last release: %s, want 1/1", got)
	}
}
