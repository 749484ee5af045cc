package service

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/inventorybeacon/beacon/connector/catalog"
	"github.com/inventorybeacon/beacon/service/optimize"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// All tenants at once (issue 21): a service provider, or an organisation
// with several tenants, wants the seats, cost and waste per SKU across
// every connection. Totals sums each connection's own Optimize result,
// so a figure across tenants is always the sum of the figures each
// tenant's page shows; the window and `beacon optimize --all` both call
// it.

// TenantsSnapshot is one connection whose current snapshot is summed.
type TenantsSnapshot struct {
	ConnectionID, ConnectionName string
	Run                          inventory.Run
	Result                       *optimize.Result
}

// ConnectionSKU is one connection's line of a SKU, as its own page shows
// it.
type ConnectionSKU struct {
	ConnectionID, ConnectionName string
	optimize.SKUSavings
}

// TenantsSKU is one SKU summed across connections: purchased, assigned,
// unused and recoverable seats, seats per list, what the recoverable
// seats cost a month (MonthlyCents: the waste) and what all purchased
// seats cost (TotalMonthlyCents). Price is the SKU's configured price
// (prices are per SKU, the same for every tenant).
type TenantsSKU struct {
	optimize.SKUSavings
	// Connections are the connections holding the SKU, in the order of
	// Totals.Connections.
	Connections []ConnectionSKU
}

// Totals are the figures of every connection's current snapshot, summed.
type Totals struct {
	// Connections are the summed snapshots, in the order given.
	Connections []TenantsSnapshot
	// NoData names the connections without imported data (left out).
	NoData []string
	SKUs   []TenantsSKU
	// RecoverableSeats, UnpricedSeats and UncountedUnused sum the
	// connections' own; MonthlyCents (waste) and TotalMonthlyCents
	// (all purchased seats) are per currency.
	RecoverableSeats, UnpricedSeats, UncountedUnused int
	MonthlyCents, TotalMonthlyCents                  map[string]float64
}

// Totals computes Optimize for the current snapshot of each connection
// (those without one are listed in NoData) and sums them per SKU. Each
// snapshot is pinned by its run, so a connection's figures and its import
// date agree even if an import finishes meanwhile.
func (o *Optimizer) Totals(ctx context.Context, conns []storage.Connection, days int, cfg *storage.Config, cat *catalog.Catalog) (*Totals, error) {
	t := &Totals{MonthlyCents: map[string]float64{}, TotalMonthlyCents: map[string]float64{}}
	for _, c := range conns {
		run, err := o.Store.CurrentRun(ctx, c.ID)
		if errors.Is(err, inventory.ErrNoSnapshot) {
			t.NoData = append(t.NoData, c.Name)
			continue
		}
		if err != nil {
			return nil, err
		}
		res, err := o.OptimizeRun(ctx, c.ID, run.ID, days, cfg, cat)
		if err != nil {
			return nil, err
		}
		t.Connections = append(t.Connections, TenantsSnapshot{ConnectionID: c.ID, ConnectionName: c.Name, Run: run, Result: res})
	}
	t.sum()
	return t, nil
}

// sum adds up the connections' results.
func (t *Totals) sum() {
	idx := map[string]int{}
	for _, snap := range t.Connections {
		r := snap.Result
		t.RecoverableSeats += r.RecoverableSeats
		t.UnpricedSeats += r.UnpricedSeats
		t.UncountedUnused += r.UncountedUnused
		for cur, c := range r.MonthlyCents {
			t.MonthlyCents[cur] += c
		}
		for _, s := range r.SKUs {
			key := strings.ToLower(s.SkuID)
			i, ok := idx[key]
			if !ok {
				i = len(t.SKUs)
				idx[key] = i
				t.SKUs = append(t.SKUs, TenantsSKU{SKUSavings: optimize.SKUSavings{
					SKU: optimize.SKU{SkuID: s.SkuID, PartNumber: s.PartNumber}, Name: s.Name, Price: s.Price}})
			}
			line := &t.SKUs[i]
			line.Purchased += s.Purchased
			line.Assigned += s.Assigned
			line.Unused += s.Unused
			line.Recoverable += s.Recoverable
			line.MonthlyCents += s.MonthlyCents
			line.TotalMonthlyCents += s.TotalMonthlyCents
			for reason, n := range s.ByReason {
				line.ByReason[reason] += n
			}
			line.Connections = append(line.Connections, ConnectionSKU{ConnectionID: snap.ConnectionID, ConnectionName: snap.ConnectionName, SKUSavings: s})
			if s.Price != nil {
				t.TotalMonthlyCents[s.Price.Currency] += s.TotalMonthlyCents
			}
		}
	}
	slices.SortStableFunc(t.SKUs, func(a, b TenantsSKU) int { return optimize.CompareSavings(a.SKUSavings, b.SKUSavings) })
}

// SumLicenses adds up the Licenses page's figures of every connection's
// current snapshot per SKU (connections without one are passed over):
// the window's "All connections" and the totals line of `beacon list`.
// A SKU's status is its connections' one when they agree, else "Mixed";
// its activity counts only when every connection's usage is known, as
// a sum with an unknown part would claim too few active users.
func SumLicenses(ctx context.Context, store *inventory.Store, conns []storage.Connection) (sums []inventory.License, imported int, err error) {
	idx := map[string]int{}
	for _, conn := range conns {
		run, err := store.CurrentRun(ctx, conn.ID)
		if errors.Is(err, inventory.ErrNoSnapshot) {
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		ls, err := store.Licenses(ctx, conn.ID, inventory.Query{RunID: run.ID})
		if err != nil {
			return nil, 0, err
		}
		imported++
		for _, l := range ls {
			key := strings.ToLower(l.SkuID)
			i, ok := idx[key]
			if !ok {
				idx[key] = len(sums)
				sums = append(sums, inventory.License{SKU: inventory.SKU{SkuID: l.SkuID, SkuPartNumber: l.SkuPartNumber,
					CapabilityStatus: l.CapabilityStatus}, UsageKnown: true})
				i = len(sums) - 1
			}
			s := &sums[i]
			if s.CapabilityStatus != l.CapabilityStatus {
				s.CapabilityStatus = "Mixed"
			}
			s.ConsumedUnits += l.ConsumedUnits
			s.PrepaidUnits.Enabled += l.PrepaidUnits.Enabled
			s.PrepaidUnits.Warning += l.PrepaidUnits.Warning
			s.PrepaidUnits.Suspended += l.PrepaidUnits.Suspended
			s.PrepaidUnits.LockedOut += l.PrepaidUnits.LockedOut
			s.Purchased += l.Purchased
			s.Assigned += l.Assigned
			s.Unassigned += l.Unassigned
			s.Active += l.Active
			s.Inactive += l.Inactive
			s.UsageKnown = s.UsageKnown && l.UsageKnown
		}
	}
	slices.SortStableFunc(sums, func(a, b inventory.License) int {
		return strings.Compare(strings.ToLower(a.SkuPartNumber), strings.ToLower(b.SkuPartNumber))
	})
	return sums, imported, nil
}

// Result shows the sums as one Optimization page: the SKU lines and the
// totals, and no lists (whom to act on is one connection's question).
// AsOf is zero: each connection counts from its own date.
func (t *Totals) Result(days int) *optimize.Result {
	r := &optimize.Result{InactiveDays: days, ActivityKnown: true, MonthlyCents: t.MonthlyCents,
		RecoverableSeats: t.RecoverableSeats, UnpricedSeats: t.UnpricedSeats, UncountedUnused: t.UncountedUnused}
	for _, s := range t.SKUs {
		r.SKUs = append(r.SKUs, s.SKUSavings)
	}
	return r
}
