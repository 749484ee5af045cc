package ui

// The app's Generate... flow end to end: the hook the connection dialog
// calls, the simulator as Microsoft, and one real headless Chromium driven
// through $BROWSER by auth/internal/browserdriver.

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

	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
)

var (
	genE2EOnce    sync.Once
	genE2EErr     error
	genE2EWS      string
	genE2EDriver  string
	genE2EReport  string
	genE2EReports = make(chan string, 8)
	genE2EStdin   io.WriteCloser // kept open: Chromium lives while it is
)

func genE2EBrowser(t *testing.T, script string) {
	t.Helper()
	chromium := testenv.Chromium(t)
	genE2EOnce.Do(func() { genE2EErr = genE2EStart(chromium) })
	if genE2EErr != nil {
		t.Fatal(genE2EErr)
	}
	t.Setenv("BROWSER", genE2EDriver)
	t.Setenv("BEACON_DRIVER_WS", genE2EWS)
	t.Setenv("BEACON_DRIVER_REPORT", genE2EReport)
	t.Setenv("BEACON_DRIVER_SCRIPT", script)
}

func genE2EStart(chromium string) error {
	dir, err := os.MkdirTemp("", "beacon-ui-e2e-")
	if err != nil {
		return err
	}
	genE2EDriver = filepath.Join(dir, "browserdriver")
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	if out, err := exec.Command(goBin, "build", "-o", genE2EDriver, "github.com/inventorybeacon/beacon/auth/internal/browserdriver").CombinedOutput(); err != nil {
		return fmt.Errorf("build the browser driver: %v\n%s", err, out)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		genE2EReports <- r.PostForm.Get("error") + r.PostForm.Get("text")
	}))
	genE2EReport = srv.URL
	cmd := exec.Command(genE2EDriver, "launch")
	cmd.Env = append(os.Environ(), "BEACON_DRIVER_CHROMIUM="+chromium)
	if genE2EStdin, err = cmd.StdinPipe(); err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return fmt.Errorf("chromium did not start: %v", err)
	}
	genE2EWS = strings.TrimSpace(line)
	return nil
}

// Generate... from the dialog's hook: the browser signs in, the dialog gets
// the refresh token and its description through req.Done.
func TestGenerateEndToEndInChromium(t *testing.T) {
	sim, err := m365sim.Start(m365sim.Options{Users: 20, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { go sim.Close() }) // Close waits for Chromium's idle connections
	admin := tenant.AdminLocalPart + "@" + sim.Tenant().Domain
	genE2EBrowser(t, "pick="+admin+";type=#password="+tenant.AdminPassword+";click=#signin;click=#accept;wait=#result")

	c := connector.NewConnection()
	c.Name, c.Cloud = "Sim", "Custom"
	c.TokenEndpoint = sim.URL() + "/common/oauth2/v2.0/token"
	c.AuthorizationEndpoint = sim.URL() + "/common/oauth2/v2.0/authorize"
	c.GraphEndpoint = sim.GraphEndpoint()
	c.RedirectURI = "http://localhost"
	h, _ := newGenerateHarness(t, nil, 0, nil)
	h.ctl.svc = authSignIn{} // the browser driver, through BROWSER
	tokens := make(chan string, 1)
	req := signInRequest{Parent: h.win, Connection: c, Done: func(rt string, info storage.TokenInfo) {
		tokens <- rt
		h.done <- info
	}}
	onUI(func() { h.ctl.start(req) })
	h.shown(t)
	if err := h.finished(t); err != nil {
		t.Fatalf("sign-in: %v (browser: %s)", err, recvTB(t, genE2EReports, "browser report"))
	}
	info := recvTB(t, h.done, "token")
	if rt := recvTB(t, tokens, "refresh token"); rt == "" || info.Account != admin || info.TenantID != sim.Tenant().ID {
		t.Fatalf("token info %+v", info)
	}
	if page := recvTB(t, genE2EReports, "browser report"); !strings.Contains(page, "Signed in") {
		t.Fatalf("browser ended on %q", page)
	}
}
