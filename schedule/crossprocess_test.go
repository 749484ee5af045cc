package schedule

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/storage"
)

// TestMain doubles as the helper process of the cross-process tests: with
// BEACON_SCHEDULE_HELPER=DIR|CONNECTION-ID the test binary takes that
// connection's run lock, as an import in another Inventory Beacon process
// would, says "locked" and holds it until its stdin closes.
func TestMain(m *testing.M) {
	if spec := os.Getenv("BEACON_SCHEDULE_HELPER"); spec != "" {
		dir, id, _ := strings.Cut(spec, "|")
		release, err := LockConnection(dir, id)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(3)
		}
		fmt.Println("locked")
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
		release()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// holdInOtherProcess starts a process holding the run lock of connection
// id and returns a function that makes it release the lock and exit.
func holdInOtherProcess(t *testing.T, dir, id string) (stop func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "BEACON_SCHEDULE_HELPER="+dir+"|"+id)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper process: %v", err)
		}
	}
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Kill()
			stop()
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		t.Fatalf("helper process did not take the lock: %q, %v", line, err)
	}
	return stop
}

// TestConnectionRunningInAnotherProcessIsSkipped: the window imports a
// connection while `beacon scheduler` (this process) finds it due. The
// scheduler records "skipped: already running" and runs it next time.
func TestConnectionRunningInAnotherProcessIsSkipped(t *testing.T) {
	dir := t.TempDir()
	id := storage.NewID()
	h := newHarness(t, june10(5, 0), storage.Config{
		Schedules:   []storage.Schedule{named("d", "Daily", daily(6, 0))},
		Connections: []storage.Connection{conn(id, "Alpha", "d"), conn("c2", "Beta", "d")},
	})
	h.locks = ConnectionLocks{Dir: dir}
	stop := holdInOtherProcess(t, dir, id)
	h.start()
	h.advanceTo(june10(6, 1))
	stop()
	h.advanceTo(time.Date(2026, 6, 11, 6, 1, 0, 0, time.UTC))
	h.wantHistory(
		"06-10 06:00 Alpha schedule skipped already running",
		"06-10 06:00 Beta schedule succeeded",
		"06-11 06:00 Alpha schedule succeeded",
		"06-11 06:00 Beta schedule succeeded",
	)
}

func TestConnectionLockPathStaysInLockFolder(t *testing.T) {
	dir := t.TempDir()
	id := storage.NewID()
	if got, want := ConnectionLockPath(dir, id), dir+string(os.PathSeparator)+"locks"+string(os.PathSeparator)+"run-"+id+".lock"; got != want {
		t.Errorf("lock path %s, want %s", got, want)
	}
	evil := ConnectionLockPath(dir, "../../etc/passwd")
	if !strings.HasPrefix(evil, dir+string(os.PathSeparator)+"locks"+string(os.PathSeparator)+"run-") || strings.Contains(evil, "..") {
		t.Errorf("a malformed id escapes the lock folder: %s", evil)
	}
	release, err := LockConnection(dir, "../../etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockConnection(dir, "../../etc/passwd"); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("second lock: %v", err)
	}
	release()
}
