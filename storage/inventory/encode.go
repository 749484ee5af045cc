package inventory

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The JSON columns (assigned licenses and plans, lists) are written by
// these small encoders instead of encoding/json: they run once per user on
// the import's hot path, and reflection-based marshalling costs several
// microseconds per user. They write standard JSON that encoding/json reads.

func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func appendList(b []byte, l []string) []byte {
	b = append(b, '[')
	for i, s := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

func encodeList(l []string) string { return string(appendList(nil, l)) }

// appendLicenses appends the users' assigned_licenses column: ls as
// Graph's JSON ({"disabledPlans":[...],"skuId":"..."}), "[]" for none.
func appendLicenses(b []byte, ls []AssignedLicense) []byte {
	if len(ls) == 0 {
		return append(b, "[]"...)
	}
	b = append(b, '[')
	for i, l := range ls {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"disabledPlans":`...)
		b = appendList(b, l.DisabledPlans)
		b = append(b, `,"skuId":`...)
		b = appendString(b, l.SkuID)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendLicenseStates appends the users' license_states column: empty
// when every state is a plain direct assignment (most users: the column
// then costs nothing and AssignedLicenses says it all), else every state,
// the direct ones too (a SKU held both directly and through a group is
// freed only by removing both), as "skuId,group,state,error" joined by
// ";". Every field is a GUID or one of Graph's enumeration words, so no
// separator can occur in one; JSON cost a fifth of reading 100,000 users
// for the Optimization page.
func appendLicenseStates(b []byte, ss []LicenseAssignmentState) []byte {
	if !slices.ContainsFunc(ss, func(s LicenseAssignmentState) bool { return !s.Direct() }) {
		return b
	}
	for i, st := range ss {
		if i > 0 {
			b = append(b, ';')
		}
		for j, f := range [4]string{st.SkuID, st.AssignedByGroup, st.State, st.Error} {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, strings.Map(dropSeparators, f)...)
		}
	}
	return b
}

// dropSeparators keeps a malformed value from splitting a state.
func dropSeparators(r rune) rune {
	if r == ',' || r == ';' {
		return -1
	}
	return r
}

// decodeLicenseStates reads what appendLicenseStates wrote.
func decodeLicenseStates(col string) []LicenseAssignmentState {
	if col == "" {
		return nil
	}
	out := make([]LicenseAssignmentState, 0, strings.Count(col, ";")+1)
	for entry := range strings.SplitSeq(col, ";") {
		var f [4]string
		for i := range f {
			var ok bool
			if f[i], entry, ok = strings.Cut(entry, ","); !ok {
				break
			}
		}
		out = append(out, LicenseAssignmentState{SkuID: f[0], AssignedByGroup: f[1], State: f[2], Error: f[3]})
	}
	return out
}

// planKey is an assigned plan without its date: a tenant has a few dozen
// distinct ones, repeated in every user's assignedPlans.
type planKey struct{ service, planID, status string }

// planCodec encodes users' assignedPlans compactly: each distinct
// (service, servicePlanId, capabilityStatus) gets a number in the run's
// plan dictionary, and the dates, usually shared by all plans of a
// license, are written once per change. A dozen plans take ~40 bytes
// instead of ~1.8 KB of JSON; the JSON made rows spill onto overflow pages
// and quadrupled the cost of staging a user.
//
// Format: comma-separated tokens; "t<unix seconds>[.<nanoseconds>]" sets
// the date of the plans that follow, a number is a dictionary index.
type planCodec struct {
	index   map[planKey]int
	entries []planKey
	fresh   []int // indices added since the last flush to the database
	// recent is, per position in a user's list, the index found there
	// last. Users with the same licenses list the same plans in the same
	// order, and the decoder hands out the same string for the same text
	// at the same position, so comparing with the entry (pointer-equal
	// strings compare at once) replaces hashing three strings per plan:
	// two million plans at 100,000 users.
	recent []int
}

func newPlanCodec() *planCodec { return &planCodec{index: map[planKey]int{}} }

func (c *planCodec) encode(b []byte, ps []AssignedPlan) []byte {
	var last time.Time
	for i, p := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		if i == 0 || !p.AssignedDateTime.Equal(last) {
			last = p.AssignedDateTime
			b = append(b, 't')
			if last.IsZero() {
				b = append(b, 'z')
			} else {
				b = strconv.AppendInt(b, last.Unix(), 10)
				if ns := last.Nanosecond(); ns != 0 {
					b = append(b, '.')
					b = strconv.AppendInt(b, int64(ns), 10)
				}
			}
			b = append(b, ',')
		}
		k := planKey{p.Service, p.ServicePlanID, p.CapabilityStatus}
		if i == len(c.recent) {
			c.recent = append(c.recent, -1)
		}
		idx := c.recent[i]
		if idx < 0 || idx >= len(c.entries) || c.entries[idx] != k {
			var ok bool
			if idx, ok = c.index[k]; !ok {
				idx = len(c.entries)
				c.index[k] = idx
				c.entries = append(c.entries, k)
				c.fresh = append(c.fresh, idx)
			}
			c.recent[i] = idx
		}
		b = strconv.AppendInt(b, int64(idx), 10)
	}
	return b
}

// decodePlans reverses planCodec.encode given the run's dictionary.
func decodePlans(s string, dict []planKey) []AssignedPlan {
	out := []AssignedPlan{}
	var at time.Time
	for len(s) > 0 {
		tok := s
		if i := strings.IndexByte(s, ','); i >= 0 {
			tok, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		if strings.HasPrefix(tok, "t") {
			at = time.Time{}
			if tok != "tz" {
				sec, nsec := tok[1:], ""
				if i := strings.IndexByte(sec, '.'); i >= 0 {
					sec, nsec = sec[:i], sec[i+1:]
				}
				sv, _ := strconv.ParseInt(sec, 10, 64)
				nv, _ := strconv.ParseInt(nsec, 10, 64)
				at = time.Unix(sv, nv).UTC()
			}
			continue
		}
		idx, err := strconv.Atoi(tok)
		if err != nil || idx < 0 || idx >= len(dict) {
			continue
		}
		k := dict[idx]
		out = append(out, AssignedPlan{AssignedDateTime: at, CapabilityStatus: k.status, Service: k.service, ServicePlanID: k.planID})
	}
	return out
}

func decodeJSON[T any](s string) T {
	var v T
	if s != "" {
		_ = json.Unmarshal([]byte(s), &v) // written by us; a bad value reads as empty
	}
	return v
}
