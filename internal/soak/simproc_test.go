//go:build linux

package soak

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

// The kill and load checks run the simulator as its own process, the real
// cmd/m365sim binary, so that the process under test and Microsoft share
// nothing but loopback TCP (no Go runtime, heap or scheduler in common),
// as in production.

// simBinary returns an `m365sim` binary: $BEACON_SOAK_SIM_BIN when set
// (scripts/soak.sh builds it once), otherwise one built once for this test
// process with `go build ./cmd/m365sim`.
func simBinary(t *testing.T) string { return simBuild.binary(t) }

// simProcess is a running cmd/m365sim.
type simProcess struct {
	m365sim.ReadyInfo
	cmd     *exec.Cmd
	startup time.Duration // from exec to the ready line (tenant generation included)
	mu      sync.Mutex
	out     bytes.Buffer // its output after the ready line
}

func (s *simProcess) TokenEndpoint() string { return s.ReadyInfo.TokenEndpoint }
func (s *simProcess) GraphEndpoint() string { return s.ReadyInfo.GraphEndpoint }
func (s *simProcess) ClientCredentialsApp() (string, string) {
	return s.ClientCredentialsID, s.ClientCredentialsSecret
}

// Tenant rebuilds, in this process, the tenant the simulator serves:
// tenant.GenerateAt is deterministic for a seed, a size and a day, and the
// ready line gives all three (cmd/m365sim
// TestReadyJSONDescribesTheServedTenant checks it against Graph).
func (s *simProcess) Tenant() *tenant.Tenant {
	return tenant.GenerateAt(s.Seed, s.Users, s.Reference)
}

// startSimProcess starts `m365sim --addr 127.0.0.1:0 --users N --seed S
// --ready-json extra...` and waits for its ready line. SIGTERM stops it
// when the test ends; it must then exit cleanly.
func startSimProcess(t *testing.T, users int, seed int64, extra ...string) *simProcess {
	t.Helper()
	args := append([]string{"--addr", "127.0.0.1:0", "--users", strconv.Itoa(users), "--seed", strconv.FormatInt(seed, 10), "--ready-json"}, extra...)
	cmd := exec.Command(simBinary(t), args...)
	cmd.Stderr = os.Stderr
	// The simulator must not outlive a test binary that dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &simProcess{cmd: cmd}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		got := false
		for sc.Scan() {
			line := sc.Text()
			if js, ok := strings.CutPrefix(line, m365sim.ReadyPrefix); ok && !got {
				got = true
				ready <- json.Unmarshal([]byte(js), &s.ReadyInfo)
				continue
			}
			s.mu.Lock()
			s.out.WriteString(line + "\n")
			s.mu.Unlock()
		}
		if !got {
			ready <- fmt.Errorf("m365sim exited without its ready line")
		}
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("m365sim did not stop cleanly on SIGTERM: %v", err)
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("m365sim did not stop within 15 s of SIGTERM")
		}
	}
	t.Cleanup(stop)
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("m365sim %v: %v\n%s", args, err, s.output())
		}
	case <-time.After(10 * time.Minute): // bounds a broken start only (200,000 users take about a minute)
		t.Fatalf("m365sim %v: no ready line in 10 minutes", args)
	}
	s.startup = time.Since(start)
	if s.PID != cmd.Process.Pid || !strings.HasPrefix(strings.TrimPrefix(s.URL, "https"), "://127.0.0.1:") && !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Fatalf("m365sim ready line %+v (pid %d)", s.ReadyInfo, cmd.Process.Pid)
	}
	t.Logf("m365sim pid %d serves %d users (seed %d) at %s, ready in %s", s.PID, s.Users, s.Seed, s.URL, s.startup.Round(time.Millisecond))
	return s
}

func (s *simProcess) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// rssKB is the simulator's resident memory, for the figures.
func (s *simProcess) rssKB() int {
	p, err := sampleProc(s.cmd.Process.Pid)
	if err != nil {
		return 0
	}
	return p.rssKB
}
