package graph_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/m365sim/graph"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

const fullSelect = "id,userPrincipalName,displayName,mail,accountEnabled,assignedLicenses,assignedPlans,usageLocation,department,jobTitle,createdDateTime"

func TestGoldenResponses(t *testing.T) {
	e := newEnv(t, 40, nil)
	cases := []struct {
		name, path string
		token      string
		hdr        []string
		status     int
	}{
		{"users_default.json", "/v1.0/users?$top=2", e.admin, nil, 200},
		{"users_select.json", "/v1.0/users?$select=" + fullSelect + "&$top=3", e.admin, nil, 200},
		{"users_filter_count.json", "/v1.0/users?$filter=startswith(userPrincipalName,'a')&$count=true&$select=id,userPrincipalName&$top=2", e.admin, []string{"ConsistencyLevel", "eventual"}, 200},
		{"user_by_upn.json", "/v1.0/users/reader@" + e.ten.Domain + "?$select=id,displayName,accountEnabled", e.admin, nil, 200},
		{"subscribedSkus_select.json", "/v1.0/subscribedSkus?$select=skuId,skuPartNumber,capabilityStatus,consumedUnits,prepaidUnits", e.admin, nil, 200},
		{"subscribedSkus.json", "/v1.0/subscribedSkus", e.admin, nil, 200},
		{"servicePrincipals.json", "/v1.0/servicePrincipals?$top=3", e.admin, nil, 200},
		{"delta_latest.json", "/v1.0/users/delta?$deltatoken=latest&$select=displayName", e.admin, nil, 200},
		{"error_top_1000.json", "/v1.0/users?$top=1000", e.admin, nil, 400},
		{"error_skip.json", "/v1.0/users?$skip=5", e.admin, nil, 400},
		{"error_filter.json", "/v1.0/users?$filter=displayName%20eq%20'x'", e.admin, nil, 400},
		{"error_select.json", "/v1.0/users?$select=foo", e.admin, nil, 400},
		{"error_count_no_header.json", "/v1.0/users/$count", e.admin, nil, 400},
		{"error_no_token.json", "/v1.0/users", "", nil, 401},
		{"error_forbidden.json", "/v1.0/users", e.userToken("admin", "User.Read"), nil, 403},
		{"error_reports_s2s.json", "/v1.0/reports/getOffice365ActiveUserDetail(period='D30')", e.userToken("user", "Reports.Read.All"), nil, 403},
		{"error_delta_top.json", "/v1.0/users/delta?$top=5", e.admin, nil, 400},
		{"error_subscribedSkus_top.json", "/v1.0/subscribedSkus?$top=5", e.admin, nil, 400},
		{"error_not_found.json", "/v1.0/users/00000000-0000-0000-0000-000000000000", e.admin, nil, 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hdr := append([]string{"client-request-id", "11111111-2222-3333-4444-555555555555"}, c.hdr...)
			resp, body := e.get(c.path, c.token, hdr...)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			if resp.Header.Get("request-id") == "" || resp.Header.Get("client-request-id") != "11111111-2222-3333-4444-555555555555" {
				t.Errorf("ids: request-id %q client-request-id %q", resp.Header.Get("request-id"), resp.Header.Get("client-request-id"))
			}
			if c.status >= 400 && !bytes.Contains(body, []byte(`"request-id":"`+resp.Header.Get("request-id")+`"`)) {
				t.Errorf("innerError lacks the request id: %s", body)
			}
			golden(t, c.name, body)
		})
	}
}

func TestExactErrorMessages(t *testing.T) {
	e := newEnv(t, 20, nil)
	for _, c := range []struct{ path, code, msg string }{
		{"/v1.0/users?$top=1000", "Request_UnsupportedQuery", "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."},
		{"/v1.0/users?$top=0", "Request_UnsupportedQuery", "Invalid page size specified: '0'. Must be between 1 and 999 inclusive."},
		{"/v1.0/users/$count", "Request_BadRequest", "$count is not currently supported."},
		{"/v1.0/users?$count=true", "Request_BadRequest", "$count is not currently supported."},
		{"/v1.0/users?$skip=1", "Request_BadRequest", "'$skip' is not supported by the service."},
	} {
		resp, body := e.get(c.path, e.admin)
		var er struct {
			Error struct {
				Code, Message string
				InnerError    map[string]string `json:"innerError"`
			} `json:"error"`
		}
		if err := json.Unmarshal(body, &er); err != nil || resp.StatusCode != 400 {
			t.Fatalf("%s: %d %s", c.path, resp.StatusCode, body)
		}
		if er.Error.Code != c.code || er.Error.Message != c.msg || er.Error.InnerError["date"] != "2026-03-10T12:00:00" {
			t.Errorf("%s: %+v", c.path, er.Error)
		}
	}
	for _, top := range []string{"1", "999"} {
		if p := e.getPage("/v1.0/users?$top="+top, e.admin); len(p.Value) != min(atoi(top), 20) {
			t.Errorf("$top=%s gave %d", top, len(p.Value))
		}
	}
	if p := e.getPage("/v1.0/users", e.admin); len(p.Value) != 20 || p.NextLink != "" {
		t.Errorf("default page of a 20-user tenant: %d users, next %q", len(p.Value), p.NextLink)
	}
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func TestAuthentication(t *testing.T) {
	e := newEnv(t, 20, nil)
	tok := e.admin
	if resp, _ := e.get("/v1.0/users", tok); resp.StatusCode != 200 {
		t.Fatalf("valid token: %d", resp.StatusCode)
	}
	e.clk.Advance(time.Hour)
	resp, body := e.get("/v1.0/users", tok)
	if resp.StatusCode != 401 || !bytes.Contains(body, []byte(`"code":"InvalidAuthenticationToken","message":"Access token has expired or is not yet valid."`)) {
		t.Errorf("expired: %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	fresh := e.userToken("admin", "Directory.Read.All")
	if resp, _ := e.get("/v1.0/users", fresh[:len(fresh)-2]+"xx"); resp.StatusCode != 401 {
		t.Errorf("bad signature: %d", resp.StatusCode)
	}
	// Permissions: users need User.Read.All or Directory.Read.All.
	for _, c := range []struct {
		tok    string
		path   string
		status int
	}{
		{e.userToken("admin", "User.Read.All"), "/v1.0/users", 200},
		{e.appToken("User.Read.All"), "/v1.0/users", 200},
		{e.appToken("Reports.Read.All"), "/v1.0/users", 403},
		{e.appToken("Reports.Read.All"), "/v1.0/subscribedSkus", 403},
		{e.appToken("Directory.Read.All"), "/v1.0/servicePrincipals", 200},
		{e.appToken("Directory.Read.All"), "/v1.0/reports/getOffice365ActivationsUserDetail", 403},
		{e.appToken("Reports.Read.All"), "/v1.0/reports/getOffice365ActivationsUserDetail", 302},
		{e.userToken("reader", "Reports.Read.All"), "/v1.0/reports/getM365AppUserDetail(period='D7')", 302},
		{e.userToken("cloudadmin", "Reports.Read.All"), "/v1.0/reports/getM365AppUserDetail(date=2026-03-01)", 302},
		{e.userToken("user", "Reports.Read.All"), "/v1.0/reports/getM365AppUserDetail(period='D7')", 403},
		{e.userToken("admin", "Reports.Read.All"), "/v1.0/reports/getM365AppUserDetail(period='D1')", 400},
		{e.userToken("user", "User.Read"), "/v1.0/me", 200},
	} {
		if resp, body := e.get(c.path, c.tok); resp.StatusCode != c.status {
			t.Errorf("%s: %d, want %d: %s", c.path, resp.StatusCode, c.status, body)
		}
	}
}

type idUPN struct {
	ID  string `json:"id"`
	UPN string `json:"userPrincipalName"`
}

// walk follows nextLinks from path and returns every item.
func (e *env) walk(path string, hdr ...string) ([]idUPN, int) {
	var out []idUPN
	pages := 0
	for next := path; next != ""; {
		p := e.getPage(next, e.admin, hdr...)
		pages++
		for _, raw := range p.Value {
			var v idUPN
			if err := json.Unmarshal(raw, &v); err != nil {
				e.t.Fatal(err)
			}
			out = append(out, v)
		}
		if p.NextLink != "" && !strings.Contains(p.NextLink, "$skiptoken=RFNwdA") {
			e.t.Fatalf("nextLink %s: skiptoken must start with RFNwdA", p.NextLink)
		}
		if p.NextLink != "" && !strings.HasPrefix(p.NextLink, e.srv.URL+"/v1.0/") {
			e.t.Fatalf("nextLink %s is not an absolute URL of this server", p.NextLink)
		}
		next = p.NextLink
	}
	return out, pages
}

func TestPagingReturnsEveryUserOnce(t *testing.T) {
	e := newEnv(t, 2500, nil)
	for _, top := range []int{999, 37} {
		got, pages := e.walk("/v1.0/users?$select=id,userPrincipalName&$top=" + strconv.Itoa(top))
		if want := (2500 + top - 1) / top; pages != want {
			t.Errorf("$top=%d: %d pages, want %d", top, pages, want)
		}
		checkExactlyOnce(t, e, got)
	}
}

func checkExactlyOnce(t *testing.T, e *env, got []idUPN) {
	t.Helper()
	seen := map[string]bool{}
	for _, u := range got {
		if seen[u.ID] {
			t.Fatalf("user %s returned twice", u.UPN)
		}
		seen[u.ID] = true
		if tu := e.ten.UserByID(u.ID); tu == nil || tu.UserPrincipalName != u.UPN {
			t.Fatalf("unknown user %+v", u)
		}
	}
	if len(seen) != len(e.ten.Users) {
		t.Fatalf("%d users returned, tenant has %d", len(seen), len(e.ten.Users))
	}
}

// Shards over every first character (as the parallel importer does) cover
// the tenant exactly, and $count agrees with each shard and the total.
func TestStartsWithShards(t *testing.T) {
	e := newEnv(t, 3000, nil)
	firsts := map[string]bool{}
	for _, u := range e.ten.Users {
		firsts[strings.ToLower(u.UserPrincipalName[:1])] = true
	}
	var all []idUPN
	for f := range firsts {
		lit := strings.ReplaceAll(f, "'", "''")
		filter := url.QueryEscape("startswith(userPrincipalName,'" + strings.ToUpper(lit) + "')")
		got, _ := e.walk("/v1.0/users?$select=id,userPrincipalName&$top=100&$filter=" + filter)
		for _, u := range got {
			if !strings.HasPrefix(strings.ToLower(u.UPN), f) {
				t.Fatalf("shard %q returned %s", f, u.UPN)
			}
		}
		_, body := e.get("/v1.0/users/$count?$filter="+filter, e.admin, "ConsistencyLevel", "eventual")
		if n, _ := strconv.Atoi(string(body)); n != len(got) {
			t.Errorf("shard %q: $count %s, paged %d", f, body, len(got))
		}
		all = append(all, got...)
	}
	checkExactlyOnce(t, e, all)
	resp, body := e.get("/v1.0/users/$count", e.admin, "ConsistencyLevel", "eventual")
	if string(body) != "3000" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("$count: %q %s", body, resp.Header.Get("Content-Type"))
	}
	// A quote inside the prefix is escaped by doubling it.
	var withQuote string
	for _, u := range e.ten.Users {
		if i := strings.IndexByte(u.UserPrincipalName, '\''); i > 0 {
			withQuote = u.UserPrincipalName[:i+1]
			break
		}
	}
	if withQuote == "" {
		t.Fatal("no UPN with an apostrophe in the tenant")
	}
	filter := url.QueryEscape("startswith(userPrincipalName,'" + strings.ReplaceAll(withQuote, "'", "''") + "')")
	got, _ := e.walk("/v1.0/users?$select=id,userPrincipalName&$filter=" + filter)
	if len(got) == 0 || len(got) != e.ten.CountUsers(strings.ToLower(withQuote)) {
		t.Errorf("prefix %q: %d users", withQuote, len(got))
	}
}

type deltaItem struct {
	ID          string                   `json:"id"`
	DisplayName string                   `json:"displayName"`
	Removed     *struct{ Reason string } `json:"@removed"`
}

func (e *env) deltaRound(link string) (items []deltaItem, deltaLink string) {
	for next := link; next != ""; {
		p := e.getPage(next, e.admin)
		for _, raw := range p.Value {
			var it deltaItem
			if err := json.Unmarshal(raw, &it); err != nil {
				e.t.Fatal(err)
			}
			items = append(items, it)
		}
		if (p.NextLink == "") == (p.DeltaLink == "") {
			e.t.Fatalf("a delta page has exactly one of nextLink and deltaLink: %+v", p)
		}
		next, deltaLink = p.NextLink, p.DeltaLink
	}
	return items, deltaLink
}

func TestDeltaSequence(t *testing.T) {
	e := newEnv(t, 600, nil)
	// Initial round: everyone, in pages.
	items, link := e.deltaRound("/v1.0/users/delta?$select=displayName")
	state := map[string]string{}
	for _, it := range items {
		if it.Removed != nil {
			t.Fatal("@removed in the initial round")
		}
		state[it.ID] = it.DisplayName
	}
	if len(state) != 600 || len(items) != 600 {
		t.Fatalf("initial round: %d items, %d users", len(items), len(state))
	}
	// Nothing changed: an empty round, whose deltaLink is new nonetheless
	// (Graph's tokens change every round), even with the clock standing
	// still; the old link and the new one both go on working.
	items, l2 := e.deltaRound(link)
	if len(items) != 0 || l2 == "" || l2 == link {
		t.Fatalf("no-change round: %d items, deltaLink %q (was %q)", len(items), l2, link)
	}
	if items, l3 := e.deltaRound(l2); len(items) != 0 || l3 == l2 || l3 == link {
		t.Fatalf("second no-change round: %d items, the same deltaLink again %v", len(items), l3 == l2 || l3 == link)
	}
	sum := e.ten.Mutate(5, 0.1)
	items, link2 := e.deltaRound(link)
	if len(items) > sum.Added+sum.Deleted+sum.LicenseChanges+sum.AttributeChanges || len(items) == 0 {
		t.Fatalf("%d items for %+v", len(items), sum)
	}
	removed := 0
	for _, it := range items {
		if it.Removed != nil {
			if it.Removed.Reason != "changed" && it.Removed.Reason != "deleted" {
				t.Fatalf("reason %q", it.Removed.Reason)
			}
			delete(state, it.ID)
			removed++
			continue
		}
		state[it.ID] = it.DisplayName
	}
	if removed != sum.Deleted {
		t.Errorf("%d removals, %d deletions", removed, sum.Deleted)
	}
	if len(state) != len(e.ten.Users) {
		t.Fatalf("after delta: %d users, tenant %d", len(state), len(e.ten.Users))
	}
	for _, u := range e.ten.Users {
		if state[u.ID] != u.DisplayName {
			t.Fatalf("user %s: %q after delta, %q in the tenant", u.ID, state[u.ID], u.DisplayName)
		}
	}
	// latest: a deltaLink with no data, which then reports later changes.
	p := e.getPage("/v1.0/users/delta?$deltatoken=latest", e.admin)
	if len(p.Value) != 0 || p.DeltaLink == "" || p.NextLink != "" {
		t.Fatalf("latest: %+v", p)
	}
	if err := e.ten.UpdateUser(e.ten.Users[30].ID, func(u *tenant.User) { u.DisplayName = "Renamed" }); err != nil {
		t.Fatal(err)
	}
	if items, _ := e.deltaRound(p.DeltaLink); len(items) != 1 || items[0].ID != e.ten.Users[30].ID {
		t.Fatalf("after latest: %+v", items)
	}
	// Tokens expire after 7 days: 410 syncStateNotFound.
	e.clk.Advance(7*24*time.Hour + time.Second)
	e.admin = e.userToken("admin", "Directory.Read.All")
	resp, body := e.get(link2, e.admin)
	if resp.StatusCode != 410 || !bytes.Contains(body, []byte(`"code":"syncStateNotFound"`)) {
		t.Fatalf("expired token: %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.get("/v1.0/users/delta?$deltatoken=bm9wZQ", e.admin); resp.StatusCode != 410 {
		t.Errorf("unknown token: %d", resp.StatusCode)
	}
}

func TestDeltaTokenLifetimeIsConfigurable(t *testing.T) {
	e := newEnv(t, 30, func(o *graph.Options) { o.DeltaTokenLifetime = time.Hour })
	p := e.getPage("/v1.0/users/delta?$deltatoken=latest", e.admin)
	e.clk.Advance(59 * time.Minute)
	if resp, _ := e.get(p.DeltaLink, e.admin); resp.StatusCode != 200 {
		t.Fatalf("within the lifetime: %d", resp.StatusCode)
	}
	e.clk.Advance(2 * time.Minute)
	e.admin = e.userToken("admin", "Directory.Read.All")
	if resp, _ := e.get(p.DeltaLink, e.admin); resp.StatusCode != 410 {
		t.Fatalf("past the lifetime: %d", resp.StatusCode)
	}
}

var hex32 = regexp.MustCompile(`^[0-9A-F]{32}$`)

func (e *env) report(fn string) (*csv.Reader, []string, string) {
	e.t.Helper()
	resp, body := e.get("/v1.0/reports/"+fn, e.admin)
	if resp.StatusCode != 302 {
		e.t.Fatalf("%s: %d %s", fn, resp.StatusCode, body)
	}
	// The link points to this server under another host name, as Graph's
	// point to reports.office.com; the 302 is text/plain with a body.
	loc := resp.Header.Get("Location")
	if want := strings.Replace(e.srv.URL, "127.0.0.1", "localhost", 1) + graph.DownloadPrefix; !strings.HasPrefix(loc, want) {
		e.t.Fatalf("Location %q is not a download URL %s...", loc, want)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain" || string(body) != loc {
		e.t.Fatalf("302 %s %q, want text/plain with the link", ct, body)
	}
	resp, body = e.get(loc, "")
	if resp.StatusCode != 200 {
		e.t.Fatalf("download: %d %s", resp.StatusCode, body)
	}
	if !bytes.HasPrefix(body, []byte("\xef\xbb\xbf")) {
		e.t.Fatalf("%s: no UTF-8 BOM", fn)
	}
	r := csv.NewReader(bytes.NewReader(body[3:]))
	hdr, err := r.Read()
	if err != nil {
		e.t.Fatal(err)
	}
	return r, hdr, loc
}

func TestReports(t *testing.T) {
	e := newEnv(t, 300, nil)
	e.ten.Mutate(3, 0.05) // some soft-deleted users for Is Deleted
	for _, c := range []struct {
		fn   string
		cols []string
	}{
		{"getOffice365ActiveUserDetail(period='D30')", graph.ActiveUserColumns},
		{"getOffice365ActivationsUserDetail", graph.ActivationColumns},
		{"getM365AppUserDetail(period='D30')", graph.AppUsageColumns},
	} {
		r, hdr, loc := e.report(c.fn)
		if strings.Join(hdr, "|") != strings.Join(c.cols, "|") {
			t.Errorf("%s header:\n%v\nwant\n%v", c.fn, hdr, c.cols)
		}
		rows, err := r.ReadAll()
		if err != nil || len(rows) == 0 {
			t.Fatalf("%s: %d rows, %v", c.fn, len(rows), err)
		}
		for _, row := range rows {
			if row[0] != "2026-03-08" {
				t.Fatalf("%s: refresh date %q, want 2 days before now", c.fn, row[0])
			}
			if e.ten.UserByUPN(row[1]) == nil && !deletedUPN(e.ten, row[1]) {
				t.Fatalf("%s: unknown user %q", c.fn, row[1])
			}
		}
		// The link refuses a bearer token, like a blob SAS URL, and expires.
		if resp, body := e.get(loc, e.admin); resp.StatusCode != 403 || !bytes.Contains(body, []byte("AuthenticationFailed")) {
			t.Errorf("download with Authorization: %d %s", resp.StatusCode, body)
		}
		if resp, _ := e.get(loc+"x", ""); resp.StatusCode != 403 {
			t.Errorf("tampered link: %d", resp.StatusCode)
		}
		// The link works on its own host only, not on Graph's.
		onGraph := strings.Replace(loc, "localhost", "127.0.0.1", 1)
		if resp, body := e.get(onGraph, ""); resp.StatusCode != 403 || !bytes.Contains(body, []byte("Signature did not match")) {
			t.Errorf("the link on Graph's host: %d %s", resp.StatusCode, body)
		}
	}
	r, _, loc := e.report("getOffice365ActiveUserDetail(period='D7')")
	rows, _ := r.ReadAll()
	deleted, inactive := 0, 0
	for _, row := range rows {
		if row[3] == "True" {
			deleted++
		}
		if last := row[11]; last == "" || last < "2026-02-06" {
			inactive++
		}
	}
	if deleted == 0 || deleted != len(e.ten.DeletedUsers()) || len(rows) != len(e.ten.Users)+deleted || inactive == 0 {
		t.Errorf("%d rows, %d deleted (tenant %d), %d inactive", len(rows), deleted, len(e.ten.DeletedUsers()), inactive)
	}
	e.clk.Advance(5 * time.Minute)
	if resp, _ := e.get(loc, ""); resp.StatusCode != 403 {
		t.Errorf("expired link: %d", resp.StatusCode)
	}
}

func deletedUPN(t *tenant.Tenant, upn string) bool {
	for _, d := range t.DeletedUsers() {
		if d.UserPrincipalName == upn {
			return true
		}
	}
	return false
}

func TestReportGolden(t *testing.T) {
	e := newEnv(t, 12, nil)
	for _, fn := range []string{"getOffice365ActiveUserDetail(period='D30')", "getOffice365ActivationsUserDetail", "getM365AppUserDetail(period='D30')"} {
		resp, _ := e.get("/v1.0/reports/"+fn, e.admin)
		_, body := e.get(resp.Header.Get("Location"), "")
		name, _, _ := strings.Cut(fn, "(")
		golden(t, name+".csv", body)
	}
}

func TestConcealedNames(t *testing.T) {
	e := newEnv(t, 100, func(o *graph.Options) { o.ConcealedNames = true })
	r, _, _ := e.report("getOffice365ActiveUserDetail(period='D30')")
	rows, _ := r.ReadAll()
	names := map[string]bool{}
	for _, row := range rows {
		if !hex32.MatchString(row[1]) || row[2] != row[1] || e.ten.UserByUPN(row[1]) != nil {
			t.Fatalf("row not concealed: %v", row[:3])
		}
		names[row[1]] = true
	}
	if len(names) != len(rows) || !names[e.h.ConcealedName(e.ten.Users[0].ID)] {
		t.Errorf("concealed names must be distinct and stable per user")
	}
	e.h.SetConcealedNames(false)
	r, _, _ = e.report("getOffice365ActiveUserDetail(period='D30')")
	row, _ := r.Read()
	if hex32.MatchString(row[1]) || e.ten.UserByUPN(row[1]) == nil {
		t.Errorf("names still concealed: %v", row[:3])
	}
}

// A client that honours Retry-After (by advancing the injected clock) gets
// through after a 429.
func TestThrottling(t *testing.T) {
	e := newEnv(t, 30, func(o *graph.Options) { o.Throttle = true; o.ThrottleUnits = 5 })
	for i := 0; i < 5; i++ {
		if resp, body := e.get("/v1.0/users?$select=id", e.admin); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
		}
	}
	resp, body := e.get("/v1.0/users?$select=id", e.admin)
	if resp.StatusCode != 429 || !bytes.Contains(body, []byte(`"code":"TooManyRequests"`)) {
		t.Fatalf("6th request: %d %s", resp.StatusCode, body)
	}
	ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 10 {
		t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	// Without $select a page costs 2 units.
	e.clk.Advance(time.Duration(ra) * time.Second)
	if resp, _ := e.get("/v1.0/users?$select=id", e.admin); resp.StatusCode != 200 {
		t.Fatalf("after Retry-After: %d", resp.StatusCode)
	}
	// Another app has its own bucket.
	if resp, _ := e.get("/v1.0/users?$select=id", e.appToken("User.Read.All")); resp.StatusCode != 200 {
		t.Errorf("other app throttled: %d", resp.StatusCode)
	}
	// Reports: 14 per 10 minutes per app per report.
	fn := "/v1.0/reports/getOffice365ActivationsUserDetail"
	for i := 0; i < 14; i++ {
		if resp, _ := e.get(fn, e.admin); resp.StatusCode != 302 {
			t.Fatalf("report request %d: %d", i, resp.StatusCode)
		}
	}
	resp, _ = e.get(fn, e.admin)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "600" {
		t.Fatalf("15th report request: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp, _ := e.get("/v1.0/reports/getM365AppUserDetail(period='D30')", e.admin); resp.StatusCode != 302 {
		t.Errorf("another report must have its own limit: %d", resp.StatusCode)
	}
	e.clk.Advance(10 * time.Minute)
	e.admin = e.userToken("admin", "Directory.Read.All", "Reports.Read.All")
	if resp, _ := e.get(fn, e.admin); resp.StatusCode != 302 {
		t.Errorf("after the window: %d", resp.StatusCode)
	}
}

func TestServicePrincipalPaging(t *testing.T) {
	e := newEnv(t, 50, nil)
	seen := map[string]bool{}
	ms := 0
	for next := "/v1.0/servicePrincipals?$select=id,appOwnerOrganizationId&$top=999"; next != ""; {
		p := e.getPage(next, e.admin)
		for _, raw := range p.Value {
			var sp struct{ ID, AppOwnerOrganizationID string }
			_ = json.Unmarshal(raw, &sp)
			if seen[sp.ID] {
				t.Fatalf("%s twice", sp.ID)
			}
			seen[sp.ID] = true
			if sp.AppOwnerOrganizationID == tenant.MicrosoftTenantID {
				ms++
			}
		}
		next = p.NextLink
	}
	if len(seen) != len(e.ten.ServicePrincipals) || ms == 0 {
		t.Errorf("%d of %d service principals, %d Microsoft", len(seen), len(e.ten.ServicePrincipals), ms)
	}
}

// The wire shape of a change round: a changed user with its selected
// properties and both kinds of @removed.
func TestGoldenDeltaChanges(t *testing.T) {
	e := newEnv(t, 40, nil)
	p := e.getPage("/v1.0/users/delta?$deltatoken=latest&$select=displayName,accountEnabled", e.admin)
	ids := []string{e.ten.Users[10].ID, e.ten.Users[11].ID, e.ten.Users[12].ID}
	if err := e.ten.UpdateUser(ids[0], func(u *tenant.User) { u.DisplayName = "Renamed User"; u.AccountEnabled = false }); err != nil {
		t.Fatal(err)
	}
	if err := e.ten.DeleteUser(ids[1], false); err != nil {
		t.Fatal(err)
	}
	if err := e.ten.DeleteUser(ids[2], true); err != nil {
		t.Fatal(err)
	}
	_, body := e.get(p.DeltaLink, e.admin)
	golden(t, "delta_changes.json", body)
}

func TestGoldenThrottled(t *testing.T) {
	e := newEnv(t, 10, func(o *graph.Options) { o.Throttle = true; o.ThrottleUnits = 2 })
	e.get("/v1.0/users", e.admin) // costs 2: the bucket is empty
	resp, body := e.get("/v1.0/users", e.admin)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "10" {
		t.Fatalf("%d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	golden(t, "error_throttled.json", body)
}

// Reached as localhost, Graph sends the download to the IP address the
// connection came in on (the root package's TestReportDownloadOnAnotherHost
// follows the redirect with a real client, over TLS and a proxy), where the
// link works; on Graph's name it does not.
func TestReportRedirectGoesToAnotherHost(t *testing.T) {
	e := newEnv(t, 20, nil)
	byName := strings.Replace(e.srv.URL, "127.0.0.1", "localhost", 1)
	resp, _ := e.get(byName+"/v1.0/reports/getOffice365ActivationsUserDetail", e.admin)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != 302 || !strings.HasPrefix(loc, e.srv.URL+graph.DownloadPrefix) {
		t.Fatalf("reached as localhost: %d %q, want a link on %s", resp.StatusCode, loc, e.srv.URL)
	}
	if resp, body := e.get(loc, ""); resp.StatusCode != 200 || !bytes.HasPrefix(body, []byte("\xef\xbb\xbfReport Refresh Date,")) {
		t.Fatalf("download: %d %.80s", resp.StatusCode, body)
	}
	if resp, _ := e.get(strings.Replace(loc, "127.0.0.1", "localhost", 1), ""); resp.StatusCode != 403 {
		t.Errorf("the link on Graph's name: %d", resp.StatusCode)
	}
}

// TestReportsNextDay: a day later (the clock a day on, the tenant aged a
// day, as cmd/bench's daily run does) the reports carry the next refresh
// date, and their activity moved on: no recorded date goes back, some
// users were active again since, the others' activity kept its date (a
// day older), not moved with the refresh date.
func TestReportsNextDay(t *testing.T) {
	e := newEnv(t, 300, nil)
	last := func(want string) map[string]string {
		r, _, _ := e.report("getOffice365ActiveUserDetail(period='D30')")
		rows, err := r.ReadAll()
		if err != nil || len(rows) == 0 {
			t.Fatalf("%d rows, %v", len(rows), err)
		}
		out := map[string]string{}
		for _, row := range rows {
			if row[0] != want {
				t.Fatalf("refresh date %q, want %s", row[0], want)
			}
			out[row[1]] = row[11]
		}
		return out
	}
	before := last("2026-03-08")
	e.clk.Advance(24 * time.Hour)
	e.ten.AgeDay(2, 1, 0.001)
	e.admin = e.userToken("admin", "Directory.Read.All", "Reports.Read.All")
	after := last("2026-03-09")
	moved, kept := 0, 0
	for upn, was := range before {
		now, ok := after[upn]
		switch {
		case !ok:
		case now < was:
			t.Errorf("%s: last activity %q went back from %q", upn, now, was)
		case now > was:
			moved++
		case now != "":
			kept++
		}
	}
	if moved == 0 || kept == 0 {
		t.Errorf("a day on, %d users active again and %d with the same last activity (of %d); want some of both", moved, kept, len(before))
	}
}
