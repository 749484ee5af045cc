package storage

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zalando/go-keyring"
)

// KeyringService is the service name every Inventory Beacon keyring entry is
// stored under; the user field is connID + "/" + kind.
const KeyringService = "Inventory Beacon"

// DefaultKeyringTimeout bounds one Secrets call when NewKeyring is given no
// time-out.
const DefaultKeyringTimeout = 15 * time.Second

// KeyringChunkSize is the largest value stored in one keyring entry. Windows
// Credential Manager takes at most 2,560 bytes and the macOS keychain about
// 3 KB including the names; one conservative size on every platform means a
// keyring written on one behaves the same as on another, and Azure refresh
// tokens (often over 2 KB) are split rather than refused.
const KeyringChunkSize = 2000

// keyringMaxChunks caps a value at about 1 MB: no secret of ours is near
// that, and a corrupt head must not make Get read forever.
const keyringMaxChunks = 512

// chunkHeadPrefix starts the head entry of a value stored in chunks. The
// full head is prefix + generation + ":" + count + ":" + SHA-256 (hex).
// A short value that happens to start with the prefix is chunked too, so a
// value is never mistaken for a head.
const chunkHeadPrefix = "inventory-beacon-chunks:v1:"

var (
	// ErrNoKeyring means no Secret Service (or other OS keyring) answers.
	ErrNoKeyring = errors.New("no keyring is available. Inventory Beacon keeps refresh tokens, client secrets " +
		"and proxy passwords in the operating system's keyring. On Linux a Secret Service must be running " +
		"and unlocked in your desktop session: GNOME Keyring (the gnome-keyring package), or KeePassXC with its Secret Service " +
		"integration enabled; on Windows and macOS the system keyring is always present")
	// ErrKeyringLocked means the keyring is locked and unlocking it failed
	// or was dismissed.
	ErrKeyringLocked = errors.New("the keyring is locked and was not unlocked. Unlock it (log in to the desktop " +
		"again, or unlock the \"login\" keyring in Passwords and Keys or KeePassXC) and try again")
	// ErrKeyringTimeout means the keyring did not answer in time, typically
	// because it waits for an unlock prompt nobody sees.
	ErrKeyringTimeout = errors.New("the keyring did not answer in time. It may be waiting for you to unlock it " +
		"in a prompt; answer the prompt or unlock the keyring, then try again")
	// ErrSecretNotFound means the keyring holds no such secret.
	ErrSecretNotFound = errors.New("the secret is not in the keyring")
	// ErrSecretCorrupt means a value stored in chunks is incomplete or does
	// not match its checksum (another program changed the entries, or a
	// keyring was restored from an inconsistent backup).
	ErrSecretCorrupt = errors.New("the secret in the keyring is incomplete or damaged; enter it again " +
		"(for a refresh token: generate a new token)")
)

// rawKeyring is the part of go-keyring used here.
type rawKeyring interface {
	Get(service, user string) (string, error)
	Set(service, user, value string) error
	Delete(service, user string) error
}

type goKeyring struct{}

func (goKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (goKeyring) Set(service, user, value string) error    { return keyring.Set(service, user, value) }
func (goKeyring) Delete(service, user string) error        { return keyring.Delete(service, user) }

// keyringStore implements Secrets on top of the OS keyring.
type keyringStore struct {
	service string
	timeout time.Duration
	raw     rawKeyring
}

// NewKeyring returns Secrets kept in the OS keyring (the Secret Service on
// Linux, Credential Manager on Windows, the keychain on macOS) under
// service. Each Get, Set or Delete, including all the entries of a chunked
// value, completes within timeout or fails with ErrKeyringTimeout; a zero
// timeout means DefaultKeyringTimeout.
func NewKeyring(service string, timeout time.Duration) Secrets {
	if timeout <= 0 {
		timeout = DefaultKeyringTimeout
	}
	return &keyringStore{service: service, timeout: timeout, raw: goKeyring{}}
}

func userName(connID string, kind SecretKind) (string, error) {
	// "/" separates the parts of the user name; allowing it in an ID would
	// let one connection address another's entries.
	if connID == "" || strings.Contains(connID, "/") {
		return "", fmt.Errorf("invalid connection ID %q for a keyring entry", connID)
	}
	if kind == "" || strings.Contains(string(kind), "/") {
		return "", fmt.Errorf("invalid secret kind %q", kind)
	}
	return connID + "/" + string(kind), nil
}

func chunkUser(head, gen string, i int) string {
	return head + "/chunk/" + gen + "/" + strconv.Itoa(i)
}

// chunkHead describes a value stored in chunks.
type chunkHead struct {
	gen   string
	count int
	sum   string
}

func (h chunkHead) String() string {
	return chunkHeadPrefix + h.gen + ":" + strconv.Itoa(h.count) + ":" + h.sum
}

// parseHead reports whether v is a head entry, and parses it.
func parseHead(v string) (chunkHead, bool, error) {
	rest, ok := strings.CutPrefix(v, chunkHeadPrefix)
	if !ok {
		return chunkHead{}, false, nil
	}
	parts := strings.Split(rest, ":")
	if len(parts) != 3 {
		return chunkHead{}, true, fmt.Errorf("%w (its index entry is malformed)", ErrSecretCorrupt)
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil || n < 1 || n > keyringMaxChunks || !isHex(parts[0], 16) || !isHex(parts[2], 64) {
		return chunkHead{}, true, fmt.Errorf("%w (its index entry is malformed)", ErrSecretCorrupt)
	}
	return chunkHead{gen: parts[0], count: n, sum: parts[2]}, true, nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// splitChunks cuts v into pieces of at most KeyringChunkSize bytes, on rune
// boundaries: some keyrings store text, and half a UTF-8 sequence might not
// survive the trip.
func splitChunks(v string) []string {
	var out []string
	for len(v) > 0 {
		n := min(KeyringChunkSize, len(v))
		for n < len(v) && n > 0 && !utf8.RuneStart(v[n]) {
			n--
		}
		if n == 0 { // not UTF-8 at all: cut on bytes
			n = min(KeyringChunkSize, len(v))
		}
		out = append(out, v[:n])
		v = v[n:]
	}
	return out
}

func sha256Hex(v string) string {
	s := sha256.Sum256([]byte(v))
	return hex.EncodeToString(s[:])
}

func newGeneration() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// call runs one keyring call in a goroutine, waiting no later than deadline.
// A call that hangs (a D-Bus prompt nobody answers) is abandoned: its
// goroutine finishes or leaks, but the caller gets its answer.
func (k *keyringStore) call(deadline time.Time, fn func() (string, error)) (string, error) {
	wait := time.Until(deadline)
	if wait <= 0 {
		return "", fmt.Errorf("%w (no answer within %s)", ErrKeyringTimeout, k.timeout)
	}
	type result struct {
		v   string
		err error
	}
	done := make(chan result, 1)
	go func() {
		if err := keyringPreflight(); err != nil {
			done <- result{err: err}
			return
		}
		v, err := fn()
		done <- result{v, classifyKeyringError(err)}
	}()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case r := <-done:
		return r.v, r.err
	case <-t.C:
		if keyringLocked(500 * time.Millisecond) {
			return "", fmt.Errorf("%w: %w (no answer within %s)", ErrKeyringLocked, ErrKeyringTimeout, k.timeout)
		}
		return "", fmt.Errorf("%w (no answer within %s)", ErrKeyringTimeout, k.timeout)
	}
}

// classifyKeyringError maps a go-keyring error to the package's errors,
// keeping the original in the chain for diagnosis.
func classifyKeyringError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, keyring.ErrNotFound) {
		return ErrSecretNotFound
	}
	if sentinel := platformKeyringError(err); sentinel != nil {
		return fmt.Errorf("%w (%w)", sentinel, err)
	}
	return fmt.Errorf("the keyring reported an error; check that it is running and unlocked: %w", err)
}

func (k *keyringStore) rawGet(deadline time.Time, user string) (string, error) {
	return k.call(deadline, func() (string, error) { return k.raw.Get(k.service, user) })
}

func (k *keyringStore) rawSet(deadline time.Time, user, value string) error {
	_, err := k.call(deadline, func() (string, error) { return "", k.raw.Set(k.service, user, value) })
	return err
}

// rawDelete treats a missing entry as deleted.
func (k *keyringStore) rawDelete(deadline time.Time, user string) error {
	_, err := k.call(deadline, func() (string, error) { return "", k.raw.Delete(k.service, user) })
	if errors.Is(err, ErrSecretNotFound) {
		return nil
	}
	return err
}

// Get returns the secret, joining its chunks if it was stored in several.
func (k *keyringStore) Get(connID string, kind SecretKind) (string, error) {
	user, err := userName(connID, kind)
	if err != nil {
		return "", err
	}
	deadline := time.Now().Add(k.timeout)
	v, err := k.get(deadline, user)
	if err != nil {
		return "", fmt.Errorf("read the %s of connection %s from the keyring: %w", kind, connID, err)
	}
	return v, nil
}

func (k *keyringStore) get(deadline time.Time, user string) (string, error) {
	v, err := k.rawGet(deadline, user)
	if err != nil {
		return "", err
	}
	h, chunked, err := parseHead(v)
	if err != nil || !chunked {
		return v, err
	}
	var b strings.Builder
	for i := range h.count {
		part, err := k.rawGet(deadline, chunkUser(user, h.gen, i))
		if errors.Is(err, ErrSecretNotFound) {
			return "", fmt.Errorf("%w (part %d of %d is missing)", ErrSecretCorrupt, i+1, h.count)
		}
		if err != nil {
			return "", err
		}
		b.WriteString(part)
	}
	joined := b.String()
	if sha256Hex(joined) != h.sum {
		return "", fmt.Errorf("%w (its parts do not match their checksum)", ErrSecretCorrupt)
	}
	return joined, nil
}

// Set stores value. A value over KeyringChunkSize is written as chunks of a
// fresh generation first, then the head entry naming them, and only then
// are the previous generation's chunks deleted: until the head is replaced
// the old value stays whole, and after it the new one is, so an
// interruption at any point leaves a readable value (at worst some unused
// chunks).
func (k *keyringStore) Set(connID string, kind SecretKind, value string) error {
	user, err := userName(connID, kind)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(k.timeout)
	if err := k.set(deadline, user, value); err != nil {
		return fmt.Errorf("save the %s of connection %s in the keyring: %w", kind, connID, err)
	}
	return nil
}

func (k *keyringStore) set(deadline time.Time, user, value string) error {
	old, err := k.rawGet(deadline, user)
	if err != nil && !errors.Is(err, ErrSecretNotFound) {
		return err
	}
	// A malformed old head names no chunks we could find; ignore it.
	oldHead, oldChunked, _ := parseHead(old)

	if len(value) <= KeyringChunkSize && !strings.HasPrefix(value, chunkHeadPrefix) {
		if err := k.rawSet(deadline, user, value); err != nil {
			return err
		}
	} else {
		parts := splitChunks(value)
		if len(parts) > keyringMaxChunks {
			return fmt.Errorf("the value is %d bytes, more than the keyring store takes (%d bytes)", len(value), keyringMaxChunks*KeyringChunkSize)
		}
		h := chunkHead{gen: newGeneration(), count: len(parts), sum: sha256Hex(value)}
		for i, p := range parts {
			if err := k.rawSet(deadline, chunkUser(user, h.gen, i), p); err != nil {
				k.deleteChunks(deadline, user, chunkHead{gen: h.gen, count: i})
				return err
			}
		}
		if err := k.rawSet(deadline, user, h.String()); err != nil {
			k.deleteChunks(deadline, user, h)
			return err
		}
	}
	if oldChunked {
		k.deleteChunks(deadline, user, oldHead)
	}
	return nil
}

// deleteChunks removes a generation's chunks, best effort: the head no
// longer names them, so a failure leaves only unused entries behind, and
// reporting it would make a successful Set or Delete look failed.
func (k *keyringStore) deleteChunks(deadline time.Time, user string, h chunkHead) {
	for i := range h.count {
		if err := k.rawDelete(deadline, chunkUser(user, h.gen, i)); errors.Is(err, ErrKeyringTimeout) {
			return
		}
	}
}

// Delete removes the secret and its chunks; a missing secret is not an
// error. The head goes first, so no head ever names missing chunks.
func (k *keyringStore) Delete(connID string, kind SecretKind) error {
	user, err := userName(connID, kind)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(k.timeout)
	old, err := k.rawGet(deadline, user)
	if errors.Is(err, ErrSecretNotFound) {
		return nil
	}
	if err == nil {
		err = k.rawDelete(deadline, user)
	}
	if err != nil {
		return fmt.Errorf("delete the %s of connection %s from the keyring: %w", kind, connID, err)
	}
	if h, chunked, perr := parseHead(old); chunked && perr == nil {
		k.deleteChunks(deadline, user, h)
	}
	return nil
}
