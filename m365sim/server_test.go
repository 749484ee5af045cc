package m365sim

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func start(t *testing.T, o Options) *Server {
	t.Helper()
	if o.Users == 0 {
		o.Users = 60
	}
	s, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func get(t *testing.T, c *http.Client, url, token string) (*http.Response, []byte, error) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestStartServesGraphAndIdentity(t *testing.T) {
	s := start(t, Options{Seed: 3})
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") || s.CAFile() != "" {
		t.Fatalf("URL %s CAFile %q", s.URL(), s.CAFile())
	}
	tok := s.MintAccessToken("admin@" + s.Tenant().Domain)
	resp, body, err := get(t, http.DefaultClient, s.URL()+"/v1.0/users?$top=5", tok)
	if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), `"@odata.nextLink":"`+s.URL()+`/v1.0/users?`) {
		t.Fatalf("users: %v %v %s", err, resp, body)
	}
	// Client credentials through the identity platform, then Graph.
	id, secret := s.ClientCredentialsApp()
	form := url.Values{"client_id": {id}, "client_secret": {secret}, "grant_type": {"client_credentials"},
		"scope": {"https://graph.microsoft.com/.default"}}
	tr, err := http.PostForm(s.TokenEndpoint(), form)
	if err != nil {
		t.Fatal(err)
	}
	var tb struct {
		AccessToken string `json:"access_token"`
	}
	b, _ := io.ReadAll(tr.Body)
	tr.Body.Close()
	if err := json.Unmarshal(b, &tb); err != nil || tb.AccessToken == "" {
		t.Fatalf("token endpoint: %d %s", tr.StatusCode, b)
	}
	resp, body, _ = get(t, http.DefaultClient, s.URL()+"/v1.0/subscribedSkus?$select=skuPartNumber", tb.AccessToken)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "SPE_E3") {
		t.Fatalf("subscribedSkus with an app token: %d %s", resp.StatusCode, body)
	}
	resp, _, _ = get(t, http.DefaultClient, s.URL()+"/v1.0/users", s.MintAppToken())
	if resp.StatusCode != 200 {
		t.Errorf("MintAppToken: %d", resp.StatusCode)
	}
	st := s.Stats()
	if st.Requests != 4 || st.GraphRequests != 3 || st.IdentityRequests != 1 || len(st.Faults) != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestRefusesNonLoopback(t *testing.T) {
	if _, err := Start(Options{Addr: "0.0.0.0:0"}); err == nil {
		t.Fatal("listening on all interfaces must be refused")
	}
	if _, err := Start(Options{Faults: []FaultKind{"boom"}}); err == nil {
		t.Fatal("unknown fault kind accepted")
	}
}

func TestTLSWithGeneratedCA(t *testing.T) {
	dir := t.TempDir()
	s := start(t, Options{TLS: true, CADir: dir})
	if !strings.HasPrefix(s.URL(), "https://127.0.0.1:") || !strings.HasPrefix(s.CAFile(), dir) {
		t.Fatalf("URL %s CA %s", s.URL(), s.CAFile())
	}
	pemBytes, err := os.ReadFile(s.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(pemBytes)
	ca, err := x509.ParseCertificate(blk.Bytes)
	if err != nil || !ca.IsCA {
		t.Fatalf("CA file: %v", err)
	}
	// A plain client does not trust it; one with the CA does, on both
	// 127.0.0.1 and localhost.
	if _, _, err := get(t, &http.Client{}, s.URL()+"/v1.0/users", ""); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted CA accepted: %v", err)
	}
	tok := s.MintAccessToken("reader@" + s.Tenant().Domain)
	for _, u := range []string{s.URL(), strings.Replace(s.URL(), "127.0.0.1", "localhost", 1)} {
		resp, body, err := get(t, s.Client(), u+"/v1.0/users?$top=1", tok)
		if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), `"@odata.nextLink":"`+u) {
			t.Fatalf("%s: %v %s", u, err, body)
		}
	}
}

// The fault rate is met, faults are counted by kind, identity is spared,
// and the same seed gives the same sequence.
func TestFaultsAtConfiguredRate(t *testing.T) {
	run := func() ([]int, Stats) {
		s := start(t, Options{Seed: 9, FaultRate: 0.3, Faults: []FaultKind{Fault503, Fault504}, FaultRetryAfter: 2 * time.Second})
		tok := s.MintAccessToken("admin@" + s.Tenant().Domain)
		var statuses []int
		for i := 0; i < 200; i++ {
			resp, body, err := get(t, http.DefaultClient, s.URL()+"/v1.0/users?$top=1", tok)
			if err != nil {
				t.Fatal(err)
			}
			statuses = append(statuses, resp.StatusCode)
			if resp.StatusCode == 503 && (resp.Header.Get("Retry-After") != "2" || !strings.Contains(string(body), `"innerError"`)) {
				t.Fatalf("503: Retry-After %q %s", resp.Header.Get("Retry-After"), body)
			}
		}
		// Identity is not faulted.
		for i := 0; i < 20; i++ {
			resp, _, err := get(t, http.DefaultClient, s.URL()+"/common/v2.0/.well-known/openid-configuration", "")
			if err != nil || resp.StatusCode >= 500 {
				t.Fatalf("identity request faulted: %v %v", err, resp)
			}
		}
		return statuses, s.Stats()
	}
	a, st := run()
	failed := 0
	for _, c := range a {
		if c == 503 || c == 504 {
			failed++
		} else if c != 200 {
			t.Fatalf("status %d", c)
		}
	}
	if failed < 40 || failed > 80 {
		t.Errorf("%d of 200 requests failed at rate 0.3", failed)
	}
	if int(st.Faults[Fault503]+st.Faults[Fault504]) != failed || st.Faults[Fault503] == 0 || st.Faults[Fault504] == 0 {
		t.Errorf("stats %+v, observed %d", st.Faults, failed)
	}
	b, _ := run()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("request %d: %d then %d: faults must be deterministic", i, a[i], b[i])
		}
	}
}

func TestResetAndTruncatedFaults(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		s := start(t, Options{FaultRate: 1, Faults: []FaultKind{FaultReset}, TLS: useTLS})
		tok := s.MintAccessToken("admin@" + s.Tenant().Domain)
		_, _, err := get(t, s.Client(), s.URL()+"/v1.0/users", tok)
		if err == nil || !(errors.Is(err, syscall.ECONNRESET) || strings.Contains(err.Error(), "EOF")) {
			t.Errorf("reset (TLS %v): %v", useTLS, err)
		}
		s = start(t, Options{FaultRate: 1, Faults: []FaultKind{FaultTruncated}, TLS: useTLS})
		tok = s.MintAccessToken("admin@" + s.Tenant().Domain)
		for _, path := range []string{"/v1.0/users?$top=999", "/v1.0/users?$top=1000" /* a short error body */} {
			resp, body, err := get(t, s.Client(), s.URL()+path, tok)
			if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("%s truncated (TLS %v): %v %v %d bytes", path, useTLS, err, resp, len(body))
			}
		}
		if st := s.Stats(); st.Faults[FaultTruncated] != 2 {
			t.Errorf("stats %+v", st)
		}
	}
}

func TestSlowBodyFault(t *testing.T) {
	s := start(t, Options{FaultRate: 1, Faults: []FaultKind{FaultSlowBody}, SlowBodyDelay: time.Minute})
	tok := s.MintAccessToken("admin@" + s.Tenant().Domain)
	c := &http.Client{Timeout: 300 * time.Millisecond}
	_, _, err := get(t, c, s.URL()+"/v1.0/users", tok)
	if err == nil || !strings.Contains(err.Error(), "Client.Timeout") {
		t.Errorf("slow body must run past the client's time-out: %v", err)
	}
	// Close ends stalled responses promptly.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL()+"/v1.0/users", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := io.ReadAll(resp.Body); done <- err }()
	t0 := time.Now()
	_ = s.Close()
	<-done
	if el := time.Since(t0); el > 5*time.Second {
		t.Errorf("Close took %v with a stalled response", el)
	}
}

func TestThrottleHonouredThroughServer(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	s := start(t, Options{Throttle: true, ThrottleUnits: 3, Now: clk.Now})
	tok := s.MintAccessToken("admin@" + s.Tenant().Domain)
	ok, throttled := 0, 0
	for i := 0; i < 10; i++ {
		resp, _, err := get(t, http.DefaultClient, s.URL()+"/v1.0/users?$select=id", tok)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == 429 {
			throttled++
			ra, _ := time.ParseDuration(resp.Header.Get("Retry-After") + "s")
			clk.Advance(ra) // a client honouring Retry-After
			continue
		}
		ok++
	}
	if throttled == 0 || ok < 5 || s.Stats().Throttled != int64(throttled) {
		t.Errorf("%d ok, %d throttled, stats %+v", ok, throttled, s.Stats())
	}
}

func TestMutationVisibleThroughServer(t *testing.T) {
	s := start(t, Options{Users: 200, Seed: 4})
	before := s.Tenant().CountUsers("")
	sum := s.Tenant().Mutate(1, 0.1)
	tok := s.MintAccessToken("admin@" + s.Tenant().Domain)
	req, _ := http.NewRequest("GET", s.URL()+"/v1.0/users/$count", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("ConsistencyLevel", "eventual")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := before + sum.Added - sum.Deleted; string(b) != itoa(want) {
		t.Errorf("$count %s, want %d", b, want)
	}
	if _, err := tenant.Generate(1, 4).AddUser(tenant.User{UserPrincipalName: "x@y"}); err != nil {
		t.Error(err)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestFaultIdentityAndLatency(t *testing.T) {
	s := start(t, Options{FaultRate: 1, Faults: []FaultKind{Fault503}, FaultIdentity: true})
	resp, _, err := get(t, http.DefaultClient, s.URL()+"/common/v2.0/.well-known/openid-configuration", "")
	if err != nil || resp.StatusCode != 503 {
		t.Fatalf("identity with FaultIdentity: %v %v", err, resp)
	}
	s = start(t, Options{Latency: 80 * time.Millisecond})
	t0 := time.Now()
	resp, _, err = get(t, http.DefaultClient, s.URL()+"/v1.0/users", s.MintAccessToken("admin@"+s.Tenant().Domain))
	if err != nil || resp.StatusCode != 200 || time.Since(t0) < 80*time.Millisecond {
		t.Fatalf("latency: %v %v after %v", err, resp, time.Since(t0))
	}
}
