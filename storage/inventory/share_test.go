package inventory

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/inventorybeacon/beacon/internal/pgtest"
)

// userRows counts the users table's rows (all snapshots, all runs).
func userRows(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow("SELECT COUNT(*) FROM users").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// snapshots reads every kept snapshot of c1 by run id.
func snapshots(t *testing.T, s *Store) map[int64][]User {
	t.Helper()
	ctx := context.Background()
	runs, err := s.History(ctx, "c1", 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64][]User{}
	for _, r := range runs {
		us, err := s.Users(ctx, "c1", Query{RunID: r.ID, Sort: "id"})
		if errors.Is(err, ErrNoSnapshot) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out[r.ID] = us
	}
	return out
}

// sameSnapshots fails unless every snapshot of want reads as it did.
func sameSnapshots(t *testing.T, s *Store, want map[int64][]User, what string) {
	t.Helper()
	have := snapshots(t, s)
	for id, us := range want {
		if h, ok := have[id]; ok && !reflect.DeepEqual(h, us) {
			t.Fatalf("%s: snapshot %d changed:\nhave %+v\nwant %+v", what, id, h, us)
		}
	}
}

// readBack reads snapshot run of c1 (sorted by object id).
func readBack(t *testing.T, s *Store, run int64) []User {
	t.Helper()
	us, err := s.Users(context.Background(), "c1", Query{RunID: run, Sort: "id"})
	if err != nil {
		t.Fatal(err)
	}
	return us
}

// TestUsersSharedBetweenSnapshots: a full import of an unchanged tenant
// adds no users rows, a changed user one, and every kept snapshot reads
// as it did when it was imported; a removed user stays in the snapshots
// that had it (issue 21).
func TestUsersSharedBetweenSnapshots(t *testing.T) {
	forEachStore(t, Options{}, func(t *testing.T, s *Store) {
		us := testUsers(40, "u")
		r1 := importUsers(t, s, "c1", us, Outcome{})
		if n := userRows(t, s); n != 40 {
			t.Fatalf("first import: %d rows", n)
		}
		seen := map[int64][]User{r1.ID: readBack(t, s, r1.ID)}
		if len(seen[r1.ID]) != 40 {
			t.Fatalf("first snapshot has %d users", len(seen[r1.ID]))
		}
		r2 := importUsers(t, s, "c1", us, Outcome{})
		if n := userRows(t, s); n != 40 {
			t.Fatalf("unchanged second import: %d rows, want the first's 40", n)
		}
		seen[r2.ID] = readBack(t, s, r2.ID)
		if !reflect.DeepEqual(seen[r2.ID], seen[r1.ID]) {
			t.Fatalf("unchanged import reads differently")
		}
		// An odd user gets a plan the dictionary has not seen, staged
		// before the first even user: the shared rows' plan indices
		// must keep their meaning.
		us[1].AssignedPlans = []AssignedPlan{{CapabilityStatus: "Enabled", Service: "teams", ServicePlanID: "57ff2da0-773e-42df-b2af-ffb7a2317929"}}
		us[3].Department = "Legal"
		gone := us[5]
		us = append(us[:5], us[6:]...)
		r3 := importUsers(t, s, "c1", us, Outcome{})
		if n := userRows(t, s); n != 42 {
			t.Fatalf("two users changed: %d rows, want 42", n)
		}
		seen[r3.ID] = readBack(t, s, r3.ID)
		if len(seen[r3.ID]) != 39 {
			t.Fatalf("current snapshot has %d users, want 39", len(seen[r3.ID]))
		}
		sameSnapshots(t, s, seen, "after a change")
		byID := func(us []User, id string) *User {
			for i := range us {
				if us[i].ID == id {
					return &us[i]
				}
			}
			return nil
		}
		if u := byID(seen[r2.ID], "u-0003"); u == nil || u.Department == "Legal" {
			t.Fatalf("the previous snapshot shows %+v", u)
		}
		if u := byID(seen[r3.ID], "u-0003"); u == nil || u.Department != "Legal" {
			t.Fatalf("the current snapshot shows %+v", u)
		}
		if u := byID(seen[r3.ID], "u-0001"); u == nil || len(u.AssignedPlans) != 1 || u.AssignedPlans[0].Service != "teams" {
			t.Fatalf("the new plan reads %+v", u)
		}
		if u := byID(seen[r3.ID], "u-0002"); u == nil || len(u.AssignedPlans) != 1 || u.AssignedPlans[0].Service != "exchange" {
			t.Fatalf("a shared user's plan reads %+v", u)
		}
		if byID(seen[r2.ID], gone.ID) == nil || byID(seen[r3.ID], gone.ID) != nil {
			t.Fatalf("the removed user is not only in the earlier snapshots")
		}
		// The figures the other readers take from the users.
		for id, want := range seen {
			n, err := s.CountUsers(context.Background(), "c1", Query{RunID: id})
			if err != nil || n != len(want) {
				t.Fatalf("snapshot %d counts %d users, %v; want %d", id, n, err, len(want))
			}
		}
		f, err := s.LicenseFacts(context.Background(), "c1", Query{RunID: r2.ID})
		if err != nil || len(f.Users) != 24 {
			t.Fatalf("licence facts of an earlier snapshot: %d users, %v", len(f.Users), err)
		}
		var bi int
		if err := s.db.QueryRow("SELECT COUNT(*) FROM beacon_users").Scan(&bi); err != nil || bi != 39 {
			t.Fatalf("beacon_users has %d rows, %v; want the current 39", bi, err)
		}
	})
}

// TestFailedRunLeavesSharedSnapshots: a run that replaced users and then
// failed gives its rows back and revives the ones it replaced, in Finish
// and when a later Open tidies a run whose process died.
func TestFailedRunLeavesSharedSnapshots(t *testing.T) {
	forEachStore(t, Options{}, func(t *testing.T, s *Store) {
		ctx := context.Background()
		us := testUsers(30, "u")
		importUsers(t, s, "c1", us, Outcome{})
		us[2].JobTitle = "Director"
		importUsers(t, s, "c1", us, Outcome{})
		before := snapshots(t, s)
		rows := userRows(t, s)
		for _, fail := range []Status{StatusFailed, StatusCancelled} {
			changed := testUsers(30, "u")
			for i := range changed {
				changed[i].Mail = "x" + changed[i].Mail
			}
			w := beginWithSKUs(t, s, "c1")
			if err := w.AddUsers(ctx, changed[:20]); err != nil {
				t.Fatal(err)
			}
			if _, err := w.UnmatchedConcealed(ctx, ReportActiveUsers); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Finish(ctx, Outcome{Status: fail, Err: errors.New("stopped")}); err != nil {
				t.Fatal(err)
			}
			if n := userRows(t, s); n != rows {
				t.Fatalf("%s run: %d rows, want %d", fail, n, rows)
			}
			sameSnapshots(t, s, before, string(fail)+" run")
		}
		// A run whose writer is dropped, marked failed as Open does
		// for a dead process (its rows are tidied by the next run).
		w := beginWithSKUs(t, s, "c1")
		changed := testUsers(30, "u")
		changed[0].Mail = "new@contoso.example"
		if err := w.AddUsers(ctx, changed); err != nil {
			t.Fatal(err)
		}
		w.mu.Lock()
		w.umu.Lock()
		if err := w.batch(ctx, "users", func() error { return w.killReplaced(ctx) }); err != nil {
			t.Fatal(err)
		}
		w.umu.Unlock()
		w.mu.Unlock()
		w.release()
		if err := s.interruptRuns(ctx, "id = ?", w.ID()); err != nil {
			t.Fatal(err)
		}
		sameSnapshots(t, s, before, "while the dead run's rows remain")
		if err := s.recover(ctx); err != nil {
			t.Fatal(err)
		}
		if n := userRows(t, s); n != rows {
			t.Fatalf("after tidying: %d rows, want %d", n, rows)
		}
		sameSnapshots(t, s, before, "after tidying")
		// And the next import starts from them as they were.
		r := importUsers(t, s, "c1", us, Outcome{})
		if n := userRows(t, s); n != rows {
			t.Fatalf("unchanged import after failures: %d rows, want %d", n, rows)
		}
		var last int64
		for id := range before {
			last = max(last, id)
		}
		if got := readBack(t, s, r.ID); !reflect.DeepEqual(got, before[last]) {
			t.Fatalf("the import after the failures reads differently from the snapshot before them")
		}
	})
}

// TestPruneDeletesUnsharedRows: pruning deletes the rows no kept
// snapshot shows, and only those.
func TestPruneDeletesUnsharedRows(t *testing.T) {
	forEachStore(t, Options{Keep: 2}, func(t *testing.T, s *Store) {
		us := testUsers(20, "u")
		importUsers(t, s, "c1", us, Outcome{})
		for i := 0; i < 4; i++ {
			us[i].JobTitle = fmt.Sprintf("Title %d", i)
			importUsers(t, s, "c1", us, Outcome{})
			kept := snapshots(t, s)
			if len(kept) != min(i+2, 2) {
				t.Fatalf("round %d: %d snapshots kept", i, len(kept))
			}
			// Each round replaced one user: the kept snapshots show 20 +
			// one replaced row, the older rows are gone.
			want := 21
			if n := userRows(t, s); n != want {
				t.Fatalf("round %d: %d rows, want %d", i, n, want)
			}
			sameSnapshots(t, s, kept, "after pruning")
		}
		// Deleting the connection deletes its users.
		if err := s.DeleteConnection(context.Background(), "c1", false); err != nil {
			t.Fatal(err)
		}
		if n := userRows(t, s); n != 0 {
			t.Fatalf("%d rows after the connection was deleted", n)
		}
	})
}

// TestIncrementalRunSharesUsers: an incremental run writes only the
// changed users and leaves the snapshot it started from as it was.
func TestIncrementalRunSharesUsers(t *testing.T) {
	forEachStore(t, Options{}, func(t *testing.T, s *Store) {
		ctx := context.Background()
		us := testUsers(30, "u")
		r1 := importUsers(t, s, "c1", us, Outcome{})
		before := snapshots(t, s)
		for round := 0; round < 2; round++ {
			w := beginWithSKUs(t, s, "c1")
			cur, _, err := s.SyncState(ctx, "c1")
			if err != nil {
				t.Fatal(err)
			}
			from := r1.ID
			if cur.RunID != 0 {
				from = cur.RunID
			}
			if err := w.BeginUserChanges(ctx, from); err != nil {
				t.Fatal(err)
			}
			up := us[4+round]
			up.Department = fmt.Sprintf("Changed %d", round)
			if err := w.ApplyUserChanges(ctx, []User{up}, []string{us[10+round].ID}); err != nil {
				t.Fatal(err)
			}
			// The same user changed again in a later batch of the run.
			up.JobTitle = "Twice"
			if err := w.ApplyUserChanges(ctx, []User{up}, nil); err != nil {
				t.Fatal(err)
			}
			if err := w.EndUserChanges(ctx); err != nil {
				t.Fatal(err)
			}
			r, err := w.Finish(ctx, Outcome{Status: StatusSucceeded, Sync: &SyncState{UsersDeltaLink: "d"}})
			if err != nil {
				t.Fatal(err)
			}
			if n := userRows(t, s); n != 31+round {
				t.Fatalf("round %d: %d rows, want %d", round, n, 31+round)
			}
			got := readBack(t, s, r.ID)
			if len(got) != 29-round || r.Counts.Users != 29-round {
				t.Fatalf("round %d: %d users read, %d counted", round, len(got), r.Counts.Users)
			}
			for _, u := range got {
				if u.ID == up.ID && (u.Department != up.Department || u.JobTitle != "Twice") {
					t.Fatalf("changed user reads %+v", u)
				}
				if u.ID == us[10+round].ID {
					t.Fatalf("removed user still there")
				}
			}
			sameSnapshots(t, s, before, "after an incremental run")
			before[r.ID] = got
		}
	})
}

// TestUpgradeToSharedUsers: a database of the build before sharing (one
// row per run and user) opens with every kept snapshot reading as it did,
// and the next import shares from the current one.
func TestUpgradeToSharedUsers(t *testing.T) {
	forEachStoreOpenSame(t, func(t *testing.T, open func() *Store) {
		ctx := context.Background()
		s := open()
		us := testUsers(25, "u")
		importUsers(t, s, "c1", us, Outcome{})
		us[1].Department = "Legal"
		importUsers(t, s, "c1", us, Outcome{})
		importUsers(t, s, "c2", us, Outcome{})
		us[2].Department = "Legal"
		importUsers(t, s, "c1", us, Outcome{})
		before := snapshots(t, s)
		if len(before) != 3 {
			t.Fatalf("%d snapshots", len(before))
		}
		toSchema2(t, s)
		if n := userRows(t, s); n != 100 {
			t.Fatalf("the old layout has %d rows, want 4 x 25", n)
		}
		s.Close()
		s = open()
		sameSnapshots(t, s, before, "after the upgrade")
		if n, err := s.CountUsers(ctx, "c2", Query{}); err != nil || n != 25 {
			t.Fatalf("c2 counts %d, %v", n, err)
		}
		r := importUsers(t, s, "c1", us, Outcome{})
		if n := userRows(t, s); n != 100 {
			t.Fatalf("unchanged import after the upgrade: %d rows (rows of older builds have no digest: one copy, then shared)", n)
		}
		before[r.ID] = readBack(t, s, r.ID)
		sameSnapshots(t, s, before, "after an import")
		r = importUsers(t, s, "c1", us, Outcome{})
		before[r.ID] = readBack(t, s, r.ID)
		sameSnapshots(t, s, before, "after two imports")
		// The two oldest c1 snapshots of the old build are pruned, and
		// with them their rows; the current one's 25 are shared now.
		if n := userRows(t, s); n != 25+25+25 {
			t.Fatalf("%d rows after pruning, want c2's 25, the upgraded current 25 (kept) and the shared 25", n)
		}
	})
}

// forEachStoreOpenSame runs fn for SQLite and PostgreSQL with an open
// that opens the same database again.
func forEachStoreOpenSame(t *testing.T, fn func(t *testing.T, open func() *Store)) {
	forEachStoreReopen(t, func(t *testing.T, open func(Options) *Store) {
		fn(t, func() *Store { return open(Options{}) })
	})
}

// forEachStoreReopen is forEachStoreOpenSame whose open takes the
// options (a test's clock, Keep).
func forEachStoreReopen(t *testing.T, fn func(t *testing.T, open func(Options) *Store)) {
	opener := func(t *testing.T, open func(Options) (*Store, error)) func(Options) *Store {
		return func(o Options) *Store {
			s, err := open(o)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	}
	ctx := context.Background()
	t.Run("sqlite", func(t *testing.T) {
		path := t.TempDir() + "/" + FileName
		fn(t, opener(t, func(o Options) (*Store, error) { return Open(ctx, path, o) }))
	})
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.NewDB(t)
		fn(t, opener(t, func(o Options) (*Store, error) { return OpenURL(ctx, url, o) }))
	})
}

// setSchemaVersion marks s's database as written by a build of schema v,
// as that build's migration left it: SQLite's user_version, PostgreSQL's
// beacon_schema.
func setSchemaVersion(t *testing.T, s *Store, v int) {
	t.Helper()
	st := fmt.Sprintf("PRAGMA user_version = %d", v)
	if s.pg {
		st = fmt.Sprintf("UPDATE beacon_schema SET version = %d", v)
	}
	if _, err := s.db.Exec(st); err != nil {
		t.Fatalf("%s: %v", st, err)
	}
}

// schemaVersionOf is the schema version s's database says it has.
func schemaVersionOf(t *testing.T, s *Store) int {
	t.Helper()
	var v int
	var err error
	if s.pg {
		v, err = pgSchemaVersion(context.Background(), s.db)
	} else {
		err = s.db.QueryRow("PRAGMA user_version").Scan(&v)
	}
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// toSchema2 rewrites s's users as the build before sharing kept them: a
// copy per kept snapshot under its run, no lineage, died or digest.
func toSchema2(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	cols := strings.Join(userColumns[1:len(userColumns)-2], ", ")
	runs, err := s.runIDs(ctx, "SELECT id FROM runs WHERE snapshot = ?", snapKept)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		in, err := usersOf(ctx, s.db, "", r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.Exec(fmt.Sprintf("INSERT INTO users (run_id, %s, lineage) SELECT %d, %s, 0 FROM users WHERE %s ORDER BY rowid",
			cols, r, cols, in)); err != nil {
			t.Fatal(err)
		}
	}
	stmts := []string{"DROP VIEW beacon_users", "DROP VIEW beacon_user_licenses", "DELETE FROM users WHERE lineage <> 0", "DROP INDEX users_alive",
		"ALTER TABLE users DROP COLUMN lineage", "ALTER TABLE users DROP COLUMN died", "ALTER TABLE users DROP COLUMN digest",
		"DROP TABLE lineages", "CREATE INDEX users_run ON users(run_id)"}
	for _, st := range stmts {
		if _, err := s.db.Exec(st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	setSchemaVersion(t, s, 2)
}

// TestExpiredDeltaListsAgain: an incremental run whose delta link expired
// discards its changes and lists every user; the listing shares the
// unchanged users like any full import, with no user twice.
func TestExpiredDeltaListsAgain(t *testing.T) {
	forEachStore(t, Options{}, func(t *testing.T, s *Store) {
		ctx := context.Background()
		us := testUsers(30, "u")
		r1 := importUsers(t, s, "c1", us, Outcome{})
		before := snapshots(t, s)
		w := beginWithSKUs(t, s, "c1")
		if err := w.BeginUserChanges(ctx, r1.ID); err != nil {
			t.Fatal(err)
		}
		up := us[3]
		up.Department = "Changed"
		if err := w.ApplyUserChanges(ctx, []User{up}, []string{us[4].ID}); err != nil {
			t.Fatal(err)
		}
		if err := w.DiscardUsers(ctx); err != nil {
			t.Fatal(err)
		}
		us[6].JobTitle = "Listed"
		if err := w.AddUsers(ctx, us); err != nil {
			t.Fatal(err)
		}
		r, err := w.Finish(ctx, Outcome{Status: StatusSucceeded})
		if err != nil {
			t.Fatal(err)
		}
		if n := userRows(t, s); n != 31 {
			t.Fatalf("%d rows, want 30 and the one changed", n)
		}
		got := readBack(t, s, r.ID)
		if len(got) != 30 || r.Counts.Users != 30 {
			t.Fatalf("%d users read, %d counted", len(got), r.Counts.Users)
		}
		for _, u := range got {
			if u.ID == us[3].ID && u.Department == "Changed" || u.ID == us[6].ID && u.JobTitle != "Listed" {
				t.Fatalf("user reads %+v", u)
			}
		}
		sameSnapshots(t, s, before, "after the listing")
	})
}
