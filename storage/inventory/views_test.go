package inventory

import (
	"bufio"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// documentedViews reads docs/bi-views.md: each "### beacon_..." heading
// and the column names of the table under it, in order.
func documentedViews(t *testing.T) (map[string][]string, []string) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "docs", "bi-views.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	var order []string
	cell := regexp.MustCompile("^\\| `([a-z_]+)` \\|")
	view := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if name, ok := strings.CutPrefix(l, "### "); ok {
			view = strings.TrimSpace(name)
			order = append(order, view)
			continue
		}
		if m := cell.FindStringSubmatch(l); m != nil && view != "" {
			out[view] = append(out[view], m[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out, order
}

// queryAll is the first column of every row of q.
func queryAll[T any](t *testing.T, db *sql.DB, q string, args ...any) []T {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func viewColumns(t *testing.T, db *sql.DB, view string) []string {
	return queryAll[string](t, db, "SELECT name FROM pragma_table_info(?) ORDER BY cid", view)
}

func queryInts(t *testing.T, db *sql.DB, q string, args ...any) []int {
	return queryAll[int](t, db, q, args...)
}

// TestBIViewsMatchTheirDocumentation holds the views' columns to
// docs/bi-views.md: BI reports are built on these names, so changing
// one must be a decision taken in both places.
func TestBIViewsMatchTheirDocumentation(t *testing.T) {
	s := openTest(t, Options{})
	doc, order := documentedViews(t)
	have, err := viewsOf(context.Background(), s.DB())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range have {
		names = append(names, n)
	}
	sort.Strings(names)
	docNames := slices.Clone(order)
	sort.Strings(docNames)
	if !reflect.DeepEqual(names, docNames) {
		t.Fatalf("views in the database %v, documented %v", names, docNames)
	}
	for _, v := range order {
		if got := viewColumns(t, s.DB(), v); !reflect.DeepEqual(got, doc[v]) {
			t.Errorf("%s has columns\n%v\ndocumented\n%v", v, got, doc[v])
		}
	}
}

// TestBIViewsShowTheCurrentSnapshot: an older snapshot and a run still
// staging stay out of the views; each connection shows its current run.
func TestBIViewsShowTheCurrentSnapshot(t *testing.T) {
	forEachStore(t, Options{}, testBIViewsShowTheCurrentSnapshot)
}

func testBIViewsShowTheCurrentSnapshot(t *testing.T, s *Store) {
	ctx := context.Background()
	importGood(t, s, "c1", 30, "old")
	cur1 := importGood(t, s, "c1", 20, "a")
	cur2 := importGood(t, s, "c2", 11, "b")
	staging := beginWithUsers(t, s, 50)
	defer staging.Finish(ctx, Outcome{Status: StatusCancelled})
	db := s.DB()

	if got := queryInts(t, db, "SELECT run_id FROM beacon_connections ORDER BY connection_id"); !reflect.DeepEqual(got, []int{int(cur1.ID), int(cur2.ID)}) {
		t.Errorf("beacon_connections runs %v, want %d and %d", got, cur1.ID, cur2.ID)
	}
	for _, c := range []struct {
		conn  string
		users int
	}{{"c1", 20}, {"c2", 11}} {
		if got := queryInts(t, db, "SELECT COUNT(*) FROM beacon_users WHERE connection_id = ?", c.conn); got[0] != c.users {
			t.Errorf("%s: beacon_users has %d rows, want %d", c.conn, got[0], c.users)
		}
		var old int
		if err := db.QueryRow("SELECT COUNT(*) FROM beacon_users WHERE connection_id = ? AND user_id LIKE 'old-%'", c.conn).Scan(&old); err != nil || old != 0 {
			t.Errorf("%s: %d users of the older snapshot (%v)", c.conn, old, err)
		}
		ls, err := s.Licenses(ctx, c.conn, Query{})
		if err != nil {
			t.Fatal(err)
		}
		assignments := 0
		for _, l := range ls {
			var purchased, assigned, unassigned, active int
			var part string
			if err := db.QueryRow(`SELECT sku_part_number, purchased, assigned, unassigned, active FROM beacon_licenses
				WHERE connection_id = ? AND sku_id = ?`, c.conn, l.SkuID).Scan(&part, &purchased, &assigned, &unassigned, &active); err != nil {
				t.Fatal(err)
			}
			if part != l.SkuPartNumber || purchased != l.Purchased || assigned != l.Assigned || unassigned != l.Unassigned || active != l.Active {
				t.Errorf("%s %s: view %s %d/%d/%d/%d, store %+v", c.conn, l.SkuID, part, purchased, assigned, unassigned, active, l)
			}
			held := queryInts(t, db, "SELECT COUNT(*) FROM beacon_user_licenses WHERE connection_id = ? AND sku_part_number = ?", c.conn, l.SkuPartNumber)
			if held[0] != l.Assigned {
				t.Errorf("%s %s: %d rows in beacon_user_licenses, %d assigned", c.conn, l.SkuPartNumber, held[0], l.Assigned)
			}
			assignments += l.Assigned
		}
		if assignments == 0 {
			t.Fatalf("%s: the test snapshot assigns no licence", c.conn)
		}
		if got := queryInts(t, db, "SELECT COUNT(*) FROM beacon_applications WHERE connection_id = ?", c.conn); got[0] != 2 {
			t.Errorf("%s: %d applications, want 2", c.conn, got[0])
		}
	}
	var upn, licenses, last string
	if err := db.QueryRow(`SELECT user_principal_name, licenses, last_activity FROM beacon_users
		WHERE connection_id = 'c1' AND user_id = 'a-0000'`).Scan(&upn, &licenses, &last); err != nil {
		t.Fatal(err)
	}
	if upn != "user0000@contoso.example" || licenses != "ENTERPRISEPACK+ENTERPRISEPREMIUM" || last != "2026-11-19" {
		t.Errorf("user0000: %q %q %q", upn, licenses, last)
	}
	if got := queryInts(t, db, "SELECT COUNT(*) FROM beacon_user_activity WHERE connection_id = 'c1' AND last_activity = '2026-11-19'"); got[0] != 1 {
		t.Errorf("beacon_user_activity: %d rows of user0000's date, want 1", got[0])
	}
	// The history shows every run, the staging one too, one current per
	// connection.
	if got := queryInts(t, db, "SELECT COUNT(*) FROM beacon_runs"); got[0] != 4 {
		t.Errorf("beacon_runs has %d rows, want 4", got[0])
	}
	if got := queryInts(t, db, "SELECT run_id FROM beacon_runs WHERE is_current = 1 ORDER BY run_id"); !reflect.DeepEqual(got, []int{int(cur1.ID), int(cur2.ID)}) {
		t.Errorf("current runs %v", got)
	}
	var ended sql.NullString
	if err := db.QueryRow("SELECT ended_at FROM beacon_runs WHERE status = ?", StatusRunning).Scan(&ended); err != nil || ended.Valid {
		t.Errorf("a running run's ended_at: %v %v", ended, err)
	}
	var at string
	if err := db.QueryRow("SELECT imported_at FROM beacon_connections WHERE connection_id = 'c1'").Scan(&at); err != nil ||
		at != cur1.Ended.UTC().Format("2006-01-02T15:04:05Z") {
		t.Errorf("imported_at %q (%v), want the run's end %v", at, err, cur1.Ended)
	}
}

// TestBIViewsRecreatedOnUpgrade: a database of a build without the views
// (or with an older definition of one) gets this build's at the next open.
func TestBIViewsRecreatedOnUpgrade(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	s := openAt(t, path)
	importGood(t, s, "c1", 5, "a")
	for _, v := range biViews() {
		if _, err := s.DB().Exec("DROP VIEW " + v.name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.DB().Exec("CREATE VIEW beacon_users AS SELECT 1 AS old_column"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec("CREATE VIEW beacon_gone AS SELECT 1 AS x"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openAt(t, path)
	ok, err := s.viewsCurrent(ctx)
	if err != nil || !ok {
		t.Fatalf("views current after the upgrade: %v %v", ok, err)
	}
	if got := queryInts(t, s.DB(), "SELECT COUNT(*) FROM beacon_users"); got[0] != 5 {
		t.Errorf("beacon_users after the upgrade: %d rows, want 5", got[0])
	}
}

// openAt opens the database at path, closed when the test ends.
func openAt(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
