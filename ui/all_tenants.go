package ui

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/inventorybeacon/beacon/connector/catalog"
	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/service/optimize"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// All connections at once (issue 21): the connection selectors of the
// Licenses and Optimization pages offer "All connections" when there are
// several. Licenses then shows each SKU's figures summed over every
// connection's current import (service.SumLicenses, which `beacon list`
// totals too), Optimization the seats, cost and waste per SKU of
// service.Totals (as `beacon optimize --all`). They are read-only where a
// row needs one tenant: a licence's holders and service plans, the lists
// of users and their exports belong to one connection; prices are per SKU
// and stay settable.

// allConnectionsID stands for every connection in a page's selector; no
// connection's id can be it (ids are GUIDs).
const allConnectionsID = "\x00all"

// allConnectionsName is its entry in the selector.
const allConnectionsName = "All connections"

// offersAll says whether a page's selector offers All connections.
func (p *dataPage) offersAll() bool {
	_, ok := p.src.(licensesSource)
	return ok
}

// withAll adds All connections to a selector's names and ids when there
// is more than one connection to add up.
func withAll(names, ids []string) ([]string, []string) {
	if len(ids) < 2 {
		return names, ids
	}
	return append(names, allConnectionsName), append(ids, allConnectionsID)
}

// allSnapshot is the Run the Licenses page shows for All connections: no
// import of its own, and no count of all rows (-1), so the status line
// says the count alone.
func allSnapshot() inventory.Run {
	return inventory.Run{ConnectionID: allConnectionsID, Counts: inventory.Counts{SKUs: -1}}
}

// read returns the licences of connID's current snapshot that q selects,
// or for All connections every connection's summed, filtered by q.Search
// and sorted by the column q.Sort names.
func (src licensesSource) read(ctx context.Context, s *inventory.Store, connID string, q inventory.Query) ([]inventory.License, error) {
	if connID != allConnectionsID {
		return s.Licenses(ctx, connID, q)
	}
	sums, _, err := service.SumLicenses(ctx, s, src.conns)
	if err != nil {
		return nil, err
	}
	if term := strings.ToLower(strings.TrimSpace(q.Search)); term != "" {
		sums = slices.DeleteFunc(sums, func(l inventory.License) bool {
			return !strings.Contains(strings.ToLower(l.SkuPartNumber+"\x00"+src.cat.Name(l.SkuID, l.SkuPartNumber)+"\x00"+l.SkuID), term)
		})
	}
	if col := slices.IndexFunc(licenseColumns, func(c dataColumn) bool { return c.key != "" && c.key == q.Sort }); col >= 0 {
		slices.SortStableFunc(sums, func(a, b inventory.License) int {
			c := compareCells(src.row(a)[col], src.row(b)[col])
			if q.Desc {
				return -c
			}
			return c
		})
	}
	return sums, nil
}

// compareCells orders two cells of a column: as numbers when both are,
// else as text.
func compareCells(a, b string) int {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	if errA == nil && errB == nil {
		return cmp.Compare(x, y)
	}
	return cmp.Compare(strings.ToLower(a), strings.ToLower(b))
}

// connectionsOf are the configuration's connections, copied: a page's
// source reads them on another goroutine.
func connectionsOf(cfg *storage.Config) []storage.Connection {
	if cfg == nil {
		return nil
	}
	return slices.Clone(cfg.Connections)
}

// totaler is what an Optimizer offers to sum every connection
// (service.Optimizer does).
type totaler interface {
	Totals(ctx context.Context, conns []storage.Connection, days int, cfg *storage.Config, cat *catalog.Catalog) (*service.Totals, error)
}

// errNoTotals says no connection has imported data to add up.
var errNoTotals = errors.New("no connection has imported data yet")

// optimizeAll computes the Optimization page of All connections: the
// SKU lines and totals of service.Totals, no lists.
func optimizeAll(ctx context.Context, opt Optimizer, conns []storage.Connection, days int, cfg *storage.Config, cat *catalog.Catalog) (*optimize.Result, *service.Totals, error) {
	t, ok := opt.(totaler)
	if !ok {
		return nil, nil, errNoTotals
	}
	tot, err := t.Totals(ctx, conns, days, cfg, cat)
	if err != nil {
		return nil, nil, err
	}
	if len(tot.Connections) == 0 {
		return nil, nil, errNoTotals
	}
	return tot.Result(days), tot, nil
}

// allText says what the Optimization page of All connections adds up.
func allText(tot *service.Totals) string {
	names := make([]string, len(tot.Connections))
	for i, c := range tot.Connections {
		names[i] = c.ConnectionName
	}
	s := "Summed over the last imports of " + strings.Join(names, ", ") + ", each counted from its own activity date."
	if len(tot.NoData) > 0 {
		s += " Not imported yet, left out: " + strings.Join(tot.NoData, ", ") + "."
	}
	return s + " The lists of users are per connection: choose one to see them. "
}
