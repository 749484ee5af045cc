package inventory

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// The store on PostgreSQL (issue 21) is the same Store, its SQL written
// once for SQLite: placeholders ?, ?NNN, integer flags. Rather than
// two copies of every query, the connections to PostgreSQL go through a
// thin wrapper of pgx's database/sql driver that rewrites what differs
// mechanically (rebind) and turns Go booleans into the integers the
// shared schema stores them as. What differs beyond that (the schema's
// types, the bulk staging, the locks) lives in the pg*.go files.

// IsPostgresURL reports whether a store location names a PostgreSQL
// database rather than an SQLite file.
func IsPostgresURL(location string) bool {
	l := strings.ToLower(location)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// RedactURL is location without its password, for messages, logs and the
// configuration file (the password belongs in the keyring).
func RedactURL(location string) string {
	u, err := url.Parse(location)
	if err != nil || u.User == nil {
		if err != nil {
			return "(a PostgreSQL address that cannot be read)"
		}
		return location
	}
	if _, has := u.User.Password(); has {
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	if q.Has("password") {
		q.Del("password")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// pgConnector opens pgx connections wrapped in pgConn.
type pgConnector struct {
	inner driver.Connector
	stmts *pgStatements
}

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc := &pgConn{Conn: dc.(*stdlib.Conn), stmts: c.stmts, side: c.inner}
	if c.stmts != nil {
		pc.gen = c.stmts.gen.Load()
	}
	return pc, nil
}

func (c pgConnector) Driver() driver.Driver { return c.inner.Driver() }

// openPostgres opens the database/sql handle of a PostgreSQL URL. Errors
// never show the password.
func openPostgres(location string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(location)
	if err != nil {
		return nil, fmt.Errorf("read the PostgreSQL address %s: %w", RedactURL(location), redactErr(err, location))
	}
	// Each session names its beacon, so a run lock left by a beacon that
	// died on this machine can be told from a live one (pglock.go). An
	// application_name the address sets is kept.
	if _, set := cfg.RuntimeParams["application_name"]; !set {
		if cfg.RuntimeParams == nil {
			cfg.RuntimeParams = map[string]string{}
		}
		host, _ := os.Hostname()
		cfg.RuntimeParams["application_name"] = sessionName(host, os.Getpid())
	}
	return sql.OpenDB(pgConnector{inner: stdlib.GetConnector(*cfg), stmts: &pgStatements{}}), nil
}

// redactErr is err with the URL's password, should it appear, masked.
func redactErr(err error, location string) error {
	if err == nil {
		return nil
	}
	pw := ""
	if u, perr := url.Parse(location); perr == nil {
		if p, ok := u.User.Password(); ok {
			pw = p
		} else {
			pw = u.Query().Get("password")
		}
	}
	if pw == "" || !strings.Contains(err.Error(), pw) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), pw, "xxxxx"))
}

// pgConn is a pgx connection that takes the store's SQLite-flavoured SQL.
type pgConn struct {
	*stdlib.Conn
	stmts *pgStatements    // the store's generation of statements (pgstale.go)
	gen   int64            // the generation this connection's statements are of
	side  driver.Connector // opens a connection to find out why a table is missing (pgstale.go)
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.Conn.PrepareContext(ctx, rebind(query))
	if err != nil {
		return nil, c.schemaChangedErr(ctx, err)
	}
	return pgStmt{st.(*stdlib.Stmt)}, nil
}

// pgStmt is a prepared statement taking booleans as integers, also from
// the bulk inserts, which call the driver directly.
type pgStmt struct {
	*stdlib.Stmt
}

func (s pgStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.Stmt.ExecContext(ctx, intFlags(args))
}

func (s pgStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.Stmt.QueryContext(ctx, intFlags(args))
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	query, args = rebind(query), intFlags(args)
	res, err := c.Conn.ExecContext(ctx, query, args)
	if err != nil {
		return retryStale(ctx, c, err, func() (driver.Result, error) { return c.Conn.ExecContext(ctx, query, args) })
	}
	return res, nil
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	query, args = rebind(query), intFlags(args)
	rows, err := c.Conn.QueryContext(ctx, query, args)
	if err != nil {
		return retryStale(ctx, c, err, func() (driver.Rows, error) { return c.Conn.QueryContext(ctx, query, args) })
	}
	return rows, nil
}

// CheckNamedValue stores booleans as the integers 0 and 1, as SQLite does
// (the schema is shared: flags are integer columns).
func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	if b, ok := nv.Value.(bool); ok {
		nv.Value = boolInt(b)
		return nil
	}
	return c.Conn.CheckNamedValue(nv)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// intFlags turns the booleans of args, which skipped CheckNamedValue
// (the bulk inserts call the driver directly), into integers.
func intFlags(args []driver.NamedValue) []driver.NamedValue {
	for i := range args {
		if b, ok := args[i].Value.(bool); ok {
			args[i].Value = boolInt(b)
		}
	}
	return args
}

// rebind rewrites SQLite's SQL for PostgreSQL:
//   - placeholders ? and ?NNN become $n and $NNN (outside quotes);
//   - the history's column user is quoted (a reserved word in
//     PostgreSQL, a plain name in SQLite, which the store's SQL never uses
//     as a keyword);
//   - INSERT OR IGNORE becomes ON CONFLICT DO NOTHING, INSERT OR REPLACE
//     an update of the row with the same key (replaceKeys);
//   - x COLLATE NOCASE is x with ASCII letters lower-cased, compared by
//     bytes: exactly SQLite's NOCASE (ICU's case-insensitive collations
//     order accents and punctuation differently, and may be missing);
//   - BEGIN IMMEDIATE is a plain BEGIN (PostgreSQL's writers lock rows,
//     not the file), LIMIT -1 (no limit) LIMIT ALL.
func rebind(q string) string {
	if q == "BEGIN IMMEDIATE" {
		return "BEGIN"
	}
	q = strings.ReplaceAll(q, "LIMIT -1", "LIMIT ALL")
	if strings.Contains(q, " COLLATE NOCASE") {
		q = reNoCase.ReplaceAllString(q, `translate($1, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') COLLATE "C"`)
	}
	suffix := ""
	if rest, ok := strings.CutPrefix(q, "INSERT OR IGNORE "); ok {
		q, suffix = "INSERT "+rest, " ON CONFLICT DO NOTHING"
	} else if rest, ok := strings.CutPrefix(q, "INSERT OR REPLACE "); ok {
		q, suffix = "INSERT "+rest, onConflictReplace(rest)
	}
	var b strings.Builder
	b.Grow(len(q) + len(suffix) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			j := strings.IndexByte(q[i+1:], c)
			if j < 0 {
				b.WriteString(q[i:])
				return b.String() + suffix
			}
			b.WriteString(q[i : i+j+2])
			i += j + 1
		case c == '?':
			j := i + 1
			for j < len(q) && isDigit(q[j]) {
				j++
			}
			b.WriteByte('$')
			if j > i+1 {
				b.WriteString(q[i+1 : j])
			} else {
				n++
				b.WriteString(strconv.Itoa(n))
			}
			i = j - 1
		case isWordByte(c):
			j := i + 1
			for j < len(q) && (isWordByte(q[j]) || isDigit(q[j])) {
				j++
			}
			if w := q[i:j]; w == "user" {
				b.WriteString(`"user"`)
			} else {
				b.WriteString(w)
			}
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String() + suffix
}

func isDigit(c byte) bool    { return '0' <= c && c <= '9' }
func isWordByte(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// replaceKeys are the keys of the tables the store writes with INSERT OR
// REPLACE.
var replaceKeys = map[string][]string{
	"history_tenant": {"conn", "day"},
	"history_skus":   {"conn", "day", "sku"},
	"history_meta":   {"key"},
}

var reNoCase = regexp.MustCompile(`([\w.]+) COLLATE NOCASE`)

var reInsertInto = regexp.MustCompile(`^INTO (\w+) \(([^)]*)\)`)

// onConflictReplace is the ON CONFLICT clause that makes an INSERT of
// "INTO table (columns) ..." replace the row with the same key.
func onConflictReplace(into string) string {
	m := reInsertInto.FindStringSubmatch(into)
	if m == nil {
		return ""
	}
	key := replaceKeys[m[1]]
	if key == nil {
		return ""
	}
	var set []string
	for _, c := range strings.Split(m[2], ",") {
		if c = strings.TrimSpace(c); !slices.Contains(key, c) {
			set = append(set, c+" = excluded."+c)
		}
	}
	if len(set) == 0 {
		return " ON CONFLICT (" + strings.Join(key, ", ") + ") DO NOTHING"
	}
	return " ON CONFLICT (" + strings.Join(key, ", ") + ") DO UPDATE SET " + strings.Join(set, ", ")
}
