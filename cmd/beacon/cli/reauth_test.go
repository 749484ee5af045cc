package cli

// A revoked refresh token, redeemed for real against the simulator with
// the keyring's token: `beacon execute` and a scheduled run (its import
// history) say how to sign in again, naming the command with the
// connection's own name (issue 22, item 5).

import (
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/auth"
	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// signedInEnv is newCLIEnv with a real sign-in: a refresh token the
// simulator issued, in a keyring service of the test's own, redeemed by
// auth's token source as in production.
func signedInEnv(t *testing.T) (*cliEnv, storage.Connection) {
	t.Helper()
	testenv.Keyring(t)
	e := newCLIEnv(t, 10)
	upn := tenant.AdminLocalPart + "@" + e.sim.Tenant().Domain
	secrets := storage.NewKeyring("inventory-beacon-clitest-"+storage.NewID(), 10*time.Second)
	var conn storage.Connection
	err := storage.NewConfigStore(e.dir).Update(func(c *storage.Config) error {
		c.Connections[0].Token = &storage.TokenInfo{ObtainedAt: c.Connections[0].Created, Account: upn}
		conn = c.Connections[0]
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := e.sim.Identity().IssueRefreshToken(tenant.DefaultClientID, upn, strings.Join(auth.Scopes(conn), " "))
	if err != nil {
		t.Fatal(err)
	}
	if err := secrets.Set(conn.ID, storage.SecretRefreshToken, rt); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, k := range storage.AllSecretKinds {
			_ = secrets.Delete(conn.ID, k)
		}
	})
	executeKeyring = func() storage.Secrets { return secrets } // restored by newCLIEnv's cleanup
	executeTokenSource = oldExecuteTokenSource
	return e, conn
}

// oldExecuteTokenSource is the production token source (auth's), kept
// before any test replaces it.
var oldExecuteTokenSource = executeTokenSource

func TestRevokedSignInSaysHowToSignInAgain(t *testing.T) {
	e, conn := signedInEnv(t)
	const advice = "`beacon generate \"Contoso Tenant\"`"

	// The token works before it is revoked: the test's sign-in is real.
	if code, out, errs := e.run("execute", "Contoso Tenant", "--quiet"); code != ExitOK {
		t.Fatalf("execute before the revocation: %d\n%s\n%s", code, out, errs)
	}

	e.sim.Identity().RevokeRefreshTokens(tenant.AdminLocalPart + "@" + e.sim.Tenant().Domain)
	code, out, errs := e.run("execute", "Contoso Tenant", "--quiet")
	if code != ExitFailed {
		t.Fatalf("execute after the revocation: exit %d, want %d\n%s\n%s", code, ExitFailed, out, errs)
	}
	if !strings.Contains(errs, advice) || !strings.Contains(errs, "Generate...") || !strings.Contains(errs, "AADSTS50173") {
		t.Fatalf("execute does not say how to sign in again:\n%s", errs)
	}
	runs := e.history(conn.ID)
	if len(runs) != 2 || runs[0].Status != inventory.StatusFailed || !strings.Contains(runs[0].Error, advice) {
		t.Fatalf("the import history does not say how to sign in again: %+v", runs)
	}

	// A scheduled run records the same advice (the window's notification
	// shows the outcome's error, the same text).
	e.scheduleAll()
	code, out, errs = e.run("scheduler", "--once")
	if code != ExitFailed || !strings.Contains(out, "1 failed") {
		t.Fatalf("scheduler --once: %d\n%s\n%s", code, out, errs)
	}
	runs = e.history(conn.ID)
	if len(runs) != 3 || runs[0].Trigger != inventory.TriggerSchedule || !strings.Contains(runs[0].Error, advice) {
		t.Fatalf("the scheduled run's history entry does not say how to sign in again: %+v", runs[0])
	}
	if !strings.Contains(errs, "beacon generate") {
		t.Errorf("the scheduler's log does not say how to sign in again:\n%s", errs)
	}
}

func TestExpiredSignInSaysHowToSignInAgain(t *testing.T) {
	e, conn := signedInEnv(t)
	e.sim.Identity().ExpireRefreshTokens()
	code, out, errs := e.run("execute", "contoso tenant", "--quiet")
	if code != ExitFailed || !strings.Contains(errs, "`beacon generate \"Contoso Tenant\"`") || !strings.Contains(errs, "AADSTS700082") {
		t.Fatalf("execute with an expired token: %d\n%s\n%s", code, out, errs)
	}
	if runs := e.history(conn.ID); len(runs) != 1 || !strings.Contains(runs[0].Error, "beacon generate \"Contoso Tenant\"") {
		t.Fatalf("history: %+v", runs)
	}
}
