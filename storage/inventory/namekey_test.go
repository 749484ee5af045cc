package inventory

import (
	"slices"
	"strings"
	"testing"
)

// TestNameKeyOrder: names sort as people read them, accents and case
// aside, whatever bytes they are made of (issue 23 item 10).
func TestNameKeyOrder(t *testing.T) {
	names := []string{"Zoë Adams", "Inigo Montoya", "émile Zola", "Åsa Berg", "Íñigo Pérez", "eve", "Eva", "Øystein Lie",
		"Ørjan", "Bruno", "Łukasz", "ÉLODIE", "Straße", "Strasse B", "Çelik", "Chloé"}
	slices.SortStableFunc(names, func(a, b string) int { return strings.Compare(NameKey(a), NameKey(b)) })
	want := []string{"Åsa Berg", "Bruno", "Çelik", "Chloé", "ÉLODIE", "émile Zola", "Eva", "eve", "Inigo Montoya", "Íñigo Pérez",
		"Łukasz", "Ørjan", "Øystein Lie", "Straße", "Strasse B", "Zoë Adams"}
	if !slices.Equal(names, want) {
		t.Fatalf("order\n %q\nwant\n %q", names, want)
	}
	for in, key := range map[string]string{"Íñigo": "inigo", "ÆSIR": "aesir", "Ærø": "aero", "ASCII Only 7": "ascii only 7", "": ""} {
		if got := NameKey(in); got != key {
			t.Errorf("NameKey(%q) = %q, want %q", in, got, key)
		}
	}
}

func BenchmarkNameKey(b *testing.B) {
	var buf []byte
	for i := 0; i < b.N; i++ {
		buf = appendNameKey(buf[:0], "Chloé Svensson 123")
	}
}

func TestUserColumnsCounted(t *testing.T) {
	if userCols != len(userColumns) {
		t.Fatalf("userCols = %d, but PrepareUsers binds %d columns", userCols, len(userColumns))
	}
}
