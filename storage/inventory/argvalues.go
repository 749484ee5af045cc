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
// the integers in slabs of a few hundred, in the batch's memory
// (batchMem, reused once the batch is stored), and makes each value point
// into its slab.
//
// The values are ordinary interface values to everyone who reads them
// (the SQLite driver switches on their type and copies the bytes out).
// What makes this sound:
//   - An interface holding a string or an int64 is a type word and a
//     pointer to the value (Go's interface layout, which reflect and the
//     runtime rely on; valueAt checks it once at start-up).
//   - A slab is never written again at a position a value points to
//     while the batch is not stored: a full slab is followed by another,
//     not grown in place; it stays alive as long as a value points into it
//     (the garbage collector follows interior pointers); and it is reused
//     only after the batch was stored and its values cleared (batchMem).
//     The same holds for a report chunk's cells, which values point to
//     where they are (strAt): the parser cuts each chunk's cells from a
//     slab of its own and reuses it only once the chunk's batch is stored
//     (graph.ReportFile.Chunks, ReportBatch.OnStored).
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

// batchMem is the memory a batch's values point into: slabs of string
// headers and of integers, and blocks holding the text of the strings made
// while preparing (search texts, encoded licenses and plans, lower-case
// names). It is given back once the batch is stored (Add*Batch), and the
// next batch writes over it: made afresh for every batch, it was a third
// of an import's garbage (issue 7, fourth round). A batch that is never
// stored never gives it back; the garbage collector takes it then.
type batchMem struct {
	strs   [][]string
	ints   [][]int64
	blocks [][]byte
	s, i   int // slabs of strs, ints in use (the last one partly)
	b      int // blocks in use
}

const textBlock = 64 << 10

// batchMems are given-back batch memories: as many as batches can wait
// for the writer (pages queued and being prepared, report chunks).
var batchMems = make(chan *batchMem, 16)

func takeBatchMem() *batchMem {
	select {
	case m := <-batchMems:
		return m
	default:
		return &batchMem{}
	}
}

// giveBack makes m reusable; nothing may point into it any more. Its
// slabs are cleared, so they keep no strings alive meanwhile; its blocks
// hold bytes only.
func (m *batchMem) giveBack() {
	if m == nil {
		return
	}
	for _, sl := range m.strs[:m.s] {
		clear(sl[:cap(sl)])
	}
	for k := range m.strs {
		m.strs[k] = m.strs[k][:0]
	}
	for k := range m.ints {
		m.ints[k] = m.ints[k][:0]
	}
	for k := range m.blocks {
		m.blocks[k] = m.blocks[k][:0]
	}
	m.s, m.i, m.b = 0, 0, 0
	select {
	case batchMems <- m:
	default:
	}
}

// str returns a place for s in a string slab.
func (m *batchMem) str(s string) *string { return put(&m.strs, &m.s, s, newStringSlab) }

// int returns a place for n in an integer slab.
func (m *batchMem) int(n int64) *int64 { return put(&m.ints, &m.i, n, newIntSlab) }

// put appends v to the last of the *used slabs in use, going on to the
// next one (reused, or a new one from alloc) when it is full, and returns
// where v went. A slab never grows in place: values point into it.
func put[T any](slabs *[][]T, used *int, v T, alloc func() []T) *T {
	if *used == 0 || len((*slabs)[*used-1]) == cap((*slabs)[*used-1]) {
		if *used == len(*slabs) {
			*slabs = append(*slabs, alloc())
		}
		*used++
	}
	sl := &(*slabs)[*used-1]
	*sl = append(*sl, v)
	return &(*sl)[len(*sl)-1]
}

// text copies b into a block and returns it as a string, valid until m is
// given back.
func (m *batchMem) text(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	for {
		if m.b > 0 {
			if blk := &m.blocks[m.b-1]; cap(*blk)-len(*blk) >= len(b) {
				n := len(*blk)
				*blk = append(*blk, b...)
				return unsafe.String(&(*blk)[n], len(b))
			}
		}
		if m.b == len(m.blocks) {
			m.blocks = append(m.blocks, newTextBlock(len(b)))
		} else if cap(m.blocks[m.b]) < len(b) {
			m.blocks[m.b] = newTextBlock(len(b))
		}
		m.b++
	}
}

//go:noinline
func newTextBlock(n int) []byte { return make([]byte, 0, max(n, textBlock)) }

// argList builds the arguments of a run of multi-row INSERTs: ordinals
// restart with each statement of perStmt values, counted rather than
// computed with a division per value (9 million values at 100,000 users).
type argList struct {
	vals         []driver.NamedValue
	ord, perStmt int
	mem          *batchMem // what the values point into
}

func newArgList(buf []driver.NamedValue, n, perStmt int) *argList {
	return &argList{vals: slices.Grow(buf[:0], n), perStmt: perStmt, mem: takeBatchMem()}
}

func (a *argList) add(v driver.Value) {
	if a.ord == a.perStmt {
		a.ord = 0
	}
	a.ord++
	a.vals = append(a.vals, driver.NamedValue{Ordinal: a.ord, Value: v})
}

// str adds a string value without an allocation of its own.
func (a *argList) str(s string) { a.add(valueAt("", unsafe.Pointer(a.mem.str(s)))) }

// text adds the bytes of b as a string value, copied into the batch's
// memory, and returns that string (valid until the batch is stored).
func (a *argList) text(b []byte) string {
	s := a.mem.text(b)
	a.str(s)
	return s
}

// strAt adds the string at *p without copying even its header: *p must not
// change until the values are used (see PrepareReportRows).
func (a *argList) strAt(p *string) { a.add(valueAt("", unsafe.Pointer(p))) }

// int adds an integer value without an allocation of its own.
func (a *argList) int(n int64) { a.add(valueAt(int64(0), unsafe.Pointer(a.mem.int(n)))) }

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
