//go:build linux

package soak

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/internal/testcert"
	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
)

const productScope = "offline_access openid profile https://graph.microsoft.com/Directory.Read.All https://graph.microsoft.com/Reports.Read.All"

// TestSecretsAtRestAndInLogs runs `beacon execute` end to end with a
// Client Credentials connection through a proxy that wants a password, a
// delegated connection whose refresh token rotates, and two certificate
// connections set up by `beacon connection add` (a PFX whose password is
// read from a file, a key kept in the keyring), then searches every
// file the app wrote (configuration folder with the database, its WAL and
// lock files; the private TMPDIR; the captured stdout and stderr) and the
// processes' command lines for every secret: 0 hits. The configuration is
// 0600 and its folder 0700.
func TestSecretsAtRestAndInLogs(t *testing.T) {
	keys := realKeyring(t)
	rnd := make([]byte, 12)
	_, _ = rand.Read(rnd)
	proxyPassword := "pxy-" + hex.EncodeToString(rnd)
	proxy := testenv.StartProxy(t, "beacon", proxyPassword)
	if proxy == nil {
		return
	}
	sim, err := m365sim.Start(m365sim.Options{Users: 500, Seed: 5, SingleUseRefreshTokens: true, RefreshGrace: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	root := t.TempDir()
	dir, tmp := filepath.Join(root, "config"), filepath.Join(root, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	cc := ccConnection(t, dir, sim, keys, "Through Proxy")
	cc.Proxy = storage.Proxy{Enabled: true, Server: proxy.URL, Username: "beacon", HasPassword: true}
	if err := keys.Set(cc.ID, storage.SecretProxyPassword, proxyPassword); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = keys.Delete(cc.ID, storage.SecretProxyPassword) })

	upn := tenant.AdminLocalPart + "@" + sim.Tenant().Domain
	rt, err := sim.Identity().IssueRefreshToken(tenant.DefaultClientID, upn, productScope)
	if err != nil {
		t.Fatal(err)
	}
	deleg := storage.Connection{ID: storage.NewID(), Name: "Delegated", SourceType: storage.SourceMicrosoft365, Cloud: "Custom",
		TokenEndpoint: sim.TokenEndpoint(), ClientID: tenant.DefaultClientID, AuthFlow: storage.FlowAuthorizationCode,
		RedirectURI: "http://localhost", GraphEndpoint: sim.GraphEndpoint(),
		Token: &storage.TokenInfo{ObtainedAt: time.Now(), Account: upn}}
	if err := keys.Set(deleg.ID, storage.SecretRefreshToken, rt); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = keys.Delete(deleg.ID, storage.SecretRefreshToken) })
	cs := storage.NewConfigStore(dir)
	if err := cs.Update(func(c *storage.Config) error {
		c.Connections[0] = cc
		c.Connections = append(c.Connections, deleg)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, clientSecret := sim.ClientCredentialsApp()

	// Certificate connections, made by `beacon connection add` as a
	// provisioning script would: a PFX whose password comes from a file
	// (kept in the keyring), and a PEM whose key is kept in the keyring.
	// Their files live outside the scanned folders: they hold the key by
	// design.
	now := clock.Now()
	cert := testcert.New("Beacon soak", 0, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	if _, err := sim.RegisterCertificate(cert.CER()); err != nil {
		t.Fatal(err)
	}
	certPassword := "pfx-" + hex.EncodeToString(rnd)
	files := t.TempDir()
	pfx, pemFile, pwFile := filepath.Join(files, "daemon.pfx"), filepath.Join(files, "daemon.pem"), filepath.Join(files, "pfx-password.txt")
	for f, data := range map[string][]byte{pfx: cert.PFX(certPassword), pemFile: cert.PEM(), pwFile: []byte(certPassword + "\n")} {
		if err := os.WriteFile(f, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	certArgs := []string{"--auth-flow", "client-credentials", "--token-endpoint", sim.TokenEndpoint(), "--client-id", cc.ClientID,
		"--cloud", "Custom", "--graph-endpoint", sim.GraphEndpoint(), "--redirect-uri", "http://localhost"}
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.Key)
	if err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	var logs bytes.Buffer
	var cmdlines []string
	var mu sync.Mutex
	runs := 0
	for _, args := range [][]string{
		append([]string{"connection", "add", "Cert PFX", "--certificate-file", pfx, "--certificate-password-file", pwFile}, certArgs...),
		append([]string{"connection", "add", "Cert Keyring", "--certificate-file", pemFile, "--certificate-to-keyring"}, certArgs...),
		{"execute", cc.Name}, {"execute", deleg.Name}, {"execute", deleg.Name}, {"execute", "Cert PFX"}, {"execute", "Cert Keyring"},
		{"list"}, {"connection", "show", "Cert PFX"}, {"connection", "export"}, {"export", "--help"}} {
		cmd := beaconCmd(ctx, t, dir, tmp, args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { // sample the process's arguments while it runs
			for {
				if b, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/cmdline"); err == nil {
					mu.Lock()
					cmdlines = append(cmdlines, string(b))
					mu.Unlock()
				}
				select {
				case <-done:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		err := cmd.Wait()
		close(done)
		runs++
		logs.WriteString(out.String())
		if err != nil && (args[0] == "execute" || args[0] == "connection") {
			t.Fatalf("beacon %v: %v\n%s", args, err, out.String())
		}
	}
	rotated, err := keys.Get(deleg.ID, storage.SecretRefreshToken)
	if err != nil || rotated == rt {
		t.Fatalf("the refresh token did not rotate: %v", err)
	}
	secrets := map[string]string{
		"client secret":           clientSecret,
		"proxy password":          proxyPassword,
		"proxy Basic credentials": base64.StdEncoding.EncodeToString([]byte("beacon:" + proxyPassword)),
		"issued refresh token":    rt,
		"rotated refresh token":   rotated,
		"certificate password":    certPassword,
		// A run of the key's base64 (PEM or keyring text) and its bytes.
		"private key (PEM)": base64.StdEncoding.EncodeToString(keyDER)[64:128],
		"private key (DER)": string(keyDER[40:80]),
	}
	t.Cleanup(func() {
		if cfg, err := cs.Load(); err == nil {
			for _, c := range cfg.Connections {
				_ = keys.Delete(c.ID, storage.SecretCertificatePassword)
				_ = keys.Delete(c.ID, storage.SecretCertificateKey)
			}
		}
	})
	hits, scanned := 0, 0
	search := func(where string, data []byte) {
		for name, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				hits++
				t.Errorf("%s holds the %s", where, name)
			}
		}
	}
	for _, top := range []string{dir, tmp} {
		_ = filepath.Walk(top, func(p string, fi os.FileInfo, err error) error {
			if err != nil || fi.IsDir() {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				t.Errorf("read %s: %v", p, err)
				return nil
			}
			scanned++
			search(p, data)
			return nil
		})
	}
	search("the captured logs", logs.Bytes())
	mu.Lock()
	search("a process's command line", []byte(strings.Join(cmdlines, "\n")))
	nCmd := len(cmdlines)
	mu.Unlock()
	fi, err := os.Stat(cs.Path())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("config file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	di, err := os.Stat(dir)
	if err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("config folder mode %v, %v; want 0700", di.Mode().Perm(), err)
	}
	var modes []string
	_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			modes = append(modes, filepath.Base(p)+"="+fi.Mode().Perm().String())
		}
		return nil
	})
	figure(t, "secrets", "processes=%d files-scanned=%d log-bytes=%d cmdline-samples=%d secrets=%d hits=%d config=%v folder=%v files=%v",
		runs, scanned, logs.Len(), nCmd, len(secrets), hits, fi.Mode().Perm(), di.Mode().Perm(), modes)
}
