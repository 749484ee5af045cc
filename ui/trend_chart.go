package ui

import (
	"image/color"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/service"
)

// colorInactive is the trend's inactive assigned seats.
var colorInactive = color.NRGBA{R: 0xe5, G: 0x39, B: 0x35, A: 0xff}

// trendSeries are the trend's lines, in the legend's order.
var trendSeries = []struct {
	name string
	col  color.Color
	of   func(service.TrendPoint) int
}{
	{"Purchased", colorPurchased, func(p service.TrendPoint) int { return p.Purchased }},
	{"Assigned", colorAssigned, func(p service.TrendPoint) int { return p.Assigned }},
	{"Active (30 days)", colorActive, func(p service.TrendPoint) int { return p.Active }},
	{"Inactive assigned", colorInactive, func(p service.TrendPoint) int { return p.InactiveAssigned }},
}

const (
	trendAxisWidth   = 60 // the scale's labels, left of the plot
	trendAxisHeight  = 20 // the first and last day, under the plot
	trendMinHeight   = 180
	trendMaxSegments = 400 // a longer history is drawn a point every few days
)

// trendChart draws a licence history (issue 18) as one line per figure
// over the days, all on one scale from 0 to the largest value, with the
// scale's top and the first and last day written beside the plot. Lines
// are canvas.Line segments; a history of three years is thinned to
// trendMaxSegments segments per line, so drawing stays cheap.
type trendChart struct {
	widget.BaseWidget
	points []service.TrendPoint
	// Legend is the key, shown above the chart.
	Legend *fyne.Container
	note   *canvas.Text
}

func newTrendChart() *trendChart {
	c := &trendChart{}
	c.ExtendBaseWidget(c)
	var key []legendItem
	for _, s := range trendSeries {
		key = append(key, legendItem{s.name, s.col})
	}
	c.Legend, c.note = chartKey(key)
	return c
}

// setPoints replaces the history shown (Fyne goroutine).
func (c *trendChart) setPoints(ps []service.TrendPoint) {
	c.points = ps
	c.Refresh()
}

// scale is the largest value of any line: one scale for all.
func (c *trendChart) scale() int {
	s := 1
	for _, p := range c.points {
		for _, series := range trendSeries {
			s = max(s, series.of(p))
		}
	}
	return s
}

// sample returns the indexes of the points drawn: all of them, or every
// few for a long history (the last always).
func (c *trendChart) sample() []int {
	n := len(c.points)
	step := max(1, (n+trendMaxSegments-1)/trendMaxSegments)
	var idx []int
	for i := 0; i < n; i += step {
		idx = append(idx, i)
	}
	if n > 0 && idx[len(idx)-1] != n-1 {
		idx = append(idx, n-1)
	}
	return idx
}

func (c *trendChart) CreateRenderer() fyne.WidgetRenderer {
	r := &trendRenderer{c: c}
	r.rebuild()
	return r
}

type trendRenderer struct {
	c       *trendChart
	idx     []int
	lines   [][]*canvas.Line // per series, per segment
	axis    [2]*canvas.Line  // left and bottom
	top     *canvas.Text     // the scale's top
	first   *canvas.Text
	last    *canvas.Text
	objects []fyne.CanvasObject
}

func (r *trendRenderer) rebuild() {
	fg := theme.Color(theme.ColorNameForeground)
	text := func(s string) *canvas.Text {
		t := canvas.NewText(s, fg)
		t.TextSize = theme.CaptionTextSize()
		return t
	}
	r.idx = r.c.sample()
	r.objects = r.objects[:0]
	for i := range r.axis {
		r.axis[i] = canvas.NewLine(theme.Color(theme.ColorNameDisabled))
		r.objects = append(r.objects, r.axis[i])
	}
	r.lines = r.lines[:0]
	for _, s := range trendSeries {
		var segs []*canvas.Line
		for range max(0, len(r.idx)-1) {
			l := canvas.NewLine(s.col)
			l.StrokeWidth = 2
			segs = append(segs, l)
			r.objects = append(r.objects, l)
		}
		r.lines = append(r.lines, segs)
	}
	r.top = text(strconv.Itoa(r.c.scale()))
	r.first, r.last = text(""), text("")
	note := ""
	switch n := len(r.c.points); {
	case n == 0:
		note = "No history yet: each import adds a day."
	case n == 1:
		note = "One day of history: the lines start with the next day's import."
	}
	if n := len(r.c.points); n > 0 {
		r.first.Text = r.c.points[0].Day.Format(time.DateOnly)
		r.last.Text = r.c.points[n-1].Day.Format(time.DateOnly)
	}
	r.objects = append(r.objects, r.top, r.first, r.last)
	if r.c.note.Text != note {
		r.c.note.Text = note
		r.c.note.Refresh()
	}
}

func (r *trendRenderer) Layout(size fyne.Size) {
	plotW := max(40, size.Width-trendAxisWidth-8)
	plotH := max(40, size.Height-trendAxisHeight-8)
	x0, y0 := float32(trendAxisWidth), float32(4)
	r.axis[0].Position1, r.axis[0].Position2 = fyne.NewPos(x0, y0), fyne.NewPos(x0, y0+plotH)
	r.axis[1].Position1, r.axis[1].Position2 = fyne.NewPos(x0, y0+plotH), fyne.NewPos(x0+plotW, y0+plotH)
	r.top.Move(fyne.NewPos(4, y0))
	r.first.Move(fyne.NewPos(x0, y0+plotH+2))
	r.last.Move(fyne.NewPos(x0+plotW-r.last.MinSize().Width, y0+plotH+2))
	if len(r.idx) < 2 {
		return
	}
	scale := float32(r.c.scale())
	first, last := r.c.points[r.idx[0]].Day, r.c.points[r.idx[len(r.idx)-1]].Day
	span := float32(last.Sub(first).Hours())
	pos := func(s, k int) fyne.Position {
		p := r.c.points[r.idx[k]]
		x := x0 + plotW*float32(p.Day.Sub(first).Hours())/span
		return fyne.NewPos(x, y0+plotH-plotH*float32(trendSeries[s].of(p))/scale)
	}
	for s, segs := range r.lines {
		for k, l := range segs {
			l.Position1, l.Position2 = pos(s, k), pos(s, k+1)
		}
	}
}

// The rest of fyne.WidgetRenderer: a fixed least size, and every
// refresh rebuilt from the points (a few hundred lines at most).
func (r *trendRenderer) Objects() []fyne.CanvasObject { return r.objects }
func (r *trendRenderer) Destroy()                     {}
func (r *trendRenderer) MinSize() fyne.Size           { return fyne.NewSize(trendAxisWidth+300, trendMinHeight) }
func (r *trendRenderer) Refresh()                     { r.rebuild(); r.Layout(r.c.Size()); canvas.Refresh(r.c) }
