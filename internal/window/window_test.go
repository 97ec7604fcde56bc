package window_test

import (
	"errors"
	"strings"
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

// TestParseDay: a typed day may be YYYYMMDD or carry spaces; anything else
// is a *DayError of kind ErrBadDate, whose text the commands print as the
// ARGOS parser spelled it.
func TestParseDay(t *testing.T) {
	want := time.Date(2025, 2, 2, 0, 0, 0, 0, time.UTC)
	for _, s := range []string{"2025-02-02", "20250202", " 2025-02-02\n"} {
		if d, err := window.ParseDay(s); err != nil || !d.Equal(want) || d.Location() != time.UTC {
			t.Errorf("ParseDay(%q) = %v, %v; want %v", s, d, err, want)
		}
	}
	for s, text := range map[string]string{
		"2025-02-30":                  `unrecognised time format: want YYYY-MM-DD, got "2025-02-30"`,
		"02/02/2025":                  `unrecognised time format: want YYYY-MM-DD, got "02/02/2025"`,
		"":                            `unrecognised time format: want YYYY-MM-DD, got ""`,
		"x" + strings.Repeat("1", 40): `unrecognised time format: want YYYY-MM-DD, got "x` + strings.Repeat("1", 39) + `…"`,
	} {
		_, err := window.ParseDay(s)
		var de *window.DayError
		if !errors.Is(err, window.ErrBadDate) || !errors.As(err, &de) {
			t.Errorf("ParseDay(%q): %v, want a *DayError of kind ErrBadDate", s, err)
		} else if got := err.Error(); got != text {
			t.Errorf("ParseDay(%q): %q, want %q", s, got, text)
		}
	}
}
