package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/connector/catalog"
	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/service/optimize"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// dataPages is the data pages' controller: Users, Licenses, Applications,
// Usage and Import history on the inventory store, the connection they
// show, and the latest run of each connection (Last run / Last result).
type dataPages struct {
	*screen
	// draft gives the connections the pages offer.
	draft *draft
	// store is the database of imported data; nil: the pages are
	// placeholders.
	store *inventory.Store

	pages  map[string]*dataPage
	connID string // the connection the pages show
	// lic names and prices the licences; optimization is the
	// Optimization page once built, opt what computes it.
	lic          *licensing
	optimization *optimizationPage
	opt          Optimizer
	// licenses are the Licenses page's SKUs as last read, for the
	// service plans of its row dialog.
	licenses []inventory.License
	// catalogNote says which catalogue names the Licenses page's
	// products.
	catalogNote *widget.Label
	// priceDlg is the last Set price dialog shown.
	priceDlg *priceDialog
	lastRuns map[string]inventory.Run
	// failing are the connections whose latest imports all failed, as
	// read with lastRuns.
	failing map[string]inventory.Failing

	chart *licenseChart // the Licenses page's chart
	// trend is the Licenses page's history (issue 18): one SKU's or all,
	// over trendPeriod; trendShown is its last read that landed.
	trend       *trendChart
	trendSKU    *widget.Select
	trendPeriod *widget.Select
	trendShown  landing
	// timelineShown is the last user's licence timeline that landed.
	timelineShown landing
	appKind       *widget.Select // the Applications page's filter
	usageReport   *widget.Select // the Usage page's report

	// statusChanged redraws the run state after a load of lastRuns; show
	// opens a navigation page.
	statusChanged func()
	show          func(page string)
	// statusLoads counts the reads of lastRuns that reached the window,
	// statusErr is the last one's error, statusPending the reads still
	// under way: until the first lands, the table shows no past run.
	statusLoads   int
	statusErr     error
	statusPending int
	// readsAhead counts the reads of facts ahead of the Optimization page
	// still under way (readAhead), extrasPending the Licenses chart's and
	// trend's reads: a window is closed only when none is left.
	readsAhead    int
	extrasPending int
}

func newDataPages(s *screen, d *draft, store *inventory.Store, statusChanged func(), show func(string)) *dataPages {
	return &dataPages{screen: s, draft: d, store: store, pages: map[string]*dataPage{},
		statusChanged: statusChanged, show: show}
}

// dataPageNames are the pages built on the inventory store.
var dataPageNames = []string{PageUsers, PageLicenses, PageApplications, PageUsage, PageImportHistory}

// buildDataPage builds one of the data pages, or returns nil when name is
// not one or there is no inventory.
func (m *dataPages) buildDataPage(name string) *dataPage {
	if m.store == nil {
		return nil
	}
	var p *dataPage
	switch name {
	case PageUsers:
		chip := widget.NewButtonWithIcon("", theme.CancelIcon(), nil)
		chip.IconPlacement = widget.ButtonIconTrailingText
		chip.Hide()
		timeline := widget.NewButton("Licence timeline...", func() { m.showTimeline(m.pages[PageUsers]) })
		p = newDataPage(m, name, usersSource{cat: m.lic.catalog()}, chip, timeline)
		p.skuChip = chip
		chip.OnTapped = func() { p.setSKU("", "") }
		// By name, as people read names (Íñigo beside Inigo), rather than
		// in the order Graph listed them (issue 23 item 10).
		p.q.Sort = "displayName"
	case PageApplications:
		kind := widget.NewSelect(appKindLabels(nil), nil)
		p = newDataPage(m, name, applicationsSource{}, widget.NewLabel("Show:"), kind)
		kind.SetSelectedIndex(0)
		kind.OnChanged = func(string) {
			if i := kind.SelectedIndex(); i >= 0 && inventory.AppKinds[i] != p.q.Apps {
				p.q.Apps = inventory.AppKinds[i]
				p.reload(true)
			}
		}
		m.appKind = kind
		p.extra = m.loadAppKinds(p, kind)
	case PageImportHistory:
		p = newDataPage(m, name, historySource{})
	case PageLicenses:
		p = newDataPage(m, name, m.licensesSource(), m.priceButtons()...)
		m.chart = newLicenseChart()
		chart := container.NewBorder(m.chart.Legend, nil, nil, nil, container.NewVScroll(m.chart))
		// Which catalogue names the products, with its date.
		m.catalogNote = widget.NewLabel(m.lic.sourceText())
		m.catalogNote.Wrapping = fyne.TextWrapWord
		p.top.Add(m.catalogNote)
		m.trend = newTrendChart()
		m.trendSKU = widget.NewSelect([]string{trendAllSKUs}, func(string) { m.loadTrend(p) })
		m.trendSKU.SetSelected(trendAllSKUs)
		m.trendPeriod = widget.NewSelect(service.Periods, func(string) { m.loadTrend(p) })
		m.trendPeriod.SetSelectedIndex(int(service.Last12Months))
		trend := container.NewBorder(container.NewVBox(container.NewHBox(widget.NewLabel("Licence:"), m.trendSKU,
			widget.NewLabel("Period:"), m.trendPeriod), m.trend.Legend), nil, nil, nil, m.trend)
		tabs := container.NewAppTabs(container.NewTabItem("Now", chart), container.NewTabItem("Trend", trend))
		split := container.NewVSplit(tabs, p.table)
		split.Offset = 0.45
		p.setCenter(split)
		p.extra = m.loadChart(p)
	case PageUsage:
		var titles []string
		for _, k := range inventory.ReportKinds {
			titles = append(titles, inventory.Report(k).Title)
		}
		report := widget.NewSelect(titles, nil)
		p = newDataPage(m, name, newReportSource(inventory.ReportKinds[0]), widget.NewLabel("Report:"), report)
		report.SetSelectedIndex(0)
		report.OnChanged = func(string) {
			if i := report.SelectedIndex(); i >= 0 {
				p.setSource(newReportSource(inventory.ReportKinds[i]))
			}
		}
		m.usageReport = report
	default:
		return nil
	}
	m.pages[name] = p
	return p
}

// loadChart returns the Licenses page's hook that redraws the chart for
// the licenses the table's search selects.
func (m *dataPages) loadChart(p *dataPage) func(inventory.Query, inventory.Run, error) {
	return func(q inventory.Query, _ inventory.Run, err error) {
		if err != nil {
			m.chart.setLicenses(nil, nil)
			p.extraShown.land(p.gen, q, p.connID, 0, err)
			return
		}
		gen, connID, store, src := p.gen, p.connID, m.store, m.licensesSource()
		q.Limit, q.Offset, q.Sort, q.Desc = 0, 0, "", false
		m.extrasPending++
		go func() {
			ls, err := src.read(context.Background(), store, connID, q)
			doUI(func() {
				m.extrasPending--
				if gen != p.gen {
					return
				}
				if err != nil {
					ls = nil
				}
				m.licenses = ls
				m.chart.setLicenses(ls, m.lic.catalog())
				m.setTrendSKUs(ls)
				p.extraShown.land(gen, q, connID, len(ls), err)
				m.loadTrend(p)
			})
		}()
	}
}

// trendAllSKUs is the trend's choice of every licence summed.
const trendAllSKUs = "All licences"

// setTrendSKUs offers the snapshot's SKUs in the trend's chooser, keeping
// the choice when the SKU is still there (Fyne goroutine).
func (m *dataPages) setTrendSKUs(ls []inventory.License) {
	opts := []string{trendAllSKUs}
	for _, l := range ls {
		opts = append(opts, m.lic.catalog().Label(l.SkuID, l.SkuPartNumber))
	}
	cur := m.trendSKU.Selected
	m.trendSKU.Options = opts
	if !slices.Contains(opts, cur) {
		m.trendSKU.Selected = trendAllSKUs
	}
	m.trendSKU.Refresh()
}

// loadTrend reads the history the trend's choices select, in the
// background, and draws it (Fyne goroutine).
func (m *dataPages) loadTrend(p *dataPage) {
	if m.trend == nil || m.trendSKU == nil || m.trendPeriod == nil || m.store == nil {
		return
	}
	sku := ""
	if i := m.trendSKU.SelectedIndex(); i > 0 && i-1 < len(m.licenses) {
		sku = m.licenses[i-1].SkuID
	}
	since := service.Period(max(0, m.trendPeriod.SelectedIndex())).Since(clock.Now())
	h := service.History{Store: m.store}
	if m.draft.repo != nil && m.draft.repo.Config != nil {
		h.ConfigDir = m.draft.repo.Config.Dir()
	}
	gen, connID := p.gen, p.connID
	m.extrasPending++
	go func() {
		points, err := h.Trend(context.Background(), connID, sku, since)
		doUI(func() {
			m.extrasPending--
			if gen != p.gen || connID != p.connID {
				return
			}
			if err != nil {
				points = nil
			}
			m.trend.setPoints(points)
			m.trendShown.land(gen, inventory.Query{Search: sku}, connID, len(points), err)
		})
	}()
}

// showTimeline shows the licence events of the user selected on the
// Users page, read in the background (Fyne goroutine).
func (m *dataPages) showTimeline(p *dataPage) {
	if p == nil || p.selected < 0 || p.selected >= p.total {
		m.ask("No user selected", "Click a user in the table, then Licence timeline... again.",
			promptButton{label: "OK", importance: widget.HighImportance})
		return
	}
	upn := p.cell(p.selected, 1)
	h := service.History{Store: m.store}
	if m.draft.repo != nil && m.draft.repo.Config != nil {
		h.ConfigDir = m.draft.repo.Config.Dir()
	}
	gen, connID, cat := p.gen, p.connID, m.lic.catalog()
	go func() {
		evs, err := h.Events(context.Background(), connID, inventory.HistoryQuery{UPN: upn})
		doUI(func() {
			m.timelineShown.land(gen, inventory.Query{Search: upn}, connID, len(evs), err)
			if err != nil {
				m.ask("Licence timeline", fmt.Sprintf("The licence history of %s cannot be read: %v", upn, err),
					promptButton{label: "OK", importance: widget.HighImportance})
				return
			}
			m.ask("Licence timeline of "+upn, timelineText(evs, cat), promptButton{label: "OK", importance: widget.HighImportance})
		})
	}()
}

// timelineText lists a user's licence events, a line each.
func timelineText(evs []inventory.HistoryEvent, cat *catalog.Catalog) string {
	if len(evs) == 0 {
		return "No licence changes seen since the first import of this connection (the history starts there)."
	}
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "%s  %s", e.Day.Format(time.DateOnly), e.Kind)
		if e.SkuID != "" {
			fmt.Fprintf(&b, ": %s", cat.Name(e.SkuID, ""))
		}
		b.WriteByte('\n')
	}
	return strings.TrimSpace(b.String())
}

// showUsersHolding opens the Users page on the holders of one licence.
func (m *dataPages) showUsersHolding(skuID, label string) {
	m.show(PageUsers)
	if p := m.pages[PageUsers]; p != nil {
		p.setSKU(skuID, label)
	}
}

// appKindNames name the Applications page's filters.
var appKindNames = map[inventory.AppKind]string{
	inventory.AppsAll:        "All applications",
	inventory.AppsMicrosoft:  "Microsoft (first-party)",
	inventory.AppsThirdParty: "Third-party",
	inventory.AppsOwn:        "Your organisation's",
	inventory.AppsManaged:    "Managed identities",
}

// appKindLabels are the filter's options, with their counts when known.
func appKindLabels(counts map[inventory.AppKind]int) []string {
	out := make([]string, len(inventory.AppKinds))
	for i, k := range inventory.AppKinds {
		out[i] = appKindNames[k]
		if counts != nil {
			out[i] += fmt.Sprintf(" (%s)", count(counts[k]))
		}
	}
	return out
}

// loadAppKinds returns the Applications page's hook that counts the
// applications of each kind the search selects, for the filter's options.
func (m *dataPages) loadAppKinds(p *dataPage, kind *widget.Select) func(inventory.Query, inventory.Run, error) {
	return func(q inventory.Query, _ inventory.Run, err error) {
		if err != nil {
			kind.Options = appKindLabels(nil)
			kind.SetSelectedIndex(max(kind.SelectedIndex(), 0))
			p.extraShown.land(p.gen, q, p.connID, 0, err)
			return
		}
		gen, connID, store := p.gen, p.connID, m.store
		q.Apps, q.Limit, q.Offset = inventory.AppsAll, 0, 0
		go func() {
			counts, err := store.ApplicationKinds(context.Background(), connID, q)
			doUI(func() {
				if gen != p.gen {
					return
				}
				if err != nil {
					// The options keep the counts they had.
					p.extraShown.land(gen, q, connID, 0, err)
					return
				}
				sel := kind.SelectedIndex()
				kind.Options = appKindLabels(counts)
				// Quietly: the choice did not change, only its label.
				onChanged := kind.OnChanged
				kind.OnChanged = nil
				kind.SetSelectedIndex(sel)
				kind.OnChanged = onChanged
				p.extraShown.land(gen, q, connID, counts[inventory.AppsAll], nil)
			})
		}()
	}
}

// RefreshData reloads the data pages and Last run / Last result (after an
// import that this window did not start, e.g. a scheduled one). It is safe
// to call from any goroutine.
func (m *MainWindow) RefreshData() {
	doUI(m.data.refresh)
}

// refresh reloads Last run / Last result and the pages showing data.
func (m *dataPages) refresh() {
	m.loadRunStatus()
	for _, p := range m.pages {
		if p.connID != "" {
			p.reload(false)
		}
	}
	if m.optimization != nil && m.optimization.connID != "" {
		m.optimization.compute()
	} else {
		m.readAhead(m.connID)
	}
}

// factsReader is what an Optimizer offers to read a snapshot's facts
// ahead of the page (service.Optimizer does).
type factsReader interface {
	Facts(ctx context.Context, connID string) (*optimize.Facts, error)
}

// readAhead reads the reclamation facts of connID's current snapshot in
// the background, so the Optimization page opens on figures already in
// memory: reading 100,000 users' facts takes 0.25–0.8 s on a 2-core
// machine, computing them from memory about 50 ms. It is called when a
// data page's connection is chosen and after an import lands; the
// Optimizer keeps one snapshot's facts per connection, the same as
// opening the page would, and a page opened during the read waits for it
// rather than reading again.
func (m *dataPages) readAhead(connID string) {
	r, ok := m.opt.(factsReader)
	if !ok || connID == "" || m.store == nil {
		return
	}
	m.readsAhead++
	go func() {
		_, _ = r.Facts(context.Background(), connID) // errors show when the page opens
		doUI(func() { m.readsAhead-- })
	}()
}

// licensingChanged re-renders what shows product names or prices, after
// a catalogue was loaded or a price set: the rows read again with the new
// names, the Optimization page computed again from its cached facts.
func (m *dataPages) licensingChanged() {
	if p := m.pages[PageUsers]; p != nil {
		p.src = usersSource{cat: m.lic.catalog()}
		p.reload(false)
	}
	if m.catalogNote != nil {
		m.catalogNote.SetText(m.lic.sourceText())
	}
	if p := m.pages[PageLicenses]; p != nil {
		p.src = m.licensesSource()
		p.reload(false)
	}
	if o := m.optimization; o != nil {
		o.compute()
	}
}

// buildOptimization builds the Optimization page, or returns nil without
// an inventory.
func (m *dataPages) buildOptimization() *optimizationPage {
	if m.store == nil {
		return nil
	}
	m.optimization = newOptimizationPage(m, m.lic, m.opt)
	return m.optimization
}

// loadRunStatus reads each connection's latest run off the Fyne goroutine.
func (m *dataPages) loadRunStatus() {
	store := m.store
	if store == nil {
		return
	}
	m.statusPending++
	go func() {
		runs, err := store.LastRuns(context.Background())
		var failing map[string]inventory.Failing
		if err == nil {
			failing, err = store.FailingConnections(context.Background())
		}
		doUI(func() {
			m.statusPending--
			if err == nil {
				m.lastRuns, m.failing = runs, failing
			}
			m.statusChanged()
			m.statusLoads++
			m.statusErr = err
		})
	}()
}

// hasData reports whether the connection has an imported snapshot, which
// a failed run leaves current (false when the store cannot say).
func (m *dataPages) hasData(connID string) bool {
	if m.store == nil {
		return false
	}
	_, err := m.store.CurrentRun(context.Background(), connID)
	return err == nil
}
