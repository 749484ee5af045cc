package inventory

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// incremental writes a run that copies the current snapshot's users, applies
// changes and shares its reports, like the importer's incremental mode.
func incremental(t *testing.T, s *Store, connID string, from int64, upserts []User, removed []string) Run {
	t.Helper()
	ctx := context.Background()
	w := beginWithSKUs(t, s, connID)
	if err := w.BeginUserChanges(ctx, from); err != nil {
		t.Fatal(err)
	}
	// Two pages; the second changes a user of the first again.
	if err := w.ApplyUserChanges(ctx, upserts, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.ApplyUserChanges(ctx, upserts[:min(1, len(upserts))], removed); err != nil {
		t.Fatal(err)
	}
	if err := w.EndUserChanges(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.ShareReports(ctx, from); err != nil {
		t.Fatal(err)
	}
	run, err := w.Finish(ctx, Outcome{Status: StatusSucceeded, Mode: "incremental",
		Sync: &SyncState{UsersDeltaLink: "https://graph.example/delta?x", FullStarted: time.Unix(100, 0), ReportsStarted: time.Unix(200, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func dumpSnapshot(t *testing.T, s *Store, connID string) string {
	t.Helper()
	ctx := context.Background()
	us, err := s.Users(ctx, connID, Query{Sort: "id"})
	if err != nil {
		t.Fatal(err)
	}
	lics, err := s.Licenses(ctx, connID, Query{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.ReportRows(ctx, connID, ReportActiveUsers, Query{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.CountReportRows(ctx, connID, ReportActiveUsers, Query{})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%+v\n%+v\n%+v\n%d", us, lics, rows, n)
}

// TestIncrementalSnapshotEqualsFull: copying users, applying changes and
// sharing the reports gives what staging the changed users afresh gives,
// figures included.
func TestIncrementalSnapshotEqualsFull(t *testing.T) {
	forEachStore(t, Options{Keep: 2}, testIncrementalSnapshotEqualsFull)
}

func testIncrementalSnapshotEqualsFull(t *testing.T, s *Store) {
	ctx := context.Background()
	first := importGood(t, s, "c1", 20, "a")
	us := testUsers(20, "a")
	// user 3 gets E3 and a new plan, user 4 goes, user 20 is new.
	changed := us[3]
	changed.DisplayName = "Changed"
	changed.AssignedLicenses = []AssignedLicense{{SkuID: skuE3, DisabledPlans: []string{}}}
	changed.AssignedPlans = []AssignedPlan{{AssignedDateTime: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC),
		CapabilityStatus: "Enabled", Service: "teams", ServicePlanID: "57ff2da0-773e-42df-b2af-ffb7a2317929"}}
	added := testUsers(21, "a")[20]
	inc := incremental(t, s, "c1", first.ID, []User{changed, added}, []string{us[4].ID})
	if inc.Mode != "incremental" || inc.Counts.Users != 20 || inc.Counts.ActiveUserRows != 3 {
		t.Fatalf("incremental run %+v", inc)
	}
	got := dumpSnapshot(t, s, "c1")
	st, ok, err := s.SyncState(ctx, "c1")
	if err != nil || !ok || st.RunID != inc.ID || st.UsersDeltaLink == "" || !st.FullStarted.Equal(time.Unix(100, 0)) {
		t.Fatalf("sync state %+v %v %v", st, ok, err)
	}

	// The same content staged from scratch in another database.
	ref := openTest(t, Options{})
	want := append(append([]User(nil), us[:3]...), changed)
	want = append(append(want, us[5:]...), added)
	w, err := ref.BeginRun(ctx, RunInfo{ConnectionID: "c1", ConnectionName: "Contoso", Trigger: TriggerCLI})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddSKUs(ctx, testSKUs()); err != nil {
		t.Fatal(err)
	}
	if err := w.AddUsers(ctx, want); err != nil {
		t.Fatal(err)
	}
	rows, _ := s.ReportRows(ctx, "c1", ReportActiveUsers, Query{})
	if err := w.AddReportRows(ctx, ReportActiveUsers, rows); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(ctx, Outcome{Status: StatusSucceeded}); err != nil {
		t.Fatal(err)
	}
	if exp := dumpSnapshot(t, ref, "c1"); got != exp {
		t.Fatalf("incremental snapshot\n%s\nwant\n%s", got, exp)
	}

	// Pruning: the first run's snapshot goes (Keep 2) after two more
	// incremental runs, but its report rows stay while a kept snapshot
	// shows them, and go with the last one.
	inc2 := incremental(t, s, "c1", inc.ID, nil, nil)
	incremental(t, s, "c1", inc2.ID, nil, nil)
	if r, _ := s.Run(ctx, first.ID); r.Current {
		t.Fatal("first run still current")
	}
	if n, err := s.CountReportRows(ctx, "c1", ReportActiveUsers, Query{}); err != nil || n != 3 {
		t.Fatalf("shared rows after pruning the origin: %d, %v", n, err)
	}
	if _, err := s.Users(ctx, "c1", Query{RunID: first.ID}); err != ErrNoSnapshot {
		t.Fatalf("the first snapshot was not pruned: %v", err)
	}
	importGood(t, s, "c1", 5, "b")
	importGood(t, s, "c1", 5, "c")
	var left int
	if err := s.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM "+Report(ReportActiveUsers).Table+" WHERE run_id = ?", first.ID).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d shared report rows left after every snapshot showing them was pruned (%v)", left, err)
	}
	if msg, err := s.IntegrityCheck(ctx); err != nil || msg != "ok" {
		t.Fatalf("integrity: %q %v", msg, err)
	}
}
