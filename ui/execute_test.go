package ui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/auth"
	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/connector/importer"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// simTokens mints the simulator's access tokens for its Global
// Administrator, as a refresh would.
type simTokens struct {
	mu     sync.Mutex
	sim    *m365sim.Server
	cached string
}

func (s *simTokens) Token(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cached == "" {
		s.cached = s.sim.MintAccessToken(tenant.AdminLocalPart + "@" + s.sim.Tenant().Domain)
	}
	return s.cached, nil
}

func (s *simTokens) Invalidate() {
	s.mu.Lock()
	s.cached = ""
	s.mu.Unlock()
}

// simImport is the real import (importer.Run through the Graph client)
// against the simulator, as the lead wires it in cmd/beacon. pause, when
// set, is called with every progress report before the window sees the
// next one, so a test can hold the import at a known point.
func simImport(sim *m365sim.Server, store *inventory.Store, pause func(ctx context.Context, stage string, done, total int)) importFunc {
	tokens := &simTokens{sim: sim}
	return func(ctx context.Context, c storage.Connection, _ ImportRequest, progress func(string, int, int)) (inventory.Run, error) {
		client, err := graph.New(sim.Client(), sim.GraphEndpoint(), tokens, graph.Options{})
		if err != nil {
			return inventory.Run{}, err
		}
		res, err := importer.Run(ctx, importer.Options{Conn: c, Client: client, Store: store, Trigger: inventory.TriggerManual,
			Sequential: true,
			Progress: func(s importer.Stage, done, total int) {
				progress(string(s), done, total)
				if pause != nil {
					pause(ctx, string(s), done, total)
				}
			}})
		return res.Run, err
	}
}

// execHarness follows the window's imports through its importer: shown
// gets each import's dialog as the import starts, finished the dialog once
// the window has shown the outcome.
type execHarness struct {
	m        *MainWindow
	shown    chan *ExecuteDialog
	finished chan *ExecuteDialog
	running  []string // Last result while each dialog opened
}

func newExecHarness(t *testing.T, store *inventory.Store, connID string, run importFunc) *execHarness {
	t.Helper()
	h := &execHarness{shown: make(chan *ExecuteDialog, 4), finished: make(chan *ExecuteDialog, 4)}
	follow := importFunc(func(ctx context.Context, c storage.Connection, req ImportRequest, progress func(string, int, int)) (inventory.Run, error) {
		// The import runs on its own goroutine: the window's state is
		// read on the UI lock, once the tap that started it returned.
		var d *ExecuteDialog
		onUI(func() {
			d = h.m.exec.running[c.ID]
			h.running = append(h.running, h.m.systems.cellText(widget.TableCellID{Row: 0, Col: colLastResult}))
		})
		h.shown <- d
		r, err := run(ctx, c, req, progress)
		go func() {
			for {
				ended := false
				onUI(func() { ended = d.finished })
				if ended {
					h.finished <- d
					return
				}
				time.Sleep(2 * time.Millisecond)
			}
		}()
		return r, err
	})
	h.m = dataWindow(t, store, connID, Deps{Importer: follow})
	onUI(func() { h.m.systems.selectRow(0) })
	return h
}

// lastResult waits until the Last result column says want and no read of
// the import history is under way.
func (h *execHarness) lastResult(t *testing.T, want string) {
	t.Helper()
	var got string
	waitUI(t, "Last result "+want, func() bool {
		got = h.m.systems.cellText(widget.TableCellID{Row: 0, Col: colLastResult})
		return got == want && h.m.data.statusPending == 0
	})
}

// Execute Now runs the real import against the simulator: a bar per
// stage, every one done at the end, the outcome with counts, Last run /
// Last result, and the data pages showing the new data.
func TestExecuteNowImportsWithProgress(t *testing.T) {
	sim, err := m365sim.Start(m365sim.Options{Users: 300, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	store, err := inventory.Open(context.Background(), filepath.Join(t.TempDir(), inventory.FileName), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	const connID = "0123456789abcdef0123456789abcdef"
	h := newExecHarness(t, store, connID, simImport(sim, store, nil))
	h.lastResult(t, "—")

	onUI(func() { test.Tap(h.m.systems.executeButton) })
	d := recvTB(t, h.shown, "progress dialog")
	d = recvTB(t, h.finished, "end of the import")
	if h.running[0] != "Running…" {
		t.Errorf("Last result while importing: %q", h.running[0])
	}
	users := len(sim.Tenant().Users)
	onUI(func() {
		if d.err != nil || d.run.Status != inventory.StatusSucceeded {
			t.Fatalf("import: %v, run %+v", d.err, d.run)
		}
		requireContains(t, "outcome", d.Status(), "Import from Contoso succeeded in ")
		if len(d.stages) != len(importer.Stages) {
			t.Fatalf("%d bars, want one per stage", len(d.stages))
		}
		for _, s := range d.stages {
			if s.name == string(importer.StageSignIns) && d.run.SignIns != inventory.SignInsRead {
				// Not read (no AuditLog.Read.All here): said so, not
				// a full bar reading "Done: 0".
				if s.bar.Value != 0 || s.text != "Not run" {
					t.Errorf("%s, not read: bar %.2f %q", s.name, s.bar.Value, s.text)
				}
				continue
			}
			if s.bar.Value != 1 || !strings.HasPrefix(s.text, "Done: ") {
				t.Errorf("%s: bar %.2f %q", s.name, s.bar.Value, s.text)
			}
		}
		if got, want := d.StageText(string(importer.StageUsers)), "Done: "+count(users); got != want {
			t.Errorf("users bar %q, want %q", got, want)
		}
		requireContains(t, "details", d.details.Text, "Users: "+count(users)+" ·")
		if !d.closeB.Visible() || d.cancelB.Visible() {
			t.Error("after the run only Close is offered")
		}
		// Enter presses Close (issue 23 item 6).
		pressKey(h.m.win.Canvas(), fyne.KeyReturn)
		if h.m.win.Canvas().Overlays().Top() != nil {
			t.Error("Enter did not close the finished import's dialog")
		}
	})
	h.lastResult(t, "Succeeded")

	p, e := openPage(t, h.m, PageUsers)
	if e.err != nil || e.total != users {
		t.Fatalf("Users page after the import: %d, err %v; want %d", e.total, e.err, users)
	}
	// Sorted by name: the first is the smallest name key.
	first := sim.Tenant().Users[0]
	for _, u := range sim.Tenant().Users {
		if k, fk := inventory.NameKey(u.DisplayName), inventory.NameKey(first.DisplayName); k < fk {
			first = u
		}
	}
	if got, want := screenCell(t, p, 0, colIndex(t, userColumns, "Display Name")), first.DisplayName; got != want {
		t.Errorf("first user %q, want %q", got, want)
	}

	// Searched by product name, the Users page finds the holders of its
	// part number (issue 17 item 4).
	e3 := ""
	for _, s := range sim.Tenant().SKUs {
		if s.SkuPartNumber == "ENTERPRISEPACK" {
			e3 = strings.ToLower(s.SkuID)
		}
	}
	holders := 0
	for _, u := range sim.Tenant().Users {
		for _, l := range u.AssignedLicenses {
			if strings.ToLower(l.SkuID) == e3 {
				holders++
			}
		}
	}
	if e3 == "" || holders == 0 {
		t.Fatal("the demo tenant has no Office 365 E3 holders to search for")
	}
	mk := markData(t, p)
	onUI(func() { test.Type(p.search, "Office 365 E3") })
	if e := waitQuery(t, p, mk, func(e landing) bool { return e.q.Search == "Office 365 E3" }); e.err != nil || e.total != holders {
		t.Fatalf("search Office 365 E3: %d users (err %v), want the %d holders of ENTERPRISEPACK", e.total, e.err, holders)
	}
	requireContains(t, "a holder's licences", screenCell(t, p, 0, colIndex(t, userColumns, "Licenses")), "Office 365 E3 (ENTERPRISEPACK)")
}

// Cancel mid-run: the bars say where it stopped, the previous data stays
// on the pages, history records the cancel. A second Execute Now on a
// running connection shows its dialog instead of a second import.
func TestExecuteNowCancelKeepsPreviousData(t *testing.T) {
	sim, err := m365sim.Start(m365sim.Options{Users: 120, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	store, err := inventory.Open(context.Background(), filepath.Join(t.TempDir(), inventory.FileName), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	const connID = "fedcba9876543210fedcba9876543210"
	// The first run completes; the second holds at the start of the users
	// stage until it is cancelled.
	var hold sync.Mutex
	holding := false
	atUsers := make(chan struct{}, 1)
	pause := func(ctx context.Context, stage string, done, total int) {
		hold.Lock()
		h := holding
		hold.Unlock()
		if h && stage == string(importer.StageUsers) && done == 0 {
			atUsers <- struct{}{}
			<-ctx.Done()
		}
	}
	h := newExecHarness(t, store, connID, simImport(sim, store, pause))
	onUI(func() { test.Tap(h.m.systems.executeButton) })
	recvTB(t, h.shown, "first dialog")
	first := recvTB(t, h.finished, "first import")
	var firstRun inventory.Run
	onUI(func() { firstRun = first.run })
	if firstRun.Status != inventory.StatusSucceeded {
		t.Fatalf("first import %+v", firstRun)
	}
	h.lastResult(t, "Succeeded")

	hold.Lock()
	holding = true
	hold.Unlock()
	onUI(func() {
		first.dlg.Hide()
		test.Tap(h.m.systems.executeButton)
	})
	d := recvTB(t, h.shown, "second dialog")
	recvTB(t, atUsers, "the users stage")
	onUI(func() {
		if got := d.StageText(string(importer.StageLicenses)); !strings.HasPrefix(got, "Done: ") {
			t.Errorf("licenses bar %q", got)
		}
		// Run in background, then Execute Now again: the same dialog.
		test.Tap(d.hideB)
		test.Tap(h.m.systems.executeButton)
		if len(h.m.exec.running) != 1 || h.m.exec.running[connID] != d {
			t.Errorf("a second import started: %v", h.m.exec.running)
		}
		test.Tap(d.cancelB)
		if !d.cancelB.Disabled() {
			t.Error("Cancel stays enabled while cancelling")
		}
	})
	select {
	case <-h.shown:
		t.Fatal("Execute Now on a running connection opened a second dialog")
	default:
	}
	d = recvTB(t, h.finished, "cancelled import")
	onUI(func() {
		if d.run.Status != inventory.StatusCancelled || !errors.Is(d.err, context.Canceled) && d.err == nil {
			t.Errorf("cancelled run: %+v, err %v", d.run, d.err)
		}
		requireContains(t, "outcome", d.Status(), "was cancelled")
		requireContains(t, "outcome", d.Status(), "previous import is kept")
		if got := d.StageText(string(importer.StageUsers)); !strings.HasSuffix(got, "(stopped)") {
			t.Errorf("users bar %q", got)
		}
		if got := d.StageText(string(importer.StageAppUsage)); got != "Not run" {
			t.Errorf("last bar %q", got)
		}
	})
	h.lastResult(t, "Cancelled")

	_, e := openPage(t, h.m, PageUsers)
	if e.err != nil || e.total != firstRun.Counts.Users || e.q.RunID != firstRun.ID {
		t.Fatalf("Users page after the cancel: %d rows of run %d, err %v; want the first run %d (%d users)",
			e.total, e.q.RunID, e.err, firstRun.ID, firstRun.Counts.Users)
	}
	hp, e := openPage(t, h.m, PageImportHistory)
	if e.total != 2 {
		t.Fatalf("history: %d runs", e.total)
	}
	result := colIndex(t, historyColumns, "Result")
	if a, b := screenCell(t, hp, 0, result), screenCell(t, hp, 1, result); a != "Cancelled" || b != "Succeeded" {
		t.Errorf("history results %q, %q", a, b)
	}
}

func TestRunSummaryAndResultText(t *testing.T) {
	failed := inventory.Run{ID: 1, Status: inventory.StatusFailed, Error: "read users: 403"}
	for _, c := range []struct {
		run  inventory.Run
		err  error
		kept keptState
		want string
	}{
		{inventory.Run{}, errors.New("the keyring is locked"), keptData, "could not start: the keyring is locked"},
		{inventory.Run{ID: 1, Status: inventory.StatusWarnings, Warnings: []string{"x"}}, nil, keptData, "completed with warnings"},
		{failed, errors.New("read users: 403"), keptData,
			"failed in 0s: read users: 403\n\nThe data of the previous import is kept. Fix the problem and click Execute Now again."},
		// Never imported before: nothing to keep, and no claim that there is (issue 23).
		{failed, errors.New("read users: 403"), keptNone,
			"failed in 0s: read users: 403\n\nNothing has been imported from this connection yet. Fix the problem and click Execute Now again."},
		{failed, errors.New("read users: 403"), keptUnknown, "failed in 0s: read users: 403\n\nFix the problem and click Execute Now again."},
		{inventory.Run{ID: 1, Status: inventory.StatusCancelled}, context.Canceled, keptNone, "was cancelled in 0s. Nothing has been imported"},
	} {
		requireContains(t, "summary", runSummary("Contoso", c.run, c.err, c.kept), c.want)
	}
	if got := resultText(inventory.Run{Status: inventory.StatusFailed, Error: "interrupted"}); got != "Failed: interrupted" {
		t.Errorf("failed result %q", got)
	}
	if got := count(1234567); got != "1,234,567" {
		t.Errorf("count %q", got)
	}
}

// Exit during an import asks; cancelling exits once the run is recorded
// as cancelled.
func TestExitDuringImportCancelsIt(t *testing.T) {
	sim, err := m365sim.Start(m365sim.Options{Users: 50, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	store, err := inventory.Open(context.Background(), filepath.Join(t.TempDir(), inventory.FileName), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	atUsers := make(chan struct{}, 1)
	pause := func(ctx context.Context, stage string, done, total int) {
		if stage == string(importer.StageUsers) && done == 0 {
			atUsers <- struct{}{}
			<-ctx.Done()
		}
	}
	h := newExecHarness(t, store, "00112233445566778899aabbccddeeff", simImport(sim, store, pause))
	quit := make(chan struct{}, 1)
	onUI(func() {
		h.m.quit = func() { quit <- struct{}{} }
		test.Tap(h.m.systems.executeButton)
	})
	d := recvTB(t, h.shown, "dialog")
	recvTB(t, atUsers, "the users stage")
	onUI(func() {
		test.Tap(d.hideB)
		test.Tap(h.m.exitButton)
		if h.m.prompt == nil || h.m.prompt.title != "Import running" {
			t.Fatal("Exit during an import must ask")
		}
		test.Tap(h.m.prompt.buttons["Cancel the import and exit"])
	})
	d = recvTB(t, h.finished, "cancelled import")
	recvTB(t, quit, "exit")
	runs, err := store.History(context.Background(), "", 0)
	if err != nil || len(runs) != 1 || runs[0].Status != inventory.StatusCancelled {
		t.Fatalf("history after exit: %+v, %v", runs, err)
	}
}

// A run that fails before it reads anything (never signed in) shows what
// happened: no stage reads "Done", the stages that had started are
// stopped, the others not run, and the summary claims no earlier data
// (issue 23 item 4: full bars read "Done: 0" and "the data of the previous
// import is kept" on a connection that never imported).
func TestExecuteNowFailedBeforeReadingAnything(t *testing.T) {
	store, err := inventory.Open(context.Background(), filepath.Join(t.TempDir(), inventory.FileName), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	const connID = "00112233445566778899aabbccddeeff"
	stages := ImportStages()
	run := func(ctx context.Context, c storage.Connection, req ImportRequest, progress func(string, int, int)) (inventory.Run, error) {
		// The parallel import starts its stages side by side.
		progress(stages[0], 0, 0)
		progress(stages[2], 0, 0)
		cause := fmt.Errorf("read licenses (subscribed SKUs): get an access token: connection %q: %w", c.Name, auth.ErrNotSignedIn)
		w, err := store.BeginRun(ctx, inventory.RunInfo{ConnectionID: c.ID, ConnectionName: c.Name, Trigger: inventory.TriggerManual})
		if err != nil {
			return inventory.Run{}, err
		}
		r, err := w.Finish(ctx, inventory.Outcome{Status: inventory.StatusFailed, Err: cause})
		if err != nil {
			return r, err
		}
		return r, cause
	}
	h := newExecHarness(t, store, connID, run)
	onUI(func() { test.Tap(h.m.systems.executeButton) })
	recvTB(t, h.shown, "dialog")
	d := recvTB(t, h.finished, "failed import")
	onUI(func() {
		for i, s := range stages {
			got := d.StageText(s)
			switch {
			case strings.HasPrefix(got, "Done"):
				t.Errorf("stage %s reads %q on a run that read nothing", s, got)
			case (i == 0 || i == 2) && !strings.HasSuffix(got, "(stopped)"):
				t.Errorf("started stage %s reads %q, want it stopped", s, got)
			case i != 0 && i != 2 && got != "Not run":
				t.Errorf("stage %s reads %q, want Not run", s, got)
			}
		}
		requireContains(t, "outcome", d.Status(), "no sign-in yet")
		requireContains(t, "outcome", d.Status(), "Nothing has been imported from this connection yet")
		if strings.Contains(d.Status(), "previous import is kept") || strings.Contains(d.Status(), "no longer valid") {
			t.Errorf("the outcome claims what is not so: %s", d.Status())
		}
	})
	// The window reloads Last run / Last result after the run: let it
	// finish, or it races with the next test's app.
	var ended inventory.Run
	onUI(func() { ended = d.run })
	h.lastResult(t, resultText(ended))
}
