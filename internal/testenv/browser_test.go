package testenv

import (
	"os"
	"strings"
	"testing"
)

// The sign-in tests' browser leaves nothing in the temporary folder: not
// the driver's folder, even when the test process ends without calling
// StopBrowser (ui's and cmd/beacon/cli's left a beacon-e2e-browser-*
// folder per run), nor Chromium's profile (its helpers wrote into it while
// it was removed, leaving a beacon-chromium-* folder).
func TestBrowserLeavesNoFolders(t *testing.T) {
	// Short: Chromium's singleton socket lives below it, and a socket's
	// path is limited to about 100 bytes.
	tmp, err := os.MkdirTemp("", "bt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	t.Setenv("TMPDIR", tmp)
	UseBrowser(t, "")
	if !strings.HasPrefix(browser.dir, tmp) {
		t.Fatalf("the driver is in %s, not in the test's temporary folder %s", browser.dir, tmp)
	}
	if names := entries(t, tmp); !strings.Contains(strings.Join(names, " "), "beacon-chromium-") {
		t.Fatalf("no Chromium profile in the temporary folder while it runs: %q", names)
	}
	// What the test process's end does, without StopBrowser: its end of
	// the launcher's stdin closes.
	browser.stdin.Close()
	if err := browser.proc.Wait(); err != nil {
		t.Fatalf("the launcher: %v", err)
	}
	browser.proc = nil
	if names := entries(t, tmp); len(names) > 0 {
		t.Errorf("left in the temporary folder: %q", names)
	}
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}
