package identity

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/inventorybeacon/beacon/internal/testenv"
)

// newChromium starts one headless Chromium for the whole test; each
// scenario then opens its own browser context (separate cookies), which is
// far cheaper than a new browser.
func newChromium(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(testenv.Chromium(t)), chromedp.UserDataDir(t.TempDir())}
	for _, f := range testenv.ChromiumFlags {
		name, value, hasValue := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		if hasValue {
			opts = append(opts, chromedp.Flag(name, value))
		} else {
			opts = append(opts, chromedp.Flag(name, true))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return browser
}

// The consent pages driven by a real browser: the redirect reaches a
// loopback listener, as it will reach the app's.
func TestConsentPagesInChromium(t *testing.T) {
	e := newEnv(t)
	callbacks := make(chan url.Values, 4)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		callbacks <- r.URL.Query()
		fmt.Fprint(w, `<!DOCTYPE html><title>Done</title><p id="done">You can close this window.</p>`)
	}))
	defer cb.Close()
	redirect := cb.URL + "/callback" // http://127.0.0.1:PORT: registered without a port
	browser := newChromium(t)

	// run opens a fresh browser context and performs the actions; then it
	// returns the query the loopback listener received.
	run := func(name string, actions ...chromedp.Action[chromedp.Void]) url.Values {
		t.Helper()
		tab, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		defer cancel()
		tab, cancelT := context.WithTimeout(tab, 30*time.Second)
		defer cancelT()
		if err := chromedp.Do(tab, actions...); err != nil {
			page, _ := chromedp.Run(tab, chromedp.OuterHTML("html"))
			t.Fatalf("%s: %v\n%s", name, err, page)
		}
		select {
		case q := <-callbacks:
			return q
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no redirect reached the loopback listener", name)
			return nil
		}
	}
	tile := func(upn string) string { return `button.tile[data-upn="` + upn + `"]` }

	// 1. Admin: pick the account, type the password, tick the
	// organisation box, Accept; the code is exchanged.
	verifier := oauth2.GenerateVerifier()
	conf := e.oauth(publicApp, redirect, "common", strings.Fields(productSc)...)
	q := run("accept",
		chromedp.Navigate(conf.AuthCodeURL("s-accept", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "select_account"))),
		chromedp.WaitVisible(tile(adminUPN)),
		chromedp.Click(tile(adminUPN)),
		chromedp.WaitVisible("#password"),
		chromedp.SendKeys("#password", adminPW),
		chromedp.Click("#signin"),
		chromedp.WaitVisible("#accept"),
		chromedp.Click("#consent_org"),
		chromedp.Click("#accept"),
		chromedp.WaitVisible("#done"),
	)
	if q.Get("state") != "s-accept" || q.Get("code") == "" {
		t.Fatalf("accept: callback %v", q)
	}
	tok, err := conf.Exchange(bg, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("exchange: %v %+v", err, tok)
	}

	// 2. Cancel on the consent page (an account without a password, asking
	// for a permission nobody granted yet).
	conf2 := e.oauth(publicApp, redirect, "common", "offline_access", "User.Read")
	q = run("cancel",
		chromedp.Navigate(conf2.AuthCodeURL("s-cancel", oauth2.S256ChallengeOption(verifier))),
		chromedp.WaitVisible(tile(quickUPN)),
		chromedp.Click(tile(quickUPN)),
		chromedp.WaitVisible("#cancel"),
		chromedp.Click("#cancel"),
		chromedp.WaitVisible("#done"),
	)
	if q.Get("error") != "access_denied" || q.Get("error_subcode") != "cancel" || q.Get("state") != "s-cancel" ||
		!strings.HasPrefix(q.Get("error_description"), "AADSTS65004") {
		t.Errorf("cancel: callback %v", q)
	}

	// 3. A non-admin asking for User.Read.All (not consented for the
	// organisation): Need admin approval, then back without consent.
	conf3 := e.oauth(publicApp, redirect, "common", "offline_access", graph+"/User.Read.All")
	q = run("admin approval",
		chromedp.Navigate(conf3.AuthCodeURL("s-approval", oauth2.S256ChallengeOption(verifier))),
		chromedp.WaitVisible(tile(userUPN)),
		chromedp.Click(tile(userUPN)),
		chromedp.WaitVisible("#password"),
		chromedp.SendKeys("#password", userPW),
		chromedp.Click("#signin"),
		chromedp.WaitVisible("#returnToApp"),
		chromedp.Click("#returnToApp"),
		chromedp.WaitVisible("#done"),
	)
	if q.Get("error") != "access_denied" || q.Get("state") != "s-approval" || !strings.HasPrefix(q.Get("error_description"), "AADSTS90094") {
		t.Errorf("admin approval: callback %v", q)
	}
}
