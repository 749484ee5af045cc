package inventory

import (
	"fmt"
	"slices"
	"testing"
)

// TestFactsExpect: sized for the tenant's count, the table never grows
// while the users are staged, and sizing a table in use changes nothing.
func TestFactsExpect(t *testing.T) {
	f := newUserFacts()
	f.expect(1000)
	entries, slots, arena := cap(f.ends), len(f.slots), cap(f.arena)
	f.mu.Lock()
	for i := range 1000 {
		f.masks[f.id(fmt.Sprintf("user%d@contoso.com", i))] |= 1
	}
	f.noteDate(0, "user7@contoso.com", "2026-11-01")
	f.mu.Unlock()
	if cap(f.ends) != entries || len(f.slots) != slots || cap(f.arena) != arena || len(f.ends) != 1000 {
		t.Fatalf("the table grew: entries %d -> %d, slots %d -> %d, arena %d -> %d, len %d",
			entries, cap(f.ends), slots, len(f.slots), arena, cap(f.arena), len(f.ends))
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
