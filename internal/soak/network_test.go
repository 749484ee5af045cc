//go:build linux

package soak

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/timeouts"
	simgraph "github.com/inventorybeacon/beacon/m365sim/graph"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// faultProxyBinary returns cmd/internal/faultproxy: $BEACON_SOAK_PROXY_BIN
// when scripts/soak.sh built it, otherwise one built once.
func faultProxyBinary(t *testing.T) string { return proxyBuild.binary(t) }

// faultProxy is a running cmd/internal/faultproxy.
type faultProxy struct {
	addr   string
	mu     sync.Mutex
	faults int
	done   chan struct{}
}

func (p *faultProxy) injected() int { p.mu.Lock(); defer p.mu.Unlock(); return p.faults }

// startFaultProxy starts the proxy in front of target with args and waits
// for its ready line. It is killed when the test ends (and by the kernel
// if the test process dies first).
func startFaultProxy(t *testing.T, target string, args ...string) *faultProxy {
	t.Helper()
	cmd := exec.Command(faultProxyBinary(t), append([]string{"--target", target}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{done: make(chan struct{})}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	ready := make(chan string, 1)
	go func() {
		defer close(p.done)
		defer func() { _ = cmd.Wait() }()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if a, ok := strings.CutPrefix(line, "faultproxy-ready "); ok {
				ready <- a
			} else if strings.HasPrefix(line, "fault ") {
				p.mu.Lock()
				p.faults++
				p.mu.Unlock()
			}
		}
	}()
	select {
	case p.addr = <-ready:
	case <-p.done:
		t.Fatalf("faultproxy %v exited without its ready line", args)
	case <-time.After(time.Minute):
		t.Fatalf("faultproxy %v: no ready line", args)
	}
	return p
}

// netCase is one way for the network to die at one stage of an import.
type netCase struct {
	fault string // reset, stall, slow, halfclose, tls-hang, dns
	stage string // token, skus, users, reports, applications; "proxy" for DNS of the proxy host
	count int    // faults injected (0: every time: the import must fail)
}

func (c netCase) String() string {
	n := "every time"
	if c.count > 0 {
		n = strconv.Itoa(c.count) + "×"
	}
	return c.fault + "@" + c.stage + " " + n
}

// stageMatch is what the proxy looks for in the request line of a stage
// (a regular expression). A report is a 302 to its download, whose
// retries do not ask for the report again: both count.
var stageMatch = map[string]string{
	"token": "oauth2/v2.0/token", "skus": "/subscribedSkus", "users": "/users",
	"reports": "/reports/|" + regexp.QuoteMeta(simgraph.DownloadPrefix), "applications": "/servicePrincipals",
}

// stageWords are the words of an import's error that name a stage.
var stageWords = []string{"access token", "count users", "Token Endpoint", "subscribed SKUs", "read users", "user changes", "usage", "report", "service principals"}

// causeWords are the words naming the cause of each fault.
var causeWords = map[string][]string{
	"reset":     {"reset", "EOF", "closed", "broken"},
	"stall":     {"time", "deadline", "did not answer", "stalled"},
	"slow":      {"time", "deadline", "did not answer", "stalled"},
	"halfclose": {"EOF", "closed", "reset", "broken"},
	// Through the proxy's tunnel the TLS handshake's own time-out or, when
	// the attempt's runs out first (the token source serialises the
	// stages' token requests), the attempt's.
	"tls-hang": {"TLS handshake", "handshake", "did not answer"},
	"dns":      {"no such host", "not be found", "resolve", "look up", "lookup"},
}

// The time-outs of the beacon processes: a 30th of production (a Graph
// attempt 4 s, a TLS handshake 0.5 s, the back-off 33 ms to 2 s), so that
// a stall longer than every time-out fails an import in under a minute.
const netTimeoutScale = "0.033"

// TestDyingNetwork (issue 20, item 3) puts a fault-injecting TCP proxy, a
// process of its own (cmd/internal/faultproxy), between the real `beacon
// execute` and the simulator process (plain HTTP, and --tls for the
// handshake that never finishes), and makes the network die in one way at
// one stage of the import: a reset in the middle of an answer, a stall
// longer than the client's time-outs, a bandwidth limit, a half-closed
// socket, a TLS handshake that never finishes; and a host name that does
// not resolve. Each fault is injected twice (the retries outlive it) or
// every time (the import must fail). Every import must either succeed with
// data equal to the tenant, or fail with a message naming the stage and
// the cause, keeping the last good import, within a bound; the worst time
// is reported.
func TestDyingNetwork(t *testing.T) {
	keys := realKeyring(t)
	users := scaled(600, 1500)
	sim := startSimProcess(t, users, 41, "--latency", "1ms")
	want := sim.Tenant()
	ctx := context.Background()

	var cases []netCase
	faults := []string{"reset", "stall", "slow", "halfclose"}
	stages := []string{"token", "skus", "users", "reports", "applications"}
	if full() {
		for _, f := range faults {
			for _, s := range stages {
				cases = append(cases, netCase{f, s, 2}, netCase{f, s, 0})
			}
		}
		cases = append(cases, netCase{"tls-hang", "token", 1}, netCase{"tls-hang", "token", 0}, netCase{"tls-hang", "token", 3},
			netCase{"dns", "token", 0}, netCase{"dns", "proxy", 0})
	} else {
		cases = []netCase{
			{"reset", "users", 2}, {"stall", "reports", 1}, {"halfclose", "skus", 0}, {"slow", "applications", 2},
			{"stall", "token", 1}, {"tls-hang", "token", 1}, {"dns", "proxy", 0},
		}
	}

	// BEACON_SOAK_NETWORK_CASES, a regular expression, runs only the
	// cases whose name (e.g. "stall@reports every time") matches.
	if re := os.Getenv("BEACON_SOAK_NETWORK_CASES"); re != "" {
		only := regexp.MustCompile(re)
		var kept []netCase
		for _, c := range cases {
			if only.MatchString(c.String()) {
				kept = append(kept, c)
			}
		}
		cases = kept
	}

	type setup struct {
		dir, tmp string
		conn     storage.Connection
		env      []string
		host     string // the simulator's host:port
	}
	prepare := func(s *simProcess, extraEnv ...string) *setup {
		st := &setup{dir: t.TempDir(), tmp: t.TempDir(), env: extraEnv}
		st.conn = ccConnection(t, st.dir, s, keys, "Network")
		u, err := url.Parse(s.URL)
		if err != nil {
			t.Fatal(err)
		}
		st.host = u.Host
		return st
	}
	run := func(st *setup, bound time.Duration) (time.Duration, error, string) {
		cctx, cancel := context.WithTimeout(ctx, bound)
		defer cancel()
		var out bytes.Buffer
		cmd := beaconCmd(cctx, t, st.dir, st.tmp, "execute", "--full", st.conn.Name)
		cmd.Env = append(cmd.Env, append(st.env, timeouts.ScaleEnv+"="+netTimeoutScale)...)
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		err := cmd.Run()
		if cctx.Err() != nil {
			err = fmt.Errorf("%w: no answer within %s (hang)", context.DeadlineExceeded, bound)
		}
		return time.Since(start), err, out.String()
	}
	// route sends the connection's requests through the proxy at addr
	// ("" for none), with the token endpoint's host replaced by tokenHost
	// when not "".
	route := func(st *setup, addr, tokenHost string) {
		if err := storage.NewConfigStore(st.dir).Update(func(c *storage.Config) error {
			for i := range c.Connections {
				c.Connections[i].Proxy = storage.Proxy{}
				if addr != "" {
					c.Connections[i].Proxy = storage.Proxy{Enabled: true, Server: "http://" + addr}
				}
				c.Connections[i].TokenEndpoint = withHost(t, c.Connections[i].TokenEndpoint, cmp.Or(tokenHost, st.host))
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(st *setup, when string) error {
		s, err := inventory.OpenDir(ctx, st.dir, inventory.Options{})
		if err != nil {
			return fmt.Errorf("%s: the database does not open: %w", when, err)
		}
		defer s.Close()
		return diffTenant(ctx, s, st.conn.ID, want)
	}
	// A clean import first: the last good import every failure must keep.
	plain := prepare(sim)
	const bound = 5 * time.Minute // a hang, not a slow import
	if _, err, out := run(plain, bound); err != nil {
		t.Fatalf("the clean import failed: %v\n%s", err, out)
	}
	if err := check(plain, "after the clean import"); err != nil {
		t.Fatal(err)
	}
	var tlsSetup *setup
	// useTLS is the simulator over HTTPS (started at its first use) with a
	// clean import done.
	useTLS := func() *setup {
		if tlsSetup == nil {
			tsim := startSimProcess(t, users, 41, "--latency", "1ms", "--tls")
			tlsSetup = prepare(tsim, "SSL_CERT_FILE="+tsim.CAFile)
			if _, err, out := run(tlsSetup, bound); err != nil {
				t.Fatalf("the clean import over TLS failed: %v\n%s", err, out)
			}
		}
		return tlsSetup
	}

	var worst time.Duration
	var worstCase string
	exact, failedClean, mismatches, hangs, unclear, losses, injected := 0, 0, 0, 0, 0, 0, 0
	for _, c := range cases {
		st := plain
		var p *faultProxy
		switch c.fault {
		case "dns":
			if c.stage == "token" {
				// A host other than this computer's must be https://.
				st = useTLS()
				route(st, "", "login.beacon-test.invalid")
			} else {
				route(st, "proxy.beacon-test.invalid:3128", "")
			}
		case "tls-hang":
			st = useTLS()
			p = startFaultProxy(t, st.host, "--fault", "tls-hang", "--count", strconv.Itoa(c.count))
			route(st, p.addr, "")
		default:
			p = startFaultProxy(t, st.host, "--fault", c.fault, "--match", stageMatch[c.stage], "--count", strconv.Itoa(c.count),
				"--stall", "15s", "--after", "100", "--rate", "16384")
			route(st, p.addr, "")
		}
		took, err, out := run(st, bound)
		n := 0
		if p != nil {
			n = p.injected()
		} else {
			n = 1 // the name that does not resolve
		}
		injected += n
		if took > worst {
			worst, worstCase = took, c.String()
		}
		msg := lastLine(out)
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			hangs++
			t.Errorf("%s: %v\n%s", c, err, out)
		case err == nil:
			if err := check(st, c.String()); err != nil {
				mismatches++
				t.Errorf("%s: the import succeeded with data different from the tenant: %v", c, err)
			} else {
				exact++
			}
			if c.count == 0 && c.fault != "slow" {
				t.Errorf("%s: the import succeeded although every answer at that stage failed (%d faults injected)", c, n)
			}
		default:
			failedClean++
			if !containsAny(msg, stageWords) || !containsAny(msg, causeWords[c.fault]) {
				unclear++
				t.Errorf("%s: the message does not name the stage and the cause:\n%s", c, out)
			}
			if err := check(st, c.String()); err != nil {
				losses++
				t.Errorf("%s: the last good import was not kept: %v", c, err)
			}
		}
		if n == 0 {
			t.Errorf("%s: the proxy injected no fault (the stage was never reached)", c)
		}
		t.Logf("%-28s %5.1fs faults=%d exit=%v %s", c, took.Seconds(), n, err, msg)
		// Back to the simulator directly for the next case.
		route(st, "", "")
	}
	figure(t, "dying-network", "cases=%d (faults: reset mid-answer, stall 15 s > every time-out, 16 kB/s, half-closed, TLS handshake never answered, unresolvable host; stages: token, SKUs, users, reports, applications; twice or every time) faults-injected=%d exact=%d clean-failures=%d mismatches=%d losses=%d unclear-messages=%d hangs=%d worst=%.1fs (%s) time-outs=production×%s",
		len(cases), injected, exact, failedClean, mismatches, losses, unclear, hangs, worst.Seconds(), worstCase, netTimeoutScale)
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// withHost is the URL u with its host:port replaced.
func withHost(t *testing.T, u, host string) string {
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	p.Host = host
	return p.String()
}
