package ui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/schedule"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// The built-in data pages and the run state of the connections, shown
// when Deps.Inventory is set.

// dataPageNames are the pages built on the inventory store.
var dataPageNames = []string{PageUsers, PageLicenses, PageApplications, PageUsage, PageImportHistory}

// buildDataPage builds one of the data pages, or returns nil when name is
// not one or there is no inventory.
func (m *MainWindow) buildDataPage(name string) *dataPage {
	if m.deps.Inventory == nil {
		return nil
	}
	var p *dataPage
	switch name {
	case PageUsers:
		chip := widget.NewButtonWithIcon("", theme.CancelIcon(), nil)
		chip.IconPlacement = widget.ButtonIconTrailingText
		chip.Hide()
		p = newDataPage(m, name, usersSource{}, chip)
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
		p = newDataPage(m, name, licensesSource{})
		m.licenseChart = newLicenseChart()
		chart := container.NewBorder(m.licenseChart.Legend, nil, nil, nil, container.NewVScroll(m.licenseChart))
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
	if m.data == nil {
		m.data = map[string]*dataPage{}
	}
	m.data[name] = p
	return p
}

// loadChart returns the Licenses page's hook that redraws the chart for
// the licenses the table's search selects.
func (m *MainWindow) loadChart(p *dataPage) func(inventory.Query, inventory.Run, error) {
	return func(q inventory.Query, _ inventory.Run, err error) {
		if err != nil {
			m.licenseChart.setLicenses(nil)
			return
		}
		gen, connID, store := p.gen, p.connID, m.deps.Inventory
		q.Limit, q.Offset, q.Sort, q.Desc = 0, 0, "", false
		go func() {
			ls, err := store.Licenses(context.Background(), connID, q)
			doUI(func() {
				if gen != p.gen {
					return
				}
				if err != nil {
					ls = nil
				}
				m.licenseChart.setLicenses(ls)
				p.notify(tableEvent{kind: "chart", q: q, total: len(ls), err: err})
			})
		}()
	}
}

// showUsersHolding opens the Users page on the holders of one licence.
func (m *MainWindow) showUsersHolding(skuID, label string) {
	m.nav.Select(PageUsers)
	if p := m.data[PageUsers]; p != nil {
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
func (m *MainWindow) loadAppKinds(p *dataPage, kind *widget.Select) func(inventory.Query, inventory.Run, error) {
	return func(q inventory.Query, _ inventory.Run, err error) {
		if err != nil {
			kind.Options = appKindLabels(nil)
			kind.SetSelectedIndex(max(kind.SelectedIndex(), 0))
			return
		}
		gen, connID, store := p.gen, p.connID, m.deps.Inventory
		q.Apps, q.Limit, q.Offset = inventory.AppsAll, 0, 0
		go func() {
			counts, err := store.ApplicationKinds(context.Background(), connID, q)
			doUI(func() {
				if gen != p.gen || err != nil {
					return
				}
				sel := kind.SelectedIndex()
				kind.Options = appKindLabels(counts)
				// Quietly: the choice did not change, only its label.
				onChanged := kind.OnChanged
				kind.OnChanged = nil
				kind.SetSelectedIndex(sel)
				kind.OnChanged = onChanged
				p.notify(tableEvent{kind: "kinds", q: q, total: counts[inventory.AppsAll]})
			})
		}()
	}
}

// RefreshData reloads the data pages and Last run / Last result (after an
// import that this window did not start, e.g. a scheduled one). It is safe
// to call from any goroutine.
func (m *MainWindow) RefreshData() {
	doUI(m.refreshData)
}

func (m *MainWindow) refreshData() {
	m.loadRunStatus()
	for _, p := range m.data {
		if p.connID != "" {
			p.reload(false)
		}
	}
}

// loadRunStatus reads each connection's latest run off the Fyne goroutine.
func (m *MainWindow) loadRunStatus() {
	store := m.deps.Inventory
	if store == nil {
		return
	}
	go func() {
		runs, err := store.LastRuns(context.Background())
		doUI(func() {
			if err == nil {
				m.lastRuns = runs
			}
			if m.systems != nil {
				m.systems.refresh()
			}
			if m.statusLoaded != nil {
				m.statusLoaded(err)
			}
		})
	}()
}

// connStatus is what the Inventory Systems table shows of a connection's
// runs: the last run from the import history, the next run from the
// window's configuration, and "Running" while this window or the
// scheduler imports it.
func (m *MainWindow) connStatus(connID string) ConnectionStatus {
	var st ConnectionStatus
	if r, ok := m.lastRuns[connID]; ok {
		st.LastRun = r.Started
		st.LastResult = resultText(r)
	}
	if st.NextRun.IsZero() {
		// From the window's configuration, so a schedule chosen or
		// edited but not saved yet shows its next run at once.
		st.NextRun, _ = schedule.NextRun(m.cfg, connID, m.now(), m.loc)
	}
	if m.exec.isRunning(connID) || m.schedRuns[connID] {
		st.LastResult = "Running…"
	}
	return st
}

// onRunChanged follows the start and end of an import started here: the
// data pages change only when it ends.
func (m *MainWindow) onRunChanged(connID string) {
	if m.systems != nil {
		m.systems.refresh()
	}
	if m.exec.isRunning(connID) {
		m.loadRunStatus()
		return
	}
	if m.exec.exitAfterImports && len(m.exec.running) == 0 {
		m.exec.exitAfterImports = false
		m.requestExit()
		return
	}
	m.refreshData()
}
