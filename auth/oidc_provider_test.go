package auth

// Cloud "Custom" against an OpenID provider that is not our simulator:
// zitadel/oidc's example OP (a certified OpenID Connect library), served
// in-process on a real loopback listener. Its login page is a plain HTML
// form, so the test signs in as a browser would with an HTTP client that
// keeps cookies, instead of driving Chromium.

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	zstorage "github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/storage"
)

const (
	zitadelClient   = "beacon-native"
	zitadelRedirect = "http://localhost/auth/callback"
	zitadelPassword = "verysecure"
)

// graphScopes lets the OP's clients ask for Microsoft Graph's scopes (the
// example client allows only its own custom scope).
type graphScopes struct {
	*zstorage.Storage
	allow bool
}

func (s graphScopes) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil || !s.allow {
		return c, err
	}
	return graphClient{c}, nil
}

type graphClient struct{ op.Client }

func (c graphClient) IsScopeAllowed(scope string) bool {
	return strings.HasPrefix(scope, "https://graph.microsoft.com/") || c.Client.IsScopeAllowed(scope)
}

// startZitadel serves the example OP on 127.0.0.1 and returns its issuer.
// allowGraph says whether it grants Graph scopes to the client.
func startZitadel(t *testing.T, allowGraph bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String() + "/"
	st := zstorage.NewStorageWithClients(zstorage.NewUserStore(issuer),
		map[string]*zstorage.Client{zitadelClient: zstorage.NativeClient(zitadelClient, zitadelRedirect)})
	srv := &http.Server{Handler: exampleop.SetupServer(issuer, graphScopes{st, allowGraph}, nil, false), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return issuer
}

func zitadelConn(issuer string) storage.Connection {
	return storage.Connection{ID: storage.NewID(), Name: "Lab", SourceType: storage.SourceMicrosoft365, Cloud: "Custom",
		Issuer: issuer, ClientID: zitadelClient, RedirectURI: zitadelRedirect, AuthFlow: storage.FlowAuthorizationCode,
		GraphEndpoint: "https://graph.microsoft.com", Permissions: "least-privilege", Prompt: "consent"}
}

var loginID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// signInAtZitadel plays the browser: opens the sign-in address, fills in
// the login form and follows the redirects to the app's loopback.
func signInAtZitadel(authURL, user string) error {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: time.Minute}
	resp, err := hc.Get(authURL)
	if err != nil {
		return err
	}
	page := readAll(resp)
	m := loginID.FindStringSubmatch(page)
	if m == nil {
		return errors.New("no login form: " + page)
	}
	form := url.Values{"id": {m[1]}, "username": {user}, "password": {zitadelPassword}}
	resp, err = hc.PostForm(resp.Request.URL.ResolveReference(&url.URL{Path: "/login/username"}).String(), form)
	if err != nil {
		return err
	}
	readAll(resp)
	return nil
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

type memSecrets struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *memSecrets) Get(id string, k storage.SecretKind) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.m[id+string(k)]; ok {
		return v, nil
	}
	return "", storage.ErrSecretNotFound
}

func (s *memSecrets) Set(id string, k storage.SecretKind, v string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.m[id+string(k)] = v
	return nil
}

func (s *memSecrets) Delete(id string, k storage.SecretKind) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id+string(k))
	return nil
}

// providerNow is the OP's clock: it stamps its tokens with the machine's
// time, which a test run's BEACON_CLOCK_SHIFT does not move.
func providerNow() time.Time { return clock.Now().Add(-clock.Shift()) }

// signIn runs Generate... for conn against the OP.
func signIn(t *testing.T, conn storage.Connection, user string) (*Result, *Flow, error) {
	t.Helper()
	f, err := Start(conn, FlowOptions{Now: providerNow})
	if err != nil {
		t.Fatal(err)
	}
	drove := make(chan error, 1)
	go func() { drove <- signInAtZitadel(f.AuthURL(), user) }()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := f.Wait(ctx)
	if derr := <-drove; derr != nil && err == nil {
		t.Fatalf("the browser's side: %v", derr)
	}
	return res, f, err
}

// The endpoints come from the issuer's discovery document, the client ID
// is not a GUID, prompt=consent is sent, the id_token (only sub in it) is
// verified against the issuer's JWKS, the account comes from userinfo, no
// tenant is made up, and a refresh asks for no more than was granted.
func TestCustomOpenIDProvider(t *testing.T) {
	issuer := startZitadel(t, true)
	conn := zitadelConn(issuer)
	host := strings.TrimSuffix(strings.TrimPrefix(issuer, "http://"), "/")
	user := "test-user@" + strings.Split(host, ":")[0]
	res, f, err := signIn(t, conn, user)
	if err != nil {
		t.Fatalf("sign-in: %v", err)
	}
	u, _ := url.Parse(f.AuthURL())
	if !strings.HasPrefix(f.AuthURL(), issuer) || u.Query().Get("prompt") != "consent" || u.Query().Get("client_id") != zitadelClient {
		t.Fatalf("sign-in address %s", f.AuthURL())
	}
	if res.Info.Account != user || res.Info.TenantID != "" || res.RefreshToken() == "" {
		t.Fatalf("result %+v", res.Info)
	}
	if !strings.Contains(res.Info.Scopes, "https://graph.microsoft.com/User.Read.All") {
		t.Fatalf("granted %q", res.Info.Scopes)
	}

	// The refresh: the Token Endpoint is left to the discovery document.
	secrets := &memSecrets{}
	if err := secrets.Set(conn.ID, storage.SecretRefreshToken, res.RefreshToken()); err != nil {
		t.Fatal(err)
	}
	conn.Token = &res.Info
	ts, err := NewTokenSource(TokenSourceOptions{Conn: conn, Secrets: secrets, LockDir: t.TempDir(), Now: providerNow})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ts.TokenContext(context.Background())
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("refresh: %v", err)
	}
	if got := refreshScope(conn); strings.Contains(got, "AuditLog") || !strings.Contains(got, "User.Read.All") {
		t.Fatalf("refresh scope %q", got)
	}
}

// A provider that grants none of the Graph scopes: the sign-in is
// reported, not stored as a success, and the message names the provider.
func TestCustomOpenIDProviderWithoutGraphScopes(t *testing.T) {
	issuer := startZitadel(t, false)
	conn := zitadelConn(issuer)
	host := strings.TrimSuffix(strings.TrimPrefix(issuer, "http://"), "/")
	res, _, err := signIn(t, conn, "test-user@"+strings.Split(host, ":")[0])
	if err == nil || res != nil || !strings.Contains(err.Error(), "without User.Read.All") || !strings.Contains(err.Error(), "The identity provider "+host) {
		t.Fatalf("result %v, error %v", res, err)
	}
}

// A wrong issuer in the discovery document is refused before any browser
// opens.
func TestCustomIssuerMismatch(t *testing.T) {
	issuer := startZitadel(t, true)
	conn := zitadelConn(strings.Replace(issuer, "127.0.0.1", "localhost", 1))
	if _, err := Start(conn, FlowOptions{}); err == nil || !strings.Contains(err.Error(), "names the issuer") {
		t.Fatalf("error %v", err)
	}
}
