package auth

// End-to-end harness: the simulator's identity platform as Microsoft, one
// real headless Chromium per test run (testenv.UseBrowser), the real
// Secret Service keyring and the real configuration store.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/identity"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
)

func TestMain(m *testing.M) {
	switch mode := os.Getenv("BEACON_AUTH_HELPER"); mode {
	case "refresher":
		os.Exit(runRefresherHelper())
	case "keyring-get", "keyring-set":
		os.Exit(runKeyringHelper(mode))
	}
	code := m.Run()
	simClosers.Wait()
	testenv.StopBrowser()
	os.Exit(code)
}

// ---- the simulator ----

var simClosers sync.WaitGroup

type simEnv struct {
	*m365sim.Server
	URL    string
	CAFile string
	Tenant *tenant.Tenant
	IdP    *identity.Server
	Domain string
}

// newSim starts the simulator (identity platform and Graph on one origin)
// on loopback, over TLS when tls is set (its CA in CAFile).
func newSim(t *testing.T, tls bool, configure ...func(*m365sim.Options)) *simEnv {
	t.Helper()
	o := m365sim.Options{Users: 20, Seed: 7, TLS: tls}
	for _, c := range configure {
		c(&o)
	}
	srv, err := m365sim.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	// Closing waits up to 2 s for Chromium's idle connections; let that
	// happen in the background (TestMain waits for it before exiting).
	t.Cleanup(func() {
		simClosers.Add(1)
		go func() { defer simClosers.Done(); srv.Close() }()
	})
	return &simEnv{Server: srv, URL: srv.URL(), CAFile: srv.CAFile(), Tenant: srv.Tenant(), IdP: srv.Identity(), Domain: srv.Tenant().Domain}
}

// conn is a connection to the simulator with the product's public client.
func (s *simEnv) conn(redirect string) storage.Connection {
	return storage.Connection{
		ID: storage.NewID(), Name: "Sim " + storage.NewID()[:6], SourceType: storage.SourceMicrosoft365, Cloud: "Custom",
		TokenEndpoint:         s.URL + "/common/oauth2/v2.0/token",
		AuthorizationEndpoint: s.URL + "/common/oauth2/v2.0/authorize",
		ClientID:              tenant.DefaultClientID,
		RedirectURI:           redirect,
		AuthFlow:              storage.FlowAuthorizationCode,
		GraphEndpoint:         s.URL,
		CACertFile:            s.CAFile,
	}
}

// registerRedirect adds a redirect URI to the product's app registration.
func (s *simEnv) registerRedirect(uri string) {
	s.Tenant.Lock()
	defer s.Tenant.Unlock()
	for _, a := range s.Tenant.Apps {
		if a.AppID == tenant.DefaultClientID {
			a.RedirectURIs = append(a.RedirectURIs, uri)
		}
	}
}

func (s *simEnv) admin() string { return tenant.AdminLocalPart + "@" + s.Domain }
func (s *simEnv) user() string  { return tenant.UserLocalPart + "@" + s.Domain }

// ---- the keyring and the configuration ----

type store struct {
	service string
	secrets storage.Secrets
	config  *storage.ConfigStore
	dir     string
}

// newStore is the real keyring under a service name of the test's own and
// a configuration holding conn.
func newStore(t *testing.T, conns ...storage.Connection) *store {
	t.Helper()
	testenv.Keyring(t)
	service := "inventory-beacon-authtest-" + storage.NewID()
	s := &store{service: service, secrets: storage.NewKeyring(service, 10*time.Second), dir: t.TempDir()}
	s.config = storage.NewConfigStore(s.dir)
	cfg := &storage.Config{Version: storage.ConfigVersion, Connections: conns}
	if err := s.config.Save(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, c := range conns {
			for _, k := range storage.AllSecretKinds {
				_ = s.secrets.Delete(c.ID, k)
			}
		}
	})
	return s
}

// keep stores a sign-in as the product does on Save or in `beacon
// generate` (service.StoreSignIn, above auth): the refresh token in the
// keyring, its description in the connection.
func (s *store) keep(t *testing.T, connID string, res *Result) {
	t.Helper()
	if err := s.secrets.Set(connID, storage.SecretRefreshToken, res.RefreshToken()); err != nil {
		t.Fatal(err)
	}
	err := s.config.Update(func(c *storage.Config) error {
		for i := range c.Connections {
			if c.Connections[i].ID == connID {
				c.Connections[i].Token = &res.Info
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// simClient is a connection's HTTP client as these tests need it: the
// simulator's CA (CACertFile) and, when the proxy is on, the proxy with
// its Basic credentials. The product builds it in service.HTTPClient,
// which auth cannot import (service stands above auth); what that client
// adds (a proxy's refusal as ErrProxyAuth, no environment proxy) is tested
// in service.
func simClient(conn storage.Connection, proxyPassword string) (*http.Client, error) {
	tr := &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12}}
	if conn.CACertFile != "" {
		pem, err := os.ReadFile(conn.CACertFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no certificate in %s", conn.CACertFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	if conn.Proxy.Enabled {
		pu, err := url.Parse(conn.Proxy.Server)
		if err != nil {
			return nil, err
		}
		pu.User = url.UserPassword(conn.Proxy.Username, proxyPassword)
		tr.Proxy = http.ProxyURL(pu)
	}
	return &http.Client{Transport: tr}, nil
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
