package inventory

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/pgtest"
)

// The package's PostgreSQL server (internal/pgtest) stops with its tests.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// openPG opens a store in a fresh PostgreSQL database.
func openPG(t *testing.T, opts Options) *Store {
	t.Helper()
	s, err := OpenURL(context.Background(), pgtest.NewDB(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// forEachStore runs fn against a new SQLite store and a new PostgreSQL
// one: the same test for both (issue 21).
func forEachStore(t *testing.T, opts Options, fn func(t *testing.T, s *Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, openTest(t, opts)) })
	t.Run("postgres", func(t *testing.T) { fn(t, openPG(t, opts)) })
}

// forEachStoreOpen is forEachStore for tests that choose the options
// themselves: open opens a new store of the kind under test.
func forEachStoreOpen(t *testing.T, fn func(t *testing.T, open func(Options) *Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, func(o Options) *Store { return openTest(t, o) }) })
	t.Run("postgres", func(t *testing.T) { fn(t, func(o Options) *Store { return openPG(t, o) }) })
}

func TestRebind(t *testing.T) {
	for _, c := range [][2]string{
		{"SELECT 1", "SELECT 1"},
		{"SELECT a FROM t WHERE x = ? AND y = ?", "SELECT a FROM t WHERE x = $1 AND y = $2"},
		{"UPDATE t SET a = ?2 WHERE b = ?1 AND c = ?2", "UPDATE t SET a = $2 WHERE b = $1 AND c = $2"},
		{"SELECT '?' || \"a?\" FROM t WHERE x = ?", "SELECT '?' || \"a?\" FROM t WHERE x = $1"},
		{"BEGIN IMMEDIATE", "BEGIN"},
		{"SELECT x FROM t ORDER BY t.upn COLLATE NOCASE DESC", `SELECT x FROM t ORDER BY translate(t.upn, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') COLLATE "C" DESC`},
		{"SELECT u.name FROM history_events e JOIN history_names u ON u.id = e.user WHERE e.user = ?", `SELECT u.name FROM history_events e JOIN history_names u ON u.id = e."user" WHERE e."user" = $1`},
		{"INSERT OR IGNORE INTO history_events (conn, user, day) VALUES (?, ?, ?)", `INSERT INTO history_events (conn, "user", day) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`},
		{"INSERT OR REPLACE INTO history_tenant (conn, day, users) VALUES (?, ?, ?)",
			"INSERT INTO history_tenant (conn, day, users) VALUES ($1, $2, $3) ON CONFLICT (conn, day) DO UPDATE SET users = excluded.users"},
		{"SELECT x FROM t LIMIT -1 OFFSET 5", "SELECT x FROM t LIMIT ALL OFFSET 5"},
	} {
		if got := rebind(c[0]); got != c[1] {
			t.Errorf("rebind(%q) = %q, want %q", c[0], got, c[1])
		}
	}
}

// Opening creates the schema once; a second open (another beacon) leaves
// it alone; a database of a newer build is refused, saying so.
func TestPostgresSchemaVersion(t *testing.T) {
	ctx := context.Background()
	u := pgtest.NewDB(t)
	s, err := OpenURL(ctx, u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Postgres() {
		t.Error("a store opened from a postgres:// URL says it is not PostgreSQL")
	}
	v, err := pgSchemaVersion(ctx, s.db)
	if err != nil || v != schemaVersion {
		t.Fatalf("schema version %d (%v), want %d", v, err, schemaVersion)
	}
	s2, err := OpenURL(ctx, u, Options{})
	if err != nil {
		t.Fatalf("second open: %v", err)
	}
	s2.Close()
	if _, err := s.db.ExecContext(ctx, "UPDATE beacon_schema SET version = ?", schemaVersion+1); err != nil {
		t.Fatal(err)
	}
	_, err = OpenURL(ctx, u, Options{})
	if err == nil || !strings.Contains(err.Error(), "newer Inventory Beacon") {
		t.Fatalf("a newer database opened: %v", err)
	}
}

// A database at this schema made by an older build, without PostgreSQL's
// index on the users' rowid, gets it when this build opens it, and then
// reading users by rowid goes through it instead of scanning the table.
func TestPostgresUsersRowidIndex(t *testing.T) {
	ctx := context.Background()
	s := openPG(t, Options{})
	if _, err := s.db.ExecContext(ctx, "DROP INDEX users_rowid"); err != nil {
		t.Fatal(err)
	}
	if err := s.migratePG(ctx); err != nil { // what opening it again does
		t.Fatal(err)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var has bool
	if err := conn.QueryRowContext(ctx, "SELECT to_regclass('users_rowid') IS NOT NULL").Scan(&has); err != nil || !has {
		t.Fatalf("opening left the database without users_rowid (%v)", err)
	}
	// The planner's choice, with sequential scans priced out: an index
	// that exists but does not serve rowid IN (...) would still scan.
	if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
		t.Fatal(err)
	}
	var plan string
	if err := conn.QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) SELECT id FROM users WHERE rowid IN (SELECT CAST(value AS BIGINT) FROM json_each(?))",
		"[1,2,3]").Scan(&plan); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "users_rowid") {
		t.Errorf("reading users by rowid does not use users_rowid:\n%s", plan)
	}
}

// Beacons opening a new database at the same moment create its schema
// one after the other, not into each other.
func TestPostgresOpenAtOnce(t *testing.T) {
	u := pgtest.NewDB(t)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := OpenURL(context.Background(), u, Options{})
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// Both stores have the same tables and BI views with the same columns
// (PostgreSQL's tables are SQLite's DDL translated, plus the rowid SQLite
// has implicitly).
func TestPostgresSchemaLikeSQLite(t *testing.T) {
	ctx := context.Background()
	// PostgreSQL first: where there is none (Windows, under Wine) the test
	// skips before it makes a SQLite file, whose temporary folder Wine
	// cannot remove, which would fail a skipped test.
	pg := openPG(t, Options{})
	lite := openTest(t, Options{})
	columns := func(s *Store, q string) map[string][]string {
		rows, err := s.db.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string][]string{}
		for rows.Next() {
			var tb, c string
			if err := rows.Scan(&tb, &c); err != nil {
				t.Fatal(err)
			}
			if c != "rowid" {
				out[tb] = append(out[tb], c)
			}
		}
		for _, cs := range out {
			slices.Sort(cs)
		}
		return out
	}
	want := columns(lite, `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type IN ('table', 'view')`)
	got := columns(pg, `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'`)
	delete(got, "beacon_schema")
	for _, tb := range slices.Sorted(maps.Keys(want)) {
		if !slices.Equal(got[tb], want[tb]) {
			t.Errorf("%s: PostgreSQL has columns %v, SQLite %v", tb, got[tb], want[tb])
		}
	}
	for tb := range got {
		if _, ok := want[tb]; !ok {
			t.Errorf("%s is in PostgreSQL only", tb)
		}
	}
}

// A password in the URL is never in an error (nor the store's name).
func TestPostgresPasswordNotShown(t *testing.T) {
	const secret = "s3cr3t-Pa55"
	u := fmt.Sprintf("postgres://beacon:%s@/inventory?host=%s&connect_timeout=5", secret, url.QueryEscape(filepath.Join(t.TempDir(), "nothing")))
	_, err := OpenURL(context.Background(), u, Options{})
	if err == nil {
		t.Fatal("opened a database on a server that does not exist")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("the error shows the password: %v", err)
	}
	if r := RedactURL(u); strings.Contains(r, secret) || !strings.Contains(r, "beacon@") {
		t.Errorf("RedactURL(%s) = %s", u, r)
	}
	q := "postgres://beacon@db.example/inv?password=" + secret + "&sslmode=require"
	if r := RedactURL(q); strings.Contains(r, secret) || !strings.Contains(r, "sslmode=require") {
		t.Errorf("RedactURL(%s) = %s", q, r)
	}
}

// An incremental run sharing its reports copies the users' last activity
// after Finish analysed the tables: PostgreSQL's statistics must count
// those rows, or its planner takes the run for one without activity and
// counts the active users of each SKU by scanning the activity once per
// user (365 s at 30,000 users).
func TestPostgresActivityCopyAnalysed(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2027, 3, 28, 1, 30, 0, 0, time.UTC)
	s := openPG(t, Options{Now: func() time.Time { return now }})
	tenant := &propTenant{users: map[string]User{}, activity: map[string]string{}}
	r := rand.New(rand.NewPCG(3, 4))
	for range 40 {
		u := tenant.newUser(r, now)
		tenant.users[u.ID] = u
	}
	st := propStep{now: now, incoming: tenant.list(), rows: tenant.report(r, now.AddDate(0, 0, -2)), reports: "fresh"}
	first := fullRun(t, s, st, st.rows, true)
	now = now.Add(2 * time.Hour)
	st.now, st.reports = now, "shared"
	incrementalRun(t, s, first.ID, st, true)
	var estimated float64
	var rows int
	if err := s.db.QueryRowContext(ctx, "SELECT reltuples FROM pg_class WHERE oid = 'user_activity'::regclass").Scan(&estimated); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM user_activity").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows == 0 || int(estimated) != rows {
		t.Fatalf("PostgreSQL's statistics count %v activity rows, the table holds %d", estimated, rows)
	}
}

// TestPostgresAnalysesWrittenTables: Finish analyses the tables the run
// wrote rows to and leaves the others alone; an incremental run sharing
// the reports and the activity analysed all five of them for nothing
// (2.1 s at 1,000,000 users).
func TestPostgresAnalysesWrittenTables(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2027, 3, 28, 1, 30, 0, 0, time.UTC)
	s := openPG(t, Options{Now: func() time.Time { return now }})
	tenant := &propTenant{users: map[string]User{}, activity: map[string]string{}}
	r := rand.New(rand.NewPCG(5, 6))
	for range 40 {
		u := tenant.newUser(r, now)
		tenant.users[u.ID] = u
	}
	analyses := func() map[string]int64 {
		t.Helper()
		got := map[string]int64{}
		for _, table := range finishedTables() {
			var n int64
			// ANALYZE counts in the shared statistics at once, not
			// when the connection that ran it reports.
			if err := s.db.QueryRowContext(ctx, "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = $1", table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			got[table] = n
		}
		return got
	}
	check := func(step string, before map[string]int64, want ...string) map[string]int64 {
		t.Helper()
		after := analyses()
		for _, table := range finishedTables() {
			if grew := after[table] > before[table]; grew != slices.Contains(want, table) {
				t.Errorf("%s: %s analysed %d times, %d before", step, table, after[table], before[table])
			}
		}
		return after
	}
	count := analyses()
	st := propStep{now: now, incoming: tenant.list(), rows: tenant.report(r, now.AddDate(0, 0, -2)), reports: "fresh"}
	first := fullRun(t, s, st, st.rows, true)
	count = check("full run", count, "users", "user_activity", "report_active_users")

	now = now.Add(2 * time.Hour)
	st.now, st.reports = now, "shared"
	st.upserts = tenant.list()[:2]
	second := incrementalRun(t, s, first.ID, st, true)
	count = check("incremental run sharing the reports", count, "users")

	now = now.Add(2 * time.Hour)
	st.now, st.reports = now, "fresh"
	incrementalRun(t, s, second.ID, st, true)
	check("incremental run downloading the reports", count, "users", "user_activity", "report_active_users")
}
