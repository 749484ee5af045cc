package csvsafe

import (
	"runtime"
	"strings"
	"testing"
)

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

func TestNewWriterFormats(t *testing.T) {
	for _, tc := range []struct {
		f    Format
		want string
	}{
		{Format{}, "Name\nNúñez\n"},
		{Format{BOM: true}, "\ufeffName\nNúñez\n"},
		{Format{BOM: true, CRLF: true}, "\ufeffName\r\nNúñez\r\n"},
	} {
		var b strings.Builder
		w, err := NewWriter(&b, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		_ = w.Write([]string{"Name"})
		_ = w.Write([]string{"Núñez"})
		w.Flush()
		if b.String() != tc.want {
			t.Errorf("%+v: %q, want %q", tc.f, b.String(), tc.want)
		}
	}
	if !ForSpreadsheets().BOM || ForScripts().BOM {
		t.Error("spreadsheets get the mark, scripts do not")
	}
	if ForSpreadsheets().CRLF != (runtime.GOOS == "windows") {
		t.Error("spreadsheet exports end lines with CRLF on Windows only")
	}
}
