package inventory

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/pgtest"
)

// benchSearches are what typing into the Users page's search asks, one
// keystroke after another, then a rare name, a text matching nobody, a
// department and a product's name (found through its licence label).
var benchSearches = []struct{ name, text string }{
	{"a", "a"}, {"al", "al"}, {"ali", "ali"}, {"alic", "alic"},
	{"rare", "kathleen abubakar"}, {"nothing", "qqxz"}, {"department", "engineering"}, {"label", "office 365 e3"},
}

// benchLabel names a few SKUs as the window's catalogue does.
func benchLabel(part string) string {
	switch part {
	case "ENTERPRISEPACK":
		return "Office 365 E3 (ENTERPRISEPACK)"
	case "SPE_E5":
		return "Microsoft 365 E5 (SPE_E5)"
	}
	return part
}

// benchSearchStore opens the database BEACON_BENCH_DB names (an
// inventory.db made by `beacon execute --full`, e.g. against the
// simulator with 1,000,000 users, or a postgres:// URL such an import
// wrote to) and the connection of its current snapshot; the benchmarks
// skip without one.
func benchSearchStore(b *testing.B) (*Store, string) {
	path := os.Getenv("BEACON_BENCH_DB")
	if path == "" {
		b.Skip("BEACON_BENCH_DB names no prepared inventory database")
	}
	open := Open
	if strings.HasPrefix(path, "postgres://") {
		open = OpenURL
	}
	s, err := open(context.Background(), path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	var connID string
	if err := s.db.QueryRow("SELECT connection_id FROM current LIMIT 1").Scan(&connID); err != nil {
		b.Fatal(err)
	}
	return s, connID
}

// BenchmarkUserSearch is one keystroke of the Users page's search as the
// page runs it: the count and the first 200 rows side by side, in the
// natural order. ns/op is the time until both are in.
func BenchmarkUserSearch(b *testing.B) {
	s, connID := benchSearchStore(b)
	benchUserSearch(b, s, connID, "")
}

// BenchmarkUserSearchSorted is BenchmarkUserSearch sorted by display name.
func BenchmarkUserSearchSorted(b *testing.B) {
	s, connID := benchSearchStore(b)
	benchUserSearch(b, s, connID, "displayName")
}

// BenchmarkUserSearchIndexed is BenchmarkUserSearch once the window's
// in-memory index (PrepareUserSearch) is ready.
func BenchmarkUserSearchIndexed(b *testing.B) {
	s, connID := benchSearchStore(b)
	waitUserSearch(b, s, connID)
	benchUserSearch(b, s, connID, "")
}

// BenchmarkUserSearchIndexedSorted is BenchmarkUserSearchSorted with the
// index ready.
func BenchmarkUserSearchIndexedSorted(b *testing.B) {
	s, connID := benchSearchStore(b)
	waitUserSearch(b, s, connID)
	benchUserSearch(b, s, connID, "displayName")
}

// BenchmarkUserSearchPrepare is the building of the index: how long after
// the Users page is shown its searches are answered from memory.
func BenchmarkUserSearchPrepare(b *testing.B) {
	s, connID := benchSearchStore(b)
	run, err := s.snapshotRun(context.Background(), connID, Query{})
	if err != nil {
		b.Fatal(err)
	}
	var x *userIndex
	for i := 0; i < b.N; i++ {
		if x, err = s.buildUserIndex(context.Background(), run); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(x.bytes())/1e6, "MB-held")
}

// waitUserSearch builds the index and waits until searches use it.
func waitUserSearch(tb testing.TB, s *Store, connID string) {
	s.PrepareUserSearch(connID)
	for end := time.Now().Add(5 * time.Minute); !s.UserSearchReady(context.Background(), connID); {
		if time.Now().After(end) {
			tb.Fatal("the users' search index is not ready after 5 minutes")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func benchUserSearch(b *testing.B, s *Store, connID, sort string) {
	ctx := context.Background()
	for _, t := range benchSearches {
		b.Run(t.name, func(b *testing.B) {
			q := Query{Search: t.text, Sort: sort, Limit: 200, LicenseLabel: benchLabel}
			for i := 0; i < b.N; i++ {
				if s.search.ready != nil {
					s.search.ready.last = nil // a new text each keystroke
				}
				var wg sync.WaitGroup
				var cerr error
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, cerr = s.CountUsers(ctx, connID, q)
				}()
				rows := 0
				err := s.EachUser(ctx, connID, q, func(*User) error { rows++; return nil })
				wg.Wait()
				if err != nil || cerr != nil {
					b.Fatal(err, cerr)
				}
			}
		})
	}
}

// BenchmarkUserSearchIndexedPostgres100k is BenchmarkUserSearchIndexed and
// …IndexedSorted on a PostgreSQL server of its own, over the test
// inventory's 100,000 users (no prepared database needed): with the index
// ready, what PostgreSQL adds is reading the page's 200 rows by rowid.
func BenchmarkUserSearchIndexedPostgres100k(b *testing.B) {
	s, err := OpenURL(context.Background(), pgtest.NewDB(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	import100k(b, s, false)
	if _, err := s.db.Exec("ANALYZE"); err != nil {
		b.Fatal(err)
	}
	var connID string
	if err := s.db.QueryRow("SELECT connection_id FROM current LIMIT 1").Scan(&connID); err != nil {
		b.Fatal(err)
	}
	waitUserSearch(b, s, connID)
	b.Run("natural", func(b *testing.B) { benchUserSearch(b, s, connID, "") })
	b.Run("byname", func(b *testing.B) { benchUserSearch(b, s, connID, "displayName") })
}
