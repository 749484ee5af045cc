// Package pagedecode decodes the pages of Microsoft Graph lists into the
// wire types (connector/graph/wire). Stream decodes a page of any list with
// the JSON v2 decoder and is the reference; users pages, most of an
// import's decoding work, go through a UsersScanner (DecodeUsers), a
// hand-written scanner that gives exactly what Stream gives, faster.
//
// Nothing here is package state: a UsersScanner holds its buffers, pools
// and plan cache, and the Graph client owns one, so two imports (two
// clients) never share decoder state, and all of it goes with the client.
package pagedecode

import (
	"bytes"
	"fmt"
	"io"
	"time"

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
	if bytes.IndexByte(raw, '\\') < 0 {
		return in.get(raw), nil
	}
	b, err := jsontext.AppendUnquote(nil, v)
	if err != nil {
		return "", err
	}
	return in.get(b), nil
}

// pageOptions are the JSON options of one page's decode.
func pageOptions() jsonv2.Options {
	in := interner{}
	plan := jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, p *wire.AssignedPlan) error {
		*p = wire.AssignedPlan{}
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		if tok.Kind() == 'n' {
			return nil
		}
		if tok.Kind() != '{' {
			return fmt.Errorf("assignedPlans: want an object, got %s", tok.Kind())
		}
		for dec.PeekKind() != '}' {
			name, err := dec.ReadValue()
			if err != nil {
				return err
			}
			key := string(name) // compared, not kept: no allocation
			val, err := dec.ReadValue()
			if err != nil {
				return err
			}
			switch key {
			case `"assignedDateTime"`:
				s, err := in.str(val)
				if err != nil {
					return err
				}
				if s != "" {
					t, err := time.Parse(time.RFC3339Nano, s)
					if err != nil {
						return fmt.Errorf("assignedDateTime %q: %w", s, err)
					}
					p.AssignedDateTime = t
				}
			case `"capabilityStatus"`:
				p.CapabilityStatus, err = in.str(val)
			case `"service"`:
				p.Service, err = in.str(val)
			case `"servicePlanId"`:
				p.ServicePlanID, err = in.str(val)
			}
			if err != nil {
				return err
			}
		}
		_, err = dec.ReadToken() // '}'
		return err
	})
	sku := jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, l *wire.AssignedLicense) error {
		*l = wire.AssignedLicense{}
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		if tok.Kind() == 'n' {
			return nil
		}
		if tok.Kind() != '{' {
			return fmt.Errorf("assignedLicenses: want an object, got %s", tok.Kind())
		}
		for dec.PeekKind() != '}' {
			name, err := dec.ReadValue()
			if err != nil {
				return err
			}
			switch string(name) {
			case `"skuId"`:
				v, err := dec.ReadValue()
				if err != nil {
					return err
				}
				if l.SkuID, err = in.str(v); err != nil {
					return err
				}
			case `"disabledPlans"`:
				if err := expectKindOrNull(dec, '['); err != nil {
					if err == errNull {
						continue
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
				if _, err := dec.ReadToken(); err != nil {
					return err
				}
			default:
				if err := dec.SkipValue(); err != nil {
					return err
				}
			}
		}
		_, err = dec.ReadToken() // '}'
		return err
	})
	return jsonv2.WithUnmarshalers(jsonv2.JoinUnmarshalers(plan, sku))
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

// Stream decodes one page ({"value":[...], "@odata.nextLink": ...,
// "@odata.deltaLink": ...}) of any list into buf (reset to length 0),
// reading r as a stream with the JSON v2 decoder
// (github.com/go-json-experiment/json, the basis of Go's
// encoding/json/v2): it decodes a users page about three times faster
// than encoding/json. It returns the page's nextLink and deltaLink.
//
// It decodes every list but users (subscribed SKUs, service principals),
// and it is the reference the users scanner must agree with
// (users_test.go, FuzzDecodeUsersFast): whatever the scanner does not
// handle itself, it hands to Stream.
func Stream[T any](r io.Reader, buf []T) ([]T, string, string, error) {
	buf = buf[:0]
	dec := jsontext.NewDecoder(r)
	if err := expectKind(dec, '{'); err != nil {
		return buf, "", "", err
	}
	next, delta := "", ""
	opts := pageOptions()
	for dec.PeekKind() == '"' {
		tok, err := dec.ReadToken()
		if err != nil {
			return buf, "", "", err
		}
		switch tok.String() {
		case "value":
			if err := expectKind(dec, '['); err != nil {
				return buf, "", "", err
			}
			for dec.PeekKind() != ']' {
				var zero T
				buf = append(buf, zero)
				if err := jsonv2.UnmarshalDecode(dec, &buf[len(buf)-1], opts); err != nil {
					return buf, "", "", err
				}
			}
			if err := expectKind(dec, ']'); err != nil {
				return buf, "", "", err
			}
		case "@odata.nextLink", "@odata.deltaLink":
			key := tok.String()
			tok, err := dec.ReadToken()
			if err != nil {
				return buf, "", "", err
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
				return buf, "", "", err
			}
		}
	}
	if err := expectKind(dec, '}'); err != nil {
		return buf, "", "", err
	}
	return buf, next, delta, nil
}

// expectKind reads a delimiter token (also surfacing a read error that
// PeekKind hides behind kind 0).
func expectKind(dec *jsontext.Decoder, want jsontext.Kind) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	if tok.Kind() != want {
		return fmt.Errorf("unexpected %v in a Graph page, want %v", tok.Kind(), want)
	}
	return nil
}
