package graph

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/connector/graph/wire"
	"github.com/inventorybeacon/beacon/m365sim/accesstoken"
	simgraph "github.com/inventorybeacon/beacon/m365sim/graph"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

// simTenant serves the simulator's Graph over a generated tenant of users
// users and returns it with a token it accepts.
func simTenant(t testing.TB, users int) (*tenant.Tenant, *httptest.Server, string) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	key := []byte("0123456789abcdef0123456789abcdef")
	ten := tenant.GenerateAt(1, users, now)
	ten.Clock = clock
	srv := httptest.NewServer(simgraph.New(simgraph.Options{Tenant: ten, SigningKey: key, Now: clock, DeltaPageSize: 200}))
	t.Cleanup(srv.Close)
	tok := accesstoken.Mint(key, accesstoken.Claims{
		Audience: simgraph.GraphResource, TenantID: ten.ID, AppID: tenant.ConfidentialClientID,
		IssuedAt: now.Unix(), NotBefore: now.Unix(), Expiry: now.Add(time.Hour).Unix(),
		ObjectID: "sp", Roles: []string{"User.Read.All"}, ID: "a",
	})
	return ten, srv, tok
}

// TestUsersDeltaThroughClient walks a delta round of the simulator with
// the client: what the importer sees.
func TestUsersDeltaThroughClient(t *testing.T) {
	ten, srv, token := simTenant(t, 300)
	c, err := New(srv.Client(), srv.URL, staticToken(token), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	var first []wire.DeltaUser
	link, err := c.UsersDelta(ctx, "", func(p []wire.DeltaUser) error { first = append(first, p...); return nil })
	if err != nil || link == "" || len(first) < 300 {
		t.Fatalf("full round: %d users, link %q, %v", len(first), link, err)
	}
	ten.Mutate(3, 0.3)
	var changes []wire.DeltaUser
	if _, err := c.UsersDelta(ctx, link, func(p []wire.DeltaUser) error { changes = append(changes, p...); return nil }); err != nil {
		t.Fatal(err)
	}
	removed := 0
	for _, u := range changes {
		if u.ID == "" {
			t.Fatalf("a delta entry without an id: %+v", u)
		}
		if u.Removed != nil {
			removed++
			if u.Removed.Reason != "changed" && u.Removed.Reason != "deleted" {
				t.Fatalf("removal reason %q", u.Removed.Reason)
			}
		}
	}
	if removed == 0 || removed == len(changes) {
		t.Fatalf("%d changes, %d removed", len(changes), removed)
	}
	var all []wire.User
	if err := c.Users(ctx, func(p []wire.User) error { all = append(all, p...); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 || all[0].ID == "" || all[0].UserPrincipalName == "" {
		t.Fatalf("users: %d %+v", len(all), all[:min(1, len(all))])
	}
}

type staticToken string

func (s staticToken) Token(context.Context) (string, error) { return string(s), nil }
func (staticToken) Invalidate()                             {}
