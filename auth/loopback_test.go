package auth

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/storage"
)

// offlineConn is a connection whose endpoints are never reached: the tests
// using it end before any code exchange.
func offlineConn(redirect string) storage.Connection {
	return storage.Connection{
		ID: storage.NewID(), Name: "Contoso", AuthFlow: storage.FlowAuthorizationCode,
		AuthorizationEndpoint: "http://127.0.0.1:9/common/oauth2/v2.0/authorize",
		TokenEndpoint:         "http://127.0.0.1:9/common/oauth2/v2.0/token",
		ClientID:              "5bb1a5a2-0d97-4335-9448-119f7b27aff9",
		RedirectURI:           redirect,
		GraphEndpoint:         "https://graph.microsoft.com",
	}
}

func startOffline(t *testing.T, redirect string, opts FlowOptions) *Flow {
	t.Helper()
	f, err := Start(offlineConn(redirect), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

// waitAsync runs Wait in the background so the test can play the browser.
func waitAsync(ctx context.Context, f *Flow) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := f.Wait(ctx)
		done <- err
	}()
	return done
}

// get sends a raw GET so the test controls the Host header.
func get(t *testing.T, addr, host, target string) *http.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, host)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func flowAddr(f *Flow) (addr, host, path, state string) {
	u, _ := url.Parse(f.RedirectURI())
	return net.JoinHostPort("127.0.0.1", u.Port()), u.Host, u.Path, f.state
}

func TestAuthURLCarriesPKCEAndNoSecret(t *testing.T) {
	f := startOffline(t, "http://localhost/cb", FlowOptions{})
	u, err := url.Parse(f.AuthURL())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || q.Get("prompt") != "select_account" || q.Get("response_type") != "code" {
		t.Fatalf("authorize parameters: %v", q)
	}
	if len(q.Get("state")) != 43 { // 32 bytes, base64url
		t.Fatalf("state %q is not 256 bits", q.Get("state"))
	}
	want := "offline_access openid profile https://graph.microsoft.com/Directory.Read.All https://graph.microsoft.com/Reports.Read.All"
	if q.Get("scope") != want {
		t.Fatalf("scope %q", q.Get("scope"))
	}
	if strings.Contains(f.AuthURL(), f.verifier) {
		t.Fatal("the PKCE verifier leaked into the URL shown to the user")
	}
	r, _ := url.Parse(q.Get("redirect_uri"))
	if r.Hostname() != "localhost" || r.Port() == "" || r.Path != "/cb" {
		t.Fatalf("redirect_uri %q must carry the chosen port", q.Get("redirect_uri"))
	}
	if f.NeedsPaste() {
		t.Fatal("a loopback redirect needs no paste")
	}
	g := startOffline(t, "https://login.microsoftonline.com/common/oauth2/nativeclient", FlowOptions{})
	if !g.NeedsPaste() {
		t.Fatal("nativeclient needs the pasted address")
	}
}

// Every attack on the listener ends the flow with a reason and no exchange
// (the offline token endpoint would make any exchange fail differently).
func TestLoopbackFailsClosed(t *testing.T) {
	cases := []struct {
		name   string
		host   func(h string) string
		target func(path, state string) string
		status int
		want   string
	}{
		{"wrong state", nil, func(p, s string) string { return p + "?code=abc&state=forged" }, 400, "state"},
		{"missing state", nil, func(p, s string) string { return p + "?code=abc" }, 400, "state"},
		{"other path", nil, func(p, s string) string { return "/other?code=abc&state=" + s }, 404, "unexpected path"},
		{"foreign host", func(string) string { return "evil.example:80" }, func(p, s string) string { return p + "?code=abc&state=" + s }, 421, "foreign host"},
		{"right name wrong port", func(h string) string { return "localhost:1" }, func(p, s string) string { return p + "?code=abc&state=" + s }, 421, "foreign host"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := startOffline(t, "http://localhost/callback", FlowOptions{})
			done := waitAsync(context.Background(), f)
			addr, host, path, state := flowAddr(f)
			if c.host != nil {
				host = c.host(host)
			}
			resp := get(t, addr, host, c.target(path, state))
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			err := <-done
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("flow error %v, want one about %q", err, c.want)
			}
			if c.name == "wrong state" && !errors.Is(err, ErrStateMismatch) {
				t.Fatalf("%v is not ErrStateMismatch", err)
			}
			if f.used {
				t.Fatal("a code was exchanged")
			}
		})
	}
}

// The first request decides; replays and second callbacks change nothing.
func TestLoopbackOneShot(t *testing.T) {
	f := startOffline(t, "http://127.0.0.1/", FlowOptions{})
	done := waitAsync(context.Background(), f)
	addr, host, path, state := flowAddr(f)
	cancel := path + "?error=access_denied&error_subcode=cancel&error_description=AADSTS65004%3a+User+declined&state=" + state
	resp := get(t, addr, host, cancel)
	if resp.StatusCode != 400 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, h := range []string{"Cache-Control", "Referrer-Policy", "Content-Security-Policy"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("result page lacks %s", h)
		}
	}
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Error(resp.Header)
	}
	body, _ := io.ReadAll(resp.Body)
	for _, external := range []string{"src=", "href=", "<script", "@import", "url("} {
		if strings.Contains(string(body), external) {
			t.Errorf("result page is not self-contained: %q", external)
		}
	}
	err := <-done
	if !errors.Is(err, ErrCancelled) {
		t.Fatalf("flow error %v, want cancelled", err)
	}
	// The listener is gone after the decision: a replay cannot land.
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatal("the listener still accepts connections after the flow ended")
	}
}

// A second request that arrives while the first is being handled is told
// the sign-in has finished and does not change the outcome.
func TestLoopbackSecondCallbackIgnored(t *testing.T) {
	f := startOffline(t, "http://localhost/cb", FlowOptions{})
	addr, host, path, state := flowAddr(f)
	// No Wait yet: the first (forged) request decides and its handler
	// returns at once; the genuine one after it must be refused.
	resp := get(t, addr, host, path+"?code=a&state=bad")
	if resp.StatusCode != 400 {
		t.Fatal(resp.Status)
	}
	resp = get(t, addr, host, path+"?code=a&state="+state)
	if resp.StatusCode != http.StatusGone {
		t.Fatalf("second callback: %s", resp.Status)
	}
	if _, err := f.Wait(context.Background()); !errors.Is(err, ErrStateMismatch) {
		t.Fatal(err)
	}
}

// A client that never finishes its headers is cut off by the read-header
// time-out and does not block the real redirect.
func TestLoopbackSlowloris(t *testing.T) {
	f := startOffline(t, "http://localhost/cb", FlowOptions{ReadHeaderTimeout: 300 * time.Millisecond})
	done := waitAsync(context.Background(), f)
	addr, host, path, state := flowAddr(f)
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "GET %s HTTP/1.1\r\nHost: %s\r\nX-Slow: ", path, host)
	// The server must close the half-sent request on its own; the read
	// deadline only bounds a broken test.
	_ = slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(slow); err != nil {
		t.Fatalf("slow client was not cut off: %v", err)
	}
	resp := get(t, addr, host, path+"?error=access_denied&error_subcode=cancel&state="+state)
	if resp.StatusCode != 400 {
		t.Fatal(resp.Status)
	}
	if err := <-done; !errors.Is(err, ErrCancelled) {
		t.Fatal(err)
	}
}

func TestLoopbackTimeoutAndCancel(t *testing.T) {
	f := startOffline(t, "http://localhost/cb", FlowOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := f.Wait(ctx); !errors.Is(err, ErrTimedOut) {
		t.Fatalf("time-out: %v", err)
	}
	g := startOffline(t, "http://localhost/cb", FlowOptions{})
	ctx, cancel = context.WithCancel(context.Background())
	done := waitAsync(ctx, g)
	cancel()
	if err := <-done; !errors.Is(err, ErrCancelled) {
		t.Fatalf("cancel: %v", err)
	}
}

func TestPortInUse(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	_, err = Start(offlineConn(fmt.Sprintf("http://localhost:%d/", port)), FlowOptions{})
	if !errors.Is(err, ErrPortInUse) {
		t.Fatalf("err %v, want ErrPortInUse", err)
	}
	if !strings.Contains(err.Error(), strconv.Itoa(port)) || !strings.Contains(err.Error(), "without a port") {
		t.Fatalf("the message should name the port and the way out: %v", err)
	}
}

// The listener binds loopback addresses only, checked in the kernel's
// socket table rather than trusting our own listener list.
func TestLoopbackBindsOnlyLoopback(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/net/tcp")
	}
	f := startOffline(t, "http://localhost/cb", FlowOptions{})
	u, _ := url.Parse(f.RedirectURI())
	port, _ := strconv.Atoi(u.Port())
	found := 0
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			fields := strings.Fields(line)
			if len(fields) < 4 || fields[3] != "0A" { // LISTEN
				continue
			}
			local := fields[1]
			i := strings.LastIndex(local, ":")
			p, _ := strconv.ParseUint(local[i+1:], 16, 16)
			if int(p) != port {
				continue
			}
			found++
			switch local[:i] {
			case "0100007F", "00000000000000000000000001000000":
			default:
				t.Errorf("listener on non-loopback address %s", local)
			}
		}
	}
	if found == 0 {
		t.Fatal("listener not found in the socket table")
	}
}

func TestOpenBrowserRefusesOtherSchemes(t *testing.T) {
	for _, u := range []string{"file:///etc/passwd", "javascript:alert(1)", "ftp://x/", "http://"} {
		if err := OpenBrowser(u); err == nil {
			t.Errorf("%q was opened", u)
		}
	}
}
