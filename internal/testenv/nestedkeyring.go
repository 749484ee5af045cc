//go:build linux

package testenv

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// NestedKeyring is a private gnome-keyring-daemon (unlocked "login"
// collection) on a private D-Bus session bus, both started by the test and
// ended with it. Child processes given Env() use it as their keyring; the
// test can freeze it (Stop, SIGSTOP) to make their keyring calls hang at a
// moment of its choosing, and thaw it (Cont). The shared session keyring,
// which other tests use at the same time, is never touched.
//
// A process caches its session bus, so the test process itself keeps
// talking to the shared keyring: reach this one through children.
type NestedKeyring struct {
	Address   string // DBUS_SESSION_BUS_ADDRESS of the private bus
	DaemonPID int    // the gnome-keyring-daemon owning org.freedesktop.secrets there
	dir       string
	bus       *exec.Cmd
	daemon    *exec.Cmd
}

// StartNestedKeyring starts the bus and the daemon, and waits until the
// daemon owns org.freedesktop.secrets on that bus.
func StartNestedKeyring(t testing.TB) *NestedKeyring {
	t.Helper()
	for _, bin := range []string{"dbus-daemon", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing(t, "%s is not installed", bin)
			return nil
		}
	}
	// A short path: a Unix socket's name is limited to 108 bytes.
	dir, err := os.MkdirTemp("", "bkr-")
	if err != nil {
		t.Fatal(err)
	}
	k := &NestedKeyring{dir: dir}
	t.Cleanup(k.close)
	for _, d := range []string{"data", "run"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// --session for the session policy; our own address, no fork, no
	// pid file: the bus is this test's child and ends with it.
	k.bus = exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1",
		"--address=unix:path="+filepath.Join(dir, "bus"))
	k.bus.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := k.bus.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	// It warns that it cannot raise its file limit when not root-capable.
	k.bus.Stderr = io.Discard
	// A keyring daemon the bus starts by activation (a call while ours is
	// down: Restart) gets the bus's environment: this keyring's folders,
	// never the shared session's files, and no display to prompt on.
	k.bus.Env = k.environ(filepath.Join(dir, "data"), filepath.Join(dir, "run"))
	if err := k.bus.Start(); err != nil {
		t.Fatalf("start dbus-daemon: %v", err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon printed no address: %v", err)
	}
	k.Address = strings.TrimSpace(line)
	if k.Address == os.Getenv("DBUS_SESSION_BUS_ADDRESS") {
		t.Fatalf("the private bus has the shared bus's address %q", k.Address)
	}

	if err := k.startDaemon(false); err != nil {
		t.Fatal(err)
	}
	return k
}

const secretsName = "org.freedesktop.secrets"

// startDaemon starts a gnome-keyring-daemon on the bus with this keyring's
// folders, its "login" collection unlocked or (locked) left locked as
// after a start without the login password, and waits until it owns
// org.freedesktop.secrets.
func (k *NestedKeyring) startDaemon(locked bool) error {
	// --foreground keeps the daemon our child (stopped and killed by its
	// PID); without DISPLAY it shows no prompt, without GNOME_KEYRING_*
	// it cannot reach the shared daemon.
	args := []string{"--unlock", "--components=secrets", "--foreground"}
	if locked {
		args = args[1:]
	}
	k.daemon = exec.Command("gnome-keyring-daemon", args...)
	k.daemon.Env = k.environ(filepath.Join(k.dir, "data"), filepath.Join(k.dir, "run"))
	if !locked {
		k.daemon.Stdin = strings.NewReader("nested-keyring-password")
	}
	k.daemon.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := k.daemon.Start(); err != nil {
		return fmt.Errorf("start gnome-keyring-daemon: %w", err)
	}
	pid, err := k.owner(20*time.Second, func(pid int) bool { return pid != 0 })
	if err != nil {
		return fmt.Errorf("gnome-keyring-daemon did not claim %s on the private bus: %w", secretsName, err)
	}
	if pid != k.daemon.Process.Pid {
		return fmt.Errorf("%s is owned by PID %d, not by the daemon started here (%d)", secretsName, pid, k.daemon.Process.Pid)
	}
	k.DaemonPID = pid
	return nil
}

// owner waits up to wait until ok accepts the PID owning
// org.freedesktop.secrets on the bus (0: nobody), and returns it.
func (k *NestedKeyring) owner(wait time.Duration, ok func(pid int) bool) (int, error) {
	conn, err := dbus.Connect(k.Address)
	if err != nil {
		return 0, fmt.Errorf("connect to the private bus %s: %w", k.Address, err)
	}
	defer conn.Close()
	deadline := time.Now().Add(wait)
	for {
		pid := 0
		var has bool
		if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, secretsName).Store(&has); err == nil && has {
			var p uint32
			if err := conn.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, secretsName).Store(&p); err == nil {
				pid = int(p)
			}
		}
		if ok(pid) {
			return pid, nil
		}
		if time.Now().After(deadline) {
			return pid, fmt.Errorf("still owned by PID %d after %s", pid, wait)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill ends the keyring daemon with SIGKILL, as a crash would, and waits
// until the bus has forgotten it. Its keyring file stays.
func (k *NestedKeyring) Kill() error {
	_ = k.daemon.Process.Signal(syscall.SIGCONT)
	if err := k.daemon.Process.Kill(); err != nil {
		return err
	}
	_ = k.daemon.Wait()
	dead := k.daemon.Process.Pid
	_, err := k.owner(10*time.Second, func(pid int) bool { return pid != dead })
	return err
}

// Restart starts the keyring daemon again on the same bus with the same
// keyring file, unlocked or locked, after Kill. A daemon the bus started
// meanwhile by activation (a client asked while none was running) is
// ended first; it returns how many were.
func (k *NestedKeyring) Restart(locked bool) (activated int, err error) {
	for {
		pid, _ := k.owner(0, func(int) bool { return true })
		if pid == 0 {
			break
		}
		if pid == k.daemon.Process.Pid {
			return activated, fmt.Errorf("the keyring daemon %d is still running: Kill it first", pid)
		}
		activated++
		if p, err := os.FindProcess(pid); err == nil {
			_ = p.Kill()
		}
		if _, err := k.owner(10*time.Second, func(p int) bool { return p != pid }); err != nil {
			return activated, err
		}
	}
	return activated, k.startDaemon(locked)
}

// environ is this process's environment for a child of the private bus.
func (k *NestedKeyring) environ(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY", "GNOME_KEYRING_CONTROL", "GNOME_KEYRING_PID":
			continue
		case "XDG_DATA_HOME", "XDG_RUNTIME_DIR":
			if len(extra) > 0 {
				continue
			}
		}
		env = append(env, kv)
	}
	env = append(env, "DBUS_SESSION_BUS_ADDRESS="+k.Address)
	if len(extra) == 2 {
		env = append(env, "XDG_DATA_HOME="+extra[0], "XDG_RUNTIME_DIR="+extra[1])
	}
	return env
}

// Env is the environment of a child process that should use this keyring.
func (k *NestedKeyring) Env() []string { return k.environ() }

// Stop freezes the daemon (SIGSTOP) and returns once the kernel shows it
// stopped: keyring calls hang until Cont.
func (k *NestedKeyring) Stop() error {
	if err := k.daemon.Process.Signal(syscall.SIGSTOP); err != nil {
		return err
	}
	for deadline := time.Now().Add(5 * time.Second); !k.Stopped(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("gnome-keyring-daemon %d not stopped 5 s after SIGSTOP", k.daemon.Process.Pid)
		}
	}
	return nil
}

// Cont thaws the daemon (SIGCONT).
func (k *NestedKeyring) Cont() error { return k.daemon.Process.Signal(syscall.SIGCONT) }

// Stopped reports whether the daemon is in the stopped state ("T" in
// /proc/PID/stat).
func (k *NestedKeyring) Stopped() bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", k.daemon.Process.Pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...; comm may hold spaces, so cut at the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] == 'T'
}

func (k *NestedKeyring) close() {
	for _, c := range []*exec.Cmd{k.daemon, k.bus} {
		if c != nil && c.Process != nil {
			_ = c.Process.Signal(syscall.SIGCONT)
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	}
	_ = os.RemoveAll(k.dir)
}
