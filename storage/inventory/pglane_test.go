package inventory

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"
)

// blockReports makes the next COPY into the Active Users report wait:
// another session holds a lock COPY's conflicts with. It returns the
// session, to roll back, and waits for the run's writer to be waiting
// for it, returning that backend's process id.
func blockReports(t *testing.T, s *Store) (*sql.Tx, func() int) {
	t.Helper()
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "LOCK TABLE report_active_users IN SHARE MODE"); err != nil {
		t.Fatal(err)
	}
	waiting := func() int {
		for {
			var pid int
			err := s.db.QueryRowContext(ctx, `SELECT pid FROM pg_locks WHERE NOT granted AND relation = 'report_active_users'::regclass`).Scan(&pid)
			if err == nil {
				return pid
			}
			if err != sql.ErrNoRows {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return tx, waiting
}

// On PostgreSQL the report rows go on a connection of their own: users
// are stored while a report batch waits for the server.
func TestPostgresReportsBesideUsers(t *testing.T) {
	ctx := context.Background()
	s := openPG(t, Options{})
	w := beginWithSKUs(t, s, "c1")
	lock, waiting := blockReports(t, s)
	reported := make(chan error, 1)
	go func() {
		reported <- w.AddReportRows(ctx, ReportActiveUsers, []ReportRow{activeRow("user0000@contoso.example", "2026-11-20", "2026-11-19")})
	}()
	waiting()
	stored := make(chan error, 1)
	go func() { stored <- w.AddUsers(ctx, testUsers(20, "u")) }()
	select {
	case err := <-stored:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute): // a hang, not a slow machine
		lock.Rollback()
		t.Fatal("storing users waited for the report batch")
	}
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-reported; err != nil {
		t.Fatal(err)
	}
	run, err := w.Finish(ctx, Outcome{Status: StatusSucceeded})
	if err != nil {
		t.Fatal(err)
	}
	if run.Counts.Users != 20 || run.Counts.ActiveUserRows != 1 {
		t.Fatalf("counts %+v, want 20 users and 1 report row", run.Counts)
	}
}

// A report connection lost mid-batch fails the import in the same words
// as the pinned connection's errors, and the failed run leaves no rows.
func TestPostgresReportConnectionLost(t *testing.T) {
	ctx := context.Background()
	s := openPG(t, Options{})
	w := beginWithSKUs(t, s, "c1")
	if err := w.AddUsers(ctx, testUsers(20, "u")); err != nil {
		t.Fatal(err)
	}
	lock, waiting := blockReports(t, s)
	defer lock.Rollback()
	reported := make(chan error, 1)
	go func() {
		reported <- w.AddReportRows(ctx, ReportActiveUsers, []ReportRow{activeRow("user0000@contoso.example", "2026-11-20", "2026-11-19")})
	}()
	if _, err := s.db.ExecContext(ctx, "SELECT pg_terminate_backend(?)", waiting()); err != nil {
		t.Fatal(err)
	}
	err := <-reported
	if err == nil || !strings.Contains(err.Error(), "write "+Report(ReportActiveUsers).Title+" report rows to the inventory database") {
		t.Fatalf("a lost connection gave %v", err)
	}
	lock.Rollback()
	run, ferr := w.Finish(ctx, Outcome{Status: StatusFailed, Err: err})
	if ferr != nil {
		t.Fatal(ferr)
	}
	if run.Status != StatusFailed {
		t.Fatalf("run %s, want failed", run.Status)
	}
	for _, tb := range snapshotTables() {
		var n int
		if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+tb+" WHERE run_id = ?", run.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			t.Errorf("the failed run left %d rows in %s", n, tb)
		}
	}
}
