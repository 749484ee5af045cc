package inventory

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/jackc/pgx/v5"
)

// On PostgreSQL the bulk inserts of staging (users, report rows, the
// users' last activity) are COPY ... FROM STDIN in binary: no statement
// of thousands of parameters to parse and plan for each page, and each
// value sent in its binary form. The rows are the same argument lists the
// SQLite path binds (bulk.go), read in place.

// copyInto is a COPY of rows into a table's columns.
type copyInto struct {
	table pgx.Identifier
	cols  []string
	row   []any // one row's values, reused: pgx encodes each row as it reads it
}

func newCopyInto(table string, cols []string) *copyInto {
	return &copyInto{table: pgx.Identifier{table}, cols: cols, row: make([]any, len(cols))}
}

// run copies args, len(cols) values a row, on the run's pinned connection
// (so inside the transaction batch began).
func (c *copyInto) run(ctx context.Context, w *RunWriter, args []driver.NamedValue) error {
	return w.conn.Raw(func(dc any) error {
		pc, ok := dc.(*pgConn)
		if !ok {
			return errors.New("inventory: COPY needs a PostgreSQL connection")
		}
		nc := len(c.cols)
		_, err := pc.Conn.Conn().CopyFrom(ctx, c.table, c.cols, pgx.CopyFromSlice(len(args)/nc, func(i int) ([]any, error) {
			for j := range c.row {
				v := args[i*nc+j].Value
				if b, ok := v.(bool); ok {
					v = boolInt(b)
				}
				c.row[j] = v
			}
			return c.row, nil
		}))
		return err
	})
}

// rowsPerInsert is how many rows of a batch one bulk insert carries:
// SQLite's tuned statement size, or on PostgreSQL the whole batch in one
// COPY (a statement's size does not matter there, its round trips do).
func (s *Store) rowsPerInsert(sqlite int) int {
	if s.pg {
		return 1 << 30
	}
	return sqlite
}
