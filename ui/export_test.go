package ui

// What the tests reach inside the package: fakes and test versions of the
// services, and accessors of the controllers' widgets. Production structs
// carry no test hooks; tests wait for background work by polling the
// controllers' state on the UI lock (waitUI).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/auth"
	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// waitUI waits until cond holds, reading it as the background results
// write: on the UI lock. It must not be called inside onUI.
func waitUI(t testing.TB, what string, cond func() bool) {
	t.Helper()
	waitUIWithin(t, 20*time.Second, what, cond)
}

// waitUIWithin is waitUI bounded by limit, for reads of the 100,000-user
// inventory, which take longer under the race detector.
func waitUIWithin(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit) // bounds a broken test only
	for {
		ok := false
		onUI(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// authSignIn is the sign-in as cmd/beacon wires it, with the browser
// replaced by openBrowser (nil: the real one).
type authSignIn struct {
	secrets     storage.Secrets
	openBrowser func(string) error
}

func (s authSignIn) Start(c storage.Connection, proxyPassword string) (*auth.Flow, error) {
	client, err := service.HTTPClient(c, s.secrets, proxyPassword)
	if err != nil {
		return nil, err
	}
	return auth.Start(c, auth.FlowOptions{HTTPClient: client, Logger: slog.New(slog.DiscardHandler)})
}

func (s authSignIn) OpenBrowser(url string) error {
	if s.openBrowser != nil {
		return s.openBrowser(url)
	}
	return auth.OpenBrowser(url)
}

// testerFunc is a fake Test Connection.
type testerFunc func(ctx context.Context, c storage.Connection) *service.TestReport

func (f testerFunc) TestConnection(ctx context.Context, c storage.Connection) *service.TestReport {
	return f(ctx, c)
}

// importFunc is an Importer made of a function: a fake, or the real
// importer on the simulator.
type importFunc func(ctx context.Context, c storage.Connection, req ImportRequest,
	progress func(stage string, done, total int)) (inventory.Run, error)

func (f importFunc) Import(ctx context.Context, c storage.Connection, req ImportRequest,
	progress func(stage string, done, total int)) (inventory.Run, error) {
	return f(ctx, c, req, progress)
}

// noImport fails every import: for windows whose tests import nothing.
var noImport = importFunc(func(context.Context, storage.Connection, ImportRequest, func(string, int, int)) (inventory.Run, error) {
	return inventory.Run{}, errors.New("this test imports nothing")
})

// noTest fails every Test Connection: for windows whose tests test none.
var noTest = testerFunc(func(context.Context, storage.Connection) *service.TestReport {
	err := errors.New("this test tests no connection")
	return &service.TestReport{Err: err, Problem: err.Error()}
})

// demoFunc is a fake demo tenant.
type demoFunc func() ([]DemoAccount, error)

func (f demoFunc) StartDemo() ([]DemoAccount, error) { return f() }

// signInFunc stands for the sign-in controller in the connection dialog:
// the test gets the request and answers through its Done.
type signInFunc func(req signInRequest)

func (f signInFunc) start(req signInRequest) { f(req) }

// withServices fills in the services a test left out: the real sign-in
// on repo, and a Test Connection and an importer that do nothing.
func withServices(deps Deps, repo *storage.Repository) Deps {
	deps.Repo = repo
	if deps.SignIn == nil {
		deps.SignIn = authSignIn{secrets: repo.Secrets}
	}
	if deps.Tester == nil {
		deps.Tester = noTest
	}
	if deps.Importer == nil {
		deps.Importer = noImport
	}
	return deps
}

// URLText is the sign-in address as shown.
func (g *signInDialog) URLText() string { return g.url.Text }

// StatusText is the browser status line.
func (g *signInDialog) StatusText() string { return g.status.Text }

// TimeLeftText is the countdown.
func (g *signInDialog) TimeLeftText() string { return g.timeLeft.Text }

// Paste types into the paste field and presses Continue.
func (g *signInDialog) Paste(s string) {
	g.paste.SetText(s)
	g.onSubmit()
}

// Cancel presses Cancel.
func (g *signInDialog) Cancel() { g.cancelB.OnTapped() }

// Title is the dialog's title, which names the mode asked for.
func (d *ExecuteDialog) Title() string { return d.title }

// Status is the dialog's outcome line.
func (d *ExecuteDialog) Status() string { return d.summary.Text }

// StageText is what the bar of a stage says.
func (d *ExecuteDialog) StageText(stage string) string {
	for _, s := range d.stages {
		if s.name == stage {
			return s.text
		}
	}
	return ""
}

// waitRanNow waits until the runner has answered n Run now requests of
// the Scheduling page and returns the last answer.
func waitRanNow(t testing.TB, p *schedulingPage, n int) error {
	t.Helper()
	var err error
	waitUI(t, "Run now", func() bool { err = p.ranNowErr; return p.ranNows >= n })
	return err
}

// waitRanAll waits for the n-th end of the tray's Execute all now and
// returns its outcome.
func waitRanAll(t testing.TB, tray *Tray, n int) string {
	t.Helper()
	var text string
	waitUI(t, "Execute all now", func() bool { text = tray.ranAllText; return tray.ranAlls >= n })
	return text
}

// dataWait bounds a wait for a data page's reads (a broken test only).
const dataWait = 60 * time.Second

// dataMark is how many queries, exports and reads of its extra a data
// page had applied when a test looked: the test then waits for what
// lands after its action.
type dataMark struct{ queries, exports, extras int }

// markData notes what p has applied so far, before an action.
func markData(tb testing.TB, p *dataPage) dataMark {
	tb.Helper()
	var mk dataMark
	onUI(func() { mk = dataMark{queries: p.shown.n, exports: p.exported.n, extras: p.extraShown.n} })
	return mk
}

// waitLanded waits until ready holds for the record of p that last
// reads, both on the UI lock, and returns the record.
func waitLanded(tb testing.TB, p *dataPage, what string, last func() landing, ready func(landing) bool) landing {
	tb.Helper()
	var l landing
	waitUIWithin(tb, dataWait, p.title+" "+what, func() bool { l = last(); return ready(l) })
	return l
}

// waitQuery waits until a query's results landed after mk, no query of
// p is under way and ok (nil: any) holds for the last one, and returns
// it.
func waitQuery(tb testing.TB, p *dataPage, mk dataMark, ok func(landing) bool) landing {
	tb.Helper()
	return waitLanded(tb, p, "query result", func() landing { return p.shown }, func(l landing) bool {
		return l.n > mk.queries && !p.stale && (ok == nil || ok(l))
	})
}

// waitExtra waits until the read of p's extra (the Licenses chart, the
// Applications filter's counts) for the query shown landed after mk and
// ok (nil: any) holds for it, and returns it.
func waitExtra(tb testing.TB, p *dataPage, mk dataMark, ok func(landing) bool) landing {
	tb.Helper()
	return waitLanded(tb, p, "chart or counts", func() landing { return p.extraShown }, func(l landing) bool {
		return l.n > mk.extras && !p.stale && l.gen == p.gen && (ok == nil || ok(l))
	})
}

// waitExport waits for the end of an export of p started after mk and
// returns it.
func waitExport(tb testing.TB, p *dataPage, mk dataMark) landing {
	tb.Helper()
	return waitLanded(tb, p, "export", func() landing { return p.exported }, func(l landing) bool { return l.n > mk.exports })
}

// waitRows waits until the rows of a page (rowsPerFetch rows from
// page*rowsPerFetch) of the query shown are in p's cache.
func waitRows(tb testing.TB, p *dataPage, page int) {
	tb.Helper()
	waitUIWithin(tb, dataWait, fmt.Sprintf("%s rows from %d", p.title, page*rowsPerFetch), func() bool {
		_, ok := p.fetched[page]
		return ok
	})
}
