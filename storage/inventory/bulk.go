package inventory

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Bulk inserts go to the SQLite driver directly, not through
// database/sql, for two measured reasons (100,000-user import):
//
//   - database/sql converts and copies every argument into a fresh
//     []driver.NamedValue per statement: 405 MB of garbage and 0.3 s of
//     CPU per import, for 16-row statements of 46 values each;
//   - the driver's Exec crosses from Go to C once per bound value
//     (~10 million crossings, 0.8 s), while its Query binds all values
//     and takes the first step in one crossing. An INSERT run as a query
//     inserts on that step and returns no row.
//
// The statements are prepared once per shape on the run's pinned
// connection and closed by Finish.

// bulkKey names one shape of multi-row INSERT.
type bulkKey struct {
	table string
	rows  int
}

// bulk is a prepared multi-row INSERT and its reused arguments.
type bulk struct {
	st   driver.Stmt
	args []driver.NamedValue
	// copy, on PostgreSQL, stages the rows with COPY instead (pgcopy.go).
	copy *copyInto
}

// add appends one argument.
func (b *bulk) add(v driver.Value) {
	b.args = append(b.args, driver.NamedValue{Ordinal: len(b.args) + 1, Value: v})
}

// lane is a connection the run writes on and its bulk statements: the
// run's pinned connection (mainLane), and on PostgreSQL a second one for
// the report rows (RunWriter.rep).
type lane struct {
	conn  *sql.Conn
	bulks map[bulkKey]*bulk
}

// mainLane is the run's pinned connection (mu held).
func (w *RunWriter) mainLane() lane { return lane{conn: w.conn, bulks: w.bulks} }

// bulkInsert returns the prepared INSERT of rows rows into table's cols
// on l, its arguments emptied.
func (w *RunWriter) bulkInsert(ctx context.Context, l lane, table string, cols []string, rows int) (*bulk, error) {
	k := bulkKey{table, rows}
	if b, ok := l.bulks[k]; ok {
		b.args = b.args[:0]
		return b, nil
	}
	if w.s.pg {
		b := &bulk{args: make([]driver.NamedValue, 0, rows*len(cols)), copy: newCopyInto(table, cols)}
		l.bulks[k] = b
		return b, nil
	}
	query := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " + valuesList(rows, len(cols))
	b := &bulk{args: make([]driver.NamedValue, 0, rows*len(cols))}
	err := l.conn.Raw(func(dc any) error {
		p, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return errors.New("inventory: the SQLite driver cannot prepare statements")
		}
		st, err := p.PrepareContext(ctx, query)
		b.st = st
		return err
	})
	if err != nil {
		return nil, err
	}
	if _, ok := b.st.(driver.StmtQueryContext); !ok {
		b.st.Close()
		return nil, fmt.Errorf("inventory: the SQLite driver's statements cannot run as queries")
	}
	l.bulks[k] = b
	return b, nil
}

// run executes the INSERT with the arguments added, on the lane's
// connection (so inside the transaction begun there).
func (b *bulk) run(ctx context.Context, l lane) error {
	return b.runArgs(ctx, l, b.args)
}

// runArgs executes the INSERT with args (numbered 1..n) instead.
func (b *bulk) runArgs(ctx context.Context, l lane, args []driver.NamedValue) error {
	if b.copy != nil {
		return b.copy.run(ctx, l.conn, args)
	}
	return l.conn.Raw(func(any) error {
		rows, err := b.st.(driver.StmtQueryContext).QueryContext(ctx, args)
		if err != nil {
			return err
		}
		for {
			if err := rows.Next(nil); err != nil {
				rows.Close()
				if err == io.EOF {
					return nil
				}
				return err
			}
		}
	})
}

// closeBulks closes the prepared INSERTs (Finish).
func (w *RunWriter) closeBulks() {
	_ = w.conn.Raw(func(any) error {
		for _, b := range w.bulks {
			if b.st != nil {
				b.st.Close()
			}
		}
		return nil
	})
	w.bulks = nil
	if w.rep != nil {
		// Its bulks are COPYs: nothing prepared. rep itself stays, for
		// a late call to find the run finished (repBatch).
		w.rep.conn.Close()
	}
}
