package schedules

import (
	"testing"
	"time"

	"github.com/kycetl/kycetl/internal/config"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

var (
	nightly   = config.Job{Name: "nightly", Kind: config.Nightly, Schedule: "0 2 * * *", LookbackDays: 7, MaxCatchUpDays: 30}
	reconcile = config.Job{Name: "reconcile", Kind: config.Reconcile, Schedule: "0 3 * * 0", LookbackDays: 90, MaxCatchUpDays: 30}
	hourly    = config.Job{Name: "today", Kind: config.Hourly, Schedule: "0 * * * *", LookbackDays: 0, MaxCatchUpDays: 30}
)

func TestWindow(t *testing.T) {
	for _, tc := range []struct {
		name     string
		job      config.Job
		firedAt  string
		lastOK   string // "" for none
		from, to string
	}{
		{"nightly, nothing known", nightly, "2025-03-10T02:00:00Z", "", "2025-03-03", "2025-03-10"},
		{"nightly, up to date", nightly, "2025-03-10T02:00:00Z", "2025-03-08", "2025-03-03", "2025-03-10"},
		{"nightly, last OK inside the look-back", nightly, "2025-03-10T02:00:00Z", "2025-03-04", "2025-03-03", "2025-03-10"},
		{"nightly, last OK the day before the look-back", nightly, "2025-03-10T02:00:00Z", "2025-03-02", "2025-03-03", "2025-03-10"},
		{"nightly after 10 days down", nightly, "2025-03-10T02:00:00Z", "2025-02-27", "2025-02-28", "2025-03-10"},
		{"catch-up capped at max_catchup_days", nightly, "2025-03-10T02:00:00Z", "2024-12-01", "2025-02-08", "2025-03-10"},
		{"last OK in the future changes nothing", nightly, "2025-03-10T02:00:00Z", "2025-04-01", "2025-03-03", "2025-03-10"},
		{"reconcile: look-back longer than the cap wins", reconcile, "2025-03-09T03:00:00Z", "2024-01-01", "2024-12-09", "2025-03-09"},
		{"hourly: today only", hourly, "2025-03-10T13:00:00Z", "2025-03-09", "2025-03-10", "2025-03-10"},
		{"hourly just after midnight catches yesterday", hourly, "2025-03-10T00:00:00Z", "2025-03-08", "2025-03-09", "2025-03-10"},
		{"days are UTC whatever the zone of the tick", nightly, "2025-03-10T08:30:00+09:00", "", "2025-03-02", "2025-03-09"},
		{"month and leap-year boundaries", nightly, "2024-03-01T02:00:00Z", "2024-02-20", "2024-02-21", "2024-03-01"},
	} {
		var lastOK time.Time
		if tc.lastOK != "" {
			lastOK = day(tc.lastOK)
		}
		from, to := Window(tc.job, at(tc.firedAt), lastOK)
		if !from.Equal(day(tc.from)) || !to.Equal(day(tc.to)) {
			t.Errorf("%s: Window = %s..%s, want %s..%s", tc.name, from.Format(time.DateOnly), to.Format(time.DateOnly), tc.from, tc.to)
		}
	}
}

func TestNext(t *testing.T) {
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		spec  string
		after time.Time
		want  []string
	}{
		{"0 2 * * *", at("2025-03-10T01:59:00Z"), []string{"2025-03-10T02:00:00Z", "2025-03-11T02:00:00Z", "2025-03-12T02:00:00Z"}},
		{"0 2 * * *", at("2025-03-10T02:00:00Z"), []string{"2025-03-11T02:00:00Z"}}, // strictly after
		{"0 3 * * 0", at("2025-03-10T00:00:00Z"), []string{"2025-03-16T03:00:00Z", "2025-03-23T03:00:00Z"}},
		{"@daily", at("2025-12-31T23:00:00Z"), []string{"2026-01-01T00:00:00Z"}},
		{"@every 90m", at("2025-03-10T00:00:00Z"), []string{"2025-03-10T01:30:00Z", "2025-03-10T03:00:00Z"}},
		{"0 2 29 2 *", at("2025-01-01T00:00:00Z"), []string{"2028-02-29T02:00:00Z"}},
		{"0 2 30 2 *", at("2025-01-01T00:00:00Z"), nil}, // never fires
		// The zone of `after` is the daemon's zone: 02:00 in Seoul.
		{"0 2 * * *", at("2025-03-09T16:00:00Z").In(seoul), []string{"2025-03-10T02:00:00+09:00", "2025-03-11T02:00:00+09:00"}},
		{"0 2 * * *", at("2025-03-10T00:00:00Z").In(seoul), []string{"2025-03-11T02:00:00+09:00"}}, // 09:00 in Seoul
		{"CRON_TZ=Asia/Seoul 0 2 * * *", at("2025-03-10T00:00:00Z"), []string{"2025-03-11T02:00:00+09:00"}},
		// Daylight saving: 02:30 does not exist on 2025-03-09 in New York,
		// and cron skips that day: one reason to keep schedules in UTC.
		{"30 2 * * *", at("2025-03-08T12:00:00Z").In(ny), []string{"2025-03-10T02:30:00-04:00", "2025-03-11T02:30:00-04:00"}},
	} {
		n := len(tc.want)
		if n == 0 {
			n = 3
		}
		got, err := Next(tc.spec, tc.after, n)
		if err != nil {
			t.Errorf("Next(%q): %v", tc.spec, err)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("Next(%q, %s) = %v, want %v", tc.spec, tc.after, got, tc.want)
			continue
		}
		for i := range got {
			if !got[i].Equal(at(tc.want[i])) {
				t.Errorf("Next(%q, %s)[%d] = %s, want %s", tc.spec, tc.after, i, got[i].Format(time.RFC3339), tc.want[i])
			}
		}
	}
	for _, bad := range []string{"", "0 0 2 * * *", "61 * * * *", "@fortnightly", "@every -1h", "@every 500ms", "@every"} {
		if _, err := Next(bad, time.Now(), 1); err == nil {
			t.Errorf("Next(%q): no error", bad)
		}
	}
}

func TestPrev(t *testing.T) {
	for _, tc := range []struct {
		spec, t, want string
	}{
		{"0 2 * * *", "2025-03-10T09:00:00Z", "2025-03-10T02:00:00Z"},
		{"0 2 * * *", "2025-03-10T02:00:00Z", "2025-03-10T02:00:00Z"}, // at or before
		{"0 2 * * *", "2025-03-10T01:59:59Z", "2025-03-09T02:00:00Z"},
		{"0 3 * * 0", "2025-03-15T12:00:00Z", "2025-03-09T03:00:00Z"},
		{"*/5 * * * *", "2025-03-10T10:07:30Z", "2025-03-10T10:05:00Z"},
		{"0 0 1 1 *", "2025-03-10T00:00:00Z", "2025-01-01T00:00:00Z"},
		{"0 2 29 2 *", "2025-03-10T00:00:00Z", ""}, // not within the last year
	} {
		got, err := Prev(tc.spec, at(tc.t))
		if err != nil {
			t.Errorf("Prev(%q): %v", tc.spec, err)
			continue
		}
		if tc.want == "" {
			if !got.IsZero() {
				t.Errorf("Prev(%q, %s) = %s, want none", tc.spec, tc.t, got)
			}
			continue
		}
		if !got.Equal(at(tc.want)) {
			t.Errorf("Prev(%q, %s) = %s, want %s", tc.spec, tc.t, got.Format(time.RFC3339), tc.want)
		}
	}
}

func TestCommand(t *testing.T) {
	if got := Command(nightly); got != "schedule:nightly" {
		t.Errorf("Command = %q", got)
	}
}
