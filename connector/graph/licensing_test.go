package graph

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestLicenseGroups: the advanced query carries ConsistencyLevel: eventual
// on every page, its next page is followed, and the groups come back.
func TestLicenseGroups(t *testing.T) {
	f := newFixture(t)
	f.pages["/v1.0"+licensingGroupsQuery] = fmt.Sprintf(`{"@odata.count":3,"@odata.nextLink":"%s/v1.0/groups?$skiptoken=RFNwdAIH","value":[`+
		`{"id":"g1","displayName":"Licensing - E3"},{"id":"g2","displayName":null}]}`, f.srv.URL)
	f.pages["/v1.0/groups?$skiptoken=RFNwdAIH"] = `{"value":[{"id":"g3","displayName":"Licensing - E5","assignedLicenses":[{"skuId":"s"}]}]}`
	c := newClient(t, f, &tokens{}, &sleeps{})
	got, err := c.LicenseGroups(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[{g1 Licensing - E3} {g2 } {g3 Licensing - E5}]" {
		t.Fatalf("groups %v", got)
	}
	for _, r := range f.requests {
		if r.Header.Get("ConsistencyLevel") != "eventual" {
			t.Errorf("%s without ConsistencyLevel: eventual", r.URL)
		}
	}
	if q := f.requests[0].URL.Query(); q.Get("$filter") != "assignedLicenses/$count ne 0" || q.Get("$count") != "true" {
		t.Errorf("query %v", q)
	}
}

// TestSignInsRefusals: no Entra ID P1 is told apart from a missing
// permission (both are 403s, neither is retried), and a 429 is waited out.
func TestSignInsRefusals(t *testing.T) {
	f := newFixture(t)
	f.pages["/v1.0/users?$select=id,signInActivity&$top=120"] = `{"value":[{"id":"u1","signInActivity":{"lastSignInDateTime":"2026-11-20T08:00:00Z",` +
		`"lastSignInRequestId":"r","lastNonInteractiveSignInDateTime":null,"lastSuccessfulSignInDateTime":"2026-11-20T08:00:00Z"}},` +
		`{"id":"u2","signInActivity":{"lastSignInDateTime":null,"lastNonInteractiveSignInDateTime":null,"lastSuccessfulSignInDateTime":null}}]}`
	c := newClient(t, f, &tokens{}, &sleeps{})
	list := func() ([]SignInUser, error) {
		var out []SignInUser
		err := c.SignIns(context.Background(), func(p []SignInUser) error {
			out = append(out, p...)
			return nil
		})
		return out, err
	}

	f.push(status(403, "", "Authentication_RequestFromNonPremiumTenantOrB2CTenant", "Neither tenant is B2C or tenant doesn't have premium license"))
	if _, err := list(); !errors.Is(err, ErrNoPremium) || !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "Entra ID P1") {
		t.Fatalf("no P1: %v", err)
	}
	f.push(status(403, "", "Authorization_RequestDenied", "Insufficient privileges to complete the operation."))
	if _, err := list(); errors.Is(err, ErrNoPremium) || !errors.Is(err, ErrForbidden) {
		t.Fatalf("no permission: %v", err)
	}
	if len(f.requests) != 2 {
		t.Fatalf("%d requests: a refusal was retried", len(f.requests))
	}

	f.push(status(429, "3", "TooManyRequests", "Too many requests."))
	got, err := list()
	if err != nil || len(got) != 2 || len(f.requests) != 4 {
		t.Fatalf("after a 429: %v, %d users, %d requests", err, len(got), len(f.requests))
	}
	want := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	if a := got[0].SignInActivity; !a.LastSignInDateTime.Equal(want) || !a.LastNonInteractiveSignInDateTime.IsZero() ||
		!a.LastSuccessfulSignInDateTime.Equal(want) || got[1].SignInActivity != (SignInActivity{}) {
		t.Fatalf("decoded %+v", got)
	}
}
