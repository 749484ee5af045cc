package inventory

import (
	"hash/maphash"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// userFacts is what staging keeps per lower-case user principal name for
// Finish: the SKUs of a staged user (bits from RunWriter.skuBit) and, per
// report, the latest activity date its rows give. One table for both:
// kept apart, the users' SKUs, each report's dates and their merge were
// five lookups per user in maps of 100,000 names (cache misses, 6% of an
// import's CPU); here a user costs one lookup and each report row one.
//
// It has its own lock: users are prepared on the fetching goroutines,
// report rows on the reports' own.
//
// Nothing in it holds a pointer per user: the names sit one after another
// in one byte arena, the table finding them is a slice of entry numbers,
// and dates are numbers of a small table of the distinct dates. The
// garbage collector then has nothing to trace in it however large the
// tenant. With a Go map of strings and a string per date, a 1,000,000-user
// import kept some 150 MB of pointers alive, right at the process's soft
// memory limit (TuneMemory), and spent 43% of its CPU in the collector:
// the cost per user grew 2.5 times from 100,000 to 1,000,000 users.
type userFacts struct {
	mu    sync.Mutex
	seed  maphash.Seed
	slots []int32  // open addressing by hash: entry+1, 0 free; a power of two long
	arena [][]byte // every entry's name, one after another, in blocks (nameBlock)
	ends  []uint32 // ends[i] is where entry i's name ends in arena (see nameBlock)
	// arenaCap is the bytes the arena's blocks take.
	arenaCap int
	masks    []uint64
	// refs are an entry's dates as numbers (1 + the index in dates; 0
	// none), read and written through ref and setRef: per report
	// (slots 0 to reportSlots-1) its latest date, and per workload (slot
	// workSlot(wl)) the latest activity date the report rows without a
	// concealed name give: the licence facts the history's figures need
	// (licenseFactsOf), which reading the report rows back in Finish cost
	// 0.45 s of CPU at 100,000 users. Two bytes a number, not four: 18
	// bytes a user less, 19 MB at 1,000,000 users, which took the import's
	// peak RSS near 400 MB. A tenant's reports give a few hundred distinct
	// dates, a few thousand at most (one a day since the service began);
	// should a table ever pass 65,534 the numbers past it are kept in wide.
	refs  [][dateSlots]uint16
	wide  map[wideRef]uint32
	dates []string          // each distinct date once
	times []time.Time       // dates parsed (zero: not a date)
	dateN map[string]uint32 // date -> 1 + its index in dates
	// expected is the names expect made room for.
	expected int
	// mem is what the table holds against the soft memory limit
	// (memlimit.go), from expect on.
	mem memoryHold
}

// reportSlots is one date per report kind (ReportKinds order).
const reportSlots = 3

// dateSlots are an entry's dates: its reports', then its workloads'.
const dateSlots = reportSlots + int(NumWorkloads)

// workSlot is workload wl's slot in refs.
func workSlot(wl Workload) int { return reportSlots + int(wl) }

// refWide in refs says the number is in wide.
const refWide = 1<<16 - 1

// wideRef is an entry's slot whose number does not fit in refs.
type wideRef struct {
	entry int32
	slot  uint8
}

// ref is entry i's date number in slot s (mu held).
func (f *userFacts) ref(i, s int) uint32 {
	n := uint32(f.refs[i][s])
	if n == refWide {
		return f.wide[wideRef{int32(i), uint8(s)}]
	}
	return n
}

// setRef makes entry i's date number in slot s n (mu held).
func (f *userFacts) setRef(i, s int, n uint32) {
	if f.refs[i][s] == refWide {
		delete(f.wide, wideRef{int32(i), uint8(s)})
	}
	if n >= refWide {
		if f.wide == nil {
			f.wide = map[wideRef]uint32{}
		}
		f.wide[wideRef{int32(i), uint8(s)}] = n
		n = refWide
	}
	f.refs[i][s] = uint16(n)
}

func newUserFacts() *userFacts {
	return &userFacts{seed: maphash.MakeSeed(), slots: make([]int32, 16), dateN: map[string]uint32{}}
}

// bytesPerName is what expect reserves in the arena's first block for
// each name.
const bytesPerName = 32

// The arena keeps the names in blocks of up to nameBlock bytes; a full
// block is never copied, the next name starts a new one. One arena sized
// by expect at 32 bytes a name had to grow once the names were longer
// (45 bytes on average in the simulated tenants): at 1,000,000 users a
// 47 MB copy made while the 34 MB it replaced was still alive, at the
// listing's end, when the live heap stood at its highest (320 MB against
// a soft limit of 332). An entry's end is its block's number times
// nameBlock plus where it ends in the block: a name is never cut between
// two blocks.
const (
	nameBlockShift = 20
	nameBlock      = 1 << nameBlockShift
)

// expect makes room for n names at once: growing a table of 100,000 names
// by doubling rehashed and copied it over and over (40 MB of garbage an
// import). A table already in use is left as it is.
func (f *userFacts) expect(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.ends) > 0 || n <= 0 {
		return
	}
	n += n / 16 // report rows name a few users the directory no longer has
	f.expected = n
	f.slots = make([]int32, slotsFor(n))
	f.arena = [][]byte{make([]byte, 0, min(n*bytesPerName, nameBlock))}
	f.arenaCap = cap(f.arena[0])
	f.ends = make([]uint32, 0, n)
	f.masks = make([]uint64, 0, n)
	f.refs = make([][dateSlots]uint16, 0, n)
	f.mem.set(f.reserved())
}

// reserved is the bytes the table's per-user parts take.
func (f *userFacts) reserved() int64 {
	return int64(cap(f.slots))*4 + int64(f.arenaCap) + int64(cap(f.ends))*4 + int64(cap(f.masks))*8 +
		int64(cap(f.refs))*2*int64(dateSlots)
}

// free gives back the soft memory limit expect raised: the run is over,
// its facts about to be garbage.
func (f *userFacts) free() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mem.set(0)
}

// slotsFor is the table length that holds n entries at most two thirds
// full. Half full, a table for 1,000,000 names (and the few the reports
// add) took the next power of two, 4,194,304 slots, a quarter full: 8 MB
// more held for the whole import, which took its peak RSS near 400 MB.
func slotsFor(n int) int {
	size := 16
	for size*2 < 3*n {
		size *= 2
	}
	return size
}

// name is entry i's name. It points into the arena, whose bytes are never
// written again: a block still filling may be moved to grow (the first of
// a table that expect did not size), and the old one then stays alive as
// long as such a name does.
func (f *userFacts) name(i int) string { return entryName(f.arena, f.ends, i) }

// entryName is entry i's name in an arena and its ends.
func entryName(arena [][]byte, ends []uint32, i int) string {
	start, end := uint32(0), ends[i]
	if i > 0 {
		start = ends[i-1]
	}
	if start == end {
		return ""
	}
	// The previous name may end in an earlier block.
	b := (end - 1) >> nameBlockShift
	start = max(start, b<<nameBlockShift)
	return unsafe.String(&arena[b][start-b<<nameBlockShift], int(end-start))
}

// appendName adds key to the arena and returns where it ends (mu held).
// A key longer than a block (no principal name is: they have at most 113
// characters) is kept cut to one.
func (f *userFacts) appendName(key string) uint32 {
	key = key[:min(len(key), nameBlock)]
	n := len(f.arena)
	if n == 0 || len(f.arena[n-1])+len(key) > nameBlock {
		size := nameBlock
		if n == 0 {
			size = max(len(key), 4096) // a small table, not sized by expect
		}
		f.arena = append(f.arena, make([]byte, 0, size))
		f.arenaCap += size
		n++
	}
	b := &f.arena[n-1]
	if len(*b)+len(key) > cap(*b) {
		// Only a first block smaller than nameBlock grows.
		g := make([]byte, len(*b), min(max(2*cap(*b), len(*b)+len(key)), nameBlock))
		copy(g, *b)
		f.arenaCap += cap(g) - cap(*b)
		*b = g
	}
	*b = append(*b, key...)
	return uint32(n-1)<<nameBlockShift + uint32(len(*b))
}

// find returns key's entry and true, or the free slot where it belongs
// and false (mu held).
func (f *userFacts) find(key string) (int, bool) {
	mask := uint64(len(f.slots) - 1)
	for h := maphash.String(f.seed, key) & mask; ; h = (h + 1) & mask {
		e := f.slots[h]
		if e == 0 {
			return int(h), false
		}
		if f.name(int(e-1)) == key {
			return int(e - 1), true
		}
	}
}

// lookup returns key's entry, or -1 when it has none (mu held).
func (f *userFacts) lookup(key string) int {
	if i, ok := f.find(key); ok {
		return i
	}
	return -1
}

// id returns key's entry, adding it (mu held). The key is copied into the
// arena: a name that ToLower left as it was is a piece of the CSV line or
// the decoded user it came from, and would keep all of that alive until
// Finish.
func (f *userFacts) id(key string) int32 {
	slot, ok := f.find(key)
	if ok {
		return int32(slot)
	}
	if 3*(len(f.ends)+1) > 2*len(f.slots) {
		f.grow()
		slot, _ = f.find(key)
	}
	i := int32(len(f.ends))
	f.ends = append(f.ends, f.appendName(key))
	f.masks = append(f.masks, 0)
	f.refs = append(f.refs, [dateSlots]uint16{})
	f.slots[slot] = i + 1
	if f.mem.n > 0 {
		f.mem.set(f.reserved()) // grown past what expect made room for
	}
	return i
}

// grow doubles the table and places every entry again (mu held).
func (f *userFacts) grow() {
	f.slots = make([]int32, 2*len(f.slots))
	mask := uint64(len(f.slots) - 1)
	for i := range f.ends {
		h := maphash.String(f.seed, f.name(i)) & mask
		for f.slots[h] != 0 {
			h = (h + 1) & mask
		}
		f.slots[h] = int32(i + 1)
	}
}

// dateOf is entry i's date in one report slot ("" for none).
func (f *userFacts) dateOf(i, slot int) string {
	if n := f.ref(i, slot); n != 0 {
		return f.dates[n-1]
	}
	return ""
}

// noteDate records an activity date of key in the report of slot (mu held).
func (f *userFacts) noteDate(slot int, key, d string) {
	i := f.id(key)
	if d <= f.dateOf(int(i), slot) {
		return
	}
	f.setRef(int(i), slot, f.dateNumber(d))
}

// dateNumber is d's number in the table of dates, adding it (mu held).
func (f *userFacts) dateNumber(d string) uint32 {
	n, ok := f.dateN[d]
	if !ok {
		// A few hundred distinct dates; a piece of a CSV line must not
		// be kept.
		c := strings.Clone(d)
		t, _ := time.Parse(DateLayout, c)
		f.dates = append(f.dates, c)
		f.times = append(f.times, t)
		n = uint32(len(f.dates))
		f.dateN[c] = n
	}
	return n
}

// noteWorkload records a workload's activity date of entry i, kept when
// it is a date and later than the one noted (mu held). Dates in
// DateLayout compare as text.
func (f *userFacts) noteWorkload(i int32, wl Workload, d string) {
	n := f.dateNumber(d)
	if f.times[n-1].IsZero() {
		return
	}
	if old := f.ref(int(i), workSlot(wl)); old == 0 || d > f.dates[old-1] {
		f.setRef(int(i), workSlot(wl), n)
	}
}

// workloads is key's latest activity per workload, as
// Store.workloadActivity reads it from the report rows.
func (f *userFacts) workloads(key string) [NumWorkloads]time.Time {
	var out [NumWorkloads]time.Time
	f.mu.Lock()
	defer f.mu.Unlock()
	i := f.lookup(key)
	if i < 0 {
		return out
	}
	for wl := range NumWorkloads {
		if n := f.ref(i, workSlot(wl)); n != 0 {
			out[wl] = f.times[n-1]
		}
	}
	return out
}

// forgetReport drops the dates of one report (its rows were discarded).
func (f *userFacts) forgetReport(slot int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cols := workloadColumns[ReportKinds[slot]]
	for i := range f.refs {
		f.setRef(i, slot, 0)
		for _, c := range cols {
			f.setRef(i, workSlot(c.wl), 0)
		}
	}
}

// forgetSKUs drops the users' SKUs (the users were discarded).
func (f *userFacts) forgetSKUs() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.masks)
}

// latest is entry i's latest date over all reports ("" for none).
func (f *userFacts) latest(i int) string {
	d := ""
	for slot := range reportSlots {
		d = max(d, f.dateOf(i, slot))
	}
	return d
}

// activity is each user's latest activity, in key order: entries of the
// table and their dates' numbers, 8 bytes a user. Two strings a user (and
// a copy while sorting) were 64 MB at 1,000,000 users, made while the
// users were still being listed: the import's peak. The names and dates
// are read through the table's parts as they were when sorted, which
// later entries never change (they only append).
type activity struct {
	ents  []datedEntry
	arena [][]byte
	ends  []uint32
	dates []string
}

type datedEntry struct {
	entry int32
	date  uint32 // 1 + the index in dates
}

func (a *activity) len() int { return len(a.ents) }

// key is the i-th name.
func (a *activity) key(i int) string { return entryName(a.arena, a.ends, int(a.ents[i].entry)) }

// date is the i-th name's latest activity date.
func (a *activity) date(i int) string { return a.dates[a.ents[i].date-1] }

// latestNumber is entry i's latest date over all reports as its number
// (1 + its index in dates; 0 for none).
func (f *userFacts) latestNumber(i int) uint32 {
	best := uint32(0)
	for slot := range reportSlots {
		if n := f.ref(i, slot); n != 0 && (best == 0 || f.dates[n-1] > f.dates[best-1]) {
			best = n
		}
	}
	return best
}

// sortedActivity lists the names with an activity date, sorted by name.
// The lock is held only to collect them: sorting 100,000 names takes tens
// of milliseconds, and users are still being staged meanwhile.
func (f *userFacts) sortedActivity() activity {
	f.mu.Lock()
	// The blocks' headers are copied: the last one's length changes as
	// names are added meanwhile.
	a := activity{arena: slices.Clone(f.arena), ends: f.ends, dates: f.dates}
	a.ents = make([]datedEntry, 0, len(f.ends))
	for i := range f.ends {
		if d := f.latestNumber(i); d != 0 {
			a.ents = append(a.ents, datedEntry{int32(i), d})
		}
	}
	f.mu.Unlock()
	slices.SortFunc(a.ents, func(x, y datedEntry) int {
		return strings.Compare(entryName(a.arena, a.ends, int(x.entry)), entryName(a.arena, a.ends, int(y.entry)))
	})
	return a
}

// activeBySKU counts, per SKU bit, the users with the SKU whose latest
// activity is on or after cutoff.
func (f *userFacts) activeBySKU(bitsUsed int, cutoff string) []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	active := make([]int, bitsUsed)
	for i, mask := range f.masks {
		if mask == 0 || f.latest(i) < cutoff {
			continue
		}
		for ; mask != 0; mask &= mask - 1 {
			active[bits.TrailingZeros64(mask)]++
		}
	}
	return active
}
