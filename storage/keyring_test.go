package storage

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/zalando/go-keyring"
)

// testService keeps this package's test entries apart from the app's and
// from other packages' tests sharing the session keyring; every test also
// uses fresh connection IDs.
const testService = "Inventory Beacon (storage tests)"

func realKeyring(t *testing.T) *keyringStore {
	t.Helper()
	testenv.Keyring(t)
	return NewKeyring(testService, 10*time.Second).(*keyringStore)
}

// cleanupConn deletes whatever a test left under connID.
func cleanupConn(t *testing.T, s Secrets, connID string) {
	t.Cleanup(func() {
		for _, k := range AllSecretKinds {
			_ = s.Delete(connID, k)
		}
	})
}

// rawChunks reads the head entry straight from go-keyring and returns the
// raw chunk entries it names, checking each exists and is within the limit.
func rawChunks(t *testing.T, connID string, kind SecretKind) (chunkHead, []string) {
	t.Helper()
	user := connID + "/" + string(kind)
	head, err := keyring.Get(testService, user)
	if err != nil {
		t.Fatalf("raw head entry %s: %v", user, err)
	}
	h, chunked, err := parseHead(head)
	if err != nil || !chunked {
		t.Fatalf("head entry %q is not a chunk head (%v)", head, err)
	}
	var parts []string
	for i := range h.count {
		p, err := keyring.Get(testService, chunkUser(user, h.gen, i))
		if err != nil {
			t.Fatalf("raw chunk %d of %d: %v", i, h.count, err)
		}
		if len(p) > KeyringChunkSize {
			t.Fatalf("raw chunk %d is %d bytes, over the %d limit", i, len(p), KeyringChunkSize)
		}
		parts = append(parts, p)
	}
	return h, parts
}

func assertChunksGone(t *testing.T, connID string, kind SecretKind, h chunkHead) {
	t.Helper()
	for i := range h.count {
		u := chunkUser(connID+"/"+string(kind), h.gen, i)
		if _, err := keyring.Get(testService, u); !errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("stale chunk %s still in the keyring (%v)", u, err)
		}
	}
}

func bigSecret(n int) string {
	// Varied and multi-byte, so a chunk boundary inside a rune or a
	// misordered join would show.
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%06d-é€😀-", i)
	}
	return strings.ToValidUTF8(b.String()[:n], "")
}

func TestKeyringRoundTrip(t *testing.T) {
	t.Parallel()
	s := realKeyring(t)
	id := NewID()
	cleanupConn(t, s, id)
	if _, err := s.Get(id, SecretRefreshToken); !errors.Is(err, ErrSecretNotFound) {
		t.Fatalf("Get of a missing secret: %v, want ErrSecretNotFound", err)
	}
	for _, v := range []string{"0.AAAA-refresh-token", "päss wörd with spaces ✓", "x", ""} {
		if err := s.Set(id, SecretRefreshToken, v); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(id, SecretRefreshToken)
		if err != nil || got != v {
			t.Fatalf("Get = %q, %v; want %q", got, err, v)
		}
	}
	// The raw entry of a short value is the value itself, under the
	// documented user name, so an administrator can recognise it.
	if err := s.Set(id, SecretClientSecret, "client-secret-value"); err != nil {
		t.Fatal(err)
	}
	if raw, err := keyring.Get(testService, id+"/"+string(SecretClientSecret)); err != nil || raw != "client-secret-value" {
		t.Fatalf("raw entry = %q, %v", raw, err)
	}
	// Kinds are separate entries.
	if got, _ := s.Get(id, SecretRefreshToken); got != "" {
		t.Fatalf("refresh token changed to %q by setting the client secret", got)
	}
	if err := s.Delete(id, SecretClientSecret); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(id, SecretClientSecret); !errors.Is(err, ErrSecretNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	if err := s.Delete(id, SecretClientSecret); err != nil {
		t.Fatalf("Delete of a missing secret: %v", err)
	}
	if err := s.Set("a/b", SecretClientSecret, "x"); err == nil {
		t.Fatalf("a connection ID with a slash was accepted")
	}
}

func TestKeyringChunksLargeSecrets(t *testing.T) {
	t.Parallel()
	s := realKeyring(t)
	id := NewID()
	cleanupConn(t, s, id)
	big := bigSecret(10 * 1024)
	if err := s.Set(id, SecretRefreshToken, big); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(id, SecretRefreshToken)
	if err != nil || got != big {
		t.Fatalf("10 KB round trip: len %d, err %v", len(got), err)
	}
	h1, parts := rawChunks(t, id, SecretRefreshToken)
	if len(parts) < 6 || strings.Join(parts, "") != big {
		t.Fatalf("stored in %d chunks that join to %d bytes; want >= 6 chunks joining to the value", len(parts), len(strings.Join(parts, "")))
	}

	// Chunked -> another chunked value: the old generation goes.
	big2 := strings.ToUpper(big[:5000]) + "!"
	if err := s.Set(id, SecretRefreshToken, big2); err != nil {
		t.Fatal(err)
	}
	h2, _ := rawChunks(t, id, SecretRefreshToken)
	if h2.gen == h1.gen {
		t.Fatalf("rewrite reused generation %s", h1.gen)
	}
	assertChunksGone(t, id, SecretRefreshToken, h1)

	// Chunked -> short: the head becomes the value, no chunks remain.
	if err := s.Set(id, SecretRefreshToken, "short"); err != nil {
		t.Fatal(err)
	}
	if raw, err := keyring.Get(testService, id+"/"+string(SecretRefreshToken)); err != nil || raw != "short" {
		t.Fatalf("raw head after short rewrite = %q, %v", raw, err)
	}
	assertChunksGone(t, id, SecretRefreshToken, h2)

	// Short -> chunked works too.
	if err := s.Set(id, SecretRefreshToken, big); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(id, SecretRefreshToken); err != nil || got != big {
		t.Fatalf("short -> chunked round trip failed: %v", err)
	}
	h3, _ := rawChunks(t, id, SecretRefreshToken)

	// Delete removes head and chunks.
	if err := s.Delete(id, SecretRefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, err := keyring.Get(testService, id+"/"+string(SecretRefreshToken)); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("head still present after Delete: %v", err)
	}
	assertChunksGone(t, id, SecretRefreshToken, h3)

	// A short value that looks like a head is stored chunked, so it is
	// never mistaken for one.
	tricky := chunkHeadPrefix + "0123456789abcdef:1:" + strings.Repeat("0", 64)
	if err := s.Set(id, SecretClientSecret, tricky); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(id, SecretClientSecret); err != nil || got != tricky {
		t.Fatalf("head-like value round trip: %q, %v", got, err)
	}
	// Exactly at the limit is one entry; one byte over is two chunks.
	edge := strings.Repeat("a", KeyringChunkSize)
	if err := s.Set(id, SecretProxyPassword, edge); err != nil {
		t.Fatal(err)
	}
	if raw, _ := keyring.Get(testService, id+"/"+string(SecretProxyPassword)); raw != edge {
		t.Fatalf("a value of exactly %d bytes was not stored as one entry", KeyringChunkSize)
	}
	if err := s.Set(id, SecretProxyPassword, edge+"b"); err != nil {
		t.Fatal(err)
	}
	if _, parts := rawChunks(t, id, SecretProxyPassword); len(parts) != 2 {
		t.Fatalf("%d+1 bytes stored in %d chunks, want 2", KeyringChunkSize, len(parts))
	}
}

func TestKeyringDetectsDamagedChunks(t *testing.T) {
	t.Parallel()
	s := realKeyring(t)
	id := NewID()
	cleanupConn(t, s, id)
	big := bigSecret(5000)
	user := id + "/" + string(SecretRefreshToken)

	if err := s.Set(id, SecretRefreshToken, big); err != nil {
		t.Fatal(err)
	}
	h, _ := rawChunks(t, id, SecretRefreshToken)
	// Another program rewrote one chunk: the checksum catches it.
	if err := keyring.Set(testService, chunkUser(user, h.gen, 1), "tampered"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(id, SecretRefreshToken); !errors.Is(err, ErrSecretCorrupt) || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("Get with a tampered chunk: %v, want ErrSecretCorrupt about the checksum", err)
	}
	// A chunk is missing.
	if err := keyring.Delete(testService, chunkUser(user, h.gen, 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(id, SecretRefreshToken); !errors.Is(err, ErrSecretCorrupt) || !strings.Contains(err.Error(), "part 3 of 3 is missing") {
		t.Fatalf("Get with a missing chunk: %v, want ErrSecretCorrupt naming part 3 of 3", err)
	}
	// A malformed head.
	if err := keyring.Set(testService, user, chunkHeadPrefix+"garbage"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(id, SecretRefreshToken); !errors.Is(err, ErrSecretCorrupt) {
		t.Fatalf("Get with a malformed head: %v", err)
	}
	// Setting a new value over the damage repairs it.
	if err := s.Set(id, SecretRefreshToken, big); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(id, SecretRefreshToken); err != nil || got != big {
		t.Fatalf("after repair: %v", err)
	}
	for i := range h.count { // leftovers of the tampered generation
		_ = keyring.Delete(testService, chunkUser(user, h.gen, i))
	}
}

// failingRaw is the real go-keyring with a failure injected on the Nth
// Set, to interrupt a chunked write part-way.
type failingRaw struct {
	rawKeyring
	mu      sync.Mutex
	failAt  int
	sets    int
	written []string
}

func (f *failingRaw) Set(service, user, value string) error {
	f.mu.Lock()
	f.sets++
	n := f.sets
	f.mu.Unlock()
	if n == f.failAt {
		return errors.New("injected failure")
	}
	if err := f.rawKeyring.Set(service, user, value); err != nil {
		return err
	}
	f.mu.Lock()
	f.written = append(f.written, user)
	f.mu.Unlock()
	return nil
}

func TestKeyringInterruptedChunkedWriteKeepsOldValue(t *testing.T) {
	t.Parallel()
	s := realKeyring(t)
	id := NewID()
	cleanupConn(t, s, id)
	old := bigSecret(4500)
	if err := s.Set(id, SecretRefreshToken, old); err != nil {
		t.Fatal(err)
	}
	next := bigSecret(12000)
	n := len(splitChunks(next))
	for _, failAt := range []int{1, n / 2, n + 1} { // first chunk, a middle chunk, the head
		f := &failingRaw{rawKeyring: goKeyring{}, failAt: failAt}
		broken := &keyringStore{service: testService, timeout: 10 * time.Second, raw: f}
		if err := broken.Set(id, SecretRefreshToken, next); err == nil {
			t.Fatalf("failAt %d: the interrupted Set reported success", failAt)
		}
		if got, err := s.Get(id, SecretRefreshToken); err != nil || got != old {
			t.Fatalf("failAt %d: after an interrupted Set, Get = %d bytes, %v; want the old value", failAt, len(got), err)
		}
		for _, u := range f.written {
			if _, err := keyring.Get(testService, u); !errors.Is(err, keyring.ErrNotFound) {
				t.Errorf("failAt %d: chunk %s of the failed write was left behind (%v)", failAt, u, err)
			}
		}
	}
}

type keyringResult struct {
	NoKeyring, Locked, Timeout, NotFound, OK bool
	Message                                  string
	Elapsed                                  time.Duration
}

func resultOf(err error, start time.Time) keyringResult {
	r := keyringResult{
		NoKeyring: errors.Is(err, ErrNoKeyring), Locked: errors.Is(err, ErrKeyringLocked),
		Timeout: errors.Is(err, ErrKeyringTimeout), NotFound: errors.Is(err, ErrSecretNotFound),
		OK: err == nil, Elapsed: time.Since(start),
	}
	if err != nil {
		r.Message = err.Error()
	}
	return r
}

// The chunk size must fit the strictest platform: Windows Credential
// Manager takes 2,560 bytes, and go-keyring on macOS base64-encodes the
// value into a `security` command line of at most 4,096 bytes.
func TestChunkSizeFitsEveryPlatform(t *testing.T) {
	if KeyringChunkSize > 2560 {
		t.Errorf("chunk size %d exceeds Windows' 2,560 bytes", KeyringChunkSize)
	}
	user := chunkUser(NewID()+"/"+string(SecretRefreshToken), newGeneration(), keyringMaxChunks-1)
	macCommand := len("add-generic-password -U -s '' -a '' -w ''\n") + len(KeyringService) + len(user) +
		len("go-keyring-base64:") + (KeyringChunkSize+2)/3*4
	if macCommand > 4096 {
		t.Errorf("a full chunk makes a %d-byte macOS keychain command, over 4,096", macCommand)
	}
	head := chunkHead{gen: newGeneration(), count: keyringMaxChunks, sum: sha256Hex("x")}.String()
	if len(head) > KeyringChunkSize {
		t.Errorf("the head entry (%d bytes) is itself over the chunk size", len(head))
	}
}

func TestSplitChunks(t *testing.T) {
	cases := map[string]string{
		"ascii":          strings.Repeat("abcdefghij", 1001),
		"multi-byte":     bigSecret(9000),
		"4-byte runes":   strings.Repeat("😀", 1500),
		"invalid UTF-8":  strings.Repeat("\xff\xfe", 3000),
		"exact multiple": strings.Repeat("z", 3*KeyringChunkSize),
	}
	for name, v := range cases {
		parts := splitChunks(v)
		if strings.Join(parts, "") != v {
			t.Errorf("%s: chunks do not join back to the value", name)
		}
		for i, p := range parts {
			if len(p) == 0 || len(p) > KeyringChunkSize {
				t.Errorf("%s: chunk %d has %d bytes", name, i, len(p))
			}
			if utf8.ValidString(v) && !utf8.ValidString(p) {
				t.Errorf("%s: chunk %d splits a UTF-8 sequence", name, i)
			}
		}
	}
	if n := len(splitChunks(strings.Repeat("z", 3*KeyringChunkSize))); n != 3 {
		t.Errorf("3 full chunks split into %d", n)
	}
}
