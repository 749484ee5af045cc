package storage

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"
)

// FuzzLoadConfig: no input makes parsing panic; an input is either refused
// with a clean error (damaged or newer) or gives a configuration that saves
// and loads back equal.
func FuzzLoadConfig(f *testing.F) {
	valid, _ := json.Marshal(sampleConfig())
	f.Add(valid)
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":0}`))
	f.Add(valid[:len(valid)/3])
	// Further seeds live in testdata/fuzz/FuzzLoadConfig.
	f.Fuzz(func(t *testing.T, data []byte) {
		s := NewConfigStore(t.TempDir())
		if err := os.WriteFile(s.Path(), data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := s.Load()
		if err != nil {
			var damaged *DamagedConfigError
			var newer *NewerConfigError
			if c != nil {
				t.Fatalf("error %v with a non-nil config", err)
			}
			if !errors.As(err, &damaged) && !errors.As(err, &newer) {
				t.Fatalf("Load error %v is neither damaged nor newer", err)
			}
			// A refused file is never replaced.
			if err := s.Save(&Config{Version: ConfigVersion}); err == nil {
				t.Fatalf("Save replaced a file Load refused")
			}
			return
		}
		loadedRev := c.Revision
		if err := s.Save(c); err != nil {
			t.Fatalf("a config that loaded does not save: %v", err)
		}
		again, err := s.Load()
		if err != nil {
			t.Fatalf("a saved config does not load: %v", err)
		}
		if again.Revision != loadedRev+1 || c.Revision != again.Revision {
			t.Fatalf("revision %d after reload (caller has %d), want %d", again.Revision, c.Revision, loadedRev+1)
		}
		a, _ := json.Marshal(c)
		b, _ := json.Marshal(again)
		if !bytes.Equal(a, b) {
			t.Fatalf("re-loaded config differs:\n%s\n%s", a, b)
		}
	})
}
