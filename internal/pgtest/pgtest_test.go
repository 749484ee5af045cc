package pgtest

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// Each test gets its own empty database on the one server, reachable only
// through the socket in the server's folder.
func TestNewDB(t *testing.T) {
	a, b := NewDB(t), NewDB(t)
	if a == b {
		t.Fatalf("two tests got the same database %s", a)
	}
	if strings.Contains(a, "localhost") || !strings.Contains(a, "host=%2F") {
		t.Errorf("the URL %s is not a Unix socket's", a)
	}
	ctx := context.Background()
	for _, u := range []string{a, b} {
		db, err := sql.Open("pgx", u)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, "CREATE TABLE t (x INTEGER)"); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&n); err != nil || n != 1 {
			t.Errorf("%s holds %d tables (%v), want the one this test made", u, n, err)
		}
	}
	var listen string
	db, _ := sql.Open("pgx", a)
	defer db.Close()
	if err := db.QueryRowContext(ctx, "SHOW listen_addresses").Scan(&listen); err != nil || listen != "" {
		t.Errorf("listen_addresses = %q (%v), want none", listen, err)
	}
}

// StartServer, the entry point outside tests, hands out a database that
// takes writes, and its stop ends the server and removes its folder.
func TestStartServer(t *testing.T) {
	if _, err := binDir(); err != nil && !required() {
		t.Skipf("no PostgreSQL: %v", err)
	}
	u, stop, err := StartServer("bench")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", u)
	if err != nil {
		stop()
		t.Fatal(err)
	}
	if _, err := db.ExecContext(context.Background(), "CREATE TABLE t (x INTEGER)"); err != nil {
		t.Errorf("%s: %v", u, err)
	}
	db.Close()
	dir, _ := url.Parse(u)
	stop()
	if _, err := os.Stat(dir.Query().Get("host")); !os.IsNotExist(err) {
		t.Errorf("the server's folder %s is still there after stop (%v)", dir.Query().Get("host"), err)
	}
}
