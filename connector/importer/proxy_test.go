package importer

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
// connection's own HTTP client.
func TestImportThroughProxyWithTLS(t *testing.T) {
	proxy := testenv.StartProxy(t, "beacon", "proxy-Secret-42")
	e := newEnv(t, m365sim.Options{Users: 300, TLS: true})
	conn := e.conn
	conn.Proxy = storage.Proxy{Enabled: true, Server: proxy.URL, Username: "beacon", HasPassword: true}
	conn.CACertFile = e.sim.CAFile()
	hc, err := auth.HTTPClient(conn, "proxy-Secret-42")
	if err != nil {
		t.Fatal(err)
	}
	client, err := graph.New(hc, e.sim.GraphEndpoint(), e.tokens, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(t.Context(), Options{Conn: conn, Client: client, Store: e.store, Trigger: inventory.TriggerManual, Logger: quietLog})
	if err != nil || res.Status() != inventory.StatusSucceeded {
		t.Fatalf("import through the proxy: %v, %+v", err, res.Run)
	}
	e.checkAll()
	// A wrong proxy password fails cleanly and keeps the snapshot.
	bad, _ := auth.HTTPClient(conn, "wrong")
	var retries int
	client, _ = graph.New(bad, e.sim.GraphEndpoint(), e.tokens, graph.Options{Sleep: e.clk.Sleep,
		OnRetry:   func(graph.Retry) { retries++ },
		Permanent: func(err error) bool { return errors.Is(err, auth.ErrProxyAuth) }})
	res2, err := Run(t.Context(), Options{Conn: conn, Client: client, Store: e.store, Trigger: inventory.TriggerManual, Logger: quietLog})
	if !errors.Is(err, auth.ErrProxyAuth) || res2.Status() != inventory.StatusFailed || retries != 0 {
		t.Fatalf("wrong proxy password: %v, %+v", err, res2.Run)
	}
	// An untrusted certificate is not retried either.
	noCA := conn
	noCA.CACertFile = ""
	plain, _ := auth.HTTPClient(noCA, "proxy-Secret-42")
	retries = 0
	client, _ = graph.New(plain, e.sim.GraphEndpoint(), e.tokens, graph.Options{Sleep: e.clk.Sleep, OnRetry: func(graph.Retry) { retries++ }})
	if _, err := Run(t.Context(), Options{Conn: conn, Client: client, Store: e.store, Trigger: inventory.TriggerManual, Logger: quietLog}); err == nil || retries != 0 {
		t.Fatalf("untrusted certificate: %v after %d retries", err, retries)
	}
	if cur, _ := e.store.CurrentRun(t.Context(), e.conn.ID); cur.ID != res.Run.ID {
		t.Fatalf("current run %d, want %d", cur.ID, res.Run.ID)
	}
}
