package pagedecode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/inventorybeacon/beacon/connector/graph/wire"
	"github.com/inventorybeacon/beacon/m365sim/accesstoken"
	simgraph "github.com/inventorybeacon/beacon/m365sim/graph"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

// The users scanner (users.go) must give exactly what the generic
// JSON v2 decoder (Stream) gives: these tests run both.

// dirty returns a reused buffer whose old contents must not leak into a
// decode.
func dirty[T UserItem](n int) []T {
	buf := make([]T, n, n+5)
	for i := range buf {
		u := any(&buf[i])
		var p *wire.User
		switch v := u.(type) {
		case *wire.User:
			p = v
		case *wire.DeltaUser:
			p = &v.User
			v.Removed = &wire.Removed{Reason: "stale"}
		}
		p.ID, p.Department, p.AccountEnabled = "stale", "stale", true
		p.CreatedDateTime = time.Unix(1, 0)
		p.AssignedPlans = []wire.AssignedPlan{{Service: "stale"}}
		p.AssignedLicenses = []wire.AssignedLicense{{SkuID: "stale"}}
		p.UserType = "stale"
		p.LicenseAssignmentStates = []wire.LicenseAssignmentState{{SkuID: "stale", AssignedByGroup: "stale", State: "stale", Error: "stale"}}
	}
	return buf
}

// diffDecode decodes data with the reference, with the scanner alone and
// with DecodeUsers, and fails t on any difference. It reports whether
// the scanner left the page to the reference. The scanner never leaves a
// user out: a page of which the reference skipped users must fail in the
// scanner (and so go to the reference).
func diffDecode[T UserItem](t testing.TB, data []byte) (fallback bool) {
	t.Helper()
	ref, rNext, rDelta, rSkip, rErr := Stream(bytes.NewReader(data), dirty[T](3))

	d := testScanner.decoder()
	fast, fNext, fDelta, fErr := scanUsersPage(d, data, dirty[T](3))
	d.release()
	fallback = errors.Is(fErr, errFallback)
	switch {
	case fallback:
	case len(rSkip) > 0:
		if fErr == nil {
			t.Fatalf("%T page %.300q: the reference left out %v, the scanner took the page", ref, data, rSkip)
		}
	case (rErr == nil) != (fErr == nil):
		t.Fatalf("%T page %.300q:\nreference error: %v\nscanner error:   %v", ref, data, rErr, fErr)
	case rErr == nil:
		if rNext != fNext || rDelta != fDelta {
			t.Fatalf("page %.300q: links %q %q, scanner %q %q", data, rNext, rDelta, fNext, fDelta)
		}
		if !reflect.DeepEqual(ref, fast) {
			t.Fatalf("%T page %.300q:\nreference %+v\nscanner   %+v", ref, data, ref, fast)
		}
	}

	// What callers get: the reference's answer, errors worded alike.
	pub, pNext, pDelta, pSkip, pErr := decodeUsers(iotestHalf(data), dirty[T](2))
	if (rErr == nil) != (pErr == nil) || (rErr != nil && rErr.Error() != pErr.Error()) {
		t.Fatalf("page %.300q: reference error %v, DecodeUsers %v", data, rErr, pErr)
	}
	if fmt.Sprint(rSkip) != fmt.Sprint(pSkip) {
		t.Fatalf("page %.300q: the reference left out %v, DecodeUsers %v", data, rSkip, pSkip)
	}
	if rErr == nil && (rNext != pNext || rDelta != pDelta || !reflect.DeepEqual(ref, pub)) {
		t.Fatalf("page %.300q: DecodeUsers differs from the reference", data)
	}
	return fallback
}

// iotestHalf reads data in small pieces, as a network body would.
func iotestHalf(data []byte) io.Reader { return &chunky{data: data} }

type chunky struct {
	data []byte
	n    int
}

func (c *chunky) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	c.n++
	k := min(len(p), len(c.data), 1+c.n*7919%65536)
	copy(p, c.data[:k])
	c.data = c.data[k:]
	return k, nil
}

func diffBoth(t testing.TB, data []byte) (fallback bool) {
	t.Helper()
	a := diffDecode[wire.User](t, data)
	b := diffDecode[wire.DeltaUser](t, data)
	return a || b
}

// handPages are pages written by hand: escapes, nulls, unknown members of
// every shape, odd orders, whitespace, and errors of every kind.
var handPages = []string{
	`{}`,
	`{"value":[]}`,
	` { "value" : [ ] , "@odata.nextLink" : "n" } `,
	"\t\r\n{\"value\":[\n{ \"id\" : \"a\" }\n]\n}\n",
	`{"value":[null,{},null]}`,
	`{"@odata.nextLink":"https://graph.microsoft.com/v1.0/users?$skiptoken=RFNwdAIA","value":[{"id":"x"}],"@odata.context":"c"}`,
	`{"@odata.deltaLink":"https://graph.microsoft.com/v1.0/users/delta?$deltatoken=abc","value":[{"id":"x","@removed":{"reason":"deleted"}},{"id":"y","@removed":{"reason":"changed","extra":[1,{"a":null}]}},{"id":"z","@removed":null},{"@removed":{}},{"@removed":{"reason":null}}]}`,
	`{"value":[{"id":"a","userPrincipalName":"a@x","displayName":"A","mail":null,"accountEnabled":null,"usageLocation":null,"department":null,"jobTitle":null,"createdDateTime":null,"assignedLicenses":null,"assignedPlans":null,"licenses":null,"lastActivity":null}]}`,
	`{"value":[{"assignedPlans":[],"assignedLicenses":[]}]}`,
	`{"value":[{"assignedPlans":[null,{},{"assignedDateTime":null,"capabilityStatus":null,"service":null,"servicePlanId":null}],"assignedLicenses":[null,{},{"skuId":null,"disabledPlans":null},{"disabledPlans":[]},{"disabledPlans":[null,"p1","p1"]}]}]}`,
	`{"value":[{"assignedPlans":[{"servicePlanId":"p","service":"s","capabilityStatus":"Enabled","assignedDateTime":"2020-02-29T23:59:59Z","x":{"y":[true,false,null,-0.5e+3]}}]}]}`,
	`{"value":[{"assignedPlans":[{"assignedDateTime":""}]}]}`,
	`{"value":[{"assignedPlans":[{"assignedDateTime":"2020-02-30T00:00:00Z"}]}]}`,
	`{"value":[{"assignedPlans":[{"assignedDateTime":"2020-01-01T00:00:60Z"}]}]}`,
	`{"value":[{"assignedPlans":[{"assignedDateTime":"2020-01-01T24:00:00Z"}]}]}`,
	`{"value":[{"assignedPlans":[{"assignedDateTime":"2020-01-01T1:00:00Z"}]}]}`,
	`{"value":[{"assignedPlans":[{"assignedDateTime":"2020-01-01T10:00:00.123456789Z"}]}]}`,
	`{"value":[{"assignedPlans":[{"assignedDateTime":"2020-01-01T10:00:00+02:00"}]}]}`,
	`{"value":[{"assignedPlans":[{"assignedDateTime":"2020-01-01t10:00:00z"}]}]}`,
	`{"value":[{"assignedPlans":[{"assignedDateTime":"0000-01-01T00:00:00Z"},{"assignedDateTime":"1900-02-29T00:00:00Z"},{"assignedDateTime":"2000-02-29T00:00:00Z"}]}]}`,
	`{"value":[{"assignedPlans":[{"assignedDateTime":"\u0032020-01-01T10:00:00Z"}]}]}`,
	`{"value":[{"assignedPlans":[{"assignedDateTime":5}]}]}`,
	`{"value":[{"assignedPlans":[{"service":5}]}]}`,
	`{"value":[{"assignedPlans":[{"other":5}]}]}`,
	`{"value":[{"assignedPlans":[5]}]}`,
	`{"value":[{"assignedPlans":{}}]}`,
	`{"value":[{"assignedLicenses":[{"skuId":1}]}]}`,
	`{"value":[{"assignedLicenses":[{"disabledPlans":[1]}]}]}`,
	`{"value":[{"assignedLicenses":[{"disabledPlans":{}}]}]}`,
	`{"value":[{"assignedLicenses":["x"]}]}`,
	`{"value":[{"createdDateTime":"2023-04-05T06:07:08Z","lastActivity":"2023-04-05T06:07:08.5Z"}]}`,
	`{"value":[{"createdDateTime":"2023-04-05T06:07:08+01:00"}]}`,
	`{"value":[{"createdDateTime":"2023-04-05T06:07:08-00:00"}]}`,
	`{"value":[{"createdDateTime":"2023-04-05T6:07:08Z"}]}`,
	`{"value":[{"createdDateTime":"2023-04-05T06:07:08,5Z"}]}`,
	`{"value":[{"createdDateTime":"2023-04-05T06:07:08+24:00"}]}`,
	`{"value":[{"createdDateTime":"2023-04-05"}]}`,
	`{"value":[{"createdDateTime":""}]}`,
	`{"value":[{"createdDateTime":1}]}`,
	`{"value":[{"accountEnabled":"true"}]}`,
	`{"value":[{"accountEnabled":true},{"accountEnabled":false}]}`,
	`{"value":[{"id":"\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t\u0000x","displayName":"Zoë 日本 😀","mail":"a\u0040b"}]}`,
	`{"value":[{"department":"Sales","jobTitle":"A\u0026B"},{"department":"Sales","jobTitle":"A&B","usageLocation":"US"}]}`,
	`{"value":[{"id":"\ud800"}]}`,
	`{"value":[{"id":"\udc00\ud800"}]}`,
	`{"value":[{"id":"\ud800\u0041"}]}`,
	`{"value":[{"id":"\udc00\udc00"}]}`,
	`{"value":[{"id":"\ud800\ud800"}]}`,
	`{"value":[{"id":"\udbff\udfff\ud800\udc00"}]}`,
	`{"value":[{"id":"\ud800\\"}]}`,
	`{"value":[{"id":"\uZZZZ"}]}`,
	`{"value":[{"id":"\x"}]}`,
	"{\"value\":[{\"id\":\"\xff\"}]}",
	"{\"value\":[{\"id\":\"\xed\xa0\x80\"}]}",
	"{\"value\":[{\"id\":\"\xc0\xaf\"}]}",
	"{\"value\":[{\"q\":\"\xe2\x82\"}]}",
	"{\"value\":[{\"id\":\"a\x01\"}]}",
	"{\"value\":[{\"id\":\"\xef\xbf\xbd\x7f\"}]}",
	`{"value":[{"ID":"upper","Id":"x","iD":"y"}]}`,
	`{"value":[{"User":{"id":"nested"},"id":"outer"}]}`,
	`{"value":[{"@removed":{"reason":"deleted"},"id":"x"}]}`,
	`{"value":[{"@removed":"deleted"}]}`,
	`{"value":[{"@removed":{"reason":1}}]}`,
	`{"value":[{"@removed":{"reason":"a","reason":"b"}}]}`,
	`{"value":[{"id":"a","id":"b"}]}`,
	`{"value":[{"x":1,"x":2}]}`,
	`{"value":[{"x":{"a":1,"b":{"a":2},"a":3}}]}`,
	`{"value":[{"x":{"a":1},"y":{"a":1}}]}`,
	`{"value":[{"assignedPlans":[{"service":"a","service":"b"}]}]}`,
	`{"value":[{"assignedPlans":[{"x":1,"x":2}]}]}`,
	`{"value":[{"assignedLicenses":[{"skuId":"a","skuId":"b"}]}]}`,
	`{"value":[{"assignedLicenses":[{"disabledPlans":null,"disabledPlans":[]}]}]}`,
	`{"value":[{"\u0069d":"escaped name"}]}`,
	`{"value":[{"assignedPlans":[{"\u0073ervice":"b"}]}]}`,
	`{"value":[],"value":[]}`,
	`{"@odata.nextLink":"a","@odata.nextLink":"b"}`,
	`{"@odata.context":"a","@odata.context":"b"}`,
	`{"@odata.nextLink":null,"@odata.deltaLink":true,"value":[]}`,
	`{"@odata.nextLink":12.5e3,"@odata.deltaLink":false}`,
	`{"@odata.nextLink":"a\u0026b\/c"}`,
	`{"@odata.nextLink":{}}`,
	`{"@odata.nextLink":{}`,
	`{"@odata.nextLink":{"value":[{"id":"inner"}]}}`,
	`{"@odata.nextLink":["@odata.nextLink",{}`,
	`{"value":[]}trailing garbage`,
	`{"value":[]}}`,
	"\xef\xbb\xbf{\"value\":[]}",
	``,
	` `,
	`null`,
	`[]`,
	`"x"`,
	`{`,
	`{"value"`,
	`{"value":`,
	`{"value":[`,
	`{"value":[{`,
	`{"value":[{"id"`,
	`{"value":[{"id":`,
	`{"value":[{"id":"a`,
	`{"value":[{"id":"a"`,
	`{"value":[{"id":"a"}`,
	`{"value":[{"id":"a"}]`,
	`{"value":null}`,
	`{"value":{}}`,
	`{"value":[1]}`,
	`{"value":[{"id":"a"},]}`,
	`{"value":[{"id":"a",}]}`,
	`{"value":[],}`,
	`{,}`,
	`{"value":[{"id":"a"} {"id":"b"}]}`,
	`{"value":[{"id" "a"}]}`,
	`{"value":[{"x":01}]}`,
	`{"value":[{"x":1.}]}`,
	`{"value":[{"x":.5}]}`,
	`{"value":[{"x":-}]}`,
	`{"value":[{"x":1e}]}`,
	`{"value":[{"x":1e+}]}`,
	`{"value":[{"x":-0,"y":0.0e-0,"z":123456789012345678901234567890}]}`,
	`{"value":[{"x":tru}]}`,
	`{"value":[{"x":nulll}]}`,
	`{"value":[{"x":True}]}`,
	`{"value":[{"x":[}]}`,
	`{"value":[{"x":[1,]}]}`,
	`{"value":[{"x":{"a"}}]}`,
	`{"value":[{"x":{1:2}}]}`,
	`{"x":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]],"value":[]}`,
	// licenseAssignmentStates and userType: nulls everywhere, Graph's
	// members the wire type skips (inside a state too), unknown members
	// of every shape, wrong types, and errors inside a state.
	`{"value":[{"id":"g","userType":"Guest","licenseAssignmentStates":[{"assignedByGroup":null,"disabledPlans":[],"error":"None","lastUpdatedDateTime":"2024-03-01T10:00:00Z","skuId":"s1","state":"Active"},{"assignedByGroup":"grp-1","disabledPlans":["p1"],"error":"CountViolation","lastUpdatedDateTime":null,"skuId":"s2","state":"Error"}]},{"id":"h","userType":"Member","licenseAssignmentStates":[{"assignedByGroup":"grp-1","disabledPlans":[],"error":"None","lastUpdatedDateTime":"2024-03-01T10:00:00Z","skuId":"s2","state":"Active"}]}]}`,
	`{"value":[{"userType":null,"licenseAssignmentStates":null},{"licenseAssignmentStates":[]},{"licenseAssignmentStates":[null,{},{"skuId":null,"assignedByGroup":null,"state":null,"error":null}]}]}`,
	`{"value":[{"licenseAssignmentStates":[{"skuId":"s","x":{"y":[1,{"z":null}]},"newMember":[true,"]"],"state":"Active"}]}]}`,
	`{"value":[{"licenseAssignmentStates":[{"skuId":"s","state":"Act\u0069ve","assignedByGroup":"g\"1"}],"userType":"Gu\u0065st"}]}`,
	`{"value":[{"licenseAssignmentStates":[{"skuId":1}]}]}`,
	`{"value":[{"licenseAssignmentStates":[{"state":true}]}]}`,
	`{"value":[{"licenseAssignmentStates":{"skuId":"s"}}]}`,
	`{"value":[{"licenseAssignmentStates":["s"]}]}`,
	`{"value":[{"licenseAssignmentStates":[{"skuId":"s"},]}]}`,
	`{"value":[{"licenseAssignmentStates":[{"skuId":"s"}{"skuId":"t"}]}]}`,
	`{"value":[{"licenseAssignmentStates":[{"skuId":"s","error":"None",}]}]}`,
	`{"value":[{"userType":1}]}`,
	`{"value":[{"userType":["Guest"]}]}`,
	// Member names written with escapes (issue 19): in users, licences,
	// plans, states, @removed and the page itself, and duplicates that
	// differ only in their escapes.
	`{"v\u0061lue":[{"\u0069d":"a","displayN\u0061me":"D","accountEnabl\u0065d":true,"user\u0054ype":"Guest","cre\u0061tedDateTime":"2023-04-05T06:07:08Z"}],"@odata.next\u004cink":"n","@odata.delta\u004Cink":"d"}`,
	`{"value":[{"id":"a","assignedLicenses":[{"sku\u0049d":"s1","disabled\u0050lans":["p1"]},{"\u0073kuId":"s2","x\u0079":1}]}]}`,
	`{"value":[{"id":"a","assignedPlans":[{"\u0073ervice":"exchange","servicePlan\u0049d":"p","capabilityStat\u0075s":"Enabled","assignedDateTim\u0065":"2024-03-01T10:00:00Z"}]},{"id":"b","assignedPlans":[{"\u0073ervice":"exchange","servicePlan\u0049d":"p","capabilityStat\u0075s":"Enabled","assignedDateTim\u0065":"2024-03-01T10:00:00Z"}]}]}`,
	`{"value":[{"id":"a","licenseAssignment\u0053tates":[{"sku\u0049d":"s","st\u0061te":"Active","assignedByGr\u006fup":"g","err\u006fr":"None","disabled\u0050lans":[]}]}]}`,
	`{"value":[{"id":"a","\u0040removed":{"re\u0061son":"deleted"}}]}`,
	`{"value":[{"id":"a","\u0069d":"b"}]}`,
	`{"value":[{"x\u0079":1,"xy":2}]}`,
	`{"value":[{"assignedPlans":[{"service":"a","\u0073ervice":"b"}]}]}`,
	`{"value":[{"assignedLicenses":[{"skuId":"a","sku\u0049d":"b"}]}]}`,
	`{"value":[{"licenseAssignmentStates":[{"state":"a","st\u0061te":"b"}]}]}`,
	`{"value":[{"na\u006de\ud83c":1,"na\u006de\ud83c\u0041":2}]}`,
	`{"value":[{"id\u":1}]}`,
	`{"value":[{"id\`,
	// Lone surrogates (issue 19): U+FFFD, as encoding/json reads them.
	`{"value":[{"id":"a","displayName":"Party \ud83c","mail":"\ud83c\udf89\ud83c","department":"\udf89x","jobTitle":"\ud83c\ud83c\udf89"}]}`,
	`{"value":[{"id":"\ud83c\u0041","assignedPlans":[{"service":"\ud83c","servicePlanId":"p\udc00"}],"assignedLicenses":[{"skuId":"\ud800","disabledPlans":["\udbff"]}],"licenseAssignmentStates":[{"state":"\ud800\\"}]}]}`,
	`{"@odata.nextLink":"n\ud800","value":[{"\ud800":"x"}]}`,
	"{\"value\":[{\"id\":\"bad \xff byte\",\"displayName\":\"\xff\\ud83c\"}]}",
	// One object that does not fit (issue 19): the others are kept, it is
	// left out and named.
	`{"value":[{"id":"a","accountEnabled":true},{"id":"b","accountEnabled":"true"},{"id":"c","accountEnabled":false}]}`,
	`{"value":[1,{"id":"a"},"x",null,[]]}`,
	`{"value":[{"id":"a","assignedPlans":[{"assignedDateTime":"yesterday"}]},{"id":"b"}]}`,
	`{"value":[{"id":5,"mail":"m"},{"id":"b","assignedLicenses":{"skuId":"s"}}]}`,
	`{"value":[{"id":"b","@removed":"deleted"},{"id":"c","createdDateTime":"2023-13-01T00:00:00Z"}]}`,
	`{"value":[{"id":"a","accountEnabled":"true"},{"id":"b",]}`,
	`{"value":[{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"r":18,"s":19,"t":20,"u":21,"v":22,"w":23,"x":24,"y":25,"z":26,"a1":1,"b1":2,"c1":3,"d1":4,"e1":5,"f1":6,"g1":7,"h1":8,"i1":9,"j1":10,"k1":11,"l1":12,"m1":13,"n1":14,"o1":15,"p1":16,"q1":17,"r1":18,"s1":19,"t1":20,"u1":21,"v1":22,"w1":23,"x1":24,"y1":25,"z1":26,"a2":1,"b2":2,"c2":3,"d2":4,"e2":5,"f2":6,"g2":7,"h2":8,"i2":9,"j2":10,"k2":11,"l2":12,"m2":13,"n2":14}]}`,
}

// dupPages repeats each member the scanner knows, in each object.
func dupPages() []string {
	var out []string
	for _, m := range []string{`"id":"a"`, `"userPrincipalName":"a"`, `"displayName":"a"`, `"mail":"a"`,
		`"accountEnabled":true`, `"usageLocation":"a"`, `"department":"a"`, `"jobTitle":"a"`,
		`"createdDateTime":null`, `"assignedLicenses":[]`, `"assignedPlans":[]`, `"licenses":"a"`,
		`"userType":"Guest"`, `"licenseAssignmentStates":[]`,
		`"lastActivity":null`, `"@removed":null`, `"other":1`} {
		out = append(out, `{"value":[{`+m+`,"id2":1,`+m+`}]}`)
	}
	for _, m := range []string{`"assignedDateTime":null`, `"capabilityStatus":"a"`, `"service":"a"`, `"servicePlanId":"a"`, `"x":1`} {
		out = append(out, `{"value":[{"assignedPlans":[{`+m+`,`+m+`}]}]}`)
	}
	for _, m := range []string{`"skuId":"a"`, `"disabledPlans":[]`, `"x":1`} {
		out = append(out, `{"value":[{"assignedLicenses":[{`+m+`,`+m+`}]}]}`)
	}
	for _, m := range []string{`"skuId":"a"`, `"assignedByGroup":null`, `"state":"a"`, `"error":"a"`, `"disabledPlans":[]`, `"x":1`} {
		out = append(out, `{"value":[{"licenseAssignmentStates":[{`+m+`,`+m+`}]}]}`)
	}
	for _, m := range []string{`"value":[]`, `"@odata.nextLink":"a"`, `"@odata.deltaLink":"a"`, `"@odata.context":"a"`} {
		out = append(out, `{`+m+`,"x":1,`+m+`}`)
	}
	return out
}

func TestUsersScannerHandPages(t *testing.T) {
	fallbacks := 0
	for _, p := range append(handPages, dupPages()...) {
		if diffBoth(t, []byte(p)) {
			fallbacks++
		}
	}
	t.Logf("%d pages, %d left to the reference", len(handPages), fallbacks)
}

func TestUsersScannerDeepNesting(t *testing.T) {
	for _, depth := range []int{100, maxSkipDepth - 1, maxSkipDepth + 1, 20000} {
		p := `{"value":[{"x":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `,"id":"a"}]}`
		diffBoth(t, []byte(p))
		p = `{"value":[{"x":` + strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth) + `}]}`
		diffBoth(t, []byte(p))
	}
}

// TestUsersScannerBenchPage also checks that the scanner handles the page
// itself (no fallback).
func TestUsersScannerBenchPage(t *testing.T) {
	page := graphPage(50)
	if diffBoth(t, page) {
		t.Fatal("the scanner left a plain users page to the reference")
	}
	for _, v := range variants(page) {
		diffBoth(t, v)
	}
	// Escaped names are the scanner's to read (issue 19), in every object.
	for _, k := range []int{1, 2, 5} {
		if v := escapeNames(page, k); diffBoth(t, v) {
			t.Fatalf("the scanner left a page with escaped names to the reference: %.300s", v)
		}
	}
}

// TestUsersScannerSimulator runs both decoders over what the simulator
// serves: full listings (with $select, with its default properties, with
// a prefix filter), a delta round, and, after changes, the delta round
// with changed and removed users.
func TestUsersScannerSimulator(t *testing.T) {
	sim := newSimGraph(t, 2500)
	var bodies [][]byte
	get := func(u string) ([]byte, string, string) {
		b := sim.get(u)
		var links struct {
			Next  string `json:"@odata.nextLink"`
			Delta string `json:"@odata.deltaLink"`
		}
		if err := json.Unmarshal(b, &links); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		bodies = append(bodies, b)
		return b, links.Next, links.Delta
	}
	walk := func(first string) (delta string) {
		for u := first; u != ""; {
			_, u, delta = get(u)
		}
		return delta
	}
	walk(sim.srv.URL + "/v1.0/users?$select=" + wire.UserSelect + "&$top=999")
	walk(sim.srv.URL + "/v1.0/users?$top=500")
	walk(sim.srv.URL + "/v1.0/users?$select=" + wire.UserSelect + "&$top=999&$filter=" + url.QueryEscape("startswith(userPrincipalName,'a')"))
	deltaLink := walk(sim.srv.URL + "/v1.0/users/delta?$select=" + wire.UserSelect)
	sum := sim.ten.Mutate(7, 0.2)
	t.Logf("mutated: %+v", sum)
	n := len(bodies)
	if walk(deltaLink) == "" {
		t.Fatal("no deltaLink")
	}
	removed := 0
	for _, b := range bodies[n:] {
		removed += bytes.Count(b, []byte(`"@removed"`))
	}
	if removed == 0 {
		t.Fatal("the delta round after changes has no removed users")
	}
	walk(sim.srv.URL + "/v1.0/users?$select=" + wire.UserSelect + "&$top=999")

	users := 0
	for _, b := range bodies {
		if diffBoth(t, b) {
			t.Fatalf("the scanner left a simulator page to the reference: %.200s", b)
		}
		var du []wire.DeltaUser
		du, _, _, _, err := decodeUsers(bytes.NewReader(b), du)
		if err != nil {
			t.Fatal(err)
		}
		users += len(du)
	}
	// Variants of a few pages: reordered members, whitespace, escapes.
	for _, b := range [][]byte{bodies[0], bodies[n]} {
		for _, v := range variants(b) {
			diffBoth(t, v)
		}
	}
	t.Logf("%d pages, %d users and delta entries (%d removed)", len(bodies), users, removed)
}

// variants rewrites a page: members in another order with indentation,
// string values partly escaped, an unknown member of every shape in each
// object, and the page cut short.
func variants(page []byte) [][]byte {
	var out [][]byte
	var v any
	if err := json.Unmarshal(page, &v); err != nil {
		panic(err)
	}
	sorted, _ := json.MarshalIndent(v, "", " \t") // encoding/json sorts members
	out = append(out, sorted, escapeValues(page, 3), escapeValues(sorted, 1), escapeNames(page, 2), escapeNames(sorted, 1))
	out = append(out, addUnknown(v))
	for _, cut := range []int{1, len(page) / 3, len(page) / 2, len(page) - 2, len(page) - 1} {
		out = append(out, page[:cut])
	}
	return out
}

// addUnknown adds members of every shape to every object.
func addUnknown(v any) []byte {
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = walk(e)
			}
			x["zUnknownObj"] = map[string]any{"a": []any{1.5, "s", nil, true, map[string]any{}}}
			x["zUnknownArr"] = []any{[]any{}, "x"}
			x["zUnknownNum"] = -12.5e-3
			x["zUnknownStr"] = "é\"\\"
			x["zUnknownNull"] = nil
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		}
		return v
	}
	b, _ := json.Marshal(walk(v))
	return b
}

// escapeValues writes every k-th character of string values (not of
// names) as a \u escape (a surrogate pair beyond the BMP).
func escapeValues(page []byte, k int) []byte { return escapeStrings(page, k, false) }

// escapeNames writes every k-th character of member names (not of
// values) as a \u escape: user members, licences', plans' and states'
// names alike (issue 19).
func escapeNames(page []byte, k int) []byte { return escapeStrings(page, k, true) }

// escapeStrings escapes every k-th character of names or of values.
func escapeStrings(page []byte, k int, names bool) []byte {
	var out []byte
	n := 0
	for i := 0; i < len(page); {
		if page[i] != '"' {
			out = append(out, page[i])
			i++
			continue
		}
		end := i + 1
		for page[end] != '"' {
			if page[end] == '\\' {
				end++
			}
			end++
		}
		j := end + 1
		for j < len(page) && (page[j] == ' ' || page[j] == '\t' || page[j] == '\n') {
			j++
		}
		if isName := j < len(page) && page[j] == ':'; isName != names {
			out = append(out, page[i:end+1]...)
			i = end + 1
			continue
		}
		out = append(out, '"')
		for p := i + 1; p < end; {
			if page[p] == '\\' {
				out = append(out, page[p:p+2]...)
				p += 2
				continue
			}
			r, size := utf8.DecodeRune(page[p:end])
			n++
			if n%k == 0 {
				if r > 0xffff {
					r -= 0x10000
					out = fmt.Appendf(out, `\u%04x\u%04X`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
				} else {
					out = fmt.Appendf(out, `\u%04x`, r)
				}
			} else {
				out = append(out, page[p:p+size]...)
			}
			p += size
		}
		out = append(out, '"')
		i = end + 1
	}
	return out
}

// simGraph is the simulator's Graph over a generated tenant.
type simGraph struct {
	t     testing.TB
	ten   *tenant.Tenant
	srv   *httptest.Server
	token string
}

var simKey = []byte("0123456789abcdef0123456789abcdef")

func newSimGraph(t testing.TB, users int) *simGraph {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ten := tenant.GenerateAt(1, users, now)
	ten.Clock = clock
	h := simgraph.New(simgraph.Options{Tenant: ten, SigningKey: simKey, Now: clock, DeltaPageSize: 200})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	tok := accesstoken.Mint(simKey, accesstoken.Claims{
		Audience: simgraph.GraphResource, TenantID: ten.ID, AppID: tenant.ConfidentialClientID,
		IssuedAt: now.Unix(), NotBefore: now.Unix(), Expiry: now.Add(time.Hour).Unix(),
		ObjectID: "sp", Roles: []string{"User.Read.All"}, ID: "a",
	})
	return &simGraph{t: t, ten: ten, srv: srv, token: tok}
}

func (s *simGraph) get(rawURL string) []byte {
	s.t.Helper()
	if _, err := url.Parse(rawURL); err != nil {
		s.t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", rawURL, nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		s.t.Fatalf("GET %s: %v %d %s", rawURL, err, resp.StatusCode, b)
	}
	return b
}

// TestDecodeUsersPageReadError: a body that fails is decoded as the
// stream was (a failure before the page ends is an error).
func TestDecodeUsersPageReadError(t *testing.T) {
	page := graphPage(20)
	boom := errors.New("connection reset")
	for _, n := range []int{0, 100, len(page) - 1} {
		r := io.MultiReader(bytes.NewReader(page[:n]), errReader{boom})
		var buf []wire.User
		if _, _, _, _, err := decodeUsers(r, buf); !errors.Is(err, boom) && err == nil {
			t.Fatalf("cut at %d: no error", n)
		}
	}
	r := io.MultiReader(bytes.NewReader(page), errReader{boom})
	var buf []wire.User
	buf, next, _, _, err := decodeUsers(r, buf)
	if err != nil || len(buf) != 20 || next == "" {
		t.Fatalf("a failure after the page: %d users, %v", len(buf), err)
	}
}

// TestUsersScannerParallel decodes pages side by side (parallel shards
// share the decoder pool) and checks every result against the reference.
func TestUsersScannerParallel(t *testing.T) {
	pages := [][]byte{graphPage(200), escapeValues(graphPage(150), 2), []byte(handPages[6])}
	want := make([][]wire.DeltaUser, len(pages))
	for i, p := range pages {
		var err error
		if want[i], _, _, _, err = Stream(bytes.NewReader(p), want[i]); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			var buf []wire.DeltaUser
			for k := range 20 {
				i := (g + k) % len(pages)
				var err error
				buf, _, _, _, err = decodeUsers(bytes.NewReader(pages[i]), buf)
				if err != nil || !reflect.DeepEqual(buf, want[i]) {
					t.Errorf("page %d: %v or a different result", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestUsersScannerKnowsTheModel fails when the model gains, renames or
// retypes a JSON member: the scanner must then learn it (users.go).
func TestUsersScannerKnowsTheModel(t *testing.T) {
	members := func(v any) string {
		var out []string
		var walk func(rt reflect.Type)
		walk = func(rt reflect.Type) {
			for i := range rt.NumField() {
				f := rt.Field(i)
				if f.Anonymous && f.Tag.Get("json") == "" {
					walk(f.Type)
					continue
				}
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				out = append(out, name+":"+f.Type.String())
			}
		}
		walk(reflect.TypeOf(v))
		return strings.Join(out, " ")
	}
	for _, c := range []struct {
		v    any
		want string
	}{
		{wire.DeltaUser{}, "id:string userPrincipalName:string displayName:string mail:string accountEnabled:bool " +
			"usageLocation:string department:string jobTitle:string createdDateTime:time.Time " +
			"assignedLicenses:[]wire.AssignedLicense assignedPlans:[]wire.AssignedPlan " +
			"userType:string licenseAssignmentStates:[]wire.LicenseAssignmentState " +
			"@removed:*wire.Removed"},
		{wire.LicenseAssignmentState{}, "skuId:string assignedByGroup:string state:string error:string"},
		{wire.Removed{}, "reason:string"},
		{wire.AssignedLicense{}, "disabledPlans:[]string skuId:string"},
		{wire.AssignedPlan{}, "assignedDateTime:time.Time capabilityStatus:string service:string servicePlanId:string"},
	} {
		if got := members(c.v); got != c.want {
			t.Errorf("%T members changed: teach users.go\n got %s\nwant %s", c.v, got, c.want)
		}
	}
}

// planArray writes an assignedPlans array as Graph does: n plans assigned
// at date, the k-th with status (others "Enabled").
func planArray(n int, date string, k int, status string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		st := "Enabled"
		if i == k {
			st = status
		}
		fmt.Fprintf(&b, `{"assignedDateTime":%q,"capabilityStatus":%q,"service":"svc%d","servicePlanId":"%08x-1111-2222-3333-444444444444"}`, date, st, i%7, i*7919)
	}
	b.WriteByte(']')
	return b.String()
}

// plansPage writes a page of users with the given assignedPlans arrays.
func plansPage(arrays []string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"@odata.context":"c","value":[`)
	for i, a := range arrays {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"u%d","displayName":"User %d","assignedPlans":%s,"accountEnabled":true}`, i, i, a)
	}
	b.WriteString(`],"@odata.nextLink":"https://graph.microsoft.com/v1.0/users?$skiptoken=x"}`)
	return b.Bytes()
}

// TestPlanCacheSharesIdenticalArrays: users whose assignedPlans bytes are
// the same share one slice (within a page and across pages), users whose
// arrays differ by one byte get their own, and every user's plans are the
// reference's.
func TestPlanCacheSharesIdenticalArrays(t *testing.T) {
	s := NewUsersScanner(8, 0)
	base := planArray(40, "2024-03-01T10:00:00Z", -1, "")
	variants := map[string]string{
		"base":   base,
		"date":   planArray(40, "2024-03-01T10:00:01Z", -1, ""),               // one date digit
		"date2":  strings.Replace(base, "2024-03-01", "2024-03-02", 1),        // one digit, first plan only
		"status": planArray(40, "2024-03-01T10:00:00Z", 17, "Deleted"),        // one status
		"space":  strings.Replace(base, `,"service"`, ` ,"service"`, 1),       // the same plans, other bytes
		"escape": strings.Replace(base, `"Enabled"`, `"\u0045nabled"`, 1),     // the same plans, escaped
		"x":      strings.Replace(base, `}]`, `,"x":[1,{"y":"]"}]}]`, 1),      // an inner ']' : never cached
		"strBr":  strings.Replace(base, `"svc1"`, `"svc]1"`, 1),               // ']' in a string
		"time":   strings.Replace(base, `10:00:00Z"`, `10:00:00.5+01:00"`, 1), // not Graph's time form
		"null":   `[null,{},{"service":null}]`,
		"empty":  `[ ]`,
	}
	names := []string{"base", "date", "base", "date2", "status", "base", "space", "escape", "x", "x", "strBr",
		"strBr", "time", "time", "null", "null", "empty", "date", "status", "space", "escape", "base"}
	var arrays []string
	for range 3 {
		for _, n := range names {
			arrays = append(arrays, variants[n])
		}
	}
	page := plansPage(arrays)
	var ref []wire.User
	ref, _, _, _, err := Stream(bytes.NewReader(page), ref)
	if err != nil {
		t.Fatal(err)
	}

	first := map[string]*wire.AssignedPlan{} // variant: its shared array, from the second decode on
	for pass := range 3 {
		var buf []wire.User
		d := s.decoder()
		buf, _, _, err := scanUsersPage(d, page, buf)
		d.release()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(buf, ref) {
			for i := range buf {
				if !reflect.DeepEqual(buf[i], ref[i]) {
					t.Fatalf("pass %d, user %d (%s):\n got %+v\nwant %+v", pass, i, names[i%len(names)], buf[i].AssignedPlans, ref[i].AssignedPlans)
				}
			}
			t.Fatalf("pass %d: users differ from the reference", pass)
		}
		if pass == 0 {
			continue
		}
		owner := map[*wire.AssignedPlan]string{}
		for i, u := range buf {
			n := names[i%len(names)]
			if len(u.AssignedPlans) == 0 {
				continue
			}
			if cap(u.AssignedPlans) != len(u.AssignedPlans) {
				t.Fatalf("user %d (%s): capacity %d, length %d", i, n, cap(u.AssignedPlans), len(u.AssignedPlans))
			}
			p := &u.AssignedPlans[0]
			if o, ok := owner[p]; ok && o != n {
				t.Fatalf("pass %d: user %d (%s) shares its plans with a %s user", pass, i, n, o)
			}
			owner[p] = n
			switch n {
			case "x", "strBr": // a ']' before the end: never cached
				if f := first[n]; f == p {
					t.Fatalf("pass %d: user %d (%s) shares its plans", pass, i, n)
				}
				first[n] = p
			default:
				if f, ok := first[n]; ok && f != p {
					t.Fatalf("pass %d: user %d (%s) does not share its plans", pass, i, n)
				}
				first[n] = p
			}
		}
	}
	// Delta pages go through the same scanner.
	diffBoth(t, page)
}

// TestPlanCacheParallel decodes pages that share arrays side by side,
// through one scanner with a cache small enough to evict all the time,
// and checks every result against the reference.
func TestPlanCacheParallel(t *testing.T) {
	s := NewUsersScanner(8, 1<<20)
	var pool []string
	for i := range 300 {
		date := fmt.Sprintf("2024-%02d-%02dT10:00:00Z", 1+i%12, 1+i%28)
		pool = append(pool, planArray(5+i%11, date, i%13, "Suspended"))
	}
	var pages [][]byte
	var want [][]wire.DeltaUser
	for p := range 6 {
		var arrays []string
		for u := range 300 {
			arrays = append(arrays, pool[(u*u+p*31)%(40+p*50)])
		}
		page := plansPage(arrays)
		ref, _, _, _, err := Stream(bytes.NewReader(page), []wire.DeltaUser(nil))
		if err != nil {
			t.Fatal(err)
		}
		pages, want = append(pages, page), append(want, ref)
	}
	var dec sync.WaitGroup
	for g := range 8 {
		dec.Go(func() {
			var buf []wire.DeltaUser
			for k := range 15 {
				i := (g*5 + k) % len(pages)
				var err error
				buf, _, _, _, err = DecodeUsers(s, bytes.NewReader(pages[i]), buf)
				if err != nil || !reflect.DeepEqual(buf, want[i]) {
					t.Errorf("page %d: %v or a different result", i, err)
					return
				}
			}
		})
	}
	dec.Wait()
}

// TestUsersScannerRelease: once released, a scanner keeps no page buffer
// and no cached plans (an import releases it when the users are listed),
// and it still decodes pages as before.
func TestUsersScannerRelease(t *testing.T) {
	s := NewUsersScanner(8, 0)
	base := planArray(40, "2024-03-01T10:00:00Z", -1, "")
	page := plansPage([]string{base, base, base})
	want, _, _, _, err := Stream(bytes.NewReader(page), []wire.User(nil))
	if err != nil {
		t.Fatal(err)
	}
	cached := func() int { _, n := s.Kept(); return n }
	for round := range 2 {
		for range 3 {
			got, _, _, _, err := DecodeUsers(s, bytes.NewReader(page), []wire.User(nil))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d: the users differ from the reference", round)
			}
		}
		if len(s.bodies) == 0 || cached() == 0 {
			t.Fatalf("round %d: decoding kept %d page buffers and %d cached arrays; the test needs some", round, len(s.bodies), cached())
		}
		s.Release()
		if len(s.bodies) != 0 || cached() != 0 {
			t.Fatalf("round %d: released, the scanner still keeps %d page buffers and %d cached arrays", round, len(s.bodies), cached())
		}
	}
}
