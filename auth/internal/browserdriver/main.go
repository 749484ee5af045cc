// Command browserdriver plays the administrator in a real headless Chromium
// for the end-to-end tests of Generate... It has two modes:
//
//	browserdriver launch
//	    starts one headless Chromium with a DevTools port, prints its
//	    websocket address on the first line of stdout, and keeps it running
//	    until stdin closes. A test package starts it once and reuses it.
//
//	browserdriver URL
//	    what $BROWSER runs: opens URL in a new tab of that Chromium
//	    ($BEACON_DRIVER_WS), plays $BEACON_DRIVER_SCRIPT, and POSTs the final
//	    address and page text (or the error) to $BEACON_DRIVER_REPORT.
//
// The script is steps separated by ";":
//
//	pick=UPN       click the account tile of UPN on "Pick an account"
//	click=CSS      wait for the element and click it
//	type=CSS=TEXT  wait for the input and set its value to TEXT
//	wait=CSS       wait until the element is visible
//	waiturl=TEXT   wait until the address contains TEXT
//	state=VALUE    (first) replace the state parameter of URL: a forged callback
//
// It is a test tool: it is not built into the app.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/remote"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "launch" {
		if err := launch(); err != nil {
			fmt.Fprintln(os.Stderr, "browserdriver:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: browserdriver launch | browserdriver URL")
		os.Exit(2)
	}
	finalURL, text, err := drive(os.Args[1])
	report(finalURL, text, err)
	if err != nil {
		os.Exit(1)
	}
}

// chromiumFlags mirror internal/testenv.ChromiumFlags: headless, as root,
// with no network beyond loopback.
var chromiumFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
	"--no-first-run", "--disable-background-networking",
	"--disable-component-update", "--disable-sync",
	"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
	// The simulator's TLS certificate comes from a throw-away local CA.
	"--ignore-certificate-errors",
}

func launch() error {
	bin := os.Getenv("BEACON_DRIVER_CHROMIUM")
	if bin == "" {
		bin = "chromium"
	}
	// The test's folder holding this driver goes last, once Chromium is
	// gone: the launcher outlives the test process (it ends when the
	// test's end closes its stdin), so a test binary without a TestMain
	// calling testenv.StopBrowser, or one killed by its timeout, leaves
	// no driver behind either.
	if own := os.Getenv("BEACON_DRIVER_REMOVE"); own != "" {
		defer removeAll(own)
	}
	// Chromium's profile, and its temporary folder: it leaves its
	// org.chromium.Chromium.* singleton folder in the temporary folder
	// when it ends, even asked to.
	dir, err := os.MkdirTemp("", "beacon-chromium-")
	if err != nil {
		return err
	}
	defer removeAll(dir)
	profile, tmp := filepath.Join(dir, "p"), filepath.Join(dir, "t")
	for _, d := range []string{profile, tmp} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return err
		}
	}
	args := append(append([]string{}, chromiumFlags...), "--user-data-dir="+profile, "about:blank")
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	ownGroup(cmd)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	defer stop(cmd)
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "ws://"); i >= 0 && strings.Contains(line, "DevTools listening") {
			fmt.Println(line[i:])
			// Keep draining Chromium's stderr so it never blocks on a
			// full pipe.
			go func() { _, _ = io.Copy(io.Discard, stderr) }()
			_, _ = io.Copy(io.Discard, os.Stdin) // until the test closes stdin
			return nil
		}
	}
	return errors.New("chromium ended without printing its DevTools address")
}

// removeAll removes dir, again until it stays gone: Chromium's helper
// processes (the network service writes "Network Persistent State" as it
// ends) may write into its profile for a moment after its main process
// was killed, and a single RemoveAll racing them left the folder behind.
func removeAll(dir string) {
	for range 50 {
		if os.RemoveAll(dir) == nil {
			time.Sleep(100 * time.Millisecond)
			if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
				return
			}
		} else {
			time.Sleep(100 * time.Millisecond)
		}
	}
}

func drive(target string) (string, string, error) {
	ws := os.Getenv("BEACON_DRIVER_WS")
	if ws == "" {
		return "", "", errors.New("BEACON_DRIVER_WS is not set")
	}
	timeout := 60 * time.Second
	if s := os.Getenv("BEACON_DRIVER_TIMEOUT"); s != "" {
		if d, err := time.ParseDuration(s); err == nil {
			timeout = d
		}
	}
	var steps []string
	for _, s := range strings.Split(os.Getenv("BEACON_DRIVER_SCRIPT"), ";") {
		if s = strings.TrimSpace(s); s != "" {
			steps = append(steps, s)
		}
	}
	if len(steps) > 0 && strings.HasPrefix(steps[0], "state=") {
		u, err := url.Parse(target)
		if err != nil {
			return "", "", err
		}
		q := u.Query()
		q.Set("state", strings.TrimPrefix(steps[0], "state="))
		u.RawQuery = q.Encode()
		target = u.String()
		steps = steps[1:]
	}

	allocCtx, cancelAlloc := remote.NewAllocator(context.Background(), ws, remote.NoModifyURL)
	defer cancelAlloc()
	tab, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()
	if err := chromedp.Do(tab); err != nil { // attach before any deadline
		return "", "", fmt.Errorf("attach to chromium: %w", err)
	}
	ctx, cancel := context.WithTimeout(tab, timeout)
	defer cancel()

	if err := chromedp.Do(ctx, chromedp.Navigate(target)); err != nil {
		return "", "", fmt.Errorf("navigate: %w", err)
	}
	for i, s := range steps {
		verb, arg, _ := strings.Cut(s, "=")
		var err error
		switch verb {
		case "pick":
			sel := chromedp.CSS(`button.tile[data-upn=` + strconv.Quote(arg) + `]`)
			err = chromedp.Do(ctx, chromedp.WaitVisible(sel), chromedp.Click(sel))
		case "click":
			err = chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(arg)), chromedp.Click(chromedp.CSS(arg)))
		case "type":
			sel, text, _ := strings.Cut(arg, "=")
			err = chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SetValue(chromedp.CSS(sel), text))
		case "wait":
			err = chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(arg)))
		case "waiturl":
			err = waitURL(ctx, arg)
		default:
			err = fmt.Errorf("unknown step %q", s)
		}
		if err != nil {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			text, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
			return loc, text, fmt.Errorf("step %d (%s) failed on %s: %w", i+1, s, loc, err)
		}
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "", "", err
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
	return loc, text, err
}

// waitURL polls the address until it contains text. A page-side poll would
// die with the navigation it waits for, so the address is read from here.
func waitURL(ctx context.Context, text string) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil && strings.Contains(loc, text) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func report(finalURL, text string, err error) {
	dest := os.Getenv("BEACON_DRIVER_REPORT")
	form := url.Values{"url": {finalURL}, "text": {text}}
	if err != nil {
		form.Set("error", err.Error())
	}
	if dest == "" {
		fmt.Fprintln(os.Stderr, form.Encode())
		return
	}
	resp, perr := http.PostForm(dest, form)
	if perr != nil {
		fmt.Fprintln(os.Stderr, "browserdriver: report:", perr)
		return
	}
	resp.Body.Close()
}
