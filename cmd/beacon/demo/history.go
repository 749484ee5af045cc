package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"

	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/schedule"
	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// HistoryNote is recorded with the imports that make the demo's history.
const HistoryNote = "demo: a simulated day of the past year"

// DailyDays is how many of the history's last days are imported daily;
// before them the history has one import a week, as a beacon scheduled
// weekly makes. A weekly day's events are those seen since the week
// before, dated the day they were first seen, as a real weekly beacon
// records them, and the Trend tab's 12-month view reads the same; the
// demo's first start makes some 100 imports instead of 366.
const DailyDays = 60

// importsDay says whether day (0 the first, days today) of a history of
// days days has an import.
func importsDay(days, day int) bool {
	ago := days - day
	return day == 0 || ago < DailyDays || ago%7 == 0
}

// historyBuild is the licence history Start left for BuildHistory.
type historyBuild struct {
	repo  *storage.Repository
	o     Options
	clk   *tenant.DayClock
	from  time.Time // the first day to import; the days before are in the history
	total int       // the imports to make
}

// prepareHistory finds what is left of the demo's licence history, made
// on clk, its simulator's clock. When the demo connection has a whole
// history, the tenant is aged o.HistoryDays days at once, with no import,
// so each start serves a tenant that has lived as long (a demo of the
// same seed). Otherwise the ageing is left to BuildHistory, which imports
// the days, and the simulator serves the tenant as of the day being made
// meanwhile.
func (d *Demo) prepareHistory(repo *storage.Repository, o Options, clk *tenant.DayClock) error {
	ctx := context.Background()
	store, err := inventory.OpenDir(ctx, repo.Config.Dir(), inventory.Options{Now: clk.Now})
	if err != nil {
		return fmt.Errorf("demo mode: open the database of imported data: %w", err)
	}
	from, build, err := historyLeft(ctx, store, d.Connection.ID)
	store.Close()
	if err != nil {
		return fmt.Errorf("demo mode: %w", err)
	}
	if !build {
		return d.Sim.Tenant().AgeDays(o.Seed, o.HistoryDays, tenant.HistoryFraction, clk, nil)
	}
	h := &historyBuild{repo: repo, o: o, clk: clk, from: from}
	first := clk.Now()
	for day := 0; day <= o.HistoryDays; day++ {
		if h.imports(day, first.AddDate(0, 0, day)) {
			h.total++
		}
	}
	d.history = h
	return nil
}

// imports says whether the history imports day, whose date is on.
func (h *historyBuild) imports(day int, on time.Time) bool {
	return importsDay(h.o.HistoryDays, day) && !utcDay(on).Before(h.from)
}

// HistoryLeft is the number of imports BuildHistory makes: 0 when the
// demo's history is whole.
func (d *Demo) HistoryLeft() int {
	if d.history == nil {
		return 0
	}
	return d.history.total
}

// BuildHistory makes, in the background, the licence history Start found
// missing or unfinished: it ages the demo tenant a day at a time on its
// simulator's clock up to today, importing the first day and then each
// day importsDay picks: the same import as Execute Now and the scheduler
// (service.Imports), under the connection's run lock, into the database
// of the configuration folder opened on that clock, so each import lands
// on its day. Today's import is the last, so the history ends with the
// current snapshot of today and its events are those since the day
// before. The imports sign in as the tenant's administrator with tokens
// the simulator mints, so no sign-in is needed; the connection still has
// no token, and Generate... works as in any demo.
//
// progress, when set, is called from the background after each import
// (done of total), then once with the outcome (done == total and a nil
// error when the history is whole). Close stops it between or during an
// import: an import is one transaction, so no day is half written, and
// the next start finishes the history. BuildHistory does nothing when
// HistoryLeft is 0; call it once.
func (d *Demo) BuildHistory(progress func(done, total int, err error)) {
	if d.history == nil || d.stop != nil {
		return
	}
	if progress == nil {
		progress = func(int, int, error) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.stop, d.built = cancel, make(chan struct{})
	go func() {
		defer close(d.built)
		total := d.history.total
		done, err := d.history.build(ctx, d, func(done int) {
			if done < total {
				progress(done, total, nil)
			}
		})
		if err == nil {
			done = total
		}
		progress(done, total, err)
	}()
}

// build makes the history's imports and returns how many it made.
func (h *historyBuild) build(ctx context.Context, d *Demo, progress func(done int)) (int, error) {
	store, err := inventory.OpenDir(ctx, h.repo.Config.Dir(), inventory.Options{Now: h.clk.Now})
	if err != nil {
		return 0, fmt.Errorf("demo mode: open the database of imported data: %w", err)
	}
	defer store.Close()
	admin := tenant.AdminLocalPart + "@" + d.Sim.Tenant().Domain
	imports := &service.Imports{Store: store, ConfigDir: h.repo.Config.Dir(), Secrets: h.repo.Secrets, Now: h.clk.Now,
		// The history is made quietly: a year of imports would fill
		// the log.
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Tokens: func(storage.Connection, storage.Secrets, *http.Client) (graph.TokenSource, error) {
			return mintedTokens{sim: d.Sim, upn: admin}, nil
		}}
	made := 0
	each := func(day int) error {
		if !h.imports(day, h.clk.Now()) {
			return ctx.Err()
		}
		if h.o.interruptAfter > 0 && made == h.o.interruptAfter {
			return errInterrupted
		}
		// The connection's run lock, which Execute Now and the
		// scheduler take too: while the demo is imported by them, the
		// day waits, rather than a skipped run in the history.
		var release func()
		for {
			var err error
			if release, err = schedule.LockConnection(h.repo.Config.Dir(), d.Connection.ID); !errors.Is(err, schedule.ErrAlreadyRunning) {
				if err != nil {
					return fmt.Errorf("demo mode: make the demo's licence history: %w", err)
				}
				break
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Second):
			}
		}
		// The first import reads every user: the user changes an
		// interrupted history asked for were another simulator's, at an
		// address that may be gone.
		_, err := imports.Import(ctx, d.Connection, service.ImportRequest{Trigger: inventory.TriggerSchedule,
			Note: HistoryNote, Full: made == 0})
		release()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("demo mode: make the demo's licence history: %w", err)
		}
		made++
		progress(made)
		return nil
	}
	if err := each(0); err != nil {
		return made, err
	}
	err = d.Sim.Tenant().AgeDays(h.o.Seed, h.o.HistoryDays, tenant.HistoryFraction, h.clk, each)
	return made, err
}

// errInterrupted stops a history in tests, as closing the window would.
var errInterrupted = errors.New("demo mode: the making of the history was interrupted")

// historyLeft says whether the demo connection's history is still to be
// made (build), and from which day on: all of it when there is none, the
// days after its last when its last import is one of the history's and
// of a day before today (its making was stopped).
func historyLeft(ctx context.Context, store *inventory.Store, connID string) (from time.Time, build bool, err error) {
	have, err := store.HistoryTenants(ctx, connID, inventory.HistoryQuery{})
	if err != nil || len(have) == 0 {
		return time.Time{}, err == nil, err
	}
	last, ok, err := store.LatestRun(ctx, connID, "")
	if err != nil || !ok || last.Note != HistoryNote || !utcDay(last.Started).Before(utcDay(clock.Now())) {
		return time.Time{}, false, err
	}
	return utcDay(have[len(have)-1].Day).AddDate(0, 0, 1), true, nil
}

func utcDay(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

// mintedTokens are access tokens the simulator mints for a user, as a
// refresh would give them.
type mintedTokens struct {
	sim *m365sim.Server
	upn string
}

func (m mintedTokens) Token(context.Context) (string, error) {
	return m.sim.MintAccessToken(m.upn), nil
}
func (mintedTokens) Invalidate() {}
