package testenv

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// The sign-in end-to-end tests (auth, cmd/beacon/cli, ui) play the
// administrator in one real headless Chromium per test binary, driven
// through $BROWSER by auth/internal/browserdriver: the driver is built and
// Chromium started at the first UseBrowser, and reused after.

// driverPackage is built by path, not imported: it is a command, and
// testenv imports no product package.
const driverPackage = "github.com/inventorybeacon/beacon/auth/internal/browserdriver"

// BrowserReport is where the driver's script ended: the page's address and
// text, or the error that stopped it.
type BrowserReport struct{ URL, Text, Err string }

var browser struct {
	once    sync.Once
	err     error
	dir     string
	driver  string
	ws      string // Chromium's DevTools websocket
	report  string // the address the driver posts its report to
	reports chan BrowserReport
	proc    *exec.Cmd
	// stdin keeps the launcher's stdin open: Chromium lives while it is
	// (a dropped pipe would be closed by its finalizer, and Chromium with
	// it), and ends when the test process exits at the latest.
	stdin io.WriteCloser
}

// UseBrowser points $BROWSER at the driver, which plays script on the page
// it is asked to open, and returns the driver's path for a test that runs
// it itself. A report a previous test left unread is dropped.
func UseBrowser(t testing.TB, script string) string {
	t.Helper()
	chromium := Chromium(t)
	browser.once.Do(func() { browser.err = startBrowser(chromium) })
	if browser.err != nil {
		t.Fatal(browser.err)
	}
	for len(browser.reports) > 0 {
		<-browser.reports
	}
	t.Setenv("BROWSER", browser.driver)
	t.Setenv("BEACON_DRIVER_WS", browser.ws)
	t.Setenv("BEACON_DRIVER_REPORT", browser.report)
	t.Setenv("BEACON_DRIVER_SCRIPT", script)
	return browser.driver
}

// WaitBrowserReport waits for the driver's next report.
func WaitBrowserReport(t testing.TB) BrowserReport {
	t.Helper()
	select {
	case r := <-browser.reports:
		return r
	case <-time.After(90 * time.Second): // bounds a broken test only
		t.Fatal("the browser driver never reported")
		return BrowserReport{}
	}
}

// StopBrowser ends Chromium and removes the driver, for a TestMain that
// wants them gone before the process exits (the launcher removes them
// itself when the process ends without it).
func StopBrowser() {
	if browser.proc != nil {
		browser.stdin.Close()
		_ = browser.proc.Wait()
		browser.proc = nil
	}
	if browser.dir != "" {
		os.RemoveAll(browser.dir)
	}
}

func startBrowser(chromium string) error {
	dir, err := os.MkdirTemp("", "beacon-e2e-browser-")
	if err != nil {
		return err
	}
	browser.dir = dir
	browser.driver = filepath.Join(dir, "browserdriver")
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	if out, err := exec.Command(goBin, "build", "-o", browser.driver, driverPackage).CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("build the browser driver: %v\n%s", err, out)
	}
	browser.reports = make(chan BrowserReport, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		browser.reports <- BrowserReport{URL: r.PostForm.Get("url"), Text: r.PostForm.Get("text"), Err: r.PostForm.Get("error")}
	}))
	browser.report = srv.URL
	cmd := exec.Command(browser.driver, "launch")
	// The launcher removes dir itself when it ends (when this process
	// ends and closes its stdin, whether or not a TestMain calls
	// StopBrowser).
	cmd.Env = append(os.Environ(), "BEACON_DRIVER_CHROMIUM="+chromium, "BEACON_DRIVER_REMOVE="+dir)
	cmd.Stderr = os.Stderr
	if browser.stdin, err = cmd.StdinPipe(); err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	browser.proc = cmd
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return fmt.Errorf("chromium did not start: %v", err)
	}
	browser.ws = strings.TrimSpace(line)
	return nil
}

// SignInScript is the driver's script that picks the account upn on the
// sign-in page, types its password and signs in, then plays last.
func SignInScript(upn, password string, last ...string) string {
	steps := []string{"pick=" + upn, "type=#password=" + password, "click=#signin"}
	return strings.Join(append(steps, last...), ";")
}
