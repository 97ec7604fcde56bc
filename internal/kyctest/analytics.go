package kyctest

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Item is what the views beyond the vendor's page (issue 19) read of one
// raw submission, read here with nothing but encoding/json and time, to
// compute those views a second way.
type Item struct {
	ID        string
	Created   time.Time
	Day       string // UTC day of Created
	Status    string // lower-cased kyc.result; missing or empty is incomplete
	Reviewer  string // as sent, empty when missing
	ResultAt  *time.Time
	AML       bool // carries an aml object
	RedFlag   bool // aml.currentstatus is Red Flag (any case)
	Codes     []string
	Processes []Process
}

// Process is one element of signals.cameraProcessInfo.
type Process struct{ Type, Error string }

// ParseItem reads one raw submission.
func ParseItem(raw []byte) (Item, error) {
	var v struct {
		ID       string `json:"submission_id"`
		Created  string `json:"created_at"`
		Reviewer any    `json:"reviewer"`
		ResultAt any    `json:"kyc_result_at"`
		Kyc      *struct {
			Result      any `json:"result"`
			CommentCode any `json:"commentCode"`
		} `json:"kyc"`
		AML     any `json:"aml"`
		Signals *struct {
			Camera []struct {
				Type  any `json:"type"`
				Error any `json:"error"`
			} `json:"cameraProcessInfo"`
		} `json:"signals"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return Item{}, fmt.Errorf("reading an item: %w", err)
	}
	created, err := stamp(v.Created)
	if err != nil {
		return Item{}, fmt.Errorf("reading created_at of %s: %w", v.ID, err)
	}
	it := Item{ID: v.ID, Created: created, Day: created.Format("2006-01-02"), Status: "incomplete"}
	it.Reviewer, _ = v.Reviewer.(string)
	if s, ok := v.ResultAt.(string); ok && s != "" {
		at, err := stamp(s)
		if err != nil {
			return Item{}, fmt.Errorf("reading kyc_result_at of %s: %w", v.ID, err)
		}
		it.ResultAt = &at
	}
	if v.Kyc != nil {
		if s, ok := v.Kyc.Result.(string); ok && strings.TrimSpace(s) != "" {
			it.Status = strings.ToLower(strings.TrimSpace(s))
		}
		switch c := v.Kyc.CommentCode.(type) {
		case string:
			it.Codes = []string{c}
		case []any:
			for _, x := range c {
				if s, ok := x.(string); ok {
					it.Codes = append(it.Codes, s)
				}
			}
		}
	}
	if aml, ok := v.AML.(map[string]any); ok {
		it.AML = true
		s, _ := aml["currentstatus"].(string)
		it.RedFlag = strings.EqualFold(s, "red flag")
	}
	if v.Signals != nil {
		for _, p := range v.Signals.Camera {
			var pr Process
			pr.Type, _ = p.Type.(string)
			pr.Error, _ = p.Error.(string)
			it.Processes = append(it.Processes, pr)
		}
	}
	return it, nil
}

// stamp reads the vendor's YYYY-MM-DD-HH-MM-SS-ZZZ or ISO 8601.
func stamp(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if len(s) == 23 {
		if t, err := time.Parse("2006-01-02-15-04-05.000", s[:19]+"."+s[20:]); err == nil {
			return t, nil
		}
	}
	return time.Parse("2006-01-02-15-04-05", s)
}

// Credits is an item's credit usage by the default rate card: 1 for a
// check that reached a result, 1 for an AML screening, from 2025-02-01 and
// before today.
func (it Item) Credits(today time.Time) float64 {
	if it.Day < "2025-02-01" || it.Day >= today.Format("2006-01-02") {
		return 0
	}
	c := 0.0
	switch it.Status {
	case "approved", "rejected", "pending":
		c++
	}
	if it.AML {
		c++
	}
	return c
}

// Median is the middle value of xs, or the mean of the two middle ones.
func Median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// NearestRank is the smallest value with at least p (0..1) of the values at
// or below it.
func NearestRank(xs []float64, p float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	r := int(math.Ceil(p*float64(len(s)) - 1e-9))
	return s[max(r, 1)-1]
}

// Metric is one day's value of an anomaly metric, the range [Lo, Hi] of
// the values it could still take as pending submissions are decided, and
// the count it is a share of.
type Metric struct {
	Value, Lo, Hi float64
	N             float64
	OK            bool // the metric has a value that day
}

// Flag is an anomaly: a day whose metric left its usual range.
type Flag struct {
	Metric, Day            string
	Value, Expected, Score float64
}

// Flags scores series (one Metric a day, days[i] the UTC day of
// series[i], consecutive) by the method of the anomalies view: the median
// and the median absolute deviation of the 28 days before, at least 14 of
// them with a value; scale max(1.4826 MAD, noise); flagged past 3.5.
func Flags(metric string, days []string, series []Metric) []Flag {
	var out []Flag
	for i, m := range series {
		if !m.OK {
			continue
		}
		var past []float64
		for j := max(0, i-28); j < i; j++ {
			if series[j].OK {
				past = append(past, series[j].Value)
			}
		}
		if len(past) < 14 {
			continue
		}
		med := Median(past)
		dev := make([]float64, len(past))
		for j, x := range past {
			dev[j] = math.Abs(x - med)
		}
		noise := math.Sqrt((med*(1-med) + 1/m.N) / m.N)
		if metric == "volume" {
			noise = math.Sqrt(med + 1)
		}
		off := 0.0 // the nearest end of [Lo, Hi] from the median
		switch {
		case m.Hi < med:
			off = m.Hi - med
		case m.Lo > med:
			off = m.Lo - med
		}
		score := off / max(1.4826*Median(dev), noise)
		if math.Abs(score) > 3.5 {
			out = append(out, Flag{Metric: metric, Day: days[i], Value: m.Value, Expected: med, Score: score})
		}
	}
	return out
}

// DailyFlags scores the four metrics of the anomalies view over the items
// of one project, for every day from the first item's to the day before
// today (days without items count, with 0 submissions).
func DailyFlags(items []Item, today time.Time) []Flag {
	type day struct{ total, approved, rejected, pending, aml, red float64 }
	byDay := map[string]*day{}
	first := ""
	for _, it := range items {
		d := byDay[it.Day]
		if d == nil {
			d = &day{}
			byDay[it.Day] = d
		}
		if first == "" || it.Day < first {
			first = it.Day
		}
		d.total++
		switch it.Status {
		case "approved":
			d.approved++
		case "rejected":
			d.rejected++
		case "pending":
			d.pending++
		}
		if it.AML {
			d.aml++
		}
		if it.RedFlag {
			d.red++
		}
	}
	start, err := time.Parse("2006-01-02", first)
	if err != nil {
		return nil
	}
	var days []string
	series := map[string][]Metric{}
	share := func(x, n float64) Metric { return Metric{Value: x / n, Lo: x / n, Hi: x / n, N: n, OK: n > 0} }
	for t := start; t.Before(today); t = t.AddDate(0, 0, 1) {
		k := t.Format("2006-01-02")
		d := byDay[k]
		if d == nil {
			d = &day{}
		}
		days = append(days, k)
		series["volume"] = append(series["volume"], Metric{Value: d.total, Lo: d.total, Hi: d.total, N: d.total, OK: true})
		approval := share(d.approved, d.approved+d.rejected)
		all := d.approved + d.rejected + d.pending
		approval.Lo, approval.Hi = d.approved/all, (d.approved+d.pending)/all
		series["approval_rate"] = append(series["approval_rate"], approval)
		rejection := share(d.rejected, d.total)
		rejection.Hi = (d.rejected + d.pending) / d.total
		series["rejection_share"] = append(series["rejection_share"], rejection)
		series["aml_red_flag_share"] = append(series["aml_red_flag_share"], share(d.red, d.aml))
	}
	var out []Flag
	for _, m := range []string{"aml_red_flag_share", "approval_rate", "rejection_share", "volume"} {
		out = append(out, Flags(m, days, series[m])...)
	}
	return out
}

// Redate moves a raw submission by days whole days: its created_at,
// updated_at, kyc_result_at and pending_at (written back in the vendor's
// YYYY-MM-DD-HH-MM-SS-ZZZ), and gives it the submission_id id, so that one
// day's items can stand for the items of any day.
func Redate(raw []byte, days int, id string) ([]byte, error) {
	var item map[string]any
	if err := json.Unmarshal(raw, &item); err != nil {
		return nil, fmt.Errorf("redating an item: %w", err)
	}
	for _, key := range []string{"created_at", "updated_at", "kyc_result_at", "pending_at"} {
		s, ok := item[key].(string)
		if !ok || s == "" {
			continue
		}
		t, err := stamp(s)
		if err != nil {
			return nil, fmt.Errorf("redating %s of %v: %w", key, item["submission_id"], err)
		}
		v := t.AddDate(0, 0, days).UTC().Format("2006-01-02-15-04-05.000")
		item[key] = v[:19] + "-" + v[20:]
	}
	item["submission_id"] = id
	return json.Marshal(item)
}

// ForecastDay is one day of the credit forecast method, run from an
// origin: the predicted credits and band, and the actual credits.
type ForecastDay struct {
	Day                        string
	Credits, Low, High, Actual float64
}

// Forecast runs the method of the credit_forecast_runs view over the
// credits of each day (credits[day], 0 when absent, days before first
// are no history) for horizon days from origin: a least-squares trend over
// the 56 days before origin, the mean residual of each weekday position,
// and a band of 1.96 root-mean-square residuals.
func Forecast(credits map[string]float64, first, origin time.Time, horizon int) []ForecastDay {
	day := func(x int) time.Time { return origin.AddDate(0, 0, x) }
	var xs, ys []float64
	for x := -56; x <= -1; x++ {
		if day(x).Before(first) {
			continue
		}
		xs = append(xs, float64(x))
		ys = append(ys, credits[day(x).Format("2006-01-02")])
	}
	if len(xs) == 0 {
		return nil
	}
	var sx, sy, sxy, sxx float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxy += xs[i] * ys[i]
		sxx += xs[i] * xs[i]
	}
	n := float64(len(xs))
	slope := 0.0
	if v := sxx/n - (sx/n)*(sx/n); v != 0 {
		slope = (sxy/n - (sx/n)*(sy/n)) / v
	}
	intercept := sy/n - slope*sx/n
	pos := func(x float64) int { return ((int(x) % 7) + 7) % 7 }
	var sum, cnt [7]float64
	for i := range xs {
		sum[pos(xs[i])] += ys[i] - intercept - slope*xs[i]
		cnt[pos(xs[i])]++
	}
	effect := func(x float64) float64 {
		if cnt[pos(x)] == 0 {
			return 0
		}
		return sum[pos(x)] / cnt[pos(x)]
	}
	var ss float64
	for i := range xs {
		r := ys[i] - intercept - slope*xs[i] - effect(xs[i])
		ss += r * r
	}
	sd := math.Sqrt(ss / n)
	var out []ForecastDay
	for j := range horizon {
		fit := intercept + slope*float64(j) + effect(float64(j))
		k := day(j).Format("2006-01-02")
		out = append(out, ForecastDay{Day: k, Credits: max(fit, 0), Low: max(fit-1.96*sd, 0), High: max(fit+1.96*sd, 0), Actual: credits[k]})
	}
	return out
}
