package importer

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// staticTokens hands out one token (the child process cannot mint).
type staticTokens string

func (s staticTokens) Token(context.Context) (string, error) { return string(s), nil }
func (s staticTokens) Invalidate()                           {}

// TestImportChild is the importer process that TestKill9MidImport kills.
// It only runs when that test starts it.
func TestImportChild(t *testing.T) {
	dbPath := os.Getenv("BEACON_CHILD_DB")
	if dbPath == "" {
		t.Skip("runs only as the child of TestKill9MidImport")
	}
	ctx := context.Background()
	store, err := inventory.Open(ctx, dbPath, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	client, err := graph.New(nil, os.Getenv("BEACON_CHILD_GRAPH"), staticTokens(os.Getenv("BEACON_CHILD_TOKEN")), graph.Options{PageSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(ctx, Options{Conn: storage.Connection{ID: os.Getenv("BEACON_CHILD_CONN"), Name: "Contoso"}, Client: client, Store: store,
		Trigger: inventory.TriggerCLI, Progress: func(s Stage, done, total int) {
			fmt.Printf("progress %s|%d|%d\n", s, done, total)
		}})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("finished")
}

func TestKill9MidImport(t *testing.T) {
	if os.Getenv("BEACON_CHILD_DB") != "" {
		t.Skip("this is the child")
	}
	// Latency makes the import take long enough (40 pages of users at
	// 10 ms) that the kill surely lands before it ends.
	e := newEnv(t, m365sim.Options{Users: 2000, Latency: 10 * time.Millisecond})
	good := e.mustRun()
	dbPath := e.store.Path()

	cmd := exec.Command(os.Args[0], "-test.run=^TestImportChild$", "-test.v")
	cmd.Env = append(os.Environ(), "BEACON_CHILD_DB="+dbPath, "BEACON_CHILD_GRAPH="+e.sim.GraphEndpoint(),
		"BEACON_CHILD_TOKEN="+e.sim.MintAccessToken(e.tokens.upn), "BEACON_CHILD_CONN="+e.conn.ID)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	var seen []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		seen = append(seen, line)
		var done, total int
		if rest, ok := strings.CutPrefix(line, "progress "+string(StageUsers)+"|"); ok {
			fmt.Sscanf(strings.ReplaceAll(rest, "|", " "), "%d %d", &done, &total)
			if total > 0 && done*2 >= total {
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				killed = true
				break
			}
		}
	}
	_ = cmd.Wait() // reap it, so its pid is gone
	if !killed {
		t.Fatalf("the child never reached half of the users; its output:\n%s", strings.Join(seen, "\n"))
	}

	// Reopen as the next process would.
	e.store.Close()
	store, err := inventory.Open(context.Background(), dbPath, inventory.Options{})
	if err != nil {
		t.Fatalf("the database does not open after kill -9: %v", err)
	}
	e.store = store
	if v, err := store.IntegrityCheck(context.Background()); err != nil || v != "ok" {
		t.Fatalf("integrity_check = %q, %v", v, err)
	}
	cur, err := store.CurrentRun(context.Background(), e.conn.ID)
	if err != nil || cur.ID != good.Run.ID {
		t.Fatalf("current run = %+v, %v; want the last good run %d", cur, err, good.Run.ID)
	}
	hist, err := store.History(context.Background(), e.conn.ID, 0)
	if err != nil || len(hist) != 2 {
		t.Fatalf("history = %+v, %v", hist, err)
	}
	if k := hist[0]; k.Status != inventory.StatusFailed || !strings.Contains(k.Error, "interrupted") || k.Current {
		t.Fatalf("the killed run is recorded as %+v", k)
	}
	var staged int
	store.DB().QueryRow("SELECT COUNT(*) FROM users WHERE run_id = ?", hist[0].ID).Scan(&staged)
	if staged != 0 {
		t.Fatalf("%d staged users of the killed run remain", staged)
	}
	e.checkAll()
	// The next import succeeds and becomes current.
	next := e.mustRun()
	if next.Status() != inventory.StatusSucceeded || !next.Run.Current {
		t.Fatalf("next run = %+v", next.Run)
	}
	e.checkAll()
}
