package stats

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestReadersRange: the readers narrow a view to a project and a period,
// and read its columns in order (2025-03-02 is a Sunday: ISO weekday 7).
func TestReadersRange(t *testing.T) {
	ctx := context.Background()
	db := DuckDB.On(warehouse(t).DB())
	march1, march2 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC)
	hours, err := Hourly(ctx, db, Range{From: march2, To: march2, Project: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%+v", hours); got != "[{Project:acme Day:2025-03-02 Hour:10 Weekday:7 Total:3 Approved:1 Rejected:1 Incomplete:0 Pending:1}]" {
		t.Errorf("Hourly of acme on 2025-03-02: %s", got)
	}
	hours, err = Hourly(ctx, db, Range{To: march1})
	if err != nil {
		t.Fatal(err)
	}
	if len(hours) != 2 || hours[0].Project != "acme" || hours[1].Project != "beta" || hours[0].Weekday != 6 || hours[1].Total != 2 {
		t.Errorf("Hourly up to 2025-03-01: %+v", hours)
	}
	// The rejected submissions carry no code: one row each day, reason NULL.
	reasons, err := RejectReasons(ctx, db, Range{Project: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if len(reasons) != 2 || reasons[0].Reason != nil || reasons[0].Submissions != 1 || reasons[0].Rank != 1 || reasons[1].Day != "2025-03-02" {
		t.Errorf("RejectReasons of acme: %+v", reasons)
	}
}

// TestPeakTimesZone: stats_hourly's UTC hours are shifted to the display
// zone, weekday included (acme's 3 submissions of Sunday 2025-03-02 at
// 10:00 UTC are Sunday 02:00 in Los Angeles, Monday 00:00 in Kiritimati);
// an unknown zone or column is an error naming it.
func TestPeakTimesZone(t *testing.T) {
	ctx := context.Background()
	db := DuckDB.On(warehouse(t).DB())
	march2 := time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC)
	for tz, want := range map[string]string{
		"UTC":                 "[{Weekday:7 Hour:10 Submissions:3}]",
		"America/Los_Angeles": "[{Weekday:7 Hour:2 Submissions:3}]",
		"Pacific/Kiritimati":  "[{Weekday:1 Hour:0 Submissions:3}]",
	} {
		cells, err := PeakTimes(ctx, db, Range{From: march2, To: march2, Project: "acme"}, "total", tz)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%+v", cells); got != want {
			t.Errorf("PeakTimes in %s: %s, want %s", tz, got, want)
		}
	}
	if cells, err := PeakTimes(ctx, db, Range{From: march2, To: march2, Project: "acme"}, "approved", "UTC"); err != nil || len(cells) != 1 || cells[0].Submissions != 1 {
		t.Errorf("PeakTimes of approved: %+v, %v", cells, err)
	}
	if _, err := PeakTimes(ctx, db, Range{}, "total", "Mars/Olympus"); err == nil || !strings.Contains(err.Error(), "Mars/Olympus") {
		t.Errorf("an unknown zone: %v", err)
	}
	if _, err := PeakTimes(ctx, db, Range{}, "total; DROP", "UTC"); err == nil {
		t.Errorf("an unknown column: no error")
	}
	reasons, err := RejectReasonsRanked(ctx, db, Range{Project: "acme"})
	if err != nil || len(reasons) != 1 || reasons[0].Reason != nil || reasons[0].Submissions != 2 || reasons[0].Rank != 1 {
		t.Errorf("RejectReasonsRanked of acme: %+v, %v", reasons, err)
	}
	for _, read := range []func() error{
		func() error { _, err := BacklogByAge(ctx, db, Range{}); return err },
		func() error { _, err := AbandonmentSteps(ctx, db, Range{}); return err },
		func() error { _, err := FractalStatusDaily(ctx, db, Range{}); return err },
		func() error { _, err := FractalCountryLatest(ctx, db, Range{}); return err },
		func() error { _, err := FractalChangesDaily(ctx, db, Range{}); return err },
	} {
		if err := read(); err != nil {
			t.Error(err)
		}
	}
}
