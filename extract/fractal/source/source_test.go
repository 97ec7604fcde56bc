package source

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kycetl/kycetl/extract/fractal"
	"github.com/kycetl/kycetl/internal/window"
	"github.com/kycetl/kycetl/transform/schema"
)

// countingSink counts the rows each table receives, and checks every record
// has the table's schema.
type countingSink struct {
	t    testing.TB
	rows map[string]int64
}

func (s *countingSink) Write(t *schema.Table, rec arrow.RecordBatch) error {
	if !rec.Schema().Equal(t.ArrowSchema()) {
		s.t.Fatalf("%s: record schema %v, want %v", t.Name, rec.Schema(), t.ArrowSchema())
	}
	s.rows[t.Name] += rec.NumRows()
	return nil
}

func flatten(t testing.TB, lines ...string) (map[string]int64, error) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	sink := &countingSink{t: t, rows: map[string]int64{}}
	fl, _ := Source{}.NewFlattener("p", "R", time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), sink)
	f := fl.(*Flattener)
	f.mem = mem
	for i, l := range lines {
		if err := f.Add([]byte(l), "raw test", int64(i)); err != nil {
			f.Release()
			return nil, err
		}
	}
	res, err := f.Close()
	if err != nil {
		return nil, err
	}
	for name, n := range res.Rows {
		if sink.rows[name] != n {
			t.Errorf("%s: the result says %d rows, the sink got %d", name, n, sink.rows[name])
		}
	}
	return sink.rows, nil
}

const header = `{"snapshot_at":"2026-03-10T00:30:00Z"}`

func TestFlattenSnapshot(t *testing.T) {
	rows, err := flatten(t, header, `{"approved": 55, "contacted": 4, "rejected": 10, "pending": 7, "on_hold": 1}`,
		`{"US": {"approved": 8, "pending": 3,}, "DK": {"approved": 12}}`,
		`{"user_id": "320bfdaa", "level": "v1", "credential": "approved"}`,
		`{"user_id": "320bfdaa", "level": "light+selfie+wallet", "credential": "pending",}`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{fractal.TotalsTable.Name: 5, fractal.CountriesTable.Name: 3, fractal.UsersTable.Name: 2}
	for name, n := range want {
		if rows[name] != n {
			t.Errorf("%s: %d rows, want %d", name, rows[name], n)
		}
	}
	// An empty user list is a snapshot of no users.
	if rows, err := flatten(t, header, `{}`, `{}`); err != nil || rows[fractal.UsersTable.Name] != 0 {
		t.Errorf("no users: %v, %v", rows, err)
	}
}

func TestFlattenRefusesBrokenLines(t *testing.T) {
	for name, lines := range map[string][]string{
		"no header":       {`{"approved": 1}`, `{}`, `{}`},
		"no countries":    {header, `{}`},
		"negative count":  {header, `{"approved": -1}`, `{}`},
		"a list of users": {header, `{}`, `{}`, `[{"user_id": "a"}]`},
		"no user_id":      {header, `{}`, `{}`, `{"level": "v1"}`},
	} {
		if _, err := flatten(t, lines...); err == nil {
			t.Errorf("%s: flattened without an error", name)
		}
	}
}

// FuzzSnapshotLine: any bytes at any line of a snapshot give rows or an
// error naming the line, never a panic or a leak.
func FuzzSnapshotLine(f *testing.F) {
	f.Add(0, []byte(header))
	f.Add(1, []byte(`{"approved": 55, "contacted": 4,}`))
	f.Add(2, []byte(`{"US": {"approved": 8}, "DK": {}}`))
	f.Add(3, []byte(`{"user_id": "u", "level": "v1", "credential": "on_hold"}`))
	f.Add(3, []byte(`{"user_id": "\xff\xfe", "level": 7}`))
	f.Fuzz(func(t *testing.T, at int, line []byte) {
		lines := []string{header, `{}`, `{}`, `{"user_id": "u"}`}
		at = ((at % len(lines)) + len(lines)) % len(lines)
		lines[at] = string(line)
		_, _ = flatten(t, lines...)
	})
}

// TestOnlyToday: the API answers for now only, so a window other than
// today is refused before any request.
func TestOnlyToday(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	c, err := fractal.NewClient("http://127.0.0.1:1", "http://127.0.0.1:1", "id", "secret")
	if err != nil {
		t.Fatal(err)
	}
	f := NewFetcher(c, WithClock(func() time.Time { return now }))
	err = f.Window(context.Background(), now.AddDate(0, 0, -1), now.AddDate(0, 0, -1), func(context.Context, window.DayItems) error { return nil })
	if !errors.Is(err, ErrNotToday) {
		t.Errorf("yesterday: %v, want ErrNotToday", err)
	}
	if req, _ := c.Work(); req != 0 {
		t.Errorf("%d requests for a window it cannot pull", req)
	}
}
