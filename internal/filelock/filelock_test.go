package filelock

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The helper process: when BEACON_FILELOCK_HELPER names a lock file, the
// test binary takes that lock, says "locked" on stdout and holds it until
// its stdin closes (or it is killed). Real processes are the point: the
// lock must exclude another process and die with it.
func TestMain(m *testing.M) {
	if path := os.Getenv("BEACON_FILELOCK_HELPER"); path != "" {
		release, err := TryLock(path)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(3)
		}
		fmt.Println("locked")
		// Block until the parent closes stdin; a parent that is killed
		// closes it too, so no helper outlives its test.
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
		release()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type helper struct {
	cmd   *exec.Cmd
	stdin interface{ Close() error }
}

// startHelper starts a process holding the lock on path and returns once it
// has it.
func startHelper(t *testing.T, path string) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "BEACON_FILELOCK_HELPER="+path)
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
	h := &helper{cmd: cmd, stdin: stdin}
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		t.Fatalf("helper process did not take the lock: %q, %v", line, err)
	}
	return h
}

func lockPath(t *testing.T) string { return filepath.Join(t.TempDir(), "test.lock") }

func TestTryLockExcludesSecondHolderInProcess(t *testing.T) {
	path := lockPath(t)
	release, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TryLock(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("second TryLock: got %v, want ErrLocked", err)
	}
	release()
	release() // a second release must be harmless
	release2, err := TryLock(path)
	if err != nil {
		t.Fatalf("TryLock after release: %v", err)
	}
	release2()
}

func TestHolderNamesThisProcessWhileHeld(t *testing.T) {
	path := lockPath(t)
	release, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	// Windows locks are mandatory: the pid cannot be read while held.
	if runtime.GOOS != "windows" {
		if pid, ok := Holder(path); !ok || pid != os.Getpid() {
			t.Errorf("Holder while held = %d, %v; want %d", pid, ok, os.Getpid())
		}
		_, err = TryLock(path)
		if want := fmt.Sprintf("held by process %d", os.Getpid()); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v should say %q", err, want)
		}
	}
	release()
	if pid, ok := Holder(path); ok {
		t.Errorf("Holder after release = %d; want none", pid)
	}
}

func TestLockWaitsForRelease(t *testing.T) {
	path := lockPath(t)
	release, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		r, err := Lock(path, time.Minute)
		if err == nil {
			r()
		}
		got <- err
	}()
	// Whether the waiter has started polling yet or not, it must get the
	// lock once it is released.
	release()
	if err := <-got; err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
}

func TestLockTimesOut(t *testing.T) {
	path := lockPath(t)
	release, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	_, err = Lock(path, 20*time.Millisecond)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "waited 20ms") {
		t.Fatalf("Lock on a held lock: got %v, want a time-out wrapping ErrLocked", err)
	}
	if _, err := Lock(path, 0); !errors.Is(err, ErrLocked) {
		t.Fatalf("Lock with zero time-out: got %v, want ErrLocked", err)
	}
}

func TestLockContextCancelled(t *testing.T) {
	path := lockPath(t)
	release, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := LockContext(ctx, path); !errors.Is(err, context.Canceled) {
		t.Fatalf("LockContext with a cancelled context: got %v", err)
	}
}

func TestMissingFolderSaysWhatToCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no-such-folder", "x.lock")
	_, err := TryLock(path)
	if err == nil || errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "check that its folder exists") {
		t.Fatalf("got %v", err)
	}
}

func TestOtherProcessHoldsLock(t *testing.T) {
	path := lockPath(t)
	h := startHelper(t, path)
	if _, err := TryLock(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("TryLock while another process holds it: got %v, want ErrLocked", err)
	}
	if pid, ok := Holder(path); runtime.GOOS != "windows" && (!ok || pid != h.cmd.Process.Pid) {
		t.Errorf("Holder = %d, %v; want the helper's pid %d", pid, ok, h.cmd.Process.Pid)
	}
	// A clean release by the other process frees the lock.
	h.stdin.Close()
	if err := h.cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	release, err := TryLock(path)
	if err != nil {
		t.Fatalf("TryLock after the other process released: %v", err)
	}
	release()
}

func TestWaiterGetsLockWhenOtherProcessReleases(t *testing.T) {
	path := lockPath(t)
	h := startHelper(t, path)
	got := make(chan error, 1)
	go func() {
		r, err := Lock(path, time.Minute)
		if err == nil {
			r()
		}
		got <- err
	}()
	h.stdin.Close()
	if err := <-got; err != nil {
		t.Fatalf("Lock while the other process releases: %v", err)
	}
}

func TestKilledHolderReleasesLock(t *testing.T) {
	path := lockPath(t)
	h := startHelper(t, path)
	if _, err := TryLock(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("TryLock while another process holds it: got %v, want ErrLocked", err)
	}
	// SIGKILL on Unix, TerminateProcess on Windows: the holder gets no
	// chance to release; the operating system must.
	if err := h.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = h.cmd.Wait()
	release, err := TryLock(path)
	if err != nil {
		t.Fatalf("TryLock after the holder was killed: %v", err)
	}
	release()
}

// A waiter that gave up is still blocked in the kernel; when it finally
// gets the lock it must let go at once, or the lock would stay taken by a
// caller that already returned an error.
func TestAbandonedWaiterReleasesLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	release, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := Lock(path, 5*time.Millisecond); !errors.Is(err, ErrLocked) {
			t.Fatalf("wait %d on a held lock: %v", i, err)
		}
	}
	release()
	// The abandoned waiters take the lock in turn and drop it; a fresh
	// caller must get it within a short wait.
	again, err := Lock(path, 5*time.Second)
	if err != nil {
		t.Fatalf("lock after the holder released and the waiters gave up: %v", err)
	}
	again()
	// Another abandoned waiter may hold it for an instant before dropping
	// it, so allow a short wait, but never a permanent hold.
	last, err := Lock(path, 5*time.Second)
	if err != nil {
		t.Fatalf("lock still held after every holder released: %v", err)
	}
	last()
}
