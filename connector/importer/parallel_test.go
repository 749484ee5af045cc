package importer

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// dump renders the current snapshot's content as the data pages read it:
// users by object id (the parallel mode stores them in another order),
// licenses, applications and report rows.
func (e *env) dump() string {
	t := e.t
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	users, err := e.store.Users(ctx, e.conn.ID, inventory.Query{Sort: "id"})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		fmt.Fprintf(&b, "user %+v\n", u)
	}
	lics, err := e.store.Licenses(ctx, e.conn.ID, inventory.Query{})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lics {
		fmt.Fprintf(&b, "license %+v\n", l)
	}
	apps, err := e.store.Applications(ctx, e.conn.ID, inventory.Query{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range apps {
		fmt.Fprintf(&b, "app %+v\n", a)
	}
	for _, k := range inventory.ReportKinds {
		rows, err := e.store.ReportRows(ctx, e.conn.ID, k, inventory.Query{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			fmt.Fprintf(&b, "%s %+v\n", k, r)
		}
	}
	cur, err := e.store.CurrentRun(ctx, e.conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "counts %+v\n", cur.Counts)
	return b.String()
}

// sameDump fails with the first differing line.
func sameDump(t *testing.T, what, got, want string) {
	t.Helper()
	if got == want {
		return
	}
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			t.Fatalf("%s: line %d differs:\n got %s\nwant %s", what, i, g[i], w[i])
		}
	}
	t.Fatalf("%s: %d lines, want %d", what, len(g), len(w))
}

// TestShardedEqualsSequential: the default (sharded, concurrent) mode
// leaves exactly what the sequential reference leaves, also when requests
// fail and are throttled.
func TestShardedEqualsSequential(t *testing.T) {
	for _, c := range []struct {
		name string
		o    m365sim.Options
	}{
		{"clean", m365sim.Options{Users: 1200}},
		{"faults and throttling", m365sim.Options{Users: 900, Throttle: true, ThrottleUnits: 30, FaultRate: 0.1,
			Faults: []m365sim.FaultKind{m365sim.Fault503, m365sim.Fault504, m365sim.FaultReset, m365sim.FaultTruncated}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, c.o)
			e.opts.PageSize = 40
			e.sequential = true
			res := e.mustRun()
			if res.Mode != ModeSequential {
				t.Fatalf("mode %q", res.Mode)
			}
			want := e.dump()
			e.sequential = false
			res = e.mustRun()
			if res.Mode != ModeSharded {
				t.Fatalf("mode %q, want the sharded listing", res.Mode)
			}
			sameDump(t, "sharded vs sequential", e.dump(), want)
			e.sim.SetFaultRate(0)
			e.clk.Advance(11 * time.Minute)
			e.checkAll()
		})
	}
}

// rewrite lets a test alter the simulator's answers on the client side.
type rewrite struct {
	next http.RoundTripper
	fn   func(*http.Request, func() (*http.Response, error)) (*http.Response, error)
}

func (r rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	return r.fn(req, func() (*http.Response, error) { return r.next.RoundTrip(req) })
}

func textResponse(req *http.Request, status int, body string) *http.Response {
	return &http.Response{StatusCode: status, Status: strconv.Itoa(status) + " " + http.StatusText(status),
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: req, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
}

// filtered says whether req is a users shard's listing or count (the
// licensing groups' query has a filter of its own).
func filtered(req *http.Request) bool { return strings.Contains(req.URL.RawQuery, "filter=startswith") }

// TestShardFallback: whenever the shards cannot be trusted the users are
// listed in one plain pass, and the snapshot is still the tenant's.
func TestShardFallback(t *testing.T) {
	unsupported := `{"error":{"code":"Request_UnsupportedQuery","message":"Unsupported Query."}}`
	for _, c := range []struct {
		name  string
		setup func(e *env)
		fn    func(req *http.Request, next func() (*http.Response, error)) (*http.Response, error)
	}{
		{name: "filter rejected", fn: func(req *http.Request, next func() (*http.Response, error)) (*http.Response, error) {
			if filtered(req) {
				return textResponse(req, 400, unsupported), nil
			}
			return next()
		}},
		{name: "filtered listing rejected after the counts", fn: func(req *http.Request, next func() (*http.Response, error)) (*http.Response, error) {
			if filtered(req) && !strings.HasSuffix(req.URL.Path, "/$count") {
				return textResponse(req, 400, unsupported), nil
			}
			return next()
		}},
		{name: "total disagrees", fn: func(req *http.Request, next func() (*http.Response, error)) (*http.Response, error) {
			resp, err := next()
			if err == nil && strings.HasSuffix(req.URL.Path, "/$count") && !filtered(req) {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				n, _ := strconv.Atoi(string(b))
				s := strconv.Itoa(n + 1)
				resp.Body, resp.ContentLength = io.NopCloser(strings.NewReader(s)), int64(len(s))
			}
			return resp, err
		}},
		{name: "user outside every shard", setup: func(e *env) {
			ten := e.sim.Tenant()
			if _, err := ten.AddUser(tenant.User{UserPrincipalName: "élodie@" + ten.Domain, DisplayName: "Élodie"}); err != nil {
				e.t.Fatal(err)
			}
		}},
		{name: "a shard lists fewer users than counted", fn: func() func(req *http.Request, next func() (*http.Response, error)) (*http.Response, error) {
			var dropped atomic.Bool
			return func(req *http.Request, next func() (*http.Response, error)) (*http.Response, error) {
				resp, err := next()
				// The first filtered page of the 'a' shard comes back empty
				// and final: an eventually consistent replica behind.
				if err == nil && filtered(req) && !strings.HasSuffix(req.URL.Path, "/$count") &&
					strings.Contains(req.URL.Query().Get("$filter"), "'a'") && !dropped.Swap(true) {
					resp.Body.Close()
					return textResponse(req, 200, `{"value":[]}`), nil
				}
				return resp, err
			}
		}()},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, m365sim.Options{Users: 500})
			e.opts.PageSize = 60
			if c.setup != nil {
				c.setup(e)
			}
			if c.fn != nil {
				e.wrap = func(rt http.RoundTripper) http.RoundTripper { return rewrite{next: rt, fn: c.fn} }
			}
			res := e.mustRun()
			if res.Mode != ModePlain {
				t.Fatalf("mode %q, want the plain fallback", res.Mode)
			}
			e.checkAll()
		})
	}
}

// TestSubShards: a shard longer than the listing needs is counted again by
// its first two characters and listed as those sub-shards; the snapshot is
// still the sequential one. A second character outside SubShardChars
// makes that shard's sub-counts fall short, and it is listed whole
// instead, still sharded and still complete.
func TestSubShards(t *testing.T) {
	for _, c := range []struct {
		name      string
		odd       string // a user whose second character no sub-shard has
		wantWhole bool
	}{
		{name: "split"},
		{name: "odd second character", odd: "j&r", wantWhole: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, m365sim.Options{Users: 1500})
			e.opts.PageSize = 30
			e.concurrency = 32
			if c.odd != "" {
				ten := e.sim.Tenant()
				if _, err := ten.AddUser(tenant.User{UserPrincipalName: c.odd + "@" + ten.Domain, DisplayName: "Odd"}); err != nil {
					t.Fatal(err)
				}
			}
			// Which shard is longest, and so split.
			per := map[string]int{}
			ten := e.sim.Tenant()
			ten.RLock()
			for _, u := range ten.Users {
				per[strings.ToLower(u.UserPrincipalName[:1])]++
			}
			ten.RUnlock()
			longest, pages := "", 0
			for p, n := range per {
				if n > per[longest] {
					longest = p
				}
				pages += (n + 29) / 30
			}
			if c.odd != "" {
				longest = c.odd[:1]
			}
			if !SplitShard(per[longest], pages, 32, 30) {
				t.Fatalf("shard %q (%d users, %d pages in all) would not be split; the test needs it", longest, per[longest], pages)
			}
			var mu sync.Mutex
			listed := map[string]bool{}
			e.wrap = func(rt http.RoundTripper) http.RoundTripper {
				return rewrite{next: rt, fn: func(req *http.Request, next func() (*http.Response, error)) (*http.Response, error) {
					if filtered(req) && !strings.HasSuffix(req.URL.Path, "/$count") {
						f := req.URL.Query().Get("$filter")
						mu.Lock()
						listed[f[strings.Index(f, "'")+1:strings.LastIndex(f, "'")]] = true
						mu.Unlock()
					}
					return next()
				}}
			}
			e.sequential = true
			e.mustRun()
			want := e.dump()
			e.sequential = false
			res := e.mustRun()
			if res.Mode != ModeSharded {
				t.Fatalf("mode %q, want the sharded listing", res.Mode)
			}
			sameDump(t, "sub-sharded vs sequential", e.dump(), want)
			mu.Lock()
			defer mu.Unlock()
			subs := 0
			for p := range listed {
				if len(p) == 2 && p[:1] == longest {
					subs++
				}
			}
			if c.wantWhole {
				if !listed[longest] || subs > 0 {
					t.Fatalf("shard %q: listed whole %v, %d sub-shards listed; want it whole", longest, listed[longest], subs)
				}
				return
			}
			if listed[longest] || subs < 2 {
				t.Fatalf("shard %q: listed whole %v, %d sub-shards listed; want it split", longest, listed[longest], subs)
			}
		})
	}
}
