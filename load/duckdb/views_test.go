package duckdb

import (
	"context"
	"testing"
	"time"

	"github.com/kycetl/kycetl/extract/argos"
)

// TestViews loads a handcrafted set of submissions and checks every column
// of every view against values computed by hand.
func TestViews(t *testing.T) {
	ctx := context.Background()
	w := openPrepared(t)
	db := w.DB()

	// Days relative to the warehouse's own CURRENT_DATE, so that the test
	// and the views agree on "today".
	var todayT time.Time
	if err := db.QueryRow("SELECT CURRENT_DATE").Scan(&todayT); err != nil {
		t.Fatal(err)
	}
	today := argos.FormatDate(todayT)
	yesterday := argos.FormatDate(todayT.AddDate(0, 0, -1))
	const (
		before = "2025-01-31" // before the default rate card starts
		first  = "2025-02-01" // the rate card's first day
		later  = "2025-03-10"
	)
	sub := func(project, day, id, kind, status string, aml any, idCountry, nationality, user any, at string) map[string]any {
		return map[string]any{"project": project, "created_date": day, "run_id": "R", "submission_id": id, "kind": kind,
			"status": status, "has_aml": aml, "idcard_issuing_country": idCountry, "nationality": nationality,
			"userid": user, "created_at": day + "T" + at + "Z"}
	}
	const id, kb = "id_document", "knowledge_based"
	rows := []map[string]any{
		sub("acme", before, "a1", id, "approved", true, "KOR", nil, "u1", "08:00:00"),
		sub("acme", before, "a2", id, "rejected", false, nil, "JPN", "u2", "09:00:00"),
		sub("acme", first, "b1", id, "approved", true, "KOR", "USA", "u1", "10:00:00"), // 1 + 1 AML
		sub("acme", first, "b2", id, "rejected", false, "", "USA", "u1", "12:00:00"),   // 1
		sub("acme", first, "b3", kb, "pending", true, nil, nil, "u3", "13:00:00"),      // 1 + 1 AML
		sub("acme", first, "b4", id, "incomplete", true, "KOR", nil, "u2", "14:00:00"), // AML only
		sub("acme", first, "b5", id, "incomplete", false, nil, "JPN", "u2", "15:00:00"),
		sub("acme", first, "b6", kb, "expired", false, nil, nil, nil, "16:00:00"), // unknown status: no check
		sub("acme", later, "c1", id, "incomplete", false, "USA", nil, "u3", "01:00:00"),
		sub("acme", later, "c2", id, "pending", false, "KOR", nil, "u3", "02:00:00"),          // 1
		sub("acme", yesterday, "y1", kb, "rejected", true, nil, nil, "u1", "23:59:59.123456"), // 1 + 1 AML
		sub("acme", today, "t1", id, "approved", true, "KOR", nil, "u1", "00:00:01"),          // today: 0
		sub("beta", first, "x1", id, "approved", nil, "USA", nil, "u9", "10:00:00"),           // has_aml NULL: no AML
	}
	if err := w.Replace(ctx, partitionsOf(t, t.TempDir(), argos.Submissions, rows)); err != nil {
		t.Fatal(err)
	}

	assertRows(t, "stats_daily", query(t, db, "SELECT * FROM stats_daily ORDER BY project, day"),
		// project|day|total|approved|rejected|incomplete|pending|aml_count|approved_ratio|rejected_ratio|incomplete_ratio|pending_ratio|approval_rate|credits
		"acme|2025-01-31|2|1|1|0|0|1|0.5|0.5|0|0|0.5|0",
		"acme|2025-02-01|6|1|1|2|1|3|0.166667|0.166667|0.333333|0.166667|0.5|6",
		"acme|2025-03-10|2|0|0|1|1|0|0|0|0.5|0.5|NULL|1",
		"acme|"+yesterday+"|1|0|1|0|0|1|0|1|0|0|0|2",
		"acme|"+today+"|1|1|0|0|0|1|1|0|0|0|1|0",
		"beta|2025-02-01|1|1|0|0|0|0|1|0|0|0|1|1",
	)
	assertRows(t, "stats_totals", query(t, db, "SELECT * FROM stats_totals ORDER BY project"),
		// project|total|approved|rejected|incomplete|pending|aml_count|credits|
		// approved_ratio|rejected_ratio|incomplete_ratio|pending_ratio|approval_rate
		"acme|12|3|3|3|2|6|9|0.25|0.25|0.25|0.166667|0.5",
		"beta|1|1|0|0|0|0|1|1|0|0|0|1",
	)
	assertRows(t, "stats_status_distribution", query(t, db, "SELECT * FROM stats_status_distribution ORDER BY project, status"),
		"acme|approved|3|0.25",
		"acme|expired|1|0.0833333",
		"acme|incomplete|3|0.25",
		"acme|pending|2|0.166667",
		"acme|rejected|3|0.25",
		"beta|approved|1|1",
	)
	assertRows(t, "credit_usage_daily", query(t, db, "SELECT * FROM credit_usage_daily ORDER BY project, day"),
		"acme|2025-01-31|0",
		"acme|2025-02-01|6",
		"acme|2025-03-10|1",
		"acme|"+yesterday+"|2",
		"acme|"+today+"|0",
		"beta|2025-02-01|1",
	)
	assertRows(t, "stats_by_country", query(t, db, "SELECT * FROM stats_by_country ORDER BY project, country NULLS LAST, status, day"),
		// project|country|status|submissions|day
		"acme|JPN|incomplete|1|"+first,
		"acme|JPN|rejected|1|"+before,
		"acme|KOR|approved|1|"+before,
		"acme|KOR|approved|1|"+first,
		"acme|KOR|approved|1|"+today,
		"acme|KOR|incomplete|1|"+first,
		"acme|KOR|pending|1|"+later,
		"acme|USA|incomplete|1|"+later,
		"acme|USA|rejected|1|"+first,
		"acme|NULL|expired|1|"+first,
		"acme|NULL|pending|1|"+first,
		"acme|NULL|rejected|1|"+yesterday,
		"beta|USA|approved|1|"+first,
	)
	// Summed over its days, the view keeps its grain of before the day
	// column: a BI query that sums submissions per country is unchanged.
	assertRows(t, "stats_by_country over all days", query(t, db, `SELECT project, country, status, SUM(submissions)
		FROM stats_by_country GROUP BY ALL ORDER BY project, country NULLS LAST, status`),
		"acme|JPN|incomplete|1",
		"acme|JPN|rejected|1",
		"acme|KOR|approved|3",
		"acme|KOR|incomplete|1",
		"acme|KOR|pending|1",
		"acme|USA|incomplete|1",
		"acme|USA|rejected|1",
		"acme|NULL|expired|1",
		"acme|NULL|pending|1",
		"acme|NULL|rejected|1",
		"beta|USA|approved|1",
	)
	assertRows(t, "stats_by_country in a period", query(t, db, `SELECT country, status, SUM(submissions) FROM stats_by_country
		WHERE project = 'acme' AND day BETWEEN DATE '2025-02-01' AND DATE '2025-03-10' GROUP BY ALL ORDER BY country NULLS LAST, status`),
		"JPN|incomplete|1",
		"KOR|approved|1",
		"KOR|incomplete|1",
		"KOR|pending|1",
		"USA|incomplete|1",
		"USA|rejected|1",
		"NULL|expired|1",
		"NULL|pending|1",
	)
	assertRows(t, "stats_by_user", query(t, db, "SELECT * FROM stats_by_user ORDER BY project, userid NULLS LAST, status, day"),
		// project|userid|status|submissions|last_submitted_at|day
		"acme|u1|approved|1|"+before+"T08:00:00Z|"+before,
		"acme|u1|approved|1|"+first+"T10:00:00Z|"+first,
		"acme|u1|approved|1|"+today+"T00:00:01Z|"+today,
		"acme|u1|rejected|1|"+first+"T12:00:00Z|"+first,
		"acme|u1|rejected|1|"+yesterday+"T23:59:59.123456Z|"+yesterday,
		"acme|u2|incomplete|2|"+first+"T15:00:00Z|"+first,
		"acme|u2|rejected|1|"+before+"T09:00:00Z|"+before,
		"acme|u3|incomplete|1|"+later+"T01:00:00Z|"+later,
		"acme|u3|pending|1|"+first+"T13:00:00Z|"+first,
		"acme|u3|pending|1|"+later+"T02:00:00Z|"+later,
		"acme|NULL|expired|1|"+first+"T16:00:00Z|"+first,
		"beta|u9|approved|1|"+first+"T10:00:00Z|"+first,
	)
	assertRows(t, "stats_by_user over all days", query(t, db, `SELECT project, userid, status, SUM(submissions), MAX(last_submitted_at)
		FROM stats_by_user GROUP BY ALL ORDER BY project, userid NULLS LAST, status`),
		"acme|u1|approved|3|"+today+"T00:00:01Z",
		"acme|u1|rejected|2|"+yesterday+"T23:59:59.123456Z",
		"acme|u2|incomplete|2|2025-02-01T15:00:00Z",
		"acme|u2|rejected|1|2025-01-31T09:00:00Z",
		"acme|u3|incomplete|1|2025-03-10T01:00:00Z",
		"acme|u3|pending|2|2025-03-10T02:00:00Z",
		"acme|NULL|expired|1|2025-02-01T16:00:00Z",
		"beta|u9|approved|1|2025-02-01T10:00:00Z",
	)

	// The views follow the rate card: ID checks cost 2 from 2025-03-01.
	if _, err := db.Exec(`UPDATE credit_rates SET valid_to = DATE '2025-02-28' WHERE item = 'id_check';
		INSERT INTO credit_rates VALUES ('id_check', 2, DATE '2025-03-01', NULL)`); err != nil {
		t.Fatal(err)
	}
	assertRows(t, "credit_usage_daily after a rate change", query(t, db, "SELECT day, credits FROM credit_usage_daily WHERE project = 'acme' ORDER BY day"),
		"2025-01-31|0", "2025-02-01|6", "2025-03-10|2", yesterday+"|2", today+"|0")
}
