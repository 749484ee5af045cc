// Package testenv finds the real parts tests run against: the Secret Service
// keyring (the Credential Manager on Windows), an X display, Chromium and a tinyproxy proxy with Basic
// authentication.
//
// Inside scripts/session.sh (which `make test` uses) BEACON_REQUIRE_REAL=1 is
// set, and a missing part fails the test. Elsewhere (a plain `go test` on a
// developer's laptop) the test is skipped and says what it needed.
package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

var probeSeq atomic.Int64

// Required reports whether missing real parts must fail tests.
func Required() bool { return os.Getenv("BEACON_REQUIRE_REAL") == "1" }

func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("%s (run the tests through `make test`, which provides it)", msg)
	}
	t.Skipf("%s; run `make test` to provide it", msg)
}

// Keyring makes sure the platform's keyring answers: the Secret Service on
// the session bus, or on Windows and macOS the Credential Manager and the
// Keychain, which need no bus (the Windows stage, scripts/test-windows.sh,
// runs the keyring tests against Wine's Credential Manager).
func Keyring(t testing.TB) {
	t.Helper()
	if runtime.GOOS != "windows" && runtime.GOOS != "darwin" && os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		missing(t, "no D-Bus session bus")
		return
	}
	done := make(chan error, 1)
	go func() {
		// A name of its own per probe: tests probing at once (t.Parallel,
		// and the packages `go test ./...` runs side by side) deleted each
		// other's probe with a shared one, and failed at random with
		// "secret not found" (issue 8).
		const svc = "inventory-beacon-testenv-probe"
		user := fmt.Sprintf("probe-%d-%d", os.Getpid(), probeSeq.Add(1))
		if err := keyring.Set(svc, user, "x"); err != nil {
			done <- err
			return
		}
		done <- keyring.Delete(svc, user)
	}()
	select {
	case err := <-done:
		if err != nil {
			missing(t, "the keyring (%s) does not work: %v", keyringName(), err)
		}
	case <-time.After(10 * time.Second):
		missing(t, "the keyring (%s) did not answer in 10 s", keyringName())
	}
}

// keyringName names the platform's keyring in a skip or failure message.
func keyringName() string {
	switch runtime.GOOS {
	case "windows":
		return "Credential Manager"
	case "darwin":
		return "Keychain"
	}
	return "Secret Service"
}

// Display returns the X display to use.
func Display(t testing.TB) string {
	t.Helper()
	d := os.Getenv("DISPLAY")
	if d == "" {
		missing(t, "no X display (DISPLAY is empty)")
	}
	return d
}

// Chromium returns the path of a Chromium (or Chrome) binary.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missing(t, "no chromium binary on PATH")
	return ""
}

// ChromiumFlags are the flags headless Chromium needs on a machine with no
// network and running as root.
var ChromiumFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
	"--no-first-run", "--disable-background-networking",
	"--disable-component-update", "--disable-sync",
}

// Proxy is a running tinyproxy.
type Proxy struct {
	Addr     string // 127.0.0.1:port
	URL      string // http://127.0.0.1:port
	LogFile  string
	Username string
	Password string
}

// StartProxy starts tinyproxy on a free loopback port. With a non-empty
// user, clients must authenticate with Basic credentials. The proxy stops
// when the test ends.
func StartProxy(t testing.TB, user, password string) *Proxy {
	t.Helper()
	bin, err := exec.LookPath("tinyproxy")
	if err != nil {
		missing(t, "tinyproxy is not installed")
		return nil
	}
	dir := t.TempDir()
	port := FreePort(t)
	p := &Proxy{
		Addr:     net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		LogFile:  filepath.Join(dir, "tinyproxy.log"),
		Username: user, Password: password,
	}
	p.URL = "http://" + p.Addr
	conf := fmt.Sprintf("Port %d\nListen 127.0.0.1\nTimeout 60\nMaxClients 200\nLogLevel Info\nLogFile %q\nPidFile %q\n",
		port, p.LogFile, filepath.Join(dir, "tinyproxy.pid"))
	if user != "" {
		conf += fmt.Sprintf("BasicAuth %s %s\n", user, password)
	}
	confPath := filepath.Join(dir, "tinyproxy.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-d", "-c", confPath)
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start tinyproxy: %v", err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", p.Addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return p
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(p.LogFile)
			t.Fatalf("tinyproxy did not listen on %s: %v\n%s", p.Addr, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
