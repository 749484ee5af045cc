package demo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

func newRepo(t *testing.T) *storage.Repository {
	t.Helper()
	testenv.Keyring(t)
	return &storage.Repository{
		Config:  storage.NewConfigStore(t.TempDir()),
		Secrets: storage.NewKeyring("Inventory Beacon demo test "+storage.NewID(), 10*time.Second),
	}
}

// The demo connection is valid by the dialog's own rules, points at the
// running simulator, and a second start repoints it without duplicating it
// or keeping the stale token.
func TestStartCreatesAndRepointsConnection(t *testing.T) {
	repo := newRepo(t)
	d1, err := Start(repo, Options{Addr: "127.0.0.1:0", Users: 30})
	if err != nil {
		t.Fatal(err)
	}
	c := d1.Connection
	if errs := connector.Validate(c, nil, "", false); len(errs) != 0 {
		t.Fatalf("demo connection fails validation: %v", errs)
	}
	if c.GraphEndpoint != d1.Sim.URL() || !strings.HasPrefix(c.TokenEndpoint, d1.Sim.URL()+"/") {
		t.Fatalf("connection does not point at the simulator %s: %+v", d1.Sim.URL(), c)
	}
	resp, err := http.Get(c.GraphEndpoint + "/v1.0/users")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("simulator Graph without a token answered %d, want 401", resp.StatusCode)
	}
	if len(d1.Accounts) != 4 {
		t.Fatalf("accounts = %+v", d1.Accounts)
	}

	// Pretend a token was generated against the first simulator.
	cfg, err := repo.Config.Load()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Connections[0].Token = &storage.TokenInfo{Account: "admin@x", ObtainedAt: time.Now()}
	if err := repo.Commit(cfg, []storage.SecretChange{{ConnID: c.ID, Kind: storage.SecretRefreshToken, Value: "stale-refresh-token-value"}}); err != nil {
		t.Fatal(err)
	}
	d1.Close()

	d2, err := Start(repo, Options{Addr: "127.0.0.1:0", Users: 30})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	cfg, err = repo.Config.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Connections) != 1 {
		t.Fatalf("%d connections after a second start, want 1", len(cfg.Connections))
	}
	got := cfg.Connections[0]
	if got.ID != c.ID || got.GraphEndpoint != d2.Sim.URL() || got.Token != nil {
		t.Fatalf("second start: %+v", got)
	}
	if _, err := repo.Secrets.Get(c.ID, storage.SecretRefreshToken); !errors.Is(err, storage.ErrSecretNotFound) {
		t.Fatalf("stale refresh token still in the keyring: %v", err)
	}
}

// When the default port is taken the demo still starts, on another port.
func TestStartFallsBackWhenPortTaken(t *testing.T) {
	repo := newRepo(t)
	first, err := Start(repo, Options{Users: 20})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	second, err := Start(repo, Options{Users: 20})
	if err != nil {
		t.Fatalf("second demo while the default port is taken: %v", err)
	}
	defer second.Close()
	if first.Sim.URL() == second.Sim.URL() {
		t.Fatalf("both demos claim %s", first.Sim.URL())
	}
	if !strings.HasSuffix(first.Sim.URL(), DefaultAddr) && !strings.HasSuffix(second.Sim.URL(), DefaultAddr) {
		t.Logf("default port %s was taken by something else; both used fallbacks", DefaultAddr)
	}
}

// A demo with a history starts with that many days of licence history,
// one import a day ending today (the program's clock), made by the same
// imports as Execute Now from a tenant that changed over the days; a
// second start finds the history and imports nothing more.
func TestStartMakesHistory(t *testing.T) {
	const days = 20
	repo := newRepo(t)
	d := madeHistory(t, repo, Options{Addr: "127.0.0.1:0", Users: 40, Seed: 3, HistoryDays: days})
	ctx := context.Background()
	store := openStore(t, repo)
	h := service.History{Store: store, ConfigDir: repo.Config.Dir()}
	tenants, err := h.Tenant(ctx, d.Connection.ID, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	today := clock.Now().UTC().Truncate(24 * time.Hour)
	if len(tenants) != days+1 || !tenants[0].Day.Equal(today.AddDate(0, 0, -days)) || !tenants[days].Day.Equal(today) {
		t.Fatalf("%d days of history, want %d from %s to %s: %+v", len(tenants), days+1, today.AddDate(0, 0, -days).Format(time.DateOnly),
			today.Format(time.DateOnly), tenants)
	}
	if tenants[0].Users == tenants[days].Users && tenants[0].Licensed == tenants[days].Licensed {
		t.Errorf("the tenant did not change over %d days: %+v", days, tenants)
	}
	events, err := h.Events(ctx, d.Connection.ID, inventory.HistoryQuery{})
	if err != nil || len(events) == 0 {
		t.Fatalf("no licence events over %d days (%v)", days, err)
	}
	trend, err := h.Trend(ctx, d.Connection.ID, "", service.Last30Days.Since(clock.Now()))
	if err != nil || len(trend) != days+1 || trend[days].Assigned == 0 {
		t.Fatalf("the trend of the last 30 days: %v, %+v", err, trend)
	}
	runs := func() int {
		rs, err := store.History(ctx, d.Connection.ID, 10000)
		if err != nil {
			t.Fatal(err)
		}
		return len(rs)
	}
	before := runs()
	if before != days+1 {
		t.Errorf("%d imports, want one a day: %d", before, days+1)
	}
	d2, err := Start(repo, Options{Addr: "127.0.0.1:0", Users: 40, Seed: 3, HistoryDays: days})
	if err != nil {
		t.Fatal(err)
	}
	if n := d2.HistoryLeft(); n != 0 {
		t.Errorf("a second start has %d imports left to make", n)
	}
	d2.Close()
	if after := runs(); after != before {
		t.Errorf("a second start imported again: %d imports, then %d", before, after)
	}
}

// madeHistory starts a demo, makes its history, checking that it had left
// left imports to make when given, and stops it.
func madeHistory(t *testing.T, repo *storage.Repository, o Options, left ...int) *Demo {
	t.Helper()
	d, err := Start(repo, o)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if len(left) > 0 && d.HistoryLeft() != left[0] {
		t.Errorf("the start has %d imports to make, want %d", d.HistoryLeft(), left[0])
	}
	if err := buildHistory(d); err != nil {
		t.Fatal(err)
	}
	return d
}

// openStore opens the database of repo's configuration folder.
func openStore(t *testing.T, repo *storage.Repository) *inventory.Store {
	t.Helper()
	store, err := inventory.OpenDir(context.Background(), repo.Config.Dir(), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// buildHistory runs BuildHistory and waits for its outcome, checking the
// progress counts up to the total.
func buildHistory(d *Demo) error {
	total := d.HistoryLeft()
	out := make(chan error, 1)
	last := 0
	d.BuildHistory(func(done, n int, err error) {
		switch {
		case n != total || done < last || done > n:
			out <- fmt.Errorf("progress %d of %d after %d, want up to %d", done, n, last, total)
		case err != nil:
			out <- err
		case done == n:
			out <- nil
		}
		last = done
	})
	return <-out
}

// A history of more than DailyDays days is weekly before its last
// DailyDays days, ends with today's import as the current snapshot, and
// one whose making was stopped midway is finished by the next start,
// with no day twice.
func TestHistoryWeeklyThenDailyResumed(t *testing.T) {
	const days = DailyDays + 15
	repo := newRepo(t)
	opts := Options{Addr: "127.0.0.1:0", Users: 30, Seed: 4, HistoryDays: days, interruptAfter: 7}
	today := clock.Now().UTC().Truncate(24 * time.Hour)
	var want []time.Time
	for day := 0; day <= days; day++ {
		if ago := days - day; day == 0 || ago < DailyDays || ago%7 == 0 {
			want = append(want, today.AddDate(0, 0, -ago))
		}
	}
	d, err := Start(repo, opts)
	if err != nil {
		t.Fatal(err)
	}
	if d.HistoryLeft() != len(want) {
		t.Fatalf("%d imports to make, want %d", d.HistoryLeft(), len(want))
	}
	if err := buildHistory(d); !errors.Is(err, errInterrupted) {
		t.Fatalf("the interrupted history: %v", err)
	}
	d.Close()

	opts.interruptAfter = 0
	d = madeHistory(t, repo, opts, len(want)-7)

	ctx := context.Background()
	store := openStore(t, repo)
	tenants, err := store.HistoryTenants(ctx, d.Connection.ID, inventory.HistoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var got []time.Time
	for _, h := range tenants {
		got = append(got, h.Day)
	}
	if !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Errorf("history days %v, want %v", got, want)
	}
	runs, err := store.History(ctx, d.Connection.ID, 10000)
	if err != nil || len(runs) != len(want) {
		t.Errorf("%d imports (%v), want %d: one a day of the history", len(runs), err, len(want))
	}
	cur, err := store.CurrentRun(ctx, d.Connection.ID)
	if err != nil || !cur.Started.UTC().Truncate(24*time.Hour).Equal(today) {
		t.Errorf("the current snapshot is of %v (%v), want today %v", cur.Started, err, today)
	}
}
