package graph

import (
	"time"
	"unicode/utf8"
)

// Hand-written appenders: the users endpoint must serve 50,000+ users a
// second from one core, which reflection-based encoding/json cannot do
// without building whole pages.

const hexDigits = "0123456789abcdef"

// jsonPlain[c] is true for the bytes appendString copies as they are:
// printable ASCII but '"' and '\\'.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// plainPrefix is the length of the run of jsonPlain bytes s starts with.
// It tests eight bytes at a time with SWAR: a byte below 0x20, equal to '"'
// or '\\', or with its high bit set sets its top bit in bad (exact for
// bytes below 0x80, and high bytes are caught by x itself); the block
// holding one is then finished byte by byte.
func plainPrefix(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := s[i : i+8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		q := x ^ ('"' * lsb)
		bs := x ^ ('\\' * lsb)
		bad := (x - 0x20*lsb) | (q-lsb)&^q | (bs-lsb)&^bs
		if (bad&^x|x)&msb != 0 {
			break
		}
	}
	for i < len(s) && jsonPlain[s[i]] {
		i++
	}
	return i
}

// appendString appends s as a JSON string. Like Graph, it leaves non-ASCII
// and <, >, & unescaped; invalid UTF-8 becomes \ufffd. User pages are
// mostly GUIDs and plain names: their runs of plain bytes are found eight
// bytes at a time and copied in one append (the byte-by-byte scan was a
// sixth of the simulator's CPU in a full import).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for {
		n := plainPrefix(s)
		b = append(b, s[:n]...)
		s = s[n:]
		if s == "" {
			break
		}
		c := s[0]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s)
			if r == utf8.RuneError && size == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[:size]...)
			}
			s = s[size:]
			continue
		}
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
		s = s[1:]
	}
	return append(b, '"')
}

// appendNullableString writes null for "".
func appendNullableString(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendString(b, s)
}

// appendTime writes Graph's DateTimeOffset form, 2019-03-12T09:14:27Z.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = appendUTC(b, t)
	return append(b, '"')
}

// appendUTC is t.UTC().AppendFormat(b, "2006-01-02T15:04:05Z") without
// parsing the layout: a 100,000-user listing formats 1.2 million plan
// dates, and AppendFormat was a sixth of the simulator's CPU.
func appendUTC(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, "2006-01-02T15:04:05Z")
	}
	two := func(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = two(b, int(mo))
	b = append(b, '-')
	b = two(b, d)
	b = append(b, 'T')
	b = two(b, h)
	b = append(b, ':')
	b = two(b, mi)
	b = append(b, ':')
	b = two(b, sec)
	return append(b, 'Z')
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}
