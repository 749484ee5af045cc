// Package demo runs Inventory Beacon against the built-in Microsoft 365
// simulator: `beacon --demo` starts the simulator in-process and keeps a
// ready "Demo tenant" connection pointing at it, so a newcomer can run
// Generate... and Execute Now end to end without a Microsoft tenant.
//
// Only the beacon binary uses it (gui.go and its smoke test), so it lives
// under cmd/beacon, beside the window's wiring; internal/ keeps leaf
// helpers only.
package demo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/inventorybeacon/beacon/internal/clock"

	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
)

// ConnectionName is the name of the connection demo mode maintains.
const ConnectionName = "Demo tenant"

// DefaultAddr is where the simulator listens when the port is free. A
// stable address keeps the demo connection's endpoints unchanged from one
// start to the next; when it is taken, an ephemeral port is used and the
// connection is pointed there.
const DefaultAddr = "127.0.0.1:45365"

// Options configure a demo.
type Options struct {
	Addr  string // default DefaultAddr, falling back to an ephemeral port
	Users int    // default 250
	Seed  int64
	// HistoryDays, when set, serves a tenant that has lived that many
	// days (tenant.AgeDays), and when the demo connection has no licence
	// history yet (or an unfinished one), leaves BuildHistory to import
	// those days into the database, as a beacon scheduled weekly, then
	// daily, would have: the Licenses page's Trend tab and `beacon
	// history` show a year once it is done (issue 18). `beacon --demo`
	// asks for HistoryDefault.
	HistoryDays int
	// interruptAfter, in tests, stops the history after that many
	// imports, as closing the window would.
	interruptAfter int
}

// HistoryDefault is the history `beacon --demo` shows: a year.
const HistoryDefault = 365

// Demo is a running simulator and the connection that points at it.
type Demo struct {
	Sim        *m365sim.Server
	Connection storage.Connection
	// Accounts are the sign-in accounts to show the administrator.
	Accounts []Account

	// history is the licence history Start left to make (BuildHistory),
	// nil when there is none to make.
	history *historyBuild
	stop    context.CancelFunc // stops BuildHistory
	built   chan struct{}      // closed when BuildHistory returns
}

// Account is a simulated user the demo offers on its sign-in page.
type Account struct {
	UPN  string
	Role string
}

// Start starts the simulator and creates or updates the demo connection
// through repo. The simulator keeps its state in memory, so a refresh token
// from an earlier demo is worthless: its metadata and keyring entry are
// removed and the administrator runs Generate... again.
func Start(repo *storage.Repository, o Options) (*Demo, error) {
	if o.Users == 0 {
		o.Users = 250
	}
	// A demo with a history is generated as of HistoryDays ago, and its
	// clock catches up with the program's as it ages.
	clk := tenant.NewDayClock(clock.Now, o.HistoryDays)
	t := tenant.Generate(o.Seed, o.Users)
	if o.HistoryDays > 0 {
		t = tenant.GenerateAt(o.Seed, o.Users, clk.Now())
	}
	// The demo's well-known accounts sign in from the account picker
	// without a password, so nobody needs to look one up.
	var accounts []Account
	for _, lp := range []struct{ local, role string }{
		{tenant.AdminLocalPart, "Global Administrator"},
		{tenant.CloudAdminLocalPart, "Cloud Application Administrator + Reports Reader"},
		{tenant.ReaderLocalPart, "Global Reader"},
		{tenant.UserLocalPart, "no admin role: shows the admin-approval error"},
	} {
		if u := t.UserByUPN(lp.local + "@" + t.Domain); u != nil {
			u.Password = ""
			accounts = append(accounts, Account{UPN: u.UserPrincipalName, Role: lp.role})
		}
	}

	addr := o.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	sim, err := m365sim.Start(m365sim.Options{Addr: addr, Tenant: t, Seed: o.Seed, Now: clk.Now})
	if err != nil && o.Addr == "" && isAddrInUse(err) {
		sim, err = m365sim.Start(m365sim.Options{Tenant: t, Seed: o.Seed, Now: clk.Now})
	}
	if err != nil {
		return nil, fmt.Errorf("start the demo tenant simulator: %w", err)
	}
	d := &Demo{Sim: sim, Accounts: accounts}
	if d.Connection, err = ensureConnection(repo, sim.URL()); err != nil {
		sim.Close()
		return nil, err
	}
	if o.HistoryDays > 0 {
		if err := d.prepareHistory(repo, o, clk); err != nil {
			sim.Close()
			return nil, err
		}
	}
	return d, nil
}

// Close stops the making of the history, if it is running, and the
// simulator. What was imported stays; the next start finishes the history.
func (d *Demo) Close() error {
	if d.stop != nil {
		d.stop()
		<-d.built
	}
	return d.Sim.Close()
}

func isAddrInUse(err error) bool { return errors.Is(err, syscall.EADDRINUSE) }

// ensureConnection creates the demo connection, or points an existing one
// at url and forgets its stale token.
func ensureConnection(repo *storage.Repository, url string) (storage.Connection, error) {
	cfg, err := repo.Config.Load()
	if err != nil {
		return storage.Connection{}, fmt.Errorf("demo mode: %w", err)
	}
	idx := -1
	for i, c := range cfg.Connections {
		if strings.EqualFold(c.Name, ConnectionName) {
			idx = i
			break
		}
	}
	now := clock.Now()
	var c storage.Connection
	if idx >= 0 {
		c = cfg.Connections[idx]
	} else {
		c = connector.NewConnection()
		c.Name = ConnectionName
		c.Created = now
	}
	if err := connector.ApplyCloud(&c, connector.CloudCustom); err != nil {
		return storage.Connection{}, err
	}
	// /organizations, as a work-account app would use; the simulator
	// serves its one tenant behind it.
	c.TokenEndpoint = url + "/organizations/oauth2/v2.0/token"
	c.AuthorizationEndpoint = url + "/organizations/oauth2/v2.0/authorize"
	c.GraphEndpoint = url
	c.ClientID = tenant.DefaultClientID
	// A loopback redirect lets the app receive the sign-in itself: no
	// address to paste.
	c.RedirectURI = "http://localhost"
	c.AuthFlow = storage.FlowAuthorizationCode
	c.Proxy = storage.Proxy{}
	c.Token = nil
	c.Modified = now

	var changes []storage.SecretChange
	for _, k := range storage.AllSecretKinds {
		changes = append(changes, storage.SecretChange{ConnID: c.ID, Kind: k, Delete: true})
	}
	if idx >= 0 {
		cfg.Connections[idx] = c
	} else {
		cfg.Connections = append(cfg.Connections, c)
	}
	if err := repo.Commit(cfg, changes); err != nil {
		return storage.Connection{}, fmt.Errorf("demo mode: save the %q connection: %w", ConnectionName, err)
	}
	return c, nil
}
