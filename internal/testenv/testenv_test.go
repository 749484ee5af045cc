package testenv

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The proxy must refuse a client without credentials and serve one with them.
func TestProxyRequiresBasicAuth(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello through the proxy")
	}))
	defer target.Close()
	p := StartProxy(t, "alice", "s3cret")

	get := func(auth string) (int, string) {
		c, err := net.Dial("tcp", p.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET %s/ HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n%s\r\n", target.URL, strings.TrimPrefix(target.URL, "http://"), auth)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var sb strings.Builder
		_, _ = bufio.NewReader(resp.Body).WriteTo(&sb)
		return resp.StatusCode, sb.String()
	}
	if code, _ := get(""); code != http.StatusProxyAuthRequired {
		t.Fatalf("without credentials: status %d, want 407", code)
	}
	// alice:s3cret
	if code, body := get("Proxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n"); code != 200 || body != "hello through the proxy" {
		t.Fatalf("with credentials: status %d body %q", code, body)
	}
}
