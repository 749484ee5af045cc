//go:build linux

package soak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/connector/importer"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// mintTokens mints a fresh access token on every call: the simulated clock
// runs hours ahead during a soak, past any one token's lifetime.
type mintTokens struct {
	sim *m365sim.Server
	upn string
}

func (m mintTokens) Token(context.Context) (string, error) { return m.sim.MintAccessToken(m.upn), nil }
func (m mintTokens) Invalidate()                           {}

// diffTenant compares the current snapshot of connID with the tenant:
// every user field by field, every SKU, every service principal. It
// returns the first difference.
func diffTenant(ctx context.Context, st *inventory.Store, connID string, ten *tenant.Tenant) error {
	users, err := st.Users(ctx, connID, inventory.Query{})
	if err != nil {
		return err
	}
	lics, err := st.Licenses(ctx, connID, inventory.Query{})
	if err != nil {
		return err
	}
	apps, err := st.Applications(ctx, connID, inventory.Query{})
	if err != nil {
		return err
	}
	ten.RLock()
	defer ten.RUnlock()
	if len(users) != len(ten.Users) {
		return fmt.Errorf("%d users imported, the tenant has %d", len(users), len(ten.Users))
	}
	byID := map[string]*inventory.User{}
	for i := range users {
		if byID[users[i].ID] != nil {
			return fmt.Errorf("user %s imported twice", users[i].ID)
		}
		byID[users[i].ID] = &users[i]
	}
	for _, w := range ten.Users {
		g := byID[w.ID]
		if g == nil {
			return fmt.Errorf("user %s missing", w.ID)
		}
		if g.UserPrincipalName != w.UserPrincipalName || g.DisplayName != w.DisplayName || g.Mail != w.Mail ||
			g.AccountEnabled != w.AccountEnabled || g.UsageLocation != w.UsageLocation || g.Department != w.Department ||
			g.JobTitle != w.JobTitle || len(g.AssignedLicenses) != len(w.AssignedLicenses) || len(g.AssignedPlans) != len(w.AssignedPlans) {
			return fmt.Errorf("user %s differs", w.ID)
		}
		for i, l := range w.AssignedLicenses {
			if !strings.EqualFold(g.AssignedLicenses[i].SkuID, l.SkuID) {
				return fmt.Errorf("user %s license %d differs", w.ID, i)
			}
		}
	}
	if len(lics) != len(ten.SKUs) {
		return fmt.Errorf("%d SKUs imported, the tenant has %d", len(lics), len(ten.SKUs))
	}
	for i, w := range ten.SKUs {
		if lics[i].SkuID != w.SkuID || lics[i].ConsumedUnits != w.ConsumedUnits || lics[i].SkuPartNumber != w.SkuPartNumber {
			return fmt.Errorf("SKU %s differs", w.SkuPartNumber)
		}
	}
	if len(apps) != len(ten.ServicePrincipals) {
		return fmt.Errorf("%d service principals imported, the tenant has %d", len(apps), len(ten.ServicePrincipals))
	}
	return nil
}

// TestFaultyGraph: imports against a simulator failing 10% of Graph
// requests with every kind of fault (429 with Retry-After, 503, 504,
// connection reset, truncated body, a body stalling past the attempt
// time-out). Each run must end with the tenant's exact data, or fail
// cleanly keeping the previous snapshot current.
func TestFaultyGraph(t *testing.T) {
	runs := scaled(5, 50)
	users := scaled(300, 1500)
	clk := newFakeClock()
	sim, err := m365sim.Start(m365sim.Options{Users: users, Seed: 11, Now: clk.Now,
		Throttle: true, ThrottleUnits: 40, FaultRate: 0.10,
		SlowBodyDelay: 3 * time.Second, FaultRetryAfter: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	ctx := context.Background()
	st, err := inventory.Open(ctx, filepath.Join(t.TempDir(), inventory.FileName), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	conn := storage.Connection{ID: storage.NewID(), Name: "Faulty"}
	tokens := mintTokens{sim: sim, upn: tenant.AdminLocalPart + "@" + sim.Tenant().Domain}
	var retries atomic.Int64 // OnRetry runs on the importer's goroutines
	var failed, mismatches, succeeded int
	var failures []string
	start := time.Now()
	for i := 0; i < runs; i++ {
		prev, prevErr := st.CurrentRun(ctx, conn.ID)
		// Every fifth run gives up after two attempts, so some runs fail
		// and the "clean failure keeps the previous snapshot" path is
		// exercised as much as the "exact data" one.
		attempts := 0
		if i%5 == 4 {
			attempts = 2
		}
		client, err := graph.New(sim.Client(), sim.GraphEndpoint(), tokens, graph.Options{
			Sleep: clk.Sleep, AttemptTimeout: 400 * time.Millisecond, PageSize: 50, MaxAttempts: attempts,
			OnRetry: func(graph.Retry) { retries.Add(1) }})
		if err != nil {
			t.Fatal(err)
		}
		// Every other run is incremental (delta), so both paths meet faults.
		_, err = importer.Run(ctx, importer.Options{Conn: conn, Client: client, Store: st, Trigger: inventory.TriggerManual,
			Logger: quiet, Full: i%2 == 0, Now: clk.Now, Sequential: i%3 == 2})
		if err != nil {
			failed++
			failures = append(failures, err.Error())
			cur, cerr := st.CurrentRun(ctx, conn.ID)
			switch {
			case prevErr != nil && !errors.Is(cerr, prevErr) && cerr == nil:
				mismatches++
				t.Errorf("run %d failed (%v) but left a current snapshot %d where there was none", i, err, cur.ID)
			case prevErr == nil && (cerr != nil || cur.ID != prev.ID):
				mismatches++
				t.Errorf("run %d failed (%v) and the previous snapshot %d is no longer current (%d, %v)", i, err, prev.ID, cur.ID, cerr)
			}
		} else {
			succeeded++
			if derr := diffTenant(ctx, st, conn.ID, sim.Tenant()); derr != nil {
				mismatches++
				t.Errorf("run %d succeeded with data that differs from the tenant: %v", i, derr)
			}
		}
		// Past the reports' 14 per 10 minutes, so every run may read them.
		clk.Advance(11 * time.Minute)
	}
	s := sim.Stats()
	var faults int64
	for _, n := range s.Faults {
		faults += n
	}
	if v, err := st.IntegrityCheck(ctx); err != nil || v != "ok" {
		mismatches++
		t.Errorf("integrity_check = %q, %v", v, err)
	}
	figure(t, "faulty-graph", "runs=%d succeeded=%d clean-failures=%d graph-requests=%d faults-injected=%d by-kind=%v throttled-429=%d client-retries=%d data-mismatches=%d wall=%s",
		runs, succeeded, failed, s.GraphRequests, faults, s.Faults, s.Throttled, retries.Load(), mismatches, time.Since(start).Round(time.Second))
	for _, f := range failures {
		t.Logf("clean failure: %s", f)
	}
	if faults == 0 {
		t.Fatal("no fault was injected")
	}
}
