package inventory

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// TestFactsExpect: sized for the tenant's count, the table never grows
// while the users are staged, and sizing a table in use changes nothing.
func TestFactsExpect(t *testing.T) {
	f := newUserFacts()
	f.expect(1000)
	entries, slots, arena := cap(f.ends), len(f.slots), f.arenaCap
	f.mu.Lock()
	for i := range 1000 {
		f.masks[f.id(fmt.Sprintf("user%d@contoso.com", i))] |= 1
	}
	f.noteDate(0, "user7@contoso.com", "2026-11-01")
	f.mu.Unlock()
	if cap(f.ends) != entries || len(f.slots) != slots || f.arenaCap != arena || len(f.ends) != 1000 {
		t.Fatalf("the table grew: entries %d -> %d, slots %d -> %d, arena %d -> %d, len %d",
			entries, cap(f.ends), slots, len(f.slots), arena, f.arenaCap, len(f.ends))
	}
	f.expect(5000) // in use: ignored
	if len(f.ends) != 1000 || f.masks[f.lookup("user999@contoso.com")] != 1 || f.latest(f.lookup("user7@contoso.com")) != "2026-11-01" {
		t.Fatalf("expect on a table in use changed it: %d keys", len(f.ends))
	}
	if cap(f.ends) != entries || len(f.slots) != slots {
		t.Fatalf("expect on a table in use resized it: cap %d -> %d", entries, cap(f.ends))
	}
}

// TestFactsTable: without expect the table grows as names come, every
// name keeps its own entry, SKUs and latest date per report (the empty
// name too), and the activity lists every dated name once, sorted.
func TestFactsTable(t *testing.T) {
	f := newUserFacts()
	const n = 5000
	f.mu.Lock()
	for i := range n {
		key := fmt.Sprintf("u%05d@x", (i*7919)%n) // every name once, out of order
		if got := f.id(key); f.name(int(got)) != key {
			t.Fatalf("entry %d is named %q, want %q", got, f.name(int(got)), key)
		}
		f.masks[f.id(key)] |= uint64(1) << (i % 3)
	}
	f.id("") // a report row without a name
	for i := range n {
		if i%2 == 0 {
			key := fmt.Sprintf("u%05d@x", i)
			f.noteDate(0, key, "2026-11-02")
			f.noteDate(0, key, "2026-10-30") // older: kept out
			f.noteDate(2, key, fmt.Sprintf("2026-11-%02d", 1+i%28))
		}
	}
	f.mu.Unlock()
	if len(f.ends) != n+1 || f.lookup("") != n || f.lookup("nobody@x") != -1 {
		t.Fatalf("%d entries; the empty name is %d, an unknown one %d", len(f.ends), f.lookup(""), f.lookup("nobody@x"))
	}
	if len(f.dates) != 15 { // 2026-11-02 and the 14 odd days of the even users
		t.Errorf("%d distinct dates kept, want 15", len(f.dates))
	}
	for _, i := range []int{0, 2, 26, 54, 4998} {
		e := f.lookup(fmt.Sprintf("u%05d@x", i))
		want := max("2026-11-02", fmt.Sprintf("2026-11-%02d", 1+i%28))
		if e < 0 || f.dateOf(e, 0) != "2026-11-02" || f.latest(e) != want {
			t.Errorf("u%05d: entry %d, report 0 %q, latest %q, want %q", i, e, f.dateOf(e, 0), f.latest(e), want)
		}
	}
	if e := f.lookup("u00001@x"); f.latest(e) != "" {
		t.Errorf("an undated user has latest %q", f.latest(e))
	}
	a := f.sortedActivity()
	var keys []string
	for i := range a.len() {
		keys = append(keys, a.key(i))
		if want := f.latest(f.lookup(a.key(i))); a.date(i) != want {
			t.Fatalf("%s: activity %q, latest %q", a.key(i), a.date(i), want)
		}
	}
	if len(keys) != n/2 || !slices.IsSorted(keys) || keys[0] != "u00000@x" || a.date(1) != "2026-11-03" {
		t.Fatalf("activity: %d names, sorted %v, first %q, second's date %q", len(keys), slices.IsSorted(keys), keys[0], a.date(1))
	}
	f.forgetReport(0)
	if e := f.lookup("u00000@x"); f.latest(e) != "2026-11-01" {
		t.Errorf("after forgetting report 0: latest %q", f.latest(e))
	}
	active := f.activeBySKU(3, "2026-11-20")
	if active[0]+active[1]+active[2] == 0 {
		t.Error("no active user per SKU")
	}
}

// TestFactsDateNumbersWide: dates are kept as two-byte numbers of the
// table of distinct dates, so any text a report gives is kept as it is
// (before 1970, far in the future, not a date at all), and a table past
// 65,534 distinct dates keeps the numbers past it apart: every date reads
// back as noted, a later one replaces it either way, and forgetting a
// report forgets them too.
func TestFactsDateNumbersWide(t *testing.T) {
	f := newUserFacts()
	f.mu.Lock()
	base := time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC)
	for k := range 70000 { // 1800-01-01 to 1991-08-..., numbers 1 to 70000
		f.dateNumber(base.AddDate(0, 0, k).Format(DateLayout))
	}
	f.noteDate(0, "a@x", "1850-06-01") // a narrow number
	f.noteDate(1, "a@x", "9999-12-31") // a wide one
	f.noteDate(2, "b@x", "1601-01-01") // wide (new to the table), a Windows zero date
	f.noteDate(0, "c@x", "not a date") // wide, as text
	f.noteDate(0, "d@x", "2026-11-02") // wide
	f.noteDate(0, "d@x", "1969-07-20") // older: kept out
	f.noteDate(2, "e@x", "0001-01-01") // wide
	f.noteDate(2, "e@x", "1850-01-01") // later, narrow: replaces it
	a, e := f.lookup("a@x"), f.lookup("e@x")
	f.noteWorkload(int32(a), WorkloadTeams, "9999-12-31")
	f.noteWorkload(int32(a), WorkloadOfficeApps, "1969-12-31") // narrow
	f.noteWorkload(int32(a), WorkloadOfficeApps, "2100-02-28") // later, wide: replaces it
	f.noteWorkload(int32(e), WorkloadExchange, "not a date")   // not a date: kept out
	if len(f.dates) <= refWide {
		t.Fatalf("only %d distinct dates", len(f.dates))
	}
	want := map[string][reportSlots]string{
		"a@x": {"1850-06-01", "9999-12-31", ""},
		"b@x": {"", "", "1601-01-01"},
		"c@x": {"not a date", "", ""},
		"d@x": {"2026-11-02", "", ""},
		"e@x": {"", "", "1850-01-01"},
	}
	for key, dates := range want {
		i := f.lookup(key)
		for slot, d := range dates {
			if got := f.dateOf(i, slot); got != d {
				t.Errorf("%s report %d: %q, want %q", key, slot, got, d)
			}
		}
	}
	if got := f.latest(a); got != "9999-12-31" {
		t.Errorf("a's latest is %q", got)
	}
	if len(f.wide) != 6 { // a's report 1, Teams and Office apps, b's, c's, d's; e's went narrow
		t.Errorf("%d wide numbers, want 6: %v", len(f.wide), f.wide)
	}
	f.mu.Unlock()

	work := f.workloads("a@x")
	if !work[WorkloadTeams].Equal(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)) ||
		!work[WorkloadOfficeApps].Equal(time.Date(2100, 2, 28, 0, 0, 0, 0, time.UTC)) || !work[WorkloadExchange].IsZero() {
		t.Errorf("a's workloads: %v", work)
	}
	if work := f.workloads("e@x"); work != ([NumWorkloads]time.Time{}) {
		t.Errorf("e's workloads: %v", work)
	}
	act := f.sortedActivity()
	var got []string
	for i := range act.len() {
		got = append(got, act.key(i)+" "+act.date(i))
	}
	if w := []string{"a@x 9999-12-31", "b@x 1601-01-01", "c@x not a date", "d@x 2026-11-02", "e@x 1850-01-01"}; !slices.Equal(got, w) {
		t.Errorf("activity %q, want %q", got, w)
	}

	f.forgetReport(0) // the active users' report, with Teams
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dateOf(f.lookup("c@x"), 0) != "" || f.dateOf(a, 1) != "9999-12-31" || len(f.wide) != 3 {
		t.Errorf("after forgetting report 0: c %q, a %q, %d wide numbers", f.dateOf(f.lookup("c@x"), 0), f.dateOf(a, 1), len(f.wide))
	}
	if n := f.ref(a, workSlot(WorkloadTeams)); n != 0 {
		t.Errorf("a's Teams date survived forgetting its report: %d", n)
	}
}

// TestFactsArenaBlocks: names longer than expect made room for fill
// blocks that are never copied, however many come; every name reads back
// whole, at a block's end, in the next one, and the empty name between;
// the blocks take at most one block more than the names.
func TestFactsArenaBlocks(t *testing.T) {
	f := newUserFacts()
	f.expect(100000)
	f.mu.Lock()
	defer f.mu.Unlock()
	var firsts []*byte // each block's first byte, as it was made
	var keys []string
	total := 0
	for i := range 3 * f.expected / 2 { // past the names expected too
		key := fmt.Sprintf("first.last%06d@northwindtraders.onmicrosoft.com", i) // 49 bytes
		switch i % 1000 {
		case 7:
			key = ""
		case 8:
			key = strings.Repeat("x", 500)
		}
		keys = append(keys, key)
		total += len(key)
		f.id(key)
		if len(f.arena) > len(firsts) {
			firsts = append(firsts, unsafe.SliceData(f.arena[len(f.arena)-1]))
		}
	}
	for b, p := range firsts {
		if unsafe.SliceData(f.arena[b]) != p || cap(f.arena[b]) != nameBlock {
			t.Fatalf("block %d of %d was moved or is %d bytes", b, len(f.arena), cap(f.arena[b]))
		}
	}
	for i, key := range keys {
		if got := f.name(int(f.lookup(key))); got != key {
			t.Fatalf("name %d reads %q, want %q", i, got, key)
		}
	}
	if f.arenaCap > total+nameBlock || f.arenaCap != len(f.arena)*nameBlock {
		t.Fatalf("%d names of %d bytes in %d blocks taking %d bytes", len(keys), total, len(f.arena), f.arenaCap)
	}
	if r := f.reserved(); r < int64(f.arenaCap) {
		t.Fatalf("the table reserves %d bytes against the limit, its names alone take %d", r, f.arenaCap)
	}
}

// TestFactsArenaSmall: a table expect did not size starts small and its
// first block grows up to a whole one; names read back across the growth
// and the blocks after it.
func TestFactsArenaSmall(t *testing.T) {
	f := newUserFacts()
	f.mu.Lock()
	defer f.mu.Unlock()
	var keys []string
	for i := 0; f.arenaCap < 3*nameBlock; i++ {
		key := fmt.Sprintf("u%d@x", i)
		f.id(key)
		keys = append(keys, key)
		if i == 0 && f.arenaCap > 4096 {
			t.Fatalf("one name took a %d-byte block", f.arenaCap)
		}
	}
	for i, key := range keys {
		if got := f.name(i); got != key {
			t.Fatalf("entry %d reads %q, want %q", i, got, key)
		}
	}
	if cap(f.arena[0]) != nameBlock {
		t.Fatalf("the first block stopped growing at %d bytes", cap(f.arena[0]))
	}
}

// TestFactsActivityWhileStaging: the activity is sorted while users are
// still being staged (StageActivity runs beside the listing): names added
// meanwhile, into the block the activity reads, change none of its names
// (run with -race: the blocks' headers must not be shared).
func TestFactsActivityWhileStaging(t *testing.T) {
	f := newUserFacts()
	f.mu.Lock()
	for i := range 2000 {
		f.noteDate(0, fmt.Sprintf("u%05d@x", i), "2026-11-01")
	}
	f.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 2000; i < 40000; i++ {
			f.mu.Lock()
			f.id(fmt.Sprintf("u%05d@x", i))
			f.mu.Unlock()
		}
	}()
	for range 5 {
		a := f.sortedActivity()
		if a.len() < 2000 {
			t.Fatalf("%d names in the activity", a.len())
		}
		for i := range a.len() {
			if want := fmt.Sprintf("u%05d@x", i); a.key(i) != want {
				t.Fatalf("name %d of the activity is %q, want %q", i, a.key(i), want)
			}
		}
	}
	<-done
}
