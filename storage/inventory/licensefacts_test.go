package inventory

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestLicenseFacts: user type, assignment states, groups, sign-ins and
// per-workload activity come back as written, the plain direct states
// cost no storage, and an incremental snapshot keeps them.
func TestLicenseFacts(t *testing.T) { forEachStore(t, Options{}, testLicenseFacts) }

func testLicenseFacts(t *testing.T, s *Store) {
	ctx := context.Background()
	w, err := s.BeginRun(ctx, RunInfo{ConnectionID: "c", ConnectionName: "Contoso", Trigger: TriggerCLI})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddSKUs(ctx, testSKUs()); err != nil {
		t.Fatal(err)
	}
	us := testUsers(6, "u")
	// user0000: E3 + E5; E3 from a group and directly.
	us[0].LicenseAssignmentStates = []LicenseAssignmentState{
		{SkuID: skuE3, AssignedByGroup: "G1", State: "Active", Error: "None"},
		{SkuID: skuE3, State: "Active", Error: "None"},
		{SkuID: skuE5, State: "Active", Error: "None"},
	}
	// user0001: no licence, a failed group assignment.
	us[1].LicenseAssignmentStates = []LicenseAssignmentState{{SkuID: skuE5, AssignedByGroup: "g2", State: "Error", Error: "CountViolation"}}
	// user0002: a guest with E3, plainly direct: nothing stored.
	us[2].UserType = "Guest"
	us[2].LicenseAssignmentStates = []LicenseAssignmentState{{SkuID: skuE3, State: "Active", Error: "None"}}
	us[4].UserType = "Member"
	// user0005: a snapshot of an earlier build has no user type; the B2B
	// name says guest.
	us[5].UserPrincipalName = "user0005_fabrikam.com#EXT#@contoso.example"
	if err := w.AddUsers(ctx, us); err != nil {
		t.Fatal(err)
	}
	if err := w.AddLicenseGroups(ctx, []Group{{ID: "g1", DisplayName: "Licensing - E3"}, {ID: "g2", DisplayName: "Licensing - E5"}}); err != nil {
		t.Fatal(err)
	}
	signed := time.Date(2026, 11, 15, 8, 30, 0, 0, time.UTC)
	if err := w.AddSignIns(ctx, []SignIn{{UserID: "u-0000", Interactive: signed, NonInteractive: signed.Add(48 * time.Hour), Successful: signed.Add(48 * time.Hour)},
		{UserID: "u-0002"}}); err != nil {
		t.Fatal(err)
	}
	row := activeRow("user0000@contoso.example", "2026-11-20", "2026-11-19")
	row.Cells[Report(ReportActiveUsers).Column("Teams Last Activity Date")] = "2026-11-02"
	if err := w.AddReportRows(ctx, ReportActiveUsers, []ReportRow{row, activeRow("user0004@contoso.example", "2026-11-20", "")}); err != nil {
		t.Fatal(err)
	}
	run, err := w.Finish(ctx, Outcome{Status: StatusSucceeded, SignIns: SignInsRead,
		Sync: &SyncState{UsersDeltaLink: "https://graph.example/delta?x", FullStarted: time.Unix(100, 0), ReportsStarted: time.Unix(200, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	var stored int
	if err := s.DB().QueryRow("SELECT COUNT(*) FROM users WHERE run_id = ? AND license_states <> ''", run.ID).Scan(&stored); err != nil || stored != 2 {
		t.Fatalf("users with stored states: %d (%v), want 2: plain direct assignments are not stored", stored, err)
	}

	check := func(t *testing.T, f *LicenseFacts) {
		t.Helper()
		if f.Run.SignIns != SignInsRead || !f.UsageKnown || f.Groups["g1"] != "Licensing - E3" || len(f.Groups) != 2 {
			t.Fatalf("run %q, usage %v, groups %v", f.Run.SignIns, f.UsageKnown, f.Groups)
		}
		// Licensed users (0, 2, 4 hold E3; 0 and 5 E5) and user0001 for its failed assignment.
		var ids []string
		by := map[string]LicenseUser{}
		for _, u := range f.Users {
			id := "u-" + strings.TrimPrefix(u.UPN, "user")[:4]
			ids = append(ids, id)
			by[id] = u
		}
		if !slices.Equal(ids, []string{"u-0000", "u-0001", "u-0002", "u-0004", "u-0005"}) {
			t.Fatalf("users %v", ids)
		}
		u0 := by["u-0000"]
		if !slices.Equal(u0.SkuIDs, []string{skuE3, skuE5}) || len(u0.States) != 3 || u0.States[0].AssignedByGroup != "G1" {
			t.Errorf("u-0000 %+v", u0)
		}
		if !u0.Activity[WorkloadExchange].Equal(time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC)) ||
			!u0.Activity[WorkloadTeams].Equal(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)) || !u0.Activity[WorkloadOneDrive].IsZero() {
			t.Errorf("u-0000 activity %v", u0.Activity)
		}
		if !u0.SignIn.Interactive.Equal(signed) || !u0.SignIn.Latest().Equal(signed.Add(48*time.Hour)) {
			t.Errorf("u-0000 sign-in %+v", u0.SignIn)
		}
		if u1 := by["u-0001"]; len(u1.SkuIDs) != 0 || len(u1.States) != 1 || u1.States[0].Error != "CountViolation" {
			t.Errorf("u-0001 %+v", u1)
		}
		if u2 := by["u-0002"]; !u2.Guest || u2.States != nil || !u2.SignIn.Latest().IsZero() {
			t.Errorf("u-0002 %+v", u2)
		}
		if u4 := by["u-0004"]; u4.Guest || u4.Enabled != true || !u4.Created.Equal(time.Date(2024, 1, 5, 9, 0, 0, 0, time.UTC)) {
			t.Errorf("u-0004 %+v", u4)
		}
		if u5 := by["u-0005"]; !u5.Guest {
			t.Errorf("u-0005 %+v: #EXT# without a user type is a guest", u5)
		}
	}
	f, err := s.LicenseFacts(ctx, "c", Query{})
	if err != nil {
		t.Fatal(err)
	}
	check(t, f)

	// An incremental run copies the users with their type and states and
	// shares the reports; it stores its own groups and sign-ins.
	w, err = s.BeginRun(ctx, RunInfo{ConnectionID: "c", ConnectionName: "Contoso", Trigger: TriggerCLI})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddSKUs(ctx, testSKUs()); err != nil {
		t.Fatal(err)
	}
	if err := w.BeginUserChanges(ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	if err := w.EndUserChanges(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.ShareReports(ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	if err := w.AddLicenseGroups(ctx, []Group{{ID: "g1", DisplayName: "Licensing - E3"}, {ID: "G2", DisplayName: "Licensing - E5"}}); err != nil {
		t.Fatal(err)
	}
	if err := w.AddSignIns(ctx, []SignIn{{UserID: "u-0000", Interactive: signed, NonInteractive: signed.Add(48 * time.Hour), Successful: signed.Add(48 * time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(ctx, Outcome{Status: StatusSucceeded, Mode: "incremental", SignIns: SignInsRead}); err != nil {
		t.Fatal(err)
	}
	if f, err = s.LicenseFacts(ctx, "c", Query{}); err != nil {
		t.Fatal(err)
	}
	check(t, f)

	// Without usage reports the facts say why.
	w, _ = s.BeginRun(ctx, RunInfo{ConnectionID: "d", ConnectionName: "Fabrikam", Trigger: TriggerCLI})
	_ = w.AddSKUs(ctx, testSKUs())
	_ = w.AddUsers(ctx, testUsers(2, "d"))
	if _, err := w.Finish(ctx, Outcome{Status: StatusSucceeded, SignIns: "No Microsoft Entra ID P1"}); err != nil {
		t.Fatal(err)
	}
	if f, err = s.LicenseFacts(ctx, "d", Query{}); err != nil {
		t.Fatal(err)
	}
	if f.UsageKnown || f.UsageProblem == "" || f.Run.SignIns != "No Microsoft Entra ID P1" {
		t.Errorf("no reports: known %v, problem %q, sign-ins %q", f.UsageKnown, f.UsageProblem, f.Run.SignIns)
	}
}

// TestLicenseSkuIDs: the fast reader of assigned_licenses agrees with
// encoding/json on what appendLicenses writes, awkward plan names included.
func TestLicenseSkuIDs(t *testing.T) {
	for _, ls := range [][]AssignedLicense{
		nil,
		{{SkuID: skuE3}},
		{{SkuID: skuE3, DisabledPlans: []string{`"skuId":"x"`, `a\b`}}, {SkuID: skuE5, DisabledPlans: []string{}}},
	} {
		col := string(appendLicenses(nil, ls))
		var want []string
		for _, l := range decodeJSON[[]AssignedLicense](col) {
			want = append(want, l.SkuID)
		}
		if got := licenseSkuIDs(col); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", col, got, want)
		}
	}
}

func TestLicenseStatesRoundTrip(t *testing.T) {
	for _, ss := range [][]LicenseAssignmentState{
		{{SkuID: skuE3, AssignedByGroup: "g1", State: "Active", Error: "None"}, {SkuID: skuE3, State: "Active", Error: "None"}},
		{{SkuID: skuE5, AssignedByGroup: "g2", State: "Error", Error: "CountViolation"}},
		{{SkuID: skuE5, State: "ActiveWithError", Error: "MutuallyExclusiveViolation"}},
		{{SkuID: skuE3, AssignedByGroup: "g,3;", State: "Active"}, {SkuID: skuE5, State: ""}},
	} {
		col := string(appendLicenseStates(nil, ss))
		got := decodeLicenseStates(col)
		want := slices.Clone(ss)
		for i := range want {
			want[i].AssignedByGroup = strings.NewReplacer(",", "", ";", "").Replace(want[i].AssignedByGroup)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: %+v, want %+v", col, got, want)
		}
	}
	if col := appendLicenseStates(nil, []LicenseAssignmentState{{SkuID: skuE3, State: "Active", Error: "None"}}); len(col) != 0 {
		t.Errorf("plain direct assignments stored as %q", col)
	}
}
