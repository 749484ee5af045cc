package inventory

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// pageUser is user i of the paging tests and benchmarks: display names,
// departments, job titles and creation days repeat, some only up to case
// (SQLite's NOCASE folds ASCII), so every sort column has ties, many of
// them across page boundaries. plans adds that many assigned plans (the
// wide column).
func pageUser(i, plans int) User {
	first := []string{"ada", "Ada", "ADA", "bruno", "Chloe", "chloe", "Dmitri"}[i%7]
	last := []string{"Okafor", "park", "Park", "Quinn", "rossi"}[i*3%5]
	u := User{
		ID:                fmt.Sprintf("u%06d", i),
		UserPrincipalName: fmt.Sprintf("user%06d@contoso.example", i),
		DisplayName:       fmt.Sprintf("%s %s %d", first, last, i%11),
		Mail:              []string{"", fmt.Sprintf("USER%06d@contoso.example", i)}[i%2],
		AccountEnabled:    i%9 != 0,
		UsageLocation:     []string{"DE", "", "FR"}[i%3],
		Department:        []string{"Sales", "Finance", "IT", "finance", ""}[i%5],
		JobTitle:          []string{"Clerk", "clerk", "Engineer"}[i%3],
		CreatedDateTime:   time.Date(2024, 1, 1+i%28, 9, 0, 0, 0, time.UTC),
	}
	if i%13 == 0 {
		u.CreatedDateTime = time.Time{} // NULL
	}
	if i%2 == 0 {
		u.AssignedLicenses = append(u.AssignedLicenses, AssignedLicense{SkuID: skuE3, DisabledPlans: []string{}})
	}
	if i%5 == 0 {
		u.AssignedLicenses = append(u.AssignedLicenses, AssignedLicense{SkuID: skuE5, DisabledPlans: []string{}})
	}
	for j := 0; j < plans; j++ {
		u.AssignedPlans = append(u.AssignedPlans, AssignedPlan{AssignedDateTime: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC),
			CapabilityStatus: "Enabled", Service: "exchange", ServicePlanID: fmt.Sprintf("efb87545-963c-4e0d-99df-69c6916d9e%02d", j)})
	}
	return u
}

// writePageRun writes a complete run of n pageUsers (with plans plans
// each) for connID, apps service principals with tied names, and an
// active-users report listing every third user with one of a few dates
// (so lastActivity has ties and NULLs).
func writePageRun(tb testing.TB, s *Store, connID string, n, plans, apps int) {
	tb.Helper()
	ctx := context.Background()
	w, err := s.BeginRun(ctx, RunInfo{ConnectionID: connID, ConnectionName: connID, Trigger: TriggerCLI})
	if err != nil {
		tb.Fatal(err)
	}
	if err := w.AddSKUs(ctx, testSKUs()); err != nil {
		tb.Fatal(err)
	}
	page := make([]User, 0, 999)
	for i := 0; i < n; i++ {
		page = append(page, pageUser(i, plans))
		if len(page) == cap(page) || i == n-1 {
			if err := w.AddUsers(ctx, page); err != nil {
				tb.Fatal(err)
			}
			page = page[:0]
		}
	}
	var sps []ServicePrincipal
	for i := 0; i < apps; i++ {
		sps = append(sps, ServicePrincipal{ID: fmt.Sprintf("sp%04d", i), AppID: fmt.Sprintf("app%04d", i),
			DisplayName: []string{"alpha", "Alpha", "beta", "Gamma"}[i%4], PublisherName: []string{"Fabrikam", "", "fabrikam"}[i%3],
			ServicePrincipalType: "Application", AccountEnabled: i%4 != 0, Tags: []string{}})
	}
	if err := w.AddServicePrincipals(ctx, sps); err != nil {
		tb.Fatal(err)
	}
	var rows []ReportRow
	for i := 0; i < n; i += 3 {
		r := activeRow(fmt.Sprintf("user%06d@contoso.example", i), "2026-11-20",
			[]string{"2026-11-19", "2026-01-05", "", "2026-11-01"}[i%4])
		r.Cells[Report(ReportActiveUsers).Column("Display Name")] = pageUser(i, 0).DisplayName
		rows = append(rows, r)
		if len(rows) == 1000 || i+3 >= n {
			if err := w.AddReportRows(ctx, ReportActiveUsers, rows); err != nil {
				tb.Fatal(err)
			}
			rows = rows[:0]
		}
	}
	if _, err := w.Finish(ctx, Outcome{Status: StatusSucceeded}); err != nil {
		tb.Fatal(err)
	}
}

// pageOffsets are the offsets the paging tests read pages of size at, for
// total rows: the start, just after it, the middle, the end and past it.
func pageOffsets(total, size int) []int {
	return []int{0, 1, size - 1, total/2 - 7, total / 2, total - size - 1, total - size, total - 3, total, total + 10}
}

// nocase is SQLite's NOCASE collation: ASCII letters folded to lower case.
func nocase(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// TestUsersPagesMatchTheFullSortedList: every page of a sorted (and
// searched) Users query is the matching slice of the full list read at
// once (with the straightforward query: no limit), for every column, both
// directions, at the start, middle and end (which without a search term
// is read from the far end); and the full list itself is in the order a
// plain sort gives, ties broken by the order users were staged (rowid),
// in both directions.
func TestUsersPagesMatchTheFullSortedList(t *testing.T) {
	forEachStore(t, Options{}, testUsersPagesMatchTheFullSortedList)
}

func testUsersPagesMatchTheFullSortedList(t *testing.T, s *Store) {
	ctx := context.Background()
	const n = 2500
	writePageRun(t, s, "c1", n, 2, 0)

	// Independent reference for some columns: the natural order (all
	// users, as staged) sorted in Go, stably, so ties keep the staging
	// order.
	natural, err := s.Users(ctx, "c1", Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(natural) != n {
		t.Fatalf("%d users, want %d", len(natural), n)
	}
	keys := map[string]func(a, b User) int{
		"displayName":       func(a, b User) int { return cmp.Compare(nocase(a.DisplayName), nocase(b.DisplayName)) },
		"department":        func(a, b User) int { return cmp.Compare(nocase(a.Department), nocase(b.Department)) },
		"usageLocation":     func(a, b User) int { return cmp.Compare(a.UsageLocation, b.UsageLocation) },
		"createdDateTime":   func(a, b User) int { return a.CreatedDateTime.Compare(b.CreatedDateTime) }, // zero is NULL: first
		"lastActivity":      func(a, b User) int { return a.LastActivity.Compare(b.LastActivity) },       // zero is NULL: first
		"accountEnabled":    func(a, b User) int { return cmp.Compare(b2i(a.AccountEnabled), b2i(b.AccountEnabled)) },
		"userPrincipalName": func(a, b User) int { return cmp.Compare(nocase(a.UserPrincipalName), nocase(b.UserPrincipalName)) },
	}
	nulls := 0
	for _, u := range natural {
		if u.LastActivity.IsZero() {
			nulls++
		}
	}
	if nulls == 0 || nulls == n {
		t.Fatalf("%d of %d users without last activity: the test needs some of both", nulls, n)
	}

	for _, search := range []string{"", "FINANCE", "user0012"} {
		for _, c := range UserColumns {
			for _, desc := range []bool{false, true} {
				q := Query{Search: search, Sort: c.Key, Desc: desc}
				name := fmt.Sprintf("search=%q sort=%s desc=%v", search, c.Key, desc)
				full, err := s.Users(ctx, "c1", q)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				count, err := s.CountUsers(ctx, "c1", q)
				if err != nil {
					t.Fatal(err)
				}
				if count != len(full) || count == 0 {
					t.Fatalf("%s: %d users listed, %d counted", name, len(full), count)
				}
				if key, ok := keys[c.Key]; ok {
					var want []User
					for _, u := range natural {
						if search == "" || strings.Contains(strings.ToLower(u.Department+" "+u.UserPrincipalName), strings.ToLower(search)) {
							want = append(want, u)
						}
					}
					slices.SortStableFunc(want, func(a, b User) int {
						if desc {
							return key(b, a)
						}
						return key(a, b)
					})
					if d := firstDiff(ids(full), ids(want)); d >= 0 {
						t.Fatalf("%s: the full list differs from a plain sort at %d: %v", name, d, ids(full)[d:min(d+5, len(full))])
					}
				}
				for _, size := range []int{50, 200} {
					for _, off := range pageOffsets(len(full), size) {
						if off < 0 {
							continue
						}
						q.Limit, q.Offset = size, off
						got, err := s.Users(ctx, "c1", q)
						if err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						want := full[min(off, len(full)):min(off+size, len(full))]
						if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
							t.Fatalf("%s limit %d offset %d: page differs from the full list at %d (got %d rows, want %d)",
								name, size, off, firstDiff(ids(got), ids(want)), len(got), len(want))
						}
					}
				}
				// No limit, an offset: the tail.
				q.Limit, q.Offset = 0, len(full)/3
				got, err := s.Users(ctx, "c1", q)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, full[len(full)/3:]) {
					t.Fatalf("%s offset %d without a limit: not the tail of the full list", name, q.Offset)
				}
			}
		}
	}
}

// TestApplicationAndReportPagesMatchTheFullSortedList: the same for the
// Applications page and a report's rows, with pages from the second half
// read from the far end however small the table.
func TestApplicationAndReportPagesMatchTheFullSortedList(t *testing.T) {
	defer func(r int) { reverseFrom = r }(reverseFrom)
	reverseFrom = 1
	forEachStore(t, Options{}, testApplicationAndReportPagesMatchTheFullSortedList)
}

func testApplicationAndReportPagesMatchTheFullSortedList(t *testing.T, s *Store) {
	ctx := context.Background()
	writePageRun(t, s, "c1", 1500, 0, 400)

	for _, search := range []string{"", "alpha", "fabrikam"} {
		for _, c := range ApplicationColumns {
			for _, desc := range []bool{false, true} {
				q := Query{Search: search, Sort: c.Key, Desc: desc}
				name := fmt.Sprintf("applications search=%q sort=%s desc=%v", search, c.Key, desc)
				full, err := s.Applications(ctx, "c1", q)
				if err != nil || len(full) == 0 {
					t.Fatalf("%s: %d rows, %v", name, len(full), err)
				}
				if c.Key == "displayName" {
					want := slices.Clone(full)
					slices.SortStableFunc(want, func(a, b ServicePrincipal) int { return cmp.Compare(a.ID, b.ID) }) // staging order
					slices.SortStableFunc(want, func(a, b ServicePrincipal) int {
						if desc {
							a, b = b, a
						}
						return cmp.Compare(nocase(a.DisplayName), nocase(b.DisplayName))
					})
					if !reflect.DeepEqual(full, want) {
						t.Fatalf("%s: the full list is not sorted with ties in staging order", name)
					}
				}
				for _, off := range pageOffsets(len(full), 50) {
					q.Limit, q.Offset = 50, max(off, 0)
					got, err := s.Applications(ctx, "c1", q)
					if err != nil {
						t.Fatal(err)
					}
					want := full[min(q.Offset, len(full)):min(q.Offset+50, len(full))]
					if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
						t.Fatalf("%s offset %d: page differs from the full list", name, q.Offset)
					}
				}
			}
		}
	}

	spec := Report(ReportActiveUsers)
	cols := ReportColumns(ReportActiveUsers)
	var sorts []string
	for _, h := range []string{"User Principal Name", "Display Name", "Exchange Last Activity Date", "Is Deleted", "Report Refresh Date"} {
		if spec.Column(h) < 0 {
			t.Fatalf("no column %q in %s", h, spec.Title)
		}
		sorts = append(sorts, h)
	}
	sorts = append(sorts, cols[len(cols)-1].Key, "")
	for _, search := range []string{"", "ada", "park 3"} {
		for _, sort := range sorts {
			for _, desc := range []bool{false, true} {
				q := Query{Search: search, Sort: sort, Desc: desc}
				name := fmt.Sprintf("report search=%q sort=%q desc=%v", search, sort, desc)
				full, err := s.ReportRows(ctx, "c1", ReportActiveUsers, q)
				if err != nil || len(full) == 0 {
					t.Fatalf("%s: %d rows, %v", name, len(full), err)
				}
				for _, off := range pageOffsets(len(full), 50) {
					q.Limit, q.Offset = 50, max(off, 0)
					got, err := s.ReportRows(ctx, "c1", ReportActiveUsers, q)
					if err != nil {
						t.Fatal(err)
					}
					want := full[min(q.Offset, len(full)):min(q.Offset+50, len(full))]
					if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
						t.Fatalf("%s offset %d: page differs from the full list", name, q.Offset)
					}
				}
			}
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func ids(us []User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

// firstDiff is the first index where a and b differ, -1 when equal.
func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}
