package inventory

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/cespare/xxhash/v2"
)

// Users are shared between a connection's snapshots instead of copied
// into each (issue 21, "Shrink the database"): a kept snapshot costs the
// users that changed, not the whole tenant again.
//
// Each users row is valid for a range of its connection's runs: from the
// run that staged it (run_id, "born") up to, not including, the run that
// replaced or removed it (died; alive, the largest integer, while no run
// has). Run ids grow across the whole database and one connection is
// never imported twice at once, so within a connection run order is id
// order, and the users of snapshot R are one range of the (lineage,
// died, run_id) index: lineage = L AND died > R AND run_id <= R. The
// lineage is a small integer per connection (the lineages table), so the
// index stays narrow.
//
// New rows (died = alive, born = the newest run) append at the right edge
// of their lineage's group, so staging still writes sequentially. A
// staged user whose stored columns hash to the digest of the previous
// snapshot's row for the same object id is not written at all; a changed
// one is written and the old row gets died = the staging run, which
// leaves it visible to the current snapshot (died > current) until the
// run is promoted. A run that fails deletes the rows it bore and sets
// died back to alive where it had set it to its own id. Pruning deletes
// the rows no kept snapshot sees any more (died <= the oldest kept run).
//
// Validity intervals instead of, say, a membership table (run, row):
// membership would still cost a row per user per snapshot, and an
// incremental run would copy all of them again.

// alive is the died of a row no run has replaced.
const alive = math.MaxInt64

// usersIn is the condition selecting the users of snapshot run of
// lineage (columns prefixed by alias, e.g. "u."). The numbers are the
// store's own, so they are written into the statement: the condition is
// used in many statements with arguments of their own.
func usersIn(alias string, lineage, run int64) string {
	return fmt.Sprintf("%[1]slineage = %[2]d AND %[1]sdied > %[3]d AND %[1]srun_id <= %[3]d", alias, lineage, run)
}

// usersBornIn is the condition selecting the users run staged itself
// (still alive: a run replaces its own rows by deleting them).
func usersBornIn(alias string, lineage, run int64) string {
	return fmt.Sprintf("%[1]slineage = %[2]d AND %[1]sdied = %[3]d AND %[1]srun_id = %[4]d", alias, lineage, int64(alive), run)
}

// usersDiedIn is the condition selecting the rows run marked died: the
// previous versions of the users it replaced or removed.
func usersDiedIn(alias string, lineage, run int64) string {
	return fmt.Sprintf("%[1]slineage = %[2]d AND %[1]sdied = %[3]d", alias, lineage, run)
}

// lineageOf is the lineage of run's connection (0 when it has none yet:
// its users are none).
func lineageOf(ctx context.Context, q querier, run int64) (int64, error) {
	var l int64
	err := q.QueryRowContext(ctx, `SELECT l.id FROM runs r JOIN lineages l ON l.connection_id = r.connection_id WHERE r.id = ?`, run).Scan(&l)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read the lineage of run %d: %w", run, err)
	}
	return l, nil
}

// usersOf is usersIn for run, its lineage read from the database.
func usersOf(ctx context.Context, q querier, alias string, run int64) (string, error) {
	l, err := lineageOf(ctx, q, run)
	if err != nil {
		return "", err
	}
	return usersIn(alias, l, run), nil
}

// usersInRowidOrder is usersIn for a read in rowid order (the order the
// users were staged, "Graph order"): the unary pluses keep SQLite from
// the index, whose range is not in rowid order and would have every
// selected row sorted in memory (the licensed users of 1,000,000: 300 MB
// more at the end of an import); it scans the table in rowid order
// instead, and a page stops at its last row.
func usersInRowidOrder(alias string, lineage, run int64) string {
	return fmt.Sprintf("+%[1]slineage = %[2]d AND +%[1]sdied > %[3]d AND +%[1]srun_id <= %[3]d", alias, lineage, run)
}

// usersOfRowidOrder is usersInRowidOrder for run.
func usersOfRowidOrder(ctx context.Context, q querier, alias string, run int64) (string, error) {
	l, err := lineageOf(ctx, q, run)
	if err != nil {
		return "", err
	}
	return usersInRowidOrder(alias, l, run), nil
}

// connectionLineage is the lineage of connID, made on its first run.
func connectionLineage(ctx context.Context, q execer, connID string) (int64, error) {
	if _, err := q.ExecContext(ctx, `INSERT INTO lineages (connection_id) VALUES (?) ON CONFLICT (connection_id) DO NOTHING`, connID); err != nil {
		return 0, err
	}
	var l int64
	err := q.QueryRowContext(ctx, `SELECT id FROM lineages WHERE connection_id = ?`, connID).Scan(&l)
	return l, err
}

// userDigest hashes a user's stored columns as bound for the INSERT (all
// but run_id and the sharing columns): two rows with the same digest
// store the same user. It must not depend on the process (it is stored),
// so it is xxhash, not maphash.
func userDigest(d *xxhash.Digest, vals []driver.NamedValue) int64 {
	d.Reset()
	var n [9]byte
	for _, nv := range vals {
		switch v := nv.Value.(type) {
		case nil:
			n[0] = 0
			d.Write(n[:1])
		case bool:
			n[0] = 1
			if v {
				n[0] = 2
			}
			d.Write(n[:1])
		case int64:
			n[0] = 3
			for i := 0; i < 8; i++ {
				n[1+i] = byte(v >> (8 * i))
			}
			d.Write(n[:])
		case string:
			l := len(v)
			n[0] = 4
			for i := 0; i < 8; i++ {
				n[1+i] = byte(l >> (8 * i))
			}
			d.Write(n[:])
			d.WriteString(v)
		default:
			s := fmt.Sprint(v)
			n[0] = 5
			d.Write(n[:1])
			d.WriteString(s)
		}
	}
	return int64(d.Sum64())
}

// dropUsers is dropSnapshot's part for the users (in its transaction):
// a run that never became a snapshot takes back what it staged, and the
// rows no kept snapshot of the connection sees any more go.
func dropUsers(ctx context.Context, tx *sql.Tx, runID int64, staging bool) error {
	var conn string
	var lineage sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT r.connection_id, l.id FROM runs r LEFT JOIN lineages l ON l.connection_id = r.connection_id
		WHERE r.id = ?`, runID).Scan(&conn, &lineage)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !lineage.Valid {
		return nil
	}
	if err != nil {
		return err
	}
	l := lineage.Int64
	if staging {
		if _, err := tx.ExecContext(ctx, "DELETE FROM users WHERE "+usersBornIn("", l, runID)); err != nil {
			return fmt.Errorf("delete the users staged by run %d: %w", runID, err)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET died = ? WHERE lineage = ? AND died = ?", int64(alive), l, runID); err != nil {
			return fmt.Errorf("restore the users replaced by run %d: %w", runID, err)
		}
	}
	// The oldest snapshot still kept (or run still staging, which sees
	// the alive rows): rows that died at or before it are seen by none.
	var oldest sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MIN(id) FROM runs WHERE connection_id = ? AND id <> ? AND snapshot IN (?, ?)`,
		conn, runID, snapKept, snapStaging).Scan(&oldest); err != nil {
		return err
	}
	if !oldest.Valid {
		_, err = tx.ExecContext(ctx, "DELETE FROM users WHERE lineage = ?", l)
	} else {
		_, err = tx.ExecContext(ctx, "DELETE FROM users WHERE lineage = ? AND died <= ?", l, oldest.Int64)
	}
	if err != nil {
		return fmt.Errorf("delete the users no kept snapshot shows: %w", err)
	}
	return nil
}

// migrateShared brings the users of a database from before sharing
// (schema 2: one row per run and user) to validity intervals: each row
// gets its run's lineage, and died = alive for the connection's current
// snapshot (and for staging runs, which tidying removes), else the next
// kept run of the connection, so it stays visible to its own snapshot
// alone. Old rows are not merged; pruning removes them in time.
func migrateShared(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO lineages (connection_id)
		SELECT DISTINCT connection_id FROM runs WHERE connection_id NOT IN (SELECT connection_id FROM lineages) ORDER BY connection_id`); err != nil {
		return fmt.Errorf("number the connections: %w", err)
	}
	type old struct {
		id, lineage, died int64
	}
	rows, err := tx.QueryContext(ctx, `SELECT r.id, l.id, CASE WHEN r.snapshot = ? OR EXISTS (SELECT 1 FROM current c WHERE c.run_id = r.id) THEN ?
		ELSE COALESCE((SELECT MIN(n.id) FROM runs n WHERE n.connection_id = r.connection_id AND n.id > r.id AND n.snapshot = ?), r.id + 1) END
		FROM runs r JOIN lineages l ON l.connection_id = r.connection_id
		WHERE r.snapshot IN (?, ?) AND EXISTS (SELECT 1 FROM users u WHERE u.run_id = r.id AND u.lineage = 0)`,
		snapStaging, int64(alive), snapKept, snapKept, snapStaging)
	if err != nil {
		return fmt.Errorf("read the snapshots to share users between: %w", err)
	}
	var runs []old
	for rows.Next() {
		var o old
		if err := rows.Scan(&o.id, &o.lineage, &o.died); err != nil {
			rows.Close()
			return err
		}
		runs = append(runs, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, o := range runs {
		if _, err := tx.ExecContext(ctx, "UPDATE users SET lineage = ?, died = ? WHERE run_id = ?", o.lineage, o.died, o.id); err != nil {
			return fmt.Errorf("share the users of run %d: %w", o.id, err)
		}
	}
	for _, st := range []string{`DROP INDEX IF EXISTS users_run`, `CREATE INDEX IF NOT EXISTS users_alive ON users(lineage, died, run_id)`} {
		if _, err := tx.ExecContext(ctx, st); err != nil {
			return err
		}
	}
	return nil
}

// sharedColumns are the users' columns of sharing, added to older
// databases (SQLite's addColumn, PostgreSQL's pgAddedColumns).
var sharedColumns = [][2]string{
	{"lineage", "INTEGER NOT NULL DEFAULT 0"},
	{"died", "INTEGER NOT NULL DEFAULT 9223372036854775807"},
	{"digest", "INTEGER NOT NULL DEFAULT 0"},
}

// userDigest is userDigest of vals, one user's columns (umu held).
func (w *RunWriter) userDigest(vals []driver.NamedValue) int64 { return userDigest(w.digest, vals) }

// seedPlans starts the run's plan dictionary from the previous run's, so
// that the indices in the rows it shares keep their meaning (umu held,
// the previous snapshot read). Its entries are inserted with the first
// batch, like any new entry.
func (w *RunWriter) seedPlans() {
	if w.seeded {
		return
	}
	w.seeded = true
	if w.hist.err != nil {
		return // nothing compared, nothing shared
	}
	for i, k := range w.hist.dict {
		w.plans.index[k] = i
		w.plans.entries = append(w.plans.entries, k)
		w.plans.fresh = append(w.plans.fresh, i)
	}
}

// killReplaced marks the previous snapshot's rows this run replaced
// (kills), and, once a full listing is complete, those it did not list,
// as died in this run (umu held, in a batch). They stay visible to the
// current snapshot until this run is promoted.
func (w *RunWriter) killReplaced(ctx context.Context) error {
	<-w.hist.done
	if !w.unseenKilled && !w.hist.delta {
		w.unseenKilled = true
		if w.hist.err != nil {
			// Nothing was compared, so nothing was shared.
			if _, err := w.conn.ExecContext(ctx, "UPDATE users SET died = ? WHERE lineage = ? AND died = ? AND run_id < ?",
				w.id, w.lineage, int64(alive), w.id); err != nil {
				return fmt.Errorf("mark the previous users replaced: %w", err)
			}
		} else {
			for i, p := range w.hist.prev {
				if !w.hist.seen[i] {
					w.kills = append(w.kills, p.row)
				}
			}
		}
	}
	if len(w.kills) == 0 {
		return nil
	}
	list, err := json.Marshal(w.kills)
	if err != nil {
		return err
	}
	// Both stores find the rows by rowid (PostgreSQL's users_rowid,
	// pgIndexes).
	if _, err := w.conn.ExecContext(ctx, "UPDATE users SET died = ? WHERE rowid IN (SELECT CAST(value AS BIGINT) FROM json_each(?)) AND died = ?",
		w.id, string(list), int64(alive)); err != nil {
		return fmt.Errorf("mark the previous users replaced: %w", err)
	}
	w.kills = w.kills[:0]
	return nil
}

// beginLineage is the lineage of the connection info imports. A run of
// it that failed without giving its rows back (its tidying failed too)
// would show them to the new run: they go first.
func (s *Store) beginLineage(ctx context.Context, info RunInfo) (int64, error) {
	l, err := connectionLineage(ctx, s.db, info.ConnectionID)
	if err != nil || info.RecordOnly {
		return l, err
	}
	ids, err := s.runIDs(ctx, "SELECT id FROM runs WHERE connection_id = ? AND snapshot = ? AND status <> ?", info.ConnectionID, snapStaging, StatusRunning)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := s.dropSnapshot(ctx, id); err != nil {
			return 0, err
		}
	}
	return l, nil
}
