package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract/argos/synth"
	"github.com/kycetl/kycetl/internal/kyctest"
	"github.com/kycetl/kycetl/load/archive"
	"github.com/kycetl/kycetl/load/duckdb"
	"github.com/kycetl/kycetl/sql/stats"
)

// steadyWarehouse imports 60 days of project acme, up to today (UTC), into
// a new warehouse under parent: every day holds the first 55 to 60 items
// (by the day's number) of one synthetic day, re-dated to it, so that
// volume and rates are steady whatever today is, but on the days planted:
// drop keeps only the first 6 items, pending makes every rejection pending
// (the day's reviews are still going on), rejections turns every approval
// into a rejection. It returns the directory and the items as read back
// from the raw JSON.
func steadyWarehouse(t *testing.T, parent string, today time.Time, plant map[time.Time]string) (string, []kyctest.Item) {
	t.Helper()
	file, items := steadyExport(t, today, plant)
	dir := filepath.Join(parent, "wh")
	if code, _, stderr := kycetl(t, map[string]string{"KYCETL_PII_KEY": "stats-test-key-0123456789"}, "import", "--project", "acme", "--dir", dir, file); code != ExitOK {
		t.Fatalf("import: exit %d\n%s", code, stderr)
	}
	return dir, items
}

// steadyExport is the export file of steadyWarehouse, with its items.
func steadyExport(t *testing.T, today time.Time, plant map[time.Time]string) (string, []kyctest.Item) {
	t.Helper()
	ref := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	template := synth.New(7, synth.WithVolume(60, 60), synth.WithAsOf(ref.AddDate(0, 0, 40))).Day(ref)
	var b bytes.Buffer
	var items []kyctest.Item
	for d := today.AddDate(0, 0, -59); !d.After(today); d = d.AddDate(0, 0, 1) {
		n := 55 + d.YearDay()%6
		if plant[d] == "drop" {
			n = 6
		}
		shift := int(d.Sub(ref).Hours() / 24)
		for i, raw := range template[:n] {
			moved, err := kyctest.Redate(raw, shift, fmt.Sprintf("s%s-%02d", d.Format("20060102"), i))
			if err != nil {
				t.Fatal(err)
			}
			if change, ok := map[string][2]string{"pending": {"rejected", "pending"}, "rejections": {"approved", "rejected"}}[plant[d]]; ok {
				moved = withResult(t, moved, change[0], change[1])
			}
			it, err := kyctest.ParseItem(moved)
			if err != nil {
				t.Fatal(err)
			}
			items = append(items, it)
			b.Write(moved)
			b.WriteByte('\n')
		}
	}
	file := filepath.Join(t.TempDir(), "acme.ndjson")
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file, items
}

// withResult gives an item whose kyc.result is from (in any case) the
// result to.
func withResult(t *testing.T, raw []byte, from, to string) []byte {
	t.Helper()
	var item map[string]any
	if err := json.Unmarshal(raw, &item); err != nil {
		t.Fatal(err)
	}
	if kyc, ok := item["kyc"].(map[string]any); ok {
		if r, ok := kyc["result"].(string); ok && strings.EqualFold(r, from) {
			kyc["result"] = to
		}
	}
	out, err := json.Marshal(item)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// warehouseToday opens the warehouse read-only and reads its CURRENT_DATE,
// the views' today.
func warehouseToday(t *testing.T, dir string) (*duckdb.Warehouse, time.Time) {
	t.Helper()
	w, err := duckdb.Open(context.Background(), archive.Layout{Dir: dir}.DuckDBPath(), duckdb.WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	var today time.Time
	if err := w.DB().QueryRow("SELECT CURRENT_DATE").Scan(&today); err != nil {
		t.Fatal(err)
	}
	return w, today.UTC()
}

func utcToday() time.Time {
	y, m, d := time.Now().UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*max(1, math.Abs(b)) }

// compare checks that the view's rows, each shown by show, are the
// expected ones, in any order.
func compare[T any](t *testing.T, view string, got []T, want []string, show func(T) string) {
	t.Helper()
	var g []string
	for _, r := range got {
		g = append(g, show(r))
	}
	slices.Sort(g)
	slices.Sort(want)
	if !slices.Equal(g, want) {
		t.Errorf("%s: %d rows, want %d\n got  %s\n want %s", view, len(g), len(want), strings.Join(first(g, 8), "\n      "), strings.Join(first(want, 8), "\n      "))
	}
}

func first(s []string, n int) []string { return s[:min(n, len(s))] }

func round6(x float64) string { return fmt.Sprintf("%.6f", x) }

// TestAnalyticsViews computes every view of issue 19 a second way, in Go
// from the raw items, and compares it with what DuckDB's views give on the
// imported warehouse; a planted drop is the one day anomalies lists for
// volume, planted rejections the one for the rates, and a day whose
// rejections are still pending is none.
// volume.
func TestAnalyticsViews(t *testing.T) {
	today := utcToday()
	drop, spike, reviewing := today.AddDate(0, 0, -3), today.AddDate(0, 0, -5), today.AddDate(0, 0, -1)
	dir, items := steadyWarehouse(t, t.TempDir(), today, map[time.Time]string{drop: "drop", spike: "rejections", reviewing: "pending"})
	w, whToday := warehouseToday(t, dir)
	if !whToday.Equal(today) {
		t.Skipf("the UTC day changed during the test (%s, %s)", today, whToday)
	}
	ctx, db := context.Background(), stats.DuckDB.On(w.DB())
	all := stats.Range{}
	day := func(tm time.Time) string { return tm.Format("2006-01-02") }

	// stats_hourly
	hourly := map[string][5]int64{}
	for _, it := range items {
		k := fmt.Sprintf("%s %02d %d", it.Day, it.Created.Hour(), (int(it.Created.Weekday())+6)%7+1)
		c := hourly[k]
		c[0]++
		switch it.Status {
		case "approved":
			c[1]++
		case "rejected":
			c[2]++
		case "incomplete":
			c[3]++
		case "pending":
			c[4]++
		}
		hourly[k] = c
	}
	var want []string
	for k, c := range hourly {
		want = append(want, fmt.Sprintf("acme %s %v", k, c))
	}
	hours, err := stats.Hourly(ctx, db, all)
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "stats_hourly", hours, want, func(h stats.Hour) string {
		return fmt.Sprintf("%s %s %02d %d %v", h.Project, h.Day, h.Hour, h.Weekday, [5]int64{h.Total, h.Approved, h.Rejected, h.Incomplete, h.Pending})
	})

	// time_to_decision_daily
	minutes := map[string][]float64{}
	for _, it := range items {
		if (it.Status == "approved" || it.Status == "rejected") && it.ResultAt != nil {
			r := strings.ToLower(it.Reviewer)
			if r == "" {
				r = "unknown"
			}
			k := it.Day + " " + r
			minutes[k] = append(minutes[k], it.ResultAt.Truncate(time.Second).Sub(it.Created.Truncate(time.Second)).Minutes())
		}
	}
	want = nil
	for k, m := range minutes {
		want = append(want, fmt.Sprintf("acme %s %d %s %s", k, len(m), round6(kyctest.Median(m)), round6(kyctest.NearestRank(m, 0.9))))
	}
	decisions, err := stats.TimeToDecision(ctx, db, all)
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "time_to_decision_daily", decisions, want, func(d stats.DecisionTime) string {
		return fmt.Sprintf("%s %s %s %d %s %s", d.Project, d.Day, d.Reviewer, d.Decided, round6(d.MedianMinutes), round6(d.P90Minutes))
	})

	// pending_backlog
	pending := map[string]int{}
	for _, it := range items {
		if it.Status == "pending" {
			pending[it.Day]++
		}
	}
	want = nil
	for d, n := range pending {
		dt, _ := time.Parse("2006-01-02", d)
		age := int(today.Sub(dt).Hours() / 24)
		bucket := "over 30 days"
		for _, b := range []struct {
			upTo int
			name string
		}{{1, "0-1 days"}, {3, "2-3 days"}, {7, "4-7 days"}, {14, "8-14 days"}, {30, "15-30 days"}} {
			if age <= b.upTo {
				bucket = b.name
				break
			}
		}
		want = append(want, fmt.Sprintf("acme %s %d %s %d", d, age, bucket, n))
	}
	backlog, err := stats.PendingBacklog(ctx, db, all)
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "pending_backlog", backlog, want, func(p stats.PendingAge) string {
		return fmt.Sprintf("%s %s %d %s %d", p.Project, p.Day, p.AgeDays, p.AgeBucket, p.Pending)
	})

	// abandonment_funnel
	type step struct{ reached, abandoned, errors int }
	funnel := map[string]*step{}
	at := func(k string) *step {
		if funnel[k] == nil {
			funnel[k] = &step{}
		}
		return funnel[k]
	}
	for _, it := range items {
		if it.Status != "incomplete" {
			continue
		}
		if len(it.Processes) == 0 {
			at(it.Day+" -").abandoned++
			continue
		}
		seen := map[string]bool{}
		for _, p := range it.Processes {
			s := at(it.Day + " " + p.Type)
			if !seen[p.Type] {
				s.reached++
				seen[p.Type] = true
			}
			if p.Error != "" {
				s.errors++
			}
		}
		at(it.Day+" "+it.Processes[len(it.Processes)-1].Type).abandoned++
	}
	want = nil
	for k, s := range funnel {
		want = append(want, fmt.Sprintf("acme %s %d %d %d", k, s.reached, s.abandoned, s.errors))
	}
	steps, err := stats.Abandonment(ctx, db, all)
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "abandonment_funnel", steps, want, func(s stats.FunnelStep) string {
		name := "-"
		if s.Step != nil {
			name = *s.Step
		}
		return fmt.Sprintf("%s %s %s %d %d %d", s.Project, s.Day, name, s.Reached, s.Abandoned, s.Errors)
	})

	// reject_reasons_daily
	reasons := map[string]map[string]int{}
	for _, it := range items {
		if it.Status != "rejected" {
			continue
		}
		if reasons[it.Day] == nil {
			reasons[it.Day] = map[string]int{}
		}
		codes := map[string]bool{}
		for _, c := range it.Codes {
			if c != "" {
				codes[c] = true
			}
		}
		if len(codes) == 0 {
			codes["-"] = true
		}
		for c := range codes {
			reasons[it.Day][c]++
		}
	}
	want = nil
	for d, byCode := range reasons {
		for c, n := range byCode {
			rank := 1
			for _, m := range byCode {
				if m > n {
					rank++
				}
			}
			want = append(want, fmt.Sprintf("acme %s %s %d %d", d, c, n, rank))
		}
	}
	ranked, err := stats.RejectReasons(ctx, db, all)
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "reject_reasons_daily", ranked, want, func(r stats.RejectReason) string {
		name := "-"
		if r.Reason != nil {
			name = *r.Reason
		}
		return fmt.Sprintf("%s %s %s %d %d", r.Project, r.Day, name, r.Submissions, r.Rank)
	})

	// credit_forecast and credit_forecast_backtest
	credits := map[string]float64{}
	firstDay := today
	for _, it := range items {
		credits[it.Day] += it.Credits(today)
		if d, _ := time.Parse("2006-01-02", it.Day); d.Before(firstDay) {
			firstDay = d
		}
	}
	show := func(f kyctest.ForecastDay) string {
		return fmt.Sprintf("acme %s %s %s %s", f.Day, round6(f.Credits), round6(f.Low), round6(f.High))
	}
	back := kyctest.Forecast(credits, firstDay, today.AddDate(0, 0, -28), 28)
	want = nil
	var apes []float64
	for _, f := range back {
		want = append(want, show(f)+" "+round6(f.Actual))
		if f.Actual > 0 {
			apes = append(apes, math.Abs(f.Credits-f.Actual)/f.Actual)
		}
	}
	backtest, err := stats.CreditBacktest(ctx, db, all)
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "credit_forecast_backtest", backtest, want, func(b stats.Backtest) string {
		return fmt.Sprintf("%s %s %s %s %s %s", b.Project, b.Day, round6(b.Credits), round6(b.Low), round6(b.High), round6(b.Actual))
	})
	mape := 0.0
	for _, a := range apes {
		mape += a / float64(len(apes))
	}
	want = nil
	for _, f := range kyctest.Forecast(credits, firstDay, today, 30) {
		want = append(want, show(f)+" "+round6(mape))
	}
	forecast, err := stats.CreditForecast(ctx, db, all)
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "credit_forecast", forecast, want, func(f stats.Forecast) string {
		m := "NULL"
		if f.BacktestMAPE != nil {
			m = round6(*f.BacktestMAPE)
		}
		return fmt.Sprintf("%s %s %s %s %s %s", f.Project, f.Day, round6(f.Credits), round6(f.Low), round6(f.High), m)
	})
	if len(forecast) != 30 || forecast[0].Day != day(today) || forecast[29].Day != day(today.AddDate(0, 0, 29)) {
		t.Errorf("credit_forecast: %d days, want 30 from today", len(forecast))
	}

	// anomalies
	want = nil
	byMetric := map[string][]string{}
	for _, f := range kyctest.DailyFlags(items, today) {
		want = append(want, fmt.Sprintf("acme %s %s %s %s %s", f.Day, f.Metric, round6(f.Value), round6(f.Expected), round6(f.Score)))
		byMetric[f.Metric] = append(byMetric[f.Metric], f.Day)
	}
	flagged, err := stats.Anomalies(ctx, db, all)
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "anomalies", flagged, want, func(a stats.Anomaly) string {
		return fmt.Sprintf("%s %s %s %s %s %s", a.Project, a.Day, a.Metric, round6(a.Value), round6(a.Expected), round6(a.Score))
	})
	if !slices.Equal(byMetric["volume"], []string{day(drop)}) || !slices.Equal(byMetric["rejection_share"], []string{day(spike)}) ||
		!slices.Equal(byMetric["approval_rate"], []string{day(spike)}) {
		t.Errorf("anomalies %v, want volume on the planted drop (%s) and the rates on the planted rejections (%s) alone", byMetric, day(drop), day(spike))
	}
}

// TestStatusReportsAnomalies: kycetl status finds the planted drop of the
// look-back with exit 1, and nothing on the steady series.
func TestStatusReportsAnomalies(t *testing.T) {
	today := utcToday()
	drop := today.AddDate(0, 0, -2)
	dropped, _ := steadyWarehouse(t, t.TempDir(), today, map[time.Time]string{drop: "drop"})
	steady, _ := steadyWarehouse(t, t.TempDir(), today, nil)
	if utcToday() != today {
		t.Skip("the UTC day changed during the test")
	}
	code, out, stderr := kycetl(t, nil, "status", "--dir", dropped)
	want := "acme " + drop.Format("2006-01-02") + " volume: 6, expected"
	if code != ExitFailed || !strings.Contains(out, want) || !strings.Contains(out, "status: UNHEALTHY: acme: volume on "+drop.Format("2006-01-02")+" is 6") {
		t.Errorf("status with a drop on %s: exit %d, want %d and %q\n%s%s", drop.Format("2006-01-02"), code, ExitFailed, want, out, stderr)
	}
	// A day whose only load started on that very day is not over in the
	// warehouse: it is not scored.
	w, err := duckdb.Open(context.Background(), archive.Layout{Dir: dropped}.DuckDBPath())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.DB().Exec("UPDATE load_runs SET started_at = CAST(day AS TIMESTAMP) + INTERVAL 1 HOUR WHERE day = CAST($1 AS DATE)", drop.Format("2006-01-02")); err != nil {
		t.Fatal(err)
	}
	if err := w.Publish(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.Close()
	code, out, stderr = kycetl(t, nil, "status", "--dir", dropped)
	if code != ExitOK || !strings.Contains(out, "see the anomalies view):\n  none\n") {
		t.Errorf("status with the drop day loaded while it went on: exit %d, want 0 and no anomaly\n%s%s", code, out, stderr)
	}

	code, out, stderr = kycetl(t, nil, "status", "--dir", steady)
	if code != ExitOK || !strings.Contains(out, "anomalies (trailing 28-day median, |score| > 3.5; see the anomalies view):\n  none\n") {
		t.Errorf("status on a steady series: exit %d, want 0 and no anomaly\n%s%s", code, out, stderr)
	}
}
