package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// dataColumn is a column of a data table.
type dataColumn struct {
	key   string // inventory.Query.Sort key; "" when the column cannot be sorted
	title string
	width float32
}

// dataSource is what a data page reads. Its methods run off the Fyne
// goroutine; a source is an immutable value, so a goroutine may keep one
// while the page switches to another (Usage's report choice).
type dataSource interface {
	columns() []dataColumn
	// noun names the rows ("users"), for the status line and messages.
	noun() string
	// snapshot resolves the run whose data the page shows; pinning it
	// keeps every page of one query from the same import even if another
	// import finishes meanwhile. Sources not tied to a snapshot (history)
	// return a zero Run and no error.
	snapshot(ctx context.Context, store *inventory.Store, connID string) (inventory.Run, error)
	// all is the number of rows without a search, from the run's counts;
	// -1 when unknown.
	all(r inventory.Run) int
	count(ctx context.Context, store *inventory.Store, connID string, q inventory.Query) (int, error)
	// each calls fn with the cells of every row q selects, in order.
	each(ctx context.Context, store *inventory.Store, connID string, q inventory.Query, fn func([]string) error) error
}

const (
	// rowsPerFetch is one LIMIT/OFFSET page of the table's cache: a screen
	// shows about 25 rows, so one fetch covers several screens of
	// scrolling.
	rowsPerFetch = 200
	// cachedFetches bounds the cache: 16 pages of 200 rows whatever the
	// number of users.
	cachedFetches = 16
	// searchDelay is how long typing must pause before the search runs:
	// one query per word typed, not per key.
	searchDelay = 200 * time.Millisecond
	// quickSearchDelay replaces it where a search takes milliseconds
	// (quickSearcher): results follow each key, and a burst of keys
	// (a paste, a held key) still runs once.
	quickSearchDelay = 20 * time.Millisecond
)

// quickSearcher is a source that can answer a connection's searches from
// memory (the Users page once its index is built, issue 21).
type quickSearcher interface {
	quickSearch(store *inventory.Store, connID string) bool
}

// landing is a background read as it reached the widgets, and how many
// of its kind have: the page keeps the last query's (its count is reused
// by a new order of the same rows), the last export's and the last read
// of its extra (the Licenses chart, the Applications filter's counts).
type landing struct {
	n      int             // how many reads of this kind have landed
	gen    int             // the page's query (dataPage.gen) it belongs to
	q      inventory.Query // what was read (RunID pinned)
	connID string
	total  int   // rows read (0 after an error)
	err    error // why the read failed
}

// land records one more read of this kind (Fyne goroutine).
func (l *landing) land(gen int, q inventory.Query, connID string, total int, err error) {
	*l = landing{n: l.n + 1, gen: gen, q: q, connID: connID, total: total, err: err}
}

// dataPage is one page of imported data: the connection it shows, a
// search field, a virtual table that asks the database for rows by index
// through a small cache of LIMIT/OFFSET pages, a status line and Export.
// All fields are owned by the Fyne goroutine; database work runs on other
// goroutines and hands its results back through doUI.
type dataPage struct {
	ctl   *dataPages
	title string
	src   dataSource

	content fyne.CanvasObject
	top     *fyne.Container
	conn    *widget.Select
	connIDs []string
	search  *widget.Entry
	table   *widget.Table
	status  *widget.Label
	export  *widget.Button
	message *widget.Label // why there is nothing to show, or what went wrong

	connID string
	q      inventory.Query // the query shown (RunID pinned by the last load)
	// shown is the last query whose results were applied; shownOK says
	// its count may be reused (it succeeded, on the same source).
	shown   landing
	shownOK bool
	// exported is the last export that ended, extraShown the last read
	// of extra that reached the widgets.
	exported   landing
	extraShown landing
	run        inventory.Run // the snapshot shown
	total      int
	// gen is bumped by every query started; older results are dropped.
	gen    int
	ctx    context.Context
	cancel context.CancelFunc
	// stale is set between a query and its first results: the table keeps
	// showing the previous rows and does not fetch pages for the new query
	// before its count is known.
	stale   bool
	fetched map[int][][]string // by page index
	used    map[int]uint64     // last use of each cached page, for eviction
	tick    uint64
	loading map[int]bool
	timer   *time.Timer
	typed   string // search text waiting for the delay

	// wanted is the page the table last asked for; fetches of pages
	// scrolled far past are skipped. Read by fetching goroutines.
	wanted atomic.Int64
	// slots bounds concurrent page fetches, so fast scrolling queues at
	// most a few queries behind each other.
	slots chan struct{}

	// help explains the columns (pages whose source has help).
	help *widget.Button
	// selected is the row clicked last (-1: none), which Set price...
	// prices.
	selected int
	// skuChip shows and clears the Users page's licence filter.
	skuChip *widget.Button
	// extra is called after each query's results are applied (the
	// Licenses chart follows the table's search).
	extra func(q inventory.Query, run inventory.Run, err error)
}

func newDataPage(ctl *dataPages, title string, src dataSource, top ...fyne.CanvasObject) *dataPage {
	p := &dataPage{ctl: ctl, title: title, src: src, fetched: map[int][][]string{}, used: map[int]uint64{},
		loading: map[int]bool{}, slots: make(chan struct{}, 2)}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.conn = widget.NewSelect(nil, p.onConnection)
	p.conn.PlaceHolder = "(no connections)"
	p.search = widget.NewEntry()
	p.search.SetPlaceHolder("Search " + src.noun() + "…")
	p.search.OnChanged = p.onSearchTyped
	// Enter searches at once, without waiting for the pause.
	p.search.OnSubmitted = func(text string) {
		if p.timer != nil {
			p.timer.Stop()
		}
		p.typed = text
		p.runSearch()
	}
	p.search.ActionItem = widget.NewIcon(theme.SearchIcon())
	// CSV or XLSX, by the file name chosen.
	p.export = widget.NewButtonWithIcon("Export...", theme.DocumentSaveIcon(), p.onExport)
	p.status = widget.NewLabel("")
	p.message = widget.NewLabel("")
	p.message.Wrapping = fyne.TextWrapWord
	p.message.Hide()

	p.table = widget.NewTableWithHeaders(
		func() (int, int) { return p.total, len(p.src.columns()) },
		func() fyne.CanvasObject {
			c := newDataCell()
			c.open = p.showRow
			return c
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			c := o.(*dataCell)
			c.row, c.col = id.Row, id.Col
			c.SetText(p.cell(id.Row, id.Col))
		},
	)
	p.table.ShowHeaderColumn = false
	p.selected = -1
	p.table.OnSelected = func(id widget.TableCellID) { p.selected = id.Row }
	p.table.CreateHeader = func() fyne.CanvasObject {
		b := widget.NewButton("", nil)
		b.Importance = widget.LowImportance
		b.Alignment = widget.ButtonAlignLeading
		b.IconPlacement = widget.ButtonIconTrailingText
		return b
	}
	p.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		b := o.(*widget.Button)
		cols := p.src.columns()
		if id.Col < 0 || id.Col >= len(cols) {
			b.SetText("")
			return
		}
		col := id.Col
		b.OnTapped = func() { p.onSort(col) }
		b.Text = cols[col].title
		b.Icon = nil
		if cols[col].key != "" && cols[col].key == p.q.Sort {
			b.Icon = theme.MenuDropUpIcon()
			if p.q.Desc {
				b.Icon = theme.MenuDropDownIcon()
			}
		}
		b.Refresh()
	}
	p.setColumnWidths()

	heading := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	right := fyne.CanvasObject(p.export)
	if h, ok := src.(helpedSource); ok {
		// What each column means, one click away (issue 23 item 11).
		p.help = widget.NewButtonWithIcon("", theme.HelpIcon(), func() {
			p.ctl.prompt = showPromptWidth(p.ctl.win, 640, "What the columns of "+title+" mean", h.help(),
				promptButton{label: "Close", importance: widget.HighImportance})
		})
		right = container.NewHBox(p.help, p.export)
	}
	bar := container.NewBorder(nil, nil,
		container.NewHBox(append([]fyne.CanvasObject{widget.NewLabel("Connection:"), p.conn}, top...)...),
		right, p.search)
	p.top = container.NewVBox(heading, bar, p.message)
	p.setCenter(p.table)
	return p
}

// setCenter puts body (the table, or the table with a chart) under the
// page's toolbar.
func (p *dataPage) setCenter(body fyne.CanvasObject) {
	p.content = container.NewBorder(p.top, p.status, nil, nil, body)
}

func (p *dataPage) setColumnWidths() {
	for i, c := range p.src.columns() {
		p.table.SetColumnWidth(i, c.width)
	}
}

// activate is called when the page is shown: it picks up connections
// added since and the connection chosen on another page.
func (p *dataPage) activate(connID string) {
	if p.offersAll() {
		// Connections added since are summed too; All connections stays
		// chosen while its page is left and shown again.
		p.src = p.ctl.licensesSource()
		if p.connID == allConnectionsID {
			connID = allConnectionsID
		}
	}
	switch chooseConnection(p.conn, p.ctl.draft.cfg, connID, &p.connIDs, &p.connID, p.offersAll()) {
	case connNone:
		p.reload(true)
	case connSame:
		p.conn.Refresh()
	}
}

// What chooseConnection did.
const (
	connNone    = iota // no connection: the page shows why
	connChanged        // another connection was selected: OnChanged loaded it
	connSame           // the same connection as before: nothing loaded
)

// chooseConnection offers the configuration's connections in a page's
// selector (their IDs in *ids) and selects connID's, else the first.
// Selecting another connection runs the selector's OnChanged, which loads
// the page; with none, *cur is cleared.
func chooseConnection(sel *widget.Select, cfg *storage.Config, connID string, ids *[]string, cur *string, all bool) int {
	var names []string
	*ids = (*ids)[:0]
	if cfg != nil {
		for _, c := range cfg.Connections {
			names = append(names, c.Name)
			*ids = append(*ids, c.ID)
		}
	}
	if all {
		names, *ids = withAll(names, *ids)
	}
	sel.Options = names
	idx := slices.Index(*ids, connID)
	if idx < 0 && len(*ids) > 0 {
		idx = 0
	}
	if idx < 0 {
		sel.ClearSelected()
		*cur = ""
		return connNone
	}
	if (*ids)[idx] != *cur || sel.SelectedIndex() != idx {
		sel.SetSelectedIndex(idx)
		return connChanged
	}
	return connSame
}

// connectionChosen makes the selector's connection current; false when
// it already was (or none is selected).
func connectionChosen(sel *widget.Select, ids []string, cur *string) bool {
	i := sel.SelectedIndex()
	if i < 0 || i >= len(ids) || ids[i] == *cur {
		return false
	}
	*cur = ids[i]
	return true
}

func (p *dataPage) onConnection(string) {
	if connectionChosen(p.conn, p.connIDs, &p.connID) {
		p.reload(true)
		if p.connID == allConnectionsID {
			return // the other pages keep the connection they show
		}
		p.ctl.connID = p.connID
		p.ctl.readAhead(p.connID)
	}
}

// onSearchTyped restarts the delay after each key; the query runs when
// typing pauses.
func (p *dataPage) onSearchTyped(text string) {
	p.typed = text
	if p.timer != nil {
		p.timer.Stop()
	}
	delay := searchDelay
	if qs, ok := p.src.(quickSearcher); ok && qs.quickSearch(p.ctl.store, p.connID) {
		delay = quickSearchDelay
	}
	p.timer = time.AfterFunc(delay, func() { doUI(p.runSearch) })
}

func (p *dataPage) runSearch() {
	if p.typed == p.q.Search {
		return
	}
	p.q.Search = p.typed
	p.reload(true)
}

// onSort sorts by a column; the same column again reverses the order.
func (p *dataPage) onSort(col int) {
	cols := p.src.columns()
	if col < 0 || col >= len(cols) || cols[col].key == "" {
		return
	}
	if p.q.Sort == cols[col].key {
		p.q.Desc = !p.q.Desc
	} else {
		p.q.Sort, p.q.Desc = cols[col].key, false
	}
	p.reload(true)
}

// setSource switches what the page shows (Usage: another report).
func (p *dataPage) setSource(src dataSource) {
	p.src = src
	p.shownOK = false // another table: its count is not known
	p.q.Sort, p.q.Desc = "", false
	p.search.SetPlaceHolder("Search " + src.noun() + "…")
	p.setColumnWidths()
	p.reload(true)
}

// reload runs the page's query again: the snapshot, the count and the
// first rows, in one goroutine. top scrolls back to the first row (a new
// search or sort); a refresh after an import keeps the position.
func (p *dataPage) reload(top bool) {
	p.gen++
	p.cancel()
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.stale = true
	p.loading = map[int]bool{}
	gen, ctx, src, connID, q := p.gen, p.ctx, p.src, p.connID, p.q
	store := p.ctl.store
	q.Limit, q.Offset = rowsPerFetch, 0
	// A new order of the same rows (a sort, a reload with nothing new
	// imported) keeps the count: one query instead of two.
	prev, prevOK := p.shown, p.shownOK
	go func() {
		var run inventory.Run
		var err error
		n := 0
		var rows [][]string
		if connID == "" {
			err = errNoConnection
		}
		if err == nil {
			run, err = src.snapshot(ctx, store, connID)
		}
		if err == nil {
			q.RunID = run.ID
			known := prevOK && run.ID != 0 && prev.q.RunID == run.ID && prev.q.Search == q.Search && prev.q.Apps == q.Apps &&
				prev.q.SKU == q.SKU && prev.connID == connID
			// The count and the first rows are independent scans: run
			// them side by side, so a search costs the longer of the two
			// rather than their sum.
			var cerr error
			var wg sync.WaitGroup
			if known {
				n = prev.total
			} else {
				wg.Add(1)
				go func() {
					defer wg.Done()
					n, cerr = src.count(ctx, store, connID, q)
				}()
			}
			err = src.each(ctx, store, connID, q, func(r []string) error { rows = append(rows, r); return nil })
			wg.Wait()
			if err == nil {
				err = cerr
			}
		}
		if errors.Is(err, context.Canceled) {
			return
		}
		doUI(func() {
			if gen != p.gen {
				return
			}
			p.apply(q, connID, run, n, rows, err, top)
		})
	}()
}

var errNoConnection = errors.New("no connection")

// apply shows a query's results (Fyne goroutine).
func (p *dataPage) apply(q inventory.Query, connID string, run inventory.Run, n int, rows [][]string, err error, top bool) {
	p.stale = false
	p.q.RunID = q.RunID
	p.run = run
	p.fetched = map[int][][]string{}
	p.used = map[int]uint64{}
	if err != nil {
		n = 0
	} else {
		p.fetched[0] = rows
	}
	p.total = n
	p.shown.land(p.gen, q, connID, n, err)
	p.shownOK = err == nil
	p.showMessage(err)
	p.status.SetText(p.statusText())
	enableIf(p.export, err == nil && n > 0)
	if top {
		p.table.ScrollToTop()
	}
	p.table.Refresh()
	if p.extra != nil {
		p.extra(q, run, err)
	}
}

// showMessage says why the table is empty or what failed, in words that
// say what to do.
func (p *dataPage) showMessage(err error) {
	text := ""
	if err != nil {
		text = dataErrorText(err, p.conn.Selected)
	}
	setShown(p.message, text)
}

// dataErrorText says why a page of connection conn has nothing to show.
func dataErrorText(err error, conn string) string {
	switch {
	case errors.Is(err, errNoConnection):
		return "No connections yet. Create one on Inventory Systems (New, then PowerShell), save it and click Execute Now."
	case errors.Is(err, inventory.ErrNoSnapshot):
		return fmt.Sprintf("Nothing has been imported from %s yet. Select it on Inventory Systems and click Execute Now.", conn)
	case errors.Is(err, inventory.ErrUnknownColumn):
		return "This column cannot be sorted. Click another column's title."
	}
	return fmt.Sprintf("The imported data cannot be read: %v. If this persists, close other Inventory Beacon windows and "+
		"run the import again.", err)
}

// statusText is the status line of the query shown: its count, search
// and snapshot.
func (p *dataPage) statusText() string {
	run, n, search := p.run, p.shown.total, p.shown.q.Search
	if p.shown.err != nil {
		return ""
	}
	s := ""
	all := p.src.all(run)
	if search != "" && all >= 0 {
		s = fmt.Sprintf("%s of %s %s match “%s”", count(n), count(all), p.src.noun(), search)
	} else if search != "" {
		s = fmt.Sprintf("%s %s match “%s”", count(n), p.src.noun(), search)
	} else {
		s = count(n) + " " + p.src.noun()
	}
	if run.ID != 0 {
		s += " · imported " + run.Started.Local().Format(timeLayout)
		if run.Status == inventory.StatusWarnings {
			s += " (completed with warnings)"
		}
		// Active and inactive figures count from this date, not from
		// today (issue 15): say which date that is where they show.
		if _, ok := p.src.(activitySource); ok && run.ActivityAsOf != "" {
			s += " · activity as of " + run.ActivityAsOf
		}
	}
	return s
}

// cell is the text of one cell; a row not in the cache is fetched and
// shows empty until it arrives (Fyne goroutine).
func (p *dataPage) cell(row, col int) string {
	page := row / rowsPerFetch
	rows, ok := p.fetched[page]
	if !ok {
		p.fetch(page)
		return ""
	}
	p.tick++
	p.used[page] = p.tick
	r := row - page*rowsPerFetch
	if r < len(rows) && col < len(rows[r]) {
		return rows[r][col]
	}
	return ""
}

// fetch loads one page of rows of the current query in the background.
func (p *dataPage) fetch(page int) {
	p.wanted.Store(int64(page))
	if p.stale || p.loading[page] {
		return
	}
	p.loading[page] = true
	gen, ctx, src, connID, q := p.gen, p.ctx, p.src, p.connID, p.q
	store := p.ctl.store
	q.Limit, q.Offset = rowsPerFetch, page*rowsPerFetch
	go func() {
		p.slots <- struct{}{}
		defer func() { <-p.slots }()
		var rows [][]string
		var err error
		if w := p.wanted.Load(); w-int64(page) > 2 || int64(page)-w > 2 {
			// Scrolled far past while waiting: the table asks again if
			// it comes back.
			err = errSkipped
		} else {
			err = src.each(ctx, store, connID, q, func(r []string) error { rows = append(rows, r); return nil })
		}
		if errors.Is(err, context.Canceled) {
			return
		}
		doUI(func() {
			if gen != p.gen {
				return
			}
			delete(p.loading, page)
			if errors.Is(err, errSkipped) {
				return
			}
			if err != nil {
				p.showMessage(err)
				return
			}
			p.fetched[page] = rows
			p.tick++
			p.used[page] = p.tick
			p.evict()
			p.table.Refresh()
		})
	}()
}

var errSkipped = errors.New("skipped")

// evict keeps the cache at cachedFetches pages, dropping the least
// recently shown.
func (p *dataPage) evict() {
	for len(p.fetched) > cachedFetches {
		oldest, at := -1, ^uint64(0)
		for pg, t := range p.used {
			if t < at {
				oldest, at = pg, t
			}
		}
		if oldest < 0 {
			return
		}
		delete(p.fetched, oldest)
		delete(p.used, oldest)
	}
}

// dataCell is a table cell that knows its place, so tests can find the
// text of a given row and column on screen.
type dataCell struct {
	widget.Label
	row, col int
	// open shows the row in full (double-click); nil in a bare cell.
	open func(row int)
}

// DoubleTapped shows the cell's row in full: long texts (errors, warnings,
// licence lists) that a column cuts off can be read there (issue 23 item 7).
func (c *dataCell) DoubleTapped(*fyne.PointEvent) {
	if c.open != nil {
		c.open(c.row)
	}
}

// showRow shows every column of a row as "Title: value" in a message the
// administrator can select and copy from.
func (p *dataPage) showRow(row int) {
	cols := p.src.columns()
	var b strings.Builder
	for i, c := range cols {
		v := p.cell(row, i)
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(c.title + ": " + v)
	}
	text := b.String()
	buttons := []promptButton{{label: "Copy", action: func() { fyne.CurrentApp().Clipboard().SetContent(text) }}}
	if _, ok := p.src.(licensesSource); ok {
		// A licence's drill-down: who holds it (issue 23 item 13), its
		// price, and the service plans it includes by name.
		skuID, part, label := p.cell(row, len(cols)-1), p.cell(row, licenseSKUCol), p.ctl.lic.catalog().Label(p.cell(row, len(cols)-1), p.cell(row, licenseSKUCol))
		if p.connID != allConnectionsID {
			// Holders and service plans are one connection's.
			text += p.ctl.servicePlans(skuID)
			buttons = append(buttons, promptButton{label: "Show its users", action: func() { p.ctl.showUsersHolding(skuID, label) }})
		}
		buttons = append(buttons, promptButton{label: "Set price...", action: func() { p.ctl.showPriceDialog(skuID, part) }})
	}
	buttons = append(buttons, promptButton{label: "Close", importance: widget.HighImportance})
	p.ctl.prompt = showPromptWidth(p.ctl.win, 700, p.title+": row "+count(row+1), text, buttons...)
	p.ctl.prompt.message.Selectable = true
}

// setSKU keeps the users holding one licence (Users page), shown as a
// chip that clears the filter when tapped; "" clears it.
func (p *dataPage) setSKU(skuID, label string) {
	if p.skuChip == nil {
		return
	}
	p.q.SKU = skuID
	if skuID == "" {
		p.skuChip.Hide()
	} else {
		p.skuChip.SetText("Holding " + label)
		p.skuChip.Show()
	}
	p.reload(true)
}

func newDataCell() *dataCell {
	c := &dataCell{}
	c.Truncation = fyne.TextTruncateEllipsis
	c.ExtendBaseWidget(c)
	return c
}
