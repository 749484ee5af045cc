package inventory

import (
	"slices"
	"strings"
	"testing"
)

// TestEachSkuID: the one scanner of assigned_licenses reads the same
// skuIds from the column as a string (the licence figures) and as bytes
// (staging, the search index), quotes and the key's own text inside plan
// names included (appendLicenses escapes them), none from a user without
// licences, and from a column cut short the values whose closing quote
// it holds.
func TestEachSkuID(t *testing.T) {
	awkward := appendLicenses(nil, []AssignedLicense{
		{SkuID: skuE3, DisabledPlans: []string{`"skuId":"fake"`, `a"b`, `\`}},
		{SkuID: "ABC-Upper", DisabledPlans: []string{}},
	})
	whole := appendLicenses(nil, []AssignedLicense{{SkuID: skuE3}, {SkuID: skuE5}})
	cut := whole[:len(whole)-len(skuE5)/2] // the second value lacks its closing quote
	for _, c := range []struct {
		name string
		col  []byte
		want []string
	}{
		{"no licences", appendLicenses(nil, nil), nil},
		{"empty column", nil, nil},
		{"awkward plan names", awkward, []string{skuE3, "ABC-Upper"}},
		{"two licences", whole, []string{skuE3, skuE5}},
		{"cut in the second value", cut, []string{skuE3}},
		{"cut in the key", whole[:strings.LastIndex(string(whole), skuIDKey)+3], []string{skuE3}},
	} {
		var fromBytes []string
		for id := range eachSkuID(c.col) {
			fromBytes = append(fromBytes, string(id))
		}
		fromString := slices.Collect(eachSkuID(string(c.col)))
		if !slices.Equal(fromBytes, c.want) || !slices.Equal(fromString, c.want) {
			t.Errorf("%s: %s: bytes %q, string %q, want %q", c.name, c.col, fromBytes, fromString, c.want)
		}
	}
	// Stopping early stops the scan.
	var first []string
	for id := range eachSkuID(string(whole)) {
		first = append(first, id)
		break
	}
	if !slices.Equal(first, []string{skuE3}) {
		t.Errorf("a stopped scan gave %q", first)
	}
	// The search index's form: lower case, each followed by "+".
	if got := string(appendSkuIDs([]byte("+"), awkward)); got != "+"+skuE3+"+abc-upper+" {
		t.Errorf("appendSkuIDs gave %q", got)
	}
}

// TestSkuIDReadersAllocateNothing: staging a licensed user's skuIds (once
// its SKUs are known) and listing them for the search index allocate
// nothing per user.
func TestSkuIDReadersAllocateNothing(t *testing.T) {
	col := benchLicensesColumn()
	u := testUsers(1, "x")[0]
	l := newLicenseStage()
	l.expect(10000)
	l.note(&u, 0, u.UserPrincipalName, col, nil)
	if n := testing.AllocsPerRun(1000, func() { l.note(&u, 0, u.UserPrincipalName, col, nil) }); n != 0 {
		t.Errorf("noting a licensed user allocates %.1f times", n)
	}
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(1000, func() { buf = appendSkuIDs(buf[:0], col) }); n != 0 {
		t.Errorf("listing a user's skuIds allocates %.1f times", n)
	}
}

// benchLicensesColumn is a licensed user's assigned_licenses column as
// staging writes it: two licences, a few plans disabled.
func benchLicensesColumn() []byte {
	return appendLicenses(nil, []AssignedLicense{
		{SkuID: skuE3, DisabledPlans: []string{"efb87545-963c-4e0d-99df-69c6916d9eb0", "57ff2da0-773e-42df-b2af-ffb7a2317929"}},
		{SkuID: skuE5, DisabledPlans: []string{}},
	})
}

// BenchmarkLicenseStageNote is staging's per-user cost of keeping a
// licensed user for the history's figures (its skuIds read from the
// column). Report: ns/op is per user.
func BenchmarkLicenseStageNote(b *testing.B) {
	col := benchLicensesColumn()
	u := testUsers(1, "x")[0]
	l := newLicenseStage()
	b.ReportAllocs()
	for b.Loop() {
		if len(l.users) == 4096 {
			l.discard()
		}
		l.note(&u, 0, u.UserPrincipalName, col, nil)
	}
}

// BenchmarkAppendSkuIDs is the user search index's per-user cost of
// listing the skuIds a licence filter can match.
func BenchmarkAppendSkuIDs(b *testing.B) {
	col := benchLicensesColumn()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = appendSkuIDs(append(buf[:0], '+'), col)
	}
}
