// Package m365sim is the Microsoft 365 simulator: the identity platform
// (package identity) and Microsoft Graph (package graph) over one generated
// tenant (package tenant), on one loopback listener (report downloads are
// served under a second host name for it, as Graph sends them to another
// host), with knobs for latency,
// throttling, faults, concealed report names and TLS.
//
// It is the peer of every test that talks to "Microsoft" and the engine of
// the app's demo mode:
//
//	s, err := m365sim.Start(m365sim.Options{Users: 1000, Seed: 1})
//	defer s.Close()
//	token := s.MintAccessToken("admin@" + s.Tenant().Domain)
//	// GET s.URL() + "/v1.0/users" with "Authorization: Bearer " + token
package m365sim

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"

	"github.com/inventorybeacon/beacon/m365sim/accesstoken"
	"github.com/inventorybeacon/beacon/m365sim/graph"
	"github.com/inventorybeacon/beacon/m365sim/identity"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

// Options configure a simulator. The zero value is a 250-user tenant from
// seed 0 on an ephemeral HTTP port with no latency, throttling or faults.
type Options struct {
	// Addr is the listen address; "" means 127.0.0.1:0 (ephemeral). Only
	// loopback addresses are accepted.
	Addr  string
	Users int // default 250
	Seed  int64
	// Tenant, if set, is served instead of generating one.
	Tenant *tenant.Tenant

	// Latency is added to every request (identity and Graph).
	Latency time.Duration
	// Throttle enables Graph's directory token bucket (429 + Retry-After)
	// and the reports' 14 requests / 10 min limit. ThrottleUnits overrides
	// the bucket size (units per 10 s).
	Throttle      bool
	ThrottleUnits int

	// FaultRate is the fraction of Graph and report-download requests that
	// fail, with a kind drawn from Faults (all kinds when empty). The
	// choice is deterministic: the n-th eligible request fails or not by
	// the seed alone.
	FaultRate float64
	Faults    []FaultKind
	// FaultIdentity extends faults to the identity platform.
	FaultIdentity bool
	// SlowBodyDelay is how long a slow body stalls mid-way (default 30 s,
	// past any sensible client time-out; a client that gives up ends it).
	SlowBodyDelay time.Duration
	// FaultRetryAfter, when set, is sent as Retry-After on injected 503s.
	FaultRetryAfter time.Duration

	ConcealedNames bool
	// NoPremium serves the tenant as one without Microsoft Entra ID P1:
	// $select=signInActivity then gets Graph's 403
	// Authentication_RequestFromNonPremiumTenantOrB2CTenant.
	NoPremium bool
	// TLS serves HTTPS with a certificate from a CA generated at start;
	// CAFile() is its PEM. CADir is where to write it (default: a fresh
	// temporary directory removed by Close).
	TLS   bool
	CADir string

	// Now is the clock of tokens, throttling, delta and reports (default
	// time.Now). Latency and slow bodies use real time.
	Now func() time.Time

	DeltaTokenLifetime time.Duration // default 7 days
	DeltaPageSize      int           // default 200
	DownloadLifetime   time.Duration // default 5 minutes
	// SingleUseRefreshTokens refuses a refresh token redeemed before
	// (identity.Options.SingleUseRefreshTokens). Off, a redeemed token
	// keeps working until it expires or is revoked, as with Entra.
	SingleUseRefreshTokens bool
	// RefreshGrace, with SingleUseRefreshTokens, lets a rotated refresh
	// token be redeemed once more within this window
	// (identity.Options.RefreshGrace).
	RefreshGrace time.Duration
	// Certificates are uploaded to the client-credentials app at start
	// (RegisterCertificate), PEM or DER.
	Certificates [][]byte
	// ErrorLog receives the HTTP server's errors (TLS handshakes refused
	// by untrusting clients, ...); nil discards them.
	ErrorLog *log.Logger
}

// Server is a running simulator.
type Server struct {
	o        Options
	t        *tenant.Tenant
	key      []byte
	graph    *graph.Handler
	identity *identity.Server
	ln       net.Listener
	srv      *http.Server
	url      string
	caFile   string
	caPEM    []byte
	tmpDir   string
	closing  chan struct{}
	once     sync.Once
	faults   *faulter
	stats    counters
}

// Start generates (or takes) the tenant and starts serving.
func Start(o Options) (*Server, error) {
	if o.Users == 0 {
		o.Users = 250
	}
	if o.Now == nil {
		o.Now = clock.Now
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.SlowBodyDelay == 0 {
		o.SlowBodyDelay = 30 * time.Second
	}
	host, _, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, fmt.Errorf("m365sim: listen address %q: %w", o.Addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("m365sim: listen address %q is not a loopback address; the simulator only serves this machine", o.Addr)
	}
	if err := checkFaults(o.Faults); err != nil {
		return nil, err
	}
	s := &Server{o: o, closing: make(chan struct{})}
	s.key = make([]byte, 32)
	if _, err := rand.Read(s.key); err != nil {
		return nil, fmt.Errorf("m365sim: signing key: %w", err)
	}
	if o.Tenant != nil {
		s.t = o.Tenant
		s.t.Reindex() // it may have been built or edited by hand
	} else {
		s.t = tenant.GenerateAt(o.Seed, o.Users, o.Now())
	}
	s.t.Clock = o.Now
	if o.NoPremium {
		s.t.NoPremium = true
	}
	for _, cer := range o.Certificates {
		if _, err := s.RegisterCertificate(cer); err != nil {
			return nil, err
		}
	}

	s.ln, err = net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("m365sim: listen on %s: %w", o.Addr, err)
	}
	la := s.ln.Addr().(*net.TCPAddr)
	port := la.Port
	scheme := "http"
	var tlsConf *tls.Config
	if o.TLS {
		scheme = "https"
		if tlsConf, err = s.setupTLS(); err != nil {
			s.ln.Close()
			return nil, err
		}
	}
	s.url = fmt.Sprintf("%s://%s", scheme, net.JoinHostPort(la.IP.String(), fmt.Sprint(port)))
	resources := []string{"https://graph.microsoft.com", s.url, fmt.Sprintf("%s://localhost:%d", scheme, port)}
	s.graph = graph.New(graph.Options{
		Tenant: s.t, SigningKey: s.key, Resources: resources, Now: o.Now,
		Throttle: o.Throttle, ThrottleUnits: o.ThrottleUnits, ConcealedNames: o.ConcealedNames,
		DeltaTokenLifetime: o.DeltaTokenLifetime, DeltaPageSize: o.DeltaPageSize, DownloadLifetime: o.DownloadLifetime,
	})
	s.identity = identity.New(identity.Options{
		Tenant: s.t, SigningKey: s.key, GraphResources: append([]string(nil), resources...), Now: o.Now,
		SingleUseRefreshTokens: o.SingleUseRefreshTokens, RefreshGrace: o.RefreshGrace,
	})
	s.faults = newFaulter(o, &s.stats)
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		// HTTP/1.1 only: faults hijack the connection to reset or truncate.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		TLSConfig:    tlsConf,
		ErrorLog:     o.ErrorLog,
	}
	if s.srv.ErrorLog == nil {
		s.srv.ErrorLog = log.New(io.Discard, "", 0)
	}
	ln := s.ln
	if tlsConf != nil {
		ln = tls.NewListener(s.ln, tlsConf)
	}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// ServeHTTP routes Graph (/v1.0/ and report downloads) and the identity
// platform (everything else), applying latency and faults.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.stats.requests.Add(1)
	isGraph := strings.HasPrefix(r.URL.Path, "/v1.0/") || strings.HasPrefix(r.URL.Path, graph.DownloadPrefix)
	if isGraph {
		s.stats.graph.Add(1)
	} else {
		s.stats.identity.Add(1)
	}
	if s.o.Latency > 0 && !s.wait(r.Context(), s.o.Latency) {
		return
	}
	var h http.Handler = s.identity
	if isGraph {
		h = s.graph
	}
	if isGraph || s.o.FaultIdentity {
		if kind, ok := s.faults.draw(); ok {
			s.inject(kind, h, w, r)
			return
		}
	}
	h.ServeHTTP(w, r)
}

// wait sleeps d unless the request or the server ends first.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.closing:
		return false
	}
}

// URL is the origin serving both the identity platform and Graph, e.g.
// http://127.0.0.1:PORT.
func (s *Server) URL() string { return s.url }

// Authority is the tenant's identity platform base, URL()/{tenant id}.
func (s *Server) Authority() string { return s.url + "/" + s.t.ID }

// TokenEndpoint is the tenant's v2.0 token endpoint.
func (s *Server) TokenEndpoint() string { return s.Authority() + "/oauth2/v2.0/token" }

// AuthorizeEndpoint is the tenant's v2.0 authorization endpoint.
func (s *Server) AuthorizeEndpoint() string { return s.Authority() + "/oauth2/v2.0/authorize" }

// GraphEndpoint is what the app's "Graph Endpoint" field takes (the origin;
// the app appends /v1.0/...).
func (s *Server) GraphEndpoint() string { return s.url }

// Tenant is the simulated tenant (mutate it through its API).
func (s *Server) Tenant() *tenant.Tenant { return s.t }

// Graph is the Graph handler (e.g. to switch concealed names).
func (s *Server) Graph() *graph.Handler { return s.graph }

// Identity is the identity platform (revoke or expire refresh tokens).
func (s *Server) Identity() *identity.Server { return s.identity }

// SigningKey is the access-token key, for tests that mint odd tokens.
func (s *Server) SigningKey() []byte { return s.key }

// CAFile is the path of the PEM of the CA that signed the HTTPS
// certificate ("" without TLS).
func (s *Server) CAFile() string { return s.caFile }

// CertPool holds the simulator's CA (nil without TLS).
func (s *Server) CertPool() *x509.CertPool {
	if s.caPEM == nil {
		return nil
	}
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(s.caPEM)
	return p
}

// Client returns an HTTP client that trusts the simulator's CA.
func (s *Server) Client() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if s.caPEM != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: s.CertPool()}
	}
	return &http.Client{Transport: tr}
}

// SetFaultRate changes the fault rate at run time.
func (s *Server) SetFaultRate(rate float64) { s.faults.setRate(rate) }

// Close stops serving, ends stalled responses and removes the generated CA
// directory.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		close(s.closing)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if e := s.srv.Shutdown(ctx); e != nil {
			err = s.srv.Close()
		}
		if s.tmpDir != "" {
			_ = os.RemoveAll(s.tmpDir)
		}
	})
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// ClientCredentialsApp is the confidential client registered with the
// application permissions User.Read.All, Directory.Read.All and
// Reports.Read.All.
func (s *Server) ClientCredentialsApp() (clientID, secret string) {
	return tenant.ConfidentialClientID, tenant.ConfidentialClientSecret
}

// RegisterCertificate uploads a certificate (PEM or DER, the .cer of the
// Azure portal) to the client-credentials app: assertions signed by its
// key are accepted from now on, beside those of the certificates already
// registered. It returns the certificate's SHA-1 thumbprint.
func (s *Server) RegisterCertificate(cer []byte) (string, error) {
	der := cer
	if b, _ := pem.Decode(cer); b != nil {
		der = b.Bytes
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return "", fmt.Errorf("m365sim: not a certificate: %w", err)
	}
	if err := s.t.AddCertificate(tenant.ConfidentialClientID, c); err != nil {
		return "", err
	}
	return tenant.KeyCredential{Cert: c}.Thumbprint(), nil
}

// RemoveCertificate removes the certificate with the SHA-1 thumbprint
// from the client-credentials app; its assertions then get AADSTS700027.
func (s *Server) RemoveCertificate(thumbprint string) bool {
	return s.t.RemoveCertificate(tenant.ConfidentialClientID, thumbprint)
}

// SetAppRoles replaces the application permissions granted to the app
// registration clientID (tests grant a profile's roles, or leave one out,
// with it); client-credentials tokens issued afterwards carry exactly
// these in their roles claim. It panics on an unknown app: a test's
// mistake.
func (s *Server) SetAppRoles(clientID string, roles ...string) {
	s.t.Lock()
	defer s.t.Unlock()
	app := s.t.App(clientID)
	if app == nil {
		panic("m365sim: SetAppRoles: no app " + clientID)
	}
	app.AppRoles = append([]string(nil), roles...)
}

// DefaultScopes are the delegated permissions MintAccessToken grants when
// none are given: what the app asks for.
var DefaultScopes = []string{"Directory.Read.All", "Reports.Read.All", "User.Read"}

// MintAccessToken returns a delegated Graph access token for the user, as
// the default public client, valid for an hour of the simulator's clock,
// without any browser. Scopes are short names (Directory.Read.All); none
// means DefaultScopes. An unknown UPN panics: it is a test's mistake.
func (s *Server) MintAccessToken(upn string, scopes ...string) string {
	s.t.RLock()
	u := s.t.UserByUPN(upn)
	s.t.RUnlock()
	if u == nil {
		panic("m365sim: MintAccessToken: no user " + upn)
	}
	if len(scopes) == 0 {
		scopes = DefaultScopes
	}
	now := s.o.Now()
	return accesstoken.Mint(s.key, accesstoken.Claims{
		Audience: "https://graph.microsoft.com", Issuer: "https://sts.windows.net/" + s.t.ID + "/",
		IssuedAt: now.Unix(), NotBefore: now.Unix(), Expiry: now.Add(time.Hour).Unix(),
		TenantID: s.t.ID, AppID: tenant.DefaultClientID, ObjectID: u.ID, UPN: u.UserPrincipalName, Name: u.DisplayName,
		Scopes: strings.Join(scopes, " "), ID: randomID(),
	})
}

// MintAppToken returns an application (client credentials) token of the
// confidential client with the given roles (none: its granted ones).
func (s *Server) MintAppToken(roles ...string) string {
	s.t.RLock()
	app := s.t.App(tenant.ConfidentialClientID)
	if len(roles) == 0 && app != nil {
		roles = append([]string(nil), app.AppRoles...)
	}
	spID := ""
	for _, sp := range s.t.ServicePrincipals {
		if sp.AppID == tenant.ConfidentialClientID {
			spID = sp.ID
		}
	}
	s.t.RUnlock()
	now := s.o.Now()
	return accesstoken.Mint(s.key, accesstoken.Claims{
		Audience: "https://graph.microsoft.com", Issuer: "https://sts.windows.net/" + s.t.ID + "/",
		IssuedAt: now.Unix(), NotBefore: now.Unix(), Expiry: now.Add(time.Hour).Unix(),
		TenantID: s.t.ID, AppID: tenant.ConfidentialClientID, ObjectID: spID, Roles: roles, ID: randomID(),
	})
}

func randomID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// Stats are request counters.
type Stats struct {
	Requests         int64
	GraphRequests    int64
	IdentityRequests int64
	// Faults counts injected faults by kind.
	Faults map[FaultKind]int64
	// Throttled counts 429 answers (directory bucket and report limit).
	Throttled int64
}

type counters struct {
	requests, graph, identity atomic.Int64
	faults                    [numFaultKinds]atomic.Int64
}

// Stats returns the counters so far.
func (s *Server) Stats() Stats {
	st := Stats{Requests: s.stats.requests.Load(), GraphRequests: s.stats.graph.Load(),
		IdentityRequests: s.stats.identity.Load(), Faults: map[FaultKind]int64{}, Throttled: s.graph.Throttled()}
	for i, k := range AllFaults {
		if n := s.stats.faults[i].Load(); n > 0 {
			st.Faults[k] = n
		}
	}
	return st
}
