// Package answer bounds what is read of a server's answer that should be
// small (a token, a discovery document, one page of a few users, an app
// registration): a body that reaches Max bytes is not the service's
// answer (a proxy's or captive portal's page, a wrong address, a server
// that never stops sending), and reading on would only cost memory and
// time. It is refused in plain words naming the endpoint and what the
// administrator can check, rather than cut and parsed, which failed as
// "not JSON" or "no access token" and sent the administrator the wrong way.
// auth (identity endpoints) and connector/graph (Graph reads outside
// imports) share it.
package answer

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// Max is the most read of a small answer. Microsoft's are a few
// kilobytes.
const Max = 1 << 20

// TooLargeError is an answer that reached Max bytes.
type TooLargeError struct {
	URL      string // the endpoint, without its query (Endpoint)
	Expected string // what was asked for, e.g. "a sign-in answer"
	Service  string // whose answer it should be, e.g. "the identity platform"
	Check    string // the address setting to check, e.g. "Token Endpoint (and Issuer)"
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s sent an answer of 1 MB or more where %s takes a few kilobytes, so it was not read to the end: "+
		"it is not %s's answer but likely a proxy's or firewall's page, or the address is wrong. "+
		"Check the %s address and the proxy settings", e.URL, e.Expected, e.Service, e.Check)
}

// Body reads an answer and fails with the error tooLarge returns once Max
// bytes have come, closing the answer at once.
type Body struct {
	rc       io.ReadCloser
	n        int64
	tooLarge func() error
}

// NewBody bounds rc; tooLarge makes the error (and may record it).
func NewBody(rc io.ReadCloser, tooLarge func() error) *Body {
	return &Body{rc: rc, tooLarge: tooLarge}
}

func (b *Body) Read(p []byte) (int, error) {
	if b.n >= Max {
		return 0, b.fail()
	}
	if rest := Max - b.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.rc.Read(p)
	b.n += int64(n)
	if b.n >= Max {
		// Returned with the last bytes: a reader that stops at Max itself
		// (golang.org/x/oauth2 reads at most 1 MiB) still sees it.
		return n, b.fail()
	}
	return n, err
}

func (b *Body) Close() error { return b.rc.Close() }

func (b *Body) fail() error {
	// Closed at once: a reader may never close the body (golang.org/x/oauth2
	// does not close the device code answer's), and an endless answer would
	// hold its connection, and the sender, for good.
	_ = b.rc.Close()
	return b.tooLarge()
}

// Read reads a response's body whole, failing with e once Max bytes have
// come.
func Read(resp *http.Response, e *TooLargeError) ([]byte, error) {
	return io.ReadAll(NewBody(resp.Body, func() error { return e }))
}

// Endpoint names a request's endpoint in an error: scheme, host and path
// (a query may carry codes or an app's id).
func Endpoint(r *http.Request) string {
	if r == nil || r.URL == nil {
		return "the endpoint"
	}
	u := url.URL{Scheme: r.URL.Scheme, Host: r.URL.Host, Path: r.URL.Path}
	return u.String()
}
