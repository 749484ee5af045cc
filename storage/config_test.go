package storage

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func sampleConfig() *Config {
	at := time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)
	return &Config{
		Version: ConfigVersion,
		Connections: []Connection{{
			ID: NewID(), Name: "Contoso", SourceType: SourceMicrosoft365,
			Proxy:         Proxy{Enabled: true, Server: "http://proxy.contoso.test:3128", Username: "svc-proxy", HasPassword: true},
			Cloud:         "Global",
			TokenEndpoint: "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
			ClientID:      "00000000-0000-0000-0000-000000000001",
			RedirectURI:   "http://localhost", AuthFlow: FlowAuthorizationCode,
			AuthorizationEndpoint: "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize",
			GraphEndpoint:         "https://graph.microsoft.com",
			Token:                 &TokenInfo{ObtainedAt: at, Account: "admin@contoso.test", DisplayName: "Ådmin Ünicode", Scopes: "User.Read.All offline_access"},
			Created:               at, Modified: at,
		}},
		Schedules: []Schedule{{ID: NewID(), Name: "Nightly", Kind: Weekly, Hour: 2, Minute: 15, Weekdays: []time.Weekday{time.Monday, time.Friday}}},
	}
}

func TestLoadMissingFileIsEmptyConfig(t *testing.T) {
	s := NewConfigStore(filepath.Join(t.TempDir(), "cfg"))
	c, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != ConfigVersion || c.Revision != 0 || len(c.Connections) != 0 || len(c.Schedules) != 0 {
		t.Fatalf("Load of a missing file = %+v, want an empty version-%d config", c, ConfigVersion)
	}
	if _, err := os.Stat(s.Dir()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load created the directory (stat: %v); it should only read", err)
	}
}

func TestSaveLoadRoundTripAndPermissions(t *testing.T) {
	s := NewConfigStore(filepath.Join(t.TempDir(), "a", "InventoryBeacon"))
	c := sampleConfig()
	if err := s.Save(c); err != nil {
		t.Fatal(err)
	}
	if c.Revision != 1 {
		t.Fatalf("after the first save Revision = %d, want 1", c.Revision)
	}
	got, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("loaded config differs from saved:\n got %+v\nwant %+v", got, c)
	}
	if err := s.Save(got); err != nil {
		t.Fatal(err)
	}
	if got.Revision != 2 {
		t.Fatalf("after the second save Revision = %d, want 2", got.Revision)
	}
	if runtime.GOOS == "windows" {
		return
	}
	fi, err := os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("config file mode %o, want 600", m)
	}
	di, err := os.Stat(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if m := di.Mode().Perm(); m != 0o700 {
		t.Errorf("config directory mode %o, want 700", m)
	}
}

func TestSaveTightensLooseDirectory(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions")
	}
	dir := filepath.Join(t.TempDir(), "loose")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // in spite of the umask
		t.Fatal(err)
	}
	if err := NewConfigStore(dir).Save(sampleConfig()); err != nil {
		t.Fatal(err)
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m := di.Mode().Perm(); m != 0o700 {
		t.Fatalf("directory mode after save %o, want 700", m)
	}
}

func TestDamagedFileIsReportedAndNeverOverwritten(t *testing.T) {
	valid, err := json.Marshal(sampleConfig())
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"not JSON":        []byte("this is not json"),
		"empty":           {},
		"truncated":       valid[:len(valid)/2],
		"missing version": []byte(`{"revision": 3, "connections": []}`),
		"zero version":    []byte(`{"version": 0, "revision": 3}`),
		"string version":  []byte(`{"version": "1"}`),
		"two objects":     append(append([]byte{}, valid...), valid...),
		"array":           []byte(`[1,2,3]`),
		"wrong type":      []byte(`{"version": 1, "connections": {"id": "x"}}`),
		"negative rev":    []byte(`{"version": 1, "revision": -1}`),
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			s := NewConfigStore(t.TempDir())
			if err := os.WriteFile(s.Path(), content, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := s.Load()
			var damaged *DamagedConfigError
			if !errors.As(err, &damaged) {
				t.Fatalf("Load error = %v, want *DamagedConfigError", err)
			}
			if damaged.Path != s.Path() {
				t.Errorf("error path %q, want %q", damaged.Path, s.Path())
			}
			msg := err.Error()
			for _, want := range []string{s.Path(), "damaged", "did not change it", "set it aside"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q does not mention %q", msg, want)
				}
			}
			// Neither Save (from a fresh config), nor Update, may replace it.
			if err := s.Save(&Config{Version: ConfigVersion}); !errors.As(err, &damaged) {
				t.Errorf("Save over a damaged file: %v, want *DamagedConfigError", err)
			}
			called := false
			if err := s.Update(func(*Config) error { called = true; return nil }); !errors.As(err, &damaged) || called {
				t.Errorf("Update over a damaged file: err %v, fn called %v", err, called)
			}
			assertFileContent(t, s.Path(), content)
		})
	}
}

func TestNewerVersionIsRefusedAndNotOverwritten(t *testing.T) {
	s := NewConfigStore(t.TempDir())
	// A newer build may have changed field types too; the version must be
	// recognised anyway.
	content := []byte(fmt.Sprintf(`{"version": %d, "revision": 9, "connections": "changed shape"}`, ConfigVersion+1))
	if err := os.WriteFile(s.Path(), content, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := s.Load()
	var newer *NewerConfigError
	if !errors.As(err, &newer) || newer.Version != ConfigVersion+1 || newer.Path != s.Path() {
		t.Fatalf("Load error = %#v, want *NewerConfigError{Version: %d, Path: %q}", err, ConfigVersion+1, s.Path())
	}
	if !strings.Contains(err.Error(), "newer version") {
		t.Errorf("message %q does not say a newer version wrote it", err)
	}
	if err := s.Save(&Config{Version: ConfigVersion, Revision: 9}); !errors.As(err, &newer) {
		t.Errorf("Save over a newer file: %v", err)
	}
	if err := s.Save(&Config{Version: ConfigVersion + 1}); err == nil {
		t.Errorf("Save of a config claiming a newer version succeeded")
	}
	assertFileContent(t, s.Path(), content)
}

func TestSetAsideMovesTheFileAndAllowsAFreshStart(t *testing.T) {
	s := NewConfigStore(t.TempDir())
	content := []byte(`{"version": 1, "connections": [`)
	if err := os.WriteFile(s.Path(), content, 0o600); err != nil {
		t.Fatal(err)
	}
	moved, err := s.SetAside()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^config\.json\.damaged-\d{8}-\d{6}$`).MatchString(filepath.Base(moved)) || filepath.Dir(moved) != s.Dir() {
		t.Fatalf("set aside as %q, want config.json.damaged-YYYYMMDD-HHMMSS in %s", moved, s.Dir())
	}
	assertFileContent(t, moved, content)
	c, err := s.Load()
	if err != nil || c.Revision != 0 {
		t.Fatalf("Load after SetAside: %+v, %v; want an empty config", c, err)
	}
	if err := s.Save(sampleConfig()); err != nil {
		t.Fatal(err)
	}
	// A second set-aside within the same second must not replace the first.
	if err := os.WriteFile(s.Path(), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	moved2, err := s.SetAside()
	if err != nil {
		t.Fatal(err)
	}
	if moved2 == moved {
		t.Fatalf("second SetAside reused %q", moved)
	}
	assertFileContent(t, moved, content)
	if _, err := s.SetAside(); err == nil {
		t.Fatalf("SetAside without a file succeeded")
	}
}

func TestStaleRevisionSaveIsRefused(t *testing.T) {
	dir := t.TempDir()
	a, b := NewConfigStore(dir), NewConfigStore(dir)
	if err := a.Save(sampleConfig()); err != nil {
		t.Fatal(err)
	}
	ca, err := a.Load()
	if err != nil {
		t.Fatal(err)
	}
	cb, err := b.Load()
	if err != nil {
		t.Fatal(err)
	}
	ca.Connections[0].Name = "Renamed by A"
	if err := a.Save(ca); err != nil {
		t.Fatal(err)
	}
	cb.Schedules = nil
	before, _ := os.ReadFile(a.Path())
	err = b.Save(cb)
	if !errors.Is(err, ErrConfigChanged) {
		t.Fatalf("stale Save: %v, want ErrConfigChanged", err)
	}
	if cb.Revision != 1 {
		t.Errorf("refused Save changed the caller's Revision to %d", cb.Revision)
	}
	assertFileContent(t, a.Path(), before)
	// A config made from scratch (revision 0) must not replace an existing
	// file either.
	if err := b.Save(&Config{Version: ConfigVersion}); !errors.Is(err, ErrConfigChanged) {
		t.Fatalf("Save of a fresh config over an existing file: %v", err)
	}
}

func TestUpdateErrorSavesNothing(t *testing.T) {
	s := NewConfigStore(t.TempDir())
	if err := s.Save(sampleConfig()); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(s.Path())
	boom := errors.New("boom")
	err := s.Update(func(c *Config) error { c.Schedules = nil; return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	assertFileContent(t, s.Path(), before)
}

// appendSchedule is the increment used by the concurrency tests: each
// Update adds one schedule, so a lost update shows as a missing schedule.
func appendSchedule(s *ConfigStore, name string) error {
	return s.Update(func(c *Config) error {
		c.Schedules = append(c.Schedules, Schedule{ID: NewID(), Name: name, Kind: Hourly})
		return nil
	})
}

func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const procs, perProc, goroutines, perGoroutine = 2, 20, 4, 10
	// Two real processes and, at the same time, goroutines on separate
	// stores (so only the file lock, not the store's mutex, orders them).
	type child struct {
		cmd   *exec.Cmd
		out   *bytes.Buffer
		start io.Closer
	}
	var children []child
	for i := range procs {
		cmd := childCommand(t, "update", nil, "BEACON_TEST_DIR="+dir, "BEACON_TEST_N="+strconv.Itoa(perProc), "BEACON_TEST_NAME=proc"+strconv.Itoa(i))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children = append(children, child{cmd: cmd, out: &out, start: stdin})
	}
	// Start everyone together, so the writers really overlap.
	for _, c := range children {
		if err := c.start.Close(); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*perGoroutine)
	for g := range goroutines {
		wg.Go(func() {
			s := NewConfigStore(dir)
			for range perGoroutine {
				if err := appendSchedule(s, "goroutine"+strconv.Itoa(g)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, c := range children {
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("child process: %v\n%s", err, c.out)
		}
	}
	c, err := NewConfigStore(dir).Load()
	if err != nil {
		t.Fatal(err)
	}
	want := procs*perProc + goroutines*perGoroutine
	if len(c.Schedules) != want || c.Revision != int64(want) {
		t.Fatalf("after %d updates: %d schedules, revision %d (lost updates)", want, len(c.Schedules), c.Revision)
	}
	counts := map[string]int{}
	for _, s := range c.Schedules {
		counts[s.Name]++
	}
	for i := range procs {
		if n := counts["proc"+strconv.Itoa(i)]; n != perProc {
			t.Errorf("process %d: %d of its %d updates survived", i, n, perProc)
		}
	}
	// How much the writers interleaved (a figure for the log; scheduling
	// decides it, so it is not asserted).
	switches := 0
	for i := 1; i < len(c.Schedules); i++ {
		if c.Schedules[i].Name != c.Schedules[i-1].Name {
			switches++
		}
	}
	t.Logf("%d updates by %d processes and %d goroutines; the writer changed %d times", want, procs, goroutines, switches)
	leftovers, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

func childUpdate() int {
	// Wait for the parent's start signal (stdin closed).
	_, _ = io.Copy(io.Discard, os.Stdin)
	s := NewConfigStore(os.Getenv("BEACON_TEST_DIR"))
	n, _ := strconv.Atoi(os.Getenv("BEACON_TEST_N"))
	for range n {
		if err := appendSchedule(s, os.Getenv("BEACON_TEST_NAME")); err != nil {
			fmt.Println(err)
			return 1
		}
	}
	return 0
}

// A writer killed between writing its temporary file and renaming it (the
// worst moment) leaves the old configuration intact and readable; the
// leftover temporary file is ignored by Load and removed by the next Save,
// and the dead writer's lock is gone.
func TestCrashBeforeRenameKeepsOldFile(t *testing.T) {
	t.Parallel()
	s := NewConfigStore(t.TempDir())
	if err := s.Save(sampleConfig()); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(s.Path())

	cmd := childCommand(t, "crash-before-rename", nil, "BEACON_TEST_DIR="+s.Dir())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child did not reach the rename: %v", err)
	}
	tmp, ok := strings.CutPrefix(strings.TrimSpace(line), "ready ")
	if !ok {
		t.Fatalf("child said %q", line)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	if _, err := os.Stat(tmp); err != nil {
		t.Fatalf("the crashed writer's temporary file %s should be left over: %v", tmp, err)
	}
	assertFileContent(t, s.Path(), before)
	c, err := s.Load()
	if err != nil {
		t.Fatalf("Load after the crash: %v", err)
	}
	if c.Revision != 1 || len(c.Connections) != 1 {
		t.Fatalf("Load after the crash gave %+v, want the old revision 1", c)
	}
	s.LockTimeout = 5 * time.Second // the dead child's lock must be free at once
	if err := s.Save(c); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("leftover %s not cleaned by the next Save (%v)", tmp, err)
	}
}

func childCrashBeforeRename() int {
	s := NewConfigStore(os.Getenv("BEACON_TEST_DIR"))
	c, err := s.Load()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	c.Connections = nil
	testHookBeforeRename = func(tmp string) {
		fmt.Printf("ready %s\n", tmp)
		// Block until the parent kills this process.
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}
	_ = s.Save(c)
	return 4
}

func TestLockTimeoutGivesClearError(t *testing.T) {
	dir := t.TempDir()
	holder := NewConfigStore(dir)
	entered := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- holder.Update(func(*Config) error {
			close(entered)
			<-release
			return nil
		})
	}()
	<-entered
	other := NewConfigStore(dir)
	other.LockTimeout = 50 * time.Millisecond
	err := other.Save(&Config{Version: ConfigVersion})
	close(release)
	if !errors.Is(err, ErrConfigLocked) {
		t.Fatalf("Save while another store holds the lock: %v, want ErrConfigLocked", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The abandoned waiter lets go once it gets the lock, so the next save
	// goes through.
	other.LockTimeout = 10 * time.Second
	c, err := other.Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Save(c); err != nil {
		t.Fatalf("Save after a lock time-out: %v", err)
	}
}

func TestDefaultConfigDir(t *testing.T) {
	t.Setenv("BEACON_CONFIG_DIR", "/some/where")
	if d, err := DefaultConfigDir(); err != nil || d != "/some/where" {
		t.Fatalf("with BEACON_CONFIG_DIR: %q, %v", d, err)
	}
	t.Setenv("BEACON_CONFIG_DIR", "")
	t.Setenv("XDG_CONFIG_HOME", "/xdg")
	t.Setenv("HOME", "/home/u")
	t.Setenv("AppData", `C:\Users\u\AppData\Roaming`)
	d, err := DefaultConfigDir()
	if err != nil {
		t.Fatal(err)
	}
	base, _ := os.UserConfigDir()
	if d != filepath.Join(base, "InventoryBeacon") {
		t.Fatalf("DefaultConfigDir = %q, want %q", d, filepath.Join(base, "InventoryBeacon"))
	}
}

// The model must never grow a field that holds a secret. Walk every JSON
// key the configuration can produce (with every optional part filled) and
// refuse secret-looking names unless they are booleans saying a secret
// exists.
func TestModelHasNoSecretFields(t *testing.T) {
	var walk func(path string, typ reflect.Type)
	walk = func(path string, typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ == reflect.TypeOf(time.Time{}) {
			return
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = f.Name
			}
			if secretLikeKey(name) && f.Type.Kind() != reflect.Bool && f.Type.Kind() != reflect.Pointer {
				t.Errorf("field %s.%s (%s) looks like a secret; secrets belong in the keyring", path, name, f.Type)
			}
			walk(path+"."+name, f.Type)
		}
	}
	walk("config", reflect.TypeOf(Config{}))

	// The runtime guard catches a secret-looking string field.
	bad := []byte(`{"version":1,"connections":[{"proxy":{"password":"hunter2"}}]}`)
	if err := checkNoSecretFields(bad); err == nil || !strings.Contains(err.Error(), ".connections[0].proxy.password") {
		t.Fatalf("checkNoSecretFields let a password through: %v", err)
	}
	good, _ := json.Marshal(sampleConfig())
	if err := checkNoSecretFields(good); err != nil {
		t.Fatalf("checkNoSecretFields refused the real model: %v", err)
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if !ValidID(id) {
			t.Fatalf("NewID() = %q, not 32 lower-case hex characters", id)
		}
		if seen[id] {
			t.Fatalf("NewID repeated %q", id)
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "abc", strings.Repeat("g", 32), strings.Repeat("A", 32), strings.Repeat("a", 33)} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

func assertFileContent(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s changed:\n got %q\nwant %q", path, got, want)
	}
}
