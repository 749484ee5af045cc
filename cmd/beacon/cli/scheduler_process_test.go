package cli

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// TestSchedulerHelperProcess is `beacon scheduler` as a real process for
// TestSchedulerProcess: the test binary re-executed with
// BEACON_TEST_SCHEDULER_TOKEN set. It stops on SIGINT or SIGTERM, as main
// arranges for the real binary.
func TestSchedulerHelperProcess(t *testing.T) {
	token := os.Getenv("BEACON_TEST_SCHEDULER_TOKEN")
	if token == "" {
		return // not the helper
	}
	executeKeyring = func() storage.Secrets { return noKeyring{} }
	executeTokenSource = func(*Env, storage.Connection, storage.Secrets, *http.Client) (graph.TokenSource, error) {
		return mintedTokens{token: token}, nil
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(Run(ctx, DefaultEnv(os.Getenv("BEACON_TEST_SCHEDULER_DIR")), []string{"scheduler"}))
}

// TestSchedulerProcess runs a real scheduler process against the simulator
// on a clock 30 times faster than real time: two schedules (every minute,
// every two minutes) for a few simulated minutes, then SIGINT. The process
// must stop cleanly and leave one scheduled run per slot in the history.
// Real time passes here, so the checks are ones no machine's speed can
// break: no slot run twice, none before its time, a clean exit.
func TestSchedulerProcess(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("stopping a process with SIGINT is not possible on Windows")
	}
	e := newCLIEnv(t, 10)
	var contoso, fabrikam storage.Connection
	err := storage.NewConfigStore(e.dir).Update(func(c *storage.Config) error {
		every1 := storage.Schedule{ID: storage.NewID(), Name: "Every minute", Kind: storage.EveryNMinutes, EveryMinutes: 1}
		every2 := storage.Schedule{ID: storage.NewID(), Name: "Every two minutes", Kind: storage.EveryNMinutes, EveryMinutes: 2}
		c.Schedules = append(c.Schedules, every1, every2)
		c.Connections[0].ScheduleID = every1.ID
		second := c.Connections[0]
		second.ID, second.Name, second.ScheduleID = storage.NewID(), "Fabrikam", every2.ID
		c.Connections = append(c.Connections, second)
		contoso, fabrikam = c.Connections[0], second
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	start := time.Date(2026, 6, 10, 5, 59, 50, 0, time.UTC)
	cmd := exec.Command(os.Args[0], "-test.run=^TestSchedulerHelperProcess$")
	cmd.Env = append(os.Environ(),
		"BEACON_TEST_SCHEDULER_TOKEN="+e.sim.MintAccessToken(tenant.AdminLocalPart+"@"+e.sim.Tenant().Domain),
		"BEACON_TEST_SCHEDULER_DIR="+e.dir,
		schedulerClockEnv+"="+start.Format(time.RFC3339)+"*30",
		"TZ=UTC")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()

	// Wait for three imports of Contoso (06:00, 06:01, 06:02) and two of
	// Fabrikam (06:00, 06:02), reading the log as it comes.
	var log strings.Builder
	finished := map[string]int{}
	guard := time.After(2 * time.Minute)
	signalled := false
	for reading := true; reading; {
		select {
		case line, ok := <-lines:
			if !ok {
				reading = false
				break
			}
			log.WriteString(line + "\n")
			if strings.Contains(line, `msg="import finished"`) {
				for _, name := range []string{contoso.Name, fabrikam.Name} {
					// slog quotes a value only when it must.
					if strings.Contains(line, "connection=\""+name+"\"") || strings.Contains(line, "connection="+name+" ") {
						finished[name]++
					}
				}
			}
			if !signalled && finished[contoso.Name] >= 3 && finished[fabrikam.Name] >= 2 {
				signalled = true
				if err := cmd.Process.Signal(os.Interrupt); err != nil {
					t.Fatal(err)
				}
			}
		case <-guard:
			t.Fatalf("the scheduler process did not do its work within 2 minutes; its log:\n%s", log.String())
		}
	}
	if err := cmd.Wait(); err != nil || !signalled {
		t.Fatalf("scheduler process: %v (signalled %v); its log:\n%s", err, signalled, log.String())
	}
	if !strings.Contains(log.String(), "scheduler stopped") {
		t.Errorf("the log does not say the scheduler stopped:\n%s", log.String())
	}

	for _, tc := range []struct {
		conn  storage.Connection
		every time.Duration
		min   int
	}{{contoso, time.Minute, 3}, {fabrikam, 2 * time.Minute, 2}} {
		runs := e.history(tc.conn.ID)
		slots := map[time.Time]bool{}
		good := 0
		for i, r := range runs { // newest first
			if r.Trigger != inventory.TriggerSchedule {
				t.Errorf("%s: run with trigger %s", tc.conn.Name, r.Trigger)
			}
			// Only the newest run may have been cut short by SIGINT.
			if r.Status != inventory.StatusSucceeded && (i > 0 || r.Status != inventory.StatusCancelled) {
				t.Errorf("%s: run %d ended %s: %s", tc.conn.Name, r.ID, r.Status, r.Error)
			}
			slot := r.Started.Truncate(tc.every)
			if slot.Before(start) || slots[slot] {
				t.Errorf("%s: run at %v is before the first slot or a second run of slot %v", tc.conn.Name, r.Started, slot)
			}
			slots[slot] = true
			if r.Status == inventory.StatusSucceeded {
				good++
			}
		}
		if good < tc.min {
			t.Errorf("%s: %d good scheduled runs, want at least %d: %+v", tc.conn.Name, good, tc.min, runs)
		}
	}
}
