package auth

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// A code injected into the loopback listener with the right state but not
// issued to this client and PKCE verifier (an attacker's code from another
// app registration, or one for another sign-in): the listener hands it to
// the token endpoint, which refuses it, and the flow fails with the
// identity platform's reason; nothing is returned to store.
func TestSoakCodeForAnotherClient(t *testing.T) {
	sim := newSim(t, false)
	conn := sim.conn("http://localhost/cb")
	f, err := Start(conn, httpClientFor(t, conn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	type out struct {
		res *Result
		err error
	}
	done := make(chan out, 1)
	go func() { r, err := f.Wait(ctx); done <- out{r, err} }()
	addr, host, path, state := flowAddr(f)
	resp := get(t, addr, host, path+"?code=M.C5_BAY.2.U.forged-for-another-client&state="+state)
	body, _ := io.ReadAll(resp.Body)
	o := <-done
	if o.err == nil || o.res != nil {
		t.Fatalf("a foreign code was accepted: %+v, %v", o.res, o.err)
	}
	if !strings.Contains(o.err.Error(), "invalid_grant") && !strings.Contains(strings.ToLower(o.err.Error()), "code") {
		t.Fatalf("the flow does not say why: %v", o.err)
	}
	if resp.StatusCode == 200 && strings.Contains(strings.ToLower(string(body)), "signed in") {
		t.Fatalf("the browser was told the sign-in worked: %s", body)
	}
	t.Logf("refused: %v (browser: %d)", o.err, resp.StatusCode)
}
