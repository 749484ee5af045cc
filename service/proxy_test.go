package service

import (
	"errors"
	"testing"

	"github.com/inventorybeacon/beacon/auth"
	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// TestImportThroughProxyWithTLS runs the import the way a locked-down
// network does: through an authenticating proxy (tinyproxy, CONNECT), with
// TLS to the simulator trusted through the connection's CA file, using the
// connection's own HTTP client with the proxy password from the keyring.
func TestImportThroughProxyWithTLS(t *testing.T) {
	proxy := testenv.StartProxy(t, "beacon", "proxy-Secret-42")
	imports, conn, sim := setupSim(t, m365sim.Options{Users: 300, Seed: 5, TLS: true})
	conn.CACertFile = sim.CAFile()
	conn.Proxy = storage.Proxy{Enabled: true, Server: proxy.URL, Username: "beacon", HasPassword: true}
	secrets := &memSecrets{}
	if err := secrets.Set(conn.ID, storage.SecretProxyPassword, "proxy-Secret-42"); err != nil {
		t.Fatal(err)
	}
	imports.Secrets = secrets
	store := imports.Store
	var retries int
	req := ImportRequest{Trigger: inventory.TriggerManual, OnRetry: func(graph.Retry) { retries++ }}

	run, err := imports.Import(t.Context(), conn, req)
	if err != nil || run.Status != inventory.StatusSucceeded || run.Counts.Users < 300 {
		t.Fatalf("import through the proxy: %v, %+v", err, run)
	}
	// A wrong proxy password fails cleanly, without retries, and keeps the
	// snapshot.
	if err := secrets.Set(conn.ID, storage.SecretProxyPassword, "wrong"); err != nil {
		t.Fatal(err)
	}
	run2, err := imports.Import(t.Context(), conn, req)
	if !errors.Is(err, auth.ErrProxyAuth) || run2.Status != inventory.StatusFailed || retries != 0 {
		t.Fatalf("wrong proxy password: %v, %+v after %d retries", err, run2, retries)
	}
	// An untrusted certificate is not retried either.
	if err := secrets.Set(conn.ID, storage.SecretProxyPassword, "proxy-Secret-42"); err != nil {
		t.Fatal(err)
	}
	noCA := conn
	noCA.CACertFile = ""
	if _, err := imports.Import(t.Context(), noCA, req); err == nil || retries != 0 {
		t.Fatalf("untrusted certificate: %v after %d retries", err, retries)
	}
	if cur, _ := store.CurrentRun(t.Context(), conn.ID); cur.ID != run.ID {
		t.Fatalf("current run %d, want %d", cur.ID, run.ID)
	}
}
