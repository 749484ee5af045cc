package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

const (
	trendConn = "conn-trend"
	trendE3   = "6fd2c87f-b296-42f0-b197-1e91e994b900"
	trendE5   = "c7df2760-2c81-4ef7-b578-5b5392b571df"
)

// trendInventory writes three imports on three days ending yesterday (by
// the program's clock): 2, 4, then 6 users hold E3, one E5 throughout.
func trendInventory(t *testing.T) *inventory.Store {
	t.Helper()
	ctx := context.Background()
	fc := clock.NewFake(clock.Now().UTC().AddDate(0, 0, -3))
	s, err := inventory.OpenDir(ctx, t.TempDir(), inventory.Options{Now: fc.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for day := range 3 {
		fc.Advance(24 * time.Hour)
		w, err := s.BeginRun(ctx, inventory.RunInfo{ConnectionID: trendConn, ConnectionName: "Contoso", Trigger: inventory.TriggerCLI})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.AddSKUs(ctx, []inventory.SKU{
			{SkuID: trendE3, SkuPartNumber: "ENTERPRISEPACK", PrepaidUnits: inventory.PrepaidUnits{Enabled: 10}, SubscriptionIDs: []string{}},
			{SkuID: trendE5, SkuPartNumber: "ENTERPRISEPREMIUM", PrepaidUnits: inventory.PrepaidUnits{Enabled: 2}, SubscriptionIDs: []string{}}}); err != nil {
			t.Fatal(err)
		}
		var us []inventory.User
		for i := range 2 * (day + 1) {
			us = append(us, inventory.User{ID: fmt.Sprint("u", i), UserPrincipalName: fmt.Sprintf("u%d@contoso.example", i), AccountEnabled: true,
				AssignedLicenses: []inventory.AssignedLicense{{SkuID: trendE3, DisabledPlans: []string{}}}})
		}
		us[0].AssignedLicenses = append(us[0].AssignedLicenses, inventory.AssignedLicense{SkuID: trendE5, DisabledPlans: []string{}})
		if err := w.AddUsers(ctx, us); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Finish(ctx, inventory.Outcome{Status: inventory.StatusSucceeded}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestLicensesTrend: the Licenses page's Trend tab draws the history of
// all licences summed, then of the one chosen, on one scale.
func TestLicensesTrend(t *testing.T) {
	m := dataWindow(t, trendInventory(t), trendConn, Deps{})
	openLicenses(t, m, 2)
	trend := func(ok func(landing) bool) landing {
		var l landing
		waitUIWithin(t, dataWait, "the trend", func() bool { l = m.data.trendShown; return ok(l) })
		return l
	}
	if l := trend(func(l landing) bool { return l.n > 0 && l.q.Search == "" }); l.err != nil || l.total != 3 {
		t.Fatalf("trend of all licences: %d days, %v", l.total, l.err)
	}
	onUI(func() {
		ch := m.data.trend
		if got := []int{ch.points[0].Assigned, ch.points[2].Assigned, ch.points[2].Purchased}; fmt.Sprint(got) != "[3 7 12]" {
			t.Errorf("all licences: assigned and purchased %v, want [3 7 12]", got)
		}
		ch.Resize(fyne.NewSize(660, 240))
		r := test.WidgetRenderer(ch).(*trendRenderer)
		if r.top.Text != "12" || len(r.lines) != len(trendSeries) || len(r.lines[1]) != 2 {
			t.Fatalf("scale %q, %d lines", r.top.Text, len(r.lines))
		}
		// Assigned rises from 3 to 7 of 12: its line goes up (y shrinks),
		// purchased stays flat at the top of the one scale.
		a := r.lines[1]
		if !(a[0].Position1.Y > a[1].Position2.Y) || r.lines[0][0].Position1.Y != r.lines[0][1].Position2.Y {
			t.Errorf("assigned %v→%v, purchased %v→%v", a[0].Position1, a[1].Position2, r.lines[0][0].Position1, r.lines[0][1].Position2)
		}
		if r.last.Text != ch.points[2].Day.Format(time.DateOnly) {
			t.Errorf("last day %q", r.last.Text)
		}
		m.data.trendSKU.SetSelectedIndex(2) // Office 365 E5, ordered as the table
	})
	sku := ""
	onUI(func() { sku = m.data.licenses[1].SkuID })
	if l := trend(func(l landing) bool { return l.q.Search == sku }); l.total != 3 {
		t.Fatalf("trend of %s: %d days", sku, l.total)
	}
	onUI(func() {
		if p := m.data.trend.points; p[0].Assigned != 1 || p[2].Purchased != 2 {
			t.Errorf("E5 trend %+v", p)
		}
	})
}

// BenchmarkTrendChartRender draws three years of daily history (issue 18:
// the trend must render in under 200 ms) on a software canvas: the
// redraw after new points, layout and the canvas's capture.
func BenchmarkTrendChartRender(b *testing.B) {
	test.NewTempApp(b)
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var ps []service.TrendPoint
	for d := range 3 * 365 {
		ps = append(ps, service.TrendPoint{Day: start.AddDate(0, 0, d), Purchased: 12000 + d, Assigned: 10000 + d%300,
			Active: 8000 + d%500, InactiveAssigned: 1500 + d%90})
	}
	var c *trendChart
	var w fyne.Window
	fyne.DoAndWait(func() {
		c = newTrendChart()
		w = test.NewWindow(c)
		w.Resize(fyne.NewSize(900, 400))
	})
	b.ResetTimer()
	for range b.N {
		fyne.DoAndWait(func() {
			c.setPoints(ps)
			w.Canvas().Capture()
		})
	}
}

// TestUserLicenceTimeline: Licence timeline... on the Users page shows
// the selected user's events, and asks for a user when none is selected.
func TestUserLicenceTimeline(t *testing.T) {
	m := dataWindow(t, trendInventory(t), trendConn, Deps{})
	p, l := openPage(t, m, PageUsers)
	if l.total != 6 {
		t.Fatalf("%d users", l.total)
	}
	waitRows(t, p, 0)
	onUI(func() {
		p.selected = -1
		m.data.showTimeline(p)
		if m.prompt == nil || m.prompt.title != "No user selected" {
			t.Fatal("no question without a selection")
		}
		for i := range p.total {
			if p.cell(i, 1) == "u2@contoso.example" {
				p.selected = i
			}
		}
		m.data.showTimeline(p)
	})
	waitUIWithin(t, dataWait, "the timeline", func() bool { return m.data.timelineShown.n > 0 })
	onUI(func() {
		msg := m.prompt.message.Text
		if m.prompt.title != "Licence timeline of u2@contoso.example" || !strings.Contains(msg, "user created") ||
			!strings.Contains(msg, "assigned: Office 365 E3") || strings.Count(msg, "\n") != 1 {
			t.Errorf("%s:\n%s", m.prompt.title, msg)
		}
	})
}

// TestDeleteConnectionAsksAboutHistory: Delete keeps the imported data
// and the licence history, as it always did; Delete with data and
// history removes them on Save.
func TestDeleteConnectionAsksAboutHistory(t *testing.T) {
	for _, withHistory := range []bool{false, true} {
		store := trendInventory(t)
		m := dataWindow(t, store, trendConn, Deps{})
		onUI(func() {
			m.nav.Select(PageInventorySystems)
			for i, c := range m.cfg.Connections {
				if c.ID == trendConn {
					m.systems.selectRow(i)
				}
			}
			m.systems.confirmDelete()
			if m.prompt == nil || m.prompt.buttons[deleteWithHistory] == nil || m.prompt.buttons["Delete"] == nil {
				t.Fatal("the question does not offer both deletions")
			}
			choice := "Delete"
			if withHistory {
				choice = deleteWithHistory
			}
			test.Tap(m.prompt.buttons[choice])
			if !m.save() {
				t.Fatal("save failed")
			}
		})
		days, err := store.HistoryTenants(context.Background(), trendConn, inventory.HistoryQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{false: 3, true: 0}[withHistory]; len(days) != want {
			t.Errorf("with history %v: %d days left, want %d", withHistory, len(days), want)
		}
	}
}
