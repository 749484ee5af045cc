package inventory

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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
	noRowsLeft(t, s, snapshotTables(), "x.run_id = ?", "the failed run's rows", run.ID)
}

// COPY's binary data as pgCopy encodes it: NULLs, booleans as 0 or 1,
// 64-bit integers, and text longer than what one read of the stream
// takes; a value of another type fails the COPY, saying so.
func TestPostgresCopyEncoding(t *testing.T) {
	ctx := context.Background()
	s := openPG(t, Options{})
	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "CREATE TABLE copy_check (n BIGINT, b BIGINT, t TEXT)"); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("Zoë ", 50_000) // 250,000 bytes
	rows := [][]any{{int64(-7), true, "a"}, {nil, false, nil}, {int64(1) << 62, nil, long}}
	fill := func(i int, row []any) { copy(row, rows[i]) }
	if err := pgCopy(ctx, conn, pgx.Identifier{"copy_check"}, []string{"n", "b", "t"}, len(rows), fill); err != nil {
		t.Fatal(err)
	}
	got, err := conn.QueryContext(ctx, "SELECT COALESCE(n, 0), COALESCE(b, -1), COALESCE(t, '') FROM copy_check ORDER BY n NULLS FIRST")
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	var read [][3]any
	for got.Next() {
		var n, b int64
		var tx string
		if err := got.Scan(&n, &b, &tx); err != nil {
			t.Fatal(err)
		}
		read = append(read, [3]any{n, b, tx})
	}
	want := [][3]any{{int64(0), int64(0), ""}, {int64(-7), int64(1), "a"}, {int64(1) << 62, int64(-1), long}}
	if len(read) != len(want) {
		t.Fatalf("%d rows read back, want %d", len(read), len(want))
	}
	for i := range want {
		if read[i] != want[i] {
			t.Errorf("row %d: %.40v, want %.40v", i, read[i], want[i])
		}
	}
	err = pgCopy(ctx, conn, pgx.Identifier{"copy_check"}, []string{"n", "b", "t"}, 1, func(_ int, row []any) { row[0], row[1], row[2] = 1.5, nil, nil })
	if err == nil || !strings.Contains(err.Error(), "cannot send a float64") {
		t.Fatalf("a float64 gave %v", err)
	}
}
