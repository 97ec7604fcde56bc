package stats

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/load"
	"github.com/kycetl/kycetl/load/duckdb"
	"github.com/kycetl/kycetl/load/loadtest"
)

// warehouse loads handcrafted submissions into a real DuckDB warehouse.
// By the default rate card a check that reached a result costs 1 and an
// AML screening 1 more. Both projects have a submission s1: two
// submissions, not one.
//
//	acme 2025-03-01  s1 approved AML (2)  s2 approved (1)  s3 rejected AML (2)  s4 incomplete (0)
//	acme 2025-03-02  s5 approved (1)  s6 pending AML (2)  s7 rejected (1)
//	beta 2025-03-01  s1 approved AML (2)  x2 rejected (1)
func warehouse(t *testing.T) *duckdb.Warehouse {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	w, err := duckdb.Open(ctx, filepath.Join(dir, "kyc.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	if err := w.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	sub := func(id, status string, aml bool) map[string]any {
		return map[string]any{"submission_id": id, "kind": "id_document", "status": status, "has_aml": aml}
	}
	parts := map[string][]map[string]any{
		"acme/2025-03-01": {sub("s1", "approved", true), sub("s2", "approved", false), sub("s3", "rejected", true), sub("s4", "incomplete", false)},
		"acme/2025-03-02": {sub("s5", "approved", false), sub("s6", "pending", true), sub("s7", "rejected", false)},
		"beta/2025-03-01": {sub("s1", "approved", true), sub("x2", "rejected", false)},
	}
	var files []load.PartitionFiles
	for key, rows := range parts {
		project, day, _ := strings.Cut(key, "/")
		d, err := argos.ParseDate(day)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			r["project"], r["created_date"], r["run_id"], r["created_at"] = project, day, "R", day+"T10:00:00Z"
		}
		path := loadtest.WriteFile(t, filepath.Join(dir, "parquet", project, day+".parquet"), argos.Submissions, rows)
		files = append(files, load.PartitionFiles{Partition: load.Partition{Project: project, Day: d}, Files: map[string]string{"submissions": path}})
	}
	if err := w.Replace(ctx, files); err != nil {
		t.Fatal(err)
	}
	return w
}

func formatFloat(f float64) string { return number(&f, false) }

func TestQuery(t *testing.T) {
	ctx := context.Background()
	db := DuckDB.On(warehouse(t).DB())
	march1 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		f     Filter
		cards Cards
		// the days: project day total approved rejected aml_count credits approved_ratio approval_rate
		days []string
	}{
		{"everything", Filter{},
			Cards{Total: 9, Approved: 4, Rejected: 3, Incomplete: 1, Pending: 1, AMLCount: 4, Credits: 12},
			[]string{"acme 2025-03-01 4 2 1 2 5 0.5 0.6666666666666666", "acme 2025-03-02 3 1 1 1 4 0.3333333333333333 0.5",
				"beta 2025-03-01 2 1 1 1 3 0.5 0.5"}},
		{"approved", Filter{Status: argos.StatusApproved},
			Cards{Total: 4, Approved: 4, AMLCount: 2, Credits: 6},
			[]string{"acme 2025-03-01 2 2 0 1 3 0.5 0.6666666666666666", "acme 2025-03-02 1 1 0 0 1 0.3333333333333333 0.5",
				"beta 2025-03-01 1 1 0 1 2 0.5 0.5"}},
		{"beta rejected", Filter{Project: "beta", Status: argos.StatusRejected},
			Cards{Total: 1, Rejected: 1, Credits: 1},
			[]string{"beta 2025-03-01 1 0 1 0 1 0.5 0.5"}},
		{"one day by credits", Filter{From: march1, To: march1, ByCredits: true},
			Cards{Total: 6, Approved: 3, Rejected: 2, Incomplete: 1, AMLCount: 3, Credits: 8},
			[]string{"acme 2025-03-01 4 2 1 2 5 0.5 0.6666666666666666", "beta 2025-03-01 2 1 1 1 3 0.5 0.5"}},
		{"pending of a day without", Filter{From: march1, To: march1, Status: argos.StatusPending},
			Cards{},
			[]string{"acme 2025-03-01 0 0 0 0 0 0.5 0.6666666666666666", "beta 2025-03-01 0 0 0 0 0 0.5 0.5"}},
	} {
		p, err := Query(ctx, db, tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := p.Cards
		got.ApprovedRatio, got.RejectedRatio, got.IncompleteRatio, got.PendingRatio, got.ApprovalRate = nil, nil, nil, nil, nil
		if got != tc.cards {
			t.Errorf("%s: cards %+v, want %+v", tc.name, got, tc.cards)
		}
		var days []string
		for _, d := range p.Days {
			days = append(days, strings.Join([]string{d.Project, d.Day, formatInt(d.Total), formatInt(d.Approved), formatInt(d.Rejected),
				formatInt(d.AMLCount), formatFloat(d.Credits), number(d.ApprovedRatio, false), number(d.ApprovalRate, false)}, " "))
		}
		if strings.Join(days, "\n") != strings.Join(tc.days, "\n") {
			t.Errorf("%s: days\n  %s\nwant\n  %s", tc.name, strings.Join(days, "\n  "), strings.Join(tc.days, "\n  "))
		}
	}
	// The ratios of the cards are those of all submissions selected.
	p, err := Query(ctx, db, Filter{Status: argos.StatusApproved})
	if err != nil {
		t.Fatal(err)
	}
	if r, a := number(p.Cards.ApprovedRatio, false), number(p.Cards.ApprovalRate, false); r != "0.4444444444444444" || a != "0.5714285714285714" {
		t.Errorf("cards with --status approved: approved_ratio %s, approval_rate %s; want 4/9 and 4/7", r, a)
	}
}

func formatInt(n int64) string { f := float64(n); return number(&f, false) }

func TestQueryUnknownProject(t *testing.T) {
	_, err := Query(context.Background(), DuckDB.On(warehouse(t).DB()), Filter{Project: "nosuch"})
	var unknown *UnknownProjectError
	if !errors.As(err, &unknown) || strings.Join(unknown.Known, ",") != "acme,beta" {
		t.Fatalf("Query of project nosuch: %v, want an *UnknownProjectError knowing acme and beta", err)
	}
}

func TestPrint(t *testing.T) {
	half, third := 0.5, 1.0/3
	p := &Page{Status: argos.StatusApproved, Cards: Cards{Total: 3, Approved: 3, AMLCount: 1, Credits: 4, ApprovedRatio: &third, ApprovalRate: &half},
		Days: []Day{{Project: "acme", Day: "2025-03-01", Indicators: Indicators{Total: 3, Approved: 3, AMLCount: 1, ApprovedRatio: &third, ApprovalRate: &half, Credits: 4}}}}
	for format, want := range map[string]string{
		"csv":   "project,day,approved,approved_ratio,aml_count,credits\nacme,2025-03-01,3,0.3333333333333333,1,4\n",
		"table": "Status approved: 3 submissions (33.3% of all) | AML 1 | Credits 4 | Approval rate 50.0% (all statuses)\n",
	} {
		var b bytes.Buffer
		if err := Print(&b, format, p); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(b.String(), want) {
			t.Errorf("%s:\n%s\nwant it to begin\n%s", format, b.String(), want)
		}
	}
}

func TestPeriod(t *testing.T) {
	now := time.Date(2025, 3, 3, 23, 59, 59, 0, time.FixedZone("UTC-5", -5*3600)) // 2025-03-04 04:59:59 UTC
	for name, want := range map[string]string{
		"7d": "2025-02-26..2025-03-04", "30d": "2025-02-03..2025-03-04", "90d": "2024-12-05..2025-03-04", "month": "2025-03-01..2025-03-04",
		"all": "..2025-03-04",
	} {
		from, to, err := Period(name, now)
		got := argos.FormatDate(to)
		if !from.IsZero() {
			got = argos.FormatDate(from) + ".." + got
		} else {
			got = ".." + got
		}
		if err != nil || got != want {
			t.Errorf("Period(%s): %s, %v; want %s", name, got, err, want)
		}
	}
	for _, name := range []string{"", "7", "1w", "month ", "7D"} {
		if _, _, err := Period(name, now); !errors.Is(err, ErrUnknownPeriod) {
			t.Errorf("Period(%q): %v, want ErrUnknownPeriod", name, err)
		}
	}
}

// TestIndicatorsJSONNames: the ratios keep their JSON names, which the
// dashboards and --format json readers use.
func TestIndicatorsJSONNames(t *testing.T) {
	r := 0.25
	b, err := json.Marshal(Indicators{ApprovedRatio: &r, RejectedRatio: &r, IncompleteRatio: &r, PendingRatio: &r, ApprovalRate: &r})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"approved_ratio", "rejected_ratio", "incomplete_ratio", "pending_ratio", "approval_rate"} {
		if got[name] != r {
			t.Errorf("%s = %v in %s, want %v", name, got[name], b, r)
		}
	}
}
