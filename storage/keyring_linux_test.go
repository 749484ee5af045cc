//go:build linux

package storage

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/inventorybeacon/beacon/internal/testenv"
)

// The errors of a machine without a keyring. godbus keeps one session bus
// connection per process, so each case runs in a child process: one whose
// bus address points nowhere, and one on a private bus that has no Secret
// Service to start (no service files).
func TestKeyringWithoutSessionBus(t *testing.T) {
	t.Parallel()
	cmd := childCommand(t, "no-keyring", nil, "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/bus")
	checkNoKeyring(t, cmd)
}

func TestKeyringWithoutSecretService(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("dbus-run-session"); err != nil {
		if testenv.Required() {
			t.Fatalf("dbus-run-session is not installed (run the tests through `make test`)")
		}
		t.Skip("dbus-run-session is not installed")
	}
	conf := filepath.Join(t.TempDir(), "bus.conf")
	// A session bus with no <servicedir>: nothing can be activated.
	err := os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=`+os.TempDir()+`</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("dbus-run-session", "--config-file="+conf, "--", os.Args[0], "-test.run=^$")
	cmd.Env = childEnviron([]string{"DBUS_SESSION_BUS_ADDRESS", "GNOME_KEYRING_CONTROL"}, childEnv+"=no-keyring")
	checkNoKeyring(t, cmd)
}

func checkNoKeyring(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var r map[string]keyringResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	for _, op := range []string{"get", "set", "delete"} {
		res, ok := r[op]
		if !ok || !res.NoKeyring || res.Timeout {
			t.Errorf("%s: %+v, want ErrNoKeyring", op, res)
		}
		if !strings.Contains(res.Message, "GNOME Keyring") || !strings.Contains(res.Message, "KeePassXC") {
			t.Errorf("%s: the message does not say how to get a keyring: %s", op, res.Message)
		}
		if res.Elapsed > 3*time.Second {
			t.Errorf("%s took %s to fail", op, res.Elapsed)
		}
	}
}

func childNoKeyring() int {
	s := NewKeyring(testService, 5*time.Second)
	id := NewID()
	r := map[string]keyringResult{}
	start := time.Now()
	_, err := s.Get(id, SecretRefreshToken)
	r["get"] = resultOf(err, start)
	start = time.Now()
	r["set"] = resultOf(s.Set(id, SecretRefreshToken, "v"), start)
	start = time.Now()
	r["delete"] = resultOf(s.Delete(id, SecretRefreshToken), start)
	_ = json.NewEncoder(os.Stdout).Encode(r)
	return 0
}

// The locked keyring and the hung keyring, against a private gnome-keyring
// in a nested D-Bus session: other packages' tests use the shared session
// keyring at the same time, so it is never locked or stopped here.
func TestKeyringLockedAndHung(t *testing.T) {
	t.Parallel()
	for _, bin := range []string{"dbus-run-session", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(bin); err != nil {
			if testenv.Required() {
				t.Fatalf("%s is not installed (run the tests through `make test`)", bin)
			}
			t.Skipf("%s is not installed", bin)
		}
	}
	tmp := t.TempDir()
	data, run := filepath.Join(tmp, "data"), filepath.Join(tmp, "run")
	for _, d := range []string{data, run} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("dbus-run-session", "--", os.Args[0], "-test.run=^$")
	// Without DISPLAY gnome-keyring cannot show its unlock prompt; without
	// GNOME_KEYRING_CONTROL the nested daemon cannot reach the shared one.
	cmd.Env = childEnviron(
		[]string{"DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "GNOME_KEYRING_CONTROL", "GNOME_KEYRING_PID", "XDG_DATA_HOME", "XDG_RUNTIME_DIR"},
		childEnv+"=nested-keyring", "XDG_DATA_HOME="+data, "XDG_RUNTIME_DIR="+run,
		"BEACON_OUTER_BUS="+os.Getenv("DBUS_SESSION_BUS_ADDRESS"), "BEACON_TEST_DISPLAY="+os.Getenv("DISPLAY"))
	// The nested bus, daemon and prompter log freely; keep it for failures.
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	// A service the nested bus activated (the unlock prompter, or what it
	// starts) can outlive the session and keep the output pipes open:
	// once the session has ended, stop waiting for them.
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A child that goes wrong must not hang the suite.
	timer := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	results := map[string]keyringResult{}
	var lines []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		lines = append(lines, line)
		if name, js, ok := strings.Cut(line, " "); ok && strings.HasPrefix(name, "result:") {
			var r keyringResult
			if err := json.Unmarshal([]byte(js), &r); err != nil {
				t.Fatalf("child line %q: %v", line, err)
			}
			results[strings.TrimPrefix(name, "result:")] = r
		}
	}
	// ErrWaitDelay: the session ended well, but something it started still
	// held the output pipes when WaitDelay ran out (its results are in).
	if err := cmd.Wait(); err != nil && !errors.Is(err, exec.ErrWaitDelay) {
		t.Fatalf("nested session: %v\n%s\nstderr:\n%s", err, strings.Join(lines, "\n"), &stderr)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("nested session stderr:\n%s", &stderr)
		}
	})
	t.Logf("nested session:\n%s", strings.Join(lines, "\n"))

	check := func(name string, want func(keyringResult) bool, what string, bound time.Duration) {
		r, ok := results[name]
		if !ok {
			t.Errorf("%s: no result", name)
			return
		}
		if !want(r) {
			t.Errorf("%s: %+v, want %s", name, r, what)
		}
		if r.Elapsed > bound {
			t.Errorf("%s took %s, more than %s", name, r.Elapsed, bound)
		}
	}
	check("unlocked-set", func(r keyringResult) bool { return r.OK }, "success", 3*time.Second)
	check("locked-get", func(r keyringResult) bool { return r.Locked && !r.Timeout }, "ErrKeyringLocked at once", time.Second)
	check("locked-set", func(r keyringResult) bool { return r.Locked && !r.Timeout }, "ErrKeyringLocked at once", time.Second)
	check("hung-get", func(r keyringResult) bool { return r.Timeout && !r.Locked }, "ErrKeyringTimeout", 3*time.Second)
	if os.Getenv("DISPLAY") != "" || testenv.Required() {
		check("prompt-get", func(r keyringResult) bool { return r.Timeout && r.Locked }, "ErrKeyringLocked and ErrKeyringTimeout", 3*time.Second)
	}
	if r := results["hung-get"]; r.Elapsed < time.Second {
		t.Errorf("hung-get returned after %s, before its 1 s time-out: it did not actually hang", r.Elapsed)
	}
}

// childNestedKeyring runs inside its own dbus-run-session: it starts a
// private gnome-keyring, checks it works, locks its login collection over
// D-Bus, and then stops the daemon (SIGSTOP) to make calls hang.
func childNestedKeyring() int {
	fail := func(format string, args ...any) int {
		fmt.Printf("FAIL "+format+"\n", args...)
		return 1
	}
	bus := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if bus == "" || bus == os.Getenv("BEACON_OUTER_BUS") {
		return fail("not in a nested D-Bus session (bus %q); refusing to touch the shared keyring", bus)
	}
	conn, err := dbus.SessionBus()
	if err != nil {
		return fail("session bus: %v", err)
	}
	// The daemon claims its bus name some time after it starts; wait for
	// the NameOwnerChanged signal rather than guessing a delay.
	const secretsName = "org.freedesktop.secrets"
	owned := make(chan *dbus.Signal, 16)
	conn.Signal(owned)
	defer conn.RemoveSignal(owned)
	if err := conn.AddMatchSignal(dbus.WithMatchInterface("org.freedesktop.DBus"),
		dbus.WithMatchMember("NameOwnerChanged"), dbus.WithMatchArg(0, secretsName)); err != nil {
		return fail("watch the bus: %v", err)
	}
	// --foreground keeps the daemon a child of this process, so it can be
	// stopped and killed by its own PID; Pdeathsig ends it if this process
	// dies first.
	daemon := exec.Command("gnome-keyring-daemon", "--unlock", "--components=secrets", "--foreground")
	daemon.Stdin = strings.NewReader("nested-password")
	daemon.Stderr = os.Stderr
	daemon.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := daemon.Start(); err != nil {
		return fail("start gnome-keyring-daemon: %v", err)
	}
	defer func() {
		_ = daemon.Process.Signal(syscall.SIGCONT)
		_ = daemon.Process.Kill()
		_ = daemon.Wait()
	}()
	waitOwner := time.NewTimer(20 * time.Second)
	defer waitOwner.Stop()
	for ready := false; !ready; {
		select {
		case sig := <-owned:
			if sig.Name == "org.freedesktop.DBus.NameOwnerChanged" && len(sig.Body) == 3 && sig.Body[0] == secretsName && sig.Body[2] != "" {
				ready = true
			}
		case <-waitOwner.C:
			return fail("gnome-keyring-daemon did not claim %s within 20 s", secretsName)
		}
	}
	var pid uint32
	if err := conn.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, secretsName).Store(&pid); err != nil {
		return fail("find the keyring daemon: %v", err)
	}
	if int(pid) != daemon.Process.Pid {
		return fail("%s is owned by PID %d, not by the daemon started here (%d)", secretsName, pid, daemon.Process.Pid)
	}
	fmt.Printf("nested gnome-keyring-daemon pid %d on %s\n", pid, bus)

	s := NewKeyring(testService, 2*time.Second)
	hung := NewKeyring(testService, time.Second)
	id := NewID()
	report := func(name string, err error, start time.Time) {
		js, _ := json.Marshal(resultOf(err, start))
		fmt.Printf("result:%s %s\n", name, js)
	}
	start := time.Now()
	report("unlocked-set", s.Set(id, SecretRefreshToken, "value"), start)

	login := dbus.ObjectPath("/org/freedesktop/secrets/collection/login")
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	svc := conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets")
	if err := svc.Call("org.freedesktop.Secret.Service.Lock", 0, []dbus.ObjectPath{login}).Store(&locked, &prompt); err != nil {
		return fail("lock the nested login collection: %v", err)
	}
	v, err := conn.Object("org.freedesktop.secrets", login).GetProperty("org.freedesktop.Secret.Collection.Locked")
	if err != nil || v.Value() != true {
		return fail("the login collection did not lock: %v %v (locked %v, prompt %s)", v, err, locked, prompt)
	}
	fmt.Println("login collection locked")
	start = time.Now()
	_, err = s.Get(id, SecretRefreshToken)
	report("locked-get", err, start)
	start = time.Now()
	report("locked-set", s.Set(id, SecretRefreshToken, "other"), start)

	// The desktop case: a locked keyring whose unlock prompt appears and
	// is never answered. The prompter is started by D-Bus activation, so
	// the display goes into the bus's activation environment.
	if display := os.Getenv("BEACON_TEST_DISPLAY"); display != "" {
		env := map[string]string{"DISPLAY": display, "NO_AT_BRIDGE": "1", "LANG": "C.UTF-8"}
		if err := conn.BusObject().Call("org.freedesktop.DBus.UpdateActivationEnvironment", 0, env).Err; err != nil {
			return fail("give the bus a display: %v", err)
		}
		start = time.Now()
		_, err = hung.Get(id, SecretRefreshToken)
		report("prompt-get", err, start)
		const prompter = "org.gnome.keyring.SystemPrompter"
		var ppid uint32
		if err := conn.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, prompter).Store(&ppid); err != nil {
			return fail("the unlock prompt did not start (%s): %v", prompter, err)
		}
		fmt.Printf("unlock prompt shown by gcr-prompter pid %d\n", ppid)
		// The prompter was started by the nested bus for this test; end it
		// so the daemon's prompt completes as dismissed.
		if p, err := os.FindProcess(int(ppid)); err == nil {
			_ = p.Kill()
		}
		// Calls still pending when this process ends must not open new
		// prompts on the display.
		_ = conn.BusObject().Call("org.freedesktop.DBus.UpdateActivationEnvironment", 0, map[string]string{"DISPLAY": ""}).Err
	}

	if err := daemon.Process.Signal(syscall.SIGSTOP); err != nil {
		return fail("stop the daemon: %v", err)
	}
	fmt.Println("daemon stopped")
	start = time.Now()
	_, err = hung.Get(id, SecretRefreshToken)
	report("hung-get", err, start)
	return 0
}
