// Package pagedecode decodes the pages of Microsoft Graph lists into the
// wire types (connector/graph/wire). Stream decodes a page of any list with
// the JSON v2 decoder and is the reference; users pages, most of an
// import's decoding work, go through a UsersScanner (DecodeUsers), a
// hand-written scanner that gives exactly what Stream gives, faster.
//
// A page is decoded element by element: an element of value that is
// well-formed JSON but does not fit its type (a user whose accountEnabled
// is a string) is left out and returned as a Skipped, with its id, so one
// odd object never costs the page; a page that is not well-formed JSON
// fails whole, its error naming the offset.
//
// Strings are read as encoding/json reads them: a lone UTF-16 surrogate
// escape (a name cut in the middle of an emoji) or a byte that is not
// UTF-8 becomes U+FFFD instead of failing the page; member names may be
// written with escapes anywhere.
//
// Nothing here is package state: a UsersScanner holds its buffers, pools
// and plan cache, and the Graph client owns one, so two imports (two
// clients) never share decoder state, and all of it goes with the client.
package pagedecode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/inventorybeacon/beacon/connector/graph/wire"
)

// A user carries about eighteen assignedPlans, and their strings (service
// names, plan ids, statuses) repeat in every user. Decoding them through
// reflection allocated each string anew and took most of a page's decode
// time; this decoder reads a plan's members directly and shares repeated
// strings within a page.

// interner shares equal strings within one page.
type interner map[string]string

func (in interner) get(b []byte) string {
	if s, ok := in[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	if len(in) < 4096 { // bounded: a hostile page cannot grow it without limit
		in[s] = s
	}
	return s
}

// str decodes a JSON string value (or null) into a shared string.
func (in interner) str(v jsontext.Value) (string, error) {
	switch v.Kind() {
	case 'n':
		return "", nil
	case '"':
	default:
		return "", fmt.Errorf("want a string, got %s", v.Kind())
	}
	raw := v[1 : len(v)-1]
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return in.get(raw), nil
	}
	return in.get(unquote(v)), nil
}

// unquote unescapes a JSON string the decoder read (so well-formed),
// replacing lone surrogates and invalid UTF-8 with U+FFFD as the decoder's
// AllowInvalidUTF8 does: AppendUnquote reports them, with the replacement
// already made.
func unquote(v []byte) []byte {
	b, _ := jsontext.AppendUnquote(nil, v)
	return b
}

// memberName is a member name as read by ReadValue, without its quotes
// and unescaped: Graph may write "sku\u0049d" for "skuId".
func memberName(name jsontext.Value) []byte {
	raw := name[1 : len(name)-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw
	}
	return unquote(name)
}

// pageOptions are the JSON options of one page's decode.
func pageOptions() jsonv2.Options {
	in := interner{}
	plan := jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, p *wire.AssignedPlan) error {
		*p = wire.AssignedPlan{}
		return walkObject(dec, "assignedPlans", func(key []byte) error {
			val, err := dec.ReadValue()
			if err != nil {
				return err
			}
			switch string(key) { // compared, not kept: no allocation
			case "assignedDateTime":
				s, err := in.str(val)
				if err != nil || s == "" {
					return err
				}
				t, err := time.Parse(time.RFC3339Nano, s)
				if err != nil {
					return fmt.Errorf("assignedDateTime %q: %w", s, err)
				}
				p.AssignedDateTime = t
			case "capabilityStatus":
				p.CapabilityStatus, err = in.str(val)
			case "service":
				p.Service, err = in.str(val)
			case "servicePlanId":
				p.ServicePlanID, err = in.str(val)
			}
			return err
		})
	})
	sku := jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, l *wire.AssignedLicense) error {
		*l = wire.AssignedLicense{}
		return walkObject(dec, "assignedLicenses", func(key []byte) error {
			switch string(key) {
			case "skuId":
				v, err := dec.ReadValue()
				if err != nil {
					return err
				}
				l.SkuID, err = in.str(v)
				return err
			case "disabledPlans":
				if err := expectKindOrNull(dec, '['); err != nil {
					if err == errNull {
						return nil
					}
					return err
				}
				l.DisabledPlans = []string{}
				for dec.PeekKind() != ']' {
					v, err := dec.ReadValue()
					if err != nil {
						return err
					}
					s, err := in.str(v)
					if err != nil {
						return err
					}
					l.DisabledPlans = append(l.DisabledPlans, s)
				}
				_, err := dec.ReadToken()
				return err
			default:
				return dec.SkipValue()
			}
		})
	})
	return jsonv2.JoinOptions(jsontext.AllowInvalidUTF8(true),
		jsonv2.WithUnmarshalers(jsonv2.JoinUnmarshalers(plan, sku, jsonv2.UnmarshalFromFunc(wholeNumber))))
}

// walkObject reads one JSON object member by member: null is an empty
// object, anything else but an object is an error naming what. member is
// given each member's name (valid until the next read) and must read or
// skip that member's value itself.
func walkObject(dec *jsontext.Decoder, what string, member func(key []byte) error) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	if tok.Kind() == 'n' {
		return nil
	}
	if tok.Kind() != '{' {
		return fmt.Errorf("%s: want an object, got %s", what, tok.Kind())
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadValue()
		if err != nil {
			return err
		}
		if err := member(memberName(name)); err != nil {
			return err
		}
	}
	_, err = dec.ReadToken() // '}'
	return err
}

// wholeNumber decodes an int (subscribedSkus' consumedUnits and
// prepaidUnits) from any JSON form of a whole number: Graph's own clients
// read 14, 14.0 and 1.4E1 alike. 14.5 is refused, saying so. Anything but
// a number is left to JSON v2 (null, wrong kinds, and their errors).
func wholeNumber(dec *jsontext.Decoder, n *int) error {
	if dec.PeekKind() != '0' {
		return jsonv2.SkipFunc
	}
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	i, err := parseWhole(v)
	if err != nil {
		return err
	}
	*n = i
	return nil
}

// parseWhole parses a JSON number (well-formed: the decoder checked it)
// that must be a whole number fitting an int, exactly (no float
// rounding: 14.000000000000000001 is not whole).
func parseWhole(v []byte) (int, error) {
	if i, err := strconv.Atoi(string(v)); err == nil {
		return i, nil
	}
	s := string(v)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	mant, exp := s, 0
	if k := strings.IndexAny(mant, "eE"); k >= 0 {
		e, err := strconv.Atoi(mant[k+1:])
		if err != nil {
			return 0, fmt.Errorf("%s is not a whole number of a usable size", v)
		}
		mant, exp = mant[:k], e
	}
	digits := mant
	if k := strings.IndexByte(mant, '.'); k >= 0 {
		digits = mant[:k] + mant[k+1:]
		exp -= len(mant) - k - 1
	}
	// value = digits × 10^exp
	for len(digits) > 1 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		exp++
	}
	for len(digits) > 1 && digits[0] == '0' {
		digits = digits[1:]
	}
	if digits == "0" {
		return 0, nil
	}
	if exp < 0 {
		return 0, fmt.Errorf("%s is not a whole number", v)
	}
	u, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || exp > 19 {
		return 0, fmt.Errorf("%s is too large", v)
	}
	for range exp {
		if u > math.MaxUint64/10 {
			return 0, fmt.Errorf("%s is too large", v)
		}
		u *= 10
	}
	if !neg && u > math.MaxInt || neg && u > uint64(math.MaxInt)+1 {
		return 0, fmt.Errorf("%s is too large", v)
	}
	if neg {
		return int(-u), nil // -MinInt wraps to MinInt: correct
	}
	return int(u), nil
}

var errNull = fmt.Errorf("null")

func expectKindOrNull(dec *jsontext.Decoder, want jsontext.Kind) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	if tok.Kind() == 'n' {
		return errNull
	}
	if tok.Kind() != want {
		return fmt.Errorf("want %v, got %v", want, tok.Kind())
	}
	return nil
}

// Skipped is an element of a page's value that was left out: well-formed
// JSON that does not fit its type. The rest of the page was decoded.
type Skipped struct {
	// Index is the element's place in value (from 0).
	Index int
	// ID is the element's "id" member, when it is a string ("" if not).
	ID string
	// Property is where in the element the error is (a JSON pointer such
	// as /accountEnabled; "" for the element itself).
	Property string
	// Offset is the page's byte offset of the error.
	Offset int64
	// Err says what does not fit.
	Err error
}

func (s Skipped) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "element %d", s.Index)
	if s.ID != "" {
		fmt.Fprintf(&b, " (id %s)", s.ID)
	}
	if s.Property != "" {
		fmt.Fprintf(&b, ", property %s", s.Property)
	}
	fmt.Fprintf(&b, " at offset %d: %v", s.Offset, s.Err)
	return b.String()
}

func (s Skipped) Unwrap() error { return s.Err }

// skippedAt describes err, met decoding the element raw (index i, at
// offset off of the page).
func skippedAt(i int, off int64, raw jsontext.Value, err error) Skipped {
	s := Skipped{Index: i, Offset: off, Err: err}
	var se *jsonv2.SemanticError
	if errors.As(err, &se) {
		s.Property, s.Offset = string(se.JSONPointer), off+se.ByteOffset
		if se.Err != nil {
			s.Err = se.Err
		}
	}
	var id struct {
		ID jsontext.Value `json:"id"`
	}
	if raw.Kind() == '{' && jsonv2.Unmarshal(raw, &id, jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true)) == nil && id.ID.Kind() == '"' {
		s.ID = string(unquote(id.ID))
	}
	return s
}

// Stream decodes one page ({"value":[...], "@odata.nextLink": ...,
// "@odata.deltaLink": ...}) of any list into buf (reset to length 0),
// reading r as a stream with the JSON v2 decoder
// (github.com/go-json-experiment/json, the basis of Go's
// encoding/json/v2): it decodes a users page about three times faster
// than encoding/json. It returns the page's nextLink and deltaLink, and
// the elements left out (Skipped, in page order).
//
// It decodes every list but users (subscribed SKUs, service principals),
// and it is the reference the users scanner must agree with
// (users_test.go, FuzzDecodeUsersFast): whatever the scanner does not
// handle itself, it hands to Stream.
func Stream[T any](r io.Reader, buf []T) ([]T, string, string, []Skipped, error) {
	buf = buf[:0]
	dec := jsontext.NewDecoder(r, jsontext.AllowInvalidUTF8(true))
	if err := expectKind(dec, '{'); err != nil {
		return buf, "", "", nil, err
	}
	next, delta := "", ""
	var skipped []Skipped
	opts := pageOptions()
	for dec.PeekKind() == '"' {
		tok, err := dec.ReadToken()
		if err != nil {
			return buf, "", "", nil, err
		}
		switch tok.String() {
		case "value":
			if err := expectKind(dec, '['); err != nil {
				return buf, "", "", nil, err
			}
			for i := 0; dec.PeekKind() != ']'; i++ {
				// The element is read whole first: a syntax error fails
				// the page, a type error only this element.
				raw, err := dec.ReadValue()
				if err != nil {
					return buf, "", "", nil, err
				}
				off := dec.InputOffset() - int64(len(raw))
				var zero T
				buf = append(buf, zero)
				if err := jsonv2.Unmarshal(raw, &buf[len(buf)-1], opts); err != nil {
					buf[len(buf)-1] = zero
					buf = buf[:len(buf)-1]
					skipped = append(skipped, skippedAt(i, off, raw, err))
				}
			}
			if err := expectKind(dec, ']'); err != nil {
				return buf, "", "", nil, err
			}
		case "@odata.nextLink", "@odata.deltaLink":
			key := tok.String()
			tok, err := dec.ReadToken()
			if err != nil {
				return buf, "", "", nil, err
			}
			if tok.Kind() == '"' {
				if key == "@odata.nextLink" {
					next = tok.String()
				} else {
					delta = tok.String()
				}
			}
		default:
			if err := dec.SkipValue(); err != nil {
				return buf, "", "", nil, err
			}
		}
	}
	if err := expectKind(dec, '}'); err != nil {
		return buf, "", "", nil, err
	}
	return buf, next, delta, skipped, nil
}

// expectKind reads a delimiter token (also surfacing a read error that
// PeekKind hides behind kind 0).
func expectKind(dec *jsontext.Decoder, want jsontext.Kind) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	if tok.Kind() != want {
		return fmt.Errorf("unexpected %v in a Graph page at offset %d, want %v", tok.Kind(), dec.InputOffset(), want)
	}
	return nil
}
