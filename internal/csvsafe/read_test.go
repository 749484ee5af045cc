package csvsafe

import (
	"errors"
	"strings"
	"testing"
)

func TestReadTable(t *testing.T) {
	in := "\ufeffB,a\r\n1, x \r\n,\r\n\r\n2\r\n"
	var got []string
	err := ReadTable(strings.NewReader(in), []string{"A", "b"}, func(line int, f func(string) string) error {
		got = append(got, strings.Join([]string{f("a"), f("B"), f("missing")}, "|")+"@"+string(rune('0'+line)))
		return nil
	})
	if err != nil || strings.Join(got, " ") != "x|1|@2 |2|@5" {
		t.Fatalf("%q %v", got, err)
	}
	var mc *MissingColumnError
	if err := ReadTable(strings.NewReader("a\n1\n"), []string{"a", "c"}, nil); !errors.As(err, &mc) || mc.Column != "c" {
		t.Errorf("missing column: %v", err)
	}
	if err := ReadTable(strings.NewReader(""), nil, nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
	boom := errors.New("boom")
	var le *LineError
	err = ReadTable(strings.NewReader("a\n1\n2\n"), nil, func(line int, f func(string) string) error {
		if f("a") == "2" {
			return boom
		}
		return nil
	})
	if !errors.As(err, &le) || le.Line != 3 || !errors.Is(err, boom) || err.Error() != "line 3: boom" {
		t.Errorf("row error: %v", err)
	}
	if err := ReadTable(strings.NewReader("a\n\"x\n"), nil, func(int, func(string) string) error { return nil }); !errors.As(err, &le) {
		t.Errorf("bad quoting: %v", err)
	}
}
