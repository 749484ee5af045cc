//go:build linux

package soak

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/storage"
)

// TestConfigSaverChild is the process TestKill9WhileSavingConfig kills:
// it rewrites the configuration in a loop, every save holding one
// generation number in every connection's name and in a schedule, and
// prints each generation once Update returned.
func TestConfigSaverChild(t *testing.T) {
	dir := os.Getenv("BEACON_SOAK_CONFIG_CHILD")
	if dir == "" {
		t.Skip("runs only as the child of TestKill9WhileSavingConfig")
	}
	cs := storage.NewConfigStore(dir)
	for gen := 1; ; gen++ {
		err := cs.Update(func(c *storage.Config) error {
			for i := range c.Connections {
				c.Connections[i].Name = fmt.Sprintf("gen %d conn %d", gen, i)
			}
			c.Schedules = []storage.Schedule{{ID: "00000000000000000000000000000001", Name: fmt.Sprintf("gen %d", gen),
				Kind: storage.EveryNMinutes, EveryMinutes: 1 + gen%50}}
			return nil
		})
		if err != nil {
			fmt.Printf("error %v\n", err)
			os.Exit(1)
		}
		fmt.Printf("saved %d\n", gen)
	}
}

// configGeneration checks that the configuration is one consistent save:
// every connection and the schedule carry the same generation.
func configGeneration(c *storage.Config) (int, error) {
	gen := -1
	check := func(name, prefix string) error {
		rest, ok := strings.CutPrefix(name, "gen ")
		if !ok {
			if gen <= 0 && strings.HasPrefix(name, prefix) {
				gen = 0
				return nil
			}
			return fmt.Errorf("name %q is neither the initial nor a saved state", name)
		}
		n, err := strconv.Atoi(strings.Fields(rest)[0])
		if err != nil {
			return fmt.Errorf("name %q: %w", name, err)
		}
		if gen >= 0 && n != gen {
			return fmt.Errorf("mixed generations %d and %d", gen, n)
		}
		gen = n
		return nil
	}
	for _, conn := range c.Connections {
		if err := check(conn.Name, "initial"); err != nil {
			return 0, err
		}
	}
	for _, s := range c.Schedules {
		if err := check(s.Name, "initial"); err != nil {
			return 0, err
		}
	}
	return gen, nil
}

// TestKill9WhileSavingConfig kills a process in the middle of saving the
// configuration at random moments: the file must parse, be one whole
// save (the last one confirmed or the one in flight), never a mix.
func TestKill9WhileSavingConfig(t *testing.T) {
	if os.Getenv("BEACON_SOAK_CONFIG_CHILD") != "" {
		t.Skip("this is the child")
	}
	kills := scaled(3, 30)
	dir := t.TempDir()
	cs := storage.NewConfigStore(dir)
	cfg := &storage.Config{Version: storage.ConfigVersion}
	for i := 0; i < 40; i++ { // a file of some size, so a save takes a while
		cfg.Connections = append(cfg.Connections, storage.Connection{ID: storage.NewID(), Name: fmt.Sprintf("initial %d", i),
			SourceType: storage.SourceMicrosoft365, Cloud: "Global", ClientID: "00000000-0000-0000-0000-000000000000",
			AuthFlow: storage.FlowAuthorizationCode, RedirectURI: "http://localhost",
			TokenEndpoint: "https://login.microsoftonline.com/contoso.example/oauth2/v2.0/token", GraphEndpoint: "https://graph.microsoft.com"})
	}
	if err := cs.Save(cfg); err != nil {
		t.Fatal(err)
	}
	corruptions, saves := 0, 0
	for k := 0; k < kills; k++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestConfigSaverChild$")
		cmd.Env = append(os.Environ(), "BEACON_SOAK_CONFIG_CHILD="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lastSaved := make(chan int, 1)
		go func() {
			last := -1
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if n, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "saved ")); err == nil {
					last = n
				}
			}
			lastSaved <- last
		}()
		time.Sleep(time.Duration(20+rand.IntN(180)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		last := <-lastSaved
		saves += max(last, 0)
		got, err := cs.Load()
		if err != nil {
			corruptions++
			t.Errorf("kill %d: the configuration does not load: %v", k, err)
			continue
		}
		gen, err := configGeneration(got)
		switch {
		case err != nil:
			corruptions++
			t.Errorf("kill %d: %v", k, err)
		case last > 0 && gen != last && gen != last+1:
			corruptions++
			t.Errorf("kill %d: generation %d on disk, the last confirmed save was %d", k, gen, last)
		}
		// Restart the numbering from the initial names for the next child.
		if err := cs.Update(func(c *storage.Config) error {
			for i := range c.Connections {
				c.Connections[i].Name = fmt.Sprintf("initial %d", i)
			}
			c.Schedules = nil
			return nil
		}); err != nil {
			t.Fatalf("kill %d: the next save fails: %v", k, err)
		}
	}
	if fi, err := os.Stat(cs.Path()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("config mode %v, %v", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	figure(t, "kill-config-save", "kills=%d saves-completed=%d corruptions=%d files-left=%v", kills, saves, corruptions, names)
}
