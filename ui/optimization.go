package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/connector/catalog"
	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/service/optimize"
	"github.com/inventorybeacon/beacon/storage"
)

// Optimizer computes the Optimization page's figures for a connection's
// current snapshot (service.Optimizer). It is called off the Fyne
// goroutine; it keeps the snapshot's facts, so calling it again for
// another N costs a computation in memory, not a read.
type Optimizer interface {
	Optimize(ctx context.Context, connID string, days int, cfg *storage.Config, cat *catalog.Catalog) (*optimize.Result, error)
}

// optimizationLists are the page's lists, in the order of the selector:
// what to act on first comes first.
var optimizationLists = []optimize.Reason{optimize.Inactive, optimize.NeverActive, optimize.Disabled,
	optimize.LicensedGuest, optimize.NewStarter, optimize.Overlapping, optimize.AssignmentError}

// listTitle names a list in the selector and the export's file name.
func listTitle(r optimize.Reason, days int) string {
	switch r {
	case optimize.Inactive:
		return fmt.Sprintf("Inactive %d days", days)
	case optimize.Disabled:
		return "Disabled accounts"
	case optimize.LicensedGuest:
		return "Licensed guests"
	case optimize.NewStarter:
		return "New starters"
	case optimize.AssignmentError:
		return "Assignment errors"
	}
	return r.String()
}

// Bounds of a typed N.
const (
	minInactiveDays = 1
	maxInactiveDays = 3650
)

// parseInactiveDays reads the N chooser.
func parseInactiveDays(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "days")))
	if err != nil || n < minInactiveDays || n > maxInactiveDays {
		return 0, fmt.Errorf("type a number of days from %d to %d", minInactiveDays, maxInactiveDays)
	}
	return n, nil
}

// skuColumns are the totals table's columns.
var skuColumns = []dataColumn{
	{"", "Product", 300}, {"", "Purchased", 85}, {"", "Assigned", 80}, {"", "Unused", 70}, {"", "Inactive", 70},
	{"", "Never active", 95}, {"", "Disabled", 75}, {"", "Overlapping", 95}, {"", "Recoverable", 95},
	{"", "Price", 150}, {"", "Recoverable / month", 150},
}

// findingColumns are the lists' columns, the workloads in the middle.
func findingColumns() []dataColumn {
	cols := []dataColumn{{"", "User Principal Name", 240}, {"", "Display Name", 170}, {"", "Department", 110},
		{"", "Licenses", 300}, {"", "Last Activity", 105}}
	for _, w := range optimize.WorkloadNames {
		cols = append(cols, dataColumn{"", w, float32(max(95, len(w)*8))})
	}
	return append(cols, dataColumn{"", "Source", 220}, dataColumn{"", "Detail", 360}, dataColumn{"", "Cost / month", 120})
}

// optimizationPage is the Optimization page (issue 17): for the chosen
// connection's current snapshot and N, what can be reclaimed and what it
// would save, and the lists of whom to act on. The computation runs off
// the Fyne goroutine; the tables read the last result, so 100,000
// findings cost nothing until their rows scroll into view.
type optimizationPage struct {
	ctl *dataPages
	lic *licensing
	opt Optimizer

	content fyne.CanvasObject
	conn    *widget.Select
	connIDs []string
	connID  string
	days    *widget.SelectEntry
	daysErr *widget.Label
	asOf    *widget.Label // the reference date and the catalogue
	notices *widget.Label
	message *widget.Label // why there is nothing to show
	totals  *widget.Label
	skus    *widget.Table
	list    *widget.Select
	rows    *widget.Table
	status  *widget.Label
	export  *widget.Button
	exportA *widget.Button

	n      int
	reason optimize.Reason
	cols   []dataColumn
	res    *optimize.Result
	// all is what res sums when All connections is chosen (else nil).
	all *service.Totals
	err error
	gen int
	// pending counts computations under way, computed those whose result
	// reached the widgets: tests wait on them.
	pending  int
	computed int
	// exports counts the exports finished, exportErr is the last one's
	// error.
	exports   int
	exportErr error
}

func newOptimizationPage(ctl *dataPages, lic *licensing, opt Optimizer) *optimizationPage {
	o := &optimizationPage{ctl: ctl, lic: lic, opt: opt, n: optimize.DefaultInactiveDays, reason: optimize.Inactive, cols: findingColumns()}
	o.conn = widget.NewSelect(nil, o.onConnection)
	o.conn.PlaceHolder = "(no connections)"
	var choices []string
	for _, d := range optimize.InactiveChoices {
		choices = append(choices, strconv.Itoa(d))
	}
	o.days = widget.NewSelectEntry(choices)
	o.days.SetText(strconv.Itoa(o.n))
	o.days.OnChanged = o.onDays
	o.daysErr = newNote(widget.DangerImportance)
	o.asOf = newNote(widget.MediumImportance)
	o.asOf.Show()
	o.notices = newNote(widget.WarningImportance)
	o.message = newNote(widget.MediumImportance)
	o.totals = newNote(widget.MediumImportance)
	o.totals.TextStyle.Bold = true
	o.status = widget.NewLabel("")

	o.skus = newTextTable(skuColumns, func() int {
		if o.res == nil {
			return 0
		}
		return len(o.res.SKUs)
	}, o.skuCell)
	o.rows = newTextTable(o.cols, func() int {
		if o.res == nil {
			return 0
		}
		return len(o.res.Lists[o.reason])
	}, o.findingCell)

	o.list = widget.NewSelect(o.listLabels(), func(string) {
		if i := o.list.SelectedIndex(); i >= 0 && optimizationLists[i] != o.reason {
			o.reason = optimizationLists[i]
			o.showList(true)
		}
	})
	o.list.SetSelectedIndex(0)
	o.export = widget.NewButtonWithIcon("Export list...", theme.DocumentSaveIcon(), o.onExportList)
	o.exportA = widget.NewButtonWithIcon("Export all...", theme.DocumentSaveIcon(), o.onExportAll)
	o.export.Disable()
	o.exportA.Disable()

	heading := widget.NewLabelWithStyle(PageOptimization, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	// A Select and a SelectEntry are as narrow as their text: give them
	// room for a connection's name, four digits and a list's title.
	bar := container.NewHBox(widget.NewLabel("Connection:"), o.conn, widget.NewLabel("Inactive for"),
		widthOf(o.days, 100), widget.NewLabel("days"), o.daysErr)
	top := container.NewVBox(heading, bar, o.asOf, o.message, o.notices, o.totals)
	listBar := container.NewBorder(nil, nil, container.NewHBox(widget.NewLabel("List:"), widthOf(o.list, 280)),
		container.NewHBox(o.export, o.exportA))
	lower := container.NewBorder(listBar, nil, nil, nil, o.rows)
	split := container.NewVSplit(o.skus, lower)
	split.Offset = 0.4
	o.content = container.NewBorder(top, o.status, nil, nil, split)
	return o
}

// widthOf gives o at least width w, at its own height.
func widthOf(o fyne.CanvasObject, w float32) fyne.CanvasObject {
	return container.NewGridWrap(fyne.NewSize(max(w, o.MinSize().Width), o.MinSize().Height), o)
}

// newTextTable is a virtual table of text cells with a header row: the
// cells are made for the rows on screen only, whatever rows returns.
func newTextTable(cols []dataColumn, rows func() int, cell func(row, col int) string) *widget.Table {
	t := widget.NewTableWithHeaders(
		func() (int, int) { return rows(), len(cols) },
		func() fyne.CanvasObject { return newDataCell() },
		func(id widget.TableCellID, o fyne.CanvasObject) {
			c := o.(*dataCell)
			c.row, c.col = id.Row, id.Col
			c.SetText(cell(id.Row, id.Col))
		})
	t.ShowHeaderColumn = false
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		l := o.(*widget.Label)
		if id.Col >= 0 && id.Col < len(cols) {
			l.SetText(cols[id.Col].title)
		}
	}
	for i, c := range cols {
		t.SetColumnWidth(i, c.width)
	}
	return t
}

// activate is called when the page is shown: the connections of the
// configuration, the one chosen on another page.
func (o *optimizationPage) activate(connID string) {
	if o.connID == allConnectionsID {
		connID = allConnectionsID // kept while the page is left and shown again
	}
	if chooseConnection(o.conn, o.ctl.draft.cfg, connID, &o.connIDs, &o.connID, true) != connChanged {
		o.compute()
	}
}

func (o *optimizationPage) onConnection(string) {
	if connectionChosen(o.conn, o.connIDs, &o.connID) {
		if o.connID != allConnectionsID {
			o.ctl.connID = o.connID
		}
		o.compute()
	}
}

// onDays takes a chosen or typed N; a bad one is said under the field and
// changes nothing.
func (o *optimizationPage) onDays(s string) {
	n, err := parseInactiveDays(s)
	if err != nil {
		o.daysErr.SetText(strings.ToUpper(err.Error()[:1]) + err.Error()[1:] + ".")
		o.daysErr.Show()
		return
	}
	o.daysErr.Hide()
	if n == o.n {
		return
	}
	o.n = n
	o.compute()
}

// compute asks the Optimizer for the page's figures in the background;
// an older computation's result is dropped when it lands.
func (o *optimizationPage) compute() {
	o.gen++
	gen, connID, n := o.gen, o.connID, o.n
	cat := o.lic.catalog()
	// The prices as they are now: the goroutine must not read the
	// window's configuration while it is edited.
	cfg := &storage.Config{}
	if o.ctl.draft.cfg != nil {
		cfg.Prices = slices.Clone(o.ctl.draft.cfg.Prices)
	}
	if connID == "" || o.opt == nil {
		o.apply(nil, errNoConnection)
		return
	}
	conns := connectionsOf(o.ctl.draft.cfg)
	o.pending++
	go func() {
		var res *optimize.Result
		var tot *service.Totals
		var err error
		if connID == allConnectionsID {
			res, tot, err = optimizeAll(context.Background(), o.opt, conns, n, cfg, cat)
		} else {
			res, err = o.opt.Optimize(context.Background(), connID, n, cfg, cat)
		}
		doUI(func() {
			o.pending--
			if gen != o.gen {
				return
			}
			o.all = tot
			o.apply(res, err)
		})
	}()
}

// apply shows a result (Fyne goroutine).
func (o *optimizationPage) apply(res *optimize.Result, err error) {
	o.computed++
	o.res, o.err = res, err
	o.asOf.SetText(o.asOfText())
	msg := ""
	if err != nil {
		o.res = nil
		msg = dataErrorText(err, o.conn.Selected)
	}
	if errors.Is(err, errNoTotals) {
		msg = "Nothing has been imported from any connection yet. Select one on Inventory Systems and click Execute Now."
	}
	setShown(o.message, msg)
	setShown(o.notices, o.noticeText())
	setShown(o.totals, o.totalsText())
	o.skus.Refresh()
	o.listLabelsChanged()
	o.showList(false)
	// The exports are of one connection's lists.
	enableIf(o.exportA, o.res != nil && o.all == nil)
}

// newNote is a wrapping label of a page's notes and errors, hidden until
// it has something to say (setShown).
func newNote(imp widget.Importance) *widget.Label {
	l := widget.NewLabel("")
	l.Wrapping = fyne.TextWrapWord
	l.Importance = imp
	l.Hide()
	return l
}

// enableIf enables b when ok holds, else disables it.
func enableIf(b *widget.Button, ok bool) {
	if ok {
		b.Enable()
	} else {
		b.Disable()
	}
}

// setShown sets a label's text and hides it when empty.
func setShown(l *widget.Label, text string) {
	l.SetText(text)
	if text == "" {
		l.Hide()
	} else {
		l.Show()
	}
}

// showList shows the chosen list; top scrolls back to its first row.
func (o *optimizationPage) showList(top bool) {
	n := 0
	if o.res != nil {
		n = len(o.res.Lists[o.reason])
	}
	enableIf(o.export, n > 0)
	if top {
		o.rows.ScrollToTop()
	}
	o.rows.Refresh()
	s := ""
	if o.res != nil {
		if n == 1 {
			s = "1 user"
		} else {
			s = count(n) + " users"
		}
		s += " in " + listTitle(o.reason, o.res.InactiveDays)
	}
	o.status.SetText(s)
}

func (o *optimizationPage) listLabels() []string {
	out := make([]string, len(optimizationLists))
	for i, r := range optimizationLists {
		out[i] = listTitle(r, o.n)
		if o.res != nil {
			out[i] += " (" + count(len(o.res.Lists[r])) + ")"
		}
	}
	return out
}

// listLabelsChanged puts the new counts in the selector, keeping the
// choice quietly.
func (o *optimizationPage) listLabelsChanged() {
	sel := o.list.SelectedIndex()
	o.list.Options = o.listLabels()
	onChanged := o.list.OnChanged
	o.list.OnChanged = nil
	o.list.SetSelectedIndex(max(sel, 0))
	o.list.OnChanged = onChanged
}

// asOfText says what the figures count from and which catalogue names
// the products.
func (o *optimizationPage) asOfText() string {
	s := ""
	if o.all != nil && o.res != nil {
		s = allText(o.all)
	} else if o.res != nil {
		if o.res.AsOf.IsZero() {
			s = "This snapshot has no usage reports' date; inactivity cannot be counted. "
		} else {
			s = "Counted from the usage reports of " + o.res.AsOf.UTC().Format("2 January 2006") +
				" (the snapshot's activity date), not from today. "
		}
	}
	return s + o.lic.sourceText()
}

func (o *optimizationPage) noticeText() string {
	if o.res == nil {
		return ""
	}
	var parts []string
	if !o.res.ActivityKnown {
		parts = append(parts, "Activity is unknown: "+o.res.ActivityProblem+
			" The inactive and never-active lists stay empty rather than show wrong numbers.")
	}
	if o.res.SignInNotice != "" {
		parts = append(parts, o.res.SignInNotice)
	}
	return strings.Join(parts, "\n")
}

// totalsText is the recoverable seats and money, per currency.
func (o *optimizationPage) totalsText() string {
	r := o.res
	if r == nil {
		return ""
	}
	s := "Recoverable: " + count(r.RecoverableSeats) + " seats"
	if r.RecoverableSeats == 1 {
		s = "Recoverable: 1 seat"
	}
	curs := make([]string, 0, len(r.MonthlyCents))
	for c := range r.MonthlyCents {
		curs = append(curs, c)
	}
	sort.Strings(curs)
	for _, c := range curs {
		s += fmt.Sprintf(" · %s a month · %s a year", money(r.MonthlyCents[c], c), money(r.YearlyCents(c), c))
	}
	if r.UnpricedSeats > 0 {
		s += fmt.Sprintf("\n%s of these seats have no price: set prices on the Licenses page to see costs.", count(r.UnpricedSeats))
	}
	if r.UncountedUnused > 0 {
		s += fmt.Sprintf("\n%s unused units of SKUs without a price are not counted (free SKUs come with thousands): price a SKU to count them.", count(r.UncountedUnused))
	}
	return s
}

// skuCell is one cell of the totals table.
func (o *optimizationPage) skuCell(row, col int) string {
	if o.res == nil || row >= len(o.res.SKUs) {
		return ""
	}
	s := &o.res.SKUs[row]
	inactive := func(r optimize.Reason) string {
		if !o.res.ActivityKnown && (r == optimize.Inactive || r == optimize.NeverActive) {
			return "unknown"
		}
		return strconv.Itoa(s.ByReason[r])
	}
	switch col {
	case 0:
		return s.Name
	case 1:
		return strconv.Itoa(s.Purchased)
	case 2:
		return strconv.Itoa(s.Assigned)
	case 3:
		return strconv.Itoa(s.Unused)
	case 4:
		return inactive(optimize.Inactive)
	case 5:
		return inactive(optimize.NeverActive)
	case 6:
		return strconv.Itoa(s.ByReason[optimize.Disabled])
	case 7:
		return strconv.Itoa(s.ByReason[optimize.Overlapping])
	case 8:
		return strconv.Itoa(s.Recoverable)
	case 9:
		if s.Price != nil {
			return priceText(*s.Price)
		}
		return "no price"
	case 10:
		if s.Price != nil {
			return money(s.MonthlyCents, s.Price.Currency)
		}
	}
	return ""
}

// findingCell is one cell of the shown list, worked out when shown.
func (o *optimizationPage) findingCell(row, col int) string {
	if o.res == nil {
		return ""
	}
	l := o.res.Lists[o.reason]
	if row >= len(l) {
		return ""
	}
	return findingCells(o.res, o.lic.catalog(), &l[row], col)
}

// findingCells is one cell of a finding (col < 0: every cell), for the
// table and the export alike.
func findingCells(res *optimize.Result, cat *catalog.Catalog, fd *optimize.Finding, col int) string {
	u := fd.User
	nw := int(optimize.NumWorkloads)
	switch {
	case col == 0:
		return u.UPN
	case col == 1:
		return u.DisplayName
	case col == 2:
		return u.Department
	case col == 3:
		names := make([]string, len(fd.SKUs))
		for i, id := range fd.SKUs {
			names[i] = cat.Label(id, skuPart(res, id))
		}
		return strings.Join(names, "; ")
	case col == 4:
		return day(fd.LastActivity)
	case col >= 5 && col < 5+nw:
		return day(u.Activity[col-5])
	case col == 5+nw:
		return licenceSources(u, fd.SKUs)
	case col == 6+nw:
		return fd.Detail
	case col == 7+nw:
		return costText(res.Cost(fd))
	}
	return ""
}

// skuPart is the part number of a SKU of the result, for its label.
func skuPart(res *optimize.Result, skuID string) string {
	for i := range res.SKUs {
		if strings.EqualFold(res.SKUs[i].SkuID, skuID) {
			return res.SKUs[i].PartNumber
		}
	}
	return ""
}

// licenceSources says where each licence of the finding comes from: a
// group-assigned one is removed by taking the user out of the group.
func licenceSources(u *optimize.User, skus []string) string {
	var parts []string
	for _, l := range u.Licenses {
		if !slices.ContainsFunc(skus, func(s string) bool { return strings.EqualFold(s, l.SkuID) }) {
			continue
		}
		group := l.GroupName
		if group == "" {
			group = l.GroupID
		}
		var s string
		switch l.Source {
		case optimize.Group:
			s = "Group " + group
			if l.AlsoDirect {
				s += " and direct"
			}
		case optimize.Failed:
			s = "Error from group " + group
			if l.Error != "" {
				s += " (" + l.Error + ")"
			}
		default:
			s = "Direct"
		}
		if !slices.Contains(parts, s) {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "; ")
}

func costText(m map[string]float64) string {
	if len(m) == 0 {
		return ""
	}
	curs := make([]string, 0, len(m))
	for c := range m {
		curs = append(curs, c)
	}
	sort.Strings(curs)
	out := make([]string, len(curs))
	for i, c := range curs {
		out[i] = money(m[c], c)
	}
	return strings.Join(out, " + ")
}

// onExportList saves the shown list as CSV.
func (o *optimizationPage) onExportList() {
	if o.res == nil {
		return
	}
	name := exportFileName(PageOptimization+" "+listTitle(o.reason, o.res.InactiveDays), o.conn.Selected)
	write := o.listWriter([]optimize.Reason{o.reason})
	askExportFile(o.ctl.screen, name, func(path string, w io.WriteCloser) { o.startExport(path, w, o.export, write) })
}

// onExportAll saves the whole result: every list, one row per finding
// with its list in the first column.
func (o *optimizationPage) onExportAll() {
	if o.res == nil {
		return
	}
	write := o.listWriter(optimizationLists)
	askExportFile(o.ctl.screen, exportFileName(PageOptimization, o.conn.Selected), func(path string, w io.WriteCloser) {
		o.startExport(path, w, o.exportA, write)
	})
}

// listWriter writes the given lists of the result shown now, whatever the
// page shows by the time the file is written.
func (o *optimizationPage) listWriter(reasons []optimize.Reason) func(io.Writer) (int, error) {
	res, cat := o.res, o.lic.catalog()
	return func(w io.Writer) (int, error) { return writeFindings(w, res, cat, reasons) }
}

// startExport writes in the background, the way the data pages export,
// and says how it went.
func (o *optimizationPage) startExport(path string, w io.WriteCloser, button *widget.Button, write func(io.Writer) (int, error)) {
	button.Disable()
	go func() {
		n, err := writeExport(path, w, write)
		doUI(func() {
			button.Enable()
			o.exports++
			o.exportErr = err
			reportExport(o.ctl.screen, path, n, "rows", err)
		})
	}()
}

// writeFindings writes lists of a result as CSV: the list, the columns of
// the page, whether the seats count in the totals, the reference date and
// N, so a file read later says what it was judged by.
func writeFindings(out io.Writer, res *optimize.Result, cat *catalog.Catalog, reasons []optimize.Reason) (int, error) {
	cols := findingColumns()
	head := []string{"List"}
	for _, c := range cols {
		head = append(head, c.title)
	}
	head = append(head, "Recoverable", "Activity As Of", "Inactive Days")
	asOf := day(res.AsOf)
	return writeCSV(out, head, func(row func([]string) error) error {
		for _, r := range reasons {
			for i := range res.Lists[r] {
				fd := &res.Lists[r][i]
				cells := make([]string, 0, len(head))
				cells = append(cells, listTitle(r, res.InactiveDays))
				for c := range cols {
					cells = append(cells, findingCells(res, cat, fd, c))
				}
				cells = append(cells, yesNo(fd.Recoverable), asOf, strconv.Itoa(res.InactiveDays))
				if err := row(cells); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
