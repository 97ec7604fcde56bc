package stats

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestReadersRange: the readers narrow a view to a project and a period,
// and read its columns in order (2025-03-02 is a Sunday: ISO weekday 7).
func TestReadersRange(t *testing.T) {
	ctx := context.Background()
	db := warehouse(t).DB()
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
