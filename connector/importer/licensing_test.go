package importer

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/service/optimize"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// withAuditLog is the connection's delegated grant plus AuditLog.Read.All.
var withAuditLog = append(slices.Clone(m365sim.DefaultScopes), "AuditLog.Read.All")

// facts loads what reclamation reads of the current snapshot, users in a
// fixed order (an incremental snapshot keeps the previous one's order).
func (e *env) facts() *optimize.Facts {
	e.t.Helper()
	f, err := optimize.Load(context.Background(), e.store, e.conn.ID, inventory.Query{})
	if err != nil {
		e.t.Fatal(err)
	}
	slices.SortFunc(f.Users, func(a, b optimize.User) int { return strings.Compare(a.UPN, b.UPN) })
	return f
}

// checkLicensing compares the facts with the tenant: every user holding or
// failing to get a licence, whether a guest, where each licence came from
// (group by name), and whether the user ever signed in when signIns.
func (e *env) checkLicensing(f *optimize.Facts, signIns bool) {
	t := e.t
	t.Helper()
	ten := e.sim.Tenant()
	ten.RLock()
	defer ten.RUnlock()
	groups := map[string]string{}
	for _, g := range ten.Groups {
		groups[g.ID] = g.DisplayName
	}
	byUPN := map[string]*optimize.User{}
	for i := range f.Users {
		byUPN[f.Users[i].UPN] = &f.Users[i]
	}
	fromGroup, failed, guests, signedIn := 0, 0, 0, 0
	licensed := 0
	for _, w := range ten.Users {
		states := w.LicenseStates()
		if len(w.AssignedLicenses) == 0 && !slices.ContainsFunc(states, func(s tenant.LicenseState) bool { return s.State == "Error" }) {
			continue
		}
		licensed++
		g := byUPN[w.UserPrincipalName]
		if g == nil {
			t.Fatalf("licensed user %s missing from the facts", w.UserPrincipalName)
		}
		if g.Guest != w.Guest {
			t.Fatalf("%s: guest %v, want %v", w.UserPrincipalName, g.Guest, w.Guest)
		}
		var want []string
		for _, s := range states {
			switch {
			case s.State == "Error":
				want = append(want, fmt.Sprintf("%s failed %s %s", s.SkuID, groups[s.AssignedByGroup], s.Error))
			case s.AssignedByGroup != "":
				want = append(want, fmt.Sprintf("%s group %s", s.SkuID, groups[s.AssignedByGroup]))
			}
		}
		var got []string
		for _, l := range g.Licenses {
			switch l.Source {
			case optimize.Failed:
				got = append(got, fmt.Sprintf("%s failed %s %s", l.SkuID, l.GroupName, l.Error))
				failed++
			case optimize.Group:
				got = append(got, fmt.Sprintf("%s group %s", l.SkuID, l.GroupName))
				fromGroup++
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: group licences %q, want %q", w.UserPrincipalName, got, want)
		}
		if w.Guest {
			guests++
		}
		if signIns && (w.SignIn != nil) != !g.LastSignIn.IsZero() {
			t.Fatalf("%s: last sign-in %v, tenant %+v", w.UserPrincipalName, g.LastSignIn, w.SignIn)
		}
		if !g.LastSignIn.IsZero() {
			signedIn++
		}
	}
	if licensed != len(f.Users) {
		t.Fatalf("%d users in the facts, the tenant licenses %d", len(f.Users), licensed)
	}
	if f.SignInsKnown != signIns {
		t.Fatalf("sign-ins known %v, want %v (notice %q)", f.SignInsKnown, signIns, f.SignInNotice)
	}
	if fromGroup == 0 || failed == 0 || guests == 0 || (signIns && signedIn == 0) || (!signIns && signedIn > 0) {
		t.Fatalf("from a group %d, failed %d, licensed guests %d, signed in %d: every kind must occur", fromGroup, failed, guests, signedIn)
	}
}

// TestLicensingIncrementalEqualsFull: a full import and an incremental
// one after changes store user types, assignment states, licensing groups
// and sign-ins such that the Optimization page's facts are those of a
// fresh full import of the changed tenant (issue 17: "equal between an
// incremental and a full snapshot").
func TestLicensingIncrementalEqualsFull(t *testing.T) {
	e := newEnv(t, m365sim.Options{Users: 2000, DeltaPageSize: 50})
	e.tokens.scopes = withAuditLog
	e.opts.PageSize = 150 // several shards of several pages, as a large tenant has
	e.incremental = true
	e.reportsMaxAge = -1 // both download the reports: the facts' activity is compared too
	res := e.mustRun()
	if res.Mode != ModeSharded || res.Run.SignIns != inventory.SignInsRead || res.Status() != inventory.StatusSucceeded {
		t.Fatalf("full run: mode %q, sign-ins %q, status %s %q", res.Mode, res.Run.SignIns, res.Status(), res.Warnings())
	}
	e.checkLicensing(e.facts(), true)

	if sum := e.sim.Tenant().Mutate(42, 0.05); sum.Added == 0 || sum.LicenseChanges == 0 {
		t.Fatalf("mutation %+v", sum)
	}
	e.clk.Advance(time.Hour)
	res = e.mustRun()
	if res.Mode != ModeDelta || res.Run.SignIns != inventory.SignInsRead {
		t.Fatalf("incremental run: mode %q, sign-ins %q", res.Mode, res.Run.SignIns)
	}
	inc := e.facts()
	e.checkLicensing(inc, true)
	e.incremental = false
	if res := e.mustRun(); res.Mode != ModeSharded {
		t.Fatalf("full run: mode %q", res.Mode)
	}
	full := e.facts()
	if a, b := fmt.Sprintf("%+v", *inc), fmt.Sprintf("%+v", *full); a != b {
		t.Fatalf("the incremental snapshot's facts differ from the full one's:\n inc %.2000s\nfull %.2000s", a, b)
	}

	// The sequential reference mode reads the same.
	e.sequential = true
	if res := e.mustRun(); res.Run.SignIns != inventory.SignInsRead {
		t.Fatalf("sequential run: sign-ins %q", res.Run.SignIns)
	}
	if a, b := fmt.Sprintf("%+v", *e.facts()), fmt.Sprintf("%+v", *full); a != b {
		t.Fatal("the sequential import's facts differ from the parallel one's")
	}
}

// TestSignInsNoPremium: a tenant without Entra ID P1 imports as usual; the
// run says in one line why sign-ins are missing.
func TestSignInsNoPremium(t *testing.T) {
	e := newEnv(t, m365sim.Options{Users: 400, NoPremium: true})
	e.tokens.scopes = withAuditLog
	for _, seq := range []bool{false, true} {
		e.sequential = seq
		res := e.mustRun()
		if res.Status() != inventory.StatusSucceeded || res.Run.SignIns != SignInsNoPremium {
			t.Fatalf("sequential %v: status %s %q, sign-ins %q", seq, res.Status(), res.Warnings(), res.Run.SignIns)
		}
		f := e.facts()
		if f.SignInNotice != SignInsNoPremium {
			t.Fatalf("notice %q", f.SignInNotice)
		}
		e.checkLicensing(f, false)
		e.checkUsers(inventory.Query{})
	}
}

// TestSignInsWithoutAuditLog: a token that does not carry AuditLog.Read.All
// skips sign-ins without asking Graph; a token that carries it but is
// refused part-way (consent withdrawn) keeps none of the pages read.
func TestSignInsWithoutAuditLog(t *testing.T) {
	e := newEnv(t, m365sim.Options{Users: 400})
	var asked, throttled atomic.Int32
	var refuse atomic.Bool
	e.opts.PageSize = 60
	e.wrap = func(rt http.RoundTripper) http.RoundTripper {
		return rewrite{next: rt, fn: func(req *http.Request, next func() (*http.Response, error)) (*http.Response, error) {
			if !strings.Contains(req.URL.RawQuery, "signInActivity") {
				return next()
			}
			n := asked.Add(1)
			switch {
			case n == 2:
				// Throttled like any other request: honoured, then read.
				throttled.Add(1)
				r := textResponse(req, 429, `{"error":{"code":"TooManyRequests","message":"Too many requests."}}`)
				r.Header.Set("Retry-After", "2")
				return r, nil
			case refuse.Load() && n >= 4:
				return textResponse(req, 403, `{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}`), nil
			}
			return next()
		}}
	}
	res := e.mustRun()
	if res.Status() != inventory.StatusSucceeded || res.Run.SignIns != SignInsNoAuditLog || asked.Load() != 0 {
		t.Fatalf("status %s %q, sign-ins %q, %d sign-in requests", res.Status(), res.Warnings(), res.Run.SignIns, asked.Load())
	}
	e.checkLicensing(e.facts(), false)

	e.tokens.scopes = withAuditLog
	e.tokens.Invalidate()
	res = e.mustRun()
	if res.Run.SignIns != inventory.SignInsRead || throttled.Load() != 1 {
		t.Fatalf("with AuditLog.Read.All: sign-ins %q, %d throttled", res.Run.SignIns, throttled.Load())
	}
	e.checkLicensing(e.facts(), true)

	asked.Store(0)
	refuse.Store(true)
	res = e.mustRun()
	if res.Status() != inventory.StatusSucceeded || res.Run.SignIns != SignInsNoAuditLog || asked.Load() < 4 {
		t.Fatalf("refused part-way: status %s %q, sign-ins %q after %d requests", res.Status(), res.Warnings(), res.Run.SignIns, asked.Load())
	}
	e.checkLicensing(e.facts(), false)
	e.checkUsers(inventory.Query{})
}

// TestLicensingGroupsForbidden: without a permission to list groups the
// import completes with a warning in plain words, and group licences are
// shown by group ID; a query the tenant refuses otherwise does not fail
// the import either.
func TestLicensingGroupsForbidden(t *testing.T) {
	for _, c := range []struct {
		status       int
		body, prefix string
	}{
		{403, `{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}`, GroupNamesWarning},
		{400, `{"error":{"code":"Request_UnsupportedQuery","message":"Unsupported Query."}}`, "Group names were not read (Microsoft Graph answered 400"},
	} {
		t.Run(fmt.Sprint(c.status), func(t *testing.T) {
			testGroupsRefused(t, c.status, c.body, c.prefix)
		})
	}
}

func testGroupsRefused(t *testing.T, status int, body, prefix string) {
	e := newEnv(t, m365sim.Options{Users: 400})
	e.wrap = func(rt http.RoundTripper) http.RoundTripper {
		return rewrite{next: rt, fn: func(req *http.Request, next func() (*http.Response, error)) (*http.Response, error) {
			if strings.HasSuffix(req.URL.Path, "/groups") {
				return textResponse(req, status, body), nil
			}
			return next()
		}}
	}
	res := e.mustRun()
	if res.Status() != inventory.StatusWarnings || len(res.Warnings()) != 1 || !strings.HasPrefix(res.Warnings()[0], prefix) {
		t.Fatalf("status %s, warnings %q", res.Status(), res.Warnings())
	}
	byID := 0
	for _, u := range e.facts().Users {
		for _, l := range u.Licenses {
			if l.Source == optimize.Group {
				if l.GroupID == "" || l.GroupName != "" {
					t.Fatalf("%s: %+v", u.UPN, l)
				}
				byID++
			}
		}
	}
	if byID == 0 {
		t.Fatal("no licence from a group")
	}
	e.checkUsers(inventory.Query{})
}

// TestIncrementalAfterAnEarlierBuild: a snapshot whose users were read by
// a build without userType and licenseAssignmentStates (its run recorded
// nothing about sign-ins) is not continued by a delta round, which would
// bring them only for the users that changed: the run is a full import.
func TestIncrementalAfterAnEarlierBuild(t *testing.T) {
	e := newEnv(t, m365sim.Options{Users: 400})
	e.incremental = true
	res := e.mustRun()
	if res.Run.SignIns != SignInsNoAuditLog {
		t.Fatalf("sign-ins %q", res.Run.SignIns)
	}
	if _, err := e.store.DB().Exec("UPDATE runs SET sign_ins = '' WHERE id = ?", res.Run.ID); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Hour)
	if res := e.mustRun(); res.Mode != ModeSharded {
		t.Fatalf("after an earlier build's snapshot: mode %q, want a full import", res.Mode)
	}
	e.checkLicensing(e.facts(), false)
	e.clk.Advance(time.Hour)
	if res := e.mustRun(); res.Mode != ModeDelta {
		t.Fatalf("after this build's snapshot: mode %q, want the delta", res.Mode)
	}
}

// TestSignInsReportProgress: reading sign-in activity (seconds at 100,000
// users) moves its own bar, sharded and in one pass, from a start (0, 0)
// to every user done (issue 17 item 3).
func TestSignInsReportProgress(t *testing.T) {
	e := newEnv(t, m365sim.Options{Users: 700})
	e.tokens.scopes = withAuditLog
	e.opts.PageSize = 150
	for _, sequential := range []bool{false, true} {
		e.sequential = sequential
		var mu sync.Mutex
		var got [][2]int
		res, err := e.run(context.Background(), func(s Stage, done, total int) {
			if s != StageSignIns {
				return
			}
			mu.Lock()
			got = append(got, [2]int{done, total})
			mu.Unlock()
		})
		if err != nil || res.Run.SignIns != inventory.SignInsRead {
			t.Fatalf("sequential %v: err %v, sign-ins %q", sequential, err, res.Run.SignIns)
		}
		if len(got) < 3 || got[0] != [2]int{0, 0} || got[len(got)-1] != [2]int{700, 700} {
			t.Fatalf("sequential %v: sign-in progress %v, want (0,0), pages, (700,700)", sequential, got)
		}
		for i := 1; i < len(got); i++ {
			if got[i][0] < got[i-1][0] || (got[i][1] > 0 && got[i][0] > got[i][1]) {
				t.Fatalf("sequential %v: progress goes back or past its total: %v", sequential, got)
			}
		}
	}
}
