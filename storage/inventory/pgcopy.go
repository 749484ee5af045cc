package inventory

import (
	"context"
	"database/sql"
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
}

func newCopyInto(table string, cols []string) *copyInto {
	return &copyInto{table: pgx.Identifier{table}, cols: cols}
}

// run copies args, len(cols) values a row, on conn (so inside the
// transaction begun there, if any).
func (c *copyInto) run(ctx context.Context, conn *sql.Conn, args []driver.NamedValue) error {
	nc := len(c.cols)
	return pgCopy(ctx, conn, c.table, c.cols, len(args)/nc, func(i int, row []any) {
		for j := range row {
			v := args[i*nc+j].Value
			if b, ok := v.(bool); ok {
				v = boolInt(b)
			}
			row[j] = v
		}
	})
}

// pgCopy copies n rows into table's cols on conn, each filled in by fill
// as pgx reads it: nothing of the rows is held beyond the one being
// encoded.
func pgCopy(ctx context.Context, conn *sql.Conn, table pgx.Identifier, cols []string, n int, fill func(i int, row []any)) error {
	row := make([]any, len(cols)) // reused: pgx encodes each row as it reads it
	return conn.Raw(func(dc any) error {
		pc, ok := dc.(*pgConn)
		if !ok {
			return errors.New("inventory: COPY needs a PostgreSQL connection")
		}
		_, err := pc.Conn.Conn().CopyFrom(ctx, table, cols, pgx.CopyFromSlice(n, func(i int) ([]any, error) {
			fill(i, row)
			return row, nil
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
