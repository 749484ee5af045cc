package inventory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/inventorybeacon/beacon/internal/pgtest"
)

// A beacon left running while a newer one migrates the database under it
// (columns added, a column's type changed, the views recreated) carries
// on: its connections had prepared the statements whose result type
// changed, which PostgreSQL then refuses ("cached plan must not change
// result type"); outside a transaction it prepares them again, inside
// one the error says what happened, and the next attempt works. A column
// that is gone is said in the same words.
func TestPostgresSchemaChangedUnderABeacon(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	a, err := OpenURL(ctx, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	// A pool that keeps its connections, with their statements.
	a.db.SetMaxIdleConns(4)
	us := testUsers(5, "u")
	work := func(what string) {
		t.Helper()
		r := importUsers(t, a, "c1", us, Outcome{})
		if got := readBack(t, a, r.ID); len(got) != len(us) {
			t.Fatalf("%s: read back %d users, want %d", what, len(got), len(us))
		}
		if got, err := a.Users(ctx, "c1", Query{}); err != nil || len(got) != len(us) {
			t.Fatalf("%s: Users: %d, %v", what, len(got), err)
		}
		for _, q := range []func() error{
			func() error { _, err := a.Licenses(ctx, "c1", Query{}); return err },
			func() error { _, err := a.History(ctx, "c1", 10); return err },
			func() error { _, err := a.CurrentRun(ctx, "c1"); return err },
			func() error { _, err := a.LastRuns(ctx); return err },
		} {
			if err := q(); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
	}
	work("before")
	work("before, again")
	// The newer build's migration: types changed under the views, which
	// it recreates on opening.
	migrate := func(stmts ...string) {
		t.Helper()
		for _, v := range biViews() {
			stmts = append([]string{"DROP VIEW IF EXISTS " + v.name}, stmts...)
		}
		for _, st := range append(stmts, "UPDATE beacon_schema SET views = 'another build'") {
			if _, err := a.db.ExecContext(ctx, st); err != nil {
				t.Fatalf("%s: %v", st, err)
			}
		}
		b, err := OpenURL(ctx, db, Options{})
		if err != nil {
			t.Fatal(err)
		}
		b.Close()
	}
	migrate("ALTER TABLE users ADD COLUMN future TEXT NOT NULL DEFAULT ''",
		"ALTER TABLE runs ALTER COLUMN connection_name TYPE varchar", "ALTER TABLE users ALTER COLUMN department TYPE varchar")
	work("after the migration")

	// Inside a transaction: one connection, whose statement was prepared
	// in an earlier transaction.
	a.db.SetMaxOpenConns(1)
	// Two statements whose types change: the next transaction must not
	// meet the second after the first was prepared again.
	inTx := func() error {
		tx, err := a.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		var n, tr, job string
		if err := tx.QueryRowContext(ctx, "SELECT connection_name, trigger FROM runs WHERE id = ?", 1).Scan(&n, &tr); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, "SELECT job_title FROM users WHERE rowid > ? ORDER BY rowid LIMIT 1", 0).Scan(&job)
	}
	if err := inTx(); err != nil {
		t.Fatal(err)
	}
	migrate("ALTER TABLE runs ALTER COLUMN trigger TYPE varchar", "ALTER TABLE users ALTER COLUMN job_title TYPE varchar")
	err = inTx()
	if err == nil || !strings.Contains(err.Error(), "a newer Inventory Beacon upgraded the database") || !strings.Contains(err.Error(), "try again") {
		t.Fatalf("a stale statement in a transaction: %v", err)
	}
	if err := inTx(); err != nil {
		t.Fatalf("the next transaction: %v", err)
	}
	a.db.SetMaxOpenConns(0) // an import holds two: its run lock's and its writer's
	work("after a transaction met the change")

	if _, err := a.db.ExecContext(ctx, "ALTER TABLE runs DROP COLUMN note"); err != nil {
		t.Fatal(err)
	}
	var note string
	err = a.db.QueryRowContext(ctx, "SELECT note FROM runs WHERE id = ?", 1).Scan(&note)
	if err == nil || !strings.Contains(err.Error(), "someone removed it") {
		t.Fatalf("a column gone: %v", err)
	}
}

// A table or column this beacon uses that PostgreSQL does not find is
// said as what happened, which the database is asked: a newer beacon's
// schema (update), tables removed by hand (restore them), the inventory's
// schema no longer on the search_path new connections get (set it back),
// or no inventory left anywhere in the database.
func TestPostgresMissingTableSaysWhy(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		change []string
		want   []string
	}{
		{"a newer beacon's schema", []string{
			fmt.Sprintf("UPDATE beacon_schema SET version = %d", schemaVersion+1), "ALTER TABLE users DROP COLUMN department CASCADE"},
			[]string{"a newer Inventory Beacon upgraded the inventory database", "update Inventory Beacon on this computer"}},
		{"a column removed by hand", []string{"ALTER TABLE users DROP COLUMN department CASCADE"},
			[]string{`missing from schema beacon`, "still of this release's version", "someone removed it", "restore it from a backup"}},
		{"a table removed by hand", []string{"DROP TABLE users CASCADE"},
			[]string{`missing from schema beacon`, "someone removed it"}},
		{"the search_path changed", []string{"ALTER DATABASE DB SET search_path = public"},
			[]string{"in schema beacon", "(public)", "no longer leads to", "search_path=beacon", "ALTER ROLE postgres SET search_path = beacon"}},
		{"the search_path leads to another inventory", []string{"ALTER DATABASE DB SET search_path = public", "CREATE TABLE public.beacon_schema (version INTEGER, views TEXT)",
			fmt.Sprintf("INSERT INTO public.beacon_schema VALUES (%d, '')", schemaVersion)},
			[]string{"missing from schema public", "the one in schema beacon", "search_path=beacon"}},
		{"the inventory gone", []string{"DROP SCHEMA beacon CASCADE"},
			[]string{"tables are gone from the PostgreSQL database", "restore them from a backup"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := pgtest.NewDB(t)
			name := u[strings.LastIndex(u, "/")+1 : strings.Index(u, "?")]
			admin, err := sql.Open("pgx", u)
			if err != nil {
				t.Fatal(err)
			}
			defer admin.Close()
			// The inventory in a schema of its own that the database's
			// search_path leads to, as a DBA may set it up.
			for _, st := range []string{"CREATE SCHEMA beacon", "ALTER DATABASE " + name + " SET search_path = beacon"} {
				if _, err := admin.ExecContext(ctx, st); err != nil {
					t.Fatalf("%s: %v", st, err)
				}
			}
			s, err := OpenURL(ctx, u, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			us := testUsers(5, "u")
			importUsers(t, s, "c1", us, Outcome{})
			if got, err := s.Users(ctx, "c1", Query{}); err != nil || len(got) != len(us) {
				t.Fatalf("before: Users: %d, %v", len(got), err)
			}
			conn, err := admin.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			for _, st := range append([]string{"SET search_path = beacon"}, c.change...) {
				if _, err := conn.ExecContext(ctx, strings.ReplaceAll(st, "DB", name)); err != nil {
					t.Fatalf("%s: %v", st, err)
				}
			}
			// New connections, which take the database's search_path.
			s.db.SetMaxIdleConns(0)
			s.db.SetMaxIdleConns(2)
			_, err = s.Users(ctx, "c1", Query{})
			if err == nil {
				t.Fatal("Users after the change: no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not say %q: %v", w, err)
				}
			}
			var newer *NewerSchemaError
			if errors.As(err, &newer) != (c.name == "a newer beacon's schema") || c.name != "a newer beacon's schema" && strings.Contains(err.Error(), "newer Inventory Beacon") {
				t.Errorf("the error blames a newer beacon or does not: %v", err)
			}
		})
	}
}
