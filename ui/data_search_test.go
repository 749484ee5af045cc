package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/inventorybeacon/beacon/storage/inventory"
	"github.com/inventorybeacon/beacon/ui/internal/testinventory"
)

// Typing into the Users page's search, key by key, updates the list after
// each key once the snapshot's search index is ready (issue 21): each
// search lands with its own count and first rows, without waiting for
// typing to pause.
func TestUsersSearchFollowsEachKey(t *testing.T) {
	store := bigInventory(t)
	m := dataWindow(t, store, bigConnID, Deps{})
	p, _ := openPage(t, m, PageUsers)
	// Showing the page built the index in the background.
	waitUIWithin(t, dataWait, "the users' search index", func() bool { return store.UserSearchIndexed(bigConnID) })
	upn := colIndex(t, userColumns, "User Principal Name")
	typed := ""
	for _, key := range "user0042" {
		typed += string(key)
		mk := markData(t, p)
		onUI(func() { test.Type(p.search, string(key)) })
		e := waitQuery(t, p, mk, func(e landing) bool { return e.q.Search == typed })
		var want []int
		for i := 0; i < bigUsers; i++ {
			if strings.Contains(testinventory.UPN(i), typed) {
				want = append(want, i)
			}
		}
		if e.err != nil || e.total != len(want) {
			t.Fatalf("typed %q: %d users, err %v; want %d", typed, e.total, e.err, len(want))
		}
		if got, first := screenCell(t, p, 0, upn), testinventory.UPN(sortedUsers(want, false)[0]); got != first {
			t.Fatalf("typed %q: the first row shows %q, want %q", typed, got, first)
		}
		var status string
		onUI(func() { status = p.status.Text })
		requireContains(t, "status", status, fmt.Sprintf("%s of 100,000 users match “%s”", count(len(want)), typed))
	}
}

// gatedSource holds the results of one search text until released, and
// then delivers them even though a newer search cancelled it: a slow
// query that ends just after the next key was typed.
type gatedSource struct {
	dataSource
	text       string
	gate, done chan struct{}
}

func (g gatedSource) count(ctx context.Context, s *inventory.Store, connID string, q inventory.Query) (int, error) {
	if q.Search == g.text {
		<-g.gate
		ctx = context.Background()
	}
	return g.dataSource.count(ctx, s, connID, q)
}

func (g gatedSource) each(ctx context.Context, s *inventory.Store, connID string, q inventory.Query, fn func([]string) error) error {
	if q.Search == g.text {
		<-g.gate
		defer close(g.done)
		ctx = context.Background()
	}
	return g.dataSource.each(ctx, s, connID, q, fn)
}

// A search's results that arrive after a newer search's never replace
// them: typing on, the list shows the last text's rows whatever order
// the queries end in.
func TestUsersSearchDropsStaleResults(t *testing.T) {
	store := bigInventory(t)
	m := dataWindow(t, store, bigConnID, Deps{})
	p, _ := openPage(t, m, PageUsers)
	upn := colIndex(t, userColumns, "User Principal Name")
	g := gatedSource{text: "user00", gate: make(chan struct{}), done: make(chan struct{})}
	onUI(func() {
		g.dataSource = p.src
		p.src = g
	})
	onUI(func() { test.Type(p.search, "user00") })
	// The held search started: the page waits for its results.
	waitUI(t, "the held search", func() bool { return p.stale && p.q.Search == "user00" })
	mk := markData(t, p)
	onUI(func() { test.Type(p.search, "42") })
	e := waitQuery(t, p, mk, func(e landing) bool { return e.q.Search == "user0042" })
	if e.err != nil || e.total != 100 {
		t.Fatalf("user0042: %d users, err %v", e.total, e.err)
	}
	// Now the older search ends, with its 1,000 users.
	mk = markData(t, p)
	close(g.gate)
	recvTB(t, g.done, "end of the held search")
	// Its hand-over to the window is queued right after the end of the
	// search: a search typed after that lands after it.
	onUI(func() { test.Type(p.search, "1") })
	waitQuery(t, p, mk, func(e landing) bool { return e.q.Search == "user00421" })
	onUI(func() {
		if p.shown.n != mk.queries+1 || p.total != 10 || p.q.Search != "user00421" {
			t.Errorf("after the held search ended: %d results landed, %d users of %q shown; want 1, 10 of user00421",
				p.shown.n-mk.queries, p.total, p.q.Search)
		}
	})
	if got := screenCell(t, p, 0, upn); !strings.Contains(got, "user00421") {
		t.Errorf("the first row shows %q, want a user of user00421", got)
	}
}

// BenchmarkUsersKeystroke measures filter-as-you-type on the Users page
// with 100,000 users once the search index is ready: from the last key of
// a term typed to its count and first rows in the table, the pause after
// the key included (issue 21). ns/op is that latency.
func BenchmarkUsersKeystroke(b *testing.B) {
	store := bigInventory(b)
	m := dataWindow(b, store, bigConnID, Deps{})
	p, _ := openPage(b, m, PageUsers)
	waitUIWithin(b, dataWait, "the users' search index", func() bool { return store.UserSearchIndexed(bigConnID) })
	for _, term := range []string{"u", "user004", "user0042", "finance", "zhang 5", "nobody-matches-this"} {
		b.Run(strings.ReplaceAll(term, " ", "_"), func(b *testing.B) {
			before, key := term[:len(term)-1], term[len(term)-1:]
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				mk := markData(b, p)
				shown := false
				onUI(func() {
					shown = p.q.Search == before
					p.search.SetText(before)
				})
				if !shown {
					waitQuery(b, p, mk, func(e landing) bool { return e.q.Search == before })
				}
				b.StartTimer()
				// The key, as the entry hands it over (typing would insert
				// it where SetText left the cursor).
				mk = markData(b, p)
				onUI(func() { p.search.SetText(before + key) })
				waitQuery(b, p, mk, func(e landing) bool { return e.q.Search == term })
			}
		})
	}
}
