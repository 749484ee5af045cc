package storage

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// childEnv selects what a re-executed test binary does instead of running
// the tests. Several behaviours need a real second process: a second
// writer on the lock, a crash (SIGKILL) in the middle of a save, and D-Bus
// sessions other than this process's (godbus caches its session bus
// connection per process).
const childEnv = "BEACON_STORAGE_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	case "update":
		os.Exit(childUpdate())
	case "crash-before-rename":
		os.Exit(childCrashBeforeRename())
	case "no-keyring":
		os.Exit(childNoKeyring())
	case "nested-keyring":
		os.Exit(childNestedKeyring())
	default:
		os.Stderr.WriteString("unknown " + childEnv + "\n")
		os.Exit(2)
	}
}

// childCommand re-executes the test binary as child mode with extra
// environment, dropping variables the child must not inherit.
func childCommand(t *testing.T, mode string, drop []string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = childEnviron(drop, append(env, childEnv+"="+mode)...)
	return cmd
}

func childEnviron(drop []string, add ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		skip := name == childEnv
		for _, d := range drop {
			if name == d {
				skip = true
			}
		}
		if !skip {
			out = append(out, kv)
		}
	}
	return append(out, add...)
}
