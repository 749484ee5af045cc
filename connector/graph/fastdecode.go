package graph

import (
	"bytes"
	"fmt"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/inventorybeacon/beacon/storage/inventory"
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
	plan := jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, p *inventory.AssignedPlan) error {
		*p = inventory.AssignedPlan{}
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
	sku := jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, l *inventory.AssignedLicense) error {
		*l = inventory.AssignedLicense{}
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
