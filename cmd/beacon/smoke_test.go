package main

import (
	"bytes"
	"context"
	"image"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/cmd/beacon/demo"
	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/inventorybeacon/beacon/storage"
)

// buildBeacon compiles the real binary once per test run.
func buildBeacon(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "beacon")
	cmd := exec.Command("go", "build", "-tags", "migrated_fynedo", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestWindowMapsUnderX starts the real binary on the X display, waits for
// its window to map and takes a screenshot. It fails if the window never
// maps or shows nothing.
func TestWindowMapsUnderX(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real binary")
	}
	display := testenv.Display(t)
	testenv.Keyring(t)
	for _, tool := range []string{"xdotool", "xwd", "convert"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed for the smoke test (scripts/install-deps.sh installs it)", tool)
		}
	}
	bin := buildBeacon(t)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// --demo, as `make run` starts it: the simulator runs in-process and
	// the Demo tenant connection is created before the window opens; its
	// history, a month rather than the default year to keep the test
	// short, is made in the background (cmd/beacon/demo tests it).
	configDir := t.TempDir()
	app := exec.CommandContext(ctx, bin, "--demo", "--demo-history", "30", "--config-dir", configDir)
	app.Env = append(os.Environ(), "DISPLAY="+display, "LANG=en_US.UTF-8")
	var stderr bytes.Buffer
	app.Stderr = &stderr
	start := time.Now()
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = app.Process.Kill(); _ = app.Wait() }()

	// --sync waits until a visible window with the app's title exists.
	find := exec.CommandContext(ctx, "xdotool", "search", "--sync", "--onlyvisible", "--name", "^Inventory Beacon$")
	find.Env = app.Env
	out, err := find.Output()
	if err != nil {
		t.Fatalf("the window never mapped: %v\napp stderr:\n%s", err, stderr.String())
	}
	wid := strings.Fields(string(out))[0]
	t.Logf("window %s mapped after %v", wid, time.Since(start).Round(time.Millisecond))

	// Give the first frames time to paint before the capture: the window
	// is mapped before its content is drawn.
	var img image.Image
	shot := filepath.Join(t.TempDir(), "window.png")
	for i := 0; i < 50; i++ {
		capture := exec.CommandContext(ctx, "sh", "-c", "xwd -silent -id "+wid+" | convert xwd:- png:"+shot)
		capture.Env = app.Env
		if out, err := capture.CombinedOutput(); err != nil {
			t.Fatalf("screenshot: %v\n%s", err, out)
		}
		img = decodePNG(t, shot)
		if distinctColours(img) > 16 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := distinctColours(img); n <= 16 {
		t.Fatalf("the window shows almost nothing (%d colours)\napp stderr:\n%s", n, stderr.String())
	}
	b := img.Bounds()
	if b.Dx() < 800 || b.Dy() < 500 {
		t.Errorf("window is %dx%d, want at least 800x500", b.Dx(), b.Dy())
	}
	cfg, err := storage.NewConfigStore(configDir).Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Connections) != 1 || cfg.Connections[0].Name != demo.ConnectionName {
		t.Errorf("demo mode left connections %+v, want one %q", cfg.Connections, demo.ConnectionName)
	}
	if os.Getenv("BEACON_WRITE_DOCS") == "1" {
		data, _ := os.ReadFile(shot)
		if err := os.WriteFile("../../docs/main-window.png", data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return img
}

func distinctColours(img image.Image) int {
	seen := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[(r>>11)<<10|(g>>11)<<5|(bl>>11)] = true
		}
	}
	return len(seen)
}
