package inventory

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

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
			row[j] = args[i*nc+j].Value
		}
	})
}

// pgCopy copies n rows into table's cols on conn, each filled in by fill
// as the COPY's data is sent: nothing of the rows is held beyond the one
// being encoded. The rows are encoded here in COPY's binary format
// rather than by pgx, which looked up an encoding plan for every value
// (0.46 s of the beacon's CPU in a 100,000-user import, of 12 million
// values); the values are the staging's few types, each with one form:
// int64 and bool (as 0 or 1) for BIGINT columns, string for TEXT, nil.
func pgCopy(ctx context.Context, conn *sql.Conn, table pgx.Identifier, cols []string, n int, fill func(i int, row []any)) error {
	var q strings.Builder
	q.WriteString("COPY " + table.Sanitize() + " (")
	for i, c := range cols {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(pgx.Identifier{c}.Sanitize())
	}
	q.WriteString(") FROM STDIN BINARY")
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	r := &copyStream{n: n, row: make([]any, len(cols)), fill: fill, buf: append((*buf)[:0], copyHeader...)}
	defer func() { *buf = r.buf[:0] }()
	return conn.Raw(func(dc any) error {
		pc, ok := dc.(*pgConn)
		if !ok {
			return errors.New("inventory: COPY needs a PostgreSQL connection")
		}
		_, err := pc.Conn.Conn().PgConn().CopyFrom(ctx, r, q.String())
		if rerr := r.end(); rerr != nil {
			return rerr
		}
		return err
	})
}

// copyHeader starts COPY's binary format: its signature, no flags, no
// header extension.
const copyHeader = "PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00"

// copyBufs are the encoding buffers of COPYs, for the next.
var copyBufs = sync.Pool{New: func() any { return new([]byte) }}

// copyStream is the binary COPY data of n rows, encoded as it is read.
//
// pgx reads it on a goroutine of its own, and when the connection fails
// (a server gone, a broken socket) CopyFrom returns without waiting for
// that goroutine, which may go on reading. So each Read holds mu, and
// end, called once CopyFrom has returned, marks the stream ended under
// it: a later Read touches neither the caller's rows (whose buffers the
// writer then reuses) nor buf (which goes back to copyBufs).
type copyStream struct {
	mu    sync.Mutex
	ended bool
	n, i  int
	row   []any
	fill  func(i int, row []any)
	buf   []byte
	off   int
	done  bool
	err   error // a value of a type COPY is not given here
}

// errCopyEnded is what a Read after end returns.
var errCopyEnded = errors.New("inventory: the COPY has ended")

// end stops the stream and returns the error a value gave, if any.
func (c *copyStream) end() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ended = true
	return c.err
}

func (c *copyStream) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return 0, errCopyEnded
	}
	for len(c.buf)-c.off < len(p) && !c.done {
		if c.off > 0 {
			c.buf = append(c.buf[:0], c.buf[c.off:]...)
			c.off = 0
		}
		if c.i == c.n {
			c.buf = binary.BigEndian.AppendUint16(c.buf, 0xffff) // the trailer
			c.done = true
			break
		}
		c.fill(c.i, c.row)
		c.i++
		c.buf = binary.BigEndian.AppendUint16(c.buf, uint16(len(c.row)))
		for _, v := range c.row {
			switch v := v.(type) {
			case nil:
				c.buf = binary.BigEndian.AppendUint32(c.buf, 0xffffffff)
			case int64:
				c.buf = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(c.buf, 8), uint64(v))
			case bool:
				c.buf = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(c.buf, 8), uint64(boolInt(v)))
			case string:
				c.buf = append(binary.BigEndian.AppendUint32(c.buf, uint32(len(v))), v...)
			default:
				c.err = fmt.Errorf("inventory: COPY cannot send a %T", v)
				return 0, c.err
			}
		}
	}
	n := copy(p, c.buf[c.off:])
	c.off += n
	if n == 0 && c.done {
		return 0, io.EOF
	}
	return n, nil
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
