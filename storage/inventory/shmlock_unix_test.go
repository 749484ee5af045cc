//go:build unix

package inventory

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenElsewhere: another process holding the database open is seen
// (its WAL is live, not left by a crash), and no longer once it exits.
func TestOpenElsewhere(t *testing.T) {
	if p := os.Getenv("BEACON_TEST_HOLD_DB"); p != "" {
		s, err := Open(context.Background(), p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var n int
		if err := s.DB().QueryRow("SELECT COUNT(*) FROM runs").Scan(&n); err != nil {
			t.Fatal(err)
		}
		os.Stdout.WriteString("holding\n")
		_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes it
		return
	}
	path := filepath.Join(t.TempDir(), FileName)
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if openElsewhere(path) {
		t.Fatal("a closed database is seen as open elsewhere")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenElsewhere$")
	cmd.Env = append(os.Environ(), "BEACON_TEST_HOLD_DB="+path)
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "holding" {
		t.Fatalf("the child said %q, %v", line, err)
	}
	if !openElsewhere(path) {
		t.Error("a database another process holds open is not seen as open elsewhere")
	}
	in.Close()
	go io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if openElsewhere(path) {
		t.Error("still seen as open elsewhere after the other process exited")
	}
}
