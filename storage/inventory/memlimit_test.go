package inventory

import (
	"context"
	"math"
	"runtime/debug"
	"testing"
	"unsafe"
)

// setMemoryLimit sets the runtime's soft memory limit for one test.
func setMemoryLimit(t *testing.T, n int64) {
	was := debug.SetMemoryLimit(n)
	t.Cleanup(func() { debug.SetMemoryLimit(was) })
}

func memoryLimit() int64 { return debug.SetMemoryLimit(-1) }

func TestHoldMemoryMovesTheLimit(t *testing.T) {
	setMemoryLimit(t, 150<<20)
	a := holdMemory(16 << 20)
	b := holdMemory(8 << 20)
	// Each by what it holds, less an eighth.
	if got := memoryLimit(); got != 150<<20+14<<20+7<<20 {
		t.Fatalf("limit with 24 MiB held: %d MiB", got>>20)
	}
	a()
	a() // once only
	if got := memoryLimit(); got != 157<<20 {
		t.Fatalf("limit with 8 MiB held: %d MiB", got>>20)
	}
	b()
	if got := memoryLimit(); got != 150<<20 {
		t.Fatalf("limit with nothing held: %d", got)
	}

	// Without a limit (the library used by a program that set none)
	// there is none to move.
	debug.SetMemoryLimit(math.MaxInt64)
	c := holdMemory(10 << 20)
	if got := memoryLimit(); got != math.MaxInt64 {
		t.Fatalf("no limit became %d", got)
	}
	c()
	if got := memoryLimit(); got != math.MaxInt64 {
		t.Fatalf("no limit became %d", got)
	}
}

// A run raises the limit by the per-user facts and licensed users it
// reserves for the tenant's users, and gives it back when it ends; an incremental run also
// by the previous snapshot's fingerprints while it compares with them.
func TestRunHoldsItsFactsAgainstTheMemoryLimit(t *testing.T) {
	forEachStore(t, Options{}, testRunHoldsItsFactsAgainstTheMemoryLimit)
}

func testRunHoldsItsFactsAgainstTheMemoryLimit(t *testing.T, s *Store) {
	ctx := context.Background()
	const limit = 150 << 20
	setMemoryLimit(t, limit)
	importGood(t, s, "c1", 40, "a")
	if got := memoryLimit(); got != limit {
		t.Fatalf("limit after a run that expected nobody: %d, want %d", got, limit)
	}

	w := beginWithSKUs(t, s, "c1")
	<-w.hist.done
	prev := int64(cap(w.hist.prev))*int64(unsafe.Sizeof(prevUser{})) + int64(len(w.hist.seen)) + int64(len(w.hist.slots))*4
	if prev == 0 {
		t.Fatal("the second run read no fingerprints of the first")
	}
	if got := memoryLimit(); got != limit+raiseFor(prev) {
		t.Fatalf("limit with the fingerprints held: %d, want %d", got, limit+raiseFor(prev))
	}
	w.ExpectUsers(100_000)
	facts := w.facts.reserved() + w.lics.reserved()
	if facts < 100_000*bytesPerName {
		t.Fatalf("facts for 100,000 users reserve %d bytes", facts)
	}
	want := limit + raiseFor(prev) + raiseFor(w.facts.reserved()) + raiseFor(w.lics.reserved())
	if got := memoryLimit(); got != want {
		t.Fatalf("limit with the facts held: %d, want %d", got, want)
	}
	if err := w.AddUsers(ctx, testUsers(40, "a")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(ctx, Outcome{Status: StatusSucceeded}); err != nil {
		t.Fatal(err)
	}
	if got := memoryLimit(); got != limit {
		t.Fatalf("limit after the run: %d, want %d", got, limit)
	}
}
