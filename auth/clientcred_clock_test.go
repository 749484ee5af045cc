package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/storage"
)

// A client-credentials token stays cached on the program's clock, however
// far that clock is from the real one (a test run with BEACON_CLOCK_SHIFT):
// x/oauth2 dates its expiry on the real clock, and compared with a moved
// clock every token looked expired, so each Graph request signed in again.
func TestClientCredentialsTokenCachedOnTheProgramClock(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"token_type":"Bearer","expires_in":3599,"access_token":"at-1"}`))
	}))
	defer srv.Close()
	conn := storage.Connection{ID: storage.NewID(), Name: "Daemon", AuthFlow: storage.FlowClientCredentials,
		ClientID:      "5bb1a5a2-0d97-4335-9448-119f7b27aff9",
		TokenEndpoint: srv.URL + "/0c0c0c0c-1111-2222-3333-444444444444/oauth2/v2.0/token", GraphEndpoint: srv.URL}
	st := newStore(t, conn) // the real keyring, as the import has it
	for _, shift := range []time.Duration{0, 45 * 24 * time.Hour, 400 * 24 * time.Hour, -36 * time.Hour} {
		calls.Store(0)
		ts, err := NewTokenSource(TokenSourceOptions{Conn: conn, Secrets: st.secrets, ClientSecret: "s3cret", LockDir: st.dir,
			HTTPClient: srv.Client(), Now: func() time.Time { return time.Now().Add(shift) }})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := ts.TokenContext(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("clock moved by %v: %d token requests for three uses of one token, want 1", shift, n)
		}
	}
}
