package inventory

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

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

// TestLooksConcealedMatchesThePattern: the hand-written check is the
// pattern ^[0-9A-F]{32}$, including its edges.
func TestLooksConcealedMatchesThePattern(t *testing.T) {
	re := regexp.MustCompile(`^[0-9A-F]{32}$`)
	base := "0123456789ABCDEF0123456789ABCDEF"
	cases := []string{base, base[:31], base + "0", "", strings.ToLower(base), "user@contoso.example"}
	for i := range base {
		for _, c := range []byte{'/', ':', '@', 'G', '`', 'a', 'f', 0x80} {
			b := []byte(base)
			b[i] = c
			cases = append(cases, string(b))
		}
	}
	for _, c := range cases {
		if got, want := LooksConcealed(c), re.MatchString(c); got != want {
			t.Errorf("LooksConcealed(%q) = %v, the pattern says %v", c, got, want)
		}
	}
}
