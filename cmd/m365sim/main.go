// Command m365sim runs the Microsoft 365 simulator standalone:
//
//	go run ./cmd/m365sim --users 1000
//
// It prints its endpoints, the accounts and client ids, and how to point
// Inventory Beacon at it, then serves until SIGINT or SIGTERM.
//
// With --ready-json it also prints, once it serves, one line for programs
// that start it (the soak tests do): "m365sim-ready " and a JSON object
// (m365sim.ReadyInfo) with the endpoints, the client credentials app, and the
// tenant's seed, size and reference date, from which
// tenant.GenerateAt(seed, users, reference) rebuilds the very tenant it
// serves (then aged history_days days with tenant.AgeDays, after
// --history).
//
// With --history 365d it serves a tenant that has lived a year: generated
// as of a year ago, then changed a day at a time up to today (joiners,
// leavers, licence changes, disabled accounts, and each day's activity),
// so its usage reports show the activity of the last 180 days as
// Microsoft's do.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "m365sim:", err)
		os.Exit(1)
	}
}

// config is what the command line asks for.
type config struct {
	o           m365sim.Options
	mutateEvery time.Duration
	readyJSON   bool
	// historyDays ages the tenant that many days before it is served.
	historyDays int
}

func parseArgs(args []string) (config, error) {
	fs := flag.NewFlagSet("m365sim", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address (loopback only; port 0 picks a free one)")
	users := fs.Int("users", 250, "number of users in the generated tenant")
	seed := fs.Int64("seed", 1, "seed of the generated tenant and of fault injection")
	latency := fs.Duration("latency", 0, "latency added to every request, e.g. 150ms")
	throttle := fs.Bool("throttle", false, "enable Graph throttling (429 with Retry-After)")
	faultRate := fs.Float64("fault-rate", 0, "fraction of Graph requests that fail, 0..1")
	faults := fs.String("faults", "", "fault kinds, comma separated: 503,504,reset,truncated,slow (default all)")
	concealed := fs.Bool("concealed", false, "conceal user names in usage reports")
	noP1 := fs.Bool("no-p1", false, "serve the tenant as one without Microsoft Entra ID P1 (signInActivity refused with 403)")
	useTLS := fs.Bool("tls", false, "serve HTTPS with a generated local CA")
	singleUse := fs.Bool("single-use-refresh-tokens", false, "refuse a refresh token redeemed before (AADSTS70000); by default a redeemed one keeps working until it expires or is revoked, as with Entra")
	grace := fs.Duration("refresh-grace", 0, "with --single-use-refresh-tokens, how long a redeemed refresh token may still be redeemed once more, e.g. 1m")
	mutateEvery := fs.Duration("mutate-every", 0, "change 1% of the tenant at this interval (0: never)")
	certs := fs.String("certificate", "", "certificate files (.cer or .pem, comma separated) to register on the client-credentials app, for certificate sign-in")
	history := fs.String("history", "", "serve a tenant aged this many days, e.g. 365d: generated as of that long ago, then changed day by day (joiners, leavers, licence changes, activity) up to today, so its reports and directory carry a year of change")
	readyJSON := fs.Bool("ready-json", false, "after the banner, print one line \""+m365sim.ReadyPrefix+"{...}\" with the endpoints and the tenant (for programs that start the simulator)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	kinds, err := m365sim.ParseFaults(*faults)
	if err != nil {
		return config{}, err
	}
	if *faultRate < 0 || *faultRate > 1 {
		return config{}, fmt.Errorf("--fault-rate must be between 0 and 1")
	}
	if *grace < 0 || (*grace > 0 && !*singleUse) {
		// A grace only shortens single use; alone it would mean nothing.
		return config{}, fmt.Errorf("--refresh-grace takes a positive duration and goes with --single-use-refresh-tokens")
	}
	days, err := parseHistory(*history)
	if err != nil {
		return config{}, err
	}
	var cers [][]byte
	for _, f := range strings.Split(*certs, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return config{}, fmt.Errorf("--certificate: %w", err)
		}
		cers = append(cers, b)
	}
	return config{
		o: m365sim.Options{
			Certificates: cers,
			Addr:         *addr, Users: *users, Seed: *seed, Latency: *latency, Throttle: *throttle,
			FaultRate: *faultRate, Faults: kinds, ConcealedNames: *concealed, NoPremium: *noP1, TLS: *useTLS,
			SingleUseRefreshTokens: *singleUse, RefreshGrace: *grace,
		},
		mutateEvery: *mutateEvery, readyJSON: *readyJSON, historyDays: days,
	}, nil
}

// parseHistory reads --history: whole days, as "365d" or "365".
func parseHistory(v string) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSuffix(v, "d"))
	if err != nil || n < 0 || n > 3660 {
		return 0, fmt.Errorf("--history %q: give whole days up to ten years, such as 365d", v)
	}
	return n, nil
}

// agedTenant is the tenant of --history: generated as of days ago on a
// clock that then catches up a day at a time while the tenant ages.
func agedTenant(o m365sim.Options, days int) *tenant.Tenant {
	clk := tenant.NewDayClock(clock.Now, days)
	t := tenant.GenerateAt(o.Seed, o.Users, clk.Now())
	t.Clock = clk.Now
	_ = t.AgeDays(o.Seed, days, tenant.HistoryFraction, clk, nil)
	return t
}

func run(ctx context.Context, args []string, out io.Writer) error {
	c, err := parseArgs(args)
	if err != nil {
		return err
	}
	seed := c.o.Seed
	start := time.Now()
	if c.historyDays > 0 {
		c.o.Tenant = agedTenant(c.o, c.historyDays)
	}
	s, err := m365sim.Start(c.o)
	if err != nil {
		return err
	}
	defer s.Close()
	printBanner(out, s, c.o, time.Since(start))
	if c.historyDays > 0 {
		fmt.Fprintf(out, "Aged %d days: its directory and usage reports carry the changes and activity of that time.\n", c.historyDays)
	}
	if c.readyJSON {
		if err := printReady(out, s, c); err != nil {
			return err
		}
	}

	var tick <-chan time.Time
	if c.mutateEvery > 0 {
		t := time.NewTicker(c.mutateEvery)
		defer t.Stop()
		tick = t.C
	}
	for n := int64(1); ; n++ {
		select {
		case <-ctx.Done():
			fmt.Fprintln(out, "m365sim: shutting down")
			return s.Close()
		case <-tick:
			sum := s.Tenant().Mutate(seed+n, 0.01)
			fmt.Fprintf(out, "m365sim: mutation %d: +%d users, -%d users, %d license changes, %d attribute changes (changes %d..%d)\n",
				n, sum.Added, sum.Deleted, sum.LicenseChanges, sum.AttributeChanges, sum.FromSeq+1, sum.ToSeq)
		}
	}
}

func printBanner(out io.Writer, s *m365sim.Server, o m365sim.Options, took time.Duration) {
	t := s.Tenant()
	t.RLock()
	n, skus, sps := len(t.Users), len(t.SKUs), len(t.ServicePrincipals)
	t.RUnlock()
	p := func(format string, a ...any) { fmt.Fprintf(out, format+"\n", a...) }
	p("Microsoft 365 simulator — tenant %q (%s), %s", t.DisplayName, t.Domain, t.ID)
	p("  %d users, %d subscribed SKUs, %d service principals (generated in %s)", n, skus, sps, took.Round(time.Millisecond))
	p("")
	p("Endpoints")
	p("  Origin (identity + Graph):  %s", s.URL())
	p("  Authority:                  %s", s.Authority())
	p("  Authorization endpoint:     %s", s.AuthorizeEndpoint())
	p("  Token endpoint:             %s", s.TokenEndpoint())
	p("  Graph endpoint:             %s  (e.g. %s/v1.0/users)", s.GraphEndpoint(), s.GraphEndpoint())
	if s.CAFile() != "" {
		p("  CA certificate (trust it):  %s", s.CAFile())
	}
	switch {
	case !o.SingleUseRefreshTokens:
		p("  Refresh tokens:             rotated; a redeemed one keeps working until it expires or is revoked (as Entra)")
	case o.RefreshGrace > 0:
		p("  Refresh tokens:             single use; a redeemed one is accepted once more within %s", o.RefreshGrace)
	default:
		p("  Refresh tokens:             single use (a redeemed one answers AADSTS70000)")
	}
	p("")
	p("Accounts (sign in on the simulator's pages)")
	for _, a := range t.FixedAccounts() {
		roles := "no admin role"
		if len(a.Roles) > 0 {
			roles = fmt.Sprint(a.Roles)
		}
		p("  %-45s password %-22s %s", a.UPN, a.Password, roles)
	}
	p("")
	p("Client applications")
	p("  Public client (default):    %s  redirect %s or http://localhost", tenant.DefaultClientID, tenant.NativeClientRedirect)
	id, secret := s.ClientCredentialsApp()
	p("  Client credentials:         %s  secret %s", id, secret)
	p("  Web app (needs a secret):   %s", tenant.WebClientID)
	p("  SPA (refused):              %s", tenant.SPAClientID)
	p("  Single-tenant public app:   %s", tenant.SingleTenantClientID)
	p("")
	p("Point Inventory Beacon at it: New > PowerShell, Cloud = Custom, then")
	p("  Token Endpoint          %s/common/oauth2/v2.0/token  (or %s for client credentials)", s.URL(), s.TokenEndpoint())
	p("  Authorization Endpoint  %s/common/oauth2/v2.0/authorize", s.URL())
	p("  Graph Endpoint          %s", s.GraphEndpoint())
	p("  Redirect URI            http://localhost (or the default nativeclient URI and paste the final address)")
	p("Press Ctrl+C to stop.")
}

func printReady(out io.Writer, s *m365sim.Server, c config) error {
	t := s.Tenant()
	t.RLock()
	info := m365sim.ReadyInfo{
		PID: os.Getpid(), URL: s.URL(), TokenEndpoint: s.TokenEndpoint(), AuthorizeURL: s.AuthorizeEndpoint(),
		GraphEndpoint: s.GraphEndpoint(), CAFile: s.CAFile(), TenantID: t.ID, Domain: t.Domain,
		Seed: c.o.Seed, Users: len(t.Users), Reference: t.Reference, PublicClientID: tenant.DefaultClientID,
	}
	t.RUnlock()
	if c.historyDays > 0 {
		info.Users, info.HistoryDays = c.o.Users, c.historyDays
	}
	info.ClientCredentialsID, info.ClientCredentialsSecret = s.ClientCredentialsApp()
	js, err := json.Marshal(info)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s%s\n", m365sim.ReadyPrefix, js)
	return err
}
