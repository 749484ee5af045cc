package csvsafe

import "testing"

func TestCell(t *testing.T) {
	for in, want := range map[string]string{
		"=cmd|' /C calc'!A0": "'=cmd|' /C calc'!A0",
		"=1+2":               "'=1+2",
		"+49 30 1234":        "'+49 30 1234",
		"@admin":             "'@admin",
		"\tx":                "'\tx",
		"\rx":                "'\rx",
		"-1":                 "-1",
		"-5":                 "-5",
		"+1.5":               "+1.5",
		"Adele":              "Adele",
		"a=b":                "a=b",
		"":                   "",
	} {
		if got := Cell(in); got != want {
			t.Errorf("Cell(%q) = %q, want %q", in, got, want)
		}
	}
}
