package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

// The standalone simulator prints its endpoints and accounts, serves, and
// stops when its context ends (SIGINT/SIGTERM in main).
func TestRunPrintsEndpointsAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"--users", "80", "--seed", "2", "--tls"}, pw); pw.Close() }()
	sc := bufio.NewScanner(pr)
	var out []string
	graph := ""
	for sc.Scan() {
		line := sc.Text()
		out = append(out, line)
		if strings.Contains(line, "Graph endpoint:") {
			graph = strings.Fields(strings.SplitN(line, "Graph endpoint:", 2)[1])[0]
		}
		if strings.HasPrefix(line, "Press Ctrl+C") {
			break
		}
	}
	text := strings.Join(out, "\n")
	for _, want := range []string{"80 users", "Token endpoint:", "CA certificate (trust it):", "admin@", "Sim-Admin-2024!",
		"cloudadmin@", "reader@", "user@", "5bb1a5a2-0d97-4335-9448-119f7b27aff9", "Client credentials:"} {
		if !strings.Contains(text, want) {
			t.Errorf("banner lacks %q:\n%s", want, text)
		}
	}
	if !strings.HasPrefix(graph, "https://127.0.0.1:") {
		t.Fatalf("graph endpoint %q", graph)
	}
	go io.Copy(io.Discard, pr)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop after its context ended")
	}
	// Any answer, even a TLS handshake, means it is still listening. A
	// refused connection says nothing listens; a reset before any answer
	// says the same of our server (a make test run once got one: the
	// freed port had been taken by another package's test server, or the
	// closed listener's backlog was being torn down).
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	if _, err := insecure.Get(graph + "/v1.0/users"); err == nil ||
		!(errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)) {
		t.Errorf("still serving after shutdown: %v", err)
	}
}

// By default refresh tokens behave as Entra's (a redeemed one keeps
// working); --single-use-refresh-tokens, with an optional
// --refresh-grace, is the strict mode tests use.
func TestRefreshTokenFlags(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		singleUse bool
		grace     time.Duration
	}{
		{nil, false, 0},
		{[]string{"--single-use-refresh-tokens"}, true, 0},
		{[]string{"--single-use-refresh-tokens", "--refresh-grace", "1m"}, true, time.Minute},
	} {
		c, err := parseArgs(tc.args)
		if err != nil || c.o.SingleUseRefreshTokens != tc.singleUse || c.o.RefreshGrace != tc.grace {
			t.Errorf("%v: %v, single use %v grace %s", tc.args, err, c.o.SingleUseRefreshTokens, c.o.RefreshGrace)
		}
	}
	// The flag reaches the server: a redeemed token is refused.
	c, _ := parseArgs([]string{"--users", "20", "--single-use-refresh-tokens"})
	s, err := m365sim.Start(c.o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rt, err := s.Identity().IssueRefreshToken(tenant.DefaultClientID, "admin@"+s.Tenant().Domain, "offline_access User.Read")
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{http.StatusOK, http.StatusBadRequest} {
		resp, err := http.PostForm(s.TokenEndpoint(), url.Values{"client_id": {tenant.DefaultClientID}, "grant_type": {"refresh_token"}, "refresh_token": {rt}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("redemption %d: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--faults", "boom"}, {"--fault-rate", "2"}, {"--addr", "0.0.0.0:0"},
		{"--refresh-grace", "1m"}, {"--single-use-refresh-tokens", "--refresh-grace", "-1s"}} {
		if err := run(context.Background(), args, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

// --ready-json prints one machine-readable line whose endpoints and client
// credentials work, and whose seed, size and reference date rebuild the
// very tenant served (tenant.GenerateAt is deterministic for a seed and a
// day): the soak tests compare imports with that rebuilt tenant.
func TestReadyJSONDescribesTheServedTenant(t *testing.T) {
	info := startReady(t, "--users", "60", "--seed", "9")
	if info.URL == "" || info.Seed != 9 || info.Users != 60 || info.Reference.IsZero() || info.PID == 0 || info.HistoryDays != 0 {
		t.Fatalf("ready line: %+v", info)
	}
	want := tenant.GenerateAt(info.Seed, info.Users, info.Reference)
	if want.ID != info.TenantID || want.Domain != info.Domain {
		t.Fatalf("rebuilt tenant %s/%s, served %s/%s", want.ID, want.Domain, info.TenantID, info.Domain)
	}
	sameUsers(t, servedUsers(t, info), want)
}

// --history 60d serves a tenant generated 60 days ago and aged a day at a
// time up to today: the ready line says so, and rebuilding it that way
// gives the very users served, which are not those of a tenant generated
// today.
func TestHistoryServesAnAgedTenant(t *testing.T) {
	const days = 60
	info := startReady(t, "--users", "60", "--seed", "9", "--history", "60d")
	if info.HistoryDays != days || info.Users != 60 {
		t.Fatalf("ready line: %+v", info)
	}
	today := clock.Now().UTC().Truncate(24 * time.Hour)
	if age := today.Sub(info.Reference); age < (days-1)*24*time.Hour || age > (days+1)*24*time.Hour {
		t.Fatalf("generated as of %s, want %d days before %s", info.Reference, days, today)
	}
	served := servedUsers(t, info)
	fresh := tenant.GenerateAt(info.Seed, info.Users, info.Reference)
	if len(served) == len(fresh.Users) {
		t.Errorf("the aged tenant has as many users as a fresh one (%d): nobody joined or left in %d days", len(served), days)
	}
	clk := tenant.NewDayClock(func() time.Time { return info.Reference.AddDate(0, 0, days) }, days)
	fresh.Clock = clk.Now
	if err := fresh.AgeDays(info.Seed, days, tenant.HistoryFraction, clk, nil); err != nil {
		t.Fatal(err)
	}
	sameUsers(t, served, fresh)
	if _, err := parseArgs([]string{"--history", "a year"}); err == nil {
		t.Error("--history \"a year\" accepted")
	}
}

// startReady runs the simulator with args and --ready-json until the test
// ends, and returns its ready line.
func startReady(t *testing.T, args ...string) m365sim.ReadyInfo {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, append(args, "--ready-json"), pw); pw.Close() }()
	sc := bufio.NewScanner(pr)
	var info m365sim.ReadyInfo
	for sc.Scan() {
		if js, ok := strings.CutPrefix(sc.Text(), m365sim.ReadyPrefix); ok {
			if err := json.Unmarshal([]byte(js), &info); err != nil {
				t.Fatalf("ready line %q: %v", sc.Text(), err)
			}
			break
		}
	}
	go io.Copy(io.Discard, pr)
	t.Cleanup(func() { cancel(); <-done })
	return info
}

// servedUsers signs in with the ready line's client credentials and lists
// the users Graph serves: "upn|display name" by id.
func servedUsers(t *testing.T, info m365sim.ReadyInfo) map[string]string {
	t.Helper()
	form := url.Values{"client_id": {info.ClientCredentialsID}, "client_secret": {info.ClientCredentialsSecret},
		"grant_type": {"client_credentials"}, "scope": {"https://graph.microsoft.com/.default"}}
	resp, err := http.PostForm(info.TokenEndpoint, form)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("client credentials: HTTP %d, %v", resp.StatusCode, err)
	}
	req, _ := http.NewRequest(http.MethodGet, info.GraphEndpoint+"/v1.0/users?$top=999&$select=id,userPrincipalName,displayName", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Value []struct{ ID, UserPrincipalName, DisplayName string }
	}
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]string{}
	for _, u := range page.Value {
		served[u.ID] = u.UserPrincipalName + "|" + u.DisplayName
	}
	return served
}

// sameUsers checks Graph served exactly want's users.
func sameUsers(t *testing.T, served map[string]string, want *tenant.Tenant) {
	t.Helper()
	if len(served) != len(want.Users) {
		t.Fatalf("Graph lists %d users, the rebuilt tenant has %d", len(served), len(want.Users))
	}
	for _, u := range want.Users {
		if served[u.ID] != u.UserPrincipalName+"|"+u.DisplayName {
			t.Fatalf("user %s: served %q, rebuilt %q", u.ID, served[u.ID], u.UserPrincipalName+"|"+u.DisplayName)
		}
	}
}
