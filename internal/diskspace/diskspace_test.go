package diskspace

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestFreeAndDescribe(t *testing.T) {
	dir := t.TempDir()
	n, err := Free(dir)
	if err != nil || n == 0 {
		t.Fatalf("Free(%s) = %d, %v; want some room", dir, n, err)
	}
	if got := Describe(dir); !strings.HasPrefix(got, "the disk holding "+dir+" is full: ") || !strings.HasSuffix(got, " MB free") {
		t.Errorf("Describe = %q", got)
	}
	if got := Describe(dir + "/missing/folder"); got != "the disk holding "+dir+"/missing/folder is full" {
		t.Errorf("Describe of a folder that cannot be asked = %q", got)
	}
	if got := MB(3 << 20); got != "3.0 MB" {
		t.Errorf("MB = %q", got)
	}
}

func TestIsFull(t *testing.T) {
	wrapped := fmt.Errorf("write x: %w", &os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC})
	if !IsFull(wrapped) {
		t.Error("a wrapped ENOSPC is not seen as a full disk")
	}
	if IsFull(&os.PathError{Op: "write", Path: "x", Err: syscall.EACCES}) {
		t.Error("permission denied is seen as a full disk")
	}
}
