package graph_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/m365sim/accesstoken"
	"github.com/inventorybeacon/beacon/m365sim/graph"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var testKey = []byte("0123456789abcdef0123456789abcdef")

// clock is an injected clock tests advance by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	t     *testing.T
	ten   *tenant.Tenant
	clk   *clock
	h     *graph.Handler
	srv   *httptest.Server
	admin string // delegated token of admin@
}

func newEnv(t *testing.T, users int, mod func(*graph.Options)) *env {
	t.Helper()
	clk := &clock{t: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	ten := tenant.GenerateAt(1, users, clk.Now())
	ten.Clock = clk.Now
	o := graph.Options{Tenant: ten, SigningKey: testKey, Now: clk.Now, DeltaPageSize: 50}
	if mod != nil {
		mod(&o)
	}
	h := graph.New(o)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{t: t, ten: ten, clk: clk, h: h, srv: srv}
	e.admin = e.userToken("admin", "Directory.Read.All", "Reports.Read.All")
	return e
}

func (e *env) userToken(local string, scopes ...string) string {
	u := e.ten.UserByUPN(local + "@" + e.ten.Domain)
	now := e.clk.Now()
	return accesstoken.Mint(testKey, accesstoken.Claims{
		Audience: graph.GraphResource, TenantID: e.ten.ID, AppID: tenant.DefaultClientID,
		IssuedAt: now.Unix(), NotBefore: now.Unix(), Expiry: now.Add(time.Hour).Unix(),
		ObjectID: u.ID, UPN: u.UserPrincipalName, Scopes: strings.Join(scopes, " "), ID: "t",
	})
}

func (e *env) appToken(roles ...string) string {
	now := e.clk.Now()
	return accesstoken.Mint(testKey, accesstoken.Claims{
		Audience: graph.GraphResource, TenantID: e.ten.ID, AppID: tenant.ConfidentialClientID,
		IssuedAt: now.Unix(), NotBefore: now.Unix(), Expiry: now.Add(time.Hour).Unix(),
		ObjectID: "sp", Roles: roles, ID: "a",
	})
}

// get fetches path (relative to the server, or an absolute URL) with the
// token and headers, without following redirects.
func (e *env) get(pathOrURL, token string, hdr ...string) (*http.Response, []byte) {
	e.t.Helper()
	u := pathOrURL
	if !strings.HasPrefix(u, "http") {
		u = e.srv.URL + u
	}
	req, _ := http.NewRequest("GET", u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, b
}

// page is a decoded collection page.
type page struct {
	Context   string            `json:"@odata.context"`
	Count     *int              `json:"@odata.count"`
	NextLink  string            `json:"@odata.nextLink"`
	DeltaLink string            `json:"@odata.deltaLink"`
	Value     []json.RawMessage `json:"value"`
}

func (e *env) getPage(pathOrURL, token string, hdr ...string) page {
	e.t.Helper()
	resp, b := e.get(pathOrURL, token, hdr...)
	if resp.StatusCode != 200 {
		e.t.Fatalf("GET %s: %d %s", pathOrURL, resp.StatusCode, b)
	}
	var p page
	if err := json.Unmarshal(b, &p); err != nil {
		e.t.Fatalf("GET %s: %v\n%s", pathOrURL, err, b)
	}
	return p
}

var (
	ridRE  = regexp.MustCompile(`"(request-id|client-request-id)":"[0-9a-f-]{36}"`)
	portRE = regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
)

// normalize makes a body comparable: the server's port and request ids
// vary from run to run.
func normalize(b []byte) []byte {
	b = portRE.ReplaceAll(b, []byte("http://graph.test"))
	return ridRE.ReplaceAll(b, []byte(`"$1":"<request-id>"`))
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	got = normalize(got)
	if strings.HasSuffix(name, ".json") {
		var v any
		if err := json.Unmarshal(got, &v); err != nil {
			t.Fatalf("%s: not JSON: %v\n%s", name, err, got)
		}
		var buf bytes.Buffer
		_ = json.Indent(&buf, got, "", "  ")
		got = append(buf.Bytes(), '\n')
	}
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}
