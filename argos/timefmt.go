package argos

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// DateLayout is the API's date format for start_date, end_date and partitions.
const DateLayout = "2006-01-02"

// VendorTimeLayout renders the documented timestamp format
// YYYY-MM-DD-HH-MM-SS-ZZZ, where ZZZ is milliseconds, in UTC. Go cannot parse
// milliseconds after a '-', so parseVendorTime reads it.
const VendorTimeLayout = "2006-01-02-15-04-05.000"

// FormatVendorTime renders t as the vendor does.
func FormatVendorTime(t time.Time) string {
	s := t.UTC().Format(VendorTimeLayout)
	return s[:19] + "-" + s[20:]
}

// parseVendorTime reads YYYY-MM-DD-HH-MM-SS or YYYY-MM-DD-HH-MM-SS-ZZZ.
// It reads the digits by position rather than with time.Parse: every item
// carries several such stamps, and time.Parse was a tenth of the split.
func parseVendorTime(s string) (time.Time, bool) {
	if len(s) != 19 && len(s) != 23 {
		return time.Time{}, false
	}
	for _, i := range [...]int{4, 7, 10, 13, 16} {
		if s[i] != '-' {
			return time.Time{}, false
		}
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	ms := 0
	ok7 := true
	if len(s) == 23 {
		ms, ok7 = digits(s[20:23])
		ok7 = ok7 && s[19] == '-'
	}
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) ||
		month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, ms*int(time.Millisecond), time.UTC)
	if t.Day() != day { // the 31st of a 30-day month, say: time.Date rolls it over
		return time.Time{}, false
	}
	return t, true
}

// digits reads a run of ASCII digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// ErrBadTime is wrapped by ParseTime and ParseDate errors.
var ErrBadTime = errors.New("unrecognised time format")

// isoLayouts are the ISO 8601 shapes seen in real payloads, tried in order.
// A layout without a zone is read as UTC, the vendor's zone.
var isoLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
}

// ParseTime reads a vendor timestamp in any of the shapes the API sends: the
// documented YYYY-MM-DD-HH-MM-SS-ZZZ, ISO 8601 with or without a zone, or Unix
// epoch seconds or milliseconds. The result is in UTC.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, ok := parseVendorTime(s); ok {
		return t, nil
	}
	if len(s) >= 10 && len(s) <= 13 && isDigits(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err == nil {
			return EpochTime(n), nil
		}
	}
	for _, layout := range isoLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	if t, err := ParseDate(s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%w: %q", ErrBadTime, truncate(s, 40))
}

// ParseTimeBytes is ParseTime of text held in bytes.
func ParseTimeBytes(b []byte) (time.Time, error) { return viewing(b, ParseTime) }

// ParseDateBytes is ParseDate of text held in bytes.
func ParseDateBytes(b []byte) (time.Time, error) { return viewing(b, ParseDate) }

// viewing calls parse on a string that shares b's bytes: copying them was an
// allocation per timestamp, a third of the flattener's. A time keeps nothing
// of the text it was read from; on failure parse runs again on a copy, so
// that the error owns the text it quotes.
func viewing(b []byte, parse func(string) (time.Time, error)) (time.Time, error) {
	if t, err := parse(unsafe.String(unsafe.SliceData(b), len(b))); err == nil {
		return t, nil
	}
	return parse(string(b))
}

// EpochTime reads n as Unix seconds, or milliseconds when it is too large to
// be seconds (after the year 5138).
func EpochTime(n int64) time.Time {
	if n > 1e11 || n < -1e11 {
		return time.UnixMilli(n).UTC()
	}
	return time.Unix(n, 0).UTC()
}

// ParseDate reads a calendar date as YYYY-MM-DD, or YYYYMMDD as some older
// vendor documents show it. The result is midnight UTC.
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	layout := DateLayout
	if len(s) == 8 && isDigits(s) {
		layout = "20060102"
	}
	t, err := time.ParseInLocation(layout, s, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: want YYYY-MM-DD, got %q", ErrBadTime, truncate(s, 40))
	}
	return t, nil
}

// Day truncates t to its UTC calendar day.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
