package auth

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/storage"
)

// flakyKeyring is the real keyring with Set failing while failSets > 0, the
// way a locked collection answers: a fault injected around the real part,
// since locking the shared session keyring would disturb other tests.
type flakyKeyring struct {
	storage.Secrets
	failSets atomic.Int32
}

func (k *flakyKeyring) Set(id string, kind storage.SecretKind, v string) error {
	if k.failSets.Load() > 0 {
		k.failSets.Add(-1)
		return storage.ErrKeyringLocked
	}
	return k.Secrets.Set(id, kind, v)
}

// When the keyring refuses the rotated refresh token, the access token is
// not handed out, the new token is kept in memory (the stored one is
// already spent), and the next call stores it first: the chain survives,
// also when the next call is another token source's (the next import of
// `beacon scheduler`, which makes a token source per import; issue 20).
func TestE2EKeyringFailureDuringRotation(t *testing.T) {
	for _, next := range []string{"same token source", "new token source"} {
		t.Run(next, func(t *testing.T) { keyringFailureDuringRotation(t, next == "new token source") })
	}
}

func keyringFailureDuringRotation(t *testing.T, fresh bool) {
	// Strict rotation: presenting the spent token would fail the chain.
	sim := newSim(t, false, func(o *m365sim.Options) { o.SingleUseRefreshTokens = true })
	conn := sim.conn("http://localhost")
	st := newStore(t, conn)
	signedIn(t, sim, conn, st, httpClientFor(t, conn))
	flaky := &flakyKeyring{Secrets: st.secrets}
	ts, err := NewTokenSource(TokenSourceOptions{Conn: conn, Secrets: flaky, LockDir: st.dir})
	if err != nil {
		t.Fatal(err)
	}
	spent, _ := st.secrets.Get(conn.ID, storage.SecretRefreshToken)
	flaky.failSets.Store(1)
	if tok, err := ts.TokenContext(ctxTimeout(t, 30*time.Second)); err == nil || tok != nil {
		t.Fatalf("an access token was handed out before its refresh token was stored (err %v)", err)
	}
	if got, _ := st.secrets.Get(conn.ID, storage.SecretRefreshToken); got != spent {
		t.Fatal("the keyring changed although Set failed")
	}
	if fresh {
		if ts, err = NewTokenSource(TokenSourceOptions{Conn: conn, Secrets: st.secrets, LockDir: st.dir}); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := ts.TokenContext(ctxTimeout(t, 30*time.Second))
	if err != nil {
		t.Fatalf("after the keyring recovered: %v", err)
	}
	stored, _ := st.secrets.Get(conn.ID, storage.SecretRefreshToken)
	if stored == spent || tok.RefreshToken != stored {
		t.Fatal("the chain was not resumed from the kept token")
	}
	if err := redeem(conn, stored); err != nil {
		t.Fatalf("the stored token does not redeem: %v", err)
	}
}
