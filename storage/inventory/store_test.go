package inventory

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	skuE3 = "6fd2c87f-b296-42f0-b197-1e91e994b900"
	skuE5 = "c7df2760-2c81-4ef7-b578-5b5392b571df"
)

func openTest(t *testing.T, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), FileName), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testUsers(n int, prefix string) []User {
	us := make([]User, n)
	for i := range us {
		us[i] = User{
			ID:                fmt.Sprintf("%s-%04d", prefix, i),
			UserPrincipalName: fmt.Sprintf("user%04d@contoso.example", i),
			DisplayName:       fmt.Sprintf("User %04d Ünïcode", i),
			Mail:              fmt.Sprintf("user%04d@contoso.example", i),
			AccountEnabled:    i%7 != 0,
			UsageLocation:     "DE",
			Department:        []string{"Sales", "Finance", "IT"}[i%3],
			JobTitle:          "Clerk",
			CreatedDateTime:   time.Date(2024, 1, 1+i%28, 9, 0, 0, 0, time.UTC),
		}
		if i%2 == 0 {
			us[i].AssignedLicenses = []AssignedLicense{{SkuID: skuE3, DisabledPlans: []string{}}}
			us[i].AssignedPlans = []AssignedPlan{{AssignedDateTime: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC),
				CapabilityStatus: "Enabled", Service: "exchange", ServicePlanID: "efb87545-963c-4e0d-99df-69c6916d9eb0"}}
		}
		if i%5 == 0 {
			us[i].AssignedLicenses = append(us[i].AssignedLicenses, AssignedLicense{SkuID: skuE5, DisabledPlans: []string{"a\"b"}})
		}
	}
	return us
}

func testSKUs() []SKU {
	return []SKU{
		{SkuID: skuE3, SkuPartNumber: "ENTERPRISEPACK", ID: "t_" + skuE3, AppliesTo: "User", CapabilityStatus: "Enabled",
			ConsumedUnits: 5, PrepaidUnits: PrepaidUnits{Enabled: 25}, SubscriptionIDs: []string{"s1"},
			ServicePlans: []ServicePlan{{ServicePlanID: "p1", ServicePlanName: "EXCHANGE_S_ENTERPRISE", ProvisioningStatus: "Success", AppliesTo: "User"}}},
		{SkuID: skuE5, SkuPartNumber: "ENTERPRISEPREMIUM", ID: "t_" + skuE5, AppliesTo: "User", CapabilityStatus: "Enabled",
			ConsumedUnits: 2, PrepaidUnits: PrepaidUnits{Enabled: 10}, SubscriptionIDs: []string{}},
	}
}

func activeRow(upn, refresh, lastExchange string) ReportRow {
	spec := Report(ReportActiveUsers)
	r := ReportRow{Cells: make([]string, len(spec.Columns))}
	r.Cells[spec.Column("Report Refresh Date")] = refresh
	r.Cells[spec.Column("User Principal Name")] = upn
	r.Cells[spec.Column("Is Deleted")] = "False"
	r.Cells[spec.Column("Exchange Last Activity Date")] = lastExchange
	return r
}

// importGood writes a complete good run of n users.
func importGood(t *testing.T, s *Store, connID string, n int, prefix string) Run {
	t.Helper()
	ctx := context.Background()
	w := beginWithSKUs(t, s, connID)
	us := testUsers(n, prefix)
	for i := 0; i < len(us); i += 7 {
		if err := w.AddUsers(ctx, us[i:min(i+7, len(us))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.AddServicePrincipals(ctx, []ServicePrincipal{
		{ID: "sp1", AppID: "a1", DisplayName: "Office 365 Exchange Online", AppOwnerOrganizationID: MicrosoftTenantID, ServicePrincipalType: "Application", AccountEnabled: true, Tags: []string{}},
		{ID: "sp2", AppID: "a2", DisplayName: "Zeta HR", PublisherName: "Zeta", ServicePrincipalType: "Application", Tags: []string{"WindowsAzureActiveDirectoryIntegratedApp"}},
	}); err != nil {
		t.Fatal(err)
	}
	// user0000 active recently, user0002 active long ago, user0005 (E5 only... no: 5 is odd) active.
	rows := []ReportRow{
		activeRow("user0000@contoso.example", "2026-11-20", "2026-11-19"),
		activeRow("USER0002@contoso.example", "2026-11-20", "2026-01-01"),
		activeRow("user0005@contoso.example", "2026-11-20", "2026-11-01"),
	}
	rows[0].Extras = map[string]string{"Copilot Last Activity Date": "2026-11-18"}
	if err := w.AddReportRows(ctx, ReportActiveUsers, rows); err != nil {
		t.Fatal(err)
	}
	run, err := w.Finish(ctx, Outcome{Status: StatusSucceeded})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func TestSnapshotRoundTripAndFigures(t *testing.T) {
	forEachStore(t, Options{}, testSnapshotRoundTripAndFigures)
}

func testSnapshotRoundTripAndFigures(t *testing.T, s *Store) {
	ctx := context.Background()
	run := importGood(t, s, "c1", 20, "a")
	if run.Status != StatusSucceeded || !run.Current || run.Counts.Users != 20 || run.Counts.SKUs != 2 || run.Counts.ActiveUserRows != 3 {
		t.Fatalf("run = %+v", run)
	}
	if want := 10 + 4; run.Counts.Assignments != want {
		t.Fatalf("assignments = %d, want %d", run.Counts.Assignments, want)
	}
	got, err := s.Users(ctx, "c1", Query{})
	if err != nil {
		t.Fatal(err)
	}
	want := testUsers(20, "a")
	if len(got) != len(want) {
		t.Fatalf("%d users, want %d", len(got), len(want))
	}
	for i := range want {
		g := got[i]
		g.Licenses, g.LastActivity = "", time.Time{}
		if len(want[i].AssignedLicenses) == 0 {
			want[i].AssignedLicenses = []AssignedLicense{}
		}
		if len(want[i].AssignedPlans) == 0 {
			want[i].AssignedPlans = []AssignedPlan{}
		}
		if !reflect.DeepEqual(g, want[i]) {
			t.Fatalf("user %d:\n got %+v\nwant %+v", i, g, want[i])
		}
	}
	if got[0].Licenses != "ENTERPRISEPACK+ENTERPRISEPREMIUM" || got[0].LastActivity.Format("2006-01-02") != "2026-11-19" {
		t.Fatalf("derived user columns: %q %v", got[0].Licenses, got[0].LastActivity)
	}
	lic, err := s.Licenses(ctx, "c1", Query{})
	if err != nil {
		t.Fatal(err)
	}
	// E3: users 0,2,4,...,18 (10); active within 30 days of 2026-11-20: user0000 only.
	// E5: users 0,5,10,15 (4); active: user0000 and user0005.
	byPart := map[string]License{}
	for _, l := range lic {
		byPart[l.SkuPartNumber] = l
	}
	e3, e5 := byPart["ENTERPRISEPACK"], byPart["ENTERPRISEPREMIUM"]
	if e3.Purchased != 25 || e3.Assigned != 10 || e3.Active != 1 || e3.Inactive != 9 || !e3.UsageKnown || len(e3.ServicePlans) != 1 {
		t.Fatalf("E3 = %+v", e3)
	}
	if e5.Purchased != 10 || e5.Assigned != 4 || e5.Active != 2 || e5.Inactive != 2 {
		t.Fatalf("E5 = %+v", e5)
	}
	rows, err := s.ReportRows(ctx, "c1", ReportActiveUsers, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].Extras["Copilot Last Activity Date"] != "2026-11-18" || rows[1].Cells[1] != "USER0002@contoso.example" || rows[0].Cells[3] != "False" {
		t.Fatalf("report rows = %+v", rows)
	}
}

func TestSearchSortPage(t *testing.T) { forEachStore(t, Options{}, testSearchSortPage) }

func testSearchSortPage(t *testing.T, s *Store) {
	ctx := context.Background()
	importGood(t, s, "c1", 30, "a")
	// Case-insensitive, beyond ASCII.
	n, err := s.CountUsers(ctx, "c1", Query{Search: "ÜNÏCODE"})
	if err != nil || n != 30 {
		t.Fatalf("count unicode = %d, %v", n, err)
	}
	n, err = s.CountUsers(ctx, "c1", Query{Search: "finance"})
	if err != nil || n != 10 {
		t.Fatalf("count finance = %d, %v", n, err)
	}
	page, err := s.Users(ctx, "c1", Query{Search: "FINANCE", Sort: "userPrincipalName", Desc: true, Limit: 3, Offset: 1})
	if err != nil {
		t.Fatal(err)
	}
	var upns []string
	for _, u := range page {
		upns = append(upns, u.UserPrincipalName)
	}
	if got := strings.Join(upns, ","); got != "user0025@contoso.example,user0022@contoso.example,user0019@contoso.example" {
		t.Fatalf("page = %s", got)
	}
	for _, c := range UserColumns {
		if _, err := s.Users(ctx, "c1", Query{Sort: c.Key, Limit: 1}); err != nil {
			t.Fatalf("sort by %s: %v", c.Key, err)
		}
	}
	if _, err := s.Users(ctx, "c1", Query{Sort: "upn; DROP TABLE users"}); !errors.Is(err, ErrUnknownColumn) {
		t.Fatalf("bad sort err = %v", err)
	}
	apps, err := s.Applications(ctx, "c1", Query{Search: "zeta"})
	if err != nil || len(apps) != 1 || apps[0].Tags[0] != "WindowsAzureActiveDirectoryIntegratedApp" {
		t.Fatalf("apps = %+v, %v", apps, err)
	}
	for _, k := range ReportKinds {
		for _, c := range ReportColumns(k) {
			if _, err := s.ReportRows(ctx, "c1", k, Query{Sort: c.Key, Desc: true}); err != nil {
				t.Fatalf("sort %s by %s: %v", k, c.Key, err)
			}
		}
	}
	if _, err := s.Users(ctx, "other", Query{}); !errors.Is(err, ErrNoSnapshot) {
		t.Fatalf("unknown connection err = %v", err)
	}
}

func TestFailedAndCancelledRunsKeepLastGoodSnapshot(t *testing.T) {
	forEachStore(t, Options{}, testFailedAndCancelledRunsKeepLastGoodSnapshot)
}

func testFailedAndCancelledRunsKeepLastGoodSnapshot(t *testing.T, s *Store) {
	ctx := context.Background()
	good := importGood(t, s, "c1", 10, "a")
	for _, st := range []Status{StatusFailed, StatusCancelled} {
		w, err := s.BeginRun(ctx, RunInfo{ConnectionID: "c1", ConnectionName: "Contoso", Trigger: TriggerManual, Note: "catch-up"})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.AddUsers(ctx, testUsers(5, "b")); err != nil {
			t.Fatal(err)
		}
		// Staged rows are invisible while the run is going.
		if n, _ := s.CountUsers(ctx, "c1", Query{}); n != 10 {
			t.Fatalf("staged rows visible: %d users", n)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel() // Finish must record even under a cancelled context
		run, err := w.Finish(cctx, Outcome{Status: st, Err: errors.New("boom")})
		if err != nil {
			t.Fatal(err)
		}
		if run.Status != st || run.Error != "boom" || run.Current || run.Note != "catch-up" {
			t.Fatalf("run = %+v", run)
		}
		cur, err := s.CurrentRun(ctx, "c1")
		if err != nil || cur.ID != good.ID {
			t.Fatalf("current = %+v, %v", cur, err)
		}
		var staged int
		s.db.QueryRow("SELECT COUNT(*) FROM users WHERE run_id = ?", run.ID).Scan(&staged)
		if staged != 0 {
			t.Fatalf("%d staged rows left after %s", staged, st)
		}
	}
	h, err := s.History(ctx, "c1", 0)
	if err != nil || len(h) != 3 || h[0].Status != StatusCancelled || h[2].Status != StatusSucceeded {
		t.Fatalf("history = %+v, %v", h, err)
	}
	last, err := s.LastRuns(ctx)
	if err != nil || last["c1"].Status != StatusCancelled {
		t.Fatalf("last runs = %+v, %v", last, err)
	}
	if r, ok, err := s.LatestRun(ctx, "c1", TriggerManual, StatusCancelled); err != nil || !ok || r.Status != StatusFailed {
		t.Fatalf("latest manual run that was not cancelled = %+v, %v, %v", r, ok, err)
	}
	if r, ok, err := s.LatestRun(ctx, "c1", TriggerCLI); err != nil || !ok || r.ID != good.ID {
		t.Fatalf("latest CLI run = %+v, %v, %v", r, ok, err)
	}
	if _, ok, err := s.LatestRun(ctx, "c1", TriggerSchedule); err != nil || ok {
		t.Fatalf("latest scheduled run: %v, %v", ok, err)
	}
}

func TestInterruptedRunMarkedAtOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	good := importGood(t, s, "c1", 10, "a")
	w, err := s.BeginRun(ctx, RunInfo{ConnectionID: "c1", ConnectionName: "Contoso", Trigger: TriggerCLI})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddUsers(ctx, testUsers(5, "b")); err != nil {
		t.Fatal(err)
	}
	// Pretend the run belongs to a process that has exited: this test
	// binary, run once more to do nothing, on every platform (Windows has
	// no `true`, issue 24).
	dead := exec.Command(os.Args[0], "-test.run=^$")
	if err := dead.Run(); err != nil {
		t.Fatalf("run the test binary to borrow a dead pid from: %v", err)
	}
	if _, err := s.db.Exec("UPDATE runs SET pid = ? WHERE id = ?", dead.Process.Pid, w.ID()); err != nil {
		t.Fatal(err)
	}
	// A second process opening the database while our run is alive must
	// not touch it: check with a live run of another connection.
	live, err := s.BeginRun(ctx, RunInfo{ConnectionID: "c2", ConnectionName: "Other", Trigger: TriggerCLI})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	r, err := s2.Run(ctx, w.ID())
	if err != nil || r.Status != StatusFailed || !strings.Contains(r.Error, "interrupted") || r.Ended.IsZero() {
		t.Fatalf("interrupted run = %+v, %v", r, err)
	}
	if r2, _ := s2.Run(ctx, live.ID()); r2.Status != StatusRunning {
		t.Fatalf("live run was touched: %+v", r2)
	}
	cur, err := s2.CurrentRun(ctx, "c1")
	if err != nil || cur.ID != good.ID {
		t.Fatalf("current = %+v, %v", cur, err)
	}
	var staged int
	s2.db.QueryRow("SELECT COUNT(*) FROM users WHERE run_id = ?", w.ID()).Scan(&staged)
	if staged != 0 {
		t.Fatalf("%d staged rows of the interrupted run left", staged)
	}
	if v, err := s2.IntegrityCheck(ctx); err != nil || v != "ok" {
		t.Fatalf("integrity = %q, %v", v, err)
	}
	live.Finish(ctx, Outcome{Status: StatusCancelled})
	// The pretend-dead run's writer still holds statements and a pinned
	// connection, which s.Close leaves open: a dead process's would have
	// gone with it, and Windows cannot remove the temporary folder while
	// the file is open ("Sharing violation" under Wine).
	w.release()
	s.Close()
}

func TestKeepPrunesOldSnapshots(t *testing.T) {
	forEachStore(t, Options{Keep: 2}, testKeepPrunesOldSnapshots)
}

func testKeepPrunesOldSnapshots(t *testing.T, s *Store) {
	ctx := context.Background()
	var runs []Run
	for i := 0; i < 4; i++ {
		runs = append(runs, importGood(t, s, "c1", 5, fmt.Sprintf("r%d", i)))
	}
	for i, r := range runs {
		_, err := s.Users(ctx, "c1", Query{RunID: r.ID})
		kept := i >= 2
		if kept != (err == nil) {
			t.Fatalf("run %d: kept=%v err=%v", i, kept, err)
		}
	}
	var n int
	s.db.QueryRow("SELECT COUNT(*) FROM users").Scan(&n)
	if n != 10 {
		t.Fatalf("%d user rows in the file, want 2 snapshots x 5", n)
	}
	us, _ := s.Users(ctx, "c1", Query{Limit: 1})
	if us[0].ID != "r3-0000" {
		t.Fatalf("current snapshot is not the newest: %s", us[0].ID)
	}
	if err := s.DeleteConnection(ctx, "c1", false); err != nil {
		t.Fatal(err)
	}
	if h, _ := s.History(ctx, "c1", 0); len(h) != 0 {
		t.Fatalf("history after delete: %d", len(h))
	}
}

func TestLooksConcealed(t *testing.T) {
	if !LooksConcealed("0123456789ABCDEF0123456789ABCDEF") || LooksConcealed("0123456789abcdef0123456789abcdef") {
		t.Error("LooksConcealed")
	}
}

// TestLastActivityTrackedWhileStaging: the users' last activity is the
// latest date over the active-users and app-usage reports, matched without
// regard to case, and a discarded (re-downloaded) report's dates are
// forgotten with its rows.
func TestLastActivityTrackedWhileStaging(t *testing.T) {
	forEachStore(t, Options{}, testLastActivityTrackedWhileStaging)
}

func testLastActivityTrackedWhileStaging(t *testing.T, s *Store) {
	ctx := context.Background()
	w := beginWithUsers(t, s, 3)
	// A first download that is discarded: its late date must not survive.
	if err := w.AddReportRows(ctx, ReportActiveUsers, []ReportRow{activeRow("user0000@contoso.example", "2026-11-20", "2026-11-19")}); err != nil {
		t.Fatal(err)
	}
	if err := w.DiscardReport(ctx, ReportActiveUsers); err != nil {
		t.Fatal(err)
	}
	if err := w.AddReportRows(ctx, ReportActiveUsers, []ReportRow{
		activeRow("USER0000@contoso.example", "2026-11-20", "2026-10-01"),
		activeRow("user0001@contoso.example", "2026-11-20", "2026-11-02"),
	}); err != nil {
		t.Fatal(err)
	}
	app := Report(ReportAppUsage)
	row := ReportRow{Cells: make([]string, len(app.Columns))}
	row.Cells[app.Column("User Principal Name")] = "User0000@Contoso.example"
	row.Cells[app.Column("Last Activity Date")] = "2026-10-15"
	if err := w.AddReportRows(ctx, ReportAppUsage, []ReportRow{row}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(ctx, Outcome{Status: StatusSucceeded}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Users(ctx, "c1", Query{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"user0000@contoso.example": "2026-10-15", "user0001@contoso.example": "2026-11-02", "user0002@contoso.example": ""}
	for _, u := range got {
		d := ""
		if !u.LastActivity.IsZero() {
			d = u.LastActivity.Format("2006-01-02")
		}
		if d != want[u.UserPrincipalName] {
			t.Errorf("%s: last activity %q, want %q", u.UserPrincipalName, d, want[u.UserPrincipalName])
		}
	}
}

// TestOpenReplacesTheOldReportIndexes: a database of an earlier build has
// the reports' (run_id, upn_key, last_activity) indexes, which made every
// staged row a random b-tree insert; opening it replaces them.
func TestOpenReplacesTheOldReportIndexes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reportSpecs {
		if _, err := s.DB().ExecContext(ctx, "CREATE INDEX "+r.Table+"_run ON "+r.Table+"(run_id, upn_key, last_activity)"); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, r := range reportSpecs {
		var names []string
		rows, err := s.DB().QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? ORDER BY name", r.Table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			names = append(names, n)
		}
		rows.Close()
		if want := []string{r.Table + "_run_id"}; !reflect.DeepEqual(names, want) {
			t.Errorf("%s has indexes %v, want %v", r.Table, names, want)
		}
	}
}

// searchText is the plain definition of a row's search text, the
// reference of TestSearchTextBuffered.
func searchText(parts ...string) string {
	return strings.ToLower(strings.Join(parts, "\n"))
}

// TestSearchTextBuffered: the writer's buffered search text is exactly the
// plain one, for ASCII, Unicode case rules and invalid UTF-8 alike.
func TestSearchTextBuffered(t *testing.T) {
	var buf []byte
	for _, parts := range [][]string{
		{"Adele.Vance@Contoso.COM", "Adele Vance", "", "Finance"},
		{"ÅSA ÖBERG", "İstanbul", "ΣΟΦΙΑ"},
		{"bad \xff\xfe UTF-8", "MiXeD"},
		{},
		{""},
	} {
		if got, want := lowerJoin(&buf, parts...), searchText(parts...); got != want {
			t.Errorf("searchText(%q) = %q, want %q", parts, got, want)
		}
	}
}

// TestActiveCountedWhileStagingEqualsSQL: the active users per SKU that
// Finish counts from what staging kept equal the SQL count over the
// staged users (the path of incremental runs), user by user: recent,
// old, case-differing and missing activity.
func TestActiveCountedWhileStagingEqualsSQL(t *testing.T) {
	forEachStoreOpen(t, testActiveCountedWhileStagingEqualsSQL)
}

func testActiveCountedWhileStagingEqualsSQL(t *testing.T, open func(Options) *Store) {
	ctx := context.Background()
	figures := func(sqlPath bool) []License {
		s := open(Options{})
		w := beginWithUsers(t, s, 40)
		var rows []ReportRow
		for i := 0; i < 40; i += 3 {
			day := "2026-11-19"
			if i%2 == 1 {
				day = "2026-09-01" // outside the 30 days before the refresh date
			}
			upn := fmt.Sprintf("user%04d@contoso.example", i)
			if i%5 == 0 {
				upn = strings.ToUpper(upn)
			}
			rows = append(rows, activeRow(upn, "2026-11-20", day))
		}
		if err := w.AddReportRows(ctx, ReportActiveUsers, rows); err != nil {
			t.Fatal(err)
		}
		if sqlPath {
			w.licensedOff = true
		}
		if _, err := w.Finish(ctx, Outcome{Status: StatusSucceeded}); err != nil {
			t.Fatal(err)
		}
		lic, err := s.Licenses(ctx, "c1", Query{})
		if err != nil {
			t.Fatal(err)
		}
		return lic
	}
	fast, slow := figures(false), figures(true)
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("counted while staging:\n%+v\ncounted in SQL:\n%+v", fast, slow)
	}
	active := 0
	for _, l := range fast {
		active += l.Active
	}
	if active == 0 {
		t.Fatalf("no SKU has an active user: the test compares nothing (%+v)", fast)
	}
}

// beginWithUsers begins a run of connection c1 with the test SKUs and n
// test users staged.
func beginWithUsers(t *testing.T, s *Store, n int) *RunWriter {
	t.Helper()
	ctx := context.Background()
	w, err := s.BeginRun(ctx, RunInfo{ConnectionID: "c1", ConnectionName: "c1", Trigger: TriggerManual})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddSKUs(ctx, testSKUs()); err != nil {
		t.Fatal(err)
	}
	if err := w.AddUsers(ctx, testUsers(n, "a")); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestPurchasedCountsUnitsInWarning: units in their warning grace period
// are purchased and usable; suspended and locked-out ones are shown apart
// (issue 23: 13 units in warning, 11 assigned, showed 0 purchased).
func TestPurchasedCountsUnitsInWarning(t *testing.T) {
	forEachStore(t, Options{}, testPurchasedCountsUnitsInWarning)
}

func testPurchasedCountsUnitsInWarning(t *testing.T, s *Store) {
	ctx := context.Background()
	w, err := s.BeginRun(ctx, RunInfo{ConnectionID: "c1", ConnectionName: "Contoso", Trigger: TriggerCLI})
	if err != nil {
		t.Fatal(err)
	}
	skus := testSKUs()
	skus[1].CapabilityStatus = "Warning"
	skus[1].PrepaidUnits = PrepaidUnits{Enabled: 0, Warning: 13, Suspended: 4, LockedOut: 2}
	if err := w.AddSKUs(ctx, skus); err != nil {
		t.Fatal(err)
	}
	us := testUsers(22, "a")
	for i := range us {
		us[i].AssignedLicenses = []AssignedLicense{{SkuID: skuE5, DisabledPlans: []string{}}}
		if i >= 11 {
			us[i].AssignedLicenses = []AssignedLicense{{SkuID: skuE3, DisabledPlans: []string{}}}
		}
	}
	if err := w.AddUsers(ctx, us); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(ctx, Outcome{Status: StatusSucceeded}); err != nil {
		t.Fatal(err)
	}
	ls, err := s.Licenses(ctx, "c1", Query{Sort: "unassigned"})
	if err != nil || len(ls) != 2 {
		t.Fatalf("licenses %+v %v", ls, err)
	}
	// Sorted by unassigned: E5 (13 - 11 = 2) before E3 (25 - 11 = 14).
	e5, e3 := ls[0], ls[1]
	if e5.SkuID != skuE5 || e5.Purchased != 13 || e5.Assigned != 11 || e5.Unassigned != 2 || e5.CapabilityStatus != "Warning" ||
		e5.PrepaidUnits.Suspended != 4 || e5.PrepaidUnits.LockedOut != 2 {
		t.Fatalf("the SKU in warning: %+v", e5)
	}
	if e3.SkuID != skuE3 || e3.Purchased != 25 || e3.Unassigned != 14 {
		t.Fatalf("the enabled SKU: %+v", e3)
	}
}

// TestApplicationKinds: Microsoft's own, other publishers', this tenant's
// and managed identities, filtered and counted (issue 23 item 12).
func TestApplicationKinds(t *testing.T) { forEachStore(t, Options{}, testApplicationKinds) }

func testApplicationKinds(t *testing.T, s *Store) {
	ctx := context.Background()
	const tenant = "0c0c0c0c-1111-2222-3333-444444444444"
	w, err := s.BeginRun(ctx, RunInfo{ConnectionID: "c1", ConnectionName: "Contoso", Trigger: TriggerCLI})
	if err != nil {
		t.Fatal(err)
	}
	skus := testSKUs()
	for i := range skus {
		skus[i].AccountID = tenant
	}
	if err := w.AddSKUs(ctx, skus); err != nil {
		t.Fatal(err)
	}
	sp := func(id, owner, typ string) ServicePrincipal {
		return ServicePrincipal{ID: id, AppID: "app-" + id, DisplayName: "App " + id, AppOwnerOrganizationID: owner,
			ServicePrincipalType: typ, AccountEnabled: true, Tags: []string{}}
	}
	if err := w.AddServicePrincipals(ctx, []ServicePrincipal{
		sp("ms1", MicrosoftTenantID, "Application"), sp("ms2", MicrosoftTenantID, "Application"), sp("ms3", MicrosoftTenantID, "Legacy"),
		sp("zeta", "9a9a9a9a-0000-0000-0000-000000000000", "Application"), sp("noowner", "", "Application"),
		sp("ours", tenant, "Application"),
		sp("vm-identity", "", "ManagedIdentity"), sp("func-identity", tenant, "ManagedIdentity"),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(ctx, Outcome{Status: StatusSucceeded}); err != nil {
		t.Fatal(err)
	}
	kinds, err := s.ApplicationKinds(ctx, "c1", Query{})
	want := map[AppKind]int{AppsAll: 8, AppsMicrosoft: 3, AppsThirdParty: 2, AppsOwn: 1, AppsManaged: 2}
	if err != nil || !reflect.DeepEqual(kinds, want) {
		t.Fatalf("kinds %v (%v), want %v", kinds, err, want)
	}
	for kind, ids := range map[AppKind]string{AppsMicrosoft: "ms1 ms2 ms3", AppsThirdParty: "noowner zeta", AppsOwn: "ours",
		AppsManaged: "func-identity vm-identity"} {
		q := Query{Apps: kind, Sort: "displayName"}
		apps, err := s.Applications(ctx, "c1", q)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range apps {
			got = append(got, a.ID)
		}
		if strings.Join(got, " ") != ids {
			t.Errorf("%s: %v, want %s", kind, got, ids)
		}
		if n, err := s.CountApplications(ctx, "c1", q); err != nil || n != want[kind] {
			t.Errorf("count %s: %d %v", kind, n, err)
		}
	}
	if kinds, _ := s.ApplicationKinds(ctx, "c1", Query{Search: "identity"}); kinds[AppsManaged] != 2 || kinds[AppsAll] != 2 {
		t.Errorf("kinds of a search: %v", kinds)
	}
}

// TestUsersHoldingASKU: a licence's drill-down lists exactly its holders,
// with a search on top (issue 23 item 13).
func TestUsersHoldingASKU(t *testing.T) { forEachStore(t, Options{}, testUsersHoldingASKU) }

func testUsersHoldingASKU(t *testing.T, s *Store) {
	ctx := context.Background()
	importGood(t, s, "c1", 20, "a") // E3: even users; E5: multiples of 5
	for sku, want := range map[string]int{skuE3: 10, strings.ToUpper(skuE5): 4, "00000000-0000-0000-0000-000000000000": 0} {
		n, err := s.CountUsers(ctx, "c1", Query{SKU: sku})
		us, err2 := s.Users(ctx, "c1", Query{SKU: sku, Sort: "displayName"})
		if err != nil || err2 != nil || n != want || len(us) != want {
			t.Errorf("holders of %s: count %d, %d listed (%v %v), want %d", sku, n, len(us), err, err2, want)
		}
		for _, u := range us {
			held := false
			for _, l := range u.AssignedLicenses {
				held = held || strings.EqualFold(l.SkuID, sku)
			}
			if !held {
				t.Errorf("%s listed as a holder of %s: %+v", u.ID, sku, u.AssignedLicenses)
			}
		}
	}
	if n, err := s.CountUsers(ctx, "c1", Query{SKU: skuE5, Search: "finance"}); err != nil || n == 0 || n >= 4 {
		t.Errorf("E5 holders in Finance: %d %v", n, err)
	}
}

// FailingConnections counts the failures since the last run that ended
// otherwise, from the first of them; a success ends the streak, and a
// skipped run does not (issue 23 item 8).
func TestFailingConnections(t *testing.T) { forEachStore(t, Options{}, testFailingConnections) }

func testFailingConnections(t *testing.T, s *Store) {
	ctx := context.Background()
	finish := func(conn string, st Status) Run {
		t.Helper()
		w, err := s.BeginRun(ctx, RunInfo{ConnectionID: conn, ConnectionName: conn, Trigger: TriggerSchedule})
		if err != nil {
			t.Fatal(err)
		}
		var e error
		if st == StatusFailed {
			e = errors.New("no sign-in yet")
		}
		r, err := w.Finish(ctx, Outcome{Status: st, Err: e})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	importGood(t, s, "ok", 3, "a")
	importGood(t, s, "broke", 3, "b")
	first := finish("broke", StatusFailed)
	finish("broke", StatusSkipped)
	finish("broke", StatusFailed)
	finish("never", StatusFailed)
	finish("healed", StatusFailed)
	finish("healed", StatusCancelled)
	got, err := s.FailingConnections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["broke"].Runs != 2 || !got["broke"].Since.Equal(first.Started) || got["never"].Runs != 1 {
		t.Fatalf("failing = %+v", got)
	}
	importGood(t, s, "broke", 3, "c")
	if got, err := s.FailingConnections(ctx); err != nil || len(got) != 1 || got["never"].Runs != 1 {
		t.Fatalf("after a good import, failing = %+v, %v", got, err)
	}
}

// TestUsersByLicenseLabel: with the labels the window shows, a search
// finds the users holding a SKU by its product name, and sorting by
// Licenses follows the labels rather than the part numbers (issue 17
// item 4).
func TestUsersByLicenseLabel(t *testing.T) { forEachStore(t, Options{}, testUsersByLicenseLabel) }

func testUsersByLicenseLabel(t *testing.T, s *Store) {
	ctx := context.Background()
	importGood(t, s, "c1", 20, "a") // E3: even users; E5: multiples of 5
	// Names chosen so that their order is the reverse of the part numbers'.
	label := func(part string) string {
		switch part {
		case "ENTERPRISEPACK":
			return "Zulu Plan (ENTERPRISEPACK)"
		case "ENTERPRISEPREMIUM":
			return "Alpha's Suite (ENTERPRISEPREMIUM)"
		}
		return part
	}
	for search, want := range map[string]int{"alpha's": 4, "ZULU plan": 10, "enterprisepack": 10, "suite (enterprise": 4, "nothing": 0} {
		q := Query{Search: search, LicenseLabel: label}
		n, err := s.CountUsers(ctx, "c1", q)
		us, err2 := s.Users(ctx, "c1", q)
		if err != nil || err2 != nil || n != want || len(us) != want {
			t.Errorf("search %q: count %d, %d listed (%v %v), want %d", search, n, len(us), err, err2, want)
		}
	}
	if n, err := s.CountUsers(ctx, "c1", Query{Search: "alpha"}); err != nil || n != 0 {
		t.Errorf("without labels a product name finds %d users (%v)", n, err)
	}
	licensed := func(q Query) []string {
		t.Helper()
		us, err := s.Users(ctx, "c1", q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, u := range us {
			if u.Licenses != "" {
				out = append(out, u.Licenses)
			}
		}
		return out
	}
	// Ascending: the E5-only holders (Alpha's Suite) first, then the E3
	// holders, whose first licence is Zulu Plan.
	for _, limit := range []int{0, 15} {
		got := licensed(Query{Sort: "licenses", LicenseLabel: label, Limit: limit})
		if len(got) < 3 || got[0] != "ENTERPRISEPREMIUM" || got[1] != "ENTERPRISEPREMIUM" || got[2] == "ENTERPRISEPREMIUM" {
			t.Errorf("sorted by label (limit %d): %v", limit, got)
		}
		desc := licensed(Query{Sort: "licenses", Desc: true, LicenseLabel: label, Limit: limit})
		if len(desc) < 3 || desc[len(desc)-1] != "ENTERPRISEPREMIUM" || desc[0] == "ENTERPRISEPREMIUM" {
			t.Errorf("sorted by label, descending (limit %d): %v", limit, desc)
		}
	}
	if got := licensed(Query{Sort: "licenses"}); got[0] == "ENTERPRISEPREMIUM" {
		t.Errorf("without labels the part numbers sort: %v", got)
	}
}
