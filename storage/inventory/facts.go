package inventory

import (
	"math/bits"
	"slices"
	"strings"
	"sync"
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
type userFacts struct {
	mu    sync.Mutex
	index map[string]int32
	keys  []string
	masks []uint64
	last  [][reportSlots]string
	dates map[string]string // one copy of each date (see date)
}

// reportSlots is one date per report kind (ReportKinds order).
const reportSlots = 3

func newUserFacts() *userFacts {
	return &userFacts{index: map[string]int32{}, dates: map[string]string{}}
}

// expect makes room for n names at once: growing a table of 100,000 names
// by doubling rehashed and copied it over and over (40 MB of garbage an
// import). A table already in use is left as it is.
func (f *userFacts) expect(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.keys) > 0 || n <= 0 {
		return
	}
	n += n / 16 // report rows name a few users the directory no longer has
	f.index = make(map[string]int32, n)
	f.keys = make([]string, 0, n)
	f.masks = make([]uint64, 0, n)
	f.last = make([][reportSlots]string, 0, n)
}

// id returns key's entry, adding it (mu held). The key is copied: a name
// that ToLower left as it was is a piece of the CSV line or the decoded
// user it came from, and would keep all of that alive until Finish.
func (f *userFacts) id(key string) int32 {
	if i, ok := f.index[key]; ok {
		return i
	}
	i := int32(len(f.keys))
	key = strings.Clone(key)
	f.index[key] = i
	f.keys = append(f.keys, key)
	f.masks = append(f.masks, 0)
	f.last = append(f.last, [reportSlots]string{})
	return i
}

// date returns the one copy of d (mu held): a few hundred distinct dates,
// and a piece of a CSV line must not be kept.
func (f *userFacts) date(d string) string {
	if c, ok := f.dates[d]; ok {
		return c
	}
	c := strings.Clone(d)
	f.dates[c] = c
	return c
}

// noteDate records an activity date of key in the report of slot (mu held).
func (f *userFacts) noteDate(slot int, key, d string) {
	i := f.id(key)
	if d > f.last[i][slot] {
		f.last[i][slot] = f.date(d)
	}
}

// forgetReport drops the dates of one report (its rows were discarded).
func (f *userFacts) forgetReport(slot int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.last {
		f.last[i][slot] = ""
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
	for _, x := range f.last[i] {
		d = max(d, x)
	}
	return d
}

// activity is each user's latest activity, in key order.
type activity struct{ keys, dates []string }

// sortedActivity lists the names with an activity date, sorted by name.
// The lock is held only to collect them: sorting 100,000 names takes tens
// of milliseconds, and users are still being staged meanwhile.
func (f *userFacts) sortedActivity() activity {
	type named struct{ key, date string }
	f.mu.Lock()
	all := make([]named, 0, len(f.keys))
	for i, k := range f.keys {
		if d := f.latest(i); d != "" {
			all = append(all, named{k, d})
		}
	}
	f.mu.Unlock()
	slices.SortFunc(all, func(a, b named) int { return strings.Compare(a.key, b.key) })
	a := activity{keys: make([]string, len(all)), dates: make([]string, len(all))}
	for i, n := range all {
		a.keys[i], a.dates[i] = n.key, n.date
	}
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
