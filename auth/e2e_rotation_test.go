package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
)

// signedIn runs the browser sign-in as the admin and stores the token.
func signedIn(t *testing.T, sim *simEnv, conn storage.Connection, st *store, opts FlowOptions) *Result {
	t.Helper()
	res, err, rep := runSignIn(t, conn, opts, testenv.SignInScript(sim.admin(), tenant.AdminPassword, "click=#accept", "wait=#result"))
	if err != nil {
		t.Fatalf("sign-in: %v (browser: %s)", err, rep.Err)
	}
	st.keep(t, conn.ID, res)
	return res
}

// redeem sends one refresh with a given token, outside any token source.
func redeem(conn storage.Connection, rt string) error {
	form := url.Values{"client_id": {conn.ClientID}, "grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {strings.Join(Scopes(conn), " ")}}
	client, err := simClient(conn, "")
	if err != nil {
		return err
	}
	_, err = postToken(context.Background(), client, opRefresh, conn.TokenEndpoint, form, time.Now())
	return err
}

// refreshModes are the simulator's two refresh-token behaviours the token
// chain is proven under: Entra's, where a redeemed token keeps working
// until it expires or is revoked (what users meet), and strict single use,
// where presenting anything but the newest token fails. In both, the
// simulator counts redemptions of an already redeemed token
// (RefreshReuses): the app must cause none.
var refreshModes = []struct {
	name      string
	singleUse bool
}{{"entra", false}, {"single-use", true}}

// Ten refreshes in a row: each rotated token is stored before its access
// token is handed out, the keyring ends with exactly the newest one, and
// no token is presented twice. Single use: every earlier one is spent;
// Entra: every earlier one still works, which is why presenting only the
// newest is the app's job.
func TestE2ERotationTenSequentialRefreshes(t *testing.T) {
	for _, mode := range refreshModes {
		t.Run(mode.name, func(t *testing.T) {
			sim := newSim(t, false, func(o *m365sim.Options) { o.SingleUseRefreshTokens = mode.singleUse })
			conn := sim.conn("http://localhost")
			st := newStore(t, conn)
			first := signedIn(t, sim, conn, st, httpClientFor(t, conn))
			ts, err := NewTokenSource(TokenSourceOptions{Conn: conn, Secrets: st.secrets, LockDir: st.dir})
			if err != nil {
				t.Fatal(err)
			}
			seen := []string{first.RefreshToken()}
			for i := 0; i < 10; i++ {
				ts.Invalidate() // force a refresh each time
				tok, err := ts.TokenContext(ctxTimeout(t, 30*time.Second))
				if err != nil {
					t.Fatalf("refresh %d: %v", i+1, err)
				}
				stored, err := st.secrets.Get(conn.ID, storage.SecretRefreshToken)
				if err != nil {
					t.Fatal(err)
				}
				for _, old := range seen {
					if stored == old {
						t.Fatalf("refresh %d: the keyring still holds an earlier token", i+1)
					}
				}
				if tok.AccessToken == "" || tok.RefreshToken != stored {
					t.Fatalf("refresh %d: the access token came with a refresh token other than the stored one", i+1)
				}
				seen = append(seen, stored)
			}
			if st := sim.IdP.Stats(); st.Refreshes != 10 || st.RefreshReuses != 0 {
				t.Fatalf("%d refreshes reached the simulator (want 10), %d of them with a token redeemed before (want 0)", st.Refreshes, st.RefreshReuses)
			}
			ts.Invalidate()
			if _, err := ts.TokenContext(ctxTimeout(t, 30*time.Second)); err != nil {
				t.Fatalf("the stored newest token no longer works: %v", err)
			}
			// A cached access token is served without a refresh.
			before := sim.IdP.Stats().Refreshes
			if _, err := ts.TokenContext(ctxTimeout(t, 30*time.Second)); err != nil || sim.IdP.Stats().Refreshes != before {
				t.Fatalf("cached token not reused: %v", err)
			}
			for i, old := range seen[:len(seen)-1] {
				err := redeem(conn, old)
				if mode.singleUse && !errors.Is(err, ErrReauthRequired) {
					t.Fatalf("token %d: %v, want a spent token", i, err)
				}
				if !mode.singleUse && err != nil {
					t.Fatalf("token %d: %v, want it still valid, as with Entra", i, err)
				}
			}
		})
	}
}

// Two processes refreshing the same connection at once never break the
// chain: the lock file serialises them and each re-reads the keyring under
// it. Without the lock one of them would redeem a spent token: refused in
// single-use mode, counted as a reuse by the simulator in Entra's.
func TestE2ERotationTwoProcesses(t *testing.T) {
	for _, mode := range refreshModes {
		t.Run(mode.name, func(t *testing.T) {
			sim := newSim(t, false, func(o *m365sim.Options) { o.SingleUseRefreshTokens = mode.singleUse })
			conn := sim.conn("http://localhost")
			st := newStore(t, conn)
			signedIn(t, sim, conn, st, httpClientFor(t, conn))
			connJSON, _ := json.Marshal(conn)
			const n = 15
			var procs []*exec.Cmd
			var gates []io.WriteCloser
			var outs []*strings.Builder
			for i := 0; i < 2; i++ {
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(),
					"BEACON_AUTH_HELPER=refresher",
					"BEACON_HELPER_CONN="+string(connJSON),
					"BEACON_HELPER_SERVICE="+st.service,
					"BEACON_HELPER_LOCKDIR="+st.dir,
					"BEACON_HELPER_N="+strconv.Itoa(n))
				out := &strings.Builder{}
				cmd.Stdout, cmd.Stderr = out, out
				gate, err := cmd.StdinPipe()
				if err != nil {
					t.Fatal(err)
				}
				gates = append(gates, gate)
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				procs = append(procs, cmd)
				outs = append(outs, out)
			}
			// Both wait at the gate until both have started, so their refreshes
			// overlap rather than run one after the other.
			for _, g := range gates {
				g.Close()
			}
			for i, p := range procs {
				if err := p.Wait(); err != nil {
					t.Errorf("process %d: %v\n%s", i, err, outs[i])
				}
			}
			if got := sim.IdP.Stats(); got.Refreshes != 2*n || got.RefreshReuses != 0 {
				t.Fatalf("%d refreshes (want %d), %d with a token redeemed before (want 0)", got.Refreshes, 2*n, got.RefreshReuses)
			}
			stored, err := st.secrets.Get(conn.ID, storage.SecretRefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			if err := redeem(conn, stored); err != nil {
				t.Fatalf("chain broken: the stored token does not redeem: %v", err)
			}
		})
	}
}

// runRefresherHelper is the second process of TestE2ERotationTwoProcesses,
// the refreshing processes of TestSoakRotationChain and the killed and
// resuming ones of TestSoakKillBetweenReceiveAndStore (which sets
// BEACON_HELPER_ANNOUNCE to see it store).
func runRefresherHelper() int {
	var conn storage.Connection
	if err := json.Unmarshal([]byte(os.Getenv("BEACON_HELPER_CONN")), &conn); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	n, _ := strconv.Atoi(os.Getenv("BEACON_HELPER_N"))
	secrets := storage.NewKeyring(os.Getenv("BEACON_HELPER_SERVICE"), 10*time.Second)
	if os.Getenv("BEACON_HELPER_ANNOUNCE") == "1" {
		secrets = announcingSecrets{secrets}
	}
	ts, err := NewTokenSource(TokenSourceOptions{
		Conn: conn, Secrets: secrets,
		LockDir: os.Getenv("BEACON_HELPER_LOCKDIR"),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	_, _ = io.Copy(io.Discard, os.Stdin) // the start gate
	for i := 0; i < n; i++ {
		ts.Invalidate()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_, err := ts.TokenContext(ctx)
		cancel()
		if err != nil {
			fmt.Fprintf(os.Stderr, "refresh %d: %v%s\n", i+1, err, reauthNote(err))
			return 1
		}
	}
	return 0
}

// A process killed between receiving a rotated refresh token and storing it
// leaves the keyring with the spent token. Entra keeps a redeemed token
// valid, and in single-use mode the simulator's RefreshGrace accepts it
// once more for a short while; either way the next refresh succeeds and
// resumes the chain. With strict single use the same crash means
// re-running Generate..., said plainly.
func TestE2ECrashBetweenReceiveAndStore(t *testing.T) {
	for _, tc := range []struct {
		name      string
		singleUse bool
		grace     time.Duration
	}{{"entra", false, 0}, {"single-use grace 1m0s", true, time.Minute}, {"single-use", true, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			sim := newSim(t, false, func(o *m365sim.Options) { o.SingleUseRefreshTokens, o.RefreshGrace = tc.singleUse, tc.grace })
			conn := sim.conn("http://localhost")
			st := newStore(t, conn)
			signedIn(t, sim, conn, st, httpClientFor(t, conn))
			spent, _ := st.secrets.Get(conn.ID, storage.SecretRefreshToken)
			if err := redeem(conn, spent); err != nil { // the crashed process's refresh
				t.Fatal(err)
			}
			ts, _ := NewTokenSource(TokenSourceOptions{Conn: conn, Secrets: st.secrets, LockDir: st.dir})
			_, err := ts.TokenContext(ctxTimeout(t, 30*time.Second))
			if !tc.singleUse || tc.grace > 0 {
				if err != nil {
					t.Fatalf("resuming with the spent token: %v", err)
				}
				if now, _ := st.secrets.Get(conn.ID, storage.SecretRefreshToken); now == spent {
					t.Fatal("the chain was not resumed")
				}
				if n := sim.IdP.Stats().RefreshReuses; n != 1 {
					t.Fatalf("%d redemptions of a redeemed token, want exactly 1 (the spent one)", n)
				}
				return
			}
			if !errors.Is(err, ErrReauthRequired) || !strings.Contains(Guidance(err), "Generate...") {
				t.Fatalf("strict rotation: %v", err)
			}
		})
	}
}
