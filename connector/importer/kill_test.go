package importer

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/service/optimize"
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
	// With BEACON_CHILD_LOOP it imports again and again until killed
	// (TestKill9DuringHistory).
	for {
		_, err = Run(ctx, Options{Conn: storage.Connection{ID: os.Getenv("BEACON_CHILD_CONN"), Name: "Contoso"}, Client: client, Store: store,
			Trigger: inventory.TriggerCLI, Progress: func(s Stage, done, total int) {
				fmt.Printf("progress %s|%d|%d\n", s, done, total)
			}, History: inventory.HistoryOptions{Figures: optimize.HistoryFigures(nil, nil)}})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println("finished")
		if os.Getenv("BEACON_CHILD_LOOP") == "" {
			return
		}
	}
}

// TestKill9DuringHistory: an importer killed at random moments, many of
// them while it finishes (deriving, reading the facts, writing the day),
// never leaves half a day: the history's day of the current snapshot
// always describes that snapshot, row for row. It joins make soak
// (BEACON_SOAK_SCALE multiplies the kills).
func TestKill9DuringHistory(t *testing.T) {
	if os.Getenv("BEACON_CHILD_DB") != "" {
		t.Skip("this is the child")
	}
	scale, _ := strconv.Atoi(os.Getenv("BEACON_SOAK_SCALE"))
	rounds := 6 * max(1, scale)
	if testing.Short() {
		rounds = 2
	}
	e := newEnv(t, m365sim.Options{Users: 300})
	e.mustRun()
	dbPath := e.store.Path()
	e.store.Close()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	finishes := 0
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestImportChild$")
		cmd.Env = append(os.Environ(), "BEACON_CHILD_DB="+dbPath, "BEACON_CHILD_GRAPH="+e.sim.GraphEndpoint(), "BEACON_CHILD_LOOP=1",
			"BEACON_CHILD_TOKEN="+e.sim.MintAccessToken(e.tokens.upn), "BEACON_CHILD_CONN="+e.conn.ID)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill once the child is at the last report (the import ends
		// soon after), after a random delay: most kills land in Finish.
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if line == "finished" {
				finishes++
			}
			if strings.HasPrefix(line, "progress "+string(StageAppUsage)+"|") && rng.IntN(3) == 0 {
				time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
				break
			}
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		go func() { _, _ = io.Copy(io.Discard, out) }()

		store, err := inventory.Open(ctx, dbPath, inventory.Options{})
		if err != nil {
			t.Fatalf("round %d: the database does not open after kill -9: %v", round, err)
		}
		cur, err := store.CurrentRun(ctx, e.conn.ID)
		if err != nil {
			t.Fatal(err)
		}
		lic, err := store.Licenses(ctx, e.conn.ID, inventory.Query{})
		if err != nil {
			t.Fatal(err)
		}
		day := cur.Started.UTC().Truncate(24 * time.Hour)
		tenants, err := store.HistoryTenants(ctx, e.conn.ID, inventory.HistoryQuery{Since: day, Until: day})
		if err != nil {
			t.Fatal(err)
		}
		skus, err := store.HistorySKUs(ctx, e.conn.ID, inventory.HistoryQuery{Since: day, Until: day})
		if err != nil {
			t.Fatal(err)
		}
		store.Close()
		if len(tenants) != 1 || tenants[0].Users != cur.Counts.Users || len(skus) != len(lic) {
			t.Fatalf("round %d: the day of the current snapshot (run %d, %d users, %d SKUs) is %+v with %d SKU rows: half written",
				round, cur.ID, cur.Counts.Users, len(lic), tenants, len(skus))
		}
		bySKU := map[string]inventory.HistorySKU{}
		for _, s := range skus {
			bySKU[s.SkuID] = s
		}
		for _, l := range lic {
			if s := bySKU[strings.ToLower(l.SkuID)]; s.Assigned != l.Assigned || s.Purchased != l.Purchased || s.Active != l.Active {
				t.Fatalf("round %d: %s in the history %+v, in the snapshot assigned %d, purchased %d, active %d",
					round, l.SkuPartNumber, s, l.Assigned, l.Purchased, l.Active)
			}
		}
	}
	fmt.Printf("FIGURE history kill: %d kills, %d imports finished between them, no half-written day\n", rounds, finishes)
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
