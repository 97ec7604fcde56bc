package argos

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/valyala/fastjson"
)

func TestParseTime(t *testing.T) {
	want := time.Date(2025, 2, 1, 7, 5, 9, 123e6, time.UTC)
	for in, exp := range map[string]time.Time{
		"2025-02-01-07-05-09-123":       want,
		"2025-02-01-07-05-09":           want.Truncate(time.Second),
		"2025-02-01T07:05:09.123Z":      want,
		"2025-02-01T16:05:09.123+09:00": want,
		"2025-02-01T07:05:09.123":       want,
		"2025-02-01 07:05:09.123":       want,
		"1738393509123":                 want,
		"1738393509":                    want.Truncate(time.Second),
		"2025-02-01":                    time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC),
		" 2025-02-01T07:05:09.123Z ":    want,
	} {
		got, err := ParseTime(in)
		if err != nil || !got.Equal(exp) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, exp)
		}
		if b, berr := ParseTimeBytes([]byte(in)); berr != nil || !b.Equal(got) {
			t.Errorf("ParseTimeBytes(%q) = %v, %v; ParseTime says %v", in, b, berr, got)
		}
	}
	for _, in := range []string{"", "yesterday", "2025-02-30", "2025-02-01-07-05-09-12x", "2025-13-01T00:00:00Z"} {
		if _, err := ParseTime(in); !errors.Is(err, ErrBadTime) {
			t.Errorf("ParseTime(%q) err = %v, want ErrBadTime", in, err)
		}
		// The error must own its text: the bytes it came from change.
		b := []byte(in)
		_, err := ParseTimeBytes(b)
		msg := fmt.Sprint(err)
		for i := range b {
			b[i] = '#'
		}
		if !errors.Is(err, ErrBadTime) || fmt.Sprint(err) != msg {
			t.Errorf("ParseTimeBytes(%q) err = %v, want ErrBadTime owning %q", in, err, msg)
		}
	}
	for _, in := range []string{"2025-02-01T07:05:09.123Z", "2025-02-01T16:05:09.123+09:00", "2025-02-01T07:05:09Z"} {
		if _, ok := parseISOTime(in); !ok {
			t.Errorf("parseISOTime(%q) left it to time.Parse", in)
		}
	}
	if s := FormatVendorTime(want); s != "2025-02-01-07-05-09-123" {
		t.Errorf("FormatVendorTime = %q", s)
	}
}

func TestParseDate(t *testing.T) {
	for _, in := range []string{"2025-02-01", "20250201"} {
		if d, err := ParseDate(in); err != nil || FormatDate(d) != "2025-02-01" {
			t.Errorf("ParseDate(%q) = %v, %v", in, d, err)
		}
	}
	if _, err := ParseDate("01/02/2025"); err == nil {
		t.Error("ParseDate accepted 01/02/2025")
	}
}

func TestNormalizeStatus(t *testing.T) {
	for in, want := range map[string]Status{"Approved": StatusApproved, " rejected ": StatusRejected, "": StatusIncomplete, "PENDING": StatusPending, "odd": "odd"} {
		if got := NormalizeStatus(in); got != want {
			t.Errorf("NormalizeStatus(%q) = %q, want %q", in, got, want)
		}
	}
	if Status("odd").Valid() || !StatusPending.ReachedResult() || StatusIncomplete.ReachedResult() {
		t.Error("Valid/ReachedResult disagree with the statistics page")
	}
}

func TestReadKey(t *testing.T) {
	var p fastjson.Parser
	k, err := ReadKey(&p, []byte(`{"submission_id":"a","created_at":"2025-02-01-00-00-01-000","updated_at":"2025-02-02T00:00:00Z"}`))
	if err != nil || k.SubmissionID != "a" || FormatDate(k.CreatedAt) != "2025-02-01" || FormatDate(k.UpdatedAt) != "2025-02-02" {
		t.Fatalf("ReadKey = %+v, %v", k, err)
	}
	for in, want := range map[string]error{
		`[]`: ErrNotObject, `{`: ErrNotObject, `{"created_at":"2025-02-01"}`: ErrNoID,
		`{"submission_id":"a"}`: ErrNoCreatedAt, `{"submission_id":"a","created_at":true}`: ErrBadCreatedAt,
	} {
		if _, err := ReadKey(&p, []byte(in)); !errors.Is(err, want) {
			t.Errorf("ReadKey(%s) err = %v, want %v", in, err, want)
		}
	}
}

// FuzzParseTime: any text parses to a UTC time or fails with ErrBadTime.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2025-02-01T16:05:09.123456789+09:00", "2025-02-01T07:05:09.1234567891Z", "2024-02-29T23:59:59-23:59", "2025-02-29", "0000-01-01", "2025-02-01-07-05-09-123", "2025-02-30-07-05-09", "2024-02-29-23-59-59-999", "2025-13-01-00-00-00", "+025-02-01-07-05-09", "2025-02-01T07:05:09Z", "1738393509", "20250201", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s)
		if err != nil && !errors.Is(err, ErrBadTime) {
			t.Fatalf("ParseTime(%q): unexpected error %v", s, err)
		}
		if err == nil && got.Location() != time.UTC {
			t.Fatalf("ParseTime(%q) not in UTC", s)
		}
		// The vendor shape, read by position, agrees with time.Parse.
		if len(s) == 19 || len(s) == 23 && s[19] == '-' && isDigits(s[20:]) {
			want, werr := time.ParseInLocation("2006-01-02-15-04-05", s[:19], time.UTC)
			if len(s) == 23 {
				ms, _ := strconv.Atoi(s[20:])
				want = want.Add(time.Duration(ms) * time.Millisecond)
			}
			vt, ok := parseVendorTime(s)
			if ok != (werr == nil) || ok && !vt.Equal(want) {
				t.Fatalf("parseVendorTime(%q) = %v, %v; time.Parse says %v, %v", s, vt, ok, want, werr)
			}
		}
		// The ISO shapes read by position agree with time.Parse.
		if it, ok := parseISOTime(s); ok {
			want, werr := time.ParseInLocation(time.RFC3339Nano, s, time.UTC)
			if werr != nil || !it.Equal(want) || it.Location() != time.UTC {
				t.Fatalf("parseISOTime(%q) = %v; time.Parse says %v, %v", s, it, want, werr)
			}
		}
		if dt, ok := parseISODate(s); ok {
			want, werr := time.ParseInLocation(DateLayout, s, time.UTC)
			if werr != nil || !dt.Equal(want) {
				t.Fatalf("parseISODate(%q) = %v; time.Parse says %v, %v", s, dt, want, werr)
			}
		} else if len(s) == 10 && isDigits(s[:4]+s[5:7]+s[8:]) {
			if _, werr := time.ParseInLocation(DateLayout, s, time.UTC); werr == nil {
				t.Fatalf("parseISODate(%q) refused a date time.Parse reads", s)
			}
		}
	})
}

// FuzzReadKey: any bytes give a key with an ID or a sentinel error.
func FuzzReadKey(f *testing.F) {
	f.Add([]byte(`{"submission_id":"a","created_at":"2025-02-01-00-00-01-000"}`))
	f.Add([]byte(`{"submission_id":1,"created_at":1738393509}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p fastjson.Parser
		k, err := ReadKey(&p, b)
		if err == nil && (k.SubmissionID == "" || k.CreatedAt.IsZero()) {
			t.Fatalf("ReadKey(%q) = %+v without an error", b, k)
		}
	})
}

// scanKeyCases are items whose identity ScanKey must read as ReadKey does.
var scanKeyCases = []string{
	`{"submission_id":"a","created_at":"2025-02-01-00-00-01-000","updated_at":"2025-02-02-00-00-01-000"}`,
	`{"data":{"x":"}]{[\"","y":[1,{"z":"\\"}]},"submission_id":"b","created_at":1738393509}`,
	` { "submission_id" : 7 , "created_at" : "2025-02-01T00:00:01Z" , "updated_at": null } `,
	`{"submission_id":"first","submission_id":"second","created_at":"2025-02-01"}`,
	`{"submission\u005fid":"escaped","created_at":"2025-02-01T00:00:01Z"}`,
	`{"submission_id":"a\"b","created_at":"2025-02-01T00:00:01Z","updated_at":"soon"}`,
	`{"submission_id":"","created_at":"2025-02-01T00:00:01Z"}`,
	`{"submission_id":{"x":1},"created_at":"2025-02-01T00:00:01Z"}`,
	`{"submission_id":"a","created_at":null}`,
	`{"submission_id":"a","created_at":true}`,
	`{"submission_id":"a","created_at":1.5}`,
	`{"submission_id":"a"}`,
	`{}`,
	`[{"submission_id":"a","created_at":1}]`,
	`"text"`,
	`{"a":[],"b":{},"submission_id":true,"created_at":-1,"updated_at":[]}`,
}

func TestScanKeyAgreesWithReadKey(t *testing.T) {
	for _, c := range scanKeyCases {
		checkScanKey(t, []byte(c))
	}
}

// FuzzScanKey: on valid JSON ScanKey returns what ReadKey returns; on any
// bytes it does not panic.
func FuzzScanKey(f *testing.F) {
	for _, c := range scanKeyCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p fastjson.Parser
		k, err := ScanKey(&p, b)
		if fastjson.ValidateBytes(b) != nil {
			if err == nil && (k.SubmissionID == "" || k.CreatedAt.IsZero()) {
				t.Fatalf("ScanKey(%q) = %+v without an error", b, k)
			}
			return
		}
		checkScanKey(t, b)
	})
}

func checkScanKey(t *testing.T, b []byte) {
	t.Helper()
	var p fastjson.Parser
	want, werr := ReadKey(&p, b)
	got, gerr := ScanKey(&p, b)
	if fmt.Sprint(gerr) != fmt.Sprint(werr) || got.SubmissionID != want.SubmissionID ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Fatalf("ScanKey(%q) = %+v, %v; ReadKey = %+v, %v", b, got, gerr, want, werr)
	}
}

// TestCivilDay compares civilDay with time.Date on every day of four
// centuries and around the ends of the years it reads.
func TestCivilDay(t *testing.T) {
	check := func(d time.Time) {
		s := d.Format(DateLayout)
		got, ok := civilDay(s)
		if !ok || got != d.Unix() {
			t.Fatalf("civilDay(%q) = %d, %v; want %d", s, got, ok, d.Unix())
		}
	}
	for d := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2300; d = d.AddDate(0, 0, 1) {
		check(d)
	}
	for _, y := range []int{0, 1, 4, 100, 400, 9999} {
		for d := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == y; d = d.AddDate(0, 0, 1) {
			check(d)
		}
	}
	for _, s := range []string{"2023-02-29", "1900-02-29", "2025-04-31", "2025-00-10", "2025-01-00", "2025-1-01"} {
		if _, ok := civilDay(s); ok {
			t.Errorf("civilDay(%q) read a day that does not exist", s)
		}
	}
}
