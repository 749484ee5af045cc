package inventory

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"
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
// build uses that is gone.
func schemaChangedErr(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch {
	case isStalePlan(err), pe.Code == "42703", pe.Code == "42P01": // undefined_column, undefined_table
		return fmt.Errorf("the inventory's tables changed while this Inventory Beacon was running (a newer Inventory Beacon upgraded the database): "+
			"try again; if it fails again, update this beacon to the same release and restart it (%w)", err)
	}
	return err
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
func retryStale[T any](c *pgConn, err error, run func() (T, error)) (T, error) {
	var zero T
	if c.stmts == nil || !isStalePlan(err) {
		return zero, schemaChangedErr(err)
	}
	c.stmts.gen.Add(1)
	if c.Conn.Conn().PgConn().TxStatus() != 'I' {
		return zero, schemaChangedErr(err)
	}
	v, err := run()
	if err != nil {
		return zero, schemaChangedErr(err)
	}
	return v, nil
}
