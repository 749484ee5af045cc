package inventory

import (
	"database/sql/driver"
	"slices"
	"strconv"
	"unsafe"
)

// Staging binds about nine million values per 100,000 users, most of them
// strings and large integers. Putting a string or an int64 into a
// driver.Value copies it to a heap object of its own (runtime.convTstring,
// convT64): millions of 8- and 16-byte allocations per import, ~13% of the
// bytes it allocated and 2.4% of its CPU before counting the garbage
// collection they cause. argList instead keeps the strings' headers and
// the integers in slabs it allocates a few hundred at a time, and makes
// each value point into its slab.
//
// The values are ordinary interface values to everyone who reads them
// (the SQLite driver switches on their type and copies the bytes out).
// What makes this sound:
//   - An interface holding a string or an int64 is a type word and a
//     pointer to the value (Go's interface layout, which reflect and the
//     runtime rely on; valueAt checks it once at start-up).
//   - A slab is never written again at a position a value points to: a
//     full slab is replaced by a new one, not grown in place, and the old
//     one stays alive as long as a value points into it (the garbage
//     collector follows interior pointers). The same holds for a report
//     chunk's cells, which values point to where they are (strAt):
//     ParseReport cuts each chunk's cells from a slab of its own and never
//     writes them again.
//   - Slabs come from newStringSlab/newIntSlab, which are not inlined and
//     return them, so they are always on the heap.

// eface is the layout of an interface value.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

// valueAt returns a driver.Value of the same dynamic type as proto whose
// data is *p; p must point to a value of that type that is never written
// again.
func valueAt(proto driver.Value, p unsafe.Pointer) driver.Value {
	v := proto
	(*eface)(unsafe.Pointer(&v)).data = p
	return v
}

const slabValues = 512

//go:noinline
func newStringSlab() []string { return make([]string, 0, slabValues) }

//go:noinline
func newIntSlab() []int64 { return make([]int64, 0, slabValues) }

func init() {
	// The layout valueAt relies on, checked once rather than assumed.
	s, n := []string{"layout"}, []int64{1 << 40}
	if v := valueAt("", unsafe.Pointer(&s[0])); v != "layout" {
		panic("inventory: unexpected interface layout (string)")
	}
	if v := valueAt(int64(0), unsafe.Pointer(&n[0])); v != int64(1<<40) {
		panic("inventory: unexpected interface layout (int64)")
	}
}

// argList builds the arguments of a run of multi-row INSERTs: ordinals
// restart with each statement of perStmt values, counted rather than
// computed with a division per value (9 million values at 100,000 users).
type argList struct {
	vals         []driver.NamedValue
	ord, perStmt int
	strs         []string // the current string slab (see above)
	ints         []int64  // the current integer slab
}

func newArgList(buf []driver.NamedValue, n, perStmt int) *argList {
	return &argList{vals: slices.Grow(buf[:0], n), perStmt: perStmt}
}

func (a *argList) add(v driver.Value) {
	if a.ord == a.perStmt {
		a.ord = 0
	}
	a.ord++
	a.vals = append(a.vals, driver.NamedValue{Ordinal: a.ord, Value: v})
}

// str adds a string value without an allocation of its own.
func (a *argList) str(s string) {
	if len(a.strs) == cap(a.strs) {
		a.strs = newStringSlab()
	}
	a.strs = append(a.strs, s)
	a.add(valueAt("", unsafe.Pointer(&a.strs[len(a.strs)-1])))
}

// strAt adds the string at *p without copying even its header: *p must not
// change until the values are used (see PrepareReportRows).
func (a *argList) strAt(p *string) { a.add(valueAt("", unsafe.Pointer(p))) }

// int adds an integer value without an allocation of its own.
func (a *argList) int(n int64) {
	if len(a.ints) == cap(a.ints) {
		a.ints = newIntSlab()
	}
	a.ints = append(a.ints, n)
	a.add(valueAt(int64(0), unsafe.Pointer(&a.ints[len(a.ints)-1])))
}

// cell adds the report cell at *p as sqlValue converts it; a text cell is
// referred to where it is (strAt).
func (a *argList) cell(t ColumnType, p *string) {
	cell := *p
	switch {
	case cell == "":
		a.add(nil)
	case t == Bool:
		a.add(cell == "True")
	case t == Int:
		n, err := strconv.ParseInt(cell, 10, 64)
		if err != nil {
			a.add(nil)
		} else {
			a.int(n)
		}
	default:
		a.strAt(p)
	}
}
