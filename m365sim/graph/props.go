package graph

import (
	"math/bits"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

// prop is one selectable property of an entity set.
type prop[T any] struct {
	name string
	enc  func(b []byte, v T, e *encEnv) []byte
}

// propSet knows an entity's properties and its default ($select-less)
// selection.
type propSet[T any] struct {
	entity   string // for error messages: microsoft.graph.user
	props    []prop[T]
	byName   map[string]int // lower-case name
	defaults []int
}

func newPropSet[T any](entity string, props []prop[T], defaults []string) *propSet[T] {
	ps := &propSet[T]{entity: entity, props: props, byName: map[string]int{}}
	for i, p := range props {
		ps.byName[strings.ToLower(p.name)] = i
	}
	for _, d := range defaults {
		ps.defaults = append(ps.defaults, ps.byName[strings.ToLower(d)])
	}
	return ps
}

// parseSelect turns $select into property indexes (in the order given,
// duplicates dropped). An unknown property is Graph's 400.
func (ps *propSet[T]) parseSelect(sel string) ([]int, *apiError) {
	if strings.TrimSpace(sel) == "" {
		return ps.defaults, nil
	}
	var out []int
	seen := make([]bool, len(ps.props))
	for _, f := range strings.Split(sel, ",") {
		f = strings.TrimSpace(f)
		i, ok := ps.byName[strings.ToLower(f)]
		if !ok {
			return nil, &apiError{400, "Request_BadRequest", "Could not find a property named '" + f + "' on type '" + ps.entity + "'."}
		}
		if !seen[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	return out, nil
}

// names renders a selection for @odata.context: users(id,displayName).
func (ps *propSet[T]) names(sel []int) string {
	var b strings.Builder
	for i, s := range sel {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(ps.props[s].name)
	}
	return b.String()
}

func (ps *propSet[T]) encode(b []byte, v T, sel []int, e *encEnv) []byte {
	b = append(b, '{')
	for i, s := range sel {
		if i > 0 {
			b = append(b, ',')
		}
		p := &ps.props[s]
		b = append(b, '"')
		b = append(b, p.name...)
		b = append(b, '"', ':')
		b = p.enc(b, v, e)
	}
	return append(b, '}')
}

// encEnv is what an encoder needs beyond the object: the day signInActivity
// is counted back from.
type encEnv struct {
	today time.Time // midnight UTC of the serving day
}

// encodeSignIn writes signInActivity. Graph gives a user who never signed
// in an object of nulls, not null.
func encodeSignIn(b []byte, u *tenant.User, e *encEnv) []byte {
	at := func(days int16, hour int) time.Time {
		return e.today.AddDate(0, 0, -int(days)).Add(time.Duration(hour) * time.Hour)
	}
	if u.SignIn == nil || e == nil {
		return append(b, `{"lastSignInDateTime":null,"lastSignInRequestId":null,"lastNonInteractiveSignInDateTime":null,"lastNonInteractiveSignInRequestId":null,"lastSuccessfulSignInDateTime":null,"lastSuccessfulSignInRequestId":null}`...)
	}
	// Hours and request IDs derive from the user's ID, so the same tenant
	// always answers alike.
	h := int(u.ID[0]) % 10
	in, non := at(u.SignIn.Interactive, 8+h), at(u.SignIn.NonInteractive, 9+h)
	last := in
	if non.After(in) {
		last = non
	}
	b = append(b, `{"lastSignInDateTime":`...)
	b = appendTime(b, in)
	b = append(b, `,"lastSignInRequestId":`...)
	b = appendString(b, requestID(u.ID, 1))
	b = append(b, `,"lastNonInteractiveSignInDateTime":`...)
	b = appendTime(b, non)
	b = append(b, `,"lastNonInteractiveSignInRequestId":`...)
	b = appendString(b, requestID(u.ID, 2))
	b = append(b, `,"lastSuccessfulSignInDateTime":`...)
	b = appendTime(b, last)
	b = append(b, `,"lastSuccessfulSignInRequestId":`...)
	b = appendString(b, requestID(u.ID, 3))
	return append(b, '}')
}

// requestID makes a stable GUID-shaped request ID from a user ID.
func requestID(id string, n byte) string {
	b := []byte(id)
	if len(b) == 36 {
		b[0] = "0123456789abcdef"[(int(b[0])+int(n))%16]
		b[35] = "0123456789abcdef"[(int(b[35])+int(n)*7)%16]
	}
	return string(b)
}

var userProps = newPropSet("microsoft.graph.user", []prop[*tenant.User]{
	{"businessPhones", func(b []byte, u *tenant.User, _ *encEnv) []byte { return append(b, "[]"...) }},
	{"displayName", func(b []byte, u *tenant.User, _ *encEnv) []byte { return appendNullableString(b, u.DisplayName) }},
	{"givenName", func(b []byte, u *tenant.User, _ *encEnv) []byte { return appendNullableString(b, u.GivenName) }},
	{"jobTitle", func(b []byte, u *tenant.User, _ *encEnv) []byte { return appendNullableString(b, u.JobTitle) }},
	{"mail", func(b []byte, u *tenant.User, _ *encEnv) []byte { return appendNullableString(b, u.Mail) }},
	{"mobilePhone", func(b []byte, u *tenant.User, _ *encEnv) []byte { return append(b, "null"...) }},
	{"officeLocation", func(b []byte, u *tenant.User, _ *encEnv) []byte { return append(b, "null"...) }},
	{"preferredLanguage", func(b []byte, u *tenant.User, _ *encEnv) []byte { return append(b, "null"...) }},
	{"surname", func(b []byte, u *tenant.User, _ *encEnv) []byte { return appendNullableString(b, u.Surname) }},
	{"userPrincipalName", func(b []byte, u *tenant.User, _ *encEnv) []byte { return appendString(b, u.UserPrincipalName) }},
	{"id", func(b []byte, u *tenant.User, _ *encEnv) []byte { return appendString(b, u.ID) }},
	{"accountEnabled", func(b []byte, u *tenant.User, _ *encEnv) []byte { return appendBool(b, u.AccountEnabled) }},
	{"usageLocation", func(b []byte, u *tenant.User, _ *encEnv) []byte { return appendNullableString(b, u.UsageLocation) }},
	{"department", func(b []byte, u *tenant.User, _ *encEnv) []byte { return appendNullableString(b, u.Department) }},
	{"createdDateTime", func(b []byte, u *tenant.User, _ *encEnv) []byte { return appendTime(b, u.CreatedDateTime) }},
	{"userType", func(b []byte, u *tenant.User, _ *encEnv) []byte {
		if u.Guest {
			return append(b, `"Guest"`...)
		}
		return append(b, `"Member"`...)
	}},
	{"assignedLicenses", func(b []byte, u *tenant.User, _ *encEnv) []byte {
		b = append(b, '[')
		for i, l := range u.AssignedLicenses {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"disabledPlans":`...)
			b = appendStrings(b, l.DisabledPlans)
			b = append(b, `,"skuId":`...)
			b = appendString(b, l.SkuID)
			b = append(b, '}')
		}
		return append(b, ']')
	}},
	{"licenseAssignmentStates", func(b []byte, u *tenant.User, _ *encEnv) []byte {
		b = append(b, '[')
		for i, l := range u.LicenseStates() {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"assignedByGroup":`...)
			b = appendNullableString(b, l.AssignedByGroup)
			b = append(b, `,"disabledPlans":[],"error":`...)
			b = appendString(b, l.Error)
			b = append(b, `,"lastUpdatedDateTime":`...)
			b = appendTime(b, l.LastUpdated)
			b = append(b, `,"skuId":`...)
			b = appendString(b, l.SkuID)
			b = append(b, `,"state":`...)
			b = appendString(b, l.State)
			b = append(b, '}')
		}
		return append(b, ']')
	}},
	{"signInActivity", encodeSignIn},
	{"assignedPlans", func(b []byte, u *tenant.User, _ *encEnv) []byte {
		b = append(b, '[')
		// A user's plans mostly share one assignment time (licenses come
		// in batches): format it once and copy it. appendTime depends only
		// on the instant, so Equal times print alike.
		var last time.Time
		var lastEnc []byte
		for i := range u.AssignedPlans {
			p := &u.AssignedPlans[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"assignedDateTime":`...)
			if lastEnc != nil && p.AssignedDateTime.Equal(last) {
				b = append(b, lastEnc...)
			} else {
				n := len(b)
				b = appendTime(b, p.AssignedDateTime)
				last, lastEnc = p.AssignedDateTime, b[n:len(b):len(b)]
			}
			b = append(b, planTailOf(p).enc...)
		}
		return append(b, ']')
	}},
}, []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation",
	"preferredLanguage", "surname", "userPrincipalName", "id"})

var spProps = newPropSet("microsoft.graph.servicePrincipal", []prop[*tenant.ServicePrincipal]{
	{"id", func(b []byte, s *tenant.ServicePrincipal, _ *encEnv) []byte { return appendString(b, s.ID) }},
	{"accountEnabled", func(b []byte, s *tenant.ServicePrincipal, _ *encEnv) []byte { return appendBool(b, s.AccountEnabled) }},
	{"appDisplayName", func(b []byte, s *tenant.ServicePrincipal, _ *encEnv) []byte {
		return appendNullableString(b, s.AppDisplayName)
	}},
	{"appId", func(b []byte, s *tenant.ServicePrincipal, _ *encEnv) []byte { return appendString(b, s.AppID) }},
	{"appOwnerOrganizationId", func(b []byte, s *tenant.ServicePrincipal, _ *encEnv) []byte {
		return appendNullableString(b, s.AppOwnerOrganizationID)
	}},
	{"displayName", func(b []byte, s *tenant.ServicePrincipal, _ *encEnv) []byte {
		return appendNullableString(b, s.DisplayName)
	}},
	{"publisherName", func(b []byte, s *tenant.ServicePrincipal, _ *encEnv) []byte {
		return appendNullableString(b, s.PublisherName)
	}},
	{"servicePrincipalType", func(b []byte, s *tenant.ServicePrincipal, _ *encEnv) []byte {
		return appendNullableString(b, s.ServicePrincipalType)
	}},
	{"tags", func(b []byte, s *tenant.ServicePrincipal, _ *encEnv) []byte { return appendStrings(b, s.Tags) }},
}, []string{"id", "accountEnabled", "appDisplayName", "appId", "appOwnerOrganizationId", "displayName",
	"publisherName", "servicePrincipalType", "tags"})

var skuProps = newPropSet("microsoft.graph.subscribedSku", []prop[*tenant.SKU]{
	{"accountName", func(b []byte, s *tenant.SKU, _ *encEnv) []byte { return appendString(b, s.AccountName) }},
	{"accountId", func(b []byte, s *tenant.SKU, _ *encEnv) []byte { return appendString(b, s.AccountID) }},
	{"appliesTo", func(b []byte, s *tenant.SKU, _ *encEnv) []byte { return appendString(b, s.AppliesTo) }},
	{"capabilityStatus", func(b []byte, s *tenant.SKU, _ *encEnv) []byte { return appendString(b, s.CapabilityStatus) }},
	{"consumedUnits", func(b []byte, s *tenant.SKU, _ *encEnv) []byte {
		return strconv.AppendInt(b, int64(s.ConsumedUnits), 10)
	}},
	{"id", func(b []byte, s *tenant.SKU, _ *encEnv) []byte { return appendString(b, s.ID) }},
	{"prepaidUnits", func(b []byte, s *tenant.SKU, _ *encEnv) []byte {
		p := s.PrepaidUnits
		b = append(b, `{"enabled":`...)
		b = strconv.AppendInt(b, int64(p.Enabled), 10)
		b = append(b, `,"suspended":`...)
		b = strconv.AppendInt(b, int64(p.Suspended), 10)
		b = append(b, `,"warning":`...)
		b = strconv.AppendInt(b, int64(p.Warning), 10)
		b = append(b, `,"lockedOut":`...)
		b = strconv.AppendInt(b, int64(p.LockedOut), 10)
		return append(b, '}')
	}},
	{"servicePlans", func(b []byte, s *tenant.SKU, _ *encEnv) []byte {
		b = append(b, '[')
		for i, p := range s.ServicePlans {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"servicePlanId":`...)
			b = appendString(b, p.ServicePlanID)
			b = append(b, `,"servicePlanName":`...)
			b = appendString(b, p.ServicePlanName)
			b = append(b, `,"provisioningStatus":`...)
			b = appendString(b, p.ProvisioningStatus)
			b = append(b, `,"appliesTo":`...)
			b = appendString(b, p.AppliesTo)
			b = append(b, '}')
		}
		return append(b, ']')
	}},
	{"skuId", func(b []byte, s *tenant.SKU, _ *encEnv) []byte { return appendString(b, s.SkuID) }},
	{"skuPartNumber", func(b []byte, s *tenant.SKU, _ *encEnv) []byte { return appendString(b, s.SkuPartNumber) }},
	{"subscriptionIds", func(b []byte, s *tenant.SKU, _ *encEnv) []byte { return appendStrings(b, s.SubscriptionIDs) }},
}, []string{"accountName", "accountId", "appliesTo", "capabilityStatus", "consumedUnits", "id", "prepaidUnits",
	"servicePlans", "skuId", "skuPartNumber", "subscriptionIds"})

var groupProps = newPropSet("microsoft.graph.group", []prop[*tenant.Group]{
	{"id", func(b []byte, g *tenant.Group, _ *encEnv) []byte { return appendString(b, g.ID) }},
	{"displayName", func(b []byte, g *tenant.Group, _ *encEnv) []byte { return appendNullableString(b, g.DisplayName) }},
	{"description", func(b []byte, g *tenant.Group, _ *encEnv) []byte { return appendNullableString(b, g.Description) }},
	{"groupTypes", func(b []byte, g *tenant.Group, _ *encEnv) []byte { return append(b, "[]"...) }},
	{"mailEnabled", func(b []byte, g *tenant.Group, _ *encEnv) []byte { return append(b, "false"...) }},
	{"securityEnabled", func(b []byte, g *tenant.Group, _ *encEnv) []byte { return append(b, "true"...) }},
	{"assignedLicenses", func(b []byte, g *tenant.Group, _ *encEnv) []byte {
		b = append(b, '[')
		for i, id := range g.SkuIDs {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"disabledPlans":[],"skuId":`...)
			b = appendString(b, id)
			b = append(b, '}')
		}
		return append(b, ']')
	}},
}, []string{"id", "description", "displayName", "groupTypes", "mailEnabled", "securityEnabled"})

// planTail is the end of an assignedPlans element, from the
// capabilityStatus on, for one (status, service, plan id).
type planTail struct {
	status, service, id string
	enc                 []byte // ,"capabilityStatus":...,"servicePlanId":"..."}
}

// planTails caches the tails of assignedPlans elements: a 100,000-user
// listing writes 1.8 million plans drawn from a few dozen distinct
// (status, service, plan id) triples, and encoding their strings was most
// of the users endpoint's CPU. It is a lock-free open-addressed table:
// entries are immutable, a triple lives in one of planTailWays slots from
// its hash, and a hit compares all three strings, so a collision costs an
// encoding, never a wrong answer. It holds at most len(planTails) entries.
var planTails [1024]atomic.Pointer[planTail]

const planTailWays = 4

func planTailOf(p *tenant.AssignedPlan) *planTail {
	h := planTailSlot(p)
	free := -1
	for i := 0; i < planTailWays; i++ {
		s := (h + i) % len(planTails)
		t := planTails[s].Load()
		if t == nil {
			if free < 0 {
				free = s
			}
			continue
		}
		if t.id == p.ServicePlanID && t.status == p.CapabilityStatus && t.service == p.Service {
			return t
		}
	}
	t := &planTail{status: p.CapabilityStatus, service: p.Service, id: p.ServicePlanID}
	b := append([]byte(nil), `,"capabilityStatus":`...)
	b = appendString(b, p.CapabilityStatus)
	b = append(b, `,"service":`...)
	b = appendString(b, p.Service)
	b = append(b, `,"servicePlanId":`...)
	b = appendString(b, p.ServicePlanID)
	t.enc = append(b, '}')
	if free < 0 {
		free = h // all ways taken: replace the first
	}
	planTails[free].Store(t)
	return t
}

// planTailSlot hashes eight bytes from each end of the plan id (GUIDs
// differ there) with the lengths of the three strings.
func planTailSlot(p *tenant.AssignedPlan) int {
	id := p.ServicePlanID
	x := uint64(len(id)) | uint64(len(p.CapabilityStatus))<<16 | uint64(len(p.Service))<<32
	if n := len(id); n >= 8 {
		x ^= le64(id[:8]) ^ bits.RotateLeft64(le64(id[n-8:]), 29)
	}
	return int((x * 0x9e3779b97f4a7c15) >> (64 - 10))
}

func le64(s string) uint64 {
	s = s[:8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
