package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/inventorybeacon/beacon/storage/inventory"
)

// tenantSnapshot stores a finished import of connection id: purchased
// seats of E3 and F1, and n users holding E3.
func tenantSnapshot(t *testing.T, store *inventory.Store, id string, e3, f1, n int) {
	t.Helper()
	ctx := context.Background()
	w, err := store.BeginRun(ctx, inventory.RunInfo{ConnectionID: id, ConnectionName: id, Trigger: inventory.TriggerCLI})
	if err != nil {
		t.Fatal(err)
	}
	const skuE3, skuF1 = "6fd2c87f-b296-42f0-b197-1e91e994b900", "66b55226-6b4f-492c-910c-a3b7a3c9d993"
	skus := []inventory.SKU{{SkuID: skuE3, SkuPartNumber: "ENTERPRISEPACK", CapabilityStatus: "Enabled", PrepaidUnits: inventory.PrepaidUnits{Enabled: e3}, SubscriptionIDs: []string{}}}
	if f1 > 0 {
		skus = append(skus, inventory.SKU{SkuID: skuF1, SkuPartNumber: "SPE_F1", CapabilityStatus: "Enabled", PrepaidUnits: inventory.PrepaidUnits{Enabled: f1}, SubscriptionIDs: []string{}})
	}
	if err := w.AddSKUs(ctx, skus); err != nil {
		t.Fatal(err)
	}
	var us []inventory.User
	for i := range n {
		us = append(us, inventory.User{ID: fmt.Sprintf("%s-%d", id, i), UserPrincipalName: fmt.Sprintf("u%d@%s.example", i, id), AccountEnabled: true,
			AssignedLicenses: []inventory.AssignedLicense{{SkuID: skuE3, DisabledPlans: []string{}}}})
	}
	if err := w.AddUsers(ctx, us); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(ctx, inventory.Outcome{Status: inventory.StatusSucceeded}); err != nil {
		t.Fatal(err)
	}
}

// twoTenantWindow is the main window on Contoso (c1: 10 E3, 3 held) and
// Fabrikam (c2: 4 E3, 2 held, 20 F1), showing Contoso.
func twoTenantWindow(t *testing.T) *MainWindow {
	t.Helper()
	store, err := inventory.OpenDir(context.Background(), t.TempDir(), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tenantSnapshot(t, store, "c1", 10, 0, 3)
	tenantSnapshot(t, store, "c2", 4, 20, 2)
	m := dataWindow(t, store, "c1", Deps{})
	onUI(func() {
		c := newNamedConnection("Fabrikam")
		c.ID = "c2"
		m.draft.cfg.Connections = append(m.draft.cfg.Connections, c)
	})
	return m
}

// TestLicensesOfAllConnections: with two connections the Licenses page
// offers All connections, which shows each SKU summed over both imports,
// leaves the other pages on their connection, and leaves out of a row's
// dialog what belongs to one connection.
func TestLicensesOfAllConnections(t *testing.T) {
	m := twoTenantWindow(t)
	p := openLicenses(t, m, 1)
	var options []string
	onUI(func() { options = p.conn.Options })
	if len(options) != 3 || options[2] != allConnectionsName {
		t.Fatalf("selector offers %v", options)
	}

	mk := markData(t, p)
	onUI(func() { p.conn.SetSelected(allConnectionsName) })
	if l := waitQuery(t, p, mk, nil); l.err != nil || l.total != 2 || l.connID != allConnectionsID {
		t.Fatalf("all connections: %d rows, %v", l.total, l.err)
	}
	waitExtra(t, p, mk, func(l landing) bool { return l.total == 2 })
	waitRows(t, p, 0)
	var rows [][]string
	var status string
	onUI(func() { rows, status = p.fetched[0], p.status.Text })
	purchased, assigned := colIndex(t, licenseColumns, "Purchased"), colIndex(t, licenseColumns, "Assigned")
	got := map[string][2]string{}
	for _, r := range rows {
		got[r[licenseSKUCol]] = [2]string{r[purchased], r[assigned]}
	}
	if got["ENTERPRISEPACK"] != [2]string{"14", "5"} || got["SPE_F1"] != [2]string{"20", "0"} {
		t.Errorf("summed rows %v", got)
	}
	if status != "2 licenses" {
		t.Errorf("status %q", status)
	}

	// A search and a sort work on the sums too.
	mk = markData(t, p)
	onUI(func() { p.search.SetText("f1"); p.search.OnSubmitted("f1") })
	if l := waitQuery(t, p, mk, func(l landing) bool { return l.q.Search == "f1" }); l.total != 1 {
		t.Errorf("search f1: %d rows", l.total)
	}

	mk = markData(t, p)
	onUI(func() { p.search.SetText(""); p.search.OnSubmitted("") })
	waitQuery(t, p, mk, func(l landing) bool { return l.q.Search == "" })
	mk = markData(t, p)
	onUI(func() { p.onSort(purchased) })
	waitQuery(t, p, mk, func(l landing) bool { return l.q.Sort == "purchased" })
	waitRows(t, p, 0)
	onUI(func() { rows = p.fetched[0] })
	if len(rows) != 2 || rows[0][licenseSKUCol] != "ENTERPRISEPACK" || rows[1][licenseSKUCol] != "SPE_F1" {
		t.Errorf("sorted by purchased: %v", rows)
	}
	onUI(func() { p.onSort(purchased) })
	waitQuery(t, p, mk, func(l landing) bool { return l.q.Sort == "purchased" && l.q.Desc })
	waitRows(t, p, 0)
	onUI(func() { rows = p.fetched[0] })
	if len(rows) != 2 || rows[0][licenseSKUCol] != "SPE_F1" {
		t.Errorf("sorted by purchased, descending: %v", rows)
	}

	// The row dialog: no holders, no service plans; the price stays.
	onUI(func() { p.showRow(0) })
	var buttons map[string]bool
	onUI(func() {
		buttons = map[string]bool{}
		for label := range m.data.prompt.buttons {
			buttons[label] = true
		}
		m.data.prompt.dlg.Hide()
	})
	if buttons["Show its users"] || !buttons["Set price..."] {
		t.Errorf("row dialog of all connections offers %v", buttons)
	}
	// The other pages still show one connection.
	var shared string
	onUI(func() { shared = m.data.connID })
	if shared != "c1" {
		t.Errorf("the data pages' connection became %q", shared)
	}
}

// TestOptimizationOfAllConnections: All connections on the Optimization
// page shows the seats per SKU summed over both imports, no lists and no
// exports, and keeps the other pages on their connection.
func TestOptimizationOfAllConnections(t *testing.T) {
	m := twoTenantWindow(t)
	o := openOptimization(t, m)
	var done int
	onUI(func() { done = o.computed; o.conn.SetSelected(allConnectionsName) })
	waitComputed(t, o, done+1)
	var skus map[string][2]string
	var asOf string
	var exportable bool
	onUI(func() {
		skus = map[string][2]string{}
		for row := range o.res.SKUs {
			skus[o.res.SKUs[row].PartNumber] = [2]string{o.skuCell(row, 1), o.skuCell(row, 2)}
		}
		asOf, exportable = o.asOf.Text, !o.exportA.Disabled() || !o.export.Disabled()
	})
	if skus["ENTERPRISEPACK"] != [2]string{"14", "5"} || skus["SPE_F1"] != [2]string{"20", "0"} {
		t.Errorf("purchased and assigned per SKU: %v", skus)
	}
	if !strings.Contains(asOf, "Summed over the last imports of Contoso, Fabrikam") || exportable {
		t.Errorf("as of %q, exports enabled %v", asOf, exportable)
	}
	var shared string
	onUI(func() { shared = m.data.connID })
	if shared != "c1" {
		t.Errorf("the data pages' connection became %q", shared)
	}
}
