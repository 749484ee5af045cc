package inventory

import (
	"regexp"
	"strings"
	"testing"
)

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
