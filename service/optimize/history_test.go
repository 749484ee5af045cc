package optimize

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/connector/catalog"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// TestHistoryFiguresAddUpOverParts checks what the store relies on when
// it gives HistoryFigures a large snapshot's licensed users a part at a
// time (inventory.HistoryFunc): the inactive and overlapping seats of the
// parts add up to those of the whole, and the price figures do not depend
// on the users.
func TestHistoryFiguresAddUpOverParts(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 50))
	lf, skus := historyFixture()
	fn := HistoryFigures(prices, catalog.Builtin())
	whole, err := fn(context.Background(), lf)
	if err != nil {
		t.Fatal(err)
	}
	sum := inventory.HistoryFigures{}
	for start := 0; start < len(lf.Users); {
		end := min(len(lf.Users), start+1+r.IntN(60))
		part := *lf
		part.Users = lf.Users[start:end]
		figs, err := fn(context.Background(), &part)
		if err != nil {
			t.Fatal(err)
		}
		for sku, f := range figs {
			if was, ok := sum[sku]; ok {
				if was.Priced != f.Priced || was.PriceCents != f.PriceCents || was.CostCents != f.CostCents {
					t.Fatalf("%s: the price figures differ between parts: %+v and %+v", sku, was, f)
				}
				f.InactiveAssigned += was.InactiveAssigned
				f.Overlapping += was.Overlapping
			}
			sum[sku] = f
		}
		start = end
	}
	inactive, overlapping := 0, 0
	for _, s := range skus {
		if sum[s] != whole[s] {
			t.Errorf("%s: parts add up to %+v, the whole gives %+v", s, sum[s], whole[s])
		}
		inactive += whole[s].InactiveAssigned
		overlapping += whole[s].Overlapping
	}
	if inactive == 0 || overlapping == 0 {
		t.Fatalf("inactive %d, overlapping %d: the tenant proves little", inactive, overlapping)
	}
}

// historyFixture is a tenant of 400 licensed users with every kind of
// finding, the same on every run.
func historyFixture() (*inventory.LicenseFacts, []string) {
	r := rand.New(rand.NewPCG(18, 50))
	skus := []string{e3, ems, visio, m365}
	lf := &inventory.LicenseFacts{Run: inventory.Run{ActivityAsOf: "2026-03-01", SignIns: inventory.SignInsRead}, UsageKnown: true,
		Groups: map[string]string{"g1": "Licensing - E3"}}
	for i, s := range skus {
		lf.Licenses = append(lf.Licenses, inventory.License{SKU: inventory.SKU{SkuID: s, SkuPartNumber: fmt.Sprint("PART", i)}, Purchased: 300, Assigned: 100})
	}
	asOf := day("2026-03-01")
	for i := range 400 {
		u := inventory.LicenseUser{UPN: fmt.Sprintf("user%03d@contoso.example", i), Enabled: r.IntN(5) != 0, Guest: r.IntN(10) == 0,
			Created: asOf.AddDate(0, 0, -r.IntN(400))}
		for _, s := range skus {
			if r.IntN(3) == 0 {
				u.SkuIDs = append(u.SkuIDs, s)
			}
		}
		if len(u.SkuIDs) > 0 && r.IntN(4) == 0 {
			u.States = []inventory.LicenseAssignmentState{{SkuID: u.SkuIDs[0], AssignedByGroup: "g1", State: "Active"}}
		}
		if r.IntN(12) == 0 {
			u.States = append(u.States, inventory.LicenseAssignmentState{SkuID: visio, AssignedByGroup: "g2", State: "Error", Error: "CountViolation"})
		}
		for w := range inventory.NumWorkloads {
			if r.IntN(3) == 0 {
				u.Activity[w] = asOf.AddDate(0, 0, -r.IntN(120))
			}
		}
		if r.IntN(3) == 0 {
			u.SignIn.Interactive = asOf.AddDate(0, 0, -r.IntN(120)).Add(time.Hour)
		}
		lf.Users = append(lf.Users, u)
	}
	return lf, skus
}

// pinnedRules is the digest of Compute's per-user results on
// historyFixture under RulesVersion.
const pinnedRules = "be33b7df3912673e7f2182f0ec57b4253ea24eec2706f38a422fac59d9044edd"

// TestHistoryRulesPinned holds the rules behind the history's stored
// figures to RulesVersion: the store carries a run's inactive and
// overlapping seats on to the next run under HistoryKey, which names the
// rules by that version alone.
func TestHistoryRulesPinned(t *testing.T) {
	lf, _ := historyFixture()
	res := Compute(FromSnapshot(lf), Options{InactiveDays: HistoryInactiveDays, Prices: prices, Catalog: catalog.Builtin()})
	res.SortLists()
	h := sha256.New()
	for _, s := range res.SKUs {
		fmt.Fprintf(h, "%s %v %d\n", strings.ToLower(s.SkuID), s.ByReason, s.Recoverable)
	}
	for reason, list := range res.Lists {
		for _, fd := range list {
			fmt.Fprintf(h, "%d %s %v %t\n", reason, fd.User.UPN, fd.SKUs, fd.Recoverable)
		}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != pinnedRules {
		t.Fatalf("Compute's results on the fixture changed (digest %s, pinned %s). If the rules changed, bump RulesVersion "+
			"(stored history figures of the old rules must not be carried on), then pin the new digest here; if only the "+
			"built-in catalogue changed, pin the new digest (the catalogue is in HistoryKey already).", got, pinnedRules)
	}
}

// TestHistoryKeyCovers checks that HistoryKey changes with what the
// figures depend on.
func TestHistoryKeyCovers(t *testing.T) {
	cat := catalog.Builtin()
	base := HistoryKey(prices, cat)
	if base != HistoryKey(maps.Clone(prices), cat) {
		t.Fatal("the key of the same prices differs")
	}
	changed := maps.Clone(prices)
	changed[e3] = Price{SkuID: e3, Cents: 1, Currency: "EUR"}
	if HistoryKey(changed, cat) == base {
		t.Error("a changed price keeps the key")
	}
	if HistoryKey(prices, nil) == base {
		t.Error("no catalogue keeps the key")
	}
}
