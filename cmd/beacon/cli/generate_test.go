package cli

// End-to-end tests of `beacon generate` against the simulator, with the
// real keyring and one real headless Chromium (testenv.UseBrowser).
// Helpers carry a gen prefix: the package's other test files are not ours.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
)

// genSetup starts the simulator and writes a configuration with one
// connection to it; the command's keyring is a service of the test's own.
func genSetup(t *testing.T, tls bool, redirect func(simURL string) string) (*m365sim.Server, storage.Connection, string, storage.Secrets) {
	t.Helper()
	testenv.Keyring(t)
	sim, err := m365sim.Start(m365sim.Options{Users: 20, Seed: 3, TLS: tls})
	if err != nil {
		t.Fatal(err)
	}
	// Close waits up to 2 s for Chromium's idle connections: in the
	// background, the process exit ends it at the latest.
	t.Cleanup(func() { go sim.Close() })
	conn := storage.Connection{
		ID: storage.NewID(), Name: "Contoso Sim", SourceType: storage.SourceMicrosoft365, Cloud: "Custom",
		TokenEndpoint: sim.URL() + "/common/oauth2/v2.0/token", AuthorizationEndpoint: sim.URL() + "/common/oauth2/v2.0/authorize",
		ClientID: tenant.DefaultClientID, RedirectURI: redirect(sim.URL()), AuthFlow: storage.FlowAuthorizationCode,
		GraphEndpoint: sim.URL(), CACertFile: sim.CAFile(),
	}
	dir := t.TempDir()
	if err := storage.NewConfigStore(dir).Save(&storage.Config{Version: storage.ConfigVersion, Connections: []storage.Connection{conn}}); err != nil {
		t.Fatal(err)
	}
	service := "inventory-beacon-clitest-" + storage.NewID()
	secrets := storage.NewKeyring(service, 10*time.Second)
	old := generateKeyring
	generateKeyring = func() storage.Secrets { return secrets }
	t.Cleanup(func() {
		generateKeyring = old
		for _, k := range storage.AllSecretKinds {
			_ = secrets.Delete(conn.ID, k)
		}
	})
	return sim, conn, dir, secrets
}

func genSignIn(domain string, last ...string) string {
	return testenv.SignInScript(tenant.AdminLocalPart+"@"+domain, tenant.AdminPassword, append([]string{"click=#accept"}, last...)...)
}

// syncBuffer is an output the command writes while the test reads it.
type syncBuffer struct {
	mu   sync.Mutex
	b    bytes.Buffer
	line chan string
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{line: make(chan string, 64)} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Write(p)
	for _, l := range strings.SplitAfter(string(p), "\n") {
		if l != "" {
			select {
			case s.line <- l:
			default:
			}
		}
	}
	return len(p), nil
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func genRun(t *testing.T, dir string, stdin io.Reader, args ...string) (<-chan int, *syncBuffer, *syncBuffer) {
	t.Helper()
	out, errOut := newSyncBuffer(), newSyncBuffer()
	env := &Env{Stdin: stdin, Stdout: out, Stderr: errOut, ConfigDir: dir}
	done := make(chan int, 1)
	go func() { done <- Run(context.Background(), env, args) }()
	return done, out, errOut
}

func genExit(t *testing.T, done <-chan int) int {
	t.Helper()
	select {
	case c := <-done:
		return c
	case <-time.After(120 * time.Second): // bounds a broken test only
		t.Fatal("beacon generate did not finish")
		return -1
	}
}

// `beacon generate NAME` with a loopback Redirect URI: the URL is printed,
// the browser (the driver) signs in, and the token lands in the keyring and
// its description in the configuration.
func TestGenerateLoopback(t *testing.T) {
	sim, conn, dir, secrets := genSetup(t, false, func(string) string { return "http://localhost" })
	testenv.UseBrowser(t, genSignIn(sim.Tenant().Domain, "wait=#result"))
	done, out, errOut := genRun(t, dir, strings.NewReader(""), "generate", "contoso sim", "--timeout", "90s")
	if code := genExit(t, done); code != ExitOK {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if !strings.Contains(out.String(), "/common/oauth2/v2.0/authorize?") || !strings.Contains(out.String(), "Token stored") {
		t.Fatalf("stdout: %s", out)
	}
	rt, err := secrets.Get(conn.ID, storage.SecretRefreshToken)
	if err != nil || rt == "" {
		t.Fatalf("keyring: %v", err)
	}
	if strings.Contains(out.String(), rt) || strings.Contains(errOut.String(), rt) {
		t.Fatal("the refresh token was printed")
	}
	cfg, err := storage.NewConfigStore(dir).Load()
	if err != nil || cfg.Connections[0].Token == nil || cfg.Connections[0].Token.Account != tenant.AdminLocalPart+"@"+sim.Tenant().Domain {
		t.Fatalf("config token: %+v %v", cfg.Connections[0].Token, err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, filepath.Base(storage.NewConfigStore(dir).Path())))
	if bytes.Contains(raw, []byte(rt)) {
		t.Fatal("the refresh token is in the configuration file")
	}
}

// The nativeclient flow from a terminal: --no-browser prints the URL, the
// administrator signs in elsewhere and pastes the final address on stdin.
func TestGeneratePastedAddress(t *testing.T) {
	sim, conn, dir, secrets := genSetup(t, true, func(u string) string { return u + "/common/oauth2/nativeclient" })
	sim.Tenant().Lock()
	for _, a := range sim.Tenant().Apps {
		if a.AppID == tenant.DefaultClientID {
			a.RedirectURIs = append(a.RedirectURIs, conn.RedirectURI)
		}
	}
	sim.Tenant().Unlock()
	driver := testenv.UseBrowser(t, genSignIn(sim.Tenant().Domain, "waiturl=code="))
	stdin, paste := io.Pipe()
	defer paste.Close()
	done, out, errOut := genRun(t, dir, stdin, "generate", "--no-browser", "Contoso Sim")
	// Play the administrator: take the printed URL to "another machine".
	var authURL string
	for authURL == "" {
		select {
		case l := <-out.line:
			if s := strings.TrimSpace(l); strings.HasPrefix(s, "https://") {
				authURL = s
			}
		case c := <-done:
			t.Fatalf("exit %d before the URL: %s %s", c, out, errOut)
		}
	}
	cmd := exec.Command(driver, authURL)
	cmd.Env = os.Environ()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	// The shared browser's driver of an earlier test can report late:
	// paste the answer to this sign-in (its state), as the person would.
	au, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	state := au.Query().Get("state")
	rep := testenv.WaitBrowserReport(t)
	for rep.Err == "" && !strings.Contains(rep.URL, "state="+state) {
		t.Logf("ignoring a report of another sign-in: %.120s", rep.URL)
		rep = testenv.WaitBrowserReport(t)
	}
	if rep.Err != "" {
		t.Fatalf("browser: %s", rep.Err)
	}
	fmt.Fprintf(paste, "   %s   \n", rep.URL)
	if code := genExit(t, done); code != ExitOK {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if rt, err := secrets.Get(conn.ID, storage.SecretRefreshToken); err != nil || rt == "" {
		t.Fatalf("keyring: %v", err)
	}
}

// --device-code prints the user code; the person enters it on the
// verification page and signs in.
func TestGenerateDeviceCode(t *testing.T) {
	sim, conn, dir, secrets := genSetup(t, false, func(string) string { return "http://localhost" })
	done, out, errOut := genRun(t, dir, strings.NewReader(""), "generate", "Contoso Sim", "--device-code")
	codeRE := regexp.MustCompile(`\b([A-Z0-9]{8,9})\b`)
	uriRE := regexp.MustCompile(`(https?://\S+/deviceauth)`)
	var code, uri string
	for code == "" || uri == "" {
		select {
		case l := <-out.line:
			if m := uriRE.FindStringSubmatch(l); m != nil {
				uri = m[1]
			}
			if m := codeRE.FindStringSubmatch(l); m != nil && uri != "" {
				code = m[1]
			}
		case c := <-done:
			t.Fatalf("exit %d before the code: %s %s", c, out, errOut)
		}
	}
	driver := testenv.UseBrowser(t, "type=#otc="+code+";click=#next;"+genSignIn(sim.Tenant().Domain, "wait=#message"))
	cmd := exec.Command(driver, uri)
	cmd.Env = os.Environ()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	if c := genExit(t, done); c != ExitOK {
		rep := testenv.WaitBrowserReport(t)
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s\nbrowser: %s %s", c, out, errOut, rep.Err, rep.Text)
	}
	if rt, err := secrets.Get(conn.ID, storage.SecretRefreshToken); err != nil || rt == "" {
		t.Fatalf("keyring: %v", err)
	}
}

// A pasted address whose state is not ours ends the command with a clear
// error and stores nothing.
func TestGenerateWrongStateRefused(t *testing.T) {
	_, conn, dir, secrets := genSetup(t, false, func(string) string { return tenant.NativeClientRedirect })
	in := strings.NewReader(tenant.NativeClientRedirect + "?code=stolen&state=forged\n")
	done, out, errOut := genRun(t, dir, in, "generate", "Contoso Sim", "--no-browser")
	if c := genExit(t, done); c != ExitFailed {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", c, out, errOut)
	}
	if !strings.Contains(errOut.String(), "state") {
		t.Fatalf("stderr: %s", errOut)
	}
	if _, err := secrets.Get(conn.ID, storage.SecretRefreshToken); err == nil {
		t.Fatal("a token was stored")
	}
}

func TestGenerateUsage(t *testing.T) {
	_, conn, dir, _ := genSetup(t, false, func(string) string { return "http://localhost" })
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"generate", "--help"}, ExitOK, "--device-code"},
		{[]string{"generate"}, ExitUsage, "exactly one connection name"},
		{[]string{"generate", "a", "b"}, ExitUsage, "exactly one connection name"},
		{[]string{"generate", "Nope"}, ExitFailed, `no connection named "Nope"`},
		{[]string{"generate", conn.Name, "--timeout", "-1s"}, ExitUsage, "--timeout"},
		{[]string{"generate", conn.Name, "--bogus"}, ExitUsage, "bogus"},
	}
	for _, c := range cases {
		done, out, errOut := genRun(t, dir, strings.NewReader(""), c.args...)
		if got := genExit(t, done); got != c.code || !strings.Contains(out.String()+errOut.String(), c.want) {
			t.Errorf("%v: exit %d, want %d; output %q %q", c.args, got, c.code, out, errOut)
		}
	}
	// A Client Credentials connection has nothing to generate.
	store := storage.NewConfigStore(dir)
	if err := store.Update(func(cfg *storage.Config) error {
		cfg.Connections[0].AuthFlow = storage.FlowClientCredentials
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	done, _, errOut := genRun(t, dir, strings.NewReader(""), "generate", conn.Name)
	if got := genExit(t, done); got != ExitUsage || !strings.Contains(errOut.String(), "Client Credentials") {
		t.Fatalf("client credentials: exit %d %q", got, errOut)
	}
}

// genFlakyKeyring is the real keyring whose first Set fails as a locked
// collection's would.
type genFlakyKeyring struct {
	storage.Secrets
	fail int
}

func (k *genFlakyKeyring) Set(id string, kind storage.SecretKind, v string) error {
	if k.fail > 0 {
		k.fail--
		return storage.ErrKeyringLocked
	}
	return k.Secrets.Set(id, kind, v)
}

// A keyring that refuses the token keeps the sign-in: Enter retries.
func TestGenerateKeyringRetry(t *testing.T) {
	sim, conn, dir, secrets := genSetup(t, false, func(string) string { return "http://localhost" })
	flaky := &genFlakyKeyring{Secrets: secrets, fail: 1}
	generateKeyring = func() storage.Secrets { return flaky }
	testenv.UseBrowser(t, genSignIn(sim.Tenant().Domain, "wait=#result"))
	stdin, enter := io.Pipe()
	defer enter.Close()
	done, out, errOut := genRun(t, dir, stdin, "generate", conn.Name)
	for {
		select {
		case l := <-errOut.line:
			if strings.Contains(l, "Press Enter to try again") {
				fmt.Fprintln(enter)
				if c := genExit(t, done); c != ExitOK {
					t.Fatalf("exit %d\nstdout: %s\nstderr: %s", c, out, errOut)
				}
				if rt, err := secrets.Get(conn.ID, storage.SecretRefreshToken); err != nil || rt == "" {
					t.Fatalf("keyring after retry: %v", err)
				}
				return
			}
		case c := <-done:
			t.Fatalf("exit %d without offering a retry\nstdout: %s\nstderr: %s", c, out, errOut)
		}
	}
}
