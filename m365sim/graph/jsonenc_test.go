package graph

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestAppendUTC: the hand-written formatter equals AppendFormat, in and
// out of UTC, at the edges of the year range it handles itself.
func TestAppendUTC(t *testing.T) {
	est := time.FixedZone("EST", -5*3600)
	for _, tm := range []time.Time{
		time.Date(2026, 11, 25, 22, 5, 9, 123, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 0, est), // the next day in UTC
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		got := string(appendUTC([]byte("x"), tm))
		want := "x" + tm.UTC().Format("2006-01-02T15:04:05Z")
		if got != want {
			t.Errorf("appendUTC(%v) = %q, want %q", tm, got, want)
		}
	}
}

// appendStringRef is appendString as it was before the eight-bytes-at-a-
// time scan: the reference the rewrite must match byte for byte.
func appendStringRef(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, `\ufffd`...)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

var appendStringCases = []string{
	"", "a", "plain ascii name", "0f8fad5b-d9cb-469f-a165-70867728950e", "Enabled", "exchange",
	`quote " inside`, `back\slash`, "\x00\x01\x1f\x7f", "tab\there\nnew\rret", "\b\f",
	"é ü 日本語 \u2028\u2029", "bad\xff", "\xc3", "\xe2\x82", "\xed\xa0\x80 surrogate", "\xf4\x90\x80\x80",
	"<a href='x'>&amp;</a>", "12345678\"12345678", "1234567\x80", "\x80234567812345678",
	strings.Repeat("abcdefgh", 9) + "\"", strings.Repeat("ü", 20), "ends with space ",
}

// TestAppendStringMatchesReference checks the fast scan against the old
// byte-by-byte encoder on edge cases, on every single byte value at every
// offset of a 17-byte string (so each SWAR lane and the tail see it), and on
// random byte strings; and that the output stays valid JSON that decodes
// back to the (UTF-8 sanitised) input.
func TestAppendStringMatchesReference(t *testing.T) {
	check := func(s string) {
		t.Helper()
		got, want := appendString([]byte("x"), s), appendStringRef([]byte("x"), s)
		if !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %q, want %q", s, got, want)
		}
		var back string
		if err := json.Unmarshal(got[1:], &back); err != nil || back != strings.ToValidUTF8(s, "\ufffd") && utf8.ValidString(s) {
			t.Fatalf("appendString(%q) = %s: decodes to %q, %v", s, got, back, err)
		}
	}
	for _, s := range appendStringCases {
		check(s)
	}
	for c := 0; c < 256; c++ {
		for i := 0; i < 17; i++ {
			b := []byte("abcdefghijklmnopq")
			b[i] = byte(c)
			check(string(b))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("aZ09 -_.@\"\\\x00\x1f\x7f\x80\xbf\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xff\t\n\r")
	for n := 0; n < 20000; n++ {
		b := make([]byte, r.IntN(40))
		for i := range b {
			if r.IntN(3) == 0 {
				b[i] = byte(r.IntN(256))
			} else {
				b[i] = alphabet[r.IntN(len(alphabet))]
			}
		}
		check(string(b))
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range appendStringCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := appendString(nil, s), appendStringRef(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %q, want %q", s, got, want)
		}
	})
}

func BenchmarkAppendString(b *testing.B) {
	buf := make([]byte, 0, 4096)
	for i := 0; i < b.N; i++ {
		buf = buf[:0]
		for _, s := range appendStringCases[:6] {
			buf = appendString(buf, s)
		}
	}
}
