package pagedecode

import (
	"bytes"
	"strings"
	"testing"

	"github.com/inventorybeacon/beacon/connector/graph/wire"
)

// Escaped member names, lone surrogates and objects that do not fit
// (issue 19): what both decoders must make of them, stated outright (the
// differential tests only say that they agree).

// TestEscapedNamesEverywhere: names written with \u escapes decode as
// their plain spelling, in the reference and in the scanner, which takes
// such a page itself.
func TestEscapedNamesEverywhere(t *testing.T) {
	page := []byte(`{"v\u0061lue":[{"\u0069d":"a","accountEnabl\u0065d":true,` +
		`"assignedLicenses":[{"sku\u0049d":"s1","disabled\u0050lans":["p1"]}],` +
		`"assignedPlans":[{"\u0073ervice":"exchange","servicePlan\u0049d":"p","capabilityStat\u0075s":"Enabled","assignedDateTim\u0065":"2024-03-01T10:00:00Z"}],` +
		`"licenseAssignment\u0053tates":[{"sku\u0049d":"s1","st\u0061te":"Active","assignedByGr\u006fup":"g","err\u006fr":"None"}]}],` +
		`"@odata.next\u004cink":"n"}`)
	if diffBoth(t, page) {
		t.Fatal("the scanner left a page with escaped names to the reference")
	}
	us, next, _, skipped, err := Stream(bytes.NewReader(page), []wire.User(nil))
	if err != nil || len(skipped) > 0 || len(us) != 1 || next != "n" {
		t.Fatalf("%d users, next %q, skipped %v, %v", len(us), next, skipped, err)
	}
	u := us[0]
	if u.ID != "a" || !u.AccountEnabled {
		t.Errorf("user members: %+v", u)
	}
	if len(u.AssignedLicenses) != 1 || u.AssignedLicenses[0].SkuID != "s1" || len(u.AssignedLicenses[0].DisabledPlans) != 1 {
		t.Errorf("licences: %+v", u.AssignedLicenses)
	}
	if len(u.AssignedPlans) != 1 || u.AssignedPlans[0].Service != "exchange" || u.AssignedPlans[0].ServicePlanID != "p" ||
		u.AssignedPlans[0].CapabilityStatus != "Enabled" || u.AssignedPlans[0].AssignedDateTime.IsZero() {
		t.Errorf("plans: %+v", u.AssignedPlans)
	}
	want := wire.LicenseAssignmentState{SkuID: "s1", State: "Active", AssignedByGroup: "g", Error: "None"}
	if len(u.LicenseAssignmentStates) != 1 || u.LicenseAssignmentStates[0] != want {
		t.Errorf("states: %+v", u.LicenseAssignmentStates)
	}
}

// TestLoneSurrogate: a display name cut in the middle of an emoji reads
// with U+FFFD in its place, in both decoders, and costs nothing else.
func TestLoneSurrogate(t *testing.T) {
	page := []byte(`{"value":[{"id":"a","displayName":"Party \ud83c","department":"\ud83c\u0041","assignedPlans":[{"service":"\udf89"}]},{"id":"b","displayName":"\ud83c\udf89"}]}`)
	if diffBoth(t, page) {
		t.Fatal("the scanner left a page with a lone surrogate to the reference")
	}
	us, _, _, skipped, err := decodeUsers(bytes.NewReader(page), []wire.User(nil))
	if err != nil || len(skipped) > 0 || len(us) != 2 {
		t.Fatalf("%d users, skipped %v, %v", len(us), skipped, err)
	}
	if us[0].DisplayName != "Party \uFFFD" || us[0].Department != "\uFFFDA" || us[0].AssignedPlans[0].Service != "\uFFFD" || us[1].DisplayName != "🎉" {
		t.Errorf("got %q %q %q %q", us[0].DisplayName, us[0].Department, us[0].AssignedPlans[0].Service, us[1].DisplayName)
	}
}

// TestOneBadUserIsLeftOut: a user whose accountEnabled is a string is
// left out, named by its id, its property and the offset; the users
// around it are kept.
func TestOneBadUserIsLeftOut(t *testing.T) {
	page := `{"value":[{"id":"a","accountEnabled":true},{"id":"b","accountEnabled":"true"},{"id":"c","accountEnabled":false}],"@odata.nextLink":"n"}`
	diffBoth(t, []byte(page))
	us, next, _, skipped, err := decodeUsers(bytes.NewReader([]byte(page)), []wire.User(nil))
	if err != nil || next != "n" {
		t.Fatal(next, err)
	}
	if len(us) != 2 || us[0].ID != "a" || us[1].ID != "c" || us[1].AccountEnabled {
		t.Fatalf("kept %+v", us)
	}
	if len(skipped) != 1 {
		t.Fatalf("skipped %v", skipped)
	}
	s := skipped[0]
	at := int64(strings.Index(page, `"true"`))
	if s.Index != 1 || s.ID != "b" || s.Property != "/accountEnabled" || s.Offset != at || s.Err == nil {
		t.Errorf("skipped %+v (want offset %d)", s, at)
	}
	for _, w := range []string{"id b", "/accountEnabled", "offset"} {
		if !strings.Contains(s.Error(), w) {
			t.Errorf("%q does not say %q", s.Error(), w)
		}
	}
}

// TestBrokenPageFailsWhole: JSON that is not well formed fails the page,
// saying where.
func TestBrokenPageFailsWhole(t *testing.T) {
	page := `{"value":[{"id":"a"},{"id":"b" "x":1}]}`
	_, _, _, _, err := decodeUsers(strings.NewReader(page), []wire.User(nil))
	if err == nil || !strings.Contains(err.Error(), "offset") {
		t.Fatalf("error %v does not name the offset", err)
	}
}

// TestWholeNumbers: subscribedSkus' counts are read in any JSON form of a
// whole number; a fraction is refused, saying so, and only that SKU is
// left out.
func TestWholeNumbers(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{{"14", 14}, {"14.0", 14}, {"1.4E1", 14}, {"1.4e+1", 14}, {"140e-1", 14}, {"-0", 0}, {"0.0e5", 0}, {"-3.00", -3},
		{"9223372036854775807", 9223372036854775807}, {"-9223372036854775808", -9223372036854775808}, {"9.223372036854775807e18", 9223372036854775807}} {
		page := `{"value":[{"skuId":"s","consumedUnits":` + c.in + `,"prepaidUnits":{"enabled":` + c.in + `}}]}`
		skus, _, _, skipped, err := Stream(strings.NewReader(page), []wire.SubscribedSku(nil))
		if err != nil || len(skipped) > 0 || len(skus) != 1 || skus[0].ConsumedUnits != c.want || skus[0].PrepaidUnits.Enabled != c.want {
			t.Errorf("%s: %+v, skipped %v, %v", c.in, skus, skipped, err)
		}
	}
	for _, in := range []string{"14.5", "1.45E1", "14.000000000000000001", "1e-1", "9223372036854775808", "1e19", "1e400", "-9223372036854775809", `"14"`, "true"} {
		page := `{"value":[{"skuId":"bad","consumedUnits":` + in + `},{"skuId":"good","consumedUnits":3}]}`
		skus, _, _, skipped, err := Stream(strings.NewReader(page), []wire.SubscribedSku(nil))
		if err != nil || len(skus) != 1 || skus[0].SkuID != "good" || len(skipped) != 1 {
			t.Errorf("%s: %+v, skipped %v, %v", in, skus, skipped, err)
			continue
		}
		if skipped[0].Property != "/consumedUnits" {
			t.Errorf("%s: %v", in, skipped[0])
		}
	}
	_, _, _, skipped, _ := Stream(strings.NewReader(`{"value":[{"consumedUnits":14.5}]}`), []wire.SubscribedSku(nil))
	if len(skipped) != 1 || !strings.Contains(skipped[0].Error(), "14.5 is not a whole number") {
		t.Errorf("14.5: %v", skipped)
	}
}
