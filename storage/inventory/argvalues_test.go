package inventory

import (
	"database/sql/driver"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// TestArgListValuesSurviveGC: values pointing into the slabs keep their
// contents through garbage collections and slab changes, while the
// garbage around them is collected and its memory reused.
func TestArgListValuesSurviveGC(t *testing.T) {
	const n = 5 * slabValues // several slabs of each kind
	a := newArgList(nil, 4*n, 30)
	want := make([]driver.Value, 0, 4*n)
	for i := range n {
		s := strings.Repeat(string(rune('a'+i%26)), i%40) + fmt.Sprint(i)
		a.str(s)
		a.int(int64(i) << 33)
		a.add(i%2 == 0)
		// A cell referred to where it is: its slab is reachable only
		// through the value.
		cells := []string{"x" + s, strings.ToUpper(s)}
		a.strAt(&cells[1])
		want = append(want, s, int64(i)<<33, i%2 == 0, strings.ToUpper(s))
		if i%97 == 0 {
			junk := make([][]byte, 100)
			for j := range junk {
				junk[j] = make([]byte, 1000)
			}
			runtime.GC()
		}
	}
	runtime.GC()
	runtime.GC()
	if len(a.vals) != len(want) {
		t.Fatalf("%d values, want %d", len(a.vals), len(want))
	}
	for i, v := range a.vals {
		if v.Value != want[i] {
			t.Fatalf("value %d = %#v, want %#v", i, v.Value, want[i])
		}
		if wantOrd := i%30 + 1; v.Ordinal != wantOrd {
			t.Fatalf("value %d has ordinal %d, want %d", i, v.Ordinal, wantOrd)
		}
	}
}

// TestArgListCellIsSQLValue: cell binds what sqlValue converts a cell to.
func TestArgListCellIsSQLValue(t *testing.T) {
	cells := []string{"", "True", "False", "true", "0", "1", "255", "256", "-7", "12a", "9223372036854775807",
		"9223372036854775808", "2026-11-26", "Adele.Vance@contoso.com", " 5"}
	for _, typ := range []ColumnType{Text, Date, Bool, Int} {
		for _, c := range cells {
			a := newArgList(nil, 1, 1)
			a.cell(typ, &c)
			if got, want := a.vals[0].Value, sqlValue(typ, c); got != want {
				t.Errorf("cell(%v, %q) = %#v, sqlValue gives %#v", typ, c, got, want)
			}
		}
	}
}

// BenchmarkArgListStr compares a value added through the batch's slabs,
// given back every 1,024 values as a stored batch's are, with a plain
// conversion (an allocation per value).
func BenchmarkArgListStr(b *testing.B) {
	strs := strings.Fields("adele.vance@contoso.com alex.wilber@contoso.com megan.bowen@contoso.com")
	b.Run("slab", func(b *testing.B) {
		b.ReportAllocs()
		a := newArgList(nil, 1024, 15)
		for i := 0; i < b.N; i++ {
			if len(a.vals) == 1024 {
				// A batch stored: its memory given back and taken again.
				a.vals = a.vals[:0]
				a.mem.giveBack()
				a.mem = takeBatchMem()
			}
			a.str(strs[i%len(strs)])
		}
	})
	b.Run("convert", func(b *testing.B) {
		b.ReportAllocs()
		a := newArgList(nil, 1024, 15)
		for i := 0; i < b.N; i++ {
			if len(a.vals) == 1024 {
				a.vals = a.vals[:0]
			}
			a.add(strs[i%len(strs)])
		}
	})
}

// TestBatchMemReuse: a batch's memory, given back once stored, is what the
// next batch gets, and the next batch's values are its own (nothing of
// the first shows through: slabs cleared, text written over).
func TestBatchMemReuse(t *testing.T) {
	for len(batchMems) > 0 {
		<-batchMems
	}
	fill := func(tag string) (*argList, []driver.Value) {
		a := newArgList(nil, 0, 7)
		var want []driver.Value
		for i := range 3 * slabValues {
			s := fmt.Sprintf("%s-%d", tag, i)
			a.text([]byte(strings.ToUpper(s)))
			a.str(s)
			a.int(int64(i) << 40)
			want = append(want, strings.ToUpper(s), s, int64(i)<<40)
		}
		return a, want
	}
	a, _ := fill("first")
	first := &a.mem.strs[0][0]
	block := &a.mem.blocks[0][:1][0]
	a.mem.giveBack()
	b, want := fill("second")
	if &b.mem.strs[0][0] != first || &b.mem.blocks[0][:1][0] != block {
		t.Fatal("the given-back memory was not reused")
	}
	runtime.GC()
	for i, v := range b.vals {
		if v.Value != want[i] {
			t.Fatalf("value %d = %#v, want %#v", i, v.Value, want[i])
		}
	}
	b.mem.giveBack()
	for _, sl := range b.mem.strs {
		for _, s := range sl[:cap(sl)] {
			if s != "" {
				t.Fatalf("a given-back slab still holds %q", s)
			}
		}
	}
}
