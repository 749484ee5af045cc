package pagedecode

import (
	"bytes"
	"testing"
)

// FuzzDecodeUsersFast: the users scanner and the generic JSON v2 decoder
// (the reference) must both fail or give the same users and links, as
// []wire.User and as []wire.DeltaUser; DecodeUsers must give the
// reference's answer.
func FuzzDecodeUsersFast(f *testing.F) {
	for _, p := range append(handPages, dupPages()...) {
		f.Add([]byte(p))
	}
	f.Add([]byte(clientPage1))
	f.Add([]byte(clientPage2))
	f.Add(graphPage(2))
	f.Add(escapeValues(graphPage(1), 2))
	f.Add([]byte(`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users(id,displayName)","@odata.deltaLink":"https://graph.microsoft.com/v1.0/users/delta?$deltatoken=RFNwdAIG","value":[{"id":"7c23","displayName":"Renamed User","accountEnabled":false},{"id":"da44","@removed":{"reason":"changed"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// diffBoth decodes data four times (as users and as delta users,
		// by the scanner alone and through DecodeUsers), so the later
		// decodes meet its assignedPlans arrays in the plan cache; a
		// second round meets them there from the start.
		diffBoth(t, data)
		diffBoth(t, data)
	})
}

// FuzzPlanCache: a page whose users repeat an assignedPlans array (any
// bytes), one of them with one byte changed, must decode as the reference
// decodes it, before and once the array is in the plan cache.
func FuzzPlanCache(f *testing.F) {
	base := planArray(3, "2024-03-01T10:00:00Z", 1, "Suspended")
	for _, a := range []string{base, planArray(40, "2024-03-01T10:00:00Z", -1, ""),
		`[null,{},{"assignedDateTime":null,"capabilityStatus":null,"service":null,"servicePlanId":null}]`,
		`[{"service":"a]b","x":[1,[2]],"y":{"z":"]\"]"}}]`,
		`[{"servicePlanId":"p","service":"s","capabilityStatus":"En\u0061bled","assignedDateTime":"2020-02-29T23:59:59+01:00"}]`,
		`[{"assignedDateTime":"2020-02-30T00:00:00Z","service":"s0123456789"}]`,
		`[{"service":"s","service":"t","servicePlanId":"0123456789"}]`,
		`[{"service":"s"} {"service":"t"}]`,
		`[{"service":"ÿþ0123456789"}]`,
		`[ { "service" : "s" , "capabilityStatus" : "Enabled" } ]`,
		`[{"service":"s","x":"0123456789"},]`,
		`[]`, `null`, `{}`, `[{"service":"s"`,
	} {
		f.Add([]byte(a), uint16(len(a)/2), byte(1))
	}
	f.Fuzz(func(t *testing.T, arr []byte, at uint16, delta byte) {
		other := bytes.Clone(arr)
		if len(other) > 0 {
			other[int(at)%len(other)] += delta
		}
		a, o := string(arr), string(other)
		page := plansPage([]string{a, a, o, a, o, a})
		for range 2 {
			diffBoth(t, page)
		}
	})
}
