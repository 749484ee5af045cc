package auth

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
)

// maxAnswer bounds what is read of an identity endpoint's answer: a token
// answer, a discovery document, a key set or userinfo. Microsoft's are a
// few kilobytes; a body that reaches this size is not the identity
// platform's (a proxy's or captive portal's page, a wrong address, a
// server that never stops sending) and reading on would only cost memory.
const maxAnswer = 1 << 20

// AnswerTooLargeError is an endpoint's answer that reached maxAnswer.
// Without it a cut answer was parsed as it was and failed as "no access
// token" or "not JSON", which sent the administrator the wrong way.
type AnswerTooLargeError struct {
	URL string // the endpoint, without its query
}

func (e *AnswerTooLargeError) Error() string {
	return fmt.Sprintf("%s sent an answer of 1 MB or more where a sign-in answer takes a few kilobytes, so it was not read to the end: "+
		"it is not the identity platform's answer but likely a proxy's or firewall's page, or the address is wrong. "+
		"Check the Token Endpoint (and Issuer) address and the proxy settings", e.URL)
}

// answerBody reads a response body and fails with *AnswerTooLargeError
// once maxAnswer bytes have come, recording that in over when set.
type answerBody struct {
	rc   io.ReadCloser
	url  string
	n    int64
	over *atomic.Pointer[AnswerTooLargeError]
}

func (b *answerBody) Read(p []byte) (int, error) {
	if b.n >= maxAnswer {
		return 0, b.tooLarge()
	}
	if rest := maxAnswer - b.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.rc.Read(p)
	b.n += int64(n)
	if b.n >= maxAnswer {
		// Returned with the last bytes: a reader that stops at maxAnswer
		// itself (golang.org/x/oauth2 reads at most 1 MiB) still sees it.
		return n, b.tooLarge()
	}
	return n, err
}

func (b *answerBody) Close() error { return b.rc.Close() }

func (b *answerBody) tooLarge() error {
	// Closed at once: golang.org/x/oauth2 never closes the device code
	// answer's body, and an endless answer would hold its connection (and
	// the sender) for good.
	_ = b.rc.Close()
	e := &AnswerTooLargeError{URL: b.url}
	if b.over != nil {
		b.over.CompareAndSwap(nil, e)
	}
	return e
}

// readAnswer reads an answer's body, failing with *AnswerTooLargeError
// at maxAnswer bytes.
func readAnswer(resp *http.Response) ([]byte, error) {
	return io.ReadAll(&answerBody{rc: resp.Body, url: endpointOf(resp.Request)})
}

// answerClient is a copy of a connection's client whose answers are read
// at most maxAnswer bytes, for the requests golang.org/x/oauth2 makes: it
// quotes a read error only as text, so the client keeps the first answer
// that was too large for check to return.
type answerClient struct {
	*http.Client
	over atomic.Pointer[AnswerTooLargeError]
}

func boundAnswers(hc *http.Client) *answerClient {
	if hc == nil {
		hc = &http.Client{}
	}
	c := *hc
	a := &answerClient{Client: &c}
	c.Transport = answerTransport{base: hc.Transport, over: &a.over}
	return a
}

// check returns the answer that was too large, if one was, in place of
// err (what golang.org/x/oauth2 made of the cut body).
func (a *answerClient) check(err error) error {
	if e := a.over.Load(); e != nil {
		return e
	}
	return err
}

type answerTransport struct {
	base http.RoundTripper
	over *atomic.Pointer[AnswerTooLargeError]
}

func (t answerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &answerBody{rc: resp.Body, url: endpointOf(r), over: t.over}
	return resp, nil
}

// endpointOf names a request's endpoint in an error: scheme, host and
// path (a query may carry codes).
func endpointOf(r *http.Request) string {
	if r == nil || r.URL == nil {
		return "the endpoint"
	}
	u := url.URL{Scheme: r.URL.Scheme, Host: r.URL.Host, Path: r.URL.Path}
	return u.String()
}
