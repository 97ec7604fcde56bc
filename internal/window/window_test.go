package window_test

import (
	"errors"
	"testing"
	"time"

	"github.com/kycetl/kycetl/internal/window"
)

func TestDates(t *testing.T) {
	at := time.Date(2025, 2, 1, 23, 30, 0, 0, time.FixedZone("", -3600))
	if got := window.FormatDate(window.Day(at)); got != "2025-02-02" {
		t.Errorf("FormatDate(Day(%v)) = %s, want the UTC day 2025-02-02", at, got)
	}
	d, err := window.ParseDate("2025-02-02")
	if err != nil || !d.Equal(window.Day(at)) || d.Location() != time.UTC {
		t.Errorf("ParseDate(2025-02-02) = %v, %v; want %v", d, err, window.Day(at))
	}
	for _, s := range []string{"20250202", "2025-02-30", " 2025-02-02", ""} {
		if _, err := window.ParseDate(s); !errors.Is(err, window.ErrBadDate) {
			t.Errorf("ParseDate(%q): %v, want ErrBadDate", s, err)
		}
	}
}

func TestNewerTieGoesToTheLater(t *testing.T) {
	at := time.Unix(1, 0)
	a, b := window.Key{UpdatedAt: at}, window.Key{UpdatedAt: at}
	if !window.Newer(a, b) || window.Newer(b, window.Key{UpdatedAt: at.Add(1)}) {
		t.Error("Newer: a tie goes to the later-seen copy, an older updated_at loses")
	}
}
