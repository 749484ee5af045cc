package inventory

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// Stale statements after another beacon changed the schema.
//
// pgx prepares every statement once per connection and keeps it (its
// statement cache). When a newer build migrates the database under a
// beacon that is running (the window left open while another computer
// updates), PostgreSQL re-plans those statements by itself, so a column
// added or a view recreated goes unnoticed; but a statement whose result
// columns changed type fails with "cached plan must not change result
// type" (SQLSTATE 0A000), once on every connection that had it, and pgx
// forgets that one statement. The store carries on instead:
//
//   - outside a transaction the statement runs again, prepared anew (the
//     failed one did nothing: the error comes before execution);
//   - inside one, which the error has aborted, the error says in plain
//     words what happened and what to do;
//   - every connection of the store that was open then is closed when it
//     is next handed back or reused (a generation count shared by the
//     store's connections), so the next transaction runs on a new
//     connection with no statement of the old tables, instead of meeting
//     the other stale statements one by one. Forgetting the statements
//     on the connection itself (DEALLOCATE ALL) would also drop those
//     a run writer prepared and still holds.
//
// A statement that names a column or table the newer build removed
// cannot carry on; its error says the same.

// pgStatements is the generation of the statements a store's connections
// may keep: a connection whose own generation is older forgets them.
type pgStatements struct {
	gen atomic.Int64
}

// isStalePlan reports whether err is PostgreSQL's refusal to run a
// prepared statement whose result type has changed.
func isStalePlan(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "0A000" && strings.Contains(pe.Message, "cached plan must not change result type")
}

// schemaChangedErr is err in plain words when it comes from tables
// changed under this beacon: a stale plan, or a column or table this
// build uses that is gone. A stale plan is a column whose type changed,
// which a newer build's migration does. A table or column that is gone
// has other causes than a newer build, each wanting something else of
// the admin, so the database is asked which one it is (whyMissing).
func (c *pgConn) schemaChangedErr(ctx context.Context, err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch {
	case isStalePlan(err):
		return newerBeaconErr(err)
	case pe.Code == "42703", pe.Code == "42P01": // undefined_column, undefined_table
		return c.whyMissing(ctx, err)
	}
	return err
}

func newerBeaconErr(err error) error {
	return fmt.Errorf("the inventory's tables changed while this Inventory Beacon was running (a newer Inventory Beacon upgraded the database): "+
		"try again; if it fails again, update this beacon to the same release and restart it (%w)", err)
}

// whyMissing is the error of a statement that named a table or column
// PostgreSQL did not find, saying why: a newer beacon's schema (its
// version is higher than this build's), the session's search_path no
// longer leading to the schema the inventory is in (the role's or the
// database's search_path changed, which new connections pick up), or
// tables removed from that schema by hand. It asks on a connection of
// its own, as the statement's may be in a transaction the error aborted.
func (c *pgConn) whyMissing(ctx context.Context, err error) error {
	generic := fmt.Errorf("a table or column this Inventory Beacon uses is missing from the PostgreSQL database: "+
		"a newer Inventory Beacon upgraded it (update this beacon), its search_path changed or its tables were removed (%w)", err)
	if c.side == nil {
		return generic
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	dc, cerr := c.side.Connect(ctx)
	if cerr != nil {
		return generic
	}
	defer dc.Close()
	conn := dc.(*stdlib.Conn).Conn()
	var (
		path, role, db string
		schema         *string // NULL when no schema of the path exists
		here           bool
	)
	if conn.QueryRow(ctx, `SELECT current_setting('search_path'), current_user, current_database(), current_schema(),
		to_regclass('beacon_schema') IS NOT NULL`).Scan(&path, &role, &db, &schema, &here) != nil {
		return generic
	}
	var elsewhere []string // the schemas holding an inventory
	rows, qerr := conn.Query(ctx, `SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relname = 'beacon_schema' AND c.relkind = 'r' AND n.oid <> COALESCE((SELECT relnamespace FROM pg_class WHERE oid = to_regclass('beacon_schema')), 0)
		ORDER BY 1`)
	if qerr != nil {
		return generic
	}
	for rows.Next() {
		var n string
		if rows.Scan(&n) != nil {
			rows.Close()
			return generic
		}
		elsewhere = append(elsewhere, n)
	}
	rows.Close()
	if rows.Err() != nil {
		return generic
	}
	cur := "(none)"
	if schema != nil {
		cur = pgIdent(*schema)
	}
	other := ""
	if len(elsewhere) > 0 {
		quoted := make([]string, len(elsewhere))
		for i, n := range elsewhere {
			quoted[i] = pgIdent(n)
		}
		other = strings.Join(quoted, ", ")
	}
	if !here {
		if other == "" {
			return fmt.Errorf("the inventory's tables are gone from the PostgreSQL database %s (no schema of it holds them any more): "+
				"someone removed them; restore them from a backup, or point this beacon at the database that holds them; "+
				"restarting the beacon starts an empty inventory here (%w)", db, err)
		}
		return fmt.Errorf("the inventory's tables are in schema %[1]s of the PostgreSQL database, which the search_path of this beacon's connections (%[2]s) "+
			"no longer leads to: the role's or the database's search_path changed; add search_path=%[1]s to the store's address "+
			"(postgres://…/DB?search_path=%[1]s) or run ALTER ROLE %[3]s SET search_path = %[1]s, then restart the beacon (%[4]w)", other, path, pgIdent(role), err)
	}
	var v int
	if conn.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM beacon_schema").Scan(&v) != nil {
		return generic
	}
	if v > schemaVersion {
		return fmt.Errorf("%w (%w)", &NewerSchemaError{Version: v}, err)
	}
	msg := fmt.Sprintf("a table or column of the inventory is missing from schema %s of the PostgreSQL database, whose tables are still of this release's version: "+
		"someone removed it; restore it from a backup", cur)
	if other != "" {
		msg += fmt.Sprintf(", or, if the inventory is the one in schema %[1]s, which the search_path (%[2]s) no longer starts with, "+
			"add search_path=%[1]s to the store's address or run ALTER ROLE %[3]s SET search_path = %[1]s", other, path, pgIdent(role))
	}
	return fmt.Errorf("%s (%w)", msg, err)
}

// old reports whether the connection was open when a stale plan was met
// on one of the store's connections.
func (c *pgConn) old() bool { return c.stmts != nil && c.stmts.gen.Load() != c.gen }

// IsValid keeps a connection out of the pool once it is old
// (database/sql closes it when handed back).
func (c *pgConn) IsValid() bool { return !c.old() }

// ResetSession turns away an old connection that waited in the pool,
// before it is reused.
func (c *pgConn) ResetSession(ctx context.Context) error {
	if c.old() {
		return driver.ErrBadConn
	}
	return c.Conn.ResetSession(ctx)
}

// retryStale handles an error of a statement: on a stale plan every
// connection open now is made old, and the statement runs again when no
// transaction is open (run), or the error says what happened.
func retryStale[T any](ctx context.Context, c *pgConn, err error, run func() (T, error)) (T, error) {
	var zero T
	if c.stmts == nil || !isStalePlan(err) {
		return zero, c.schemaChangedErr(ctx, err)
	}
	c.stmts.gen.Add(1)
	if c.Conn.Conn().PgConn().TxStatus() != 'I' {
		return zero, c.schemaChangedErr(ctx, err)
	}
	v, err := run()
	if err != nil {
		return zero, c.schemaChangedErr(ctx, err)
	}
	return v, nil
}
