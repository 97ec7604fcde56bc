package web

import (
	"bytes"
	"context"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"time"

	"github.com/kycetl/kycetl/extract/argos"
	"github.com/kycetl/kycetl/internal/window"
	"github.com/kycetl/kycetl/sql/stats"
)

//go:embed assets
var assets embed.FS

// page is the template of the statistics page.
var page = template.Must(template.New("page.html").Funcs(template.FuncMap{
	"count":   func(n int64) string { return strconv.FormatInt(n, 10) },
	"credits": func(c float64) string { return strconv.FormatFloat(c, 'f', -1, 64) },
	"percent": stats.Percent,
	"cell":    func(d stats.Day, col string) string { return stats.Cell(d, col, true) },
	"label":   func(col string) string { return labels[col] },
	"metric":  func(m string) string { return metricNames[m] },
	"value":   metricValue,
	"change":  change,
	"score":   func(s float64) string { return strconv.FormatFloat(s, 'f', 1, 64) },
	"reason": func(r *string) string {
		if r == nil {
			return "(no code)"
		}
		return *r
	},
	"step": func(s *string) string {
		if s == nil {
			return "(no camera process)"
		}
		return *s
	},
}).ParseFS(assets, "assets/page.html"))

// CreditsFrom is the first day credits are counted on (the vendor's
// statistics page: "credit data includes data from February 1, 2025").
const CreditsFrom = "2025-02-01"

// Section is an optional part of the page, drawn only when Query returns
// rows: a table under its Title (and in the JSON under its ID). It is the
// hook for parts whose views come later: Fractal's snapshots (issue 15),
// the heat map, forecast and anomalies (issue 19). Query reads its rows
// from a view, under the page's filter; it computes nothing itself.
type Section struct {
	ID, Title, Note string
	Query           func(ctx context.Context, db stats.DB, f stats.Filter) (*Table, error)
}

// Table is the rows of a section, already formatted.
type Table struct {
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
}

// shownSection is a section with rows.
type shownSection struct {
	Section
	Table *Table
}

// data is what the template draws.
type data struct {
	Overview *stats.Overview
	Request  stats.Request // as asked (period "" when from and to are)
	Filter   stats.Filter
	From, To string     // the period shown, "" when open
	Today    string     // UTC day of the query
	Query    url.Values // the page's query parameters (served page)
	Sections []shownSection
	Insights insights
	Report   bool         // a file: fixed filters, data inlined
	Script   template.JS  // inlined for a report
	Style    template.CSS // inlined for a report
	Charts   template.JS  // the chart library, inlined for a report
	CSVData  template.URL // the daily table as a data: URL, for a report
}

// build reads everything the page draws.
func build(ctx context.Context, db stats.DB, req stats.Request, f stats.Filter, tz string, now time.Time, sections []Section) (*data, error) {
	o, err := stats.QueryOverview(ctx, db, f)
	if err != nil {
		return nil, err
	}
	d := &data{Overview: o, Request: req, Filter: f, Today: window.FormatDate(window.Day(now))}
	if d.Insights, err = readInsights(ctx, db, f, tz); err != nil {
		return nil, err
	}
	if !f.From.IsZero() {
		d.From = window.FormatDate(f.From)
	}
	if !f.To.IsZero() {
		d.To = window.FormatDate(f.To)
	}
	for _, s := range sections {
		t, err := s.Query(ctx, db, f)
		if err != nil {
			return nil, fmt.Errorf("reading the page's section %s: %w", s.ID, err)
		}
		if t != nil && len(t.Rows) > 0 {
			d.Sections = append(d.Sections, shownSection{Section: s, Table: t})
		}
	}
	return d, nil
}

// pageJSON is the page's numbers as the page's script and /api/overview
// read them: the views' column names, ratios as exact fractions.
type pageJSON struct {
	From         string            `json:"from,omitempty"`
	To           string            `json:"to,omitempty"`
	Status       argos.Status      `json:"status,omitempty"`
	Project      string            `json:"project,omitempty"`
	Sort         string            `json:"sort"`
	Cards        stats.Cards       `json:"cards"`
	Daily        []stats.Day       `json:"daily"`
	Days         []stats.Day       `json:"days"`
	Distribution []stats.Share     `json:"distribution"`
	Projects     []stats.Day       `json:"projects"`
	Known        []string          `json:"known_projects"`
	Sections     map[string]*Table `json:"sections"`
	Insights     insights          `json:"insights"`
}

// JSON is the page's numbers: the filter shown, the cards, the daily table
// over every project selected (daily), the days per project (days, as
// kycetl stats --format json), the status distribution, the per-project
// totals and the projects the warehouse holds.
func (d *data) JSON() any {
	o := d.Overview
	j := pageJSON{From: d.From, To: d.To, Status: d.Filter.Status, Project: d.Filter.Project, Sort: "day",
		Cards: o.Cards, Daily: o.Daily, Days: o.Days, Distribution: o.Distribution, Projects: o.Projects,
		Known: o.Known, Sections: map[string]*Table{}, Insights: d.Insights}
	if d.Filter.ByCredits {
		j.Sort = "credits"
	}
	if j.Daily == nil {
		j.Daily = []stats.Day{}
	}
	if j.Days == nil {
		j.Days = []stats.Day{}
	}
	if j.Projects == nil {
		j.Projects = []stats.Day{}
	}
	if j.Known == nil {
		j.Known = []string{}
	}
	for _, s := range d.Sections {
		j.Sections[s.ID] = s.Table
	}
	return j
}

// DataJSON is JSON for the page's script, safe inside a <script> element.
func (d *data) DataJSON() (template.JS, error) {
	b, err := json.Marshal(d.JSON())
	if err != nil {
		return "", fmt.Errorf("encoding the page's numbers: %w", err)
	}
	// json.Marshal escapes <, > and &, so the text cannot close the element.
	return template.JS(b), nil
}

// FileName names a download of the page: kycetl-stats-FROM-TO.
func (d *data) FileName() string {
	name := "kycetl-stats"
	if d.From != "" {
		name += "-" + d.From
	}
	if d.To != "" {
		name += "-" + d.To
	}
	return name
}

// Title is the page's title.
func (d *data) Title() string {
	t := "KYC statistics"
	if d.Filter.Project != "" {
		t += " · " + d.Filter.Project
	}
	return t
}

// Link is the served page's address with the parameter key set to value
// (removed when value is empty), the others kept: a view to bookmark.
func (d *data) Link(base, key, value string) template.URL {
	q := url.Values{}
	for k, v := range d.Query {
		q[k] = v
	}
	if value == "" {
		q.Del(key)
	} else {
		q.Set(key, value)
	}
	if len(q) == 0 {
		return template.URL(base)
	}
	return template.URL(base + "?" + q.Encode())
}

// Periods are the period presets, with their labels.
func (d *data) Periods() [][2]string {
	return [][2]string{{"7d", "Last 7 days"}, {"30d", "Last 30 days"}, {"90d", "Last 90 days"}, {"month", "This month"}, {"all", "All days"}, {"custom", "Custom range"}}
}

// Period is the preset selected, or "custom".
func (d *data) Period() string {
	if d.Request.Period == "" {
		return "custom"
	}
	return d.Request.Period
}

// labels name the table's columns (stats.Cell's) for people.
var labels = map[string]string{
	"project": "Project", "day": "Day", "total": "Total",
	"approved": "Approved", "approved_ratio": "Approved %", "rejected": "Rejected", "rejected_ratio": "Rejected %",
	"incomplete": "Incomplete", "incomplete_ratio": "Incomplete %", "pending": "Pending", "pending_ratio": "Pending %",
	"approval_rate": "Approval rate", "aml_count": "AML", "credits": "Credits",
}

// DailyColumns are the columns of the daily table: the total, each
// status's count and ratio, the approval rate, AML count and credits;
// under a status filter, that status's count and ratio only.
func (d *data) DailyColumns() []string {
	cols := []string{"day"}
	if st := d.Filter.Status; st != "" {
		cols = append(cols, string(st), string(st)+"_ratio")
	} else {
		cols = append(cols, "total")
		for _, s := range argos.Statuses {
			cols = append(cols, string(s), string(s)+"_ratio")
		}
	}
	return append(cols, "approval_rate", "aml_count", "credits")
}

// ProjectColumns are the columns of the comparison of projects.
func (d *data) ProjectColumns() []string {
	return []string{"project", "total", "approved", "rejected", "incomplete", "pending", "approval_rate", "aml_count", "credits"}
}

// Compare says whether the page compares projects: the warehouse holds
// more than one.
func (d *data) Compare() bool { return len(d.Overview.Known) > 1 }

// Share is a status card's hint: its share of the submissions selected;
// under a status filter, "of all" on that status's card and nothing on the
// others (whose counts are then 0).
func (d *data) Share(status string, ratio *float64) string {
	switch {
	case d.Filter.Status == "":
		return stats.Percent(ratio)
	case string(d.Filter.Status) == status && ratio != nil:
		return stats.Percent(ratio) + " of all"
	}
	return ""
}

// Statuses are the statuses of the status filter.
func (d *data) Statuses() []argos.Status { return argos.Statuses }

// CreditsUpTo is the last day credits are counted on: yesterday (UTC).
func (d *data) CreditsUpTo() string {
	t, _ := window.ParseDay(d.Today)
	return window.FormatDate(t.AddDate(0, 0, -1))
}

// CreditsFrom is the first day credits are counted on.
func (d *data) CreditsFrom() string { return CreditsFrom }

// render writes the page; a report inlines its script, style, chart
// library and CSV.
func render(w io.Writer, d *data, report bool) error {
	d.Report = report
	if report {
		for _, a := range []struct {
			name string
			set  func(string)
		}{
			{"page.js", func(s string) { d.Script = template.JS(s) }},
			{"page.css", func(s string) { d.Style = template.CSS(s) }},
			{"echarts.min.js", func(s string) { d.Charts = template.JS(s) }},
		} {
			b, err := assets.ReadFile("assets/" + a.name)
			if err != nil {
				return fmt.Errorf("reading the page's %s: %w", a.name, err)
			}
			a.set(string(b))
		}
		var csv bytes.Buffer
		if err := stats.Print(&csv, "csv", &d.Overview.Page); err != nil {
			return fmt.Errorf("writing the page's CSV: %w", err)
		}
		d.CSVData = template.URL("data:text/csv;charset=utf-8;base64," + base64.StdEncoding.EncodeToString(csv.Bytes()))
	}
	if err := page.Execute(w, d); err != nil {
		return fmt.Errorf("rendering the statistics page: %w", err)
	}
	return nil
}

// Report writes the statistics page under the filter as one HTML file
// that needs nothing else: its script, style, chart library, numbers and
// CSV are inside. req is the filter as asked, to show on the page; without
// a period, from or to, it is DefaultPeriod.
func Report(ctx context.Context, w io.Writer, db stats.DB, req stats.Request, opts ...Option) error {
	st := defaults(opts)
	req = withDefaultPeriod(req)
	f, err := req.Filter(st.now())
	if err != nil {
		return err
	}
	d, err := build(ctx, db, req, f, st.tz, st.now(), st.sections)
	if err != nil {
		return err
	}
	return render(w, d, true)
}

// serveAsset serves an embedded asset, for the served page.
func serveAsset(w http.ResponseWriter, r *http.Request) {
	name := path.Clean("/" + r.URL.Path)[1:]
	b, err := fs.ReadFile(assets, "assets/"+name)
	if err != nil || name == "page.html" {
		http.NotFound(w, r)
		return
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		w.Header().Set("Content-Type", t)
	} else {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(b)
}
