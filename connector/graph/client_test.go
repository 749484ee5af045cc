package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/storage/inventory"
)

// tokens is a TokenSource for tests: it counts refreshes and hands out
// "tok-N" where N is the refresh generation.
type tokens struct {
	mu          sync.Mutex
	gen         int
	invalidated int
	err         error
}

func (t *tokens) Token(context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil {
		return "", t.err
	}
	return fmt.Sprintf("tok-%d", t.gen), nil
}

func (t *tokens) Invalidate() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.gen++
	t.invalidated++
}

// fault is what the fixture server does instead of answering normally.
type fault func(w http.ResponseWriter, r *http.Request, body string) bool

// fixture serves Graph pages written by hand in the wire format, with a
// queue of faults consumed one per request.
type fixture struct {
	t        *testing.T
	mu       sync.Mutex
	faults   []fault
	requests []*http.Request
	wantTok  string
	srv      *httptest.Server
	pages    map[string]string // path?query -> body
}

var guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func newFixture(t *testing.T) *fixture {
	f := &fixture{t: t, pages: map[string]string{}, wantTok: "tok-0"}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r)
	var flt fault
	if len(f.faults) > 0 {
		flt, f.faults = f.faults[0], f.faults[1:]
	}
	want := f.wantTok
	f.mu.Unlock()
	if !guidRE.MatchString(r.Header.Get("client-request-id")) {
		f.t.Errorf("request %s without a GUID client-request-id: %q", r.URL, r.Header.Get("client-request-id"))
	}
	key := r.URL.Path
	if r.URL.RawQuery != "" {
		key += "?" + r.URL.RawQuery
	}
	body, ok := f.pages[key]
	if flt != nil && flt(w, r, body) {
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+want {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		fmt.Fprint(w, `{"error":{"code":"InvalidAuthenticationToken","message":"Access token has expired or is not yet valid.","innerError":{"date":"2026-11-25T19:00:00","request-id":"r-1","client-request-id":"`+r.Header.Get("client-request-id")+`"}}}`)
		return
	}
	if !ok {
		f.t.Errorf("unexpected request %s", key)
		w.WriteHeader(404)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, body)
}

func (f *fixture) push(fs ...fault) {
	f.mu.Lock()
	f.faults = append(f.faults, fs...)
	f.mu.Unlock()
}

func status(code int, retryAfter string, graphCode, msg string) fault {
	return func(w http.ResponseWriter, r *http.Request, _ string) bool {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("request-id", "req-"+graphCode)
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"error":{"code":%q,"message":%q,"innerError":{"date":"2026-11-25T19:00:00","request-id":"req-%s"}}}`, graphCode, msg, graphCode)
		return true
	}
}

// reset closes the connection without an answer.
func reset(w http.ResponseWriter, r *http.Request, _ string) bool {
	c, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		c.Close()
	}
	return true
}

// truncated promises the whole body and sends half of it.
func truncated(w http.ResponseWriter, r *http.Request, body string) bool {
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(200)
	fmt.Fprint(w, body[:len(body)/2])
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	c, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		c.Close()
	}
	return true
}

// garbled answers 200 with a body that is not JSON (a proxy's page).
func garbled(w http.ResponseWriter, r *http.Request, body string) bool {
	fmt.Fprint(w, "<html>gateway hiccup</html>")
	return true
}

type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func newClient(t *testing.T, f *fixture, ts TokenSource, sl *sleeps) *Client {
	t.Helper()
	c, err := New(f.srv.Client(), f.srv.URL, ts, Options{Sleep: sl.sleep, Jitter: func() float64 { return 0.5 }, PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const userPage1 = `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users(id,userPrincipalName)","@odata.nextLink":"%s/v1.0/users?$select=x&$top=2&$skiptoken=RFNwdAIAAQAAAA","value":[
 {"id":"u1","userPrincipalName":"adele@contoso.example","displayName":"Adele Vance","mail":"adele@contoso.example","accountEnabled":true,
  "assignedLicenses":[{"disabledPlans":["p9"],"skuId":"sku-e3"}],
  "assignedPlans":[{"assignedDateTime":"2024-03-01T10:00:00Z","capabilityStatus":"Enabled","service":"exchange","servicePlanId":"p1"}],
  "usageLocation":"US","department":"Retail","jobTitle":"Buyer","createdDateTime":"2023-01-02T03:04:05Z","newProperty":{"x":[1,2]}},
 {"id":"u2","userPrincipalName":"bob@contoso.example","displayName":"Bob","mail":null,"accountEnabled":false,"assignedLicenses":[],"assignedPlans":[],
  "usageLocation":null,"department":null,"jobTitle":null,"createdDateTime":null}]}`

// The last page puts value first and has no nextLink.
const userPage2 = `{"value":[{"id":"u3","userPrincipalName":"chloé@contoso.example","displayName":"Chloé \"CJ\" Jones","accountEnabled":true}],"@odata.context":"x"}`

func usersFixture(t *testing.T) *fixture {
	f := newFixture(t)
	f.pages["/v1.0/users?$select="+UserSelect+"&$top=2"] = fmt.Sprintf(userPage1, f.srv.URL)
	f.pages["/v1.0/users?$select=x&$top=2&$skiptoken=RFNwdAIAAQAAAA"] = userPage2
	return f
}

func collectUsers(t *testing.T, c *Client) ([]User, error) {
	var got []User
	err := c.Users(context.Background(), func(p []User) error {
		got = append(got, p...)
		return nil
	})
	return got, err
}

func checkUsers(t *testing.T, got []User) {
	t.Helper()
	if len(got) != 3 {
		t.Fatalf("%d users, want 3: %+v", len(got), got)
	}
	u := got[0]
	if u.ID != "u1" || u.UserPrincipalName != "adele@contoso.example" || !u.AccountEnabled || u.Department != "Retail" ||
		len(u.AssignedLicenses) != 1 || u.AssignedLicenses[0].SkuID != "sku-e3" || u.AssignedLicenses[0].DisabledPlans[0] != "p9" ||
		len(u.AssignedPlans) != 1 || !u.AssignedPlans[0].AssignedDateTime.Equal(time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)) ||
		!u.CreatedDateTime.Equal(time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("user 1 = %+v", u)
	}
	if got[1].Mail != "" || got[1].AccountEnabled || !got[1].CreatedDateTime.IsZero() {
		t.Fatalf("user 2 = %+v", got[1])
	}
	if got[2].DisplayName != `Chloé "CJ" Jones` {
		t.Fatalf("user 3 = %+v", got[2])
	}
}

func TestUsersPaging(t *testing.T) {
	f := usersFixture(t)
	sl := &sleeps{}
	got, err := collectUsers(t, newClient(t, f, &tokens{}, sl))
	if err != nil {
		t.Fatal(err)
	}
	checkUsers(t, got)
	if len(f.requests) != 2 || len(sl.d) != 0 {
		t.Fatalf("%d requests, %d sleeps", len(f.requests), len(sl.d))
	}
}

func TestTransientFaultsStillGiveExactData(t *testing.T) {
	f := usersFixture(t)
	f.push(
		status(429, "1.5", "TooManyRequests", "Too many requests"),
		status(503, "", "serviceNotAvailable", "Service unavailable"),
		// Go's transport retries a GET once by itself when a reused
		// connection is reset; the second reset (on a fresh connection)
		// reaches the client.
		reset, reset,
		truncated,
		garbled,
		status(504, "2", "gatewayTimeout", "timeout"),
		nil, // page 1 answers
		truncated,
		status(429, "Wed, 21 Oct 2015 07:28:00 GMT", "TooManyRequests", "x"), // a date in the past: retry at once
	)
	sl := &sleeps{}
	var retries []Retry
	c, err := New(f.srv.Client(), f.srv.URL, &tokens{}, Options{Sleep: sl.sleep, Jitter: func() float64 { return 0 },
		BaseDelay: 100 * time.Millisecond, PageSize: 2, OnRetry: func(r Retry) { retries = append(retries, r) }})
	if err != nil {
		t.Fatal(err)
	}
	got, err := collectUsers(t, c)
	if err != nil {
		t.Fatal(err)
	}
	checkUsers(t, got)
	// Retry-After honoured exactly; back-off doubles (jitter 0 = half).
	want := []time.Duration{1500 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond,
		800 * time.Millisecond, 2 * time.Second, 50 * time.Millisecond}
	if fmt.Sprint(sl.d) != fmt.Sprint(want) {
		t.Fatalf("sleeps %v, want %v; retries %+v", sl.d, want, retries)
	}
	if len(retries) != 8 {
		t.Fatalf("%d retries reported, want 8: %+v", len(retries), retries)
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	f := usersFixture(t)
	for i := 0; i < 5; i++ {
		f.push(status(503, "", "serviceNotAvailable", "down"))
	}
	sl := &sleeps{}
	c, _ := New(f.srv.Client(), f.srv.URL, &tokens{}, Options{Sleep: sl.sleep, MaxAttempts: 3, PageSize: 2})
	_, err := collectUsers(t, c)
	var ge *GraphError
	if !errors.As(err, &ge) || ge.Status != 503 || !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Fatalf("err = %v", err)
	}
}

func TestExpiredTokenRefreshedOnce(t *testing.T) {
	f := usersFixture(t)
	ts := &tokens{}
	sl := &sleeps{}
	c := newClient(t, f, ts, sl)
	// The token expires after the first page.
	f.pages["/v1.0/users?$select="+UserSelect+"&$top=2"] = fmt.Sprintf(userPage1, f.srv.URL)
	var got []User
	err := c.Users(context.Background(), func(p []User) error {
		got = append(got, p...)
		f.mu.Lock()
		f.wantTok = "tok-1"
		f.mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkUsers(t, got)
	if ts.invalidated != 1 || len(sl.d) != 0 {
		t.Fatalf("invalidated %d times, %d sleeps", ts.invalidated, len(sl.d))
	}
	// A token the server never accepts: one refresh, then a typed error.
	f.wantTok = "never"
	ts.invalidated = 0
	_, err = collectUsers(t, c)
	if !errors.Is(err, ErrUnauthorized) || ts.invalidated != 1 {
		t.Fatalf("err = %v, invalidated %d", err, ts.invalidated)
	}
	var ge *GraphError
	if !errors.As(err, &ge) || ge.Code != "InvalidAuthenticationToken" || ge.RequestID != "r-1" || ge.ClientRequestID == "" || ge.Date == "" {
		t.Fatalf("graph error = %+v", ge)
	}
}

func TestTokenSourceErrorIsWrapped(t *testing.T) {
	f := usersFixture(t)
	reauth := errors.New("sign in again")
	c := newClient(t, f, &tokens{err: reauth}, &sleeps{})
	_, err := collectUsers(t, c)
	if !errors.Is(err, reauth) || len(f.requests) != 0 {
		t.Fatalf("err = %v after %d requests", err, len(f.requests))
	}
}

func TestForbiddenIsTypedAndNotRetried(t *testing.T) {
	f := usersFixture(t)
	f.push(status(403, "", "Authorization_RequestDenied", "Insufficient privileges to complete the operation."))
	c := newClient(t, f, &tokens{}, &sleeps{})
	_, err := collectUsers(t, c)
	if !errors.Is(err, ErrForbidden) || len(f.requests) != 1 || !strings.Contains(err.Error(), "admin consent") {
		t.Fatalf("err = %v after %d requests", err, len(f.requests))
	}
}

func TestNextLinkToForeignHostRefused(t *testing.T) {
	f := newFixture(t)
	f.pages["/v1.0/users?$select="+UserSelect+"&$top=2"] = fmt.Sprintf(userPage1, "https://evil.example")
	c := newClient(t, f, &tokens{}, &sleeps{})
	_, err := collectUsers(t, c)
	if err == nil || !strings.Contains(err.Error(), "another host") {
		t.Fatalf("err = %v", err)
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	f := usersFixture(t)
	f.push(status(429, "30", "TooManyRequests", "x"))
	ctx, cancel := context.WithCancel(context.Background())
	c, _ := New(f.srv.Client(), f.srv.URL, &tokens{}, Options{PageSize: 2, Sleep: func(ctx context.Context, d time.Duration) error {
		cancel() // the user clicks Cancel while we wait out Retry-After
		<-ctx.Done()
		return ctx.Err()
	}})
	err := c.Users(ctx, func([]User) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestSKUsAndServicePrincipals(t *testing.T) {
	f := newFixture(t)
	f.pages["/v1.0/subscribedSkus"] = `{"@odata.context":"x","value":[{"accountName":"Contoso","accountId":"t1","appliesTo":"User","capabilityStatus":"Enabled","consumedUnits":14,"id":"t1_sku-e3","prepaidUnits":{"enabled":25,"suspended":1,"warning":2,"lockedOut":3},"servicePlans":[{"servicePlanId":"p1","servicePlanName":"EXCHANGE_S_ENTERPRISE","provisioningStatus":"Success","appliesTo":"User"}],"skuId":"sku-e3","skuPartNumber":"ENTERPRISEPACK","subscriptionIds":["s1"]}]}`
	f.pages["/v1.0/servicePrincipals?$select="+ServicePrincipalSelect+"&$top=2"] = `{"value":[{"id":"sp1","appId":"a1","displayName":"Office 365 Exchange Online","appDisplayName":"Office 365 Exchange Online","publisherName":"Microsoft Services","appOwnerOrganizationId":"f8cdef31-a31e-4b4a-93e4-5f571e91255a","servicePrincipalType":"Application","accountEnabled":true,"tags":[]}]}`
	c := newClient(t, f, &tokens{}, &sleeps{})
	skus, err := c.SubscribedSKUs(context.Background())
	if err != nil || len(skus) != 1 || skus[0].PrepaidUnits.LockedOut != 3 || skus[0].ServicePlans[0].ServicePlanName != "EXCHANGE_S_ENTERPRISE" {
		t.Fatalf("skus = %+v, %v", skus, err)
	}
	var sps []ServicePrincipal
	err = c.ServicePrincipals(context.Background(), func(p []ServicePrincipal) error { sps = append(sps, p...); return nil })
	if err != nil || len(sps) != 1 || sps[0].AppOwnerOrganizationID != "f8cdef31-a31e-4b4a-93e4-5f571e91255a" || sps[0].Tags == nil {
		t.Fatalf("sps = %+v, %v", sps, err)
	}
}

const activeCSV = "\ufeffReport Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date,Has Exchange License,Exchange Last Activity Date,Copilot Last Activity Date,Assigned Products\r\n" +
	"2026-11-23,adele@contoso.example,Adele Vance,False,,True,2026-11-20,2026-11-19,OFFICE 365 E3+MICROSOFT TEAMS\r\n" +
	"2026-11-23,0123456789ABCDEF0123456789ABCDEF,\"Vance, Adele\",False,,yes,not-a-date,,\r\n"

func TestReportRedirectWithoutAuthorization(t *testing.T) {
	var dlAuth []string
	dl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dlAuth = append(dlAuth, r.Header.Get("Authorization"))
		if len(dlAuth) == 1 { // the first download breaks off
			truncated(w, r, activeCSV)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		fmt.Fprint(w, activeCSV)
	}))
	defer dl.Close()
	f := newFixture(t)
	path := "/v1.0/reports/getOffice365ActiveUserDetail(period='D30')"
	f.pages[path] = ""
	redirect := func(w http.ResponseWriter, r *http.Request, _ string) bool {
		if r.Header.Get("Authorization") == "" {
			t.Error("report call without Authorization")
		}
		http.Redirect(w, r, dl.URL+"/download/report.csv?sig=secret", http.StatusFound)
		return true
	}
	f.push(redirect, redirect)
	c := newClient(t, f, &tokens{}, &sleeps{})
	var rows []ReportRow
	err := c.Report(context.Background(), testSpec(inventory.ReportActiveUsers), func(p []ReportRow) error {
		for _, r := range p {
			r.Cells = append([]string(nil), r.Cells...)
			rows = append(rows, r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(dlAuth) != 2 || dlAuth[0] != "" || dlAuth[1] != "" {
		t.Fatalf("download Authorization headers %q", dlAuth)
	}
	spec := testSpec(inventory.ReportActiveUsers)
	if len(rows) != 2 {
		t.Fatalf("%d rows (duplicates after the retry?)", len(rows))
	}
	cell := func(r int, h string) string { return rows[r].Cells[spec.Column(h)] }
	if cell(0, "Report Refresh Date") != "2026-11-23" || cell(0, "Has Exchange License") != "True" || cell(0, "Is Deleted") != "False" ||
		cell(0, "Exchange Last Activity Date") != "2026-11-20" || cell(0, "Assigned Products") != "OFFICE 365 E3+MICROSOFT TEAMS" ||
		cell(0, "Teams Last Activity Date") != "" || rows[0].Extras["Copilot Last Activity Date"] != "2026-11-19" {
		t.Fatalf("row 0 = %+v", rows[0])
	}
	if cell(1, "Display Name") != "Vance, Adele" || cell(1, "Has Exchange License") != "True" || cell(1, "Exchange Last Activity Date") != "" ||
		rows[1].Extras["Exchange Last Activity Date"] != "not-a-date" || !inventory.LooksConcealed(cell(1, "User Principal Name")) {
		t.Fatalf("row 1 = %+v", rows[1])
	}
}

func TestReportForbiddenS2S(t *testing.T) {
	f := newFixture(t)
	f.push(status(403, "", "UnknownError", `{"error":{"code":"S2SUnauthorized","message":"Invalid permission."}}`))
	c := newClient(t, f, &tokens{}, &sleeps{})
	err := c.Report(context.Background(), testSpec(inventory.ReportAppUsage), func([]ReportRow) error { return nil })
	var ge *GraphError
	if !errors.Is(err, ErrForbidden) || !errors.As(err, &ge) || !ge.S2SUnauthorized() || !strings.Contains(err.Error(), "Reports Reader") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 19, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{"3": 3 * time.Second, "0.25": 250 * time.Millisecond, "Wed, 25 Nov 2026 19:00:10 GMT": 10 * time.Second} {
		if d, ok := parseRetryAfter(in, now); !ok || d != want {
			t.Errorf("%q -> %v %v", in, d, ok)
		}
	}
	for _, in := range []string{"", "soon", "-1", "NaN"} {
		if _, ok := parseRetryAfter(in, now); ok {
			t.Errorf("%q accepted", in)
		}
	}
}

// TestUsersPagesHeldDoNotBlockLicenses: a users page's callback may wait
// for the licenses (the importer stages users only once the SKUs are in).
// With every PagesInMemory slot held by such callbacks, the licenses must
// still be read: they once needed a slot too, and the import hung.
func TestUsersPagesHeldDoNotBlockLicenses(t *testing.T) {
	f := newFixture(t)
	f.pages["/v1.0/users?$select="+UserSelect+"&$top=2"] = fmt.Sprintf(userPage1, f.srv.URL)
	f.pages["/v1.0/users?$select=x&$top=2&$skiptoken=RFNwdAIAAQAAAA"] = userPage2
	f.pages["/v1.0/subscribedSkus"] = `{"value":[{"accountName":"Contoso","accountId":"t1","appliesTo":"User","capabilityStatus":"Enabled","consumedUnits":1,"id":"t1_sku-e3","prepaidUnits":{"enabled":1,"suspended":0,"warning":0,"lockedOut":0},"servicePlans":[],"skuId":"sku-e3","skuPartNumber":"ENTERPRISEPACK","subscriptionIds":[]}]}`
	c, err := New(f.srv.Client(), f.srv.URL, &tokens{}, Options{Sleep: (&sleeps{}).sleep, Jitter: func() float64 { return 0.5 }, PageSize: 2, PagesInMemory: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	skus := make(chan error, 1)
	err = c.Users(ctx, func([]User) error {
		// The one slot is held: read the licenses meanwhile, once.
		select {
		case err := <-skus:
			skus <- err
			return err
		default:
		}
		_, err := c.SubscribedSKUs(ctx)
		skus <- err
		return err
	})
	if err != nil {
		t.Fatalf("users with the licenses read inside the page callback: %v", err)
	}
}

// flakyTokens fails its first calls the way a dying network does on the
// way to the token endpoint, then hands out tokens.
type flakyTokens struct {
	tokens
	mu    sync.Mutex
	fails []func(ctx context.Context) error
}

func (f *flakyTokens) Token(ctx context.Context) (string, error) {
	f.mu.Lock()
	var fail func(ctx context.Context) error
	if len(f.fails) > 0 {
		fail, f.fails = f.fails[0], f.fails[1:]
	}
	f.mu.Unlock()
	if fail != nil {
		return "", fail(ctx)
	}
	return f.tokens.Token(ctx)
}

// Issue 20: a token request that stalls past the attempt's time-out, or
// is reset on the way, is retried like a Graph request, and says what
// happened when attempts run out; Microsoft's refusal stays final
// (TestTokenSourceErrorIsWrapped).
func TestTokenNetworkFaultsAreRetried(t *testing.T) {
	stall := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	reset := func(context.Context) error {
		return &url.Error{Op: "Post", URL: "https://login.example/token", Err: syscall.ECONNRESET}
	}
	f := usersFixture(t)
	ts := &flakyTokens{fails: []func(context.Context) error{stall, reset}}
	sl := &sleeps{}
	c, err := New(f.srv.Client(), f.srv.URL, ts, Options{Sleep: sl.sleep, Jitter: func() float64 { return 0.5 }, PageSize: 2,
		AttemptTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	got, err := collectUsers(t, c)
	if err != nil {
		t.Fatalf("the faults were not retried: %v", err)
	}
	checkUsers(t, got)

	ts = &flakyTokens{}
	for range 10 {
		ts.fails = append(ts.fails, stall)
	}
	c, err = New(f.srv.Client(), f.srv.URL, ts, Options{Sleep: sl.sleep, Jitter: func() float64 { return 0.5 }, PageSize: 2,
		AttemptTimeout: 20 * time.Millisecond, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	_, err = collectUsers(t, c)
	if err == nil || !strings.Contains(err.Error(), "gave up after 3 attempts: get an access token: the Token Endpoint did not answer within 20ms") {
		t.Fatalf("err = %v", err)
	}
}

// Issue 20: a report download that stops sending is given up after
// AttemptTimeout without a byte, and the report asked for again; one that
// keeps sending, however slowly, is not cut off.
func TestStalledReportDownloadIsRetried(t *testing.T) {
	var mu sync.Mutex
	downloads := 0
	release := make(chan struct{})
	defer close(release)
	dl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		downloads++
		n := downloads
		mu.Unlock()
		w.Header().Set("Content-Type", "application/octet-stream")
		fl := w.(http.Flusher)
		switch n {
		case 1: // half the report, then nothing
			fmt.Fprint(w, activeCSV[:len(activeCSV)/2])
			fl.Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		default: // slowly: a byte at a time, each well within the time-out
			for i := range len(activeCSV) {
				fmt.Fprint(w, activeCSV[i:i+1])
				fl.Flush()
				if i%64 == 0 {
					time.Sleep(5 * time.Millisecond)
				}
			}
		}
	}))
	defer dl.Close()
	f := newFixture(t)
	f.pages["/v1.0/reports/getOffice365ActiveUserDetail(period='D30')"] = ""
	redirect := func(w http.ResponseWriter, r *http.Request, _ string) bool {
		http.Redirect(w, r, dl.URL+"/download/report.csv?sig=secret", http.StatusFound)
		return true
	}
	f.push(redirect, redirect)
	sl := &sleeps{}
	c, err := New(f.srv.Client(), f.srv.URL, &tokens{}, Options{Sleep: sl.sleep, Jitter: func() float64 { return 0.5 },
		AttemptTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	done := make(chan error, 1)
	go func() {
		done <- c.Report(context.Background(), testSpec(inventory.ReportActiveUsers), func(p []ReportRow) error { rows += len(p); return nil })
	}()
	select {
	case err = <-done:
	case <-time.After(guardTimeout):
		t.Fatal("the stalled download was never given up")
	}
	if err != nil || rows != 2 || downloads != 2 {
		t.Fatalf("err %v, %d rows, %d downloads", err, rows, downloads)
	}
	if len(sl.d) != 1 {
		t.Errorf("%d retries, want 1", len(sl.d))
	}
}

// guardTimeout bounds a wait for something that must happen, in real
// time, generously for a loaded machine.
const guardTimeout = time.Minute

// A downloaded report is no file in the temporary folder while it is read
// (outside Windows, which cannot remove an open file): a beacon killed
// mid-import left its beacon-report-*.csv files there. It stays readable,
// and Close still succeeds.
func TestReportFileLeavesNothingWhenKilled(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows cannot remove an open file: Close removes it")
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	f := newFixture(t)
	f.pages["/v1.0/reports/getOffice365ActiveUserDetail(period='D30')"] = activeCSV
	c := newClient(t, f, &tokens{}, &sleeps{})
	rf, err := c.DownloadReport(context.Background(), testSpec(inventory.ReportActiveUsers))
	if err != nil {
		t.Fatal(err)
	}
	if names, _ := filepath.Glob(filepath.Join(tmp, "*")); len(names) != 0 {
		t.Errorf("the report is in the temporary folder while read: %q", names)
	}
	n := 0
	if err := rf.Rows(func(p []ReportRow) error { n += len(p); return nil }); err != nil || n != 2 {
		t.Errorf("read %d rows, %v; want 2", n, err)
	}
	if err := rf.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}
