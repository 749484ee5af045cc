package importer

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// simClock is a settable clock shared by the simulator (tokens, throttling,
// report dates) and the client's back-off: waiting advances it instead of
// sleeping, so a 429's Retry-After is honoured in simulated time.
type simClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *simClock { return &simClock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)} }

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *simClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Sleep is the client's back-off under test: it advances the clock.
func (c *simClock) Sleep(ctx context.Context, d time.Duration) error {
	c.Advance(d)
	return ctx.Err()
}

// simTokens mints delegated tokens from the simulator, as a refresh would.
type simTokens struct {
	mu            sync.Mutex
	sim           *m365sim.Server
	upn           string
	scopes        []string
	cached        string
	minted        int
	invalidations int
	err           error // returned instead of a token (e.g. re-authentication needed)
}

func (s *simTokens) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return "", s.err
	}
	if s.cached == "" {
		s.cached = s.sim.MintAccessToken(s.upn, s.scopes...)
		s.minted++
	}
	return s.cached, nil
}

func (s *simTokens) Invalidate() {
	s.mu.Lock()
	s.cached = ""
	s.invalidations++
	s.mu.Unlock()
}

type env struct {
	t      *testing.T
	sim    *m365sim.Server
	clk    *simClock
	store  *inventory.Store
	tokens *simTokens
	conn   storage.Connection
	opts   graph.Options
	// sequential selects the reference mode; the default overlaps
	// fetching and storing.
	sequential bool
	// wrap, when set, wraps the client's transport (tests that alter
	// answers).
	wrap func(http.RoundTripper) http.RoundTripper
	// incremental lets a run read only changes when it can; otherwise
	// every run is a full import. reportsMaxAge is Options.ReportsMaxAge.
	incremental   bool
	reportsMaxAge time.Duration
	// concurrency is Options.Concurrency (0: the default).
	concurrency int
}

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

func newEnv(t *testing.T, o m365sim.Options) *env {
	t.Helper()
	clk := newClock()
	if o.Now == nil {
		o.Now = clk.Now
	}
	if o.Seed == 0 {
		o.Seed = 7
	}
	sim, err := m365sim.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	store, err := inventory.Open(context.Background(), filepath.Join(t.TempDir(), inventory.FileName), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return &env{t: t, sim: sim, clk: clk, store: store,
		tokens: &simTokens{sim: sim, upn: tenant.AdminLocalPart + "@" + sim.Tenant().Domain},
		conn:   storage.Connection{ID: "0123456789abcdef0123456789abcdef", Name: "Contoso"},
		opts:   graph.Options{Sleep: clk.Sleep, AttemptTimeout: 5 * time.Second}}
}

func (e *env) client() *graph.Client {
	hc := e.sim.Client()
	if e.wrap != nil {
		rt := hc.Transport
		if rt == nil {
			rt = http.DefaultTransport
		}
		hc.Transport = e.wrap(rt)
	}
	c, err := graph.New(hc, e.sim.GraphEndpoint(), e.tokens, e.opts)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) run(ctx context.Context, progress func(Stage, int, int)) (Result, error) {
	return e.runClient(ctx, e.client(), progress)
}

// runClient is run with a client the test holds, to look at it after.
func (e *env) runClient(ctx context.Context, c *graph.Client, progress func(Stage, int, int)) (Result, error) {
	return Run(ctx, Options{Conn: e.conn, Client: c, Store: e.store, Trigger: inventory.TriggerManual,
		Progress: progress, Sequential: e.sequential, Concurrency: e.concurrency, Logger: quietLog,
		Full: !e.incremental, ReportsMaxAge: e.reportsMaxAge, Now: e.clk.Now})
}

func (e *env) mustRun() Result {
	e.t.Helper()
	res, err := e.run(context.Background(), nil)
	if err != nil {
		e.t.Fatalf("import failed: %v", err)
	}
	return res
}

func sameTime(a, b time.Time) bool { return a.Truncate(time.Second).Equal(b.Truncate(time.Second)) }

// checkUsers compares the current snapshot's users with the tenant's,
// field by field.
func (e *env) checkUsers(q inventory.Query) {
	t := e.t
	t.Helper()
	got, err := e.store.Users(context.Background(), e.conn.ID, q)
	if err != nil {
		t.Fatal(err)
	}
	ten := e.sim.Tenant()
	ten.RLock()
	defer ten.RUnlock()
	if len(got) != len(ten.Users) {
		t.Fatalf("%d users imported, the tenant has %d", len(got), len(ten.Users))
	}
	byID := map[string]*inventory.User{}
	for i := range got {
		if byID[got[i].ID] != nil {
			t.Fatalf("user %s imported twice", got[i].ID)
		}
		byID[got[i].ID] = &got[i]
	}
	for _, w := range ten.Users {
		g := byID[w.ID]
		if g == nil {
			t.Fatalf("user %s (%s) missing", w.ID, w.UserPrincipalName)
		}
		if g.UserPrincipalName != w.UserPrincipalName || g.DisplayName != w.DisplayName || g.Mail != w.Mail ||
			g.AccountEnabled != w.AccountEnabled || g.UsageLocation != w.UsageLocation || g.Department != w.Department ||
			g.JobTitle != w.JobTitle || !sameTime(g.CreatedDateTime, w.CreatedDateTime) {
			t.Fatalf("user %s differs:\n got %+v\nwant %+v", w.ID, *g, *w)
		}
		if len(g.AssignedLicenses) != len(w.AssignedLicenses) {
			t.Fatalf("user %s: %d licenses, want %d", w.ID, len(g.AssignedLicenses), len(w.AssignedLicenses))
		}
		for i, l := range w.AssignedLicenses {
			gl := g.AssignedLicenses[i]
			if gl.SkuID != l.SkuID || strings.Join(gl.DisabledPlans, ",") != strings.Join(l.DisabledPlans, ",") {
				t.Fatalf("user %s license %d: got %+v want %+v", w.ID, i, gl, l)
			}
		}
		if len(g.AssignedPlans) != len(w.AssignedPlans) {
			t.Fatalf("user %s: %d plans, want %d", w.ID, len(g.AssignedPlans), len(w.AssignedPlans))
		}
		for i, p := range w.AssignedPlans {
			gp := g.AssignedPlans[i]
			if gp.ServicePlanID != p.ServicePlanID || gp.Service != p.Service || gp.CapabilityStatus != p.CapabilityStatus ||
				!sameTime(gp.AssignedDateTime, p.AssignedDateTime) {
				t.Fatalf("user %s plan %d: got %+v want %+v", w.ID, i, gp, p)
			}
		}
	}
}

func (e *env) checkLicensesAndApps() {
	t := e.t
	t.Helper()
	ctx := context.Background()
	lics, err := e.store.Licenses(ctx, e.conn.ID, inventory.Query{})
	if err != nil {
		t.Fatal(err)
	}
	ten := e.sim.Tenant()
	ten.RLock()
	defer ten.RUnlock()
	if len(lics) != len(ten.SKUs) {
		t.Fatalf("%d SKUs imported, the tenant has %d", len(lics), len(ten.SKUs))
	}
	assigned := map[string]int{}
	for _, u := range ten.Users {
		for _, l := range u.AssignedLicenses {
			assigned[strings.ToLower(l.SkuID)]++
		}
	}
	for i, w := range ten.SKUs {
		g := lics[i]
		if g.SkuID != w.SkuID || g.SkuPartNumber != w.SkuPartNumber || g.ID != w.ID || g.AccountName != w.AccountName ||
			g.AccountID != w.AccountID || g.AppliesTo != w.AppliesTo || g.CapabilityStatus != w.CapabilityStatus ||
			g.ConsumedUnits != w.ConsumedUnits || g.PrepaidUnits != inventory.PrepaidUnits(w.PrepaidUnits) ||
			strings.Join(g.SubscriptionIDs, ",") != strings.Join(w.SubscriptionIDs, ",") || len(g.ServicePlans) != len(w.ServicePlans) {
			t.Fatalf("SKU %d differs:\n got %+v\nwant %+v", i, g, *w)
		}
		for j, p := range w.ServicePlans {
			if g.ServicePlans[j] != inventory.ServicePlan(p) {
				t.Fatalf("SKU %s plan %d: got %+v want %+v", w.SkuPartNumber, j, g.ServicePlans[j], p)
			}
		}
		if want := w.PrepaidUnits.Enabled + w.PrepaidUnits.Warning; g.Purchased != want || g.Assigned != assigned[strings.ToLower(w.SkuID)] ||
			g.Unassigned != want-g.Assigned {
			t.Fatalf("SKU %s: purchased %d assigned %d unassigned %d, want %d and %d", w.SkuPartNumber, g.Purchased, g.Assigned,
				g.Unassigned, want, assigned[strings.ToLower(w.SkuID)])
		}
	}
	apps, err := e.store.Applications(ctx, e.conn.ID, inventory.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != len(ten.ServicePrincipals) {
		t.Fatalf("%d applications imported, the tenant has %d", len(apps), len(ten.ServicePrincipals))
	}
	for i, w := range ten.ServicePrincipals {
		g := apps[i]
		if g.ID != w.ID || g.AppID != w.AppID || g.DisplayName != w.DisplayName || g.AppDisplayName != w.AppDisplayName ||
			g.PublisherName != w.PublisherName || g.AppOwnerOrganizationID != w.AppOwnerOrganizationID ||
			g.ServicePrincipalType != w.ServicePrincipalType || g.AccountEnabled != w.AccountEnabled ||
			strings.Join(g.Tags, ",") != strings.Join(w.Tags, ",") {
			t.Fatalf("application %d differs:\n got %+v\nwant %+v", i, g, *w)
		}
	}
}

// rawReport downloads a report straight from the simulator, the way the
// wire document describes it, and parses it with encoding/csv alone: the
// reference the imported rows are compared with.
func (e *env) rawReport(kind inventory.ReportKind) (header []string, rows [][]string) {
	t := e.t
	t.Helper()
	spec := inventory.Report(kind)
	req, _ := http.NewRequest("GET", e.sim.GraphEndpoint()+"/v1.0/reports/"+spec.Function, nil)
	req.Header.Set("Authorization", "Bearer "+e.sim.MintAccessToken(e.tokens.upn))
	hc := e.sim.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("report %s: %s", kind, resp.Status)
	}
	dl, err := e.sim.Client().Get(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	defer dl.Body.Close()
	body, err := io.ReadAll(dl.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(body), "\ufeff") {
		t.Fatalf("report %s has no BOM", kind)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(body), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs[0], recs[1:]
}

func (e *env) checkReports() {
	t := e.t
	t.Helper()
	for _, kind := range inventory.ReportKinds {
		spec := inventory.Report(kind)
		header, want := e.rawReport(kind)
		got, err := e.store.ReportRows(context.Background(), e.conn.ID, kind, inventory.Query{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d rows imported, the report has %d", kind, len(got), len(want))
		}
		for i, rec := range want {
			for j, h := range header {
				g, ok := got[i].Extras[h]
				if c := spec.Column(h); c >= 0 && !ok {
					g = got[i].Cells[c]
				}
				if g != rec[j] {
					t.Fatalf("%s row %d column %q: got %q, want %q", kind, i, h, g, rec[j])
				}
			}
		}
	}
}

func (e *env) checkAll() {
	e.t.Helper()
	e.checkUsers(inventory.Query{})
	e.checkLicensesAndApps()
	e.checkReports()
}

func TestImportEqualsTenant(t *testing.T) {
	e := newEnv(t, m365sim.Options{Users: 1500})
	var stages []Stage
	var mu sync.Mutex
	res, err := e.run(context.Background(), func(s Stage, done, total int) {
		mu.Lock()
		defer mu.Unlock()
		if len(stages) == 0 || stages[len(stages)-1] != s {
			stages = append(stages, s)
		}
		if total > 0 && done > total {
			t.Errorf("stage %s: done %d > total %d", s, done, total)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status() != inventory.StatusSucceeded || len(res.Warnings()) != 0 || !res.Run.Current {
		t.Fatalf("run = %+v", res.Run)
	}
	// Licenses come first; the other stages run side by side, so their
	// reports interleave, but each is reported.
	seen := map[Stage]bool{}
	for _, s := range stages {
		seen[s] = true
	}
	// Sign-in activity reports only when it is read (this connection
	// lacks AuditLog.Read.All).
	want := len(Stages)
	if res.Run.SignIns != inventory.SignInsRead {
		want--
	}
	if len(stages) == 0 || stages[0] != StageLicenses || len(seen) != want || seen[StageSignIns] != (want == len(Stages)) {
		t.Fatalf("stages %v, want all of %v, licenses first", stages, Stages)
	}
	c := res.Counts()
	if c.Users != 1500 || c.SKUs == 0 || c.ServicePrincipals == 0 || c.ActiveUserRows == 0 || c.ActivationRows == 0 || c.AppUsageRows == 0 {
		t.Fatalf("counts = %+v", c)
	}
	e.checkAll()
	e.checkActiveFigures()
}

// checkActiveFigures recomputes, from the tenant's usage, how many holders
// of each SKU were active in the 30 days before the reports' date.
func (e *env) checkActiveFigures() {
	t := e.t
	t.Helper()
	lics, err := e.store.Licenses(context.Background(), e.conn.ID, inventory.Query{})
	if err != nil {
		t.Fatal(err)
	}
	ten := e.sim.Tenant()
	ten.RLock()
	active := map[string]int{}
	for _, u := range ten.Users {
		recent := func(d int16) bool { return d >= 0 && d <= 30 }
		on := recent(u.Usage.LastAppActivity)
		for _, d := range u.Usage.LastActivity {
			on = on || recent(d)
		}
		if !on {
			continue
		}
		for _, l := range u.AssignedLicenses {
			active[strings.ToLower(l.SkuID)]++
		}
	}
	ten.RUnlock()
	some := false
	for _, l := range lics {
		if !l.UsageKnown || l.Active != active[strings.ToLower(l.SkuID)] || l.Inactive != l.Assigned-l.Active {
			t.Fatalf("SKU %s: active %d (usage known %v), want %d", l.SkuPartNumber, l.Active, l.UsageKnown, active[strings.ToLower(l.SkuID)])
		}
		some = some || l.Active > 0
	}
	if !some {
		t.Fatal("no SKU has active users: the figures are not exercised")
	}
}

// TestSequentialAndPipelinedAgree runs both modes against one tenant: the
// snapshots must be identical to the tenant, hence to each other.
func TestSequentialAndPipelinedAgree(t *testing.T) {
	for _, seq := range []bool{true, false} {
		e := newEnv(t, m365sim.Options{Users: 800})
		e.sequential = seq
		e.opts.PageSize = 100
		if res := e.mustRun(); res.Status() != inventory.StatusSucceeded {
			t.Fatalf("sequential=%v: %+v", seq, res.Run)
		}
		e.checkAll()
	}
}

func TestPagingSmallPages(t *testing.T) {
	e := newEnv(t, m365sim.Options{Users: 700})
	e.opts.PageSize = 50 // 14 pages of users, several of applications
	e.mustRun()
	e.checkUsers(inventory.Query{})
	e.checkLicensesAndApps()
}

func TestThrottlingAndFaultsStillExact(t *testing.T) {
	e := newEnv(t, m365sim.Options{Users: 600, Throttle: true, ThrottleUnits: 20, FaultRate: 0.15,
		SlowBodyDelay: 20 * time.Second, FaultRetryAfter: 1500 * time.Millisecond})
	e.opts.PageSize = 25
	e.opts.AttemptTimeout = 1 * time.Second // a slow body is abandoned after this
	var retries []graph.Retry
	var mu sync.Mutex
	e.opts.OnRetry = func(r graph.Retry) { mu.Lock(); retries = append(retries, r); mu.Unlock() }
	e.mustRun()
	st := e.sim.Stats()
	kinds := map[string]int{}
	for _, r := range retries {
		// By the status phrase: a bare "429" also matched paging cursors
		// that happened to contain those digits, and the test failed.
		switch {
		case strings.Contains(r.Reason, "answered 429 "):
			kinds["429"]++
		case strings.Contains(r.Reason, "answered 503 "):
			kinds["503"]++
		case strings.Contains(r.Reason, "answered 504 "):
			kinds["504"]++
		default:
			kinds["network/body"]++
		}
	}
	t.Logf("faults injected %v; retries by cause %v", st.Faults, kinds)
	// The reference downloads below must see neither faults nor the
	// reports' 14-per-10-minutes limit.
	e.sim.SetFaultRate(0)
	e.clk.Advance(11 * time.Minute)
	if kinds["429"] == 0 || kinds["503"]+kinds["504"] == 0 || kinds["network/body"] == 0 {
		t.Fatalf("the test did not exercise every kind of fault: %v", kinds)
	}
	e.checkAll()
}

func TestConcealedNamesWarn(t *testing.T) {
	e := newEnv(t, m365sim.Options{Users: 300, ConcealedNames: true})
	res := e.mustRun()
	if res.Status() != inventory.StatusWarnings || len(res.Warnings()) != 1 || !strings.HasPrefix(res.Warnings()[0], ConcealedNamesWarning) ||
		!strings.Contains(res.Warnings()[0], "admin center") {
		t.Fatalf("run = %+v", res.Run)
	}
	lics, _ := e.store.Licenses(context.Background(), e.conn.ID, inventory.Query{})
	for _, l := range lics {
		if l.UsageKnown {
			t.Fatalf("SKU %s claims known usage under concealed names", l.SkuPartNumber)
		}
	}
	e.checkAll()
	// Turning concealment off clears the warning on the next run.
	e.sim.Graph().SetConcealedNames(false)
	if res := e.mustRun(); res.Status() != inventory.StatusSucceeded {
		t.Fatalf("after concealment off: %+v", res.Run)
	}
}

func TestReportsForbiddenKeepsUsersAndLicenses(t *testing.T) {
	for _, c := range []struct {
		name   string
		upn    string
		scopes []string
		want   string
	}{
		{"no reports role (S2SUnauthorized)", tenant.UserLocalPart, []string{"Directory.Read.All", "Reports.Read.All", "User.Read"}, "Reports Reader"},
		{"no Reports.Read.All consent", tenant.AdminLocalPart, []string{"Directory.Read.All", "User.Read"}, "admin consent"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, m365sim.Options{Users: 200})
			e.tokens.upn = c.upn + "@" + e.sim.Tenant().Domain
			e.tokens.scopes = c.scopes
			res := e.mustRun()
			if res.Status() != inventory.StatusWarnings || len(res.Warnings()) != 1 || !strings.Contains(res.Warnings()[0], c.want) {
				t.Fatalf("run = %+v", res.Run)
			}
			if c := res.Counts(); c.ActiveUserRows+c.ActivationRows+c.AppUsageRows != 0 || c.Users != 200 {
				t.Fatalf("counts = %+v", c)
			}
			e.checkUsers(inventory.Query{})
			e.checkLicensesAndApps()
		})
	}
}

func TestTokenExpiresMidRun(t *testing.T) {
	e := newEnv(t, m365sim.Options{Users: 400})
	e.opts.PageSize = 100
	// One request at a time, so "mid-run" is an exact point: in the
	// parallel mode the other stages may be done before it.
	e.sequential = true
	expired := false
	res, err := e.run(context.Background(), func(s Stage, done, total int) {
		if s == StageUsers && done == 200 && !expired {
			expired = true
			e.clk.Advance(2 * time.Hour) // the access token (1 h) is now stale
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !expired || e.tokens.invalidations != 1 || e.tokens.minted != 2 || res.Status() != inventory.StatusSucceeded {
		t.Fatalf("expired=%v invalidations=%d minted=%d run=%+v", expired, e.tokens.invalidations, e.tokens.minted, res.Run)
	}
	e.checkAll()
}

func TestSignInLostMidRunFailsAndKeepsSnapshot(t *testing.T) {
	e := newEnv(t, m365sim.Options{Users: 300})
	good := e.mustRun()
	e.opts.PageSize = 100
	e.sequential = true // an exact mid-run point, as in TestTokenExpiresMidRun
	reauth := errors.New("the stored sign-in is no longer valid: click Generate... to sign in again")
	res, err := e.run(context.Background(), func(s Stage, done, total int) {
		if s == StageUsers && done == 100 {
			e.clk.Advance(2 * time.Hour)
			e.tokens.mu.Lock()
			e.tokens.err = reauth
			e.tokens.mu.Unlock()
		}
	})
	if !errors.Is(err, reauth) || res.Status() != inventory.StatusFailed || !strings.Contains(res.Run.Error, "Generate") {
		t.Fatalf("err = %v, run = %+v", err, res.Run)
	}
	cur, err := e.store.CurrentRun(context.Background(), e.conn.ID)
	if err != nil || cur.ID != good.Run.ID {
		t.Fatalf("current = %+v, %v", cur, err)
	}
	e.checkAll()
}

func TestCancelMidRunKeepsLastGoodSnapshot(t *testing.T) {
	e := newEnv(t, m365sim.Options{Users: 500})
	good := e.mustRun()
	e.opts.PageSize = 100
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := e.run(ctx, func(s Stage, done, total int) {
		if s == StageUsers && done >= 200 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if res.Status() != inventory.StatusCancelled || res.Run.Current {
		t.Fatalf("run = %+v", res.Run)
	}
	cur, err := e.store.CurrentRun(context.Background(), e.conn.ID)
	if err != nil || cur.ID != good.Run.ID || cur.Counts.Users != 500 {
		t.Fatalf("current = %+v, %v", cur, err)
	}
	e.checkAll()
	h, _ := e.store.History(context.Background(), e.conn.ID, 0)
	var statuses []string
	for _, r := range h {
		statuses = append(statuses, string(r.Status))
	}
	sort.Strings(statuses)
	if strings.Join(statuses, ",") != "cancelled,succeeded" {
		t.Fatalf("history %v", statuses)
	}
}

// TestPrefetchedReportsLeaveNoFiles: the parallel mode downloads the three
// reports to temporary files ahead of storing them; whether the run
// succeeds, is refused the reports or is cancelled half-way, every file is
// gone when Run returns.
func TestPrefetchedReportsLeaveNoFiles(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	left := func(when string) {
		t.Helper()
		names, _ := filepath.Glob(filepath.Join(tmp, "beacon-report-*"))
		if len(names) != 0 {
			t.Fatalf("%s: report files left behind: %v", when, names)
		}
	}
	e := newEnv(t, m365sim.Options{Users: 300})
	if res := e.mustRun(); res.Status() != inventory.StatusSucceeded || res.Counts().ActiveUserRows == 0 {
		t.Fatalf("run = %+v", res.Run)
	}
	left("after a good run")

	e = newEnv(t, m365sim.Options{Users: 300})
	e.tokens.scopes = []string{"Directory.Read.All", "User.Read"}
	if res := e.mustRun(); res.Status() != inventory.StatusWarnings {
		t.Fatalf("run without the reports' permission = %+v", res.Run)
	}
	left("after the reports were refused")

	e = newEnv(t, m365sim.Options{Users: 2000, Latency: 20 * time.Millisecond})
	e.opts.PageSize = 100
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, _ := e.run(ctx, func(s Stage, done, total int) {
		if s == StageUsers && done >= 300 {
			cancel()
		}
	})
	if res.Status() != inventory.StatusCancelled {
		t.Fatalf("cancelled run = %+v", res.Run)
	}
	left("after a cancelled run")
}
