package inventory

import (
	"fmt"
	"testing"
)

// TestFactsExpect: sized for the tenant's count, the table never grows
// while the users are staged, and sizing a table in use changes nothing.
func TestFactsExpect(t *testing.T) {
	f := newUserFacts()
	f.expect(1000)
	keys := cap(f.keys)
	f.mu.Lock()
	for i := range 1000 {
		f.masks[f.id(fmt.Sprintf("user%d@contoso.com", i))] |= 1
	}
	f.noteDate(0, "user7@contoso.com", "2026-11-01")
	f.mu.Unlock()
	if cap(f.keys) != keys || len(f.keys) != 1000 {
		t.Fatalf("the table grew: cap %d -> %d, len %d", keys, cap(f.keys), len(f.keys))
	}
	f.expect(5000) // in use: ignored
	if len(f.keys) != 1000 || f.masks[f.index["user999@contoso.com"]] != 1 || f.latest(int(f.index["user7@contoso.com"])) != "2026-11-01" {
		t.Fatalf("expect on a table in use changed it: %d keys", len(f.keys))
	}
	if cap(f.keys) != keys {
		t.Fatalf("expect on a table in use resized it: cap %d -> %d", keys, cap(f.keys))
	}
}
