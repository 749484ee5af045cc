package ui

import (
	"image/color"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/connector/catalog"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// The chart's series, in the order of their bars.
var (
	colorPurchased = color.NRGBA{R: 0x90, G: 0xa4, B: 0xae, A: 0xff}
	colorAssigned  = color.NRGBA{R: 0x1e, G: 0x88, B: 0xe5, A: 0xff}
	colorActive    = color.NRGBA{R: 0x43, G: 0xa0, B: 0x47, A: 0xff}
)

const (
	chartLabelWidth = 300 // product labels, cut at chartLabelRunes
	chartLabelRunes = 44
	chartValueWidth = 70
	chartBar        = 9
	chartGap        = 2
	chartRowHeight  = 3*chartBar + 2*chartGap + 14
	chartLegend     = 4 // top padding; the legend is above the scroll area
)

// chartRow is one SKU of the chart.
type chartRow struct {
	sku                         string // its label: product name and part number
	status                      string // the subscription's capabilityStatus
	purchased, assigned, active int
	usageKnown                  bool
}

// label is the SKU, with its subscription status when it is not Enabled:
// a subscription in warning is about to lapse, and the chart must say so.
func (r chartRow) label() string {
	if r.status == "" || r.status == "Enabled" {
		return shorten(r.sku, chartLabelRunes)
	}
	return shorten(r.sku, chartLabelRunes-len(r.status)-3) + " (" + r.status + ")"
}

// licenseChart draws purchased, assigned and active (30 days) per SKU as
// three horizontal bars, so over-purchase (purchased much longer than
// assigned) and shelfware (assigned much longer than active) show at a
// glance. All rows share one scale, so bar lengths compare across SKUs
// (issue 23: with a scale per row, 2 of 3 looked like 40 of 54). Tenants
// hold free SKUs with 10,000 or 1,000,000 units that would flatten every
// other bar: a purchased figure far above every assignment does not set
// the scale, and its bar is drawn full and marked off scale, the number
// printed.
type licenseChart struct {
	widget.BaseWidget
	rows []chartRow
	// Legend is the chart's key and note, shown above its scroll area so
	// it stays in view (issue 23).
	Legend *fyne.Container
	note   *canvas.Text
}

func newLicenseChart() *licenseChart {
	c := &licenseChart{}
	c.ExtendBaseWidget(c)
	c.Legend, c.note = chartKey([]legendItem{{"Purchased", colorPurchased}, {"Assigned", colorAssigned}, {"Active (30 days)", colorActive}})
	return c
}

// legendItem is one series of a chart's key.
type legendItem struct {
	name string
	col  color.Color
}

// chartKey builds a chart's key, a swatch and name per series, and the
// note after them that the chart fills in.
func chartKey(items []legendItem) (*fyne.Container, *canvas.Text) {
	fg := theme.Color(theme.ColorNameForeground)
	var objs []fyne.CanvasObject
	for _, s := range items {
		sw := canvas.NewRectangle(s.col)
		sw.SetMinSize(fyne.NewSize(12, 12))
		t := canvas.NewText(s.name, fg)
		t.TextSize = theme.CaptionTextSize()
		objs = append(objs, container.NewCenter(sw), t, layout.NewSpacer())
	}
	note := canvas.NewText("", theme.Color(theme.ColorNamePlaceHolder))
	note.TextSize = theme.CaptionTextSize()
	objs = append(objs, note)
	return container.NewHBox(objs...), note
}

// scale is the value that fills the bar area, shared by all rows: the
// largest assigned or active figure, or purchased figure not far above
// every assignment.
func (c *licenseChart) scale() int {
	maxUse := 1
	for _, r := range c.rows {
		maxUse = max(maxUse, r.assigned)
		if r.usageKnown {
			maxUse = max(maxUse, r.active)
		}
	}
	s := maxUse
	for _, r := range c.rows {
		if r.purchased <= offScaleFactor*maxUse {
			s = max(s, r.purchased)
		}
	}
	return s
}

// offScaleFactor: a purchased figure more than this many times the largest
// assignment (a free SKU's 10,000 units) does not set the chart's scale.
const offScaleFactor = 4

// setLicenses replaces the chart's data, its SKUs named by cat (Fyne
// goroutine).
func (c *licenseChart) setLicenses(ls []inventory.License, cat *catalog.Catalog) {
	c.rows = c.rows[:0]
	for _, l := range ls {
		c.rows = append(c.rows, chartRow{sku: cat.Label(l.SkuID, l.SkuPartNumber), status: l.CapabilityStatus, purchased: l.Purchased, assigned: l.Assigned,
			active: l.Active, usageKnown: l.UsageKnown})
	}
	c.Refresh()
}

func (c *licenseChart) CreateRenderer() fyne.WidgetRenderer {
	r := &chartRenderer{c: c}
	r.rebuild()
	return r
}

type chartBars struct {
	label  *canvas.Text
	bars   [3]*canvas.Rectangle
	values [3]*canvas.Text
}

type chartRenderer struct {
	c       *licenseChart
	rows    []chartBars
	objects []fyne.CanvasObject
}

func (r *chartRenderer) rebuild() {
	fg := theme.Color(theme.ColorNameForeground)
	r.objects = r.objects[:0]
	r.rows = r.rows[:0]
	unknown := false
	scale := r.c.scale()
	for _, row := range r.c.rows {
		col := fg
		if row.status != "" && row.status != "Enabled" {
			col = theme.Color(theme.ColorNameWarning)
		}
		b := chartBars{label: canvas.NewText(row.label(), col)}
		b.label.TextSize = theme.CaptionTextSize()
		r.objects = append(r.objects, b.label)
		vals := []int{row.purchased, row.assigned, row.active}
		for i, col := range []color.Color{colorPurchased, colorAssigned, colorActive} {
			b.bars[i] = canvas.NewRectangle(col)
			txt := strconv.Itoa(vals[i])
			if vals[i] > scale {
				txt += " (off scale)"
			}
			if i == 2 && !row.usageKnown {
				txt = "unknown"
				unknown = true
			}
			b.values[i] = canvas.NewText(txt, fg)
			b.values[i].TextSize = theme.CaptionTextSize() - 1
			r.objects = append(r.objects, b.bars[i], b.values[i])
		}
		r.rows = append(r.rows, b)
	}
	note := ""
	if unknown {
		note = "Active is unknown: usage reports were not imported or hide user names (see Import history)."
	}
	if len(r.c.rows) == 0 {
		note = "No licenses to show."
	}
	if r.c.note.Text != note {
		r.c.note.Text = note
		r.c.note.Refresh()
	}
}

func (r *chartRenderer) Layout(size fyne.Size) {
	barArea := size.Width - chartLabelWidth - chartValueWidth
	if barArea < 40 {
		barArea = 40
	}
	scale := float32(r.c.scale())
	for i, b := range r.rows {
		row := r.c.rows[i]
		y := float32(chartLegend + i*chartRowHeight)
		b.label.Move(fyne.NewPos(0, y+chartBar))
		vals := []int{row.purchased, row.assigned, row.active}
		for j := range 3 {
			w := barArea * min(float32(vals[j])/scale, 1)
			if j == 2 && !row.usageKnown {
				w = 0
			}
			by := y + float32(j*(chartBar+chartGap))
			b.bars[j].Move(fyne.NewPos(chartLabelWidth, by))
			b.bars[j].Resize(fyne.NewSize(w, chartBar))
			b.values[j].Move(fyne.NewPos(chartLabelWidth+w+4, by-3))
		}
	}
}

func (r *chartRenderer) MinSize() fyne.Size {
	return fyne.NewSize(chartLabelWidth+chartValueWidth+200, float32(chartLegend+len(r.c.rows)*chartRowHeight))
}

func (r *chartRenderer) Refresh() {
	r.rebuild()
	r.Layout(r.c.Size())
	canvas.Refresh(r.c)
}

func (r *chartRenderer) Objects() []fyne.CanvasObject { return r.objects }
func (r *chartRenderer) Destroy()                     {}
