package service

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
)

// Regression (issue 8, load soak): a client per import must not leave its
// keep-alive connections open once the import is over. Open's release
// closes them; before, a scheduler with 20 connections every minute held
// hundreds of sockets.
func TestOpenReleaseClosesConnections(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/net/tcp")
	}
	sim, err := m365sim.Start(m365sim.Options{Users: 50, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	conn := storage.Connection{ID: storage.NewID(), Name: "Sim", GraphEndpoint: sim.GraphEndpoint(), TokenEndpoint: sim.TokenEndpoint(),
		AuthFlow: storage.FlowClientCredentials, ClientID: tenant.ConfidentialClientID}
	var hc *http.Client
	client, release, err := OpenGraph(conn, GraphOptions{Tokens: func(_ storage.Connection, _ storage.Secrets, c *http.Client) (graph.TokenSource, error) {
		hc = c
		return minted(sim.MintAccessToken(tenant.AdminLocalPart + "@" + sim.Tenant().Domain)), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if hc == nil {
		t.Fatal("the token source did not get the HTTP client")
	}
	if _, err := client.FirstUsers(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	// The simulator's side sees the client's connections: its idle
	// keep-alive connection ends when the client closes it.
	if n := serverConns(t, sim); n == 0 {
		t.Fatal("no connection is open after a request")
	}
	release()
	deadline := time.Now().Add(5 * time.Second)
	for serverConns(t, sim) != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := serverConns(t, sim); n != 0 {
		t.Fatalf("%d connections still open after release", n)
	}
}

// serverConns counts the established TCP connections on the simulator's
// port (its side), from the socket table.
func serverConns(t *testing.T, sim *m365sim.Server) int {
	t.Helper()
	u, _ := url.Parse(sim.URL())
	port, _ := strconv.Atoi(u.Port())
	n := 0
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 4 || f[3] != "01" { // ESTABLISHED
				continue
			}
			local := f[1]
			p, _ := strconv.ParseUint(local[strings.LastIndex(local, ":")+1:], 16, 16)
			if int(p) == port {
				n++
			}
		}
	}
	return n
}
