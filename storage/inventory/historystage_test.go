package inventory

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestStagedHistoryMatchesSQL checks what staging compares and counts for
// the history (historystage.go) against the SQL comparison of the two
// snapshots it replaces, day after day of full and incremental runs:
// joiners, leavers, guests, renames, relicensing, disabling, a delta that
// changes a user and changes it back or changes then removes it, a
// sharded listing discarded half-way, and a delta from a snapshot that is
// not the current one (which must fall back to SQL).
func TestStagedHistoryMatchesSQL(t *testing.T) { forEachStoreOpen(t, testStagedHistoryMatchesSQL) }

func testStagedHistoryMatchesSQL(t *testing.T, open func(Options) *Store) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(18, 2026))
	now := time.Date(2027, 1, 1, 9, 0, 0, 0, time.UTC)
	s := open(Options{Now: func() time.Time { return now }, Keep: 3})
	tenant := &propTenant{users: map[string]User{}, activity: map[string]string{}}
	joiner := func() {
		u := tenant.newUser(r, now)
		switch r.IntN(5) {
		case 0:
			u.UserType = "Guest"
		case 1:
			u.UserPrincipalName = "guest_example.com#ext#" + u.UserPrincipalName
		}
		tenant.users[u.ID] = u
	}
	for range 40 {
		joiner()
	}
	var runs []Run
	staged, fallbacks, deltas := 0, 0, 0
	days := 60
	if testing.Short() {
		days = 20
	}
	for day := 0; day < days; day++ {
		var upserts []User
		var removed []string
		if day > 0 {
			now = now.AddDate(0, 0, 1)
			before := len(tenant.users)
			for range r.IntN(3) {
				joiner()
			}
			for _, id := range tenant.ids() {
				u := tenant.users[id]
				switch r.IntN(12) {
				case 0:
					if before > 5 {
						delete(tenant.users, id)
						removed = append(removed, id)
						continue
					}
				case 1, 2:
					relicense(r, &u, now)
				case 3:
					u.AccountEnabled = !u.AccountEnabled
				case 4:
					u.UserPrincipalName = fmt.Sprintf("Renamed%d.%s", day, u.UserPrincipalName)
				case 5:
					u.Department = "Moved" // changes nothing the history sees
				default:
					continue
				}
				tenant.users[id] = u
			}
			// The delta: every user that is new or differs.
			last := runs[len(runs)-1]
			prevUsers := map[string]bool{}
			for _, id := range queryAll[string](t, s.DB(), "SELECT id FROM users WHERE run_id = ?", last.ID) {
				prevUsers[id] = true
			}
			for _, u := range tenant.list() {
				if !prevUsers[u.ID] || r.IntN(3) > 0 {
					upserts = append(upserts, u) // unchanged users may come too
				}
			}
		}
		w := beginProp(t, s)
		current := int64(0)
		if len(runs) > 0 {
			current = runs[len(runs)-1].ID
		}
		delta := day > 0 && r.IntN(3) > 0
		mode := "parallel"
		if delta {
			mode = "incremental"
			deltas++
			from := current
			if len(runs) > 1 && r.IntN(8) == 0 {
				from = runs[len(runs)-2].ID // not the current snapshot
			}
			if err := w.BeginUserChanges(ctx, from); err != nil {
				t.Fatal(err)
			}
			// A user changed then changed back, another changed then
			// removed, across the delta's two calls.
			half := len(upserts) / 2
			first, second := slices.Clone(upserts[:half]), slices.Clone(upserts[half:])
			inFirst := map[string]bool{}
			for _, u := range first {
				inFirst[u.ID] = true
			}
			for _, u := range second {
				if r.IntN(4) == 0 && !inFirst[u.ID] {
					m := u
					m.AccountEnabled = !m.AccountEnabled
					m.AssignedLicenses = nil
					first = append(first, m)
				}
			}
			for _, id := range removed {
				if r.IntN(2) == 0 {
					first = append(first, User{ID: id, UserPrincipalName: "leaving-" + id + "@contoso.example", AccountEnabled: true})
				}
			}
			if err := w.ApplyUserChanges(ctx, first, nil); err != nil {
				t.Fatal(err)
			}
			if err := w.ApplyUserChanges(ctx, second, removed); err != nil {
				t.Fatal(err)
			}
			if err := w.EndUserChanges(ctx); err != nil {
				t.Fatal(err)
			}
		} else {
			all := tenant.list()
			if r.IntN(4) == 0 {
				// A sharded listing found incomplete is redone whole.
				if err := w.AddUsers(ctx, all[:len(all)/2]); err != nil {
					t.Fatal(err)
				}
				if err := w.DiscardUsers(ctx); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < len(all); i += 7 {
				if err := w.AddUsers(ctx, all[i:min(i+7, len(all))]); err != nil {
					t.Fatal(err)
				}
			}
		}
		got := finishProp(t, w, mode, true, now)
		if w.hist.usable(current) {
			staged++
		} else {
			fallbacks++
		}
		// What the SQL comparison and count say of the same two snapshots.
		var want []HistoryEvent
		if current != 0 {
			var err error
			if want, err = historyEvents(ctx, s.db, current, got.ID); err != nil {
				t.Fatal(err)
			}
		}
		for i := range want {
			want[i].Day = dayTime(dayNumber(now))
		}
		want = slices.Compact(want) // two users may share a name on a day of renames
		events, err := s.HistoryEvents(ctx, "c1", HistoryQuery{Since: now, Until: now})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(events) != fmt.Sprint(want) {
			t.Fatalf("day %d (%s): events\n got %v\nwant %v", day, mode, events, want)
		}
		wantT, _, err := readHistoryCounts(ctx, s.db, got.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		tenants, err := s.HistoryTenants(ctx, "c1", HistoryQuery{Since: now, Until: now})
		if err != nil {
			t.Fatal(err)
		}
		wantT.Day = dayTime(dayNumber(now))
		if len(tenants) != 1 || tenants[0] != wantT {
			t.Fatalf("day %d (%s): tenant %+v, want %+v", day, mode, tenants, wantT)
		}
		runs = append(runs, got)
	}
	// The first run has nothing to compare with; a delta from another
	// snapshot compares in SQL.
	if staged < days*3/4 || deltas == 0 {
		t.Fatalf("%d runs compared while staging, %d in SQL, %d deltas: the staged comparison was hardly tested", staged, fallbacks, deltas)
	}
	t.Logf("%d runs compared while staging, %d in SQL (%d deltas)", staged, fallbacks, deltas)
}

// TestStagedWorkloadsMatchReportRows checks each user's activity per
// workload as staging notes it against what workloadActivity reads back
// from the same report rows: names in any case and more than once, dates
// that are no date, concealed names, and a report discarded and staged
// again.
func TestStagedWorkloadsMatchReportRows(t *testing.T) {
	forEachStoreOpen(t, testStagedWorkloadsMatchReportRows)
}

func testStagedWorkloadsMatchReportRows(t *testing.T, open func(Options) *Store) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(18, 6))
	s := open(Options{})
	w := beginWithSKUs(t, s, "c1")
	defer w.Finish(ctx, Outcome{Status: StatusCancelled})
	dates := []string{"2026-11-01", "2026-11-30", "2026-12-03", "2025-01-31", "", "", "not a date", "2026-2-03"}
	var names []string
	for i := range 60 {
		names = append(names, fmt.Sprintf("User%03d@contoso.example", i))
	}
	names = append(names, "0123456789ABCDEF0123456789ABCDEF", "FEDCBA9876543210FEDCBA9876543210")
	rows := func(kind ReportKind, n int) []ReportRow {
		spec := Report(kind)
		var out []ReportRow
		for range n {
			row := ReportRow{Cells: make([]string, len(spec.Columns))}
			upn := names[r.IntN(len(names))]
			switch r.IntN(3) {
			case 0:
				upn = strings.ToUpper(upn)
			case 1:
				upn = strings.ToLower(upn)
			}
			row.Cells[spec.Column("Report Refresh Date")] = "2026-12-04"
			row.Cells[spec.Column("User Principal Name")] = upn
			for i, c := range spec.Columns {
				if c.Type == Date && strings.HasSuffix(c.Header, "Last Activity Date") {
					row.Cells[i] = dates[r.IntN(len(dates))]
				}
			}
			out = append(out, row)
		}
		return out
	}
	for _, step := range []struct {
		kind ReportKind
		n    int
	}{{ReportActiveUsers, 150}, {ReportAppUsage, 90}, {ReportActiveUsers, 150}, {ReportAppUsage, 90}} {
		if err := w.AddReportRows(ctx, step.kind, rows(step.kind, step.n)); err != nil {
			t.Fatal(err)
		}
		if step.kind == ReportAppUsage {
			// A download that failed half-way is fetched again.
			if err := w.DiscardReport(ctx, ReportAppUsage); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.AddReportRows(ctx, ReportAppUsage, rows(ReportAppUsage, 120)); err != nil {
		t.Fatal(err)
	}
	want, err := s.workloadActivity(ctx, w.ID())
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, n := range names {
		key := strings.ToLower(n)
		if got := w.facts.workloads(key); got != want[key] {
			t.Errorf("%s: staged %v, read %v", key, got, want[key])
		}
		if want[key] != ([NumWorkloads]time.Time{}) {
			seen++
		}
	}
	if seen < len(names)/2 {
		t.Fatalf("only %d of %d names have activity: the test proves little", seen, len(names))
	}
	// Some users' (an incremental run's changes): both reports' dates
	// of those users, read at once on PostgreSQL, and nobody else's.
	var keys []string
	for i, n := range names {
		if i%2 == 0 {
			keys = append(keys, strings.ToLower(n))
		}
	}
	keys = append(keys, "nobody@contoso.example")
	some, err := s.workloadActivityOf(ctx, w.ID(), keys)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range keys {
		if some[key] != want[key] {
			t.Errorf("%s of some users: %v, of all: %v", key, some[key], want[key])
		}
	}
	for key := range some {
		if !slices.Contains(keys, key) {
			t.Errorf("%s read, not asked for", key)
		}
	}
}

// TestHistoryFiguresInParts checks that a snapshot's figures worked out
// a part of the licensed users at a time (historyChunk) add up, with the
// price figures kept, and that every licensed user is seen once.
func TestHistoryFiguresInParts(t *testing.T) { forEachStoreOpen(t, testHistoryFiguresInParts) }

func testHistoryFiguresInParts(t *testing.T, open func(Options) *Store) {
	defer func(n int) { historyChunk = n }(historyChunk)
	historyChunk = 7
	ctx := context.Background()
	s := open(Options{})
	us := testUsers(40, "u")
	for i := range us {
		us[i].AccountEnabled = i%3 != 0
	}
	calls, seen := 0, map[string]bool{}
	figs := HistoryOptions{Figures: func(_ context.Context, f *LicenseFacts) (HistoryFigures, error) {
		calls++
		out := HistoryFigures{}
		for _, u := range f.Users {
			if seen[u.UPN] {
				return nil, fmt.Errorf("%s given twice", u.UPN)
			}
			seen[u.UPN] = true
			for _, sku := range u.SkuIDs {
				h := out[strings.ToLower(sku)]
				h.Overlapping++
				if !u.Enabled {
					h.InactiveAssigned++
				}
				h.Priced, h.PriceCents, h.Currency, h.CostCents = true, 2300, "EUR", 57500
				out[strings.ToLower(sku)] = h
			}
		}
		return out, nil
	}}
	importUsers(t, s, "c1", us, Outcome{History: figs})
	licensed := queryInts(t, s.DB(), "SELECT count(*) FROM users WHERE assigned_licenses <> '[]'")[0]
	if calls != (licensed+6)/7 || len(seen) != licensed {
		t.Fatalf("%d calls for %d licensed users, %d seen", calls, licensed, len(seen))
	}
	rows, err := s.HistorySKUs(ctx, "c1", HistoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int{}
	for _, u := range us {
		for _, l := range u.AssignedLicenses {
			c := want[strings.ToLower(l.SkuID)]
			c[1]++
			if !u.AccountEnabled {
				c[0]++
			}
			want[strings.ToLower(l.SkuID)] = c
		}
	}
	checked := 0
	for _, r := range rows {
		w := want[r.SkuID]
		if r.InactiveAssigned != w[0] || r.Overlapping != w[1] || (w[1] > 0 && (!r.Priced || r.CostCents != 57500 || r.Currency != "EUR")) {
			t.Errorf("%s: %+v, want inactive %d, holders %d", r.SkuID, r, w[0], w[1])
		}
		if w[1] > 0 {
			checked++
		}
	}
	if checked == 0 || calls < 2 {
		t.Fatalf("%d SKUs held, %d calls: the test proves little", checked, calls)
	}
}
