// Package pgtest starts a throw-away PostgreSQL server for a test package
// and hands each test a fresh, empty database on it (issue 21).
//
// The server is Debian's `postgresql` package run by hand: initdb into a
// temporary folder, then the server itself on a Unix socket in that folder
// (listen_addresses=”: no TCP port, nothing another process could reach
// by accident) with trust authentication. No system service is involved.
// initdb refuses to run as root, so when the tests run as root the server
// runs as the `postgres` user the package creates, in a folder it owns.
//
// A test package starts it lazily, on its first NewDB, and stops it in
// TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// The server dies with the test binary even when that is killed (Linux:
// a parent-death signal), so a timed-out `go test` leaves no server behind.
//
// Inside scripts/session.sh (which `make test` uses) BEACON_REQUIRE_REAL=1
// is set and a missing PostgreSQL fails the test; elsewhere it is skipped
// with a message saying what is missing.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql's "pgx"
)

// Server is a running throw-away server.
type Server struct {
	dir  string // data, socket and log live here
	bin  string // the folder holding initdb and postgres
	as   *account
	proc *os.Process
	done chan struct{} // closed when the server process has ended
	// exited holds how the server ended, once done is closed.
	exited error
	admin  *sql.DB
}

var (
	mu       sync.Mutex
	shared   *Server
	startErr error
	seq      atomic.Int64
)

// required reports whether a missing server must fail tests (see the
// package comment; the same variable internal/testenv reads). Not on
// Windows: its stage of make test (scripts/test-windows.sh, under Wine)
// runs the SQLite store only.
func required() bool { return os.Getenv("BEACON_REQUIRE_REAL") == "1" && runtime.GOOS != "windows" }

// Main runs the package's tests, then stops the server if one started.
func Main(m *testing.M) int {
	code := m.Run()
	Stop()
	return code
}

// Stop stops the package's server (Main calls it).
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	if shared != nil {
		shared.stop()
		shared = nil
	}
}

// NewDB creates an empty database for t on the package's server (started
// on first use) and returns its URL. The database is dropped when t ends.
// Without PostgreSQL the test fails under `make test` and is skipped
// elsewhere.
func NewDB(t testing.TB) string {
	t.Helper()
	s, err := server()
	if err != nil {
		if required() {
			t.Fatalf("PostgreSQL for the tests: %v (scripts/install-deps.sh installs Debian's postgresql package)", err)
		}
		t.Skipf("no PostgreSQL for the tests: %v; run `make test`, or install Debian's postgresql package", err)
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), seq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := s.admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create the test database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// WITH (FORCE) ends sessions a test left open (a killed child's).
		if _, err := s.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop the test database %s: %v", name, err)
		}
	})
	return s.URL(name)
}

// NewRole creates a login role that is no superuser, no database owner
// and holds no privileges, for tests of what a beacon can do with the
// rights a DBA gives it; setup runs as the superuser in the database of
// dbURL (CREATE SCHEMA ... AUTHORIZATION role, grants), with %[1]s
// standing for the role's name. It returns the role's name and dbURL with
// that role as the user. Its objects and the role are dropped when t
// ends (before the database).
func NewRole(t testing.TB, dbURL string, setup ...string) (role, roleURL string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	role = fmt.Sprintf("r%d_%d", os.Getpid(), seq.Add(1))
	if _, err := db.ExecContext(ctx, "CREATE ROLE "+role+" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"); err != nil {
		db.Close()
		t.Fatalf("create the test role: %v", err)
	}
	t.Cleanup(func() {
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, st := range []string{"DROP OWNED BY " + role + " CASCADE", "DROP ROLE " + role} {
			if _, err := db.ExecContext(ctx, st); err != nil {
				t.Errorf("%s: %v", st, err)
			}
		}
	})
	for _, st := range setup {
		if _, err := db.ExecContext(ctx, fmt.Sprintf(st, role)); err != nil {
			t.Fatalf("%s: %v", fmt.Sprintf(st, role), err)
		}
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	return role, u.String()
}

// URL is the address of database name on the server: the Unix socket's
// folder as the host, the superuser, no password (trust authentication).
func (s *Server) URL(name string) string {
	q := url.Values{}
	q.Set("host", s.dir)
	return (&url.URL{Scheme: "postgres", User: url.User("postgres"), Path: "/" + name, RawQuery: q.Encode()}).String()
}

// StartServer starts a throw-away server outside a test (cmd/bench
// compares the stores with it), makes an empty database db on it and
// returns that database's URL. stop ends the server and removes its
// folder; the server also dies with this process on Linux.
func StartServer(db string) (dbURL string, stop func(), err error) {
	s, err := start()
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := s.admin.ExecContext(ctx, "CREATE DATABASE "+db); err != nil {
		s.stop()
		return "", nil, fmt.Errorf("create the database %s: %w", db, err)
	}
	return s.URL(db), s.stop, nil
}

// server returns the package's server, starting it on first use. A failed
// start is remembered: every test then reports the same reason.
func server() (*Server, error) {
	mu.Lock()
	defer mu.Unlock()
	if shared != nil || startErr != nil {
		return shared, startErr
	}
	shared, startErr = start()
	return shared, startErr
}

// binDir finds PostgreSQL's programs: $BEACON_PG_BIN, else the newest
// /usr/lib/postgresql/N/bin (Debian keeps them off the PATH), else the
// PATH.
func binDir() (string, error) {
	if d := os.Getenv("BEACON_PG_BIN"); d != "" {
		return d, nil
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(found, func(i, j int) bool { return version(found[i]) > version(found[j]) })
	if len(found) > 0 {
		return filepath.Dir(found[0]), nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("initdb was not found in /usr/lib/postgresql/*/bin nor on the PATH (set BEACON_PG_BIN to the folder holding it)")
}

// version is N of /usr/lib/postgresql/N/bin/initdb.
func version(initdb string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return n
}

func start() (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	as, err := serverAccount()
	if err != nil {
		return nil, err
	}
	sweep()
	// A short path: the socket's path must fit in 107 bytes.
	dir, err := os.MkdirTemp("", "beacon-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, bin: bin, as: as, done: make(chan struct{})}
	if err := s.boot(); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) boot() error {
	if err := s.as.own(s.dir); err != nil {
		return err
	}
	data := filepath.Join(s.dir, "data")
	// --no-sync and, below, fsync=off: a throw-away server need not
	// survive a power cut, and the machine's disk is shared with the
	// other tests.
	initdb := exec.Command(filepath.Join(s.bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
		"-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions")
	initdb.SysProcAttr = s.as.attr(false)
	initdb.Dir = s.dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v: %s", err, strings.TrimSpace(string(out)))
	}
	logf, err := os.Create(filepath.Join(s.dir, "server.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	if err := s.as.own(logf.Name()); err != nil {
		return err
	}
	// The server is the test binary's child, not pg_ctl's daemon, so it
	// cannot outlive it. Started from a goroutine that keeps its thread:
	// Linux sends the parent-death signal when the starting thread ends.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		cmd := exec.Command(filepath.Join(s.bin, "postgres"), "-D", data, "-k", s.dir,
			"-c", "listen_addresses=", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
			"-c", "max_connections=300", "-c", "shared_buffers=64MB")
		cmd.SysProcAttr = s.as.attr(true)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.Dir = s.dir
		if err := cmd.Start(); err != nil {
			started <- err
			close(s.done)
			return
		}
		s.proc = cmd.Process
		started <- nil
		s.exited = cmd.Wait()
		close(s.done)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	db, err := sql.Open("pgx", s.URL("postgres"))
	if err != nil {
		return err
	}
	s.admin = db
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("postgres ended at start (%v): %s", s.exited, s.logTail())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not answer in 60 s (%v): %s", err, s.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// logTail is the end of the server's log, for a failed start.
func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// stop ends the server (a fast shutdown: open sessions are ended) and
// removes its folder.
func (s *Server) stop() {
	if s.admin != nil {
		s.admin.Close()
	}
	if s.proc != nil {
		_ = s.proc.Signal(interrupt)
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			_ = s.proc.Kill()
			<-s.done
		}
	}
	os.RemoveAll(s.dir)
}
