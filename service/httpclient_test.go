package service

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inventorybeacon/beacon/storage"
)

func TestHTTPClientProxySettings(t *testing.T) {
	conn := storage.Connection{Proxy: storage.Proxy{Enabled: true, Server: "10.0.0.5:3128", Username: "alice", HasPassword: true}}
	c, err := HTTPClient(conn, nil, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	tr := c.Transport.(*proxyAuthTransport).base
	req, _ := http.NewRequest(http.MethodGet, "https://graph.microsoft.com/v1.0/users", nil)
	pu, err := tr.Proxy(req)
	if err != nil || pu.Scheme != "http" || pu.Host != "10.0.0.5:3128" || pu.User.Username() != "alice" {
		t.Fatalf("proxy %v %v", pu, err)
	}
	if p, _ := pu.User.Password(); p != "s3cret" {
		t.Fatal("proxy password not passed to the transport")
	}
	if strings.Contains(pu.Redacted(), "s3cret") {
		t.Fatal("the redacted proxy URL shows the password")
	}
	// Proxy off: no proxy at all, whatever the environment says.
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:1")
	c, _ = HTTPClient(storage.Connection{}, nil, "")
	if c.Transport.(*proxyAuthTransport).base.Proxy != nil {
		t.Fatal("the environment's proxy leaked in")
	}
	if _, err := HTTPClient(storage.Connection{Proxy: storage.Proxy{Enabled: true, Server: "ftp://x:1"}}, nil, ""); err == nil {
		t.Fatal("a bad proxy address was accepted")
	}
}

func TestHTTPClientCACertFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := HTTPClient(storage.Connection{CACertFile: filepath.Join(dir, "missing.pem")}, nil, ""); err == nil || !strings.Contains(err.Error(), "missing.pem") {
		t.Fatalf("missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := HTTPClient(storage.Connection{CACertFile: bad}, nil, ""); err == nil || !strings.Contains(err.Error(), "BEGIN CERTIFICATE") {
		t.Fatalf("bad file: %v", err)
	}
}

func TestProxyBasicChallengeOnlyBasic(t *testing.T) {
	mk := func(status int, challenge string) *http.Response {
		return &http.Response{StatusCode: status, Header: http.Header{"Www-Authenticate": {challenge}}}
	}
	if !proxyBasicChallenge(mk(401, `Basic realm="Tinyproxy"`)) {
		t.Fatal("tinyproxy's refusal not recognised")
	}
	if proxyBasicChallenge(mk(401, `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"`)) {
		t.Fatal("Graph's Bearer challenge taken for the proxy")
	}
}
