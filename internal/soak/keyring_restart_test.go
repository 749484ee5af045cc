//go:build linux

package soak

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
)

// keyringHelperEnv makes the test binary a keyring helper: "get" prints a
// connection's refresh token, "set" stores the one on stdin, in the
// keyring of the process's session bus (the nested one the test passes).
const keyringHelperEnv = "BEACON_SOAK_KEYRING_OP"

func keyringHelper(op string) int {
	keys := storage.NewKeyring(storage.KeyringService, 10*time.Second)
	id := os.Getenv("BEACON_SOAK_KEYRING_CONN")
	var err error
	switch op {
	case "get":
		var v string
		if v, err = keys.Get(id, storage.SecretRefreshToken); err == nil {
			fmt.Print(v)
		}
	case "set":
		var b []byte
		if b, err = io.ReadAll(os.Stdin); err == nil {
			err = keys.Set(id, storage.SecretRefreshToken, string(b))
		}
	default:
		err = fmt.Errorf("unknown keyring helper operation %q", op)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// nestedToken reads (value "") or stores a connection's refresh token in
// the nested keyring through a helper child.
func nestedToken(t *testing.T, nk *testenv.NestedKeyring, connID, value string) (string, error) {
	t.Helper()
	op := "get"
	if value != "" {
		op = "set"
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(nk.Env(), keyringHelperEnv+"="+op, "BEACON_SOAK_KEYRING_CONN="+connID)
	cmd.Stdin = strings.NewReader(value)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("keyring helper %s: %v: %s", op, err, errOut.String())
	}
	return out.String(), nil
}

// schedLog follows a `beacon scheduler`'s log: the outcome of every import.
type schedLog struct {
	mu       sync.Mutex
	finished []string // the "import finished" lines, in order
	tail     []string
	changed  chan struct{}
}

func (l *schedLog) follow(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		l.mu.Lock()
		if l.tail = append(l.tail, line); len(l.tail) > 400 {
			l.tail = l.tail[len(l.tail)-300:]
		}
		if strings.Contains(line, `msg="import finished"`) || strings.Contains(line, `msg="import could not run"`) {
			l.finished = append(l.finished, line)
		}
		close(l.changed)
		l.changed = make(chan struct{})
		l.mu.Unlock()
	}
}

// waitFinished waits for an import that finishes after the first n and
// for which ok holds, returning its line and index, or fails after wait.
func (l *schedLog) waitFinished(t *testing.T, n int, wait time.Duration, ok func(line string) bool) (string, int) {
	t.Helper()
	deadline := time.After(wait)
	for {
		l.mu.Lock()
		for i := n; i < len(l.finished); i++ {
			if ok(l.finished[i]) {
				line := l.finished[i]
				l.mu.Unlock()
				return line, i + 1
			}
		}
		ch := l.changed
		l.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			l.mu.Lock()
			defer l.mu.Unlock()
			t.Fatalf("no such import within %s (hang); the scheduler's last lines:\n%s", wait, strings.Join(l.tail, "\n"))
		}
	}
}

func (l *schedLog) count() int { l.mu.Lock(); defer l.mu.Unlock(); return len(l.finished) }

func succeeded(line string) bool { return strings.Contains(line, "status=succeeded") }

// TestKeyringRestartedUnderScheduler (issue 20, item 4) kills the real
// gnome-keyring-daemon with SIGKILL at random moments while a real `beacon
// scheduler` imports a delegated connection every simulated minute, and
// starts it again on the same D-Bus bus with the same keyring file: the
// next import must succeed without a new sign-in. The second time and every fifth
// after, the daemon comes back locked: an import must then fail with the plain
// "Unlock it" message, and succeed once the keyring is unlocked. The
// simulator refuses any refresh token redeemed before (single use, no
// grace), so one spent token presented anywhere breaks the chain: it must
// never happen, and the token in the keyring at the end must redeem.
//
// The keyring is a nested one (its own bus and daemon, testenv): killing
// the session's shared keyring would fail the other packages' tests that
// run beside this one in `make test`.
func TestKeyringRestartedUnderScheduler(t *testing.T) {
	restarts := scaled(3, 30)
	nk := testenv.StartNestedKeyring(t)
	if nk == nil {
		return
	}
	sim, err := m365sim.Start(m365sim.Options{Users: 200, Seed: 12, SingleUseRefreshTokens: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	upn := tenant.AdminLocalPart + "@" + sim.Tenant().Domain
	rt, err := sim.Identity().IssueRefreshToken(tenant.DefaultClientID, upn, productScope)
	if err != nil {
		t.Fatal(err)
	}
	dir, tmp := t.TempDir(), t.TempDir()
	sched := storage.Schedule{ID: storage.NewID(), Name: "Every minute", Kind: storage.EveryNMinutes, EveryMinutes: 1}
	deleg := storage.Connection{ID: storage.NewID(), Name: "Delegated", SourceType: storage.SourceMicrosoft365, Cloud: "Custom",
		TokenEndpoint: sim.TokenEndpoint(), ClientID: tenant.DefaultClientID, AuthFlow: storage.FlowAuthorizationCode,
		RedirectURI: "http://localhost", GraphEndpoint: sim.GraphEndpoint(), ScheduleID: sched.ID,
		Token: &storage.TokenInfo{ObtainedAt: time.Now(), Account: upn}}
	if _, err := nestedToken(t, nk, deleg.ID, rt); err != nil {
		t.Fatal(err)
	}
	if err := storage.NewConfigStore(dir).Update(func(c *storage.Config) error {
		c.Schedules, c.Connections = []storage.Schedule{sched}, []storage.Connection{deleg}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := schedulerCmd(ctx, t, dir, tmp, nk.Env())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	log := &schedLog{changed: make(chan struct{})}
	go log.follow(stderr)

	// A run may have to wait out a keyring time-out (10 s) and the
	// back-off of a loaded machine: generous, and only a bound on a hang.
	const bound = 3 * time.Minute
	log.waitFinished(t, 0, bound, succeeded)
	rng := rand.New(rand.NewPCG(4, 20))
	var worst time.Duration
	kills, lockedTimes, activated := 0, 0, 0
	for i := range restarts {
		// Anywhere in the 2 s cycle: between imports or during one.
		time.Sleep(time.Duration(rng.IntN(2500)) * time.Millisecond)
		if err := nk.Kill(); err != nil {
			t.Fatal(err)
		}
		kills++
		// Down for up to 3 s: imports meanwhile fail (or start a daemon by
		// D-Bus activation, which comes up locked and is ended here).
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Millisecond)
		locked := i%5 == 1
		n, err := nk.Restart(locked)
		if err != nil {
			t.Fatal(err)
		}
		activated += n
		back := time.Now()
		if locked {
			lockedTimes++
			line, _ := log.waitFinished(t, log.count(), bound, func(line string) bool { return !succeeded(line) })
			if !strings.Contains(line, "Unlock it") {
				t.Errorf("an import on the locked keyring did not say to unlock it:\n%s", line)
			}
			if err := nk.Kill(); err != nil {
				t.Fatal(err)
			}
			if n, err := nk.Restart(false); err != nil {
				t.Fatal(err)
			} else {
				activated += n
			}
			back = time.Now()
		}
		before := log.count()
		log.waitFinished(t, before, bound, succeeded)
		worst = max(worst, time.Since(back))
	}
	cancel()
	_ = cmd.Wait()

	log.mu.Lock()
	total := len(log.finished)
	failed, reauth := 0, 0
	for _, line := range log.finished {
		if !succeeded(line) {
			failed++
			t.Logf("failed import: %s", line)
		}
		if strings.Contains(line, "sign in again") || strings.Contains(line, "no longer valid") {
			reauth++
			t.Errorf("an import asked for a new sign-in (the chain broke):\n%s", line)
		}
	}
	log.mu.Unlock()
	// The token the keyring holds now must be one the simulator accepts.
	stored, err := nestedToken(t, nk, deleg.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	broken := reauth
	if err := redeemAt(sim.TokenEndpoint(), stored); err != nil {
		broken++
		t.Errorf("the refresh token in the keyring does not redeem: %v", err)
	}
	stats := sim.Identity().Stats()
	if stats.RefreshReuses != 0 {
		t.Errorf("%d refresh tokens were presented a second time", stats.RefreshReuses)
	}
	figure(t, "keyring-restart", "kills=%d (SIGKILL of gnome-keyring-daemon at random moments of a 2 s schedule) restarts-locked=%d activated-daemons-ended=%d imports=%d failed-while-down-or-locked=%d refreshes=%d reuses=%d chains-broken=%d new-sign-ins=%d worst-recovery=%s hangs=0",
		kills, lockedTimes, activated, total, failed, stats.Refreshes, stats.RefreshReuses, broken, reauth, worst.Round(100*time.Millisecond))
}

// redeemAt redeems a refresh token at the token endpoint (the product's
// public client), as the next import would.
func redeemAt(endpoint, rt string) error {
	resp, err := http.PostForm(endpoint, url.Values{"client_id": {tenant.DefaultClientID}, "grant_type": {"refresh_token"},
		"refresh_token": {rt}, "scope": {productScope}})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, body)
	}
	return nil
}
