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

// The property of issue 15: whatever the tenant did and whatever day it
// is, an incremental snapshot (the previous users with a delta's changes,
// reports shared or downloaded afresh) equals a full import of the same
// tenant made at the same moment, field by field, derived figures and the
// activity reference date included.

// propertySequences is how many random sequences TestIncrementalEqualsFullProperty
// runs (issue 15 asks for at least 200).
const propertySequences = 200

// propSKUs are three SKUs; a user holds any subset of them.
var propSKUs = []SKU{
	{SkuID: skuE3, SkuPartNumber: "ENTERPRISEPACK", ID: "t_" + skuE3, AppliesTo: "User", CapabilityStatus: "Enabled",
		ConsumedUnits: 5, PrepaidUnits: PrepaidUnits{Enabled: 60}, SubscriptionIDs: []string{"s1"}},
	{SkuID: skuE5, SkuPartNumber: "ENTERPRISEPREMIUM", ID: "t_" + skuE5, AppliesTo: "User", CapabilityStatus: "Enabled",
		ConsumedUnits: 2, PrepaidUnits: PrepaidUnits{Enabled: 40}, SubscriptionIDs: []string{}},
	{SkuID: "3b555118-da6a-4418-894f-7df1e2096870", SkuPartNumber: "O365_BUSINESS_ESSENTIALS", ID: "t_bess", AppliesTo: "User",
		CapabilityStatus: "Warning", ConsumedUnits: 1, PrepaidUnits: PrepaidUnits{Warning: 20}, SubscriptionIDs: []string{"s3"}},
}

// propZones are two zones with daylight saving time changes, and UTC.
func propZones(t *testing.T) []*time.Location {
	t.Helper()
	var out []*time.Location
	for _, name := range []string{"Europe/Berlin", "America/New_York"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatalf("load zone %s (the Go distribution ships them): %v", name, err)
		}
		out = append(out, loc)
	}
	return append(out, time.UTC)
}

// propDates are the reference days the sequences start from, spread over
// three years: month ends, 29 February 2028, and the days both zones change
// their clocks, at the hours around each change; plus random days.
func propDates(t *testing.T, r *rand.Rand) []time.Time {
	zones := propZones(t)
	berlin, newYork := zones[0], zones[1]
	var out []time.Time
	for y := 2026; y <= 2028; y++ {
		for m := time.January; m <= time.December; m += 3 {
			// The last day of the month, late in the evening local time
			// (already the next day in UTC for New York).
			out = append(out, time.Date(y, m+1, 0, 23, 30, 0, 0, zones[int(m)%3]))
		}
	}
	out = append(out,
		time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC),
		time.Date(2028, 2, 29, 0, 30, 0, 0, berlin),
		time.Date(2028, 2, 29, 21, 0, 0, 0, newYork),
		// Spring forward and fall back in both zones, around the hour that
		// is skipped or repeated.
		time.Date(2026, 3, 29, 1, 59, 0, 0, berlin), time.Date(2026, 3, 29, 3, 1, 0, 0, berlin),
		time.Date(2026, 10, 25, 2, 30, 0, 0, berlin), time.Date(2027, 3, 28, 2, 30, 0, 0, berlin),
		time.Date(2026, 3, 8, 1, 59, 0, 0, newYork), time.Date(2026, 3, 8, 3, 1, 0, 0, newYork),
		time.Date(2026, 11, 1, 1, 30, 0, 0, newYork), time.Date(2027, 11, 7, 23, 45, 0, 0, newYork),
	)
	for len(out) < 64 {
		day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(3*365))
		out = append(out, day.Add(time.Duration(r.IntN(24*60))*time.Minute).In(zones[r.IntN(len(zones))]))
	}
	return out
}

// propTenant is the tenant a sequence evolves.
type propTenant struct {
	users    map[string]User
	activity map[string]string // user principal name -> last Exchange activity date
	next     int
}

func (p *propTenant) newUser(r *rand.Rand, now time.Time) User {
	p.next++
	u := User{
		ID:                fmt.Sprintf("u-%05d", p.next),
		UserPrincipalName: fmt.Sprintf("User%05d@contoso.example", p.next),
		DisplayName:       fmt.Sprintf("User %d", p.next),
		Mail:              fmt.Sprintf("user%05d@contoso.example", p.next),
		AccountEnabled:    r.IntN(6) != 0,
		UsageLocation:     []string{"DE", "US", ""}[r.IntN(3)],
		Department:        []string{"Sales", "IT", ""}[r.IntN(3)],
		JobTitle:          "Clerk",
		CreatedDateTime:   now.UTC().AddDate(0, 0, -r.IntN(900)).Truncate(time.Second),
	}
	relicense(r, &u, now)
	return u
}

// relicense gives u a random subset of the SKUs.
func relicense(r *rand.Rand, u *User, now time.Time) {
	u.AssignedLicenses, u.AssignedPlans = []AssignedLicense{}, []AssignedPlan{}
	for _, s := range propSKUs {
		if r.IntN(2) == 0 {
			continue
		}
		u.AssignedLicenses = append(u.AssignedLicenses, AssignedLicense{SkuID: s.SkuID, DisabledPlans: []string{}})
		u.AssignedPlans = append(u.AssignedPlans, AssignedPlan{AssignedDateTime: now.UTC().AddDate(0, 0, -r.IntN(400)).Truncate(time.Second),
			CapabilityStatus: "Enabled", Service: "exchange", ServicePlanID: "efb87545-963c-4e0d-99df-69c6916d9eb0"})
	}
}

// report makes the active users report as Microsoft would have it on
// refresh: every user, some never active, activity dates around the
// 30-day boundary included.
func (p *propTenant) report(r *rand.Rand, refresh time.Time) []ReportRow {
	ref := refresh.Format(DateLayout)
	var rows []ReportRow
	for _, id := range p.ids() {
		u := p.users[id]
		upn := u.UserPrincipalName
		if r.IntN(3) == 0 {
			upn = strings.ToUpper(upn) // reports may differ in case
		}
		last, ok := p.activity[u.UserPrincipalName]
		if !ok || r.IntN(3) == 0 {
			// Activity moved: on the boundary, a day either side, recent, old, or none.
			switch r.IntN(6) {
			case 0:
				last = refresh.AddDate(0, 0, -ActiveDays).Format(DateLayout)
			case 1:
				last = refresh.AddDate(0, 0, -ActiveDays-1).Format(DateLayout)
			case 2:
				last = refresh.AddDate(0, 0, -ActiveDays+1).Format(DateLayout)
			case 3:
				last = refresh.AddDate(0, 0, -r.IntN(200)).Format(DateLayout)
			case 4:
				last = ""
			default:
				last = refresh.AddDate(0, 0, -r.IntN(10)).Format(DateLayout)
			}
			p.activity[u.UserPrincipalName] = last
		}
		rows = append(rows, activeRow(upn, ref, last))
	}
	// A user the directory no longer lists.
	rows = append(rows, activeRow("gone@contoso.example", ref, refresh.AddDate(0, 0, -2).Format(DateLayout)))
	return rows
}

func (p *propTenant) ids() []string {
	ids := make([]string, 0, len(p.users))
	for id := range p.users {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (p *propTenant) list() []User {
	var us []User
	for _, id := range p.ids() {
		us = append(us, p.users[id])
	}
	return us
}

// propStep is one import: the clock, the tenant's changes since the
// previous one, and what the reports were.
type propStep struct {
	now      time.Time
	upserts  []User
	removed  []string
	reports  string // "fresh" (downloaded), "shared" (reused), "none" (forbidden)
	rows     []ReportRow
	incoming []User // the whole tenant after the changes
}

// fullRun stages the tenant from scratch, as a full import does.
func fullRun(t *testing.T, s *Store, st propStep, rows []ReportRow, sync bool) Run {
	t.Helper()
	ctx := context.Background()
	w := beginProp(t, s)
	for i := 0; i < len(st.incoming); i += 9 {
		if err := w.AddUsers(ctx, st.incoming[i:min(i+9, len(st.incoming))]); err != nil {
			t.Fatal(err)
		}
	}
	if len(rows) > 0 {
		if err := w.AddReportRows(ctx, ReportActiveUsers, rows); err != nil {
			t.Fatal(err)
		}
	}
	return finishProp(t, w, "parallel", sync, st.now)
}

// incrementalRun applies the step's changes to run from, sharing or
// downloading the reports as the step says.
func incrementalRun(t *testing.T, s *Store, from int64, st propStep, sync bool) Run {
	t.Helper()
	return finishProp(t, stageChanges(t, s, from, st), "incremental", sync, st.now)
}

// stageChanges stages the step's changes to run from, as incrementalRun
// does, leaving the run to finish.
func stageChanges(t *testing.T, s *Store, from int64, st propStep) *RunWriter {
	t.Helper()
	ctx := context.Background()
	w := beginProp(t, s)
	if err := w.BeginUserChanges(ctx, from); err != nil {
		t.Fatal(err)
	}
	// The changes in two delta pages, the removals in the second.
	half := len(st.upserts) / 2
	if err := w.ApplyUserChanges(ctx, st.upserts[:half], nil); err != nil {
		t.Fatal(err)
	}
	if err := w.ApplyUserChanges(ctx, st.upserts[half:], st.removed); err != nil {
		t.Fatal(err)
	}
	if err := w.EndUserChanges(ctx); err != nil {
		t.Fatal(err)
	}
	switch st.reports {
	case "shared":
		if err := w.ShareReports(ctx, from); err != nil {
			t.Fatal(err)
		}
	case "fresh":
		if err := w.AddReportRows(ctx, ReportActiveUsers, st.rows); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// beginProp starts a run of the property test with its SKUs.
func beginProp(t *testing.T, s *Store) *RunWriter {
	t.Helper()
	ctx := context.Background()
	w, err := s.BeginRun(ctx, RunInfo{ConnectionID: "c1", ConnectionName: "Contoso", Trigger: TriggerSchedule})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddSKUs(ctx, propSKUs); err != nil {
		t.Fatal(err)
	}
	return w
}

// finishProp ends a run of the property test, with a sync state or not.
func finishProp(t *testing.T, w *RunWriter, mode string, sync bool, now time.Time) Run {
	t.Helper()
	out := Outcome{Status: StatusSucceeded, Mode: mode, History: propHistory}
	if sync {
		out.Sync = &SyncState{UsersDeltaLink: "https://graph.example/delta?" + mode, FullStarted: now, ReportsStarted: now}
	}
	run, err := w.Finish(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// snapshotFacts is everything a snapshot shows, derived figures included.
func snapshotFacts(t *testing.T, s *Store, run Run) string {
	t.Helper()
	return fmt.Sprintf("as of %q users %d assignments %d skus %d report rows %d\n%s",
		run.ActivityAsOf, run.Counts.Users, run.Counts.Assignments, run.Counts.SKUs, run.Counts.ActiveUserRows, dumpSnapshot(t, s, "c1"))
}

// On PostgreSQL a few sequences: each step opens a fresh database.
func TestIncrementalEqualsFullProperty(t *testing.T) {
	forEachStoreOpen(t, func(t *testing.T, open func(Options) *Store) {
		n := propSequences()
		if open(Options{}).pg {
			n = min(n, 6)
		}
		testIncrementalEqualsFullProperty(t, open, n)
	})
}

func testIncrementalEqualsFullProperty(t *testing.T, open func(Options) *Store, sequences int) {
	seed := uint64(20261206)
	r := rand.New(rand.NewPCG(seed, 15))
	dates := propDates(t, r)
	var now time.Time
	clock := func() time.Time { return now }
	checked, deltas := 0, 0
	for seq := 0; seq < sequences; seq++ {
		start := dates[seq%len(dates)]
		inc := open(Options{Now: clock, Keep: 2})
		tenant := &propTenant{users: map[string]User{}, activity: map[string]string{}}
		now = start
		for range 8 + r.IntN(25) {
			u := tenant.newUser(r, now)
			tenant.users[u.ID] = u
		}
		var prev Run
		var sharedRows []ReportRow // the rows the latest download gave
		steps := 2 + r.IntN(4)
		for step := 0; step < steps; step++ {
			st := propStep{now: now}
			if step > 0 {
				// Time passes: hours to weeks, across month ends and DST.
				now = now.Add(time.Duration(1+r.IntN(21*24)) * time.Hour)
				st.now = now
				for range r.IntN(4) { // joiners
					u := tenant.newUser(r, now)
					tenant.users[u.ID] = u
					st.upserts = append(st.upserts, u)
				}
				for _, id := range tenant.ids() {
					switch r.IntN(10) {
					case 0: // leaver
						if len(tenant.users) > 3 {
							delete(tenant.users, id)
							st.removed = append(st.removed, id)
						}
					case 1, 2: // relicensed, or disabled/enabled
						u := tenant.users[id]
						if r.IntN(2) == 0 {
							relicense(r, &u, now)
						} else {
							u.AccountEnabled = !u.AccountEnabled
							u.Department = "Moved"
						}
						tenant.users[id] = u
						st.upserts = append(st.upserts, u)
					}
				}
			}
			// A delta round reports each changed object once, in its last
			// state: a joiner who left again is a removal only.
			st.upserts = lastChanges(st.upserts, st.removed)
			st.incoming = tenant.list()
			// Reports: downloaded (refresh two or so days back, or the
			// same day), reused from the last download, or forbidden.
			switch k := r.IntN(5); {
			case step == 0 && k < 4, k < 2:
				st.reports = "fresh"
				refresh := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -r.IntN(4))
				st.rows = tenant.report(r, refresh)
				sharedRows = st.rows
			case k < 4 && sharedRows != nil:
				st.reports = "shared"
			default:
				st.reports = "none"
				sharedRows = nil
			}
			// Most runs record a sync state; runs of earlier builds, and
			// imports that got no delta link, do not.
			sync := r.IntN(4) != 0
			var got Run
			calls := propFigureCalls.Load()
			if step == 0 {
				got = fullRun(t, inc, st, st.rows, sync)
			} else {
				got = incrementalRun(t, inc, prev.ID, st, sync)
			}
			if step > 0 && propFigureCalls.Load()-calls == 3 {
				deltas++ // worked out from the previous run's figures
			}
			prev = got
			// The same tenant, read whole at the same moment, with the
			// report rows the incremental snapshot shows.
			ref := open(Options{Now: clock})
			rows := st.rows
			if st.reports == "shared" {
				rows = sharedRows
			}
			want := fullRun(t, ref, st, rows, true)
			g, w := snapshotFacts(t, inc, got), snapshotFacts(t, ref, want)
			gh, wh := historyDayFacts(t, inc, now), historyDayFacts(t, ref, now)
			ref.Close()
			if gh != wh {
				t.Fatalf("sequence %d (seed %d) step %d at %s (%s reports): the history's figures differ from a full import's\nincremental: %s\nfull:        %s",
					seq, seed, step, now.Format(time.RFC3339), st.reports, gh, wh)
			}
			if g != w {
				t.Fatalf("sequence %d (seed %d) step %d at %s (%s reports): incremental snapshot and full import differ\n%s",
					seq, seed, step, now.Format(time.RFC3339), st.reports, firstDifference(g, w))
			}
			// The reference date is the report's refresh date, or the
			// run's start day in UTC, never the day the test runs.
			wantAsOf := now.UTC().Format(DateLayout)
			if len(rows) > 0 {
				wantAsOf = rows[0].Cells[Report(ReportActiveUsers).Column("Report Refresh Date")]
			}
			if got.ActivityAsOf != wantAsOf {
				t.Fatalf("sequence %d step %d: activity as of %q, want %q", seq, step, got.ActivityAsOf, wantAsOf)
			}
			checked++
		}
		inc.Close()
	}
	t.Logf("%d sequences, %d incremental/full pairs compared, %d history days worked out from the previous run's", sequences, checked, deltas)
	if deltas == 0 {
		t.Fatal("no run worked out its history figures from the previous run's: the test proves nothing of them")
	}
}

func propSequences() int {
	if testing.Short() {
		return 40
	}
	return propertySequences
}

// lastChanges keeps each user's last upsert, and none of a removed user.
func lastChanges(upserts []User, removed []string) []User {
	gone := map[string]bool{}
	for _, id := range removed {
		gone[id] = true
	}
	last := map[string]int{}
	for i, u := range upserts {
		last[u.ID] = i
	}
	var out []User
	for i, u := range upserts {
		if last[u.ID] == i && !gone[u.ID] {
			out = append(out, u)
		}
	}
	return out
}

// firstDifference shows where two dumps part, with some context.
func firstDifference(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(0, i-300)
	return fmt.Sprintf("incremental: …%s…\nfull:        …%s…", got[from:min(len(got), i+300)], want[from:min(len(want), i+300)])
}

// TestActivityDateOfEarlierBuilds: a database written before the activity
// reference date was stored gets it on opening, from the refresh date its
// sync state kept, or the day its run started; an incremental run from
// such a snapshot then counts as a full import would. In both stores.
func TestActivityDateOfEarlierBuilds(t *testing.T) {
	forEachStoreReopen(t, func(t *testing.T, open func(Options) *Store) {
		ctx := context.Background()
		started := time.Date(2027, 3, 28, 1, 30, 0, 0, time.UTC)
		now := started
		clock := func() time.Time { return now }
		s := open(Options{Now: clock})
		tenant := &propTenant{users: map[string]User{}, activity: map[string]string{}}
		r := rand.New(rand.NewPCG(1, 2))
		for range 12 {
			u := tenant.newUser(r, now)
			tenant.users[u.ID] = u
		}
		refresh := time.Date(2027, 3, 26, 0, 0, 0, 0, time.UTC)
		st := propStep{now: now, incoming: tenant.list(), rows: tenant.report(r, refresh), reports: "fresh"}
		withSync := fullRun(t, s, st, st.rows, true)
		now = now.Add(26 * time.Hour)
		st.now = now
		noReports := fullRun(t, s, st, nil, false)
		// What an earlier build left: no such columns (and no BI views,
		// which read them), at the schema version before them.
		for _, v := range biViews() {
			if _, err := s.DB().ExecContext(ctx, "DROP VIEW "+v.name); err != nil {
				t.Fatal(err)
			}
		}
		for _, col := range []string{"activity_as_of", "reports_refresh"} {
			if _, err := s.DB().ExecContext(ctx, "ALTER TABLE runs DROP COLUMN "+col); err != nil {
				t.Fatal(err)
			}
		}
		setSchemaVersion(t, s, schemaVersion-1)
		s.Close()
		s = open(Options{Now: clock, Keep: 3})
		for _, c := range []struct {
			id   int64
			want string
		}{{withSync.ID, "2027-03-26"}, {noReports.ID, "2027-03-29"}} {
			run, err := s.Run(ctx, c.id)
			if err != nil || run.ActivityAsOf != c.want {
				t.Errorf("run %d after the upgrade: activity as of %q (%v), want %q", c.id, run.ActivityAsOf, err, c.want)
			}
		}
		// Share the first run's reports a month later: counted from its
		// refresh date, as a full import of those rows is.
		now = now.AddDate(0, 1, 0)
		st.now, st.reports = now, "shared"
		inc := incrementalRun(t, s, withSync.ID, st, true)
		ref := openTest(t, Options{Now: clock})
		want := fullRun(t, ref, st, st.rows, true)
		if g, w := snapshotFacts(t, s, inc), snapshotFacts(t, ref, want); g != w {
			t.Fatalf("incremental from an upgraded snapshot differs from a full import\n%s", firstDifference(g, w))
		}
	})
}
