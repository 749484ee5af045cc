package service

// The HTTP client of a connection, built in this one place for every
// request a connection makes: the sign-in (window and CLI), Test
// Connection, imports and the scheduler. It lives in service, not in auth,
// because it is about the connection's network settings (proxy, proxy
// password from the keyring, CA file), not about OAuth; auth takes the
// client it is given.

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/inventorybeacon/beacon/auth"
	"github.com/inventorybeacon/beacon/internal/msendpoint"
	"github.com/inventorybeacon/beacon/internal/timeouts"
	"github.com/inventorybeacon/beacon/storage"
)

// HTTPClient is the client every request of a saved connection goes
// through (token endpoint and Graph alike): its proxy with the Basic
// credentials, and the extra root certificates of its CACertFile. The
// proxy password is typedProxyPassword when the dialog has one not saved
// yet, else the keyring's SecretProxyPassword read from secrets.
//
// The client never follows the process's HTTP_PROXY variables: the
// connection's settings are the only source of truth, so what the dialog
// shows is what happens.
func HTTPClient(conn storage.Connection, secrets storage.Secrets, typedProxyPassword string) (*http.Client, error) {
	proxyPassword := typedProxyPassword
	if proxyPassword == "" && conn.Proxy.Enabled && conn.Proxy.HasPassword && secrets != nil {
		var err error
		if proxyPassword, err = secrets.Get(conn.ID, storage.SecretProxyPassword); err != nil {
			return nil, fmt.Errorf("the saved proxy password could not be read from the keyring: %w", err)
		}
	}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: (&net.Dialer{
			Timeout:   timeouts.Scale(30 * time.Second),
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          20,
		MaxIdleConnsPerHost:   10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeouts.Scale(15 * time.Second),
		ResponseHeaderTimeout: timeouts.Scale(2 * time.Minute),
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
	}
	if conn.Proxy.Enabled {
		pu, err := msendpoint.ParseProxyServer(conn.Proxy.Server)
		if err != nil {
			return nil, fmt.Errorf("proxy server %q: %w", conn.Proxy.Server, err)
		}
		if user := strings.TrimSpace(conn.Proxy.Username); user != "" {
			// The transport sends Proxy-Authorization: Basic from the
			// URL's user info, for plain requests and CONNECT alike. The
			// URL is never logged or shown (url.Redacted hides it).
			pu.User = url.UserPassword(user, proxyPassword)
		}
		tr.Proxy = http.ProxyURL(pu)
	}
	if conn.CACertFile != "" {
		pem, err := os.ReadFile(conn.CACertFile)
		if err != nil {
			return nil, fmt.Errorf("read the CA certificate file %s: %w", conn.CACertFile, err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("the CA certificate file %s holds no PEM certificate: give a file with -----BEGIN CERTIFICATE----- blocks", conn.CACertFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return &http.Client{Transport: &proxyAuthTransport{base: tr, proxied: conn.Proxy.Enabled}}, nil
}

// proxyAuthTransport turns a proxy's 407 into auth.ErrProxyAuth (which
// auth.Guidance explains). Without it a
// plain-http request through the proxy would hand the proxy's HTML page to
// the JSON decoder, and a CONNECT failure would read "407 Proxy
// Authentication Required" with no hint of which setting is wrong.
type proxyAuthTransport struct {
	base    *http.Transport
	proxied bool
}

func (t *proxyAuthTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.proxied && r.URL.Scheme == "http" && r.Body != nil && r.Body != http.NoBody && r.Header.Get("Expect") == "" {
		// A proxy refusing credentials answers 407 and closes without
		// reading the body; the unread body then makes the kernel reset the
		// connection, and the 407 is lost. Asking for 100-continue lets the
		// 407 arrive before any body is sent. (https targets use CONNECT,
		// where the refusal comes before the request.)
		r = r.Clone(r.Context())
		r.Header.Set("Expect", "100-continue")
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		// A refused CONNECT comes back as an error carrying the status
		// text: 407, or 401 from proxies (tinyproxy) that answer so.
		msg := err.Error()
		if strings.Contains(msg, "Proxy Authentication Required") ||
			(t.proxied && r.URL.Scheme == "https" && strings.HasSuffix(msg, "Unauthorized")) {
			return nil, auth.ErrProxyAuth
		}
		return nil, err
	}
	if resp.StatusCode == http.StatusProxyAuthRequired || (t.proxied && r.URL.Scheme == "http" && proxyBasicChallenge(resp)) {
		resp.Body.Close()
		return nil, auth.ErrProxyAuth
	}
	return resp, nil
}

// proxyBasicChallenge recognises a proxy that refuses credentials with 401
// and a Basic challenge (tinyproxy does). Microsoft's endpoints never ask
// for Basic authentication, so through a proxy this can only be the proxy.
func proxyBasicChallenge(resp *http.Response) bool {
	if resp.StatusCode != http.StatusUnauthorized {
		return false
	}
	for _, v := range resp.Header.Values("WWW-Authenticate") {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), "basic") {
			return true
		}
	}
	return false
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport.
func (t *proxyAuthTransport) CloseIdleConnections() { t.base.CloseIdleConnections() }
