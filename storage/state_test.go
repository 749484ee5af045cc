package storage

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// The running state is kept beside the configuration: a missing or damaged
// file reads as empty, an update persists, and writing it never changes
// the configuration's revision (a window's unsaved edits must not collide
// with an import that recorded a token's time).
func TestStateBesideTheConfiguration(t *testing.T) {
	dir := t.TempDir()
	cs := NewConfigStore(dir)
	if err := cs.Save(&Config{Version: ConfigVersion}); err != nil {
		t.Fatal(err)
	}
	rev := mustLoad(t, cs).Revision
	if st, err := cs.LoadState(); err != nil || len(st.Connections) != 0 {
		t.Fatalf("missing state: %+v %v", st, err)
	}
	at := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	if err := cs.UpdateState(func(st *State) error {
		st.For("c1").LastRefresh = at
		st.For("c1").Warned = map[string]int{"signin@2026-07-30": 30}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	st, err := cs.LoadState()
	if err != nil || !st.Of("c1").LastRefresh.Equal(at) || st.Of("c1").Warned["signin@2026-07-30"] != 30 || !st.Of("other").LastRefresh.IsZero() {
		t.Fatalf("state %+v %v", st, err)
	}
	if mustLoad(t, cs).Revision != rev {
		t.Error("writing the state changed the configuration's revision")
	}
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(filepath.Join(dir, stateFileName)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("state file mode %v %v", fi.Mode().Perm(), err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, stateFileName), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, err := cs.LoadState(); err != nil || len(st.Connections) != 0 {
		t.Errorf("damaged state: %+v %v, want empty", st, err)
	}
}

func mustLoad(t *testing.T, cs *ConfigStore) *Config {
	t.Helper()
	c, err := cs.Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
