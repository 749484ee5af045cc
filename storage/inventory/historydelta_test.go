package inventory

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// propFigureCalls counts the calls of propHistory's HistoryFunc: a run
// whose figures are computed whole calls it once (its few users are one
// part), one that works them out from the previous run's three times
// (prices, the changed users' old versions, their new ones).
var propFigureCalls atomic.Int64

// propHistory's figures add up over users as the Optimization page's do
// and hinge on what those hinge on: the SKUs listed, the activity of each
// workload against the reference date, whether usage is known, the
// account being enabled, its age, and sign-ins when read.
var propHistory = HistoryOptions{Key: "k1", Figures: func(_ context.Context, f *LicenseFacts) (HistoryFigures, error) {
	propFigureCalls.Add(1)
	asOf, err := time.Parse(DateLayout, f.Run.ActivityAsOf)
	if err != nil {
		return nil, fmt.Errorf("the facts have no reference date: %q", f.Run.ActivityAsOf)
	}
	cutoff := asOf.AddDate(0, 0, -20)
	out := HistoryFigures{}
	for _, l := range f.Licenses {
		out[strings.ToLower(l.SkuID)] = HistorySKU{Priced: true, PriceCents: 100, Currency: "EUR", CostCents: int64(100 * l.Purchased)}
	}
	for _, u := range f.Users {
		var last time.Time
		if f.UsageKnown {
			for _, a := range u.Activity {
				if a.After(last) {
					last = a
				}
			}
		}
		if f.Run.SignIns == SignInsRead && u.SignIn.Latest().After(last) {
			last = u.SignIn.Latest()
		}
		inactive := !u.Enabled || u.Created.Before(cutoff) && last.Before(cutoff)
		for _, id := range u.SkuIDs {
			h, ok := out[strings.ToLower(id)]
			if !ok {
				continue
			}
			if inactive {
				h.InactiveAssigned++
			}
			if len(u.SkuIDs) > 1 {
				h.Overlapping++
			}
			out[strings.ToLower(id)] = h
		}
	}
	return out, nil
}}

// historyDayFacts is the connection c1's history row of each SKU on the
// day of now.
func historyDayFacts(t *testing.T, s *Store, now time.Time) string {
	t.Helper()
	rows, err := s.HistorySKUs(context.Background(), "c1", HistoryQuery{Since: now, Until: now})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(rows, func(a, b HistorySKU) int { return strings.Compare(a.SkuID, b.SkuID) })
	return fmt.Sprintf("%+v", rows)
}

// TestHistoryDeltaFallsBack: a run works out its figures from the
// previous run's only when nothing but users changed; else (another key,
// another reference date, sign-ins read, no figures stored, reports
// downloaded again) it computes them whole. Either way they equal a full
// import's.
func TestHistoryDeltaFallsBack(t *testing.T) {
	forEachStoreOpen(t, testHistoryDeltaFallsBack)
}

func testHistoryDeltaFallsBack(t *testing.T, open func(Options) *Store) {
	ctx := context.Background()
	now := time.Date(2027, 5, 3, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := open(Options{Now: clock, Keep: 2})
	r := rand.New(rand.NewPCG(9, 21))
	tenant := &propTenant{users: map[string]User{}, activity: map[string]string{}}
	for range 30 {
		u := tenant.newUser(r, now)
		tenant.users[u.ID] = u
	}
	rows := tenant.report(r, now.AddDate(0, 0, -2).Truncate(24*time.Hour))
	st := propStep{now: now, incoming: tenant.list(), rows: rows, reports: "fresh"}
	prev := fullRun(t, s, st, rows, true)
	for _, c := range []struct {
		name  string
		delta bool
		out   func(*Outcome)
		setUp func()
	}{
		{name: "users changed", delta: true},
		{name: "another key", out: func(o *Outcome) { o.History.Key = "k2" }},
		{name: "the same key again", delta: true, out: func(o *Outcome) { o.History.Key = "k2" }},
		{name: "back to the first key"},
		{name: "sign-ins read", out: func(o *Outcome) { o.SignIns = SignInsRead }},
		{name: "after sign-ins were read"},
		{name: "no key", out: func(o *Outcome) { o.History.Key = "" }},
		{name: "no figures stored"},
		{name: "another reference date", setUp: func() {
			if _, err := s.DB().ExecContext(ctx, "UPDATE runs SET activity_as_of = '2027-01-01' WHERE id = ?", prev.ID); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "reports downloaded again", setUp: func() { st.reports = "fresh" }},
		{name: "shared again", delta: true},
	} {
		now = now.Add(3 * time.Hour)
		st = propStep{now: now, reports: "shared"}
		for _, id := range tenant.ids()[:4] {
			u := tenant.users[id]
			relicense(r, &u, now)
			u.AccountEnabled = !u.AccountEnabled
			tenant.users[id] = u
			st.upserts = append(st.upserts, u)
		}
		if c.setUp != nil {
			c.setUp()
		}
		if st.reports == "fresh" {
			rows = tenant.report(r, now.AddDate(0, 0, -1).Truncate(24*time.Hour))
			st.rows = rows
		}
		st.incoming = tenant.list()
		out := Outcome{Status: StatusSucceeded, Mode: "incremental", History: propHistory,
			Sync: &SyncState{UsersDeltaLink: "https://graph.example/delta", FullStarted: now, ReportsStarted: now}}
		if c.out != nil {
			c.out(&out)
		}
		w := stageChanges(t, s, prev.ID, st)
		calls := propFigureCalls.Load()
		got, err := w.Finish(ctx, out)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		prev = got
		if delta := propFigureCalls.Load()-calls == 3; delta != c.delta {
			t.Errorf("%s: worked out from the previous run's figures: %v, want %v", c.name, delta, c.delta)
		}
		ref := open(Options{Now: clock})
		fullRun(t, ref, st, rows, true)
		g, want := historyDayFacts(t, s, now), historyDayFacts(t, ref, now)
		ref.Close()
		if g != want {
			t.Errorf("%s: the history's figures differ from a full import's\nincremental: %s\nfull:        %s", c.name, g, want)
		}
	}
}
