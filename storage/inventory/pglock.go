package inventory

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"time"
)

// On PostgreSQL several beacons, on as many machines, share the store, so
// neither a lock file nor a process id says whether a connection is being
// imported. A run holds a session-level advisory lock keyed by its
// connection on its pinned database connection from BeginRun to Finish:
// a second beacon's BeginRun for the same connection finds it taken and
// returns an AlreadyRunningError naming the host; the server drops the
// lock when the importing process dies (its session ends), which is how
// Open tells a dead run from a live one on another machine.

// ErrAlreadyRunning is what an AlreadyRunningError wraps.
var ErrAlreadyRunning = errors.New("the connection is already being imported")

// AlreadyRunningError says another beacon is importing the connection.
type AlreadyRunningError struct {
	Host string // where the other run is ("" if its record was not found)
	PID  int
}

func (e *AlreadyRunningError) Error() string {
	if e.Host == "" {
		return "already running on another computer"
	}
	return fmt.Sprintf("already running on %s (process %d)", e.Host, e.PID)
}

func (e *AlreadyRunningError) Unwrap() error { return ErrAlreadyRunning }

// runLockKey is the advisory lock of a connection's runs.
func runLockKey(connID string) int64 {
	h := fnv.New64a()
	h.Write([]byte("beacon run\x00" + connID))
	return int64(h.Sum64())
}

// lockRun takes the connection's run lock on conn, or says who holds it.
func (s *Store) lockRun(ctx context.Context, conn *sql.Conn, connID string) error {
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock(?)", runLockKey(connID)).Scan(&got); err != nil {
		return err
	}
	if !got {
		var err error
		if got, err = s.takeFromTheDead(ctx, conn, connID); err != nil {
			return err
		}
	}
	if got {
		// Held now, so any run of the connection still marked running
		// is a dead beacon's: the next Open would say so; say it now.
		return s.interruptRuns(ctx, "connection_id = ?", connID)
	}
	e := &AlreadyRunningError{}
	err := conn.QueryRowContext(ctx, "SELECT host, pid FROM runs WHERE connection_id = ? AND status = ? ORDER BY id DESC LIMIT 1",
		connID, StatusRunning).Scan(&e.Host, &e.PID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return e
}

// sessionName is the application_name of a beacon's database sessions:
// the computer and the process they belong to.
func sessionName(host string, pid int) string {
	return fmt.Sprintf("inventory beacon %d on %s", pid, host)
}

// takeFromTheDead takes the connection's run lock from a beacon that died
// on this computer. The server ends a session when it next reads from or
// writes to its client, so a beacon killed in the middle of a long
// statement leaves its lock held until that statement ends: the next
// import would be turned away as "already running" by a process that no
// longer exists. A holder whose session names this computer and a process
// that is not running is ended (pg_terminate_backend; the server rolls
// its transaction back, as it would have anyway) and the lock taken once
// it is free. A holder on another computer, or a live process, is left
// alone; so is one this role may not end: got is then false.
func (s *Store) takeFromTheDead(ctx context.Context, conn *sql.Conn, connID string) (got bool, err error) {
	k := uint64(runLockKey(connID))
	rows, err := conn.QueryContext(ctx, `SELECT l.pid, a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND l.classid = ? AND l.objid = ? AND l.objsubid = 1 AND l.granted`, int64(k>>32), int64(k&0xffffffff))
	if err != nil {
		return false, err
	}
	var backends []int64
	for rows.Next() {
		var backend int64
		var app string
		if err := rows.Scan(&backend, &app); err != nil {
			rows.Close()
			return false, err
		}
		var pid int
		var host string
		if n, _ := fmt.Sscanf(app, "inventory beacon %d on %s", &pid, &host); n != 2 || sessionName(host, pid) != app ||
			host != s.host || processAlive(pid) {
			rows.Close()
			return false, rows.Err()
		}
		backends = append(backends, backend)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(backends) == 0 {
		return false, err
	}
	for _, b := range backends {
		var ended bool
		if err := conn.QueryRowContext(ctx, "SELECT pg_terminate_backend(?)", b).Scan(&ended); err != nil || !ended {
			return false, nil // not ours to end: say who holds it
		}
	}
	// Ending a session only signals it; the lock goes with the session.
	for range 100 {
		if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock(?)", runLockKey(connID)).Scan(&got); err != nil || got {
			return got, err
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return false, nil
}

// unlockRun gives the lock back before the pinned connection returns to
// the pool (which would keep the session, and the lock, open).
func (s *Store) unlockRun(conn *sql.Conn, connID string) {
	if _, err := conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(?)", runLockKey(connID)); err != nil {
		// The session is in doubt: close it rather than pool it locked.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}

// runLockHeld reports whether some session holds the connection's run
// lock (read from pg_locks: taking it to see would turn away a beacon
// starting that moment).
func (s *Store) runLockHeld(ctx context.Context, connID string) (bool, error) {
	k := uint64(runLockKey(connID))
	var held bool
	err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND classid = ? AND objid = ? AND objsubid = 1 AND granted)`, int64(k>>32), int64(k&0xffffffff)).Scan(&held)
	return held, err
}

// interruptedText is the error of a run whose importer died.
const interruptedText = "interrupted: the importing process ended before the run finished (it was killed, crashed or the computer stopped); the previous data was kept"

// interruptRuns marks the running runs matching where as failed.
func (s *Store) interruptRuns(ctx context.Context, where string, args ...any) error {
	_, err := s.db.ExecContext(ctx, "UPDATE runs SET status = ?, ended = ?, error = ? WHERE status = ? AND "+where,
		append([]any{StatusFailed, s.now().UnixNano(), interruptedText, StatusRunning}, args...)...)
	return err
}

// lockForRun takes the run lock of info's connection on a connection of
// its own, which the run then writes on (PostgreSQL; SQLite runs are
// locked by the service's lock file and this returns nil). A run that only
// records an import that did not happen takes no lock.
func (s *Store) lockForRun(ctx context.Context, info RunInfo) (*sql.Conn, error) {
	if !s.pg || info.RecordOnly {
		return nil, nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.lockRun(ctx, conn, info.ConnectionID); err != nil {
		var busy *AlreadyRunningError
		if !errors.As(err, &busy) {
			s.unlockRun(conn, info.ConnectionID)
		}
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// pinConn is the connection a run writes on: the one holding its lock, or
// a new one.
func (s *Store) pinConn(ctx context.Context, locked *sql.Conn) (*sql.Conn, error) {
	if locked != nil {
		return locked, nil
	}
	return s.db.Conn(ctx)
}

// releaseRunConn gives back the lock and connection of a run that could
// not begin.
func (s *Store) releaseRunConn(conn *sql.Conn, connID string) {
	if conn != nil {
		s.unlockRun(conn, connID)
		conn.Close()
	}
}

// historyLockKey is the lock promotions take turns with on PostgreSQL
// ("beaconHI").
const historyLockKey = 0x626561636f6e4849

// lockHistory makes the promotions of beacons finishing at the same
// moment write the history one after the other (PostgreSQL; SQLite has one
// writer anyway): each adds the names it meets (SKUs, users) to
// history_names, and two adding the same new names in different orders
// each waited for the other's row, so PostgreSQL failed one import with
// "deadlock detected". Held to the end of the promotion's transaction,
// which is short. The one-time back-fill takes it too (BackfillHistory).
func (s *Store) lockHistory(ctx context.Context, conn execer) error {
	if !s.pg {
		return nil
	}
	_, err := conn.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", int64(historyLockKey))
	return err
}
