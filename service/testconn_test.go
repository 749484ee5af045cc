package service

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/auth"
	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
)

// productScope is what the product's sign-in consents to.
const productScope = "offline_access openid profile https://graph.microsoft.com/Directory.Read.All https://graph.microsoft.com/Reports.Read.All"

// signedInConn starts a simulator (over TLS when tls is set) and returns
// an Authorization Code connection to it whose refresh token, issued as
// if the administrator had signed in, is in secrets.
func signedInConn(t *testing.T, tls bool, secrets storage.Secrets) (storage.Connection, *m365sim.Server) {
	t.Helper()
	_, conn, sim := setupSim(t, m365sim.Options{Users: 20, Seed: 7, TLS: tls})
	upn := tenant.AdminLocalPart + "@" + sim.Tenant().Domain
	rt, err := sim.Identity().IssueRefreshToken(conn.ClientID, upn, productScope)
	if err != nil {
		t.Fatal(err)
	}
	if err := secrets.Set(conn.ID, storage.SecretRefreshToken, rt); err != nil {
		t.Fatal(err)
	}
	conn.CACertFile = sim.CAFile()
	conn.Token = &storage.TokenInfo{ObtainedAt: clock.Now(), Account: upn}
	return conn, sim
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Test Connection for Authorization Code: a refresh and one page of users.
func TestTestConnectionAuthorizationCode(t *testing.T) {
	secrets := &memSecrets{}
	conn, _ := signedInConn(t, false, secrets)
	o := TestOptions{Secrets: secrets, ConfigDir: t.TempDir()}
	r := TestConnection(testCtx(t), conn, o)
	if !r.TokenOK || !r.GraphOK || len(r.Missing) != 0 {
		t.Fatalf("report: %+v\n%s", r, r.Summary())
	}
	if !strings.HasPrefix(r.Summary(), "Connection works") {
		t.Fatal(r.Summary())
	}
	// Without a stored token: re-run Generate.
	other := conn
	other.ID = storage.NewID()
	r = TestConnection(testCtx(t), other, o)
	if r.TokenOK || !errors.Is(r.Err, auth.ErrReauthRequired) || !strings.Contains(r.Summary(), "Generate...") {
		t.Fatalf("no token: %+v", r)
	}
	// Never signed in: answered at once, before the keyring is asked.
	other.Token = nil
	r = TestConnection(testCtx(t), other, TestOptions{ConfigDir: t.TempDir()})
	if r.TokenOK || !errors.Is(r.Err, auth.ErrNotSignedIn) || !strings.Contains(r.Summary(), "Generate...") {
		t.Fatalf("never signed in: %+v", r)
	}
}

// Client Credentials: the client secret from the keyring, the .default
// scope, a tenant-specific endpoint; a wrong secret is explained.
func TestTestConnectionClientCredentials(t *testing.T) {
	_, conn, sim := setupSim(t, m365sim.Options{Users: 20, Seed: 7})
	conn.AuthFlow, conn.RedirectURI = storage.FlowClientCredentials, ""
	conn.ClientID, conn.HasClientSecret = tenant.ConfidentialClientID, true
	secrets := &memSecrets{}
	if err := secrets.Set(conn.ID, storage.SecretClientSecret, tenant.ConfidentialClientSecret); err != nil {
		t.Fatal(err)
	}
	o := TestOptions{Secrets: secrets, ConfigDir: t.TempDir()}
	r := TestConnection(testCtx(t), conn, o)
	if !r.TokenOK || !r.GraphOK || len(r.Missing) != 0 {
		t.Fatalf("report: %+v\n%s", r, r.Summary())
	}
	wrong := o
	wrong.ClientSecret = "not-the-secret"
	r = TestConnection(testCtx(t), conn, wrong)
	var ae *auth.Error
	if r.TokenOK || !errors.As(r.Err, &ae) || ae.Kind() != auth.KindInvalidClient || !strings.Contains(r.Problem, "client secret") {
		t.Fatalf("wrong secret: %+v", r)
	}
	common := conn
	common.TokenEndpoint = sim.URL() + "/common/oauth2/v2.0/token"
	r = TestConnection(testCtx(t), common, o)
	if r.TokenOK || !strings.Contains(r.Problem, "Token Endpoint") {
		t.Fatalf("common endpoint: %+v", r)
	}
}

// Through a real authenticating proxy (tinyproxy), over CONNECT to TLS and
// forwarding plain http: the right password signs in and reads Graph, the
// proxy saw the requests and never logs the password; a wrong one is the
// proxy's refusal in plain words (ErrProxyAuth), whichever way the proxy
// says it, and the stored refresh token is kept.
func TestTestConnectionThroughProxy(t *testing.T) {
	for _, tls := range []bool{true, false} {
		t.Run(map[bool]string{true: "https via CONNECT", false: "http forwarded"}[tls], func(t *testing.T) {
			const user, pass = "beacon", "ProxyPass2026"
			p := testenv.StartProxy(t, user, pass)
			secrets := &memSecrets{}
			conn, sim := signedInConn(t, tls, secrets)
			conn.Proxy = storage.Proxy{Enabled: true, Server: p.URL, Username: user, HasPassword: true}
			if err := secrets.Set(conn.ID, storage.SecretProxyPassword, pass); err != nil {
				t.Fatal(err)
			}
			o := TestOptions{Secrets: secrets, ConfigDir: t.TempDir()}
			if r := TestConnection(testCtx(t), conn, o); !r.TokenOK || !r.GraphOK {
				t.Fatalf("through the proxy: %+v\n%s", r, r.Summary())
			}
			raw, err := os.ReadFile(p.LogFile)
			if err != nil {
				t.Fatal(err)
			}
			log := string(raw)
			want := "/oauth2/v2.0/token"
			if tls {
				want = "CONNECT " + strings.TrimPrefix(sim.URL(), "https://")
			}
			if !strings.Contains(log, want) {
				t.Fatalf("the token request did not go through the proxy; its log:\n%s", log)
			}
			if strings.Contains(log, pass) {
				t.Fatal("the proxy password appears in the proxy's log")
			}
			stored, _ := secrets.Get(conn.ID, storage.SecretRefreshToken)
			o.ProxyPassword = "wrong-password" // typed in the dialog, not saved
			r := TestConnection(testCtx(t), conn, o)
			if r.TokenOK || !errors.Is(r.Err, auth.ErrProxyAuth) || !strings.Contains(r.Problem, "Proxy Settings") {
				t.Fatalf("wrong proxy password: %+v", r)
			}
			if strings.Contains(r.Summary(), "wrong-password") {
				t.Fatal("the report shows the proxy password")
			}
			if now, _ := secrets.Get(conn.ID, storage.SecretRefreshToken); now != stored {
				t.Fatal("a refused refresh changed the stored token")
			}
		})
	}
}

// A proxy that answers Graph's first users with a page that never ends
// (a captive portal's, a filter's) is reported in plain words, naming the
// endpoint and what to check, once 1 MB has come: not streamed until the
// timeout, nor "could not reach".
func TestTestConnectionEndlessGraphAnswer(t *testing.T) {
	secrets := &memSecrets{}
	conn, _ := signedInConn(t, false, secrets)
	var sent atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/v1.0/users") {
			testenv.WriteEndless(w, r, `{"value":[{"id":"`, &sent)
			return
		}
		r.RequestURI = "" // forwarded: the sign-in goes through
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	defer proxy.Close()
	conn.Proxy = storage.Proxy{Enabled: true, Server: proxy.URL}
	r := TestConnection(testCtx(t), conn, TestOptions{Secrets: secrets, ConfigDir: t.TempDir()})
	if !r.TokenOK || r.GraphOK {
		t.Fatalf("report: %+v\n%s", r, r.Summary())
	}
	for _, want := range []string{conn.GraphEndpoint + "/v1.0/users sent", "1 MB or more", "Check the Graph Endpoint address and the proxy settings"} {
		if !strings.Contains(r.Problem, want) {
			t.Errorf("the problem %q lacks %q", r.Problem, want)
		}
	}
	if strings.Contains(r.Problem, "could not reach") {
		t.Errorf("the problem says the endpoint was not reached: %q", r.Problem)
	}
	if n := sent.Load(); n > 64<<20 {
		t.Errorf("the endless answer sent %d bytes before Test Connection stopped reading", n)
	}
}
