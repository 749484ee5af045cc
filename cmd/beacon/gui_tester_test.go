package main

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
)

// The window's Test Connection (tester) against the simulator: what the
// report dialog shows is the report's Summary (ui/testconnection.go).

// memSecrets is an in-memory keyring.
type memSecrets struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *memSecrets) Get(id string, kind storage.SecretKind) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[id+"/"+string(kind)]
	if !ok {
		return "", storage.ErrSecretNotFound
	}
	return v, nil
}

func (s *memSecrets) Set(id string, kind storage.SecretKind, v string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.m[id+"/"+string(kind)] = v
	return nil
}

func (s *memSecrets) Delete(id string, kind storage.SecretKind) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id+"/"+string(kind))
	return nil
}

// startSim starts the simulator for the test.
func startSim(t *testing.T, o m365sim.Options) *m365sim.Server {
	t.Helper()
	sim, err := m365sim.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { go sim.Close() }) // Close waits for idle connections
	return sim
}

// daemonConn is a client-credentials connection to sim with its secret in
// secrets.
func daemonConn(t *testing.T, sim *m365sim.Server, secrets storage.Secrets) storage.Connection {
	t.Helper()
	c := connector.NewConnection()
	c.Name = "Daemon"
	c.Cloud = "Custom"
	c.AuthFlow = storage.FlowClientCredentials
	c.AuthorizationEndpoint, c.RedirectURI = "", ""
	c.TokenEndpoint = sim.TokenEndpoint()
	c.GraphEndpoint = sim.GraphEndpoint()
	c.ClientID, c.HasClientSecret = tenant.ConfidentialClientID, true
	if err := secrets.Set(c.ID, storage.SecretClientSecret, tenant.ConfidentialClientSecret); err != nil {
		t.Fatal(err)
	}
	return c
}

// Client Credentials: the secret comes from the keyring, the report says
// the connection works.
func TestTesterClientCredentials(t *testing.T) {
	sim := startSim(t, m365sim.Options{Users: 20, Seed: 5})
	secrets := &memSecrets{}
	c := daemonConn(t, sim, secrets)
	r := tester{secrets: secrets, lockDir: t.TempDir()}.TestConnection(context.Background(), c)
	if !r.TokenOK || !r.GraphOK || !strings.Contains(r.Summary(), "Connection works") {
		t.Fatalf("report %+v\n%s", r, r.Summary())
	}
}

// A connection that never signed in is answered at once with the reason
// and what to do, with or without a proxy (issue 23 item 1: it showed
// nothing, even after a minute).
func TestTesterNeverSignedIn(t *testing.T) {
	sim := startSim(t, m365sim.Options{Users: 20, Seed: 5})
	secrets := &memSecrets{}
	for _, proxy := range []bool{false, true} {
		c := connector.NewConnection()
		c.Name = "Never signed in"
		c.Cloud = "Custom"
		c.TokenEndpoint, c.AuthorizationEndpoint = sim.TokenEndpoint(), sim.AuthorizeEndpoint()
		c.GraphEndpoint = sim.GraphEndpoint()
		c.RedirectURI = "http://localhost"
		if proxy {
			c.Proxy = storage.Proxy{Enabled: true, Server: "http://127.0.0.1:9", Username: "u", HasPassword: true}
			if err := secrets.Set(c.ID, storage.SecretProxyPassword, "pw"); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		r := tester{secrets: secrets, lockDir: t.TempDir()}.TestConnection(context.Background(), c)
		if r.TokenOK {
			t.Fatalf("proxy %v: report %+v", proxy, r)
		}
		for _, want := range []string{"Generate...", "no sign-in"} {
			if !strings.Contains(r.Summary(), want) {
				t.Errorf("proxy %v: report %q does not say %q", proxy, r.Summary(), want)
			}
		}
		if el := time.Since(start); el > 10*time.Second {
			t.Errorf("proxy %v: the answer took %s", proxy, el)
		}
	}
}

// A connection given the simulator's CA (the simulator serves HTTPS with a
// certificate of a CA it generates, as a TLS-inspecting proxy does) trusts
// it: a token and Graph work; without it the test fails on the
// certificate and says so.
func TestTesterCACertFile(t *testing.T) {
	sim := startSim(t, m365sim.Options{Users: 5, Seed: 3, TLS: true})
	secrets := &memSecrets{}
	conn := daemonConn(t, sim, secrets)
	conn.CACertFile = sim.CAFile()
	tst := tester{secrets: secrets, lockDir: t.TempDir()}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if r := tst.TestConnection(ctx, conn); !r.TokenOK || !r.GraphOK {
		t.Fatalf("with the CA: %+v\n%s", r, r.Summary())
	}
	noCA := conn
	noCA.CACertFile = ""
	r := tst.TestConnection(ctx, noCA)
	var unknownCA x509.UnknownAuthorityError
	if r.TokenOK || !errors.As(r.Err, &unknownCA) {
		t.Fatalf("without the CA: %+v", r)
	}
	if !strings.Contains(strings.ToLower(r.Summary()), "certificate") {
		t.Errorf("the failure does not mention the certificate: %s", r.Summary())
	}
}
