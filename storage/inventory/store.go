// Package inventory is the local database of imported Microsoft 365 data:
// import runs (the import history) and, per run, a snapshot of users,
// license assignments, subscribed SKUs, service principals and the usage
// reports' rows. It uses SQLite through github.com/mattn/go-sqlite3 (the
// SQLite C library, compiled in with cgo; see driver.go for why).
//
// A run stages its rows under its run id, page by page, in short write
// transactions, so other processes (the window, the scheduler, another
// connection's import) are never locked out for the length of an import.
// Staged rows are invisible: every query reads the connection's current
// run, and only Finish with a good status makes a run current, in one
// transaction. A failed, cancelled or killed run therefore leaves the last
// good snapshot untouched; its staged rows are deleted. Users are the
// exception to rows per run: a row serves every snapshot of its connection
// from the run that staged it until one replaced it (share.go).
//
// Beside the snapshots, which are pruned to the last few, the same
// transaction writes the run's day into the history (history.go): per
// day the SKUs' and the tenant's figures, and the licence events seen
// since the previous snapshot. The history is kept until its retention
// drops it.
//
// The beacon_ views (views.go, documented in docs/bi-views.md) show the
// current snapshots read-only to BI tools, with names and columns that
// stay put while the tables change.
package inventory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/internal/diskspace"
)

// FileName is the database's name inside the configuration directory.
const FileName = "inventory.db"

// DefaultKeep is how many good snapshots per connection are kept.
const DefaultKeep = 3

// Options tune a Store.
type Options struct {
	// Keep is the number of good snapshots kept per connection (the current
	// one included); older ones are pruned. 0 means DefaultKeep.
	Keep int
	// Now replaces time.Now (tests).
	Now func() time.Time
}

// Store is the database. It is safe for concurrent use, also by several
// processes on the same file.
type Store struct {
	db   *sql.DB
	path string
	keep int
	now  func() time.Time
	host string
	// readOnly says why the database cannot be written ("": it can);
	// full says that is because the disk was full when it was opened.
	readOnly string
	full     bool
	// pg says the database is PostgreSQL (OpenURL), not an SQLite file.
	pg bool
	// search is the Users page's in-memory search (PrepareUserSearch).
	search userSearch
}

// OpenDir opens (creating if needed) inventory.db in the configuration
// directory.
func OpenDir(ctx context.Context, configDir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(configDir, 0o700); err != nil {
		return nil, fmt.Errorf("create the configuration folder %s for the inventory database: %w", configDir, err)
	}
	return Open(ctx, filepath.Join(configDir, FileName), opts)
}

// Open opens (creating if needed) the database file at path, brings its
// schema up to date and marks runs left "running" by a process that no
// longer exists as failed ("interrupted"), deleting their staged rows.
//
// Opening never needs to write (issue 20): a current schema is left alone,
// and the tidying of failed runs is skipped when the disk is full or the
// file cannot be written (the next open tries again). A database that
// cannot be written (a read-only file, folder or file system, or a disk
// too full for SQLite's shared-memory file) is opened read-only: it reads
// as usual, and BeginRun says why imports cannot run. A damaged file (cut
// short, not a database, or failing PRAGMA quick_check within
// QuickCheckLimit) is moved aside and Open returns a DamagedError; the
// next Open starts a fresh database.
//
// Pragmas, and why:
//   - journal_mode=WAL: readers (the data pages) never block the importer
//     and the importer never blocks them; a crash leaves the database
//     consistent at the last commit.
//   - synchronous=NORMAL: in WAL mode this never corrupts the database; a
//     power loss (not a process crash, which loses nothing committed) may
//     roll back the last few commits. The worst case is that the latest
//     promotion is undone and the previous snapshot stays current — the
//     same outcome as a failed run — while FULL would add an fsync to every
//     page's commit.
//   - busy_timeout: the window, the scheduler and the CLI share the file;
//     writers wait for each other instead of failing.
//   - foreign_keys: snapshot rows cannot outlive or precede their run.
//   - cache_size=8 MiB (the default is 2 MiB): an import's indexes (all
//     appended at their right edge) and the pages of its open
//     transaction stay cached. 32 MiB was needed while the reports had a
//     (run, user) index that took random inserts; now it only added
//     24 MB to an import's peak RSS and saved no CPU. The cache is filled
//     only as pages are used.
//   - wal_autocheckpoint=1024 pages (16 MiB of 16 KiB pages, default 4 MiB) and
//     journal_size_limit=64 MiB: an import commits every page of users;
//     index pages touched by many commits are copied into the database
//     once per checkpoint, so fewer checkpoints copy less (with 4 KiB
//     pages and random index inserts they took an eighth of the import's
//     CPU). But the commit that checkpoints waits for the copy and two
//     syncs while the pages behind the one writer queue up, and the last
//     checkpoint runs when the process closes the database: 32 MiB
//     checkpoints made a 100,000-user import at 150 ms 0.05-0.09 s
//     slower than 16 MiB ones (three A/B sets), 64 MiB ones 0.09 s
//     slower still; 8 and 4 MiB were not clearly better and sync twice
//     as often. The limit truncates the WAL after a checkpoint so it does
//     not keep its peak size on disk.
//   - temp_store=MEMORY: the temporary index of the concealed-names
//     check stays off the disk.
//   - _txlock=immediate: write transactions take the write lock up front,
//     so two writers never deadlock upgrading a read lock.
//   - _mutex=no (SQLite's multi-thread mode): database/sql never uses a
//     connection from two goroutines at once, so SQLite's own lock around
//     every call only cost time: a lock and an unlock per bound value,
//     5% of an import's CPU (perf, issue 7's third round).
//   - page_size=16384 (driver.go; a new database only, SQLite keeps an
//     existing file's size): users' and reports' rows are wide; 4 KiB
//     pages split four times as often and the import's inserts cost
//     about 10% more.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.Keep <= 0 {
		opts.Keep = DefaultKeep
	}
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	if err := makePrivate(path); err != nil {
		// An existing database that cannot be written is still read: the
		// window, list and export show the last import (issue 20).
		if _, serr := os.Stat(path); serr == nil && isReadOnly(err) {
			why, immutable := readOnlyReason(filepath.Dir(path), err)
			return openReadOnly(ctx, path, opts, why, immutable)
		}
		return nil, err
	}
	wi, werr := os.Stat(path + "-wal")
	noWAL := errors.Is(werr, fs.ErrNotExist) || (werr == nil && wi.Size() == 0)
	q := url.Values{}
	q.Set("_txlock", "immediate")
	s, err := newStore(driverName, path, q, opts)
	if err != nil {
		return nil, err
	}
	db := s.db
	// A damaged file is never used: it is moved aside, and the next open
	// starts a fresh database (the configuration and secrets live
	// elsewhere and are not touched).
	damaged, err := s.checkSound(ctx)
	if err == nil && damaged == "" {
		err = s.migrate(ctx)
		if isDamaged(err) {
			damaged, err = err.Error(), nil
		}
	}
	if damaged != "" {
		db.Close()
		moved, merr := moveAside(path, opts.Now())
		if merr != nil {
			return nil, &DamagedError{Path: path, Why: damaged}
		}
		return nil, &DamagedError{Path: path, MovedTo: moved, Why: damaged}
	}
	if err != nil {
		db.Close()
		if isReadOnly(err) {
			// The file opened for writing but its folder or lock files
			// cannot be written. Without a WAL no process has it open in
			// a way that could change it under an immutable reader.
			why, immutable := readOnlyReason(filepath.Dir(path), err)
			return openReadOnly(ctx, path, opts, why, immutable || noWAL)
		}
		if isFull(err) {
			// A current schema needs no writing, but SQLite could not even
			// create its shared-memory file: read without it.
			// No process has it open when there is no WAL (the last one
			// to close removes it; an empty one holds nothing, and a full
			// disk lets no writer add to it): nothing changes the file
			// under an immutable reader then. Checked before this open
			// tried, which may have left an empty WAL behind.
			ro, rerr := openReadOnly(ctx, path, opts, diskspace.Describe(filepath.Dir(path)), noWAL)
			if rerr == nil {
				ro.full = true
				return ro, nil
			}
			return nil, fmt.Errorf("open the inventory database %s: %w", path, s.diskFull(ctx, "", err))
		}
		return nil, fmt.Errorf("open the inventory database %s: %w (if the file is damaged, move it away and run the import again)", path, err)
	}
	if err := s.recover(ctx); err != nil {
		// Tidying failed runs needs room to write; queries never see
		// what it would delete, so a full disk or a file that cannot be
		// written leaves it for a later open instead of blocking readers.
		if !isFull(err) && !isReadOnly(err) {
			db.Close()
			return nil, fmt.Errorf("tidy up the inventory database %s: %w", path, err)
		}
	}
	return s, nil
}

// newStore opens the database/sql handle on path with the driver and the
// DSN's parameters (busy time-out and SQLite's multi-thread mode added).
func newStore(driver, path string, q url.Values, opts Options) (*Store, error) {
	q.Set("_busy_timeout", "15000")
	q.Set("_mutex", "no")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("open the inventory database %s: %w", path, err)
	}
	host, _ := os.Hostname()
	return &Store{db: db, path: path, keep: opts.Keep, now: opts.Now, host: host}, nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// DB exposes the database for checks such as PRAGMA integrity_check.
func (s *Store) DB() *sql.DB { return s.db }

// snapshot states of a run's rows.
const (
	snapNone    = "none"    // no rows (never had, failed, or pruned)
	snapStaging = "staging" // rows being written; invisible
	snapKept    = "kept"    // a good snapshot (current or one of the kept past ones)
)

// snapshotTables are the per-run tables, children before parents.
func snapshotTables() []string {
	t := []string{"run_figures", "run_tenant", "sync_state", "user_activity", "plan_dict", "users", "sku_plans", "skus", "service_principals", "license_groups", "sign_ins"}
	for _, r := range reportSpecs {
		t = append(t, r.Table)
	}
	return t
}

// schemaVersion 2 added the history (issue 18), 3 shared the users
// between snapshots (issue 21, share.go), 4 the users' last activity
// (runs.activity_run) and stored each run's history figures (run_figures,
// historydelta.go): a build of 3 would show no last activity on a
// snapshot sharing it, and its pruning would delete rows a later snapshot
// shows, so it is turned away.
const schemaVersion = 4

func (s *Store) migrate(ctx context.Context) error {
	if s.pg {
		return s.migratePG(ctx)
	}
	// A current schema is left alone: opening must not need to write (a
	// full disk, a file that cannot be written).
	if s.path != "" {
		ok, err := s.schemaCurrent(ctx)
		if err == nil && ok {
			ok, err = s.viewsCurrent(ctx)
		}
		if err != nil || ok {
			return err
		}
	}
	var v int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v > schemaVersion {
		return fmt.Errorf("the database was written by a newer Inventory Beacon (schema %d, this build knows %d); update the app", v, schemaVersion)
	}
	return s.migrateSQLite(ctx, schemaStatements())
}

// schemaStatements create the tables and indexes, in SQLite's SQL;
// pgDDL translates them for PostgreSQL, so both stores have one schema.
func schemaStatements() []string {
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS runs (
			id INTEGER PRIMARY KEY,
			connection_id TEXT NOT NULL,
			connection_name TEXT NOT NULL,
			trigger TEXT NOT NULL,
			started INTEGER NOT NULL,
			ended INTEGER,
			status TEXT NOT NULL,
			users INTEGER NOT NULL DEFAULT 0,
			assignments INTEGER NOT NULL DEFAULT 0,
			skus INTEGER NOT NULL DEFAULT 0,
			service_principals INTEGER NOT NULL DEFAULT 0,
			active_user_rows INTEGER NOT NULL DEFAULT 0,
			activation_rows INTEGER NOT NULL DEFAULT 0,
			app_usage_rows INTEGER NOT NULL DEFAULT 0,
			warnings TEXT NOT NULL DEFAULT '[]',
			error TEXT NOT NULL DEFAULT '',
			snapshot TEXT NOT NULL DEFAULT 'none',
			pid INTEGER NOT NULL DEFAULT 0,
			host TEXT NOT NULL DEFAULT '',
			note TEXT NOT NULL DEFAULT ''
		)`,
		`CREATE INDEX IF NOT EXISTS runs_conn ON runs(connection_id, id)`,
		// current names each connection's current snapshot; replacing the
		// row is the atomic promotion.
		`CREATE TABLE IF NOT EXISTS current (
			connection_id TEXT PRIMARY KEY,
			run_id INTEGER NOT NULL REFERENCES runs(id)
		)`,
		`CREATE TABLE IF NOT EXISTS users (
			run_id INTEGER NOT NULL REFERENCES runs(id),
			id TEXT NOT NULL,
			upn TEXT NOT NULL,
			upn_key TEXT NOT NULL,
			display_name TEXT NOT NULL,
			mail TEXT NOT NULL,
			account_enabled INTEGER NOT NULL,
			usage_location TEXT NOT NULL,
			department TEXT NOT NULL,
			job_title TEXT NOT NULL,
			created INTEGER,
			licenses TEXT NOT NULL,
			assigned_licenses TEXT NOT NULL,
			assigned_plans TEXT NOT NULL,
			search TEXT NOT NULL,
			name_key TEXT NOT NULL DEFAULT '',
			user_type TEXT NOT NULL DEFAULT '',
			license_states TEXT NOT NULL DEFAULT '',
			lineage INTEGER NOT NULL DEFAULT 0,
			died INTEGER NOT NULL DEFAULT 9223372036854775807,
			digest INTEGER NOT NULL DEFAULT 0
		)`,
		// Users are shared between snapshots (share.go); their one index,
		// users_alive (lineage, died, run_id), is made by migrateShared
		// once older files have the columns. New rows are alive and of
		// the newest run, so it grows at its right edge. Every further
		// index costs each staged user a random b-tree insert; lookups by
		// user principal name are done from the report side, which is
		// indexed.
		`CREATE TABLE IF NOT EXISTS lineages (
			id INTEGER PRIMARY KEY,
			connection_id TEXT NOT NULL UNIQUE
		)`,
		// Each user's latest activity in the usage reports (derived when a
		// run finishes), by lower-case user principal name.
		`CREATE TABLE IF NOT EXISTS user_activity (
			run_id INTEGER NOT NULL REFERENCES runs(id),
			upn_key TEXT NOT NULL,
			last_activity TEXT NOT NULL,
			PRIMARY KEY (run_id, upn_key)
		) WITHOUT ROWID`,
		// The run's dictionary of assigned plans (see planCodec).
		`CREATE TABLE IF NOT EXISTS plan_dict (
			run_id INTEGER NOT NULL REFERENCES runs(id),
			idx INTEGER NOT NULL,
			service TEXT NOT NULL,
			service_plan_id TEXT NOT NULL,
			capability_status TEXT NOT NULL,
			PRIMARY KEY (run_id, idx)
		)`,
		`CREATE TABLE IF NOT EXISTS skus (
			run_id INTEGER NOT NULL REFERENCES runs(id),
			sku_id TEXT NOT NULL,
			id TEXT NOT NULL,
			sku_part_number TEXT NOT NULL,
			account_name TEXT NOT NULL,
			account_id TEXT NOT NULL,
			applies_to TEXT NOT NULL,
			capability_status TEXT NOT NULL,
			consumed_units INTEGER NOT NULL,
			prepaid_enabled INTEGER NOT NULL,
			prepaid_suspended INTEGER NOT NULL,
			prepaid_warning INTEGER NOT NULL,
			prepaid_locked_out INTEGER NOT NULL,
			subscription_ids TEXT NOT NULL,
			assigned INTEGER NOT NULL DEFAULT 0,
			active INTEGER NOT NULL DEFAULT 0,
			usage_known INTEGER NOT NULL DEFAULT 0,
			PRIMARY KEY (run_id, sku_id)
		)`,
		`CREATE TABLE IF NOT EXISTS sku_plans (
			run_id INTEGER NOT NULL,
			sku_id TEXT NOT NULL,
			position INTEGER NOT NULL,
			service_plan_id TEXT NOT NULL,
			service_plan_name TEXT NOT NULL,
			provisioning_status TEXT NOT NULL,
			applies_to TEXT NOT NULL,
			FOREIGN KEY (run_id, sku_id) REFERENCES skus(run_id, sku_id)
		)`,
		`CREATE INDEX IF NOT EXISTS sku_plans_run ON sku_plans(run_id, sku_id)`,
		`CREATE TABLE IF NOT EXISTS service_principals (
			run_id INTEGER NOT NULL REFERENCES runs(id),
			id TEXT NOT NULL,
			app_id TEXT NOT NULL,
			display_name TEXT NOT NULL,
			app_display_name TEXT NOT NULL,
			publisher_name TEXT NOT NULL,
			app_owner_organization_id TEXT NOT NULL,
			service_principal_type TEXT NOT NULL,
			account_enabled INTEGER NOT NULL,
			tags TEXT NOT NULL,
			search TEXT NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS service_principals_run ON service_principals(run_id)`,
		// The groups that assign licences, for their names (issue 17).
		`CREATE TABLE IF NOT EXISTS license_groups (
			run_id INTEGER NOT NULL REFERENCES runs(id),
			id TEXT NOT NULL,
			display_name TEXT NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS license_groups_run ON license_groups(run_id)`,
		// signInActivity by user object id, read apart from the users
		// (Graph serves it 120 users a page and never in a delta round).
		`CREATE TABLE IF NOT EXISTS sign_ins (
			run_id INTEGER NOT NULL REFERENCES runs(id),
			user_id TEXT NOT NULL,
			interactive INTEGER,
			non_interactive INTEGER,
			successful INTEGER
		)`,
		`CREATE INDEX IF NOT EXISTS sign_ins_run ON sign_ins(run_id, user_id)`,
		// What an incremental run needs from the snapshot it starts from
		// (issue 7): the users delta link, when the full import it
		// descends from began, and when its report rows were downloaded.
		`CREATE TABLE IF NOT EXISTS sync_state (
			run_id INTEGER PRIMARY KEY REFERENCES runs(id),
			users_delta_link TEXT NOT NULL,
			full_started INTEGER NOT NULL,
			reports_started INTEGER NOT NULL,
			reports_refresh TEXT NOT NULL DEFAULT ''
		)`,
		// A good run's inactive and overlapping seats per SKU (lower case),
		// as its history day has them, and the key of what they were
		// computed under (HistoryOptions.Key): the next run works out its
		// own from them and its changed users (historydelta.go).
		`CREATE TABLE IF NOT EXISTS run_figures (
			run_id INTEGER NOT NULL REFERENCES runs(id),
			sku_id TEXT NOT NULL,
			figures_key TEXT NOT NULL,
			inactive INTEGER NOT NULL,
			overlapping INTEGER NOT NULL,
			PRIMARY KEY (run_id, sku_id)
		) WITHOUT ROWID`,
		// A good run's tenant figures as its history day has them: the
		// next run counts its own from them and its changed users.
		`CREATE TABLE IF NOT EXISTS run_tenant (
			run_id INTEGER PRIMARY KEY REFERENCES runs(id),
			users INTEGER NOT NULL,
			enabled INTEGER NOT NULL,
			guests INTEGER NOT NULL,
			licensed INTEGER NOT NULL
		)`,
		// The history (history.go): names once, then integers only.
		`CREATE TABLE IF NOT EXISTS history_names (
			id INTEGER PRIMARY KEY,
			kind INTEGER NOT NULL,
			name TEXT NOT NULL,
			UNIQUE (kind, name)
		)`,
		`CREATE TABLE IF NOT EXISTS history_skus (
			conn INTEGER NOT NULL,
			day INTEGER NOT NULL,
			sku INTEGER NOT NULL,
			purchased INTEGER NOT NULL,
			assigned INTEGER NOT NULL,
			active INTEGER NOT NULL,
			inactive INTEGER NOT NULL,
			overlapping INTEGER NOT NULL,
			price INTEGER,
			yearly INTEGER,
			currency INTEGER,
			cost INTEGER,
			PRIMARY KEY (conn, day, sku)
		) WITHOUT ROWID`,
		`CREATE TABLE IF NOT EXISTS history_tenant (
			conn INTEGER NOT NULL,
			day INTEGER NOT NULL,
			users INTEGER NOT NULL,
			enabled INTEGER NOT NULL,
			guests INTEGER NOT NULL,
			licensed INTEGER NOT NULL,
			PRIMARY KEY (conn, day)
		) WITHOUT ROWID`,
		`CREATE TABLE IF NOT EXISTS history_events (
			conn INTEGER NOT NULL,
			user INTEGER NOT NULL,
			day INTEGER NOT NULL,
			sku INTEGER NOT NULL,
			kind INTEGER NOT NULL,
			PRIMARY KEY (conn, user, day, sku, kind)
		) WITHOUT ROWID`,
		`CREATE INDEX IF NOT EXISTS history_events_sku ON history_events(conn, sku, day)`,
		`CREATE TABLE IF NOT EXISTS history_meta (
			key TEXT PRIMARY KEY,
			value TEXT NOT NULL
		) WITHOUT ROWID`,
		// A database with snapshots from before the history seeds it from
		// them once (BackfillHistory); a new one has nothing to seed.
		`INSERT OR IGNORE INTO history_meta (key, value) VALUES ('backfill',
			CASE WHEN EXISTS (SELECT 1 FROM runs WHERE snapshot = 'kept') THEN 'pending' ELSE 'done' END)`,
	}
	for _, r := range reportSpecs {
		var cols strings.Builder
		for _, c := range r.Columns {
			typ := "TEXT"
			if c.Type == Bool || c.Type == Int {
				typ = "INTEGER"
			}
			fmt.Fprintf(&cols, ",\n\t\t\t%s %s", c.Name, typ)
		}
		// row keeps the report's order; upn_key joins to users; concealed
		// marks UPNs that look like Microsoft's hashed stand-ins.
		stmts = append(stmts,
			fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
			run_id INTEGER NOT NULL REFERENCES runs(id),
			row INTEGER NOT NULL,
			upn_key TEXT NOT NULL,
			concealed INTEGER NOT NULL,
			extras TEXT,
			search TEXT NOT NULL,
			last_activity TEXT%s
		)`, r.Table, cols.String()),
			// On the run only: rows arrive in run order, so the index grows
			// at its right edge. Builds before issue 7's second round had a
			// (run_id, upn_key, last_activity) index for deriving the users'
			// last activity; the writer now tracks that while staging, and
			// the random inserts into that index were a quarter of the
			// import's time in SQLite.
			fmt.Sprintf(`DROP INDEX IF EXISTS %s_run`, r.Table),
			fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %[1]s_run_id ON %[1]s(run_id)`, r.Table))
	}
	return stmts
}

// migrateSQLite runs stmts and SQLite's later changes in one transaction.
func (s *Store) migrateSQLite(ctx context.Context, stmts []string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := dropViews(ctx, tx); err != nil {
		return err
	}
	for _, st := range stmts {
		if _, err := tx.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	}
	// How users were read (sequential, parallel, incremental): added to
	// databases of earlier builds, which read as "".
	if err := addColumn(ctx, tx, "runs", "mode", "TEXT NOT NULL DEFAULT ''"); err != nil {
		return err
	}
	// The run whose report rows this run's snapshot shows (0: its own);
	// incremental runs share a recent download instead of copying it.
	if err := addColumn(ctx, tx, "runs", "reports_run", "INTEGER NOT NULL DEFAULT 0"); err != nil {
		return err
	}
	// The run whose users' last activity (user_activity) this run's
	// snapshot shows (0: its own): derived from the shared report rows,
	// so shared with them instead of copied.
	if err := addColumn(ctx, tx, "runs", "activity_run", "INTEGER NOT NULL DEFAULT 0"); err != nil {
		return err
	}
	// The date every derived figure (active, inactive) of the run's
	// snapshot is counted from, and the refresh date of the usage reports
	// it shows (issue 15): stored with the run so that an incremental run
	// sharing those reports counts from the same date as a full import
	// of the same data, whatever day it runs.
	// The display name's sort key (NameKey), so users sort as people read
	// names. Snapshots of earlier builds get SQLite's ASCII lower case
	// until their next import.
	addedKey, err := addColumnReport(ctx, tx, "users", "name_key", "TEXT NOT NULL DEFAULT ''")
	if err != nil {
		return err
	}
	if addedKey {
		if err := fillNameKey(ctx, tx); err != nil {
			return err
		}
	}
	// Issue 17: the user type, the licence assignment states other than
	// plain direct ones, and whether the run read sign-ins (or why not).
	for _, c := range [][3]string{{"users", "user_type", "TEXT NOT NULL DEFAULT ''"}, {"users", "license_states", "TEXT NOT NULL DEFAULT ''"},
		{"runs", "sign_ins", "TEXT NOT NULL DEFAULT ''"}} {
		if err := addColumn(ctx, tx, c[0], c[1], c[2]); err != nil {
			return err
		}
	}
	// Issue 21: users shared between snapshots (share.go).
	for _, c := range sharedColumns {
		if err := addColumn(ctx, tx, "users", c[0], c[1]); err != nil {
			return err
		}
	}
	if err := migrateShared(ctx, tx); err != nil {
		return err
	}
	addedAsOf, err := addColumnReport(ctx, tx, "runs", "activity_as_of", "TEXT NOT NULL DEFAULT ''")
	if err != nil {
		return err
	}
	if err := addColumn(ctx, tx, "runs", "reports_refresh", "TEXT NOT NULL DEFAULT ''"); err != nil {
		return err
	}
	if addedAsOf {
		if err := fillActivityAsOf(ctx, tx); err != nil {
			return err
		}
	}
	// Known report columns added by a later build become new columns of an
	// existing table (old rows hold NULL, or the value in extras).
	for _, r := range reportSpecs {
		have := map[string]bool{}
		rows, err := tx.QueryContext(ctx, "SELECT name FROM pragma_table_info(?)", r.Table)
		if err != nil {
			return err
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return err
			}
			have[n] = true
		}
		rows.Close()
		for _, c := range r.Columns {
			if !have[c.Name] {
				typ := "TEXT"
				if c.Type == Bool || c.Type == Int {
					typ = "INTEGER"
				}
				if _, err := tx.ExecContext(ctx, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", r.Table, c.Name, typ)); err != nil {
					return err
				}
			}
		}
	}
	// The BI views last: they read columns added above (dropViews
	// dropped the old ones first).
	if err := createViews(ctx, tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
		return err
	}
	if err := s.setIdentity(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

// fillNameKey gives the users of a database from before name_key
// SQLite's ASCII lower case of their names, until their next import.
func fillNameKey(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, "UPDATE users SET name_key = lower(display_name)")
	return err
}

// fillActivityAsOf gives the runs of a database from before
// activity_as_of the refresh date their sync state kept, else the day
// (UTC) the run started, as derive counted then.
func fillActivityAsOf(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `UPDATE runs SET reports_refresh = COALESCE((SELECT s.reports_refresh FROM sync_state s WHERE s.run_id = runs.id), '')`); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE runs SET activity_as_of = CASE WHEN reports_refresh <> '' THEN reports_refresh
		ELSE strftime('%Y-%m-%d', started / 1000000000, 'unixepoch') END WHERE snapshot = 'kept'`)
	return err
}

// addColumn adds a column to a table unless it has it.
func addColumn(ctx context.Context, tx *sql.Tx, table, column, decl string) error {
	_, err := addColumnReport(ctx, tx, table, column, decl)
	return err
}

// addColumnReport is addColumn that says whether it added the column.
func addColumnReport(ctx context.Context, tx *sql.Tx, table, column, decl string) (bool, error) {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?", table, column).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	_, err := tx.ExecContext(ctx, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", table, column, decl))
	return err == nil, err
}

// recover marks runs whose process died as failed ("interrupted"), deletes
// rows staged by runs that ended without promotion, and prunes snapshots
// beyond Keep (a crash between promotion and pruning leaves extras).
func (s *Store) recover(ctx context.Context) error {
	type orphan struct {
		id   int64
		pid  int
		host string
		conn string
	}
	var running []orphan
	rows, err := s.db.QueryContext(ctx, "SELECT id, pid, host, connection_id FROM runs WHERE status = ?", StatusRunning)
	if err != nil {
		return err
	}
	for rows.Next() {
		var o orphan
		if err := rows.Scan(&o.id, &o.pid, &o.host, &o.conn); err != nil {
			rows.Close()
			return err
		}
		running = append(running, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, o := range running {
		// A run on another machine (a shared folder) cannot be checked; it
		// is left alone rather than failed under a live importer.
		if s.pg {
			// PostgreSQL: a run lives as long as its lock (pglock.go),
			// on whichever machine it runs.
			if held, err := s.runLockHeld(ctx, o.conn); err != nil || held {
				continue
			}
		} else if o.host != s.host || processAlive(o.pid) {
			continue
		}
		if err := s.interruptRuns(ctx, "id = ?", o.id); err != nil {
			return err
		}
	}
	var dead []int64
	rows, err = s.db.QueryContext(ctx, "SELECT id FROM runs WHERE snapshot = ? AND status <> ?", snapStaging, StatusRunning)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		dead = append(dead, id)
	}
	rows.Close()
	for _, id := range dead {
		if err := s.dropSnapshot(ctx, id); err != nil {
			return err
		}
	}
	var conns []string
	rows, err = s.db.QueryContext(ctx, "SELECT DISTINCT connection_id FROM runs WHERE snapshot = ?", snapKept)
	if err != nil {
		return err
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return err
		}
		conns = append(conns, c)
	}
	rows.Close()
	for _, c := range conns {
		if err := s.prune(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// dropSnapshot deletes a run's rows in one transaction and records that
// the run has none.
func (s *Store) dropSnapshot(ctx context.Context, runID int64) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Rows shared with a later snapshot stay until it goes too: a run's
	// report rows (reports_run) and its users' last activity, derived
	// from them (activity_run).
	var reportTables []string
	for _, r := range reportSpecs {
		reportTables = append(reportTables, r.Table)
	}
	sharings := []struct {
		col    string
		tables []string
	}{{"reports_run", reportTables}, {"activity_run", []string{"user_activity"}}}
	shared := func(col string, id int64) (bool, error) {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs WHERE `+col+` = ? AND id <> ? AND snapshot IN (?, ?)`,
			id, runID, snapKept, snapStaging).Scan(&n)
		return n > 0, err
	}
	keep := map[string]bool{"users": true} // dropUsers' part
	for _, sh := range sharings {
		k, err := shared(sh.col, runID)
		if err != nil {
			return err
		}
		for _, t := range sh.tables {
			keep[t] = keep[t] || k
		}
	}
	var snap string
	if err := tx.QueryRowContext(ctx, "SELECT snapshot FROM runs WHERE id = ?", runID).Scan(&snap); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	for _, t := range snapshotTables() {
		if keep[t] {
			continue
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t+" WHERE run_id = ?", runID); err != nil {
			return fmt.Errorf("delete rows of run %d from %s: %w", runID, t, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE runs SET snapshot = ? WHERE id = ?", snapNone, runID); err != nil {
		return err
	}
	if err := dropUsers(ctx, tx, runID, snap == snapStaging); err != nil {
		return err
	}
	// The run whose rows this one shared: they go with their last user,
	// once its own snapshot is gone.
	for _, sh := range sharings {
		var from int64
		var fromSnap sql.NullString
		if err := tx.QueryRowContext(ctx, "SELECT r."+sh.col+", (SELECT snapshot FROM runs WHERE id = r."+sh.col+") FROM runs r WHERE r.id = ?",
			runID).Scan(&from, &fromSnap); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if from == 0 || from == runID || fromSnap.Valid && fromSnap.String != snapNone {
			continue
		}
		still, err := shared(sh.col, from)
		if err != nil {
			return err
		}
		if still {
			continue
		}
		for _, t := range sh.tables {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t+" WHERE run_id = ?", from); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

// prune drops the connection's good snapshots beyond Keep, never the
// current one.
func (s *Store) prune(ctx context.Context, connID string) error {
	if err := s.schemaStillOurs(ctx); err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM runs
		WHERE connection_id = ? AND snapshot = ?
		AND id NOT IN (SELECT run_id FROM current WHERE connection_id = ?)
		ORDER BY id DESC`, connID, snapKept, connID)
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	// keep-1 past snapshots besides the current one.
	for i, id := range ids {
		if i < s.keep-1 {
			continue
		}
		if err := s.dropSnapshot(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// DeleteConnection forgets a connection's import history and snapshots
// (when the connection itself is deleted), and its licence history unless
// keepHistory. Runs in progress are left alone.
func (s *Store) DeleteConnection(ctx context.Context, connID string, keepHistory bool) error {
	if !keepHistory {
		if err := s.DeleteHistory(ctx, connID); err != nil {
			return err
		}
	}
	ids, err := s.runIDs(ctx, "SELECT id FROM runs WHERE connection_id = ? AND status <> ?", connID, StatusRunning)
	if err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, "DELETE FROM current WHERE connection_id = ?", connID); err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.dropSnapshot(ctx, id); err != nil {
			return err
		}
	}
	// Then the runs, once no snapshot shares their rows any more (a run
	// in progress may still show some of their users, or their report
	// rows): on PostgreSQL no foreign key refuses the delete of a run
	// whose rows remain (bulkTables), so the check is here.
	kept := ""
	for _, t := range bulkTables() {
		if t != "users" {
			kept += " AND NOT EXISTS (SELECT 1 FROM " + t + " WHERE run_id = ?1)"
		}
	}
	for _, id := range ids {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM runs WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM users u
			WHERE u.lineage = (SELECT l.id FROM lineages l WHERE l.connection_id = ?2) AND u.run_id = ?1)`+kept, id, connID); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) runIDs(ctx context.Context, query string, args ...any) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// IntegrityCheck runs PRAGMA integrity_check and returns its verdict ("ok"
// when the file is sound).
func (s *Store) IntegrityCheck(ctx context.Context) (string, error) {
	if s.pg {
		// The server keeps its pages sound itself (WAL, checksums);
		// there is no file of ours to check.
		return "ok", s.db.PingContext(ctx)
	}
	out, err := s.checkLines(ctx, "PRAGMA integrity_check")
	return strings.Join(out, "\n"), err
}

// checkLines runs one of SQLite's checks and returns its lines.
func (s *Store) checkLines(ctx context.Context, pragma string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, pragma)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// NewerSchemaError says a newer Inventory Beacon upgraded the database
// after this process opened it.
type NewerSchemaError struct{ Version int }

func (e *NewerSchemaError) Error() string {
	return fmt.Sprintf("a newer Inventory Beacon upgraded the inventory database while this one was running (schema %d, this build knows %d): "+
		"update Inventory Beacon on this computer and start it again; the imports already saved are kept", e.Version, schemaVersion)
}

// schemaStillOurs refuses to write a database a newer build upgraded
// after this store opened it: the version is checked at Open only, and a
// beacon left running (the window, a service) on a shared PostgreSQL
// inventory would otherwise import and prune by rules the newer schema
// no longer follows (schema 4's activity rows shared between runs are
// one such rule: an older pruning deletes rows newer snapshots show).
// An import and the pruning check it first; builds from before this
// check do not, which is why README asks to update every beacon sharing
// a database.
func (s *Store) schemaStillOurs(ctx context.Context) error {
	var v int
	var err error
	if s.pg {
		v, err = pgSchemaVersion(ctx, s.db)
	} else {
		err = s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	}
	if err != nil {
		return fmt.Errorf("read the inventory database's version: %w", err)
	}
	if v > schemaVersion {
		return &NewerSchemaError{Version: v}
	}
	return nil
}
