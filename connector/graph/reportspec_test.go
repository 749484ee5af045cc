package graph

import (
	"testing"
	"time"
)

func TestParseCell(t *testing.T) {
	for _, c := range []struct {
		t      CellType
		in     string
		out    string
		wantOK bool
	}{
		{CellDate, "2026-11-20", "2026-11-20", true},
		{CellDate, "", "", true},
		{CellDate, "20/11/2026", "20/11/2026", false},
		{CellBool, "True", "True", true},
		{CellBool, "false", "False", true},
		{CellBool, "Yes", "True", true},
		{CellBool, "maybe", "maybe", false},
		{CellInt, " 3 ", "3", true},
		{CellInt, "x", "x", false},
	} {
		out, ok := ParseCell(c.t, c.in)
		if out != c.out || ok != c.wantOK {
			t.Errorf("ParseCell(%v, %q) = %q, %v", c.t, c.in, out, ok)
		}
	}
}

// TestIsDateMatchesTimeParse: isDate accepts exactly what
// time.Parse("2006-01-02") accepts, over every day of four centuries'
// worth of leap-year rules and malformed neighbours.
func TestIsDateMatchesTimeParse(t *testing.T) {
	check := func(d string) {
		_, err := time.Parse("2006-01-02", d)
		if got, want := isDate(d), err == nil; got != want {
			t.Fatalf("isDate(%q) = %v, time.Parse says %v", d, got, want)
		}
	}
	for _, y := range []int{0, 1, 1900, 1999, 2000, 2023, 2024, 2100, 2400, 9999} {
		for m := 0; m <= 13; m++ {
			for d := 0; d <= 32; d++ {
				check(fmtDate(y, m, d))
			}
		}
	}
	for _, d := range []string{"", "2026-1-05", "2026-01-5", "2026/01/05", "2026-01-05T", "20260-01-05", "2026-0a-05",
		"-026-01-05", "2026--1-05", "2026-01-+5", " 2026-01-0", "２０２６-01-05"} {
		check(d)
	}
}

func fmtDate(y, m, d int) string {
	b := []byte("0000-00-00")
	b[0], b[1], b[2], b[3] = byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10)
	b[5], b[6] = byte('0'+m/10), byte('0'+m%10)
	b[8], b[9] = byte('0'+d/10), byte('0'+d%10)
	return string(b)
}
