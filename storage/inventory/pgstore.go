package inventory

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/jackc/pgx/v5/pgconn"
)

// OpenLocation opens the store a location names: a postgres:// URL (a
// shared inventory on PostgreSQL), an SQLite file's path, or, when empty,
// inventory.db in the configuration directory (the default).
func OpenLocation(ctx context.Context, location, configDir string, opts Options) (*Store, error) {
	switch {
	case location == "":
		return OpenDir(ctx, configDir, opts)
	case IsPostgresURL(location):
		return OpenURL(ctx, location, opts)
	default:
		return Open(ctx, location, opts)
	}
}

// OpenURL opens the inventory in the PostgreSQL database at location
// (postgres://user@host/db?sslmode=...; a password may be in the URL, in
// PGPASSWORD or in PGPASSFILE), creating or updating its tables in the
// session's current schema (search_path=SCHEMA in the URL chooses it). A
// database written by a newer build is refused. Several beacons, on one
// machine or many, may use the same database at once.
//
// What the SQLite store checks about its file (damage, a full disk, a
// read-only file) is PostgreSQL's own business here: its errors are
// returned as they come, without the password.
func OpenURL(ctx context.Context, location string, opts Options) (*Store, error) {
	if opts.Keep <= 0 {
		opts.Keep = DefaultKeep
	}
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	db, err := openPostgres(location)
	if err != nil {
		return nil, err
	}
	where := RedactURL(location)
	host, _ := os.Hostname()
	s := &Store{db: db, path: where, keep: opts.Keep, now: opts.Now, host: host, pg: true}
	fail := func(what string, err error) (*Store, error) {
		db.Close()
		return nil, fmt.Errorf("%s the inventory database %s: %w", what, where, redactErr(err, location))
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = db.PingContext(pctx)
	cancel()
	if err != nil {
		return fail("connect to", fmt.Errorf("%w (check the address, that the server runs and that it lets this user in)", err))
	}
	if err := s.migratePG(ctx); err != nil {
		return fail("open", err)
	}
	if err := s.recover(ctx); err != nil {
		return fail("tidy up", err)
	}
	return s, nil
}

// Postgres reports whether the store is a PostgreSQL database.
func (s *Store) Postgres() bool { return s.pg }

// schemaLockKey is the advisory lock that makes two beacons opening a new
// database at once create its tables one after the other (pg_advisory
// locks share one space of 64-bit keys per database: "beaconSC").
const schemaLockKey = 0x626561636f6e5343

// pgAddedColumns are the columns migrate adds to older SQLite files after
// creating the tables (addColumn); a PostgreSQL database gets them the
// same way, so both stores have the same columns (TestPostgresSchemaLikeSQLite
// holds them together).
var pgAddedColumns = [][3]string{
	{"runs", "mode", "TEXT NOT NULL DEFAULT ''"},
	{"runs", "reports_run", "INTEGER NOT NULL DEFAULT 0"},
	{"runs", "activity_run", "INTEGER NOT NULL DEFAULT 0"},
	{"users", "name_key", "TEXT NOT NULL DEFAULT ''"},
	{"users", "user_type", "TEXT NOT NULL DEFAULT ''"},
	{"users", "license_states", "TEXT NOT NULL DEFAULT ''"},
	{"runs", "sign_ins", "TEXT NOT NULL DEFAULT ''"},
	{"runs", "activity_as_of", "TEXT NOT NULL DEFAULT ''"},
	{"runs", "reports_refresh", "TEXT NOT NULL DEFAULT ''"},
}

// migratePG brings a PostgreSQL database to this build's schema, in one
// transaction under schemaLockKey. The version is in beacon_schema
// (PostgreSQL has no PRAGMA user_version); a database at it is left alone,
// a newer one refused.
func (s *Store) migratePG(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", int64(schemaLockKey)); err != nil {
		return err
	}
	v, err := pgSchemaVersion(ctx, tx)
	if err != nil {
		return err
	}
	if v > schemaVersion {
		return fmt.Errorf("the database was written by a newer Inventory Beacon (schema %d, this build knows %d); update the app on this computer", v, schemaVersion)
	}
	views := viewsDigest()
	if v == schemaVersion {
		var have string
		if err := tx.QueryRowContext(ctx, "SELECT views FROM beacon_schema").Scan(&have); err != nil {
			return err
		}
		ok, err := pgHasIndexes(ctx, tx)
		if err != nil {
			return err
		}
		keys, err := pgBulkKeys(ctx, tx)
		if err != nil {
			return err
		}
		if have == views && ok && len(keys) == 0 {
			return tx.Commit()
		}
	}
	// Columns earlier builds lacked whose values are filled in once,
	// as SQLite's migration does (an empty new database fills nothing).
	missingKey, err := pgMissingColumn(ctx, tx, "users", "name_key")
	if err != nil {
		return err
	}
	missingAsOf, err := pgMissingColumn(ctx, tx, "runs", "activity_as_of")
	if err != nil {
		return err
	}
	stmts := append(pgCompat(), pgDDL(schemaStatements())...)
	for _, c := range pgAddedColumns {
		stmts = append(stmts, pgType(fmt.Sprintf("ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s %s", c[0], c[1], c[2])))
	}
	for _, c := range sharedColumns {
		stmts = append(stmts, pgType(fmt.Sprintf("ALTER TABLE users ADD COLUMN IF NOT EXISTS %s %s", c[0], c[1])))
	}
	for _, x := range pgIndexes {
		stmts = append(stmts, x[1])
	}
	// analyze samples 3,000 rows for the run ids (a handful of values)
	// instead of 30,000.
	for _, t := range finishedTables() {
		stmts = append(stmts, "ALTER TABLE "+t+" ALTER COLUMN run_id SET STATISTICS 10")
	}
	// Who creates, and where: for an error that says what grant is missing.
	var role, schema string
	if err := tx.QueryRowContext(ctx, "SELECT current_user, COALESCE(current_schema(), '')").Scan(&role, &schema); err != nil {
		return err
	}
	for _, st := range stmts {
		if _, err := tx.ExecContext(ctx, st); err != nil {
			return pgCreateErr(err, role, schema)
		}
	}
	if err := migrateShared(ctx, tx); err != nil {
		return err
	}
	if err := pgDropBulkKeys(ctx, tx); err != nil {
		return err
	}
	if missingKey {
		if err := fillNameKey(ctx, tx); err != nil {
			return err
		}
	}
	if missingAsOf {
		if err := fillActivityAsOf(ctx, tx); err != nil {
			return err
		}
	}
	// The BI views, as in SQLite: dropped and made again over the tables
	// as they are now (PostgreSQL cannot replace a view whose columns
	// changed).
	old, err := pgViews(ctx, tx)
	if err != nil {
		return err
	}
	grants, err := pgViewGrants(ctx, tx)
	if err != nil {
		return err
	}
	for _, n := range old {
		if _, err := tx.ExecContext(ctx, `DROP VIEW IF EXISTS "`+n+`"`); err != nil {
			return fmt.Errorf("drop view %s: %w", n, err)
		}
	}
	if err := createViews(ctx, tx); err != nil {
		return err
	}
	for _, st := range grants {
		if _, err := tx.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("keep the BI views' grants (%s): %w", st, err)
		}
	}
	for _, st := range []string{`CREATE TABLE IF NOT EXISTS beacon_schema (version INTEGER NOT NULL, views TEXT NOT NULL)`,
		`DELETE FROM beacon_schema`} {
		if _, err := tx.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO beacon_schema (version, views) VALUES (?, ?)`, schemaVersion, views); err != nil {
		return err
	}
	return tx.Commit()
}

// pgIndexes are PostgreSQL's indexes beyond migrate's (name, statement).
// SQLite's rowid is the table's key; PostgreSQL's rowid column needs an
// index to find users by it, as the Users page's search index reads its
// page of 200 and an incremental run marks the rows it replaced (without
// it, both scan the table). It takes no new schema version, which would
// lock older builds out: an older build of schema 3 opening a database
// with it has no statement it breaks (PostgreSQL keeps it up to date on
// that build's inserts, and the only index that build drops is
// users_run), so both keep working on one database; a database from such
// a build gets it when this build opens it (pgHasIndexes), once. The
// rowids come from the column's sequence, so inserts add to the index's
// right edge.
var pgIndexes = [][2]string{
	{"users_rowid", "CREATE INDEX IF NOT EXISTS users_rowid ON users(rowid)"},
}

// pgCreateErr is the error of a statement creating the schema, in plain
// words when the role lacks a right to it. The beacon's tables, functions
// and views go into the first schema of the session's search_path: by
// default the role's namesake schema if there is one, else public, where
// PostgreSQL 15 and later let only the database's owner create.
func pgCreateErr(err error, role, schema string) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return fmt.Errorf("create schema: %w", err)
	}
	const own = "ask the database administrator for a schema of the beacon's own (CREATE SCHEMA beacon AUTHORIZATION %[1]s;) " +
		"and add search_path=beacon to the address (postgres://…/DB?search_path=beacon), or run ALTER ROLE %[1]s SET search_path = beacon"
	role, schema = pgIdent(role), pgIdent(schema)
	switch pe.Code {
	case "3F000": // invalid_schema_name: no schema of the search path exists
		return fmt.Errorf("no schema of the search path exists for the PostgreSQL role %s to create the inventory's tables in; "+own+" (%w)", role, err)
	case "42501": // insufficient_privilege
		return fmt.Errorf("the PostgreSQL role %[1]s may not create or change the inventory's tables, functions and views in schema %[2]s; "+
			own+", or GRANT CREATE ON SCHEMA %[2]s TO %[1]s; a database created by an earlier beacon under another role needs that role (%[3]w)", role, schema, err)
	}
	return fmt.Errorf("create schema: %w", err)
}

// reBareIdent is a PostgreSQL name that reads the same unquoted.
var reBareIdent = regexp.MustCompile(`^[a-z_][a-z0-9_$]*$`)

// pgIdent is name as the SQL an error tells the admin to run must spell
// it: quoted when it has capitals or other characters (a role
// "Beacon", or "beacon@contoso.example" as Entra ID roles are named),
// which PostgreSQL would otherwise fold or refuse.
func pgIdent(name string) string {
	if reBareIdent.MatchString(name) {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// pgMissingColumn reports whether the schema lacks table.column (also
// when it lacks the table).
func pgMissingColumn(ctx context.Context, tx *sql.Tx, table, column string) (bool, error) {
	var has bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?)`, table, column).Scan(&has)
	return !has, err
}

// pgHasIndexes reports whether the database has pgIndexes. Asking the
// catalogue takes no lock on the tables, where CREATE INDEX IF NOT EXISTS
// would wait for any import writing to them.
func pgHasIndexes(ctx context.Context, tx *sql.Tx) (bool, error) {
	for _, x := range pgIndexes {
		var has bool
		if err := tx.QueryRowContext(ctx, "SELECT to_regclass(?) IS NOT NULL", x[0]).Scan(&has); err != nil || !has {
			return false, err
		}
	}
	return true, nil
}

// viewsDigest stands for this build's view definitions: a database whose
// views another build made gets this build's.
func viewsDigest() string {
	h := sha256.New()
	for _, v := range biViews() {
		fmt.Fprintf(h, "%s\x00%s\x00", v.name, v.sel)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// pgViews lists the beacon_ views of the database.
func pgViews(ctx context.Context, tx *sql.Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT viewname FROM pg_views WHERE schemaname = current_schema() AND viewname LIKE 'beacon\_%'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// pgSchemaVersion is the version in beacon_schema, 0 for a database
// without one (a new, empty one).
func pgSchemaVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var has bool
	if err := q.QueryRowContext(ctx, "SELECT to_regclass('beacon_schema') IS NOT NULL").Scan(&has); err != nil || !has {
		return 0, err
	}
	var v int
	err := q.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM beacon_schema").Scan(&v)
	return v, err
}

// pgCompat are the SQLite functions and collation the shared queries use,
// made in PostgreSQL so those queries run unchanged. They go, as the
// tables do, into the session's current schema (the first of its
// search_path), which may be the beacon's own schema rather than public:
// nothing here names a schema, and the operator is looked for in that
// schema only, since another beacon's schema in the same database is not
// on this one's search_path.
func pgCompat() []string {
	return []string{
		`CREATE OR REPLACE FUNCTION instr(text, text) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT strpos($1, $2)'`,
		// sum(condition) counts the rows where it holds, as in SQLite
		// (whose conditions are 0 or 1).
		`CREATE OR REPLACE FUNCTION beacon_count_true(bigint, boolean) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
			AS 'SELECT $1 + CASE WHEN $2 THEN 1 ELSE 0 END'`,
		`CREATE OR REPLACE AGGREGATE sum(boolean) (sfunc = beacon_count_true, stype = bigint, initcond = '0')`,
		// The views' dates: SQLite's strftime and date of Unix seconds
		// ('unixepoch'), in UTC, for the formats the views use.
		`CREATE OR REPLACE FUNCTION strftime(text, bigint, text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
			AS $f$SELECT CASE $1 WHEN '%Y-%m-%dT%H:%M:%SZ' THEN to_char(to_timestamp($2) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
				WHEN '%Y-%m-%d' THEN to_char(to_timestamp($2) AT TIME ZONE 'UTC', 'YYYY-MM-DD') END$f$`,
		`CREATE OR REPLACE FUNCTION date(bigint, text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
			AS $f$SELECT to_char(to_timestamp($1) AT TIME ZONE 'UTC', 'YYYY-MM-DD')$f$`,
		// json_extract(value, '$.field') of a JSON object.
		`CREATE OR REPLACE FUNCTION json_extract(text, text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
			AS $f$SELECT ($1::json) ->> substr($2, 3)$f$`,
		// json_each over a JSON array as SQLite has it: each element's
		// value as text (a string unquoted, an object as JSON), whose
		// fields ->> reads.
		`CREATE OR REPLACE FUNCTION json_each(text) RETURNS TABLE (value text) LANGUAGE sql IMMUTABLE PARALLEL SAFE
			AS 'SELECT json_array_elements_text($1::json)'`,
		`CREATE OR REPLACE FUNCTION beacon_json_field(text, text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
			AS 'SELECT ($1::json) ->> $2'`,
		`DO $$ BEGIN
			IF NOT EXISTS (SELECT 1 FROM pg_operator WHERE oprname = '->>' AND oprleft = 'text'::regtype AND oprright = 'text'::regtype
					AND oprnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())) THEN
				CREATE OPERATOR ->> (leftarg = text, rightarg = text, function = beacon_json_field);
			END IF;
		END $$`,
	}
}

var (
	reIntegerKey = regexp.MustCompile(`\bINTEGER PRIMARY KEY\b`)
	reInteger    = regexp.MustCompile(`\bINTEGER\b`)
	reText       = regexp.MustCompile(`\bTEXT\b`)
	reCreate     = regexp.MustCompile(`^\s*CREATE TABLE IF NOT EXISTS (\w+) \(`)
)

// pgType is SQLite's DDL with PostgreSQL's types: SQLite's INTEGER is 64
// bits (nanosecond times), PostgreSQL's 32; text compares and sorts by
// its bytes, as in SQLite, whatever the database's locale.
func pgType(st string) string {
	st = reText.ReplaceAllString(st, `TEXT COLLATE "C"`)
	return reInteger.ReplaceAllString(st, "BIGINT")
}

// pgDDL turns migrate's SQLite statements into PostgreSQL's: 64-bit
// integers, identity keys, no WITHOUT ROWID, a rowid column (the shared
// queries order and page by it; SQLite has one implicitly). The rest
// (INSERT OR IGNORE, the column user) rebind rewrites as for any query.
func pgDDL(stmts []string) []string {
	out := make([]string, 0, len(stmts))
	for _, st := range stmts {
		st = strings.Replace(st, ") WITHOUT ROWID", ")", 1)
		hasKey := reIntegerKey.MatchString(st)
		st = reIntegerKey.ReplaceAllString(st, "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
		st = pgType(st)
		if m := reCreate.FindStringSubmatch(st); m != nil {
			if !hasKey {
				st = strings.Replace(st, m[0], m[0]+"\n\t\t\trowid BIGINT GENERATED BY DEFAULT AS IDENTITY,", 1)
			}
			if slices.Contains(bulkTables(), m[1]) {
				st = strings.Replace(st, " REFERENCES runs(id)", "", 1)
			}
		}
		out = append(out, st)
	}
	return out
}

// bulkTables are the tables a run fills with a row per user or report
// row. On PostgreSQL they have no foreign key to runs: its check is a
// query per row inserted (a trigger running SQL, 1.5 s of the server's
// 5.2 s in a 100,000-user import) and, per run deleted, a scan of the
// users, which have no index on run_id; SQLite's check is a lookup in
// runs' key and stays. What the key guaranteed, that these rows cannot
// outlive or precede their run, holds by construction: only a RunWriter,
// whose run is recorded first, writes them, and every path that deletes a
// run (DeleteConnection, the only one) deletes its rows first, or keeps
// the run while a snapshot still shows them (TestNoRowsWithoutTheirRun).
func bulkTables() []string { return finishedTables() }

// pgDropBulkKeys drops the foreign keys from bulkTables to runs that
// databases created by earlier builds have, by the names the catalogue
// gives them (PostgreSQL names them itself). It takes no new schema
// version, which would lock out builds of this schema without the
// change: they write and delete the same rows in the same order, so both
// keep working on one database. (Such a build deleting a connection
// while a run in progress shares report rows of a deleted run leaves
// those rows until that run's snapshot goes, which deletes them.)
func pgDropBulkKeys(ctx context.Context, tx *sql.Tx) error {
	keys, err := pgBulkKeys(ctx, tx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`ALTER TABLE %s DROP CONSTRAINT "%s"`, k[0], strings.ReplaceAll(k[1], `"`, `""`))); err != nil {
			return fmt.Errorf("drop the foreign key %s of %s: %w", k[1], k[0], err)
		}
	}
	return nil
}

// pgBulkKeys are the foreign keys (table, constraint) from bulkTables to
// runs in the session's schema. Asking the catalogue takes no lock.
func pgBulkKeys(ctx context.Context, q querier) ([][2]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT t.relname, c.conname FROM pg_constraint c
		JOIN pg_class t ON t.oid = c.conrelid
		WHERE c.contype = 'f' AND c.confrelid = to_regclass('runs')
		AND t.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
		AND t.relname = ANY (?) ORDER BY 1, 2`, bulkTables())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var k [2]string
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// insertID runs an INSERT of one row and returns its new id: SQLite's
// last insert rowid, PostgreSQL's RETURNING (pgx has no LastInsertId).
func (s *Store) insertID(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	if s.pg {
		err := s.db.QueryRowContext(ctx, query+" RETURNING id", args...).Scan(&id)
		return id, err
	}
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// analyze refreshes PostgreSQL's statistics of tables a run has just
// filled (SQLite: nothing). Without it the planner takes the new run's id
// for one with no rows and may pick plans that are fine for a few rows
// and not for 100,000: an incremental run's lookup of the changed users
// re-read the list of ids for every user and took 76 s instead of 0.2 s.
func (s *Store) analyze(ctx context.Context, conn *sql.Conn, tables ...string) error {
	if !s.pg {
		return nil
	}
	// The run ids only: what the plans of the run's queries hinge on.
	_, err := conn.ExecContext(ctx, "ANALYZE "+strings.Join(tables, " (run_id), ")+" (run_id)")
	return err
}

// finishedTables are the tables the queries of Finish read by the new run.
func finishedTables() []string {
	t := []string{"users", "user_activity"}
	for _, r := range reportSpecs {
		t = append(t, r.Table)
	}
	return t
}
