package auth

// End-to-end harness: the simulator's identity platform as Microsoft, one
// real headless Chromium per test run driven through $BROWSER by
// auth/internal/browserdriver, the real Secret Service keyring and the real
// configuration store.

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
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
	stopBrowser()
	os.Exit(code)
}

// ---- the browser ----

type driverReport struct{ URL, Text, Err string }

var (
	browserOnce  sync.Once
	browserErr   error
	browserWS    string
	driverBin    string
	browserProc  *exec.Cmd
	browserStdin interface{ Close() error }
	reportURL    string
	reports      = make(chan driverReport, 8)
	browserDir   string
)

func startBrowser(chromium string) error {
	dir, err := os.MkdirTemp("", "beacon-auth-e2e-")
	if err != nil {
		return err
	}
	browserDir = dir
	driverBin = filepath.Join(dir, "browserdriver")
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	build := exec.Command(goBin, "build", "-o", driverBin, "github.com/inventorybeacon/beacon/auth/internal/browserdriver")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build the browser driver: %v\n%s", err, out)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		reports <- driverReport{URL: r.PostForm.Get("url"), Text: r.PostForm.Get("text"), Err: r.PostForm.Get("error")}
	}))
	reportURL = srv.URL
	cmd := exec.Command(driverBin, "launch")
	cmd.Env = append(os.Environ(), "BEACON_DRIVER_CHROMIUM="+chromium)
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	browserProc, browserStdin = cmd, in
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return fmt.Errorf("chromium did not start: %v", err)
	}
	browserWS = strings.TrimSpace(line)
	return nil
}

func stopBrowser() {
	if browserProc != nil {
		browserStdin.Close()
		_ = browserProc.Wait()
	}
	if browserDir != "" {
		os.RemoveAll(browserDir)
	}
}

// useBrowser points $BROWSER at the driver, which will play script.
func useBrowser(t *testing.T, script string) {
	t.Helper()
	chromium := testenv.Chromium(t)
	browserOnce.Do(func() { browserErr = startBrowser(chromium) })
	if browserErr != nil {
		t.Fatal(browserErr)
	}
	for len(reports) > 0 { // a previous test's late report
		<-reports
	}
	t.Setenv("BROWSER", driverBin)
	t.Setenv("BEACON_DRIVER_WS", browserWS)
	t.Setenv("BEACON_DRIVER_REPORT", reportURL)
	t.Setenv("BEACON_DRIVER_SCRIPT", script)
}

func waitReport(t *testing.T) driverReport {
	t.Helper()
	select {
	case r := <-reports:
		return r
	case <-time.After(90 * time.Second): // bounds a broken test only
		t.Fatal("the browser driver never reported")
		return driverReport{}
	}
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

// signInScript picks the account, types its password and accepts.
func signInScript(upn, password string, last ...string) string {
	steps := []string{"pick=" + upn, "type=#password=" + password, "click=#signin"}
	return strings.Join(append(steps, last...), ";")
}

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
