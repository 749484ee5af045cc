//go:build linux

package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// SmallDisk mounts a tmpfs of size bytes on a new folder for the test and
// unmounts it when the test ends: a disk that fills up, or (Remount "ro")
// one that cannot be written (issue 20). It skips the test, saying why,
// where mounting is not permitted (not root, a container without
// CAP_SYS_ADMIN).
func SmallDisk(t testing.TB, size int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs as the configuration folder (issue 20); run as root or in a privileged container")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0700", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s): a full or read-only disk cannot be made", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// Remount changes the options of a SmallDisk (ro, rw).
func Remount(t testing.TB, dir, opt string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,"+opt, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount %s %s: %v: %s", dir, opt, err, out)
	}
}
