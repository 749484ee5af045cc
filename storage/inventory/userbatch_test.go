package inventory

import (
	"context"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"
)

// TestUserBatchesPreparedConcurrently: pages prepared on several goroutines
// at once and stored one after another leave the users with their plans
// and license counts, as AddUsers does.
func TestUserBatchesPreparedConcurrently(t *testing.T) {
	forEachStoreOpen(t, testUserBatchesPreparedConcurrently)
}

func testUserBatchesPreparedConcurrently(t *testing.T, open func(Options) *Store) {
	ctx := context.Background()
	s, w := stagingRun(t, open)
	all := testUsers(800, "u")
	for i := range all {
		// Plans new to the dictionary in every page.
		all[i].AssignedPlans = append(all[i].AssignedPlans, AssignedPlan{AssignedDateTime: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
			CapabilityStatus: "Enabled", Service: "teams", ServicePlanID: "plan-" + string(rune('a'+i/100))})
	}
	batches := make(chan *UserBatch)
	var wg sync.WaitGroup
	for p := 0; p < 8; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batches <- w.PrepareUsers(all[p*100 : (p+1)*100])
		}()
	}
	go func() { wg.Wait(); close(batches) }()
	for b := range batches {
		if err := w.AddUserBatch(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Finish(ctx, Outcome{Status: StatusSucceeded}); err != nil {
		t.Fatal(err)
	}
	requireUsers(t, s, all)
}

// TestUserBatchRolledBackRequeuesPlans: a batch whose transaction rolls
// back had its new plans in the dictionary's insert; a batch prepared
// meanwhile uses them, so they must be inserted with the next batch.
func TestUserBatchRolledBackRequeuesPlans(t *testing.T) {
	forEachStoreOpen(t, testUserBatchRolledBackRequeuesPlans)
}

func testUserBatchRolledBackRequeuesPlans(t *testing.T, open func(Options) *Store) {
	ctx := context.Background()
	s, w := stagingRun(t, open)
	// Inserting a user named bad@ fails inside the transaction.
	inject, undo := `CREATE TEMP TRIGGER fail_bad BEFORE INSERT ON main.users
		WHEN NEW.upn = 'bad@contoso.example' BEGIN SELECT RAISE(ABORT, 'injected'); END`, "DROP TRIGGER temp.fail_bad"
	if s.pg {
		inject, undo = "ALTER TABLE users ADD CONSTRAINT fail_bad CHECK (upn <> 'bad@contoso.example') NOT VALID",
			"ALTER TABLE users DROP CONSTRAINT fail_bad"
	}
	if _, err := w.conn.ExecContext(ctx, inject); err != nil {
		t.Fatal(err)
	}
	good := testUsers(10, "g")
	bad := testUsers(10, "b")
	bad[9].UserPrincipalName = "bad@contoso.example"
	failing := w.PrepareUsers(bad) // brings the plans into the dictionary
	next := w.PrepareUsers(good)   // uses them; nothing new
	if err := w.AddUserBatch(ctx, failing); err == nil {
		t.Fatal("the injected failure did not fail the batch")
	}
	if err := w.AddUserBatch(ctx, next); err != nil {
		t.Fatal(err)
	}
	if _, err := w.conn.ExecContext(ctx, undo); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(ctx, Outcome{Status: StatusSucceeded}); err != nil {
		t.Fatal(err)
	}
	requireUsers(t, s, good)
}

// requireUsers compares the current snapshot's users with want, by id.
func requireUsers(t *testing.T, s *Store, want []User) {
	t.Helper()
	got, err := s.Users(context.Background(), "c", Query{Sort: "id"})
	if err != nil {
		t.Fatal(err)
	}
	want = append([]User(nil), want...)
	sort.Slice(want, func(i, j int) bool { return want[i].ID < want[j].ID })
	if len(got) != len(want) {
		t.Fatalf("%d users, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || !reflect.DeepEqual(nonEmptyPlans(g.AssignedPlans), nonEmptyPlans(w.AssignedPlans)) {
			t.Fatalf("user %s: plans %+v, want %+v", w.ID, g.AssignedPlans, w.AssignedPlans)
		}
	}
}

func nonEmptyPlans(ps []AssignedPlan) []AssignedPlan {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// TestActivityStagedThenReportDiscarded: the last activity written early
// (StageActivity) is derived again when a report is discarded afterwards,
// from the rows staged then; the active-user counts follow.
func TestActivityStagedThenReportDiscarded(t *testing.T) {
	forEachStoreOpen(t, testActivityStagedThenReportDiscarded)
}

func testActivityStagedThenReportDiscarded(t *testing.T, open func(Options) *Store) {
	ctx := context.Background()
	s, w := stagingRun(t, open)
	users := testUsers(4, "u")
	if err := w.AddUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	stage := func(day string) {
		t.Helper()
		var rows []ReportRow
		for _, u := range users {
			rows = append(rows, activeRow(u.UserPrincipalName, "2026-11-20", day))
		}
		if err := w.AddReportRows(ctx, ReportActiveUsers, rows); err != nil {
			t.Fatal(err)
		}
		if err := w.StageActivity(ctx); err != nil {
			t.Fatal(err)
		}
	}
	stage("2026-11-19")
	if err := w.DiscardReport(ctx, ReportActiveUsers); err != nil {
		t.Fatal(err)
	}
	stage("2026-08-01") // outside the 30 days: nobody is active
	if _, err := w.Finish(ctx, Outcome{Status: StatusSucceeded}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Users(ctx, "c", Query{Sort: "id"})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range got {
		if d := u.LastActivity.Format("2006-01-02"); d != "2026-08-01" {
			t.Errorf("%s: last activity %s, want the re-staged 2026-08-01", u.ID, d)
		}
	}
	lic, err := s.Licenses(ctx, "c", Query{})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lic {
		if l.Active != 0 {
			t.Errorf("%s: %d active, want 0", l.SkuPartNumber, l.Active)
		}
	}
}

// stagingRun opens a store and begins a run of connection "c" with the
// test SKUs staged.
func stagingRun(t *testing.T, open func(Options) *Store) (*Store, *RunWriter) {
	t.Helper()
	ctx := context.Background()
	s := open(Options{})
	w, err := s.BeginRun(ctx, RunInfo{ConnectionID: "c", ConnectionName: "c", Trigger: TriggerCLI})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddSKUs(ctx, testSKUs()); err != nil {
		t.Fatal(err)
	}
	return s, w
}
