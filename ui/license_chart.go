package ui

import (
	"image/color"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/storage/inventory"
)

// The chart's series, in the order of their bars.
var (
	colorPurchased = color.NRGBA{R: 0x90, G: 0xa4, B: 0xae, A: 0xff}
	colorAssigned  = color.NRGBA{R: 0x1e, G: 0x88, B: 0xe5, A: 0xff}
	colorActive    = color.NRGBA{R: 0x43, G: 0xa0, B: 0x47, A: 0xff}
)

const (
	chartLabelWidth = 210 // SKU part numbers such as SPE_E5 or Microsoft_Teams_Exploratory_Dept
	chartValueWidth = 70
	chartBar        = 9
	chartGap        = 2
	chartRowHeight  = 3*chartBar + 2*chartGap + 14
	chartLegend     = 26
)

// chartRow is one SKU of the chart.
type chartRow struct {
	sku                         string
	status                      string // the subscription's capabilityStatus
	purchased, assigned, active int
	usageKnown                  bool
}

// label is the SKU, with its subscription status when it is not Enabled:
// a subscription in warning is about to lapse, and the chart must say so.
func (r chartRow) label() string {
	if r.status == "" || r.status == "Enabled" {
		return r.sku
	}
	return r.sku + " (" + r.status + ")"
}

// licenseChart draws purchased, assigned and active (30 days) per SKU as
// three horizontal bars, so over-purchase (purchased much longer than
// assigned) and shelfware (assigned much longer than active) show at a
// glance. Each SKU has its own scale (its largest figure fills the width,
// the numbers are printed): tenants hold free SKUs with 10,000 or
// 1,000,000 units that would otherwise flatten every other bar.
type licenseChart struct {
	widget.BaseWidget
	rows []chartRow
}

func newLicenseChart() *licenseChart {
	c := &licenseChart{}
	c.ExtendBaseWidget(c)
	return c
}

// setLicenses replaces the chart's data (Fyne goroutine).
func (c *licenseChart) setLicenses(ls []inventory.License) {
	c.rows = c.rows[:0]
	for _, l := range ls {
		c.rows = append(c.rows, chartRow{sku: l.SkuPartNumber, status: l.CapabilityStatus, purchased: l.Purchased, assigned: l.Assigned,
			active: l.Active, usageKnown: l.UsageKnown})
	}
	c.Refresh()
}

// scale is the row's largest figure, the full bar width.
func (r chartRow) scale() int {
	m := max(1, r.purchased, r.assigned)
	if r.usageKnown {
		m = max(m, r.active)
	}
	return m
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
	legend  []fyne.CanvasObject
	rows    []chartBars
	note    *canvas.Text
	objects []fyne.CanvasObject
}

func (r *chartRenderer) rebuild() {
	fg := theme.Color(theme.ColorNameForeground)
	r.objects = r.objects[:0]
	r.legend = r.legend[:0]
	for i, s := range []struct {
		name string
		col  color.Color
	}{{"Purchased", colorPurchased}, {"Assigned", colorAssigned}, {"Active (30 days)", colorActive}} {
		sw := canvas.NewRectangle(s.col)
		t := canvas.NewText(s.name, fg)
		t.TextSize = theme.CaptionTextSize()
		sw.Resize(fyne.NewSize(12, 12))
		sw.Move(fyne.NewPos(float32(i)*150, 6))
		t.Move(fyne.NewPos(float32(i)*150+18, 3))
		r.legend = append(r.legend, sw, t)
	}
	r.objects = append(r.objects, r.legend...)
	r.note = canvas.NewText("", theme.Color(theme.ColorNamePlaceHolder))
	r.note.TextSize = theme.CaptionTextSize()
	r.objects = append(r.objects, r.note)
	r.rows = r.rows[:0]
	unknown := false
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
	if unknown {
		r.note.Text = "Active is unknown: usage reports were not imported or hide user names (see Import history)."
	}
	if len(r.c.rows) == 0 {
		r.note.Text = "No licenses to show."
	}
}

func (r *chartRenderer) Layout(size fyne.Size) {
	r.note.Move(fyne.NewPos(460, 4))
	barArea := size.Width - chartLabelWidth - chartValueWidth
	if barArea < 40 {
		barArea = 40
	}
	for i, b := range r.rows {
		row := r.c.rows[i]
		scale := float32(row.scale())
		y := float32(chartLegend + i*chartRowHeight)
		b.label.Move(fyne.NewPos(0, y+chartBar))
		vals := []int{row.purchased, row.assigned, row.active}
		for j := range 3 {
			w := barArea * float32(vals[j]) / scale
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
