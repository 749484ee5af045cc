package auth

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
)

// soakScaled is short in `make test` and long×BEACON_SOAK_SCALE under
// `make soak` (BEACON_SOAK=1); see internal/soak.
func soakScaled(short, long int) int {
	if os.Getenv("BEACON_SOAK") != "1" {
		return short
	}
	f, err := strconv.ParseFloat(os.Getenv("BEACON_SOAK_SCALE"), 64)
	if err != nil || f <= 0 {
		f = 1
	}
	return max(1, int(float64(long)*f))
}

// TestSoakRotationChain is issue 8's token chain: two processes refresh
// the same connection's rotating refresh token (shared keyring and lock
// folder) for soakScaled(2×10, 2×100) refreshes, never presenting a token
// redeemed before; then a refreshing process is killed with SIGKILL at
// random moments, some of which fall between receiving a rotated token and
// storing it. After each kill a fresh token source must still refresh: the
// lock is released by the kernel with the process, and a token the dead
// process redeemed but never stored is still accepted: by Entra, which
// keeps redeemed tokens valid, and in the simulator's single-use mode
// within its grace window (RefreshGrace). Both modes run; the chain must
// never break.
func TestSoakRotationChain(t *testing.T) {
	for _, mode := range []struct {
		name      string
		singleUse bool
		grace     time.Duration
	}{{"entra", false, 0}, {"single-use grace 1m0s", true, time.Minute}} {
		t.Run(mode.name, func(t *testing.T) {
			sim := newSim(t, false, func(o *m365sim.Options) { o.SingleUseRefreshTokens, o.RefreshGrace = mode.singleUse, mode.grace })
			conn := sim.conn("http://localhost")
			st := newStore(t, conn)
			rt, err := sim.IdP.IssueRefreshToken(tenant.DefaultClientID, sim.admin(), strings.Join(Scopes(conn), " "))
			if err != nil {
				t.Fatal(err)
			}
			if err := st.secrets.Set(conn.ID, storage.SecretRefreshToken, rt); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.secrets.Delete(conn.ID, storage.SecretRefreshToken) })
			connJSON, _ := json.Marshal(conn)
			helper := func(n int) *exec.Cmd {
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), "BEACON_AUTH_HELPER=refresher", "BEACON_HELPER_CONN="+string(connJSON),
					"BEACON_HELPER_SERVICE="+st.service, "BEACON_HELPER_LOCKDIR="+st.dir, "BEACON_HELPER_N="+strconv.Itoa(n))
				return cmd
			}
			broken := 0
			resume := func(when string) {
				ts, err := NewTokenSource(TokenSourceOptions{Conn: conn, Secrets: st.secrets, LockDir: st.dir})
				if err == nil {
					ts.Invalidate()
					_, err = ts.TokenContext(ctxTimeout(t, 30*time.Second))
				}
				if err != nil {
					broken++
					t.Errorf("chain broken %s: %v", when, err)
				}
			}

			// Two processes refreshing at once.
			per := soakScaled(10, 100)
			before := sim.IdP.Stats().Refreshes
			var procs []*exec.Cmd
			var outs []*strings.Builder
			var gates []io.WriteCloser
			for i := 0; i < 2; i++ {
				cmd := helper(per)
				out := &strings.Builder{}
				cmd.Stdout, cmd.Stderr = out, out
				gate, _ := cmd.StdinPipe()
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				procs, outs, gates = append(procs, cmd), append(outs, out), append(gates, gate)
			}
			start := time.Now()
			for _, g := range gates {
				g.Close()
			}
			for i, p := range procs {
				if err := p.Wait(); err != nil {
					broken++
					t.Errorf("refreshing process %d: %v\n%s", i, err, outs[i])
				}
			}
			took := time.Since(start)
			refreshes := sim.IdP.Stats().Refreshes - before
			if refreshes != 2*per {
				t.Errorf("%d refreshes, want %d", refreshes, 2*per)
			}
			if n := sim.IdP.Stats().RefreshReuses; n != 0 {
				t.Errorf("%d refreshes presented a token redeemed before, want 0", n)
			}
			resume("after the two processes")

			// kill -9 at random moments of a process refreshing in a loop.
			kills := soakScaled(3, 30)
			perRefresh := took / time.Duration(per)
			for k := 0; k < kills; k++ {
				cmd := helper(1 << 20)
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(50*time.Millisecond + time.Duration(rand.Int64N(int64(10*perRefresh)+1)))
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				resume(fmt.Sprintf("after kill %d", k))
			}
			line := fmt.Sprintf("FIGURE token-chain (%s): refreshes-two-processes=%d (each %d) time-per-refresh=%s kills=%d total-refreshes=%d chains-broken=%d",
				mode.name, refreshes, per, perRefresh.Round(time.Microsecond), kills, sim.IdP.Stats().Refreshes, broken)
			fmt.Println(line)
			t.Log(line)
		})
	}
}
