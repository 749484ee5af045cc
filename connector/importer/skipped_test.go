package importer

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// TestOddUserIsAWarning (issue 19): a user Graph sends with
// accountEnabled as a string is left out and named in the run's warnings;
// every other user is imported, the run completes (with warnings), and in
// the parallel mode the missing user does not make the sharded listing
// look incomplete.
func TestOddUserIsAWarning(t *testing.T) {
	for _, sequential := range []bool{true, false} {
		name := map[bool]string{true: "sequential", false: "sharded"}[sequential]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, m365sim.Options{Users: 300})
			e.opts.PageSize = 60
			e.sequential = sequential
			var mangled atomic.Bool
			e.wrap = func(rt http.RoundTripper) http.RoundTripper {
				return rewrite{next: rt, fn: func(req *http.Request, next func() (*http.Response, error)) (*http.Response, error) {
					resp, err := next()
					if err != nil || req.URL.Path != "/v1.0/users" || resp.StatusCode != 200 || mangled.Load() {
						return resp, err
					}
					b, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					if err != nil {
						return nil, err
					}
					if i := bytes.Index(b, []byte(`"accountEnabled":true`)); i >= 0 && !mangled.Swap(true) {
						b = append(b[:i:i], append([]byte(`"accountEnabled":"true"`), b[i+len(`"accountEnabled":true`):]...)...)
					}
					resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
					resp.Header.Del("Content-Length")
					return resp, nil
				}}
			}
			res := e.mustRun()
			if !mangled.Load() {
				t.Fatal("no users page was altered")
			}
			if res.Status() != inventory.StatusWarnings {
				t.Fatalf("status %q, want completed with warnings; warnings %q", res.Status(), res.Warnings())
			}
			var found []string
			for _, w := range res.Warnings() {
				if strings.Contains(w, "left out") {
					found = append(found, w)
				}
			}
			if len(found) != 1 || !strings.Contains(found[0], "/accountEnabled") || !strings.Contains(found[0], "(id ") {
				t.Fatalf("warnings %q", res.Warnings())
			}
			if !sequential && res.Mode != ModeSharded {
				t.Fatalf("mode %q: the left-out user made the shards look incomplete", res.Mode)
			}
			ten := e.sim.Tenant()
			ten.RLock()
			want := len(ten.Users) - 1
			ten.RUnlock()
			if res.Counts().Users != want {
				t.Fatalf("%d users imported, want %d", res.Counts().Users, want)
			}
		})
	}
}
