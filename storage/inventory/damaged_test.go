package inventory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// damagedDB makes a database with one good import in a folder that also
// holds a configuration and a secrets file, closes it and returns the
// folder and the database's path.
func damagedDB(t *testing.T) (dir, path string, others map[string][]byte) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, FileName)
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	importGood(t, s, "c1", 300, "good")
	s.Close()
	others = map[string][]byte{"config.json": []byte(`{"version":1}`), "secrets.bin": []byte("sealed")}
	for n, b := range others {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir, path, others
}

// TestDamagedDatabaseMovedAside (issue 20): random bytes in the pages, a
// file cut short, a WAL from another database. Each is found at open, said
// plainly, the file moved aside (never used), the configuration and
// secrets untouched, and the next open starts a fresh database the next
// import fills.
func TestDamagedDatabaseMovedAside(t *testing.T) {
	now := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	damage := map[string]func(t *testing.T, path string){
		"random bytes in the pages": func(t *testing.T, path string) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(1, 2))
			const page = 16384
			for p := 1; p*page < len(b); p += 2 { // every other page after the first
				for i := 0; i < 64; i++ {
					b[p*page+r.IntN(page)] = byte(r.Uint32())
				}
			}
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"a file cut short": func(t *testing.T, path string) {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, fi.Size()/2); err != nil {
				t.Fatal(err)
			}
		},
		"a WAL from another database": func(t *testing.T, path string) {
			// Another database, bigger, still open: its WAL holds pages.
			other := filepath.Join(t.TempDir(), FileName)
			s, err := Open(context.Background(), other, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			importGood(t, s, "other", 2000, "other")
			wal, err := os.ReadFile(other + "-wal")
			if err != nil || len(wal) == 0 {
				t.Fatalf("the other database's WAL: %d bytes, %v", len(wal), err)
			}
			if err := os.WriteFile(path+"-wal", wal, 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"not a database at all": func(t *testing.T, path string) {
			if err := os.WriteFile(path, bytes.Repeat([]byte("not sqlite "), 4000), 0o600); err != nil {
				t.Fatal(err)
			}
		},
	}
	detected := 0
	defer func() {
		fmt.Printf("FIGURE damaged: %d kinds of damage, %d found at open and moved aside, %d used; configuration and secrets untouched\n",
			len(damage), detected, len(damage)-detected)
	}()
	for name, fn := range damage {
		t.Run(name, func(t *testing.T) {
			dir, path, others := damagedDB(t)
			fn(t, path)
			_, err := Open(context.Background(), path, Options{Now: func() time.Time { return now }})
			var de *DamagedError
			if !errors.As(err, &de) {
				t.Fatalf("open of a damaged database: %v", err)
			}
			detected++
			moved := path + ".damaged-20261206-080000"
			if de.MovedTo != moved {
				t.Errorf("moved to %q, want %q", de.MovedTo, moved)
			}
			for _, want := range []string{"the inventory database " + path + " was damaged (", "moved aside to " + moved, "untouched", "the next import starts a fresh database"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q lacks %q", err, want)
				}
			}
			if _, err := os.Stat(moved); err != nil {
				t.Errorf("the damaged file is not where the message says: %v", err)
			}
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s is still there (%v): it would be used", p, err)
				}
			}
			for n, b := range others {
				if got, err := os.ReadFile(filepath.Join(dir, n)); err != nil || !bytes.Equal(got, b) {
					t.Errorf("%s changed: %q, %v", n, got, err)
				}
			}
			// The next open: a fresh database; an import fills it.
			s, err := Open(context.Background(), path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if h, err := s.History(context.Background(), "c1", 10); err != nil || len(h) != 0 {
				t.Errorf("the fresh database has %d runs (%v)", len(h), err)
			}
			run := importGood(t, s, "c1", 300, "again")
			if cur, err := s.CurrentRun(context.Background(), "c1"); err != nil || cur.ID != run.ID {
				t.Errorf("current %d (%v), want %d", cur.ID, err, run.ID)
			}
		})
	}
}

// TestSoundDatabaseNotMovedAside: a database with a WAL left by a process
// that still has it open, and one left by a process that was killed, are
// sound and stay where they are.
func TestSoundDatabaseNotMovedAside(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	importGood(t, s, "c1", 300, "good")
	// A second opener while the first holds the WAL (the window and the
	// CLI at once), and the WAL copied as a killed process leaves it.
	r, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatalf("a second open of a sound database: %v", err)
	}
	r.Close()
	dir2 := t.TempDir()
	for _, sfx := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + sfx)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir2, FileName+sfx), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	k, err := Open(context.Background(), filepath.Join(dir2, FileName), Options{})
	if err != nil {
		t.Fatalf("open after an unclean shutdown: %v", err)
	}
	defer k.Close()
	if n, err := k.CountUsers(context.Background(), "c1", Query{}); err != nil || n != 300 {
		t.Errorf("%d users after an unclean shutdown (%v)", n, err)
	}
}
