package graph_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/m365sim/graph"
)

// Issue 17's simulator: group-based licensing with licenseAssignmentStates
// (an Error state among them), licensed guests, signInActivity and its
// rules (P1, AuditLog.Read.All, 120 a page), and the licensing groups.
func TestLicensingAndSignIns(t *testing.T) {
	e := newEnv(t, 3000, nil)
	tok := e.appToken("User.Read.All", "AuditLog.Read.All", "GroupMember.Read.All")
	type state struct {
		AssignedByGroup *string `json:"assignedByGroup"`
		Error           string  `json:"error"`
		SkuID           string  `json:"skuId"`
		State           string  `json:"state"`
		LastUpdated     string  `json:"lastUpdatedDateTime"`
	}
	type user struct {
		ID               string `json:"id"`
		UserType         string `json:"userType"`
		AssignedLicenses []struct {
			SkuID string `json:"skuId"`
		} `json:"assignedLicenses"`
		States []state `json:"licenseAssignmentStates"`
		SignIn *struct {
			Last           *time.Time `json:"lastSignInDateTime"`
			NonInteractive *time.Time `json:"lastNonInteractiveSignInDateTime"`
			Successful     *time.Time `json:"lastSuccessfulSignInDateTime"`
		} `json:"signInActivity"`
	}
	var users []user
	next := "/v1.0/users?$select=id,userType,assignedLicenses,licenseAssignmentStates,signInActivity&$top=120"
	for next != "" {
		p := e.getPage(next, tok)
		for _, raw := range p.Value {
			var u user
			if err := json.Unmarshal(raw, &u); err != nil {
				t.Fatal(err)
			}
			users = append(users, u)
		}
		next = p.NextLink
	}
	if len(users) != 3000 {
		t.Fatalf("read %d users", len(users))
	}
	byGroup, direct, errors, licensedGuests, never, signedIn := 0, 0, 0, 0, 0, 0
	groups := map[string]bool{}
	today := e.clk.Now().UTC().Truncate(24 * time.Hour)
	for _, u := range users {
		held := map[string]bool{}
		for _, l := range u.AssignedLicenses {
			held[l.SkuID] = true
		}
		covered := map[string]bool{}
		for _, s := range u.States {
			switch {
			case s.State == "Error":
				errors++
				if s.Error != "CountViolation" || s.AssignedByGroup == nil || held[s.SkuID] {
					t.Errorf("%s: error state %+v (held %v): a failed group assignment is not in assignedLicenses", u.ID, s, held[s.SkuID])
				}
			case s.AssignedByGroup != nil:
				byGroup++
				groups[*s.AssignedByGroup] = true
				covered[s.SkuID] = true
			default:
				direct++
				covered[s.SkuID] = true
			}
			if s.State != "Error" && (s.State != "Active" || s.Error != "None") {
				t.Errorf("%s: %+v", u.ID, s)
			}
		}
		for sku := range held {
			if !covered[sku] {
				t.Errorf("%s: licence %s has no licenseAssignmentStates entry", u.ID, sku)
			}
		}
		if u.UserType == "Guest" && len(u.AssignedLicenses) > 0 {
			licensedGuests++
		}
		if u.SignIn == nil {
			t.Fatalf("%s: no signInActivity object", u.ID)
		}
		if u.SignIn.Last == nil {
			never++
			if u.SignIn.NonInteractive != nil || u.SignIn.Successful != nil {
				t.Errorf("%s: half a sign-in: %+v", u.ID, u.SignIn)
			}
			continue
		}
		signedIn++
		if u.SignIn.Last.After(today.Add(24*time.Hour)) || u.SignIn.Successful.Before(*u.SignIn.Last) {
			t.Errorf("%s: sign-in dates %v / %v / %v (today %v)", u.ID, u.SignIn.Last, u.SignIn.NonInteractive, u.SignIn.Successful, today)
		}
	}
	t.Logf("by group %d, direct %d, errors %d, licensed guests %d, never %d, signed in %d", byGroup, direct, errors, licensedGuests, never, signedIn)
	if byGroup < 100 || direct < 100 || errors == 0 || licensedGuests == 0 || never == 0 || signedIn < 1000 {
		t.Errorf("by group %d, direct %d, errors %d, licensed guests %d, never signed in %d, signed in %d: every kind must occur",
			byGroup, direct, errors, licensedGuests, never, signedIn)
	}

	// The groups named by the states, listed the way licence tools do.
	p := e.getPage("/v1.0/groups?$select=id,displayName,assignedLicenses&$filter=assignedLicenses/$count+ne+0&$count=true", tok,
		"ConsistencyLevel", "eventual")
	if p.Count == nil || *p.Count != len(p.Value) || len(p.Value) < len(groups) {
		t.Fatalf("groups: count %v, %d listed, %d used", p.Count, len(p.Value), len(groups))
	}
	for _, raw := range p.Value {
		var g struct {
			ID, DisplayName string
		}
		_ = json.Unmarshal(raw, &g)
		if !strings.HasPrefix(g.DisplayName, "Licensing - ") {
			t.Errorf("group %+v", g)
		}
		delete(groups, g.ID)
	}
	if len(groups) > 0 {
		t.Errorf("states name groups the listing lacks: %v", groups)
	}

	// The same tenant answers alike.
	a := e.getPage("/v1.0/users?$select=id,signInActivity,licenseAssignmentStates&$top=50", tok)
	b := e.getPage("/v1.0/users?$select=id,signInActivity,licenseAssignmentStates&$top=50", tok)
	if string(a.Value[7]) != string(b.Value[7]) {
		t.Errorf("not deterministic:\n%s\n%s", a.Value[7], b.Value[7])
	}
}

func TestSignInActivityRules(t *testing.T) {
	e := newEnv(t, 50, nil)
	for _, c := range []struct {
		name, path, token string
		status            int
		code, msg         string
	}{
		{"page of 121", "/v1.0/users?$select=id,signInActivity&$top=121", e.appToken("User.Read.All", "AuditLog.Read.All"),
			400, "Request_UnsupportedQuery", "Cannot query data for more than 120 users at a time."},
		{"no AuditLog.Read.All", "/v1.0/users?$select=id,signInActivity", e.appToken("User.Read.All"),
			403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."},
		{"delta", "/v1.0/users/delta?$select=id,signInActivity", e.appToken("User.Read.All", "AuditLog.Read.All"),
			400, "Request_UnsupportedQuery", "Property 'signInActivity' is not supported in delta queries."},
		{"groups without eventual", "/v1.0/groups?$filter=assignedLicenses/$count+ne+0", e.appToken("GroupMember.Read.All"),
			400, "Request_UnsupportedQuery", "Unsupported Query."},
		{"groups without permission", "/v1.0/groups", e.appToken("User.Read.All"),
			403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."},
	} {
		resp, body := e.get(c.path, c.token)
		var er struct {
			Error struct{ Code, Message string }
		}
		_ = json.Unmarshal(body, &er)
		if resp.StatusCode != c.status || er.Error.Code != c.code || er.Error.Message != c.msg {
			t.Errorf("%s: %d %s", c.name, resp.StatusCode, body)
		}
	}
	// The default selection and a page of 999 without signInActivity are
	// unaffected.
	if p := e.getPage("/v1.0/users?$select=id,licenseAssignmentStates&$top=999", e.appToken("User.Read.All")); len(p.Value) != 50 {
		t.Errorf("%d users", len(p.Value))
	}

	// Without Entra ID P1 Graph refuses signInActivity outright.
	np := newEnv(t, 50, func(o *graph.Options) { o.Tenant.NoPremium = true })
	resp, body := np.get("/v1.0/users?$select=id,signInActivity", np.appToken("User.Read.All", "AuditLog.Read.All"))
	if resp.StatusCode != 403 || !strings.Contains(string(body), `"code":"Authentication_RequestFromNonPremiumTenantOrB2CTenant"`) ||
		!strings.Contains(string(body), "Neither tenant is B2C or tenant doesn't have premium license") {
		t.Errorf("no P1: %d %s", resp.StatusCode, body)
	}
}
