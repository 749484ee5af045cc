package storage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/internal/diskspace"
	"github.com/inventorybeacon/beacon/internal/filelock"
)

const (
	configFileName = "config.json"
	lockFileName   = "config.lock"
	// tempPrefix names the temporary files Save writes before renaming. Only
	// a writer holding the lock creates them, so any such file found while
	// holding the lock is a leftover of a crashed writer.
	tempPrefix = configFileName + ".tmp-"
	// damagedInfix names files SetAside moved away.
	damagedInfix = ".damaged-"
)

// DefaultLockTimeout bounds how long Save and Update wait for another
// process holding the configuration lock.
const DefaultLockTimeout = 30 * time.Second

// ErrConfigChanged is returned by Save when the file on disk was saved by
// someone else after the caller loaded its copy. Writing anyway would undo
// the other change without anyone noticing.
var ErrConfigChanged = errors.New("the configuration was changed by another Inventory Beacon window or process after it was loaded; reload it and make your change again")

// ErrConfigLocked is returned when another process holds the configuration
// lock for longer than the lock time-out.
var ErrConfigLocked = errors.New("another Inventory Beacon process has kept the configuration locked for too long; close other Inventory Beacon windows or wait for a running import to finish, then try again")

// DamagedConfigError reports a configuration file that cannot be read. The
// file is left exactly as it was.
type DamagedConfigError struct {
	Path string
	Err  error
}

func (e *DamagedConfigError) Error() string {
	return fmt.Sprintf("the configuration file %s is damaged (%v). Inventory Beacon did not change it. "+
		"Repair it or restore it from a backup; or set it aside to start with an empty configuration "+
		"(it is renamed, not deleted, so nothing is lost)", e.Path, e.Err)
}

func (e *DamagedConfigError) Unwrap() error { return e.Err }

// NewerConfigError reports a configuration file written by a newer build.
// This build refuses to read or overwrite it, because saving would drop the
// settings it does not understand.
type NewerConfigError struct {
	Path    string
	Version int
}

func (e *NewerConfigError) Error() string {
	return fmt.Sprintf("the configuration file %s was written by a newer version of Inventory Beacon "+
		"(file version %d; this version understands up to %d). Inventory Beacon did not change it. "+
		"Install the newer version, or set the file aside to start with an empty configuration",
		e.Path, e.Version, ConfigVersion)
}

// DefaultConfigDir is where the configuration lives: $BEACON_CONFIG_DIR if
// set (tests, portable installs), else InventoryBeacon in the user's
// configuration directory.
func DefaultConfigDir() (string, error) {
	if d := os.Getenv("BEACON_CONFIG_DIR"); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the user's configuration directory (set BEACON_CONFIG_DIR to choose one): %w", err)
	}
	return filepath.Join(base, "InventoryBeacon"), nil
}

// ConfigStore reads and writes the configuration file dir/config.json.
// Writers, in this process and in others, serialise on dir/config.lock.
type ConfigStore struct {
	dir string
	// LockTimeout bounds the wait for the cross-process lock; zero means
	// DefaultLockTimeout.
	LockTimeout time.Duration

	// mu serialises this store's writers before they reach the file lock,
	// so goroutines queue instead of polling.
	mu sync.Mutex
}

// NewConfigStore returns a store for dir/config.json. Nothing is created
// until the first Save.
func NewConfigStore(dir string) *ConfigStore {
	return &ConfigStore{dir: dir}
}

// Dir is the configuration directory.
func (s *ConfigStore) Dir() string { return s.dir }

// Path is the configuration file.
func (s *ConfigStore) Path() string { return filepath.Join(s.dir, configFileName) }

// testHookBeforeRename, when set by a test, runs after the temporary file is
// written and synced and before it replaces the configuration: the moment a
// crash matters most.
var testHookBeforeRename func(tmp string)

// Load reads the configuration. A missing file is an empty configuration; a
// damaged one is a *DamagedConfigError and a newer one a *NewerConfigError.
// Load takes no lock: Save replaces the file by rename, so a reader sees
// either the old or the new file, never a mix.
func (s *ConfigStore) Load() (*Config, error) {
	data, err := os.ReadFile(s.Path())
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{Version: ConfigVersion}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the configuration file %s (check that you may read it): %w", s.Path(), err)
	}
	c, err := parseConfig(data)
	if err != nil {
		var newer *NewerConfigError
		if errors.As(err, &newer) {
			newer.Path = s.Path()
			return nil, newer
		}
		return nil, &DamagedConfigError{Path: s.Path(), Err: err}
	}
	return c, nil
}

// parseConfig decodes a configuration file. It is strict about what makes a
// file trustworthy (one complete JSON object with a known version) and
// lenient about unknown fields, which a hand edit may add.
func parseConfig(data []byte) (*Config, error) {
	// The version is read first, on its own, so a newer file is recognised
	// even when its other fields no longer decode into this build's model.
	var head struct {
		Version *json.RawMessage `json:"version"`
	}
	if err := decodeOne(data, &head); err != nil {
		return nil, err
	}
	if head.Version == nil {
		return nil, errors.New("it has no version")
	}
	var version int
	if err := json.Unmarshal(*head.Version, &version); err != nil {
		return nil, fmt.Errorf("its version is not a whole number: %w", err)
	}
	if version <= 0 {
		return nil, fmt.Errorf("its version %d is not valid", version)
	}
	if version > ConfigVersion {
		return nil, &NewerConfigError{Version: version}
	}
	var c Config
	if err := decodeOne(data, &c); err != nil {
		return nil, err
	}
	if c.Revision < 0 {
		return nil, fmt.Errorf("its revision %d is not valid", c.Revision)
	}
	return &c, nil
}

// decodeOne decodes exactly one JSON value and rejects anything after it,
// so a file with two objects concatenated (an interrupted copy) is not
// mistaken for the first.
func decodeOne(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errors.New("it is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("it ends too early, as if cut off: %w", err)
		}
		return fmt.Errorf("it is not valid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("it has extra data after the configuration")
	}
	return nil
}

// Save writes c atomically, if the file on disk is still the revision c was
// loaded from; on success c.Revision is the new revision. It refuses to
// replace a damaged or newer file: only SetAside moves one away.
func (s *ConfigStore) Save(c *Config) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.checkRevisionLocked(c); err != nil {
		return err
	}
	return s.writeLocked(c)
}

// checkRevisionLocked refuses a save over a damaged or newer file, or from
// a stale copy. The caller holds the lock.
func (s *ConfigStore) checkRevisionLocked(c *Config) error {
	if c == nil {
		return errors.New("no configuration to save")
	}
	onDisk, err := s.Load()
	if err != nil {
		return err
	}
	if c.Revision != onDisk.Revision {
		return fmt.Errorf("save the configuration (your copy is revision %d, the file is revision %d): %w",
			c.Revision, onDisk.Revision, ErrConfigChanged)
	}
	return nil
}

// Update loads the newest configuration under the lock, lets fn change it
// and saves it, so small changes from other processes (the CLI, the
// scheduler, token rotation) never undo each other. If fn returns an error
// nothing is saved.
func (s *ConfigStore) Update(fn func(*Config) error) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	c, err := s.Load()
	if err != nil {
		return err
	}
	rev := c.Revision
	if err := fn(c); err != nil {
		return err
	}
	// The revision is the store's bookkeeping; fn cannot move it.
	c.Revision = rev
	return s.writeLocked(c)
}

// writeLocked writes c as revision c.Revision+1: temporary file in the same
// directory (so the rename cannot cross file systems), write, fsync, close,
// rename over, fsync the directory (so the rename itself survives a power
// cut). The caller holds the lock and has checked the revision.
func (s *ConfigStore) writeLocked(c *Config) error {
	if c.Version > ConfigVersion {
		return fmt.Errorf("save the configuration: it claims version %d, newer than this version of Inventory Beacon (%d)", c.Version, ConfigVersion)
	}
	out := *c
	out.Version = ConfigVersion
	out.Revision = c.Revision + 1
	data, err := json.MarshalIndent(&out, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the configuration: %w", err)
	}
	if err := checkNoSecretFields(data); err != nil {
		return err
	}
	data = append(data, '\n')

	s.removeLeftoversLocked()
	if err := s.replaceLocked(s.Path(), "the configuration", data); err != nil {
		return err
	}
	c.Version = ConfigVersion
	c.Revision = out.Revision
	return nil
}

// WriteFile replaces the file name of the configuration directory with
// data as the configuration itself is replaced (never half written, 0600),
// under the configuration's lock, e.g. a loaded licensing catalogue.
func (s *ConfigStore) WriteFile(name string, data []byte) error {
	if name != filepath.Base(name) || name == configFileName {
		return fmt.Errorf("storage: %q is not a file of its own in the configuration directory", name)
	}
	return s.withLock(func() error { return s.replaceLocked(filepath.Join(s.dir, name), name, data) })
}

// withLock runs fn under the configuration's lock, the directory created.
func (s *ConfigStore) withLock(fn func() error) error {
	if err := ensureDir(s.dir); err != nil {
		return err
	}
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}

// replaceLocked writes data to dst: a temporary file in the same directory
// (so the rename cannot cross file systems), write, fsync, close, rename
// over, fsync the directory (so the rename itself survives a power cut).
func (s *ConfigStore) replaceLocked(dst, what string, data []byte) error {
	// A full disk is said plainly, with the room left: the old file is
	// never touched before the rename, so it is kept.
	full := func(err error) error {
		return fmt.Errorf("save %s: %s; the old file is kept: %w", what, diskspace.Describe(s.dir), err)
	}
	f, err := os.CreateTemp(s.dir, tempPrefix+"*")
	if err != nil {
		if diskspace.IsFull(err) {
			return full(err)
		}
		return fmt.Errorf("create a temporary file in %s (check free disk space and that you may write there): %w", s.dir, err)
	}
	tmp := f.Name()
	committed := false
	defer func() {
		if !committed {
			f.Close()
			os.Remove(tmp)
		}
	}()
	// CreateTemp already uses 0600; Chmod makes it explicit and covers a
	// platform whose CreateTemp default differs.
	if runtime.GOOS != "windows" {
		if err := f.Chmod(0o600); err != nil {
			return fmt.Errorf("restrict the permissions of %s: %w", tmp, err)
		}
	}
	if _, err := f.Write(data); err != nil {
		if diskspace.IsFull(err) {
			return full(err)
		}
		return fmt.Errorf("write %s to %s (check free disk space): %w", what, tmp, err)
	}
	// Some file systems find the disk full only when flushing or closing.
	if err := f.Sync(); err != nil {
		if diskspace.IsFull(err) {
			return full(err)
		}
		return fmt.Errorf("flush %s to disk (%s): %w", what, tmp, err)
	}
	if err := f.Close(); err != nil {
		if diskspace.IsFull(err) {
			return full(err)
		}
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if testHookBeforeRename != nil {
		testHookBeforeRename(tmp)
	}
	if err := replaceFile(tmp, dst); err != nil {
		return fmt.Errorf("replace %s with %s (the old file is unchanged): %w", dst, what, err)
	}
	committed = true
	if err := syncDir(s.dir); err != nil {
		return fmt.Errorf("flush the configuration directory %s to disk: %w", s.dir, err)
	}
	return nil
}

// removeLeftoversLocked deletes temporary files of writers that crashed
// before their rename. Holding the lock guarantees no live writer owns one.
func (s *ConfigStore) removeLeftoversLocked() {
	matches, _ := filepath.Glob(filepath.Join(s.dir, tempPrefix+"*"))
	for _, m := range matches {
		// A failure only leaves an ignored file behind; the next save
		// tries again.
		_ = os.Remove(m)
	}
}

// SetAside renames the configuration file to
// config.json.damaged-YYYYMMDD-HHMMSS so the administrator can start with an
// empty configuration without losing the old file. It returns the new path.
func (s *ConfigStore) SetAside() (string, error) {
	unlock, err := s.lock()
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Lstat(s.Path()); err != nil {
		return "", fmt.Errorf("set the configuration file aside: %w", err)
	}
	base := s.Path() + damagedInfix + clock.Now().Format("20060102-150405")
	dest := base
	// Two set-asides in the same second must not overwrite the first.
	for i := 2; ; i++ {
		if _, err := os.Lstat(dest); errors.Is(err, fs.ErrNotExist) {
			break
		}
		dest = fmt.Sprintf("%s-%d", base, i)
	}
	if err := os.Rename(s.Path(), dest); err != nil {
		return "", fmt.Errorf("rename %s to %s (check that you may write to %s): %w", s.Path(), dest, s.dir, err)
	}
	if err := syncDir(s.dir); err != nil {
		return "", fmt.Errorf("flush the configuration directory %s to disk: %w", s.dir, err)
	}
	return dest, nil
}

// lock creates the directory if needed and takes the in-process mutex and
// the cross-process file lock. The returned function releases both.
func (s *ConfigStore) lock() (func(), error) {
	if err := ensureDir(s.dir); err != nil {
		return nil, err
	}
	s.mu.Lock()
	timeout := s.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	release, err := filelock.Lock(filepath.Join(s.dir, lockFileName), timeout)
	if err != nil {
		s.mu.Unlock()
		if errors.Is(err, filelock.ErrLocked) {
			return nil, fmt.Errorf("%w (%v)", ErrConfigLocked, err)
		}
		return nil, err
	}
	return func() {
		release()
		s.mu.Unlock()
	}, nil
}

// ensureDir creates dir with mode 0700 and tightens an existing directory
// that others may read: the configuration names tenants, accounts and
// proxies, which are nobody else's business.
func ensureDir(dir string) error {
	if dir == "" {
		return errors.New("no configuration directory given")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create the configuration directory %s (check that you may write to its parent): %w", dir, err)
	}
	if runtime.GOOS == "windows" {
		// Windows protects the user's profile by ACL; Unix mode bits mean
		// nothing there.
		return nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("inspect the configuration directory %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("the configuration directory %s is a file; move it away or set BEACON_CONFIG_DIR", dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("restrict the configuration directory %s to its owner (chmod 700 it): %w", dir, err)
		}
	}
	return nil
}

// secretKeyWords are JSON keys that would mean a secret is being written.
// The model has none; this check keeps it that way should a field be added
// carelessly. Booleans such as hasClientSecret are fine: they say a secret
// exists, not what it is.
func checkNoSecretFields(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("check the configuration for secrets: %w", err)
	}
	return walkNoSecrets("", v)
}

func walkNoSecrets(path string, v any) error {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			p := path + "." + k
			if s, ok := child.(string); ok && s != "" && secretLikeKey(k) {
				return fmt.Errorf("refusing to write the configuration: field %s looks like a secret, and secrets belong in the keyring (this is a bug in Inventory Beacon; please report it)", p)
			}
			if err := walkNoSecrets(p, child); err != nil {
				return err
			}
		}
	case []any:
		for i, child := range t {
			if err := walkNoSecrets(fmt.Sprintf("%s[%d]", path, i), child); err != nil {
				return err
			}
		}
	}
	return nil
}

func secretLikeKey(k string) bool {
	k = strings.ToLower(k)
	return strings.Contains(k, "password") || strings.Contains(k, "secret") ||
		strings.HasSuffix(k, "token") || strings.Contains(k, "privatekey")
}
