package web

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kycetl/kycetl/sql/stats"
)

// FuzzRequest: any query string gives a filter or an error naming one of
// the filter bar's fields, never a panic; a filter's period never ends
// before it starts; a tz is a zone or an error naming tz.
func FuzzRequest(f *testing.F) {
	for _, s := range []string{"", "period=7d", "period=custom&from=2025-02-01&to=2025-02-28", "from=20250201",
		"status=APPROVED&sort=credits&project=acme", "to=2025-01-01&from=2025-02-01", "period=month&to=x", "from=%ff",
		"tz=Europe/Paris", "tz=Local", "tz=../zoneinfo", "tz="} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
	fields := map[string]bool{"from": true, "to": true, "period": true, "status": true, "sort": true}
	f.Fuzz(func(t *testing.T, query string) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return // the server answers 400 before reading it
		}
		if q.Has("tz") {
			if err := CheckTimeZone(q.Get("tz")); err != nil && !strings.HasPrefix(err.Error(), "tz ") {
				t.Errorf("%q: the zone's error names no tz: %v", query, err)
			}
		}
		flt, err := request(q).Filter(now)
		var fe *stats.FieldError
		switch {
		case errors.As(err, &fe):
			if !fields[fe.Field] {
				t.Errorf("%q: an error on field %q", query, fe.Field)
			}
		case err != nil:
			t.Errorf("%q: %v is no FieldError", query, err)
		case !flt.From.IsZero() && !flt.To.IsZero() && flt.To.Before(flt.From):
			t.Errorf("%q: the period %v to %v ends before it starts", query, flt.From, flt.To)
		}
	})
}
