package argos

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unsafe"

	iw "github.com/kycetl/kycetl/internal/window"
)

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
	if len(s) != 19 && len(s) != 23 || s[10] != '-' || s[13] != '-' || s[16] != '-' {
		return time.Time{}, false
	}
	day, ok := civilDay(s[:10])
	hour, ok1 := digits(s[11:13])
	minute, ok2 := digits(s[14:16])
	sec, ok3 := digits(s[17:19])
	ms := 0
	ok4 := true
	if len(s) == 23 {
		ms, ok4 = digits(s[20:23])
		ok4 = ok4 && s[19] == '-'
	}
	if !(ok && ok1 && ok2 && ok3 && ok4) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Unix(day+int64(hour*3600+minute*60+sec), int64(ms)*int64(time.Millisecond)).UTC(), true
}

// parseISOTime reads the ISO 8601 shape payloads use most,
// YYYY-MM-DDTHH:MM:SS, then an optional fraction of 1 to 9 digits, then Z or
// ±HH:MM, by position, as time.Parse would read it with RFC3339Nano
// (FuzzParseTime checks they agree). Any other shape is left to time.Parse.
func parseISOTime(s string) (time.Time, bool) {
	if len(s) < 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	day, ok := civilDay(s[:10])
	hour, ok1 := digits(s[11:13])
	minute, ok2 := digits(s[14:16])
	sec, ok3 := digits(s[17:19])
	if !(ok && ok1 && ok2 && ok3) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	rest := s[19:]
	nsec := 0
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && n <= 9 && rest[n] >= '0' && rest[n] <= '9' {
			nsec = nsec*10 + int(rest[n]-'0')
			n++
		}
		if n == 1 || n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			return time.Time{}, false // no digit, or more than nine
		}
		for i := n; i <= 9; i++ {
			nsec *= 10
		}
		rest = rest[n:]
	}
	offset := 0
	switch {
	case rest == "Z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := digits(rest[1:3])
		om, ok2 := digits(rest[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		offset = (oh*60 + om) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	return time.Unix(day+int64(hour*3600+minute*60+sec-offset), int64(nsec)).UTC(), true
}

// parseISODate reads YYYY-MM-DD by position, as time.Parse would with
// DateLayout, as midnight UTC.
func parseISODate(s string) (time.Time, bool) {
	day, ok := civilDay(s)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(day, 0).UTC(), true
}

// civilDay reads YYYY-MM-DD by position: the Unix time of that day's
// midnight UTC, and whether the day exists. It does by arithmetic what
// time.Date does with normalisation, which cost as much as the rest of
// reading a timestamp.
func civilDay(s string) (int64, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !(ok1 && ok2 && ok3) || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	// Days from 0000-03-01, so that the leap day ends a year (the civil
	// calendar algorithm of H. Hinnant); years here are 0 to 9999.
	if m <= 2 {
		y--
	}
	era := (y+400)/400 - 1 // floor(y/400) for y >= -1
	yoe := y - era*400
	doy := (153*((m+9)%12)+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097+doe-719468) * 86400, true
}

// daysIn is the number of days of month m of year y.
func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
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
	if t, ok := parseISOTime(s); ok {
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
	if t, ok := parseISODate(s); ok {
		return t, nil
	}
	t, err := iw.ParseDay(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: want YYYY-MM-DD, got %q", ErrBadTime, truncate(s, 40))
	}
	return t, nil
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
