package cli

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inventorybeacon/beacon/auth"
	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/internal/filelock"
	"github.com/inventorybeacon/beacon/schedule"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// scheduleAll attaches every connection of the environment to a new daily
// schedule and returns the first connection.
func (e *cliEnv) scheduleAll() storage.Connection {
	e.t.Helper()
	var conn storage.Connection
	err := storage.NewConfigStore(e.dir).Update(func(c *storage.Config) error {
		s := schedule.New()
		s.Name = "Nightly"
		c.Schedules = append(c.Schedules, s)
		for i := range c.Connections {
			c.Connections[i].ScheduleID = s.ID
		}
		conn = c.Connections[0]
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return conn
}

func (e *cliEnv) history(connID string) []inventory.Run {
	e.t.Helper()
	store, err := inventory.OpenDir(context.Background(), e.dir, inventory.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	defer store.Close()
	runs, err := store.History(context.Background(), connID, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return runs
}

func TestSchedulerUsage(t *testing.T) {
	e := newCLIEnv(t, 5)
	if code, _, errs := e.run("scheduler", "--help"); code != ExitOK || !strings.Contains(errs, "--once") {
		t.Errorf("--help: %d\n%s", code, errs)
	}
	if code, _, errs := e.run("scheduler", "now"); code != ExitUsage || !strings.Contains(errs, `unexpected argument "now"`) {
		t.Errorf("extra argument: %d\n%s", code, errs)
	}
	t.Setenv(schedulerClockEnv, "yesterday")
	if code, _, errs := e.run("scheduler", "--once"); code != ExitFailed || !strings.Contains(errs, "RFC 3339") {
		t.Errorf("bad test clock: %d\n%s", code, errs)
	}
}

func TestSchedulerOnceImportsAgainstSimulator(t *testing.T) {
	e := newCLIEnv(t, 25)
	conn := e.scheduleAll()

	// Never run by a schedule: --once runs it.
	code, out, errs := e.run("scheduler", "--once")
	if code != ExitOK || !strings.Contains(out, "1 succeeded") {
		t.Fatalf("first --once: %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if !strings.Contains(errs, "import started") || !strings.Contains(errs, "connection=\"Contoso Tenant\"") {
		t.Errorf("stderr does not log the import:\n%s", errs)
	}
	runs := e.history(conn.ID)
	if len(runs) != 1 || runs[0].Trigger != inventory.TriggerSchedule || runs[0].Status != inventory.StatusSucceeded || runs[0].Counts.Users != 25 {
		t.Fatalf("history after --once: %+v", runs)
	}

	// Its latest slot has run: nothing to do.
	code, out, errs = e.run("scheduler", "--once")
	if code != ExitOK || !strings.Contains(out, "0 succeeded") {
		t.Fatalf("second --once: %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if runs := e.history(conn.ID); len(runs) != 1 {
		t.Fatalf("second --once ran again: %+v", runs)
	}
}

func TestSchedulerRecordsSkippedWhenAlreadyRunning(t *testing.T) {
	e := newCLIEnv(t, 5)
	conn := e.scheduleAll()
	// `beacon execute` or the window is importing the connection.
	release, err := schedule.LockConnection(e.dir, conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	code, out, errs := e.run("scheduler", "--once")
	if code != ExitOK || !strings.Contains(out, "1 skipped") {
		t.Fatalf("--once: %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	runs := e.history(conn.ID)
	if len(runs) != 1 || runs[0].Status != inventory.StatusSkipped || runs[0].Error != schedule.SkipAlreadyRunning || runs[0].Trigger != inventory.TriggerSchedule {
		t.Fatalf("history: %+v", runs)
	}
}

func TestSchedulerFailedSignInIsRecorded(t *testing.T) {
	e := newCLIEnv(t, 5)
	conn := e.scheduleAll()
	e.useToken("admin", errTokenForTest)
	code, out, errs := e.run("scheduler", "--once")
	if code != ExitFailed || !strings.Contains(out, "1 failed") {
		t.Fatalf("--once: %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	runs := e.history(conn.ID)
	if len(runs) != 1 || runs[0].Status != inventory.StatusFailed || !strings.Contains(runs[0].Error, "sign in again") {
		t.Fatalf("history: %+v", runs)
	}
}

func TestSchedulerRefusesSecondScheduler(t *testing.T) {
	e := newCLIEnv(t, 5)
	if code, _, errs := e.run("scheduler", "--once"); code != ExitOK {
		t.Fatalf("--once: %d\n%s", code, errs) // creates the lock folder
	}
	release, err := filelock.TryLock(filepath.Join(e.dir, "locks", schedulerLockName))
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	code, _, errs := e.run("scheduler")
	if code != ExitFailed || !strings.Contains(errs, "another `beacon scheduler` is already running") {
		t.Fatalf("second scheduler: %d\n%s", code, errs)
	}
}

func TestSchedulerStopsCleanly(t *testing.T) {
	e := newCLIEnv(t, 5)
	e.scheduleAll()
	// SIGINT and SIGTERM cancel the context (main does that); a scheduler
	// with nothing running stops at once with success.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	code := Run(ctx, &Env{Stdout: &out, Stderr: &errb, ConfigDir: e.dir}, []string{"scheduler"})
	if code != ExitOK || !strings.Contains(errb.String(), "scheduler stopped") {
		t.Fatalf("cancelled scheduler: %d\n%s", code, errb.String())
	}
}

var errTokenForTest = auth.ErrReauthRequired

func TestSchedulerRecordsRunThatCouldNotStart(t *testing.T) {
	e := newCLIEnv(t, 5)
	conn := e.scheduleAll()
	executeTokenSource = func(*Env, storage.Connection, storage.Secrets, *http.Client) (graph.TokenSource, error) {
		return nil, errors.New("no sign-in is stored for this connection; click Generate...")
	}
	code, out, errs := e.run("scheduler", "--once")
	if code != ExitFailed || !strings.Contains(out, "1 failed") {
		t.Fatalf("--once: %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	runs := e.history(conn.ID)
	if len(runs) != 1 || runs[0].Status != inventory.StatusFailed || runs[0].Trigger != inventory.TriggerSchedule || !strings.Contains(runs[0].Error, "click Generate") {
		t.Fatalf("history: %+v", runs)
	}
}
