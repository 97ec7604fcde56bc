package stats

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestQueryOverview reads the overview of the handcrafted warehouse (see
// warehouse): the days over both projects (s1 of acme and s1 of beta are
// two submissions), the status distribution of every status, each
// project's totals.
func TestQueryOverview(t *testing.T) {
	ctx := context.Background()
	db := DuckDB.On(warehouse(t).DB())
	row := func(d Day) string {
		return fmt.Sprintf("%s %s total=%d approved=%d rejected=%d incomplete=%d pending=%d aml=%d credits=%s rate=%s",
			d.Project, d.Day, d.Total, d.Approved, d.Rejected, d.Incomplete, d.Pending, d.AMLCount, formatFloat(d.Credits), Percent(d.ApprovalRate))
	}
	rows := func(ds []Day) string {
		var out []string
		for _, d := range ds {
			out = append(out, row(d))
		}
		return strings.Join(out, "\n")
	}
	shares := func(ss []Share) string {
		var out []string
		for _, s := range ss {
			out = append(out, fmt.Sprintf("%s=%d/%s", s.Status, s.Submissions, Percent(s.Share)))
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		name                  string
		f                     Filter
		daily, projects, dist string
	}{
		{"everything", Filter{},
			" 2025-03-01 total=6 approved=3 rejected=2 incomplete=1 pending=0 aml=3 credits=8 rate=60.0%\n" +
				" 2025-03-02 total=3 approved=1 rejected=1 incomplete=0 pending=1 aml=1 credits=4 rate=50.0%",
			"acme  total=7 approved=3 rejected=2 incomplete=1 pending=1 aml=3 credits=9 rate=60.0%\n" +
				"beta  total=2 approved=1 rejected=1 incomplete=0 pending=0 aml=1 credits=3 rate=50.0%",
			"approved=4/44.4% rejected=3/33.3% incomplete=1/11.1% pending=1/11.1%"},
		{"approved, by credits", Filter{Status: "approved", ByCredits: true},
			" 2025-03-01 total=3 approved=3 rejected=0 incomplete=0 pending=0 aml=2 credits=5 rate=60.0%\n" +
				" 2025-03-02 total=1 approved=1 rejected=0 incomplete=0 pending=0 aml=0 credits=1 rate=50.0%",
			"acme  total=3 approved=3 rejected=0 incomplete=0 pending=0 aml=1 credits=4 rate=60.0%\n" +
				"beta  total=1 approved=1 rejected=0 incomplete=0 pending=0 aml=1 credits=2 rate=50.0%",
			"approved=4/44.4% rejected=3/33.3% incomplete=1/11.1% pending=1/11.1%"},
		{"acme on 2025-03-02", Filter{Project: "acme", From: time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC)},
			" 2025-03-02 total=3 approved=1 rejected=1 incomplete=0 pending=1 aml=1 credits=4 rate=50.0%",
			"acme  total=3 approved=1 rejected=1 incomplete=0 pending=1 aml=1 credits=4 rate=50.0%",
			"approved=1/33.3% rejected=1/33.3% pending=1/33.3%"},
	} {
		o, err := QueryOverview(ctx, db, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		if got := rows(o.Daily); got != tc.daily {
			t.Errorf("%s: daily\n%s\nwant\n%s", tc.name, got, tc.daily)
		}
		if got := rows(o.Projects); got != tc.projects {
			t.Errorf("%s: projects\n%s\nwant\n%s", tc.name, got, tc.projects)
		}
		if got := shares(o.Distribution); got != tc.dist {
			t.Errorf("%s: distribution %s, want %s", tc.name, got, tc.dist)
		}
		if strings.Join(o.Known, ",") != "acme,beta" {
			t.Errorf("%s: known projects %v", tc.name, o.Known)
		}
		page, err := Query(ctx, db, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		if row(Day{Indicators: page.Cards}) != row(Day{Indicators: o.Cards}) || rows(page.Days) != rows(o.Days) {
			t.Errorf("%s: the overview's cards and days are not Query's", tc.name)
		}
	}
	var unknown *UnknownProjectError
	if _, err := QueryOverview(ctx, db, Filter{Project: "gamma"}); !errors.As(err, &unknown) {
		t.Errorf("an unknown project: %v", err)
	}
}

// TestRequestFilter reads the filter bar from text, and names the field
// that is wrong.
func TestRequestFilter(t *testing.T) {
	now := time.Date(2025, 3, 15, 18, 0, 0, 0, time.UTC)
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	for _, tc := range []struct {
		r     Request
		want  Filter
		field string
	}{
		{Request{}, Filter{}, ""},
		{Request{Period: "7d", Status: "Rejected", Project: "acme", Sort: "credits"},
			Filter{From: day("2025-03-09"), To: day("2025-03-15"), Status: "rejected", Project: "acme", ByCredits: true}, ""},
		{Request{From: "20250201", To: "2025-02-28", Sort: "day"}, Filter{From: day("2025-02-01"), To: day("2025-02-28")}, ""},
		{Request{From: "2025-02-30"}, Filter{}, "from"},
		{Request{To: "yesterday"}, Filter{}, "to"},
		{Request{From: "2025-03-02", To: "2025-03-01"}, Filter{}, "to"},
		{Request{Period: "2w"}, Filter{}, "period"},
		{Request{Period: "7d", To: "2025-03-01"}, Filter{}, "period"},
		{Request{Status: "lost"}, Filter{}, "status"},
		{Request{Sort: "size"}, Filter{}, "sort"},
	} {
		got, err := tc.r.Filter(now)
		var fe *FieldError
		switch {
		case tc.field != "":
			if !errors.As(err, &fe) || fe.Field != tc.field || !strings.HasPrefix(err.Error(), tc.field+": ") {
				t.Errorf("%+v: %v; want an error on %s", tc.r, err, tc.field)
			}
		case err != nil:
			t.Errorf("%+v: %v", tc.r, err)
		case got != tc.want:
			t.Errorf("%+v: %+v, want %+v", tc.r, got, tc.want)
		}
	}
}
