package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/inventorybeacon/beacon/internal/pgtest"
	"github.com/inventorybeacon/beacon/storage"
)

// The package's PostgreSQL server (internal/pgtest) stops with its tests.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// beacon store sets the shared inventory (opening it first: a wrong
// address is said at once), shows it without a password, and goes back
// to the default; list then reads the shared store.
func TestStoreCommand(t *testing.T) {
	e := newConnEnv(t)
	old := storeKeyring
	storeKeyring = func() storage.Secrets { return e.secrets }
	t.Cleanup(func() { storeKeyring = old })
	u := strings.Replace(pgtest.NewDB(t), "postgres@", "postgres:Hidden-pw-42@", 1)

	out, _ := e.must("", ExitOK, "store")
	if !strings.Contains(out, "this computer's database") {
		t.Errorf("beacon store, by default: %s", out)
	}
	if _, errs := e.must("", ExitFailed, "store", "postgres://nobody@/x?host=/nonexistent-socket-dir&connect_timeout=3"); !strings.Contains(errs, "connect to the inventory database") {
		t.Errorf("a wrong address: %s", errs)
	}
	if got := e.config().Store; got != "" {
		t.Fatalf("a wrong address was kept: %s", got)
	}
	out, _ = e.must("", ExitOK, "store", u)
	if strings.Contains(out, "Hidden-pw-42") || strings.Contains(e.config().Store, "Hidden-pw-42") {
		t.Fatalf("the password is shown or kept in the configuration: %s / %s", out, e.config().Store)
	}
	out, _ = e.must("", ExitOK, "store")
	if !strings.Contains(out, "postgres://postgres@") || !strings.Contains(out, "from the configuration") || strings.Contains(out, "Hidden-pw-42") {
		t.Errorf("beacon store: %s", out)
	}
	if out, _ = e.must("", ExitOK, "list"); strings.Contains(out, "Hidden-pw-42") {
		t.Errorf("beacon list: %s", out)
	}
	e.must("", ExitOK, "store", "--default")
	if got := e.config().Store; got != "" {
		t.Errorf("after --default the configuration names %s", got)
	}
}
