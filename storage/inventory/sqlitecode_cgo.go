//go:build cgo

package inventory

import (
	"errors"
	"syscall"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// sqliteCode is the primary SQLite result code in err's chain and the
// system error SQLite saw (0, 0: no SQLite error).
func sqliteCode(err error) (int, syscall.Errno) {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return int(se.Code), se.SystemErrno
	}
	var sp *sqlite3.Error
	if errors.As(err, &sp) && sp != nil {
		return int(sp.Code), sp.SystemErrno
	}
	return 0, 0
}
