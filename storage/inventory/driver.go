package inventory

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// driverName is database/sql's name for SQLite with our pragmas.
//
// Why the C library (mattn/go-sqlite3) rather than a pure-Go translation
// (modernc.org/sqlite, used until issue 7): staging a 100,000-user import
// is about 400,000 row inserts, and the translated C spent 4.9 s of the
// import's 8.4 s of CPU in SQLite, its emulated libc locks and the Go
// garbage collector scanning SQLite's heap; the C library does the same
// work in about 2.4 s and keeps its page cache out of the Go heap (peak
// RSS 206 -> 160 MB). The app needs cgo anyway (Fyne's OpenGL driver).
const driverName = "beacon-sqlite3"

// driverNameReadOnly opens a database that cannot be written (issue 20):
// only the pragmas that change nothing in the file run on it.
const driverNameReadOnly = "beacon-sqlite3-ro"

// pragmas run on every new connection. Open documents each one.
var pragmas = []string{"page_size=16384", "journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=1",
	"cache_size=-8192", "temp_store=MEMORY", "wal_autocheckpoint=1024", "journal_size_limit=67108864"}

// readPragmas are those of pragmas a read-only connection runs: page_size
// and journal_mode would write the header, wal_autocheckpoint and
// journal_size_limit only matter to a writer.
var readPragmas = []string{"foreign_keys=1", "cache_size=-8192", "temp_store=MEMORY"}

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{ConnectHook: connectHook(pragmas)})
	sql.Register(driverNameReadOnly, &sqlite3.SQLiteDriver{ConnectHook: connectHook(readPragmas)})
}

func connectHook(pragmas []string) func(c *sqlite3.SQLiteConn) error {
	return func(c *sqlite3.SQLiteConn) error {
		// Through an interface: a build without cgo (a cross-compile
		// check) has a stub connection with no Exec, and must compile.
		ex, ok := any(c).(interface {
			Exec(string, []driver.Value) (driver.Result, error)
		})
		if !ok {
			return errors.New("inventory: this build has no SQLite (it was built without cgo)")
		}
		for _, p := range pragmas {
			if _, err := ex.Exec("PRAGMA "+p, nil); err != nil {
				return fmt.Errorf("PRAGMA %s: %w", p, err)
			}
		}
		return nil
	}
}
