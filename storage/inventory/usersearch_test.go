package inventory

import (
	"context"
	"reflect"
	"testing"
)

// TestUserSearchIndexMatchesSQL: with the in-memory search index ready,
// the Users page's queries give exactly what they give in SQL without
// it: the same counts, the same rows in the same order, for typed
// texts (a letter, a word, a licence's label, across two fields, no
// match), sorted or not, on every page; and a kept snapshot, another
// connection and a SKU filter, which the index does not hold, still read
// their own rows.
func TestUserSearchIndexMatchesSQL(t *testing.T) {
	forEachStore(t, Options{}, testUserSearchIndexMatchesSQL)
}

func testUserSearchIndexMatchesSQL(t *testing.T, s *Store) {
	ctx := context.Background()
	const n = 2500
	writePageRun(t, s, "c1", n, 1, 0)
	old, err := s.CurrentRun(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	writePageRun(t, s, "c1", n+7, 1, 0) // the current snapshot; old is kept
	writePageRun(t, s, "c2", 300, 1, 0)
	label := func(part string) string {
		return map[string]string{"ENTERPRISEPACK": "Office 365 E3 (ENTERPRISEPACK)",
			"ENTERPRISEPREMIUM": "Office 365 E5 (ENTERPRISEPREMIUM)"}[part]
	}

	type result struct {
		Count int
		IDs   []string
	}
	var queries []Query
	for _, search := range []string{"", "a", "AD", "ada ", "finance", "user0012", "user002499", "E5", "office 365",
		"enterprisepack", "ckholm", "sales\nclerk", "zz-nobody", "é"} {
		for _, sort := range []string{"", "displayName", "lastActivity"} {
			for _, off := range []int{0, 200, n - 150, n + 10} {
				for _, desc := range []bool{false, true} {
					queries = append(queries, Query{Search: search, Sort: sort, Desc: desc, Limit: 200, Offset: off, LicenseLabel: label})
				}
			}
			queries = append(queries, Query{Search: search, Sort: sort, LicenseLabel: label}) // the whole list (export)
		}
		queries = append(queries, Query{Search: search, RunID: old.ID, Limit: 200, LicenseLabel: label},
			Query{Search: search, SKU: skuE5, Limit: 200, LicenseLabel: label}, Query{Search: search, Limit: 50},
			Query{Search: search, SKU: skuE3, Sort: "displayName", Desc: true, Offset: 150, Limit: 200, LicenseLabel: label},
			Query{Search: search, SKU: "3" + skuE3[1:], Sort: "displayName", Limit: 200, LicenseLabel: label})
	}
	read := func(conn string, q Query) result {
		t.Helper()
		c, err := s.CountUsers(ctx, conn, q)
		if err != nil {
			t.Fatal(err)
		}
		us, err := s.Users(ctx, conn, q)
		if err != nil {
			t.Fatal(err)
		}
		return result{c, ids(us)}
	}
	want := map[int]result{}
	for i, q := range queries {
		want[i] = read("c1", q)
	}
	want2 := read("c2", Query{Search: "ada", Limit: 200})
	matched := 0
	for _, r := range want {
		if r.Count > 0 && r.Count < n {
			matched++
		}
	}
	if matched < len(queries)/3 {
		t.Fatalf("only %d of %d queries match some users but not all: the test needs more", matched, len(queries))
	}

	waitUserSearch(t, s, "c1")
	for i, q := range queries {
		if got := read("c1", q); !reflect.DeepEqual(got, want[i]) {
			t.Errorf("search %q sort %q desc %v offset %d run %d SKU %q: with the index %d users %v, in SQL %d users %v",
				q.Search, q.Sort, q.Desc, q.Offset, q.RunID, q.SKU, got.Count, head(got.IDs), want[i].Count, head(want[i].IDs))
		}
	}
	if got := read("c2", Query{Search: "ada", Limit: 200}); !reflect.DeepEqual(got, want2) {
		t.Errorf("another connection with c1's index: %d users %v, want %d %v", got.Count, head(got.IDs), want2.Count, head(want2.IDs))
	}
	// The index answered: the counts came from it.
	run, _ := s.snapshotRun(ctx, "c1", Query{})
	if _, ok, err := s.indexedCount(ctx, run, Query{Search: "ada"}); !ok || err != nil {
		t.Fatalf("the index did not answer a search of the current snapshot (%v)", err)
	}
}

func head(ids []string) []string { return ids[:min(len(ids), 5)] }

// TestPrepareUserSearchFollowsTheSnapshot: after another import the index
// of the previous snapshot no longer answers, and preparing again indexes
// the new one, whose new users a search finds.
func TestPrepareUserSearchFollowsTheSnapshot(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	writePageRun(t, s, "c1", 100, 0, 0)
	waitUserSearch(t, s, "c1")
	writePageRun(t, s, "c1", 120, 0, 0)
	if s.UserSearchReady(ctx, "c1") {
		t.Fatal("the index of the previous snapshot answers for the new one")
	}
	q := Query{Search: "user000110"}
	if n, err := s.CountUsers(ctx, "c1", q); err != nil || n != 1 {
		t.Fatalf("in SQL: %d users, %v; want 1", n, err)
	}
	waitUserSearch(t, s, "c1")
	if n, err := s.CountUsers(ctx, "c1", q); err != nil || n != 1 {
		t.Fatalf("with the new index: %d users, %v; want 1", n, err)
	}
}
