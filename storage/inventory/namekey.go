package inventory

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Users are listed by display name the way people read names, not by
// bytes (issue 23): accents and case do not separate names, so "Íñigo"
// sorts beside "Inigo" and "émile" among the E's, where a byte order (or
// SQLite's NOCASE, which folds ASCII only) put them after "Z". The key is
// stored with each user (users.name_key) when the user is staged, so
// sorting 100,000 users costs what sorting any column costs.

// nameFolds are letters that are not a base letter with a mark, written
// as the letters they sort with.
var nameFolds = map[rune]string{
	'ß': "ss", 'ẞ': "ss", 'æ': "ae", 'Æ': "ae", 'œ': "oe", 'Œ': "oe", 'ø': "o", 'Ø': "o",
	'đ': "d", 'Đ': "d", 'ł': "l", 'Ł': "l", 'ı': "i", 'þ': "th", 'Þ': "th", 'ð': "d", 'Ð': "d",
}

// appendNameKey appends the sort key of a display name to dst: the name
// decomposed (NFD), without its combining marks, in lower case.
func appendNameKey(dst []byte, name string) []byte {
	ascii := true
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		for i := 0; i < len(name); i++ {
			c := name[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
		}
		return dst
	}
	var it norm.Iter
	it.InitString(norm.NFD, name)
	for !it.Done() {
		seg := it.Next()
		for len(seg) > 0 {
			r, n := utf8.DecodeRune(seg)
			seg = seg[n:]
			switch {
			case r < utf8.RuneSelf:
				if 'A' <= r && r <= 'Z' {
					r += 'a' - 'A'
				}
				dst = append(dst, byte(r))
			case unicode.Is(unicode.Mn, r):
				// an accent: not part of the key
			case nameFolds[r] != "":
				dst = append(dst, nameFolds[r]...)
			default:
				dst = utf8.AppendRune(dst, unicode.ToLower(r))
			}
		}
	}
	return dst
}

// NameKey is the sort key of a display name (see appendNameKey).
func NameKey(name string) string { return string(appendNameKey(nil, name)) }
