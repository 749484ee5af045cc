package inventory

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/inventorybeacon/beacon/internal/diskspace"
)

// What happens to the database when the disk is full, when it cannot be
// written, and when it is damaged (issue 20). A reader never needs to
// write: Open only migrates a schema that is not current, and the tidying
// of failed runs is skipped when the disk is full or the file read-only.

// DiskFullError is a write that failed because the disk holding the
// database is full. Its message says where, how much room is left and what
// was kept.
type DiskFullError struct {
	Dir string
	// Free is the room left when the write failed.
	Free uint64
	// Need is the estimated room the failed work needs (0: unknown);
	// NeedAtLeast says Need is a lower bound (the run could not tell how
	// far it was).
	Need        uint64
	NeedAtLeast bool
	// Kept names the last good import that stays current ("" when none).
	Kept string
	Err  error
}

func (e *DiskFullError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the disk holding %s is full: %s free", e.Dir, diskspace.MB(e.Free))
	switch {
	case e.Need > 0 && e.NeedAtLeast:
		fmt.Fprintf(&b, ", the import needs more than %s", diskspace.MB(e.Need))
	case e.Need > 0:
		fmt.Fprintf(&b, ", the import needs about %s", diskspace.MB(e.Need))
	}
	if e.Kept != "" {
		fmt.Fprintf(&b, "; the last good import of %s is kept", e.Kept)
	} else {
		b.WriteString("; nothing was changed")
	}
	b.WriteString(". Free some space there and run the import again")
	return b.String()
}

func (e *DiskFullError) Unwrap() error { return e.Err }

// ReadOnlyError is an attempt to import into a database that was opened
// read-only because it cannot be written.
type ReadOnlyError struct {
	Path, Why string
}

func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("imports cannot run: the inventory database %s cannot be written (%s); the last import can still be listed and exported", e.Path, e.Why)
}

// DamagedError is a database found damaged at open. The file was moved
// aside (MovedTo) unless it could not be (read-only): it is never used.
type DamagedError struct {
	Path, MovedTo, Why string
}

func (e *DamagedError) Error() string {
	if e.MovedTo == "" {
		return fmt.Sprintf("the inventory database %s is damaged (%s) and is not used; it could not be moved aside: move it away and run the import again (your connections and their secrets are not in it)", e.Path, e.Why)
	}
	return fmt.Sprintf("the inventory database %s was damaged (%s): it was moved aside to %s and is not used; your connections and their secrets are untouched, and the next import starts a fresh database", e.Path, e.Why, e.MovedTo)
}

// SQLite's primary result codes that Open and the writer tell apart.
const (
	codePerm     = 3
	codeReadOnly = 8
	codeCorrupt  = 11
	codeFull     = 13
	codeCantOpen = 14
	codeNotADB   = 26
)

// isFull says err is SQLite's "database or disk is full", an I/O error
// SQLite got as ENOSPC (creating the shared-memory file), or the system's.
func isFull(err error) bool {
	if code, errno := sqliteCode(err); code == codeFull || errno == syscall.ENOSPC {
		return true
	}
	return diskspace.IsFull(err)
}

// isReadOnly says err is a write refused because the file, its folder or
// its file system cannot be written.
func isReadOnly(err error) bool {
	c, _ := sqliteCode(err)
	return c == codeReadOnly || c == codeCantOpen || c == codePerm ||
		errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)
}

// isDamaged says err is SQLite finding the file malformed or not a
// database at all.
func isDamaged(err error) bool {
	c, _ := sqliteCode(err)
	return c == codeCorrupt || c == codeNotADB
}

// QuickCheckLimit bounds the database size (the file and its WAL) up to
// which Open runs PRAGMA quick_check on every open; above it, only after
// an unclean shutdown: a WAL is there and no other process has the
// database open (the last one to close removes the WAL). The check reads
// every page: 0.33 s for 161 MB measured (BenchmarkQuickCheck100k: three
// kept 100,000-user snapshots with a report row each, 2 cores), so up to
// the limit it costs at most about 65 ms.
const QuickCheckLimit = 32 << 20

// checkSound finds a damaged file before anything uses it: a file cut
// short of the size its header records (cheap, always), a header that is
// not SQLite's, and PRAGMA quick_check within its bound. It returns why
// the file is damaged ("" when sound) or an error that says nothing of
// the file's state (busy, I/O).
func (s *Store) checkSound(ctx context.Context) (string, error) {
	fi, err := os.Stat(s.path)
	if err != nil {
		return "", err
	}
	size := fi.Size()
	var walSize int64
	if wi, err := os.Stat(s.path + "-wal"); err == nil {
		walSize = wi.Size()
	}
	if size == 0 {
		return "", nil // a new database
	}
	why, fileID := checkHeader(s.path, size, walSize > 0)
	if why != "" {
		return why, nil
	}
	// The database's identity as SQLite sees it, the WAL applied: a WAL
	// that carries another database's first page says so. (A file whose
	// own header has none yet, 0, is new or from an older build.)
	if fileID != 0 {
		var id int32
		if err := s.db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&id); err != nil {
			if isDamaged(err) {
				return err.Error(), nil
			}
			return "", err
		}
		if uint32(id) != fileID {
			return "its write-ahead log " + filepath.Base(s.path) + "-wal belongs to another database", nil
		}
	}
	if size+walSize > QuickCheckLimit && (walSize == 0 || openElsewhere(s.path)) {
		return "", nil
	}
	out, err := s.checkLines(ctx, "PRAGMA quick_check(5)")
	if err != nil {
		if isDamaged(err) {
			return err.Error(), nil
		}
		return "", err
	}
	if len(out) == 1 && out[0] == "ok" {
		return "", nil
	}
	return "the integrity check found: " + strings.Join(out, "; "), nil
}

// checkHeader reads the database header: SQLite's magic string, and the
// page count it records against the file's size. The count is trusted
// only when valid (the change counter equals the version-valid-for field)
// and no WAL may hold pages not yet copied into the file. It also returns
// the file's own identity (application_id, see setIdentity).
func checkHeader(path string, size int64, wal bool) (string, uint32) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0
	}
	defer f.Close()
	h := make([]byte, 100)
	if _, err := io.ReadFull(f, h); err != nil {
		return fmt.Sprintf("the file is only %d bytes, shorter than a database header", size), 0
	}
	if string(h[:16]) != "SQLite format 3\x00" {
		return "the file is not an SQLite database", 0
	}
	id := binary.BigEndian.Uint32(h[68:72])
	pageSize := int64(binary.BigEndian.Uint16(h[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	pages := int64(binary.BigEndian.Uint32(h[28:32]))
	valid := binary.BigEndian.Uint32(h[24:28]) == binary.BigEndian.Uint32(h[92:96])
	if !wal && valid && pageSize >= 512 && size < pages*pageSize {
		return fmt.Sprintf("the file is cut short: %d of its %d bytes are left", size, pages*pageSize), id
	}
	return "", id
}

// setIdentity gives a database without one a random identity in its
// header (PRAGMA application_id), so that checkSound can tell a WAL of
// another database from its own. Databases get one when created, older
// ones at their next import.
func (s *Store) setIdentity(ctx context.Context, conn interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) error {
	if s.pg {
		return nil // a file's identity; PostgreSQL has no files to mix up
	}
	var id int32
	if err := conn.QueryRowContext(ctx, "PRAGMA application_id").Scan(&id); err != nil || id != 0 {
		return err
	}
	_, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", int32(rand.Uint32()|1)))
	return err
}

// moveAside renames the damaged database and its WAL and shared-memory
// files to inventory.db.damaged-<time> (and -wal, -shm beside it, so the
// pair can still be opened together to look at), never overwriting an
// earlier one. It returns the new name.
func moveAside(path string, now time.Time) (string, error) {
	base := path + ".damaged-" + now.Format("20060102-150405")
	dest := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(dest); errors.Is(err, fs.ErrNotExist) {
			break
		}
		dest = fmt.Sprintf("%s-%d", base, i)
	}
	if err := os.Rename(path, dest); err != nil {
		return "", err
	}
	for _, sfx := range []string{"-wal", "-shm"} {
		if _, err := os.Lstat(path + sfx); err == nil {
			// A leftover WAL must not be replayed into the next, fresh
			// database: it goes with the file it belongs to.
			if err := os.Rename(path+sfx, dest+sfx); err != nil {
				_ = os.Remove(path + sfx)
			}
		}
	}
	return dest, nil
}

// reference is the schema this build creates, built once in memory: Open
// compares a file against it to know whether migrate must write.
var reference struct {
	once  sync.Once
	cols  map[string]map[string]bool // table or index name -> its columns
	views map[string]string          // BI view name -> its definition
	err   error
}

func referenceSchema(ctx context.Context) (map[string]map[string]bool, error) {
	reference.once.Do(func() {
		db, err := sql.Open(driverName, "file::memory:?_mutex=no")
		if err != nil {
			reference.err = err
			return
		}
		defer db.Close()
		db.SetMaxOpenConns(1) // one in-memory database, not one per connection
		s := &Store{db: db}
		if err := s.migrate(ctx); err != nil {
			reference.err = err
			return
		}
		reference.cols, reference.err = schemaOf(ctx, db)
		if reference.err == nil {
			reference.views, reference.err = viewsOf(ctx, db)
		}
	})
	return reference.cols, reference.err
}

// schemaOf lists the tables and indexes of db with their columns.
func schemaOf(ctx context.Context, db *sql.DB) (map[string]map[string]bool, error) {
	rows, err := db.QueryContext(ctx, `SELECT m.name, c.name FROM sqlite_master m, pragma_index_info(m.name) c WHERE m.type = 'index'
		UNION ALL SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c WHERE m.type = 'table'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]map[string]bool{}
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			return nil, err
		}
		if out[t] == nil {
			out[t] = map[string]bool{}
		}
		out[t][c] = true
	}
	return out, rows.Err()
}

// schemaCurrent says whether the file's schema is this build's: its
// version, every table and index with every column, and no index a
// migration drops. Then migrate has nothing to write.
func (s *Store) schemaCurrent(ctx context.Context) (bool, error) {
	var v int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return false, err
	}
	if v != schemaVersion {
		return false, nil
	}
	want, err := referenceSchema(ctx)
	if err != nil {
		return false, err
	}
	have, err := schemaOf(ctx, s.db)
	if err != nil {
		return false, err
	}
	if len(have) != len(want) {
		return false, nil
	}
	for name, cols := range want {
		h := have[name]
		if len(h) != len(cols) {
			return false, nil
		}
		for c := range cols {
			if !h[c] {
				return false, nil
			}
		}
	}
	return true, nil
}

// openReadOnly opens an existing database that cannot be written: on a
// read-only file system as immutable (nobody can change it, and SQLite
// then needs no -shm file it could not create), otherwise with mode=ro.
// The schema must be current, as it cannot be brought up to date.
func openReadOnly(ctx context.Context, path string, opts Options, why string, immutable bool) (*Store, error) {
	q := url.Values{}
	q.Set("mode", "ro")
	if immutable {
		// Nothing can change the file (a read-only file system, or no
		// process has it open and the disk is full): SQLite then needs no
		// shared-memory file it could not create.
		q.Set("immutable", "1")
	}
	s, err := newStore(driverNameReadOnly, path, q, opts)
	if err != nil {
		return nil, err
	}
	s.readOnly = why
	db := s.db
	damaged, err := s.checkSound(ctx)
	if err == nil && damaged != "" {
		err = &DamagedError{Path: path, Why: damaged}
	}
	if err == nil {
		var ok bool
		ok, err = s.schemaCurrent(ctx)
		if err == nil && !ok {
			err = fmt.Errorf("the inventory database %s was written by another version of Inventory Beacon and cannot be brought up to date while it cannot be written (%s)", path, why)
		}
	}
	if err != nil {
		db.Close()
		if isDamaged(err) {
			return nil, &DamagedError{Path: path, Why: err.Error()}
		}
		var de *DamagedError
		if errors.As(err, &de) {
			return nil, err
		}
		return nil, fmt.Errorf("open the inventory database %s read-only: %w", path, err)
	}
	return s, nil
}

// readOnlyReason words why a database cannot be written, from the error
// that said so.
func readOnlyReason(dir string, err error) (why string, immutable bool) {
	if errors.Is(err, syscall.EROFS) {
		return "the disk holding " + dir + " is mounted read-only", true
	}
	return "you may not write to it or to " + dir, false
}

// ReadOnly is why the database was opened read-only ("" when it can be
// written): data can be read, imports cannot run.
func (s *Store) ReadOnly() string { return s.readOnly }

// diskFull words a write that filled the disk: what is left, and the last
// good import of the connection, which stays current.
func (s *Store) diskFull(ctx context.Context, connID string, err error) *DiskFullError {
	dir := filepath.Dir(s.path)
	e := &DiskFullError{Dir: dir, Err: err}
	e.Free, _ = diskspace.Free(dir)
	if connID != "" {
		if r, rerr := s.CurrentRun(context.WithoutCancel(ctx), connID); rerr == nil && r.ID != 0 {
			e.Kept = fmt.Sprintf("%s (%s)", r.ConnectionName, r.Ended.Local().Format("2006-01-02 15:04"))
		}
	}
	return e
}

// giveSpaceBack deletes a failed run's staged rows and truncates the WAL,
// so that a failed import leaves the disk as it found it but for free
// pages inside the database, which the next import reuses. On a full disk
// the delete itself needs WAL room: the WAL is truncated first (its
// committed pages copied into the database), then the rows deleted, then
// truncated again. All of it is tidying: the next Open retries.
func (s *Store) giveSpaceBack(ctx context.Context, runID int64) {
	ctx = context.WithoutCancel(ctx)
	if err := s.dropSnapshot(ctx, runID); err != nil {
		s.checkpointTruncate(ctx)
		if isFull(err) {
			// One transaction deleting every row needs WAL room for every
			// page it touches. Small ones, each copied into the database
			// (whose pages these already are: it does not grow) before the
			// next, fit in the room the failed write left.
			s.dropSnapshotChunked(ctx, runID)
		}
		_ = s.dropSnapshot(ctx, runID)
	}
	s.checkpointTruncate(ctx)
}

// dropChunk is how many rows one small delete of dropSnapshotChunked
// removes.
const dropChunk = 500

// dropSnapshotChunked deletes a run's staged rows a few hundred at a time,
// truncating the WAL after each; dropSnapshot then only records the run
// as empty. Tables without a rowid are left to dropSnapshot.
func (s *Store) dropSnapshotChunked(ctx context.Context, runID int64) {
	for _, t := range snapshotTables() {
		if t == "user_activity" || t == "sync_state" || t == "run_figures" || t == "run_tenant" {
			continue
		}
		of := "run_id = ?"
		if t == "users" {
			// The rows the run staged itself (share.go); the rows it
			// replaced are restored by dropSnapshot.
			l, err := lineageOf(ctx, s.db, runID)
			if err != nil {
				return
			}
			of = usersBornIn("", l, runID) + " AND ? > 0"
		}
		for {
			res, err := s.db.ExecContext(ctx, "DELETE FROM "+t+" WHERE rowid IN (SELECT rowid FROM "+t+" WHERE "+of+" LIMIT ?)", runID, dropChunk)
			if err != nil {
				return
			}
			s.checkpointTruncate(ctx)
			if n, _ := res.RowsAffected(); n < dropChunk {
				break
			}
		}
	}
}

// walReserve is the room an import keeps free beyond its WAL: more than
// twice the largest write between two checks (a page of users, a chunk of
// report rows), so that the WAL can always be copied into the database
// once the disk is nearly full.
const walReserve = 8 << 20

// keepCheckpointable copies the WAL into the database when the room left
// would no longer hold that copy: a WAL whose committed pages cannot be
// copied (the database file cannot grow) could never be truncated, and a
// failed import could not give its room back (issue 20). Far from full it
// costs two system calls. When even then less than walStop is left, the
// import stops here, as if the disk were full: the next write might leave
// committed pages that could not be copied, and the WAL could not be
// truncated.
func (s *Store) keepCheckpointable(ctx context.Context, conn *sql.Conn) error {
	if s.pg {
		return nil // the server minds its own disk
	}
	var wal int64
	if wi, err := os.Stat(s.path + "-wal"); err == nil {
		wal = wi.Size()
	}
	dir := filepath.Dir(s.path)
	free, err := diskspace.Free(dir)
	if err != nil || free >= uint64(wal)+walReserve {
		return nil
	}
	// PASSIVE: a reader in another process is never waited for; the
	// pages copied are reused by the next commit instead of growing the
	// file.
	_, _ = conn.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
	if free, err = diskspace.Free(dir); err == nil && free < walStop {
		return fmt.Errorf("%s left, less than the %s an import keeps free: %w", diskspace.MB(free), diskspace.MB(walStop), syscall.ENOSPC)
	}
	return nil
}

// walStop is the least room an import leaves: a page of users or a chunk
// of report rows, its copy into the database, and the small deletes that
// give a failed run's room back.
const walStop = 2 << 20

// checkpointTruncate copies the WAL into the database and truncates it to
// zero bytes (best effort: a reader in another process may hold it).
func (s *Store) checkpointTruncate(ctx context.Context) {
	if s.pg {
		return
	}
	_, _ = s.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
}

// fileSizes is the database file's size plus its WAL's.
func fileSizes(path string) uint64 {
	var n int64
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return uint64(n)
}
