package ui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

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

	chart       *licenseChart  // the Licenses page's chart
	appKind     *widget.Select // the Applications page's filter
	usageReport *widget.Select // the Usage page's report

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
	// still under way (readAhead).
	readsAhead int
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
		p = newDataPage(m, name, usersSource{cat: m.lic.catalog()}, chip)
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
		split := container.NewVSplit(chart, p.table)
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
		go func() {
			ls, err := src.read(context.Background(), store, connID, q)
			doUI(func() {
				if gen != p.gen {
					return
				}
				if err != nil {
					ls = nil
				}
				m.licenses = ls
				m.chart.setLicenses(ls, m.lic.catalog())
				p.extraShown.land(gen, q, connID, len(ls), err)
			})
		}()
	}
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
		doUI(func() {
			m.statusPending--
			if err == nil {
				m.lastRuns = runs
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
