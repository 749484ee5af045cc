package inventory

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/pgtest"
)

// BenchmarkStageUsers measures staging users in pages of 999 (what an
// import does per page), with licenses and plans shaped like a real tenant.
// Report: ns/op is per user.
func BenchmarkStageUsers(b *testing.B) {
	s, w := benchRun(b)
	benchStageUsers(b, s, w)
}

// BenchmarkStageUsersPostgres is BenchmarkStageUsers on PostgreSQL.
func BenchmarkStageUsersPostgres(b *testing.B) {
	s, err := OpenURL(context.Background(), pgtest.NewDB(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	w, err := s.BeginRun(context.Background(), RunInfo{ConnectionID: "c", ConnectionName: "c", Trigger: TriggerCLI})
	if err != nil {
		s.Close()
		b.Fatal(err)
	}
	benchStageUsers(b, s, w)
}

func benchStageUsers(b *testing.B, s *Store, w *RunWriter) {
	ctx := context.Background()
	defer s.Close()
	if err := w.AddSKUs(ctx, testSKUs()); err != nil {
		b.Fatal(err)
	}
	page := make([]User, 999)
	for i := range page {
		u := &page[i]
		*u = testUsers(1, "x")[0]
		u.AssignedLicenses = []AssignedLicense{{SkuID: skuE3, DisabledPlans: []string{}}, {SkuID: skuE5, DisabledPlans: []string{}}}
		for j := 0; j < 12; j++ {
			u.AssignedPlans = append(u.AssignedPlans, AssignedPlan{AssignedDateTime: time.Now(), CapabilityStatus: "Enabled",
				Service: "exchange", ServicePlanID: fmt.Sprintf("efb87545-963c-4e0d-99df-69c6916d9e%02d", j)})
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for n < b.N {
		k := min(len(page), b.N-n)
		for i := 0; i < k; i++ {
			page[i].ID = fmt.Sprintf("%08d-0000-0000-0000-000000000000", n+i)
		}
		if err := w.AddUsers(ctx, page[:k]); err != nil {
			b.Fatal(err)
		}
		n += k
	}
	finishBench(b, s, w)
}

// BenchmarkSearchUsers100k is what filter-as-you-type costs on the Users
// page: count the matches and read the first page of 50, sorted, over
// 100,000 users.
func BenchmarkSearchUsers100k(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), FileName), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	import100k(b, s, false)
	for _, c := range []struct{ name, search, sort string }{
		{"no-filter-sorted", "", "displayName"},
		{"one-letter", "u", "userPrincipalName"},
		{"narrow", "user042", "userPrincipalName"},
		{"no-match", "zzzz", ""},
	} {
		b.Run(c.name, func(b *testing.B) {
			q := Query{Search: c.search, Sort: c.sort, Limit: 50}
			for i := 0; i < b.N; i++ {
				if _, err := s.CountUsers(ctx, "c", q); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Users(ctx, "c", q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUsersPageDeep is what a drag of the Users page's scroll bar
// costs on the store side: one page of 200 users sorted by a column, at
// the start, the middle and the end of 100,000 users with 12 assigned
// plans each; then the same by display name with a search term that
// matches every user. ns/op is per page.
func BenchmarkUsersPageDeep(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), FileName), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const n = 100_000
	writePageRun(b, s, "c", n, 12, 0)
	for _, c := range []struct{ sort, search string }{{"displayName", ""}, {"lastActivity", ""}, {"displayName", "u"}} {
		for _, off := range []int{0, n / 2, n - 200} {
			name := fmt.Sprintf("%s/offset=%d", c.sort, off)
			if c.search != "" {
				name = fmt.Sprintf("%s/search=%s/offset=%d", c.sort, c.search, off)
			}
			b.Run(name, func(b *testing.B) {
				q := Query{Sort: c.sort, Search: c.search, Limit: 200, Offset: off}
				for i := 0; i < b.N; i++ {
					us, err := s.Users(ctx, "c", q)
					if err != nil {
						b.Fatal(err)
					}
					if len(us) != 200 {
						b.Fatalf("%d users, want 200", len(us))
					}
				}
			})
		}
	}
}

// BenchmarkStageReportRows measures staging usage-report rows in chunks
// of 1,000 (what an import does per chunk), every column filled the way
// the simulator's reports fill them. ns/op is per row, averaged over the
// three reports.
func BenchmarkStageReportRows(b *testing.B) {
	ctx := context.Background()
	s, w := benchRun(b)
	defer s.Close()
	chunks := map[ReportKind][]ReportRow{}
	for _, k := range ReportKinds {
		spec := Report(k)
		rows := make([]ReportRow, 1000)
		for i := range rows {
			cells := make([]string, len(spec.Columns))
			for j, c := range spec.Columns {
				switch {
				case c.Header == "User Principal Name":
					cells[j] = fmt.Sprintf("Adele.Vance%d@contoso.onmicrosoft.com", i)
				case c.Type == Date:
					cells[j] = fmt.Sprintf("2026-11-%02d", 1+(i+j)%24)
				case c.Type == Bool:
					cells[j] = [2]string{"True", "False"}[(i+j)%2]
				case c.Type == Int:
					cells[j] = fmt.Sprint((i * j) % 7)
				default:
					cells[j] = fmt.Sprintf("Value %d of %s", i%50, c.Name)
				}
			}
			rows[i] = ReportRow{Cells: cells}
		}
		chunks[k] = rows
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for n < b.N {
		for _, k := range ReportKinds {
			rows := chunks[k][:min(1000, b.N-n)]
			if len(rows) == 0 {
				break
			}
			if err := w.AddReportRows(ctx, k, rows); err != nil {
				b.Fatal(err)
			}
			n += len(rows)
		}
	}
	finishBench(b, s, w)
}

// benchRun opens a store in a temporary folder and begins a run.
func benchRun(b *testing.B) (*Store, *RunWriter) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), FileName), Options{})
	if err != nil {
		b.Fatal(err)
	}
	w, err := s.BeginRun(ctx, RunInfo{ConnectionID: "c", ConnectionName: "c", Trigger: TriggerCLI})
	if err != nil {
		s.Close()
		b.Fatal(err)
	}
	return s, w
}

// finishBench finishes the run and closes the store, inside the timing:
// they checkpoint what the WAL still holds, which a larger WAL only
// postpones.
func finishBench(b *testing.B, s *Store, w *RunWriter) {
	if _, err := w.Finish(context.Background(), Outcome{Status: StatusSucceeded}); err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkQuickCheck100k is what PRAGMA quick_check costs at open on a
// database of three kept 100,000-user snapshots with a report row per
// user (issue 20): the figure behind QuickCheckLimit. It reports the
// database's size as MB.
func BenchmarkQuickCheck100k(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), FileName)
	s, err := Open(ctx, path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	for range DefaultKeep {
		import100k(b, s, true)
	}
	s.Close()
	size := float64(fileSizes(path)) / (1 << 20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := Open(ctx, path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if out, err := s.checkLines(ctx, "PRAGMA quick_check(5)"); err != nil || len(out) != 1 || out[0] != "ok" {
			b.Fatalf("quick_check: %v, %v", out, err)
		}
		s.Close()
	}
	b.ReportMetric(size, "MB")
}

// BenchmarkOpen is what opening a current database costs (a new process
// of the CLI, the window): the schema compared with this build's, no
// write.
func BenchmarkOpen(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), FileName)
	s, err := Open(ctx, path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := Open(ctx, path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// import100k imports 100,000 users (user000000@ to user099999@), with a
// row of the active users report each when reports is set.
func import100k(b *testing.B, s *Store, reports bool) {
	ctx := context.Background()
	w, err := s.BeginRun(ctx, RunInfo{ConnectionID: "c", ConnectionName: "c", Trigger: TriggerCLI})
	if err != nil {
		b.Fatal(err)
	}
	if err := w.AddSKUs(ctx, testSKUs()); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		us := testUsers(1000, fmt.Sprintf("p%03d", i))
		rows := make([]ReportRow, len(us))
		for j := range us {
			us[j].UserPrincipalName = fmt.Sprintf("user%03d%03d@contoso.example", i, j)
			rows[j] = activeRow(us[j].UserPrincipalName, "2026-11-20", "2026-11-19")
		}
		if err := w.AddUsers(ctx, us); err != nil {
			b.Fatal(err)
		}
		if !reports {
			continue
		}
		if err := w.AddReportRows(ctx, ReportActiveUsers, rows); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := w.Finish(ctx, Outcome{Status: StatusSucceeded}); err != nil {
		b.Fatal(err)
	}
}
