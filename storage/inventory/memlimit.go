package inventory

import (
	"math"
	"runtime/debug"
	"sync"
)

// The binaries set a soft limit on the Go runtime's memory (cli.TuneMemory,
// 150 MiB): a budget for the garbage an import makes around its live set.
// What staging keeps per user for Finish (userFacts, the previous
// snapshot's fingerprints) is pointer-free, so the collector has nothing
// to trace in it, but it counts against that limit all the same, and it
// grows with the tenant: at 1,000,000 users the facts alone are some
// 100 MB, the heap sat above the limit for the whole import and the
// collector ran back to back (2,100 cycles, over half of the import's
// 72 s of CPU; 36 µs of CPU per user at 100,000 users, 73 at 1,000,000).
// So the limit is raised by what staging holds while it holds it: the
// budget for garbage stays what it is at every size, and the collector
// runs as often per user at 1,000,000 users as at 100,000.

// Not by all of it: an eighth of what is held comes out of the budget.
// At 1,000,000 users staging held some 175 MB (before licensestage.go
// numbered the licence states, which took about 60 MB off), and the process's peak
// RSS followed the limit (150 MiB plus all of it, 325-332 MB, plus
// SQLite's 12-18 MB and the runtime's own): sampled through imports
// (BEACON_MEMTRACE), the Go heap's goal sat at the limit for the last
// third of the listing and all of Finish. Since the users' names no
// longer move (facts.go) and the Graph client's page buffers are given
// back after the listing, the collector had room to spare there (77-85
// cycles an import instead of 124); the eighth, 22 MB at 1,000,000
// users and 2 MB at 100,000, spends that room on a lower peak instead.
const heldOutOfBudget = 8 // an eighth

// raiseFor is what holding n bytes adds to the limit.
func raiseFor(n int64) int64 { return n - n/heldOutOfBudget }

// limitMu serialises the limit's changes, so that writers staging at
// once compose.
var limitMu sync.Mutex

// holdMemory raises the runtime's soft memory limit, when one is set, for
// n bytes that stay live until the returned func is called (once): by
// raiseFor(n).
func holdMemory(n int64) (release func()) {
	r := raiseFor(n)
	if n <= 0 || !shiftMemoryLimit(r) {
		return func() {}
	}
	var once sync.Once
	return func() { once.Do(func() { shiftMemoryLimit(-r) }) }
}

// shiftMemoryLimit moves the soft memory limit by n bytes; false when no
// limit is set (then there is nothing to move).
func shiftMemoryLimit(n int64) bool {
	limitMu.Lock()
	defer limitMu.Unlock()
	cur := debug.SetMemoryLimit(-1)
	if cur == math.MaxInt64 {
		return false
	}
	debug.SetMemoryLimit(max(cur+n, 0))
	return true
}

// memoryHold is what one structure holds against the limit, followed as
// it grows (the zero value holds nothing).
type memoryHold struct {
	n       int64
	release func()
}

// set makes the hold n bytes.
func (h *memoryHold) set(n int64) {
	if n == h.n {
		return
	}
	if h.release != nil {
		h.release()
	}
	h.n, h.release = n, holdMemory(n)
}
