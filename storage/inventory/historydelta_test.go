package inventory

import (
	"context"
	"errors"
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

// historyDayFacts is the connection c1's history rows of the tenant and
// of each SKU on the day of now.
func historyDayFacts(t *testing.T, s *Store, now time.Time) string {
	t.Helper()
	rows, err := s.HistorySKUs(context.Background(), "c1", HistoryQuery{Since: now, Until: now})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(rows, func(a, b HistorySKU) int { return strings.Compare(a.SkuID, b.SkuID) })
	tenant, err := s.HistoryTenants(context.Background(), "c1", HistoryQuery{Since: now, Until: now})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%+v %+v", tenant, rows)
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
	tenant, rows, prev := firstImport(t, s, r, 30, now)
	st := propStep{}
	chunk := historyChunk
	defer func() { historyChunk = chunk }()
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
		// More changed users than a part of the whole computation holds
		// (here 5: the changes are 4 users, 8 rows).
		{name: "many users changed", setUp: func() { historyChunk = 5 }},
		{name: "few again", delta: true, setUp: func() { historyChunk = chunk }},
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

// TestSharedActivity: a run sharing report rows shows the users' last
// activity of their run instead of copying it: the pages, the export and
// the BI views show the same dates on every kept snapshot, and the rows
// stay while a kept snapshot shows them, however old their own run.
func TestSharedActivity(t *testing.T) {
	forEachStoreOpen(t, testSharedActivity)
}

func testSharedActivity(t *testing.T, open func(Options) *Store) {
	ctx := context.Background()
	now := time.Date(2027, 9, 14, 8, 0, 0, 0, time.UTC)
	s := open(Options{Now: func() time.Time { return now }, Keep: 2})
	r := rand.New(rand.NewPCG(4, 4))
	tenant, rows, first := firstImport(t, s, r, 25, now)
	var st propStep
	activity := func(q Query) map[string]time.Time {
		us, err := s.Users(ctx, "c1", q)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]time.Time{}
		for _, u := range us {
			out[u.ID] = u.LastActivity
		}
		return out
	}
	count := func(q string, args ...any) int {
		var n int
		if err := s.DB().QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	want := activity(Query{})
	dated := 0
	for _, d := range want {
		if !d.IsZero() {
			dated++
		}
	}
	rowsOfFirst := count("SELECT COUNT(*) FROM user_activity WHERE run_id = ?", first.ID)
	if dated == 0 || rowsOfFirst == 0 {
		t.Fatalf("%d users with a last activity, %d activity rows: the test proves nothing", dated, rowsOfFirst)
	}
	// Two incremental runs sharing the reports: the first snapshot is
	// pruned (Keep 2), its activity rows stay.
	var runs []Run
	prev := first
	for range 2 {
		now = now.Add(5 * time.Hour)
		st = propStep{now: now, reports: "shared"}
		id := tenant.ids()[0]
		u := tenant.users[id]
		relicense(r, &u, now)
		tenant.users[id] = u
		st.upserts = []User{u}
		prev = incrementalRun(t, s, prev.ID, st, true)
		runs = append(runs, prev)
	}
	if n := count("SELECT COUNT(*) FROM runs WHERE id = ? AND snapshot = ?", first.ID, snapNone); n != 1 {
		t.Fatalf("run %d is still kept; the test wants it pruned", first.ID)
	}
	for _, run := range runs {
		if n := count("SELECT COUNT(*) FROM user_activity WHERE run_id = ?", run.ID); n != 0 {
			t.Errorf("run %d copied %d activity rows", run.ID, n)
		}
		if got := activity(Query{RunID: run.ID}); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("run %d shows last activity\n%v\nwant\n%v", run.ID, got, want)
		}
	}
	if n := count("SELECT COUNT(*) FROM user_activity WHERE run_id = ?", first.ID); n != rowsOfFirst {
		t.Errorf("%d activity rows of the pruned run %d left, want its %d", n, first.ID, rowsOfFirst)
	}
	exported := map[string]time.Time{}
	if err := s.EachUser(ctx, "c1", Query{}, func(u *User) error { exported[u.ID] = u.LastActivity; return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(exported) != fmt.Sprint(want) {
		t.Errorf("the export shows last activity\n%v\nwant\n%v", exported, want)
	}
	if n := count("SELECT COUNT(*) FROM beacon_users WHERE last_activity IS NOT NULL"); n != dated {
		t.Errorf("beacon_users: %d users with a last activity, want %d", n, dated)
	}
	if n := count("SELECT COUNT(*) FROM beacon_user_activity"); n != rowsOfFirst {
		t.Errorf("beacon_user_activity: %d rows, want %d", n, rowsOfFirst)
	}
	// Full imports with reports of their own: once no kept snapshot shows
	// the first run's activity, its rows go.
	for range 2 {
		now = now.Add(5 * time.Hour)
		st = propStep{now: now, incoming: tenant.list(), rows: rows, reports: "fresh"}
		fullRun(t, s, st, rows, true)
	}
	if n := count("SELECT COUNT(*) FROM user_activity WHERE run_id = ?", first.ID); n != 0 {
		t.Errorf("%d activity rows of run %d left after no snapshot shows them", n, first.ID)
	}
}

// firstImport imports a new tenant of n users in full, with a usage
// report refreshed two days before now.
func firstImport(t *testing.T, s *Store, r *rand.Rand, n int, now time.Time) (*propTenant, []ReportRow, Run) {
	t.Helper()
	tenant := &propTenant{users: map[string]User{}, activity: map[string]string{}}
	for range n {
		u := tenant.newUser(r, now)
		tenant.users[u.ID] = u
	}
	rows := tenant.report(r, now.AddDate(0, 0, -2).Truncate(24*time.Hour))
	return tenant, rows, fullRun(t, s, propStep{now: now, incoming: tenant.list(), rows: rows, reports: "fresh"}, rows, true)
}

// TestHistoryDeltaAfterFailedRuns: runs that failed between two good ones
// (one having replaced users, one having removed some) leave nothing the
// next run's worked-out figures count: they equal a full import's.
func TestHistoryDeltaAfterFailedRuns(t *testing.T) {
	forEachStoreOpen(t, func(t *testing.T, open func(Options) *Store) {
		ctx := context.Background()
		now := time.Date(2027, 6, 7, 8, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		s := open(Options{Now: clock, Keep: 2})
		r := rand.New(rand.NewPCG(4, 77))
		tenant, rows, prev := firstImport(t, s, r, 30, now)
		out := func(status Status) Outcome {
			return Outcome{Status: status, Mode: "incremental", History: propHistory,
				Sync: &SyncState{UsersDeltaLink: "https://graph.example/delta", FullStarted: now, ReportsStarted: now}}
		}
		for step := range 6 {
			now = now.Add(2 * time.Hour)
			failed := step%3 == 1
			st := propStep{now: now, reports: "shared"}
			ids := tenant.ids()
			for _, id := range ids[step*3 : step*3+3] {
				u := tenant.users[id]
				relicense(r, &u, now)
				u.AccountEnabled = !u.AccountEnabled
				st.upserts = append(st.upserts, u)
				if !failed {
					tenant.users[id] = u
				}
			}
			if step%2 == 1 {
				st.removed = []string{ids[len(ids)-1-step]}
				if !failed {
					delete(tenant.users, st.removed[0])
				}
			}
			st.incoming = tenant.list()
			w := stageChanges(t, s, prev.ID, st)
			if failed {
				if _, err := w.Finish(ctx, Outcome{Status: StatusFailed, Err: errors.New("cancelled")}); err != nil {
					t.Fatal(err)
				}
				continue
			}
			calls := propFigureCalls.Load()
			got, err := w.Finish(ctx, out(StatusSucceeded))
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			if propFigureCalls.Load()-calls != 3 {
				t.Errorf("step %d: the figures were computed whole, not worked out from the previous run's", step)
			}
			prev = got
			ref := open(Options{Now: clock})
			fullRun(t, ref, st, rows, true)
			g, want := historyDayFacts(t, s, now), historyDayFacts(t, ref, now)
			ref.Close()
			if g != want {
				t.Errorf("step %d: the history's figures differ from a full import's\nincremental: %s\nfull:        %s", step, g, want)
			}
		}
	})
}
