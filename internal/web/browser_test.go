package web

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/kycetl/kycetl/internal/window"
	"github.com/kycetl/kycetl/sql/stats"
)

// The browser tests drive Debian's chromium, headless, one browser shared
// by every test (a tab each). Without a browser they skip, unless CI is
// set: there a missing browser fails them (.ci/run installs chromium).

// browsers are the names the browser is looked up by.
var browsers = []string{"chromium", "chromium-browser", "google-chrome", "chrome"}

var shared struct {
	once    sync.Once
	ctx     context.Context // the browser's; a tab is a child
	cancel  []context.CancelFunc
	userDir string
	err     error
	missing bool
}

// browser returns the shared browser's context, starting it on first use.
func browser(t *testing.T) context.Context {
	t.Helper()
	shared.once.Do(func() {
		var path string
		for _, name := range browsers {
			if p, err := exec.LookPath(name); err == nil {
				path = p
				break
			}
		}
		if path == "" {
			shared.missing = true
			return
		}
		if shared.userDir, shared.err = os.MkdirTemp("", "kycetl-chromium-"); shared.err != nil {
			return
		}
		// The flags keep chromium from reaching for the network on its own
		// (the machines it runs on may have none, and it then hangs).
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.Flag("headless", true),
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.NoFirstRun,
			chromedp.UserDataDir(shared.userDir),
			chromedp.WindowSize(1280, 900),
		)
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(alloc)
		shared.ctx, shared.cancel = ctx, []context.CancelFunc{cancel, cancelAlloc}
		// Start it now, on a context without a deadline (it lives as long).
		_, shared.err = chromedp.Run(ctx, chromedp.Evaluate[int]("1"))
	})
	if shared.missing {
		if os.Getenv("CI") != "" {
			t.Fatalf("no browser (%s) on PATH and CI is set: install chromium (apt-get install -y chromium)", strings.Join(browsers, ", "))
		}
		t.Skipf("no browser (%s) on PATH: install chromium (apt-get install -y chromium) to run the browser tests", strings.Join(browsers, ", "))
	}
	if shared.err != nil {
		t.Fatalf("starting chromium: %v", shared.err)
	}
	return shared.ctx
}

func closeBrowser() {
	for _, c := range shared.cancel {
		c()
	}
	if shared.userDir != "" {
		// chromium's helpers may still write there for a moment.
		for range 50 {
			if os.RemoveAll(shared.userDir) == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// tab is a new tab of the shared browser whose requests reach only the
// URLs that start with allowed: every other request fails as if the
// machine were offline, and is recorded in blocked. With allowed a file://
// URL, the browser is told it is offline too. It records the
// console's errors and every request the page made.
type tab struct {
	ctx      context.Context
	mu       sync.Mutex
	console  []string
	requests []string
	blocked  []string
}

// offline is the protocol's command that emulates a machine without a
// network (Network.emulateNetworkConditions, which this cdproto no longer
// lists; chromium still has it).
var offline = cdp.Command[offlineParams, cdp.Empty]{Method: "Network.emulateNetworkConditions"}

type offlineParams struct {
	Offline            bool    `json:"offline"`
	Latency            float64 `json:"latency"`
	DownloadThroughput float64 `json:"downloadThroughput"`
	UploadThroughput   float64 `json:"uploadThroughput"`
}

func newTab(t *testing.T, allowed string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser(t))
	t.Cleanup(cancel)
	tb := &tab{ctx: ctx}
	listen, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	if strings.HasPrefix(allowed, "file://") {
		if _, err := chromedp.Call(ctx, offline, offlineParams{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
			t.Fatalf("cutting the network: %v", err)
		}
	}
	// Every request stops at the Fetch domain, which lets through only
	// the allowed ones.
	paused := chromedp.Events(listen, fetch.RequestPaused)
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*"}}}); err != nil {
		t.Fatalf("intercepting the requests: %v", err)
	}
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			if strings.HasPrefix(ev.Request.URL, allowed) {
				chromedp.Call(listen, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
				continue
			}
			tb.mu.Lock()
			tb.blocked = append(tb.blocked, ev.Request.URL)
			tb.mu.Unlock()
			chromedp.Call(listen, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonInternetDisconnected})
		}
	}()
	go func() {
		for m, err := range chromedp.Console(listen) {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				tb.mu.Lock()
				tb.console = append(tb.console, m.String())
				tb.mu.Unlock()
			}
		}
	}()
	go func() {
		for ev, err := range chromedp.Events(listen, network.RequestWillBeSent) {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.requests = append(tb.requests, ev.Request.URL)
			tb.mu.Unlock()
		}
	}()
	return tb
}

// elsewhere lists the requests that did not start with one of prefixes,
// and those the tab blocked.
func (tb *tab) elsewhere(prefixes ...string) []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	out := append([]string(nil), tb.blocked...)
	for _, r := range tb.requests {
		ok := false
		for _, p := range prefixes {
			ok = ok || strings.HasPrefix(r, p)
		}
		if !ok {
			out = append(out, r)
		}
	}
	return out
}

// chartsReady says whether every chart of the page holds its svg.
const chartsReady = `[...document.querySelectorAll('[data-chart]')].every(e => e.querySelector('svg, canvas'))`

// shown is what the page shows: the cards, the daily table's rows (by
// column) and the charts that hold an svg or canvas.
type shown struct {
	Cards  map[string]string   `json:"cards"`
	Rows   []map[string]string `json:"rows"`
	Charts []string            `json:"charts"`
	URL    string              `json:"url"`
}

const readPage = `({
  cards: Object.fromEntries([...document.querySelectorAll('[data-indicator]')].map(e => [e.dataset.indicator, e.textContent.trim()])),
  rows: [...document.querySelectorAll('table[data-table="daily"] tbody tr:not(.empty)')].map(tr => Object.fromEntries([...tr.cells].map(td => [td.dataset.col, td.textContent.trim()]))),
  charts: [...document.querySelectorAll('.charts:not(.insights):not([data-section]) [data-chart]')].filter(e => e.querySelector('svg, canvas')).map(e => e.dataset.chart),
  url: location.href,
})`

// open loads u and reads the page once its charts are drawn.
func (tb *tab) open(t *testing.T, u string) shown {
	t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(u)); err != nil {
		t.Fatalf("opening %s: %v", u, err)
	}
	return tb.read(t)
}

func (tb *tab) read(t *testing.T) shown {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, time.Minute) // a bound on a hang, not an assertion
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](chartsReady, chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		t.Fatalf("waiting for the charts: %v (console: %v)", err, tb.errors())
	}
	got, err := chromedp.Run(tb.ctx, chromedp.Evaluate[shown](readPage))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (tb *tab) errors() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.console...)
}

// check compares what the page shows with the views' overview.
func check(t *testing.T, what string, got shown, o *stats.Overview, status string) {
	t.Helper()
	cards := stats.Day{Indicators: o.Cards}
	for _, c := range []string{"total", "approved", "rejected", "incomplete", "pending", "aml_count", "credits"} {
		if want := stats.Cell(cards, c, true); got.Cards[c] != want {
			t.Errorf("%s: card %s shows %q, the views %q", what, c, got.Cards[c], want)
		}
	}
	if len(got.Rows) != len(o.Daily) {
		t.Fatalf("%s: the daily table has %d rows, the views %d days", what, len(got.Rows), len(o.Daily))
	}
	for i, d := range o.Daily {
		row := got.Rows[i]
		for col, text := range row {
			if want := stats.Cell(d, col, true); text != want {
				t.Errorf("%s: row %d (%s) column %s shows %q, the views %q", what, i, d.Day, col, text, want)
			}
		}
		if status == "" && len(row) != 13 || status != "" && len(row) != 6 {
			t.Errorf("%s: row %d has columns %v", what, i, row)
		}
	}
	if strings.Join(got.Charts, " ") != "daily-volume status-distribution approval-rate credit-usage" {
		t.Errorf("%s: charts drawn: %v", what, got.Charts)
	}
}

// TestServedPage loads the served page in the browser, with the network
// cut off but for the server, for the default period, a status, a custom
// range and a project sorted by credits, and through the filter bar; each
// time the cards and the daily table are the views' numbers, the four
// charts are drawn and the console has no error.
func TestServedPage(t *testing.T) {
	srv := serve(t)
	tb := newTab(t, srv.URL+"/")
	custom := url.Values{"from": {window.FormatDate(fx.to.AddDate(0, 0, -16))}, "to": {window.FormatDate(fx.to.AddDate(0, 0, -3))}}
	var got, first shown
	for i, q := range []url.Values{
		{},
		{"status": {"rejected"}},
		custom,
		{"period": {"7d"}, "project": {"south"}, "sort": {"credits"}},
	} {
		got = tb.open(t, srv.URL+"/?"+q.Encode())
		check(t, "served ?"+q.Encode(), got, fx.views(t, q), q.Get("status"))
		if i == 0 {
			first = got
		}
	}

	// The default period, counted from the generators' items without
	// kycetl: the table's counts are theirs.
	got = first
	want := fx.expected(t, fx.to.AddDate(0, 0, -29), fx.to)
	if len(got.Rows) != 30 {
		t.Errorf("the default period shows %d days, want 30", len(got.Rows))
	}
	for _, row := range got.Rows {
		w := want[row["day"]]
		for col, n := range map[string]int64{"total": w.Total, "approved": w.Approved, "rejected": w.Rejected, "incomplete": w.Incomplete, "pending": w.Pending, "aml_count": w.AML} {
			if row[col] != fmt.Sprint(n) {
				t.Errorf("%s: %s shows %s, the items have %d", row["day"], col, row[col], n)
			}
		}
	}

	// The filter bar: choosing a status reloads the page with it added to
	// the other filters in the address, to bookmark.
	// (SetValue sends the change event a person's choice sends; RunResponse
	// waits for the page that the change loads.)
	choose, cancel := context.WithTimeout(tb.ctx, time.Minute) // a bound on a hang, not an assertion
	defer cancel()
	if resp, err := chromedp.RunResponse(choose, chromedp.SetValue(`select[name="status"]`, "pending")); err != nil || resp.Status != 200 {
		t.Fatalf("choosing a status: %v", err)
	}
	got = tb.read(t)
	u, _ := url.Parse(got.URL)
	if q := u.Query(); q.Get("status") != "pending" || q.Get("period") != "7d" || q.Get("project") != "south" || q.Get("sort") != "credits" || q.Has("from") {
		t.Errorf("the filter bar went to %s; want the last page's filters and status=pending", got.URL)
	}
	check(t, "after choosing pending", got, fx.views(t, u.Query()), "pending")

	if errs := tb.errors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
	if other := tb.elsewhere(srv.URL+"/", "data:"); len(other) > 0 {
		t.Errorf("the page asked other hosts: %v", other)
	}
}

// TestReportOffline opens the report file with the network cut off: it
// shows the views' numbers for a status and a custom range, draws the
// four charts, logs no error and asks for nothing but itself.
func TestReportOffline(t *testing.T) {
	tb := newTab(t, "file://")
	for _, req := range []stats.Request{
		{},
		{Status: "approved", From: window.FormatDate(fx.to.AddDate(0, 0, -20)), To: window.FormatDate(fx.to.AddDate(0, 0, -1))},
	} {
		var b strings.Builder
		if err := Report(context.Background(), &b, fx.db(t), req); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "report.html")
		if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		got := tb.open(t, "file://"+file)
		q := url.Values{"status": {req.Status}, "from": {req.From}, "to": {req.To}}
		if req.From == "" {
			q = url.Values{}
		}
		check(t, fmt.Sprintf("report %+v", req), got, fx.views(t, q), req.Status)
		sections, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('[data-section]')].map(e => e.dataset.section).join(' ')`))
		if err != nil || sections != "projects peak-times forecast anomalies time-to-decision backlog abandonment reject-reasons fractal" {
			t.Errorf("report %+v: sections %q (%v)", req, sections, err)
		}
	}
	png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screenshots(t), "report-approved.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	if errs := tb.errors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
	if other := tb.elsewhere("file://", "data:"); len(other) > 0 {
		t.Errorf("the report asked the network: %v", other)
	}
}

// screenshots is where the tests write their screenshots: a temporary
// directory, or $KYCETL_SCREENSHOTS to look at them.
func screenshots(t *testing.T) string {
	if dir := os.Getenv("KYCETL_SCREENSHOTS"); dir != "" {
		return dir
	}
	return t.TempDir()
}

// TestLayout: on a laptop screen and at a phone's width the body does not
// overflow sideways (the tables scroll in their panels), and each width's
// screenshot is written to a temporary directory (or KYCETL_SCREENSHOTS,
// to look at).
func TestLayout(t *testing.T) {
	srv := serve(t)
	tb := newTab(t, srv.URL+"/")
	dir := screenshots(t)
	for _, size := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"laptop", 1366, 900, false}, {"phone", 390, 844, true}} {
		var opts []chromedp.EmulateViewportOption
		if size.mobile {
			opts = append(opts, chromedp.EmulateScale(2), chromedp.EmulateMobile)
		}
		if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(size.width, size.height, opts...)); err != nil {
			t.Fatal(err)
		}
		tb.open(t, srv.URL+"/?period=30d")
		overflow, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, document.documentElement.clientWidth, document.body.scrollWidth]`))
		if err != nil {
			t.Fatal(err)
		}
		if overflow[0] > overflow[1] || overflow[2] > overflow[1] {
			t.Errorf("%s (%dpx): the page is %d/%dpx wide in a %dpx window: it overflows sideways", size.name, size.width, overflow[0], overflow[2], overflow[1])
		}
		png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "page-"+size.name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if errs := tb.errors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}

// sectionsShown is what the page shows of its sections beyond the
// vendor's page: the sections, the heat map's zone, each section table's
// body cells and each section chart's series data (from ECharts).
type sectionsShown struct {
	Sections []string              `json:"sections"`
	TZ       string                `json:"tz"`
	Tables   map[string][][]string `json:"tables"`
	MAPE     map[string]string     `json:"mape"`
	Series   map[string][]any      `json:"series"`
}

const readSections = `({
  sections: [...document.querySelectorAll('[data-section]')].map(e => e.dataset.section),
  tz: document.querySelector('[data-tz]').dataset.tz,
  tables: Object.fromEntries([...document.querySelectorAll('[data-section] table[data-table]')].map(t => [t.dataset.table,
    [...t.tBodies[0].rows].map(r => [...r.cells].map(c => c.textContent.trim()))])),
  mape: Object.fromEntries([...document.querySelectorAll('[data-mape]')].map(e => [e.dataset.mape, e.textContent.trim()])),
  series: Object.fromEntries([...document.querySelectorAll('[data-section] [data-chart]')].map(e => [e.dataset.chart,
    echarts.getInstanceByDom(e).getOption().series.map(s => s.data)])),
})`

// insightsOf reads the sections under the query's filter with the
// sql/stats readers, as the page does.
func insightsOf(t *testing.T, q url.Values) insights {
	t.Helper()
	flt, err := request(q).Filter(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tz := q.Get("tz")
	if tz == "" {
		tz = DefaultTimeZone
	}
	in, err := readInsights(context.Background(), fx.db(t), flt, tz)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// TestSectionsServed loads the served page and checks its sections beyond
// the vendor's page against the sql/stats readers: the heat map's cells
// (in UTC, and shifted to Asia/Tokyo by tz=), the forecast's backtest
// error, the anomalies (or "none"), the backlog, the abandonment funnel,
// the reject reasons and Fractal's snapshots, which show for north (it has
// snapshots) and not for south; every section chart is drawn, and the
// console has no error.
func TestSectionsServed(t *testing.T) {
	srv := serve(t)
	tb := newTab(t, srv.URL+"/")
	heat := func(cells []stats.PeakCell) string {
		var b strings.Builder
		for _, c := range cells {
			fmt.Fprintf(&b, "[%d,%d,%d]", c.Hour, c.Weekday-1, c.Submissions)
		}
		return b.String()
	}
	shownHeat := func(s sectionsShown) string {
		var b strings.Builder
		for _, series := range s.Series["peak-times"] {
			for _, c := range series.([]any) {
				fmt.Fprintf(&b, "[%v,%v,%v]", c.([]any)...)
			}
		}
		return b.String()
	}
	var utc string
	for _, q := range []url.Values{{}, {"tz": {"Asia/Tokyo"}, "status": {"approved"}}, {"project": {"south"}, "period": {"7d"}}} {
		tb.open(t, srv.URL+"/?"+q.Encode())
		got, err := chromedp.Run(tb.ctx, chromedp.Evaluate[sectionsShown](readSections))
		if err != nil {
			t.Fatal(err)
		}
		want := insightsOf(t, q)
		what := "?" + q.Encode()
		wantSections := "peak-times forecast anomalies time-to-decision backlog abandonment reject-reasons"
		if q.Get("project") != "south" {
			wantSections += " fractal"
		}
		if gotSections := strings.Join(got.Sections[1:], " "); got.Sections[0] != "projects" || gotSections != wantSections {
			t.Errorf("%s: sections %v, want projects %s", what, got.Sections, wantSections)
		}
		if got.TZ != want.TimeZone || shownHeat(got) != heat(want.PeakTimes) || len(want.PeakTimes) == 0 {
			t.Errorf("%s: the heat map in %s shows %s, the readers in %s %s", what, got.TZ, shownHeat(got), want.TimeZone, heat(want.PeakTimes))
		}
		if q.Encode() == "" {
			utc = shownHeat(got)
		} else if q.Has("tz") && shownHeat(got) == utc {
			t.Errorf("%s: the heat map's hours did not move from UTC's", what)
		}
		for _, m := range (&data{Insights: want}).ForecastMAPEs() {
			if w := stats.Percent(m.MAPE); got.MAPE[m.Project] != w && !(m.MAPE == nil && got.MAPE[m.Project] == "n/a") {
				t.Errorf("%s: %s's backtest MAPE shows %q, the readers %q", what, m.Project, got.MAPE[m.Project], w)
			}
		}
		if len(want.Forecast) == 0 || len(got.MAPE) == 0 {
			t.Errorf("%s: no forecast (%d rows) or no MAPE shown %v", what, len(want.Forecast), got.MAPE)
		}
		rows := func(name string, n int, row func(i int) []string) {
			t.Helper()
			var w [][]string
			for i := range n {
				w = append(w, row(i))
			}
			if n == 0 {
				w = [][]string{{"none"}}
			}
			if fmt.Sprint(got.Tables[name]) != fmt.Sprint(w) {
				t.Errorf("%s: table %s shows %v, the readers %v", what, name, got.Tables[name], w)
			}
		}
		rows("anomalies", len(want.Anomalies), func(i int) []string {
			a := want.Anomalies[i]
			return []string{a.Day, a.Project, metricNames[a.Metric], metricValue(a.Metric, a.Value), metricValue(a.Metric, a.Expected), fmt.Sprintf("%.1f", a.Score)}
		})
		rows("backlog", len(want.Backlog), func(i int) []string { return []string{want.Backlog[i].AgeBucket, fmt.Sprint(want.Backlog[i].Pending)} })
		rows("abandonment", len(want.Abandonment), func(i int) []string {
			s := want.Abandonment[i]
			step := "(no camera process)"
			if s.Step != nil {
				step = *s.Step
			}
			return []string{step, fmt.Sprint(s.Reached), fmt.Sprint(s.Abandoned), fmt.Sprint(s.Errors)}
		})
		rows("reject-reasons", len(want.RejectReason), func(i int) []string {
			r := want.RejectReason[i]
			reason := "(no code)"
			if r.Reason != nil {
				reason = *r.Reason
			}
			return []string{fmt.Sprint(r.Rank), reason, fmt.Sprint(r.Submissions)}
		})
		if fr := want.Fractal; fr != nil {
			if len(fr.Status) != fractalDays || len(got.Tables["fractal-status"]) != fractalDays {
				t.Errorf("%s: %d Fractal snapshot days in the view, %d shown; want %d", what, len(fr.Status), len(got.Tables["fractal-status"]), fractalDays)
			}
			for i, d := range fr.Status {
				if i < len(got.Tables["fractal-status"]) {
					r := got.Tables["fractal-status"][i]
					if r[0] != d.Day || r[8] != fmt.Sprint(d.Total) || r[9] != change(d.TotalChange) || r[2] != fmt.Sprint(d.Approved) {
						t.Errorf("%s: Fractal row %v, the view %+v", what, r, d)
					}
				}
			}
			var changes []any
			for _, c := range fr.Changes {
				changes = append(changes, float64(c.Changes))
			}
			if len(changes) == 0 || fmt.Sprint(got.Series["fractal-changes"]) != fmt.Sprint([]any{changes}) {
				t.Errorf("%s: credential changes per day %v, the view %v", what, got.Series["fractal-changes"], changes)
			}
		}
	}
	// The tooltips of the series told apart by id (a band's low and high,
	// a reviewer's median and p90) name each.
	tips, err := chromedp.Run(tb.ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries(['credit-forecast', 'time-to-decision'].map(n => {
	  const el = document.querySelector('[data-chart="' + n + '"]');
	  echarts.getInstanceByDom(el).dispatchAction({type: 'showTip', seriesIndex: 0, dataIndex: 1});
	  return [n, el.innerText];
	}))`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tips["credit-forecast"], "low – high high") || !strings.Contains(tips["time-to-decision"], " p90: ") {
		t.Errorf("tooltips: %q", tips)
	}
	if errs := tb.errors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}
