package inventory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/internal/pgtest"
)

// openBeacons opens n stores on one new PostgreSQL database: n beacons
// (on as many machines, as far as the store can tell) sharing it.
func openBeacons(t *testing.T, n int) ([]*Store, string) {
	t.Helper()
	u := pgtest.NewDB(t)
	out := make([]*Store, n)
	for i := range out {
		s, err := OpenURL(context.Background(), u, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		out[i] = s
	}
	return out, u
}

// A connection being imported by one beacon is not imported by another
// at the same time: the second is told where it runs, other connections
// are not held up, and the import history still records the skip.
func TestPostgresSecondBeaconSkipped(t *testing.T) {
	ctx := context.Background()
	b, _ := openBeacons(t, 2)
	first, err := b[0].BeginRun(ctx, RunInfo{ConnectionID: "c1", ConnectionName: "Contoso", Trigger: TriggerSchedule})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b[1].BeginRun(ctx, RunInfo{ConnectionID: "c1", ConnectionName: "Contoso", Trigger: TriggerSchedule})
	host, _ := os.Hostname()
	var busy *AlreadyRunningError
	if !errors.Is(err, ErrAlreadyRunning) || !errors.As(err, &busy) || busy.Host != host || busy.PID != os.Getpid() ||
		!strings.Contains(err.Error(), "already running on "+host) {
		t.Fatalf("the second beacon's run began or failed otherwise: %v", err)
	}
	other, err := b[1].BeginRun(ctx, RunInfo{ConnectionID: "c2", ConnectionName: "Fabrikam", Trigger: TriggerSchedule})
	if err != nil {
		t.Fatalf("another connection was held up: %v", err)
	}
	if _, err := other.Finish(ctx, Outcome{Status: StatusCancelled}); err != nil {
		t.Fatal(err)
	}
	rec, err := b[1].BeginRun(ctx, RunInfo{ConnectionID: "c1", ConnectionName: "Contoso", Trigger: TriggerSchedule, RecordOnly: true})
	if err != nil {
		t.Fatalf("the skip could not be recorded: %v", err)
	}
	if run, err := rec.Finish(ctx, Outcome{Status: StatusSkipped, Err: err}); err != nil || run.Status != StatusSkipped {
		t.Fatalf("recording the skip: %+v %v", run, err)
	}
	if _, err := first.Finish(ctx, Outcome{Status: StatusSucceeded}); err != nil {
		t.Fatal(err)
	}
	again, err := b[1].BeginRun(ctx, RunInfo{ConnectionID: "c1", ConnectionName: "Contoso", Trigger: TriggerSchedule})
	if err != nil {
		t.Fatalf("the connection stayed locked after its run finished: %v", err)
	}
	again.Finish(ctx, Outcome{Status: StatusCancelled})
}

// A beacon killed mid-import (here: every session of its store ended by
// the server, as when its process dies) leaves no half snapshot: the next
// beacon to open the database marks the run interrupted and deletes its
// rows, the last good snapshot stays current, and the connection can be
// imported again at once. A run whose lock is held is alive, whatever
// its recorded host and process say.
func TestPostgresKilledRun(t *testing.T) {
	ctx := context.Background()
	b, u := openBeacons(t, 2)
	good := importGood(t, b[0], "c1", 10, "a")
	dead := beginWithUsers(t, b[0], 40)
	live, err := b[1].BeginRun(ctx, RunInfo{ConnectionID: "c2", ConnectionName: "Fabrikam", Trigger: TriggerCLI})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Finish(ctx, Outcome{Status: StatusCancelled})
	// The live run looks like a process gone on another machine.
	if _, err := b[1].db.ExecContext(ctx, "UPDATE runs SET host = 'elsewhere', pid = 999999999 WHERE id = ?", live.ID()); err != nil {
		t.Fatal(err)
	}
	var victims []int
	conn, err := b[0].db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Every session of the dead beacon: its pool and its run's pinned one.
	var lockPID int
	if err := dead.conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&lockPID); err != nil {
		t.Fatal(err)
	}
	var mine int
	if err := conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&mine); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	victims = append(victims, lockPID, mine)
	for _, pid := range victims {
		if _, err := b[1].db.ExecContext(ctx, "SELECT pg_terminate_backend(?)", pid); err != nil {
			t.Fatal(err)
		}
	}
	// pg_terminate_backend only signals: a session's advisory locks go
	// when its backend has exited, which the next opener must not race.
	for deadline := time.Now().Add(30 * time.Second); ; {
		var left int
		if err := b[1].db.QueryRowContext(ctx, "SELECT COUNT(*) FROM pg_stat_activity WHERE pid IN (?, ?)", lockPID, mine).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d terminated sessions still there after 30 s", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
	b[0].db.Close()
	c, err := OpenURL(ctx, u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	run, err := c.Run(ctx, dead.ID())
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != StatusFailed || !strings.HasPrefix(run.Error, "interrupted") {
		t.Errorf("the killed run is %s (%q), want failed, interrupted", run.Status, run.Error)
	}
	for _, tb := range snapshotTables() {
		var n int
		if err := c.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+tb+" WHERE run_id = ?", dead.ID()).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s holds %d rows of the killed run (%v)", tb, n, err)
		}
	}
	users, err := c.Users(ctx, "c1", Query{})
	if err != nil || len(users) != 10 {
		t.Errorf("c1 shows %d users (%v), want the 10 of run %d", len(users), err, good.ID)
	}
	if r, err := c.Run(ctx, live.ID()); err != nil || r.Status != StatusRunning {
		t.Errorf("the live run on another machine is %s (%v), want still running", r.Status, err)
	}
	again, err := c.BeginRun(ctx, RunInfo{ConnectionID: "c1", ConnectionName: "Contoso", Trigger: TriggerCLI})
	if err != nil {
		t.Fatalf("the killed run's lock outlived it: %v", err)
	}
	again.Finish(ctx, Outcome{Status: StatusCancelled})
}

// Two beacons import different connections into one database at once;
// each sees both.
func TestPostgresTwoBeaconsWriteOneDatabase(t *testing.T) {
	ctx := context.Background()
	b, _ := openBeacons(t, 2)
	t.Run("imports", func(t *testing.T) {
		for i, c := range []string{"c1", "c2"} {
			t.Run(c, func(t *testing.T) {
				t.Parallel()
				importGood(t, b[i], c, 300+i, c)
			})
		}
	})
	for _, s := range b {
		for i, c := range []string{"c1", "c2"} {
			n, err := s.CountUsers(ctx, c, Query{})
			if err != nil || n != 300+i {
				t.Errorf("%s: %d users (%v), want %d", c, n, err, 300+i)
			}
		}
		var conns int
		if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM beacon_connections").Scan(&conns); err != nil || conns != 2 {
			t.Errorf("beacon_connections: %d (%v), want 2", conns, err)
		}
	}
}

// Beacons finishing at the same moment add the same new names to the
// history (SKUs their tenants share) in different orders. Without the
// promotions taking turns the two transactions could each wait for the
// other's row of history_names, and PostgreSQL would fail one of them
// ("deadlock detected"), losing that import.
func TestPostgresConcurrentPromotionsShareHistoryNames(t *testing.T) {
	ctx := context.Background()
	b, _ := openBeacons(t, 2)
	for round := range 6 {
		skus := make([]SKU, 60)
		for i := range skus {
			id := fmt.Sprintf("%08d-0000-0000-0000-%012d", round, i)
			skus[i] = SKU{SkuID: id, SkuPartNumber: "PART_" + id, ID: "t_" + id, AppliesTo: "User", CapabilityStatus: "Enabled",
				PrepaidUnits: PrepaidUnits{Enabled: 5}, SubscriptionIDs: []string{}}
		}
		var ws []*RunWriter
		for i, s := range b {
			w, err := s.BeginRun(ctx, RunInfo{ConnectionID: fmt.Sprint("c", i), ConnectionName: "Tenant", Trigger: TriggerCLI})
			if err != nil {
				t.Fatal(err)
			}
			mine := slices.Clone(skus)
			if i == 1 {
				slices.Reverse(mine)
			}
			if err := w.AddSKUs(ctx, mine); err != nil {
				t.Fatal(err)
			}
			ws = append(ws, w)
		}
		errs := make(chan error, len(ws))
		var start sync.WaitGroup
		start.Add(1)
		for _, w := range ws {
			go func() {
				start.Wait()
				_, err := w.Finish(ctx, Outcome{Status: StatusSucceeded})
				errs <- err
			}()
		}
		start.Done()
		for range ws {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
}

// Two beacons opening a database whose kept snapshots still have to seed
// the history back-fill it one after the other, and after any promotion
// writing the history then: both wait for the history lock (held here as
// a promotion holds it), then one writes the back-fill and the other
// finds it done.
func TestPostgresBackfillTakesHistoryLock(t *testing.T) {
	ctx := context.Background()
	u := pgtest.NewDB(t)
	fc := clock.NewFake(time.Date(clock.Now().Year(), 5, 1, 9, 0, 0, 0, time.UTC))
	s, err := OpenURL(ctx, u, Options{Now: fc.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	us := testUsers(4, "u")
	importUsers(t, s, "c1", us, Outcome{})
	fc.Advance(24 * time.Hour)
	us[1].AssignedLicenses = []AssignedLicense{{SkuID: skuE5, DisabledPlans: []string{}}}
	importUsers(t, s, "c1", us, Outcome{})
	// Back to a database of a build before the history: kept snapshots,
	// no history tables (nor the views over them). Opening it again makes
	// them, waiting for the back-fill.
	for _, st := range []string{"DROP TABLE history_names, history_skus, history_tenant, history_events, history_meta CASCADE",
		"UPDATE beacon_schema SET version = 1"} {
		if _, err := s.db.ExecContext(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	var b []*Store
	for range 2 {
		o, err := OpenURL(ctx, u, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { o.Close() })
		b = append(b, o)
	}
	if pending, err := b[0].HistoryBackfillPending(ctx); err != nil || !pending {
		t.Fatalf("back-fill pending %v, %v", pending, err)
	}

	// A promotion holding the history lock.
	held, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Rollback()
	if err := s.lockHistory(ctx, held); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	fn := func(context.Context, *LicenseFacts) (HistoryFigures, error) { calls.Add(1); return nil, nil }
	errs := make(chan error, len(b))
	for _, o := range b {
		go func() { errs <- o.BackfillHistory(ctx, fn) }()
	}
	for waiting := 0; waiting < len(b); {
		select {
		case err := <-errs:
			t.Fatalf("a back-fill ended (%v) while a promotion held the history lock", err)
		default:
		}
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_locks
			WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := held.Rollback(); err != nil {
		t.Fatal(err)
	}
	for range b {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if pending, err := b[1].HistoryBackfillPending(ctx); err != nil || pending {
		t.Fatalf("back-fill still pending (%v)", err)
	}
	tenants, _ := b[1].HistoryTenants(ctx, "c1", HistoryQuery{})
	events, _ := b[1].HistoryEvents(ctx, "c1", HistoryQuery{})
	if len(tenants) != 2 || len(events) != 1 || events[0].Kind != EventAssigned || events[0].SkuID != skuE5 {
		t.Fatalf("seeded %+v, events %+v", tenants, events)
	}
	if n := calls.Load(); n < 2 {
		t.Fatalf("the figures were asked %d times, want at least once per kept snapshot (2)", n)
	}
}

// A beacon killed in the middle of a long statement leaves its session,
// and the run lock, to the server until that statement ends: the next
// import was turned away as "already running" by a process that no longer
// existed (the kill -9 soak test saw it). A lock whose session names this
// computer and a process that has ended is taken over; one of a live
// process, or of another computer, is not.
func TestPostgresLockOfADeadBeaconIsTaken(t *testing.T) {
	ctx := context.Background()
	b, u := openBeacons(t, 1)
	s := b[0]
	host, _ := os.Hostname()
	ended := exec.Command("true")
	if err := ended.Run(); err != nil {
		t.Fatal(err)
	}
	dead := ended.Process.Pid
	// hold takes c1's run lock in a session named like a beacon's.
	hold := func(name string) *sql.Conn {
		t.Helper()
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		q := pu.Query()
		q.Set("application_name", name)
		pu.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20") // pgx reads no "+" as a space
		db, err := openPostgres(pu.String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.ExecContext(ctx, "SELECT pg_advisory_lock(?)", runLockKey("c1")); err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, name := range []string{sessionName(host, os.Getpid()), sessionName("another-computer", dead), "psql"} {
		c := hold(name)
		_, err := s.BeginRun(ctx, RunInfo{ConnectionID: "c1", ConnectionName: "Contoso", Trigger: TriggerCLI})
		if !errors.Is(err, ErrAlreadyRunning) {
			t.Errorf("the lock held by %q was taken, or the run failed otherwise: %v", name, err)
		}
		if err := c.PingContext(ctx); err != nil {
			t.Errorf("the session %q was ended: %v", name, err)
		}
		if _, err := c.ExecContext(ctx, "SELECT pg_advisory_unlock(?)", runLockKey("c1")); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	c := hold(sessionName(host, dead))
	w, err := s.BeginRun(ctx, RunInfo{ConnectionID: "c1", ConnectionName: "Contoso", Trigger: TriggerCLI})
	if err != nil {
		t.Fatalf("the lock of a beacon that ended on this computer was not taken: %v", err)
	}
	if _, err := w.Finish(ctx, Outcome{Status: StatusCancelled}); err != nil {
		t.Fatal(err)
	}
	if err := c.PingContext(ctx); err == nil {
		t.Error("the dead beacon's session still runs")
	}
}
