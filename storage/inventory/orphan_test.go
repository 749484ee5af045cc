package inventory

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// noRowsLeft fails the test for each of tables holding rows x where the
// condition holds.
func noRowsLeft(t *testing.T, s *Store, tables []string, where, what string, args ...any) {
	t.Helper()
	for _, tb := range tables {
		var n int
		if err := s.db.QueryRow("SELECT COUNT(*) FROM "+tb+" x WHERE "+where, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			t.Errorf("%s: %d rows of %s", what, n, tb)
		}
	}
}

// orphanRows checks the rows of the tables filled per user or report row
// for any whose run is not recorded. On PostgreSQL no foreign key holds
// them to runs (bulkTables): each path deleting runs must delete their
// rows first, or keep the run.
func orphanRows(t *testing.T, s *Store, what string) {
	t.Helper()
	noRowsLeft(t, s, bulkTables(), "NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = x.run_id)", what+": rows whose run is gone")
}

// Snapshot rows never outlive their run: after pruning, a failed run, and
// deleting the connection while a run in progress still shows the report
// rows of a run none of whose users is left (that run stays until they
// go).
func TestNoRowsWithoutTheirRun(t *testing.T) {
	forEachStore(t, Options{Keep: 2}, func(t *testing.T, s *Store) {
		ctx := context.Background()
		var cur Run
		for i := range 4 {
			cur = importGood(t, s, "c1", 5, fmt.Sprintf("r%d", i))
			orphanRows(t, s, fmt.Sprintf("import %d, pruned to 2", i))
		}
		w := beginWithSKUs(t, s, "c1")
		if err := w.AddUsers(ctx, testUsers(3, "f")); err != nil {
			t.Fatal(err)
		}
		if err := w.AddReportRows(ctx, ReportActiveUsers, []ReportRow{activeRow("f0000@contoso.example", "2026-11-20", "2026-11-19")}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Finish(ctx, Outcome{Status: StatusFailed, Err: errors.New("the network went away")}); err != nil {
			t.Fatal(err)
		}
		orphanRows(t, s, "a failed run")

		// A run with users of its own showing cur's report rows: cur's
		// users are in no snapshot once cur's own is gone, its report
		// rows still are, in the run in progress below.
		g := beginWithSKUs(t, s, "c1")
		if err := g.AddUsers(ctx, testUsers(5, "g")); err != nil {
			t.Fatal(err)
		}
		if err := g.ShareReports(ctx, cur.ID); err != nil {
			t.Fatal(err)
		}
		gr, err := g.Finish(ctx, Outcome{Status: StatusSucceeded})
		if err != nil {
			t.Fatal(err)
		}
		w = beginWithSKUs(t, s, "c1")
		if err := w.ShareReports(ctx, gr.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteConnection(ctx, "c1", false); err != nil {
			t.Fatal(err)
		}
		orphanRows(t, s, "the connection deleted while a run shares its report rows")
		if _, err := w.Finish(ctx, Outcome{Status: StatusCancelled, Err: context.Canceled}); err != nil {
			t.Fatal(err)
		}
		orphanRows(t, s, "that run cancelled")
		if err := s.DeleteConnection(ctx, "c1", false); err != nil {
			t.Fatal(err)
		}
		orphanRows(t, s, "the connection deleted")
		noRowsLeft(t, s, bulkTables(), "1 = 1", "after the connection was deleted")
	})
}

// A database created before PostgreSQL's bulk tables lost their foreign
// keys to runs loses them when this build opens it, whatever PostgreSQL
// named them.
func TestPostgresBulkKeysDropped(t *testing.T) {
	ctx := context.Background()
	s := openPG(t, Options{})
	if keys, err := pgBulkKeys(ctx, s.db); err != nil || len(keys) > 0 {
		t.Fatalf("a new database has foreign keys %v from the bulk tables to runs (%v)", keys, err)
	}
	for i, tb := range bulkTables() {
		if _, err := s.db.ExecContext(ctx, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT old_key_%d FOREIGN KEY (run_id) REFERENCES runs(id)", tb, i)); err != nil {
			t.Fatal(err)
		}
	}
	if keys, err := pgBulkKeys(ctx, s.db); err != nil || len(keys) != len(bulkTables()) {
		t.Fatalf("the catalogue shows %v (%v), want a key per bulk table", keys, err)
	}
	if err := s.migratePG(ctx); err != nil { // what opening it again does
		t.Fatal(err)
	}
	if keys, err := pgBulkKeys(ctx, s.db); err != nil || len(keys) > 0 {
		t.Fatalf("opening left foreign keys %v (%v)", keys, err)
	}
	importGood(t, s, "c1", 5, "u")
}
