package stats

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/internal/window"
)

// Request is the filter bar as text, by field: the flags of kycetl stats
// and kycetl report, or the query parameters of the page that kycetl serve
// draws (from, to, period, status, project, sort). Empty fields are not
// set.
type Request struct {
	From, To, Period, Status, Project, Sort string
}

// Sorts names the orders of the daily table.
var Sorts = []string{"day", "credits"}

// FieldError is a Request field that cannot be read: Field is its name (a
// flag without its dashes, or a query parameter).
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// Filter reads the request by the UTC day of now (for a period). Its
// error is a *FieldError naming the first field that is wrong: a day that
// is no YYYY-MM-DD, to before from, an unknown period or a period given
// with from or to, a status that is not one of the page's, or an unknown
// sort. The project is not checked here: Query knows the projects.
func (r Request) Filter(now time.Time) (Filter, error) {
	var f Filter
	var err error
	if r.From != "" {
		if f.From, err = window.ParseDay(r.From); err != nil {
			return f, &FieldError{"from", err}
		}
	}
	if r.To != "" {
		if f.To, err = window.ParseDay(r.To); err != nil {
			return f, &FieldError{"to", err}
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return f, &FieldError{"to", fmt.Errorf("%s is before from %s", r.To, r.From)}
	}
	if r.Period != "" {
		if r.From != "" || r.To != "" {
			return f, &FieldError{"period", fmt.Errorf("%q excludes from and to: give one or the other", r.Period)}
		}
		if f.From, f.To, err = Period(r.Period, now); err != nil {
			return f, &FieldError{"period", err}
		}
	}
	if r.Status != "" {
		f.Status = argos.Status(strings.ToLower(r.Status))
		if !f.Status.Valid() {
			return f, &FieldError{"status", fmt.Errorf("%q: %w", r.Status, errStatus)}
		}
	}
	switch r.Sort {
	case "", "day":
	case "credits":
		f.ByCredits = true
	default:
		return f, &FieldError{"sort", fmt.Errorf("%q: want %s", r.Sort, strings.Join(Sorts, " or "))}
	}
	f.Project = r.Project
	return f, nil
}

var errStatus = errors.New("want approved, rejected, incomplete or pending")
