package m365sim_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

// hop is one request an HTTP client sent: where, and with which
// Authorization header.
type hop struct{ host, auth string }

// recorder sees every request of a client, redirects included.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	hops []hop
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.hops = append(r.hops, hop{req.URL.Host, req.Header.Get("Authorization")})
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

// A report call answers 302 to the same simulator under another host
// name, as Graph's answer points to reports.office.com: an HTTP client
// that follows it, as Go's does, drops the bearer token there and gets the
// CSV, over HTTP and HTTPS (the certificate covers both names), directly
// and through a real proxy (tinyproxy, CONNECT for HTTPS); and the
// download refuses Graph's token.
func TestReportDownloadOnAnotherHost(t *testing.T) {
	proxy := testenv.StartProxy(t, "", "")
	if proxy == nil {
		return
	}
	proxyURL, _ := url.Parse(proxy.URL)
	for _, useTLS := range []bool{false, true} {
		s, err := m365sim.Start(m365sim.Options{Users: 30, Seed: 3, TLS: useTLS})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		token := s.MintAccessToken(tenant.AdminLocalPart + "@" + s.Tenant().Domain)
		for _, viaProxy := range []bool{false, true} {
			t.Run(fmt.Sprintf("tls=%v proxy=%v", useTLS, viaProxy), func(t *testing.T) {
				tr := s.Client().Transport.(*http.Transport).Clone()
				tr.Proxy = nil
				if viaProxy {
					// Explicit, so that loopback names go through it too.
					tr.Proxy = http.ProxyURL(proxyURL)
				}
				rec := &recorder{next: tr}
				c := &http.Client{Transport: rec}
				req, _ := http.NewRequest(http.MethodGet, s.GraphEndpoint()+"/v1.0/reports/getOffice365ActiveUserDetail(period='D7')", nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !bytes.HasPrefix(body, []byte("\xef\xbb\xbfReport Refresh Date,User Principal Name,")) {
					t.Fatalf("%d %.100s", resp.StatusCode, body)
				}
				graphHost := strings.TrimPrefix(strings.TrimPrefix(s.GraphEndpoint(), "https://"), "http://")
				_, port, _ := strings.Cut(graphHost, ":")
				want := []hop{{graphHost, "Bearer " + token}, {"localhost:" + port, ""}}
				if fmt.Sprint(rec.hops) != fmt.Sprint(want) {
					t.Fatalf("requests %q, want the bearer on Graph only: %q", rec.hops, want)
				}
				// Sent anyway, the token is refused.
				noFollow := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
				resp, err = noFollow.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				dl, _ := http.NewRequest(http.MethodGet, resp.Header.Get("Location"), nil)
				dl.Header.Set("Authorization", "Bearer "+token)
				resp, err = noFollow.Do(dl)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusForbidden || !bytes.Contains(b, []byte("<Code>AuthenticationFailed</Code>")) {
					t.Errorf("download with Graph's token: %d %s", resp.StatusCode, b)
				}
			})
		}
	}
}
