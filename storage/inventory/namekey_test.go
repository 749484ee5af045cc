package inventory

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestNameKeyOrder: names sort as people read them, accents and case
// aside, whatever bytes they are made of (issue 23 item 10).
func TestNameKeyOrder(t *testing.T) {
	names := []string{"Zoë Adams", "Inigo Montoya", "émile Zola", "Åsa Berg", "Íñigo Pérez", "eve", "Eva", "Øystein Lie",
		"Ørjan", "Bruno", "Łukasz", "ÉLODIE", "Straße", "Strasse B", "Çelik", "Chloé"}
	slices.SortStableFunc(names, func(a, b string) int { return strings.Compare(NameKey(a), NameKey(b)) })
	want := []string{"Åsa Berg", "Bruno", "Çelik", "Chloé", "ÉLODIE", "émile Zola", "Eva", "eve", "Inigo Montoya", "Íñigo Pérez",
		"Łukasz", "Ørjan", "Øystein Lie", "Straße", "Strasse B", "Zoë Adams"}
	if !slices.Equal(names, want) {
		t.Fatalf("order\n %q\nwant\n %q", names, want)
	}
	for in, key := range map[string]string{"Íñigo": "inigo", "ÆSIR": "aesir", "Ærø": "aero", "ASCII Only 7": "ascii only 7", "": ""} {
		if got := NameKey(in); got != key {
			t.Errorf("NameKey(%q) = %q, want %q", in, got, key)
		}
	}
}

func BenchmarkNameKey(b *testing.B) {
	var buf []byte
	for i := 0; i < b.N; i++ {
		buf = appendNameKey(buf[:0], "Chloé Svensson 123")
	}
}

func TestUserColumnsCounted(t *testing.T) {
	if userCols != len(userColumns) {
		t.Fatalf("userCols = %d, but PrepareUsers binds %d columns", userCols, len(userColumns))
	}
}

// TestNameKeyFilledOnUpgrade: a database of a build from before name_key
// gets its users' keys filled in on opening (the database's lower
// case of the name, until the next import), so the Users page still
// sorts them by name; in both stores (issue 21).
func TestNameKeyFilledOnUpgrade(t *testing.T) {
	forEachStoreReopen(t, func(t *testing.T, open func(Options) *Store) {
		ctx := context.Background()
		s := open(Options{})
		us := testUsers(5, "u")
		for i, n := range []string{"delta Dawn", "Bravo Smith", "echo Park", "Alpha Jones", "charlie Brown"} {
			us[i].DisplayName = n
		}
		importUsers(t, s, "c1", us, Outcome{})
		// What an earlier build left: no name_key (and no BI views, which
		// read it), at the schema version before it.
		for _, v := range biViews() {
			if _, err := s.DB().ExecContext(ctx, "DROP VIEW "+v.name); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.DB().ExecContext(ctx, "ALTER TABLE users DROP COLUMN name_key"); err != nil {
			t.Fatal(err)
		}
		setSchemaVersion(t, s, schemaVersion-1)
		s.Close()
		s = open(Options{})
		rows, err := s.DB().QueryContext(ctx, "SELECT display_name, name_key FROM users")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var name, key string
			if err := rows.Scan(&name, &key); err != nil {
				t.Fatal(err)
			}
			if key != strings.ToLower(name) {
				t.Errorf("after the upgrade %q has the name key %q, want %q", name, key, strings.ToLower(name))
			}
			n++
		}
		if err := rows.Err(); err != nil || n != len(us) {
			t.Fatalf("%d users after the upgrade (%v), want %d", n, err, len(us))
		}
		got, err := s.Users(ctx, "c1", Query{Sort: "displayName"})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range got {
			names = append(names, u.DisplayName)
		}
		if want := []string{"Alpha Jones", "Bravo Smith", "charlie Brown", "delta Dawn", "echo Park"}; !slices.Equal(names, want) {
			t.Fatalf("sorted by name after the upgrade: %q, want %q", names, want)
		}
	})
}
