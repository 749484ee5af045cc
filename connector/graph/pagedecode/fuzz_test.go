package pagedecode

import (
	"bytes"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
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
	f.Add(escapeNames(graphPage(1), 1))
	f.Add(escapeNames(graphPage(2), 3))
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
		`[{"\u0073ervice":"s","servicePlan\u0049d":"p","capabilityStat\u0075s":"Enabled","assignedDateTim\u0065":"2024-03-01T10:00:00Z"}]`,
		`[{"service":"s\ud83c","servicePlanId":"\udf89p","service\ud83c":1}]`,
		`[{"service":"s","\u0073ervice":"t","servicePlanId":"0123456789"}]`,
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

// FuzzWholeNumber: parseWhole takes exactly the JSON numbers that are
// whole and fit an int (checked against exact rational arithmetic), and
// gives their value.
func FuzzWholeNumber(f *testing.F) {
	for _, s := range []string{"14", "14.0", "1.4E1", "1.4e+1", "140e-1", "14.5", "-0", "0e-400", "1e400",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "9.2233720368547758070e18", "14.000000000000000001", "00", "1.", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !jsontext.Value(s).IsValid() || jsontext.Value(s).Kind() != '0' || strings.TrimSpace(s) != s || len(s) > 64 {
			return
		}
		got, err := parseWhole([]byte(s))
		if k := strings.IndexAny(s, "eE"); k >= 0 && len(strings.TrimLeft(s[k+1:], "+-")) > 3 {
			return // math/big would compute 10^exponent in full
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("%s: not a number to math/big", s)
		}
		whole := r.IsInt() && r.Num().IsInt64() && r.Num().Int64() >= math.MinInt && r.Num().Int64() <= math.MaxInt
		switch {
		case whole && err != nil:
			t.Fatalf("%s: refused: %v", s, err)
		case !whole && err == nil:
			t.Fatalf("%s: took %d", s, got)
		case whole && int64(got) != r.Num().Int64():
			t.Fatalf("%s: %d", s, got)
		}
	})
}
