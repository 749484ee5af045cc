package inventory

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/inventorybeacon/beacon/internal/pgtest"
)

// A role that owns only a schema of its own (what a DBA gives a beacon on
// PostgreSQL 15 and later, where ordinary roles may not create in public)
// keeps the whole inventory there: tables, compatibility functions and
// BI views, nothing in public; imports, reads and the views work. The two
// cases share one database, as two beacons' schemas may: each has its
// own functions and operator.
func TestPostgresOwnSchema(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	for _, c := range []struct{ name, setup, query, schema string }{
		{"search_path in the address", "CREATE SCHEMA beacon AUTHORIZATION %[1]s", "&search_path=beacon", "beacon"},
		// PostgreSQL's default search_path starts with "$user".
		{"schema named after the role", "CREATE SCHEMA %[1]s AUTHORIZATION %[1]s", "", ""},
		// A name that needs quoting (capitals, a space): the schema is
		// looked up by its name, never parsed as an identifier again.
		{"schema whose name needs quoting", `CREATE SCHEMA "Beacon Data" AUTHORIZATION %[1]s`, "&search_path=%22Beacon%20Data%22", "Beacon Data"},
	} {
		// The parent's roles: both schemas exist at once.
		role, u := pgtest.NewRole(t, db, c.setup)
		t.Run(c.name, func(t *testing.T) {
			schema := c.schema
			if schema == "" {
				schema = role
			}
			s, err := OpenURL(ctx, u+c.query, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			us := testUsers(5, "u")
			r := importUsers(t, s, "c1", us, Outcome{})
			if got := readBack(t, s, r.ID); len(got) != len(us) {
				t.Fatalf("read back %d users, want %d", len(got), len(us))
			}
			var n int
			if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM beacon_users WHERE connection_id = 'c1'").Scan(&n); err != nil || n != len(us) {
				t.Fatalf("beacon_users has %d rows (%v), want %d", n, err, len(us))
			}
			if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM beacon_user_licenses").Scan(&n); err != nil || n == 0 {
				t.Fatalf("beacon_user_licenses (json_each, ->>) has %d rows (%v)", n, err)
			}
			where := func(q string) map[string]int {
				rows, err := s.db.QueryContext(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				out := map[string]int{}
				for rows.Next() {
					var ns string
					var k int
					if err := rows.Scan(&ns, &k); err != nil {
						t.Fatal(err)
					}
					out[ns] = k
				}
				return out
			}
			rels := where(`SELECT n.nspname, COUNT(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
				WHERE c.relowner = current_user::regrole AND n.nspname <> 'pg_toast' GROUP BY n.nspname`)
			funcs := where(`SELECT n.nspname, COUNT(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
				WHERE p.proowner = current_user::regrole GROUP BY n.nspname
				UNION ALL SELECT 'operator in ' || n.nspname, COUNT(*) FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
				WHERE o.oprowner = current_user::regrole GROUP BY n.nspname`)
			if len(rels) != 1 || rels[schema] == 0 || len(funcs) != 2 || funcs[schema] < 8 || funcs["operator in "+schema] != 1 {
				t.Errorf("the role's tables and views are in %v, its functions in %v; want all in %s", rels, funcs, schema)
			}
		})
	}
}

// A role that may create nowhere is told, in plain words, what the DBA
// must give it.
func TestPostgresNoSchemaToCreateIn(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	role, u := pgtest.NewRole(t, db, `CREATE SCHEMA "No Rights"; GRANT USAGE ON SCHEMA "No Rights" TO %[1]s`)
	for _, c := range []struct{ query, want string }{
		{"", "may not create or change the inventory's tables, functions and views in schema public"},
		{"&search_path=missing", "no schema of the search path exists"},
		// The SQL to run spells a name that needs quoting quoted.
		{"&search_path=%22No%20Rights%22", `GRANT CREATE ON SCHEMA "No Rights" TO ` + role},
	} {
		s, err := OpenURL(ctx, u+c.query, Options{})
		if err == nil {
			s.Close()
			t.Fatalf("%s: a role without any right to create opened the inventory", c.query)
		}
		for _, w := range []string{c.want, "CREATE SCHEMA beacon AUTHORIZATION " + role, "search_path=beacon"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: the error does not say %q: %v", c.query, w, err)
			}
		}
	}
}

// A BI role's grants on the views survive their recreation by a build
// with other view definitions: it reads what it was given, and no more.
func TestPostgresViewGrantsKept(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	s, err := OpenURL(ctx, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	importUsers(t, s, "c1", testUsers(3, "u"), Outcome{})
	bi, biURL := pgtest.NewRole(t, db, "GRANT USAGE ON SCHEMA public TO %[1]s")
	for _, st := range []string{"GRANT SELECT ON beacon_users TO " + bi, "GRANT SELECT ON beacon_licenses TO PUBLIC"} {
		if _, err := s.db.ExecContext(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	viewOID := func() (oid int64) {
		if err := s.db.QueryRowContext(ctx, "SELECT 'beacon_users'::regclass::oid").Scan(&oid); err != nil {
			t.Fatal(err)
		}
		return oid
	}
	before := viewOID()
	// What a build with other view definitions finds: views to recreate.
	if _, err := s.db.ExecContext(ctx, "UPDATE beacon_schema SET views = 'another build'"); err != nil {
		t.Fatal(err)
	}
	s2, err := OpenURL(ctx, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if viewOID() == before {
		t.Fatal("opening did not recreate the views")
	}
	reader, err := OpenURL(ctx, biURL, Options{})
	if err == nil {
		reader.Close()
		t.Fatal("the BI role, which may not create, opened the inventory as a beacon")
	}
	conn, err := sql.Open("pgx", biURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int
	for _, v := range []string{"beacon_users", "beacon_licenses"} {
		if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+v).Scan(&n); err != nil || n == 0 {
			t.Errorf("the BI role reads %d rows of %s after the views were recreated (%v)", n, v, err)
		}
	}
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM beacon_runs").Scan(&n); err == nil {
		t.Error("the BI role reads beacon_runs, which it was never given")
	}
}
