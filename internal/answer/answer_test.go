package answer

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// endless is a body that never ends and counts what was read of it.
type endless struct{ read, closed int }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	e.read += len(p)
	return len(p), nil
}

func (e *endless) Close() error { e.closed++; return nil }

// An endless answer is read up to Max bytes, no further, closed, and
// refused with the error naming the endpoint without its query.
func TestReadStopsAtMax(t *testing.T) {
	body := &endless{}
	u, _ := url.Parse("https://graph.example/v1.0/users?$top=1&code=secret")
	resp := &http.Response{Body: body, Request: &http.Request{URL: u}}
	b, err := Read(resp, &TooLargeError{URL: Endpoint(resp.Request), Expected: "a page of one user", Service: "Microsoft Graph", Check: "Graph Endpoint"})
	var large *TooLargeError
	if !errors.As(err, &large) {
		t.Fatalf("got %v, want a *TooLargeError", err)
	}
	if len(b) != Max || body.read != Max || body.closed != 1 {
		t.Errorf("read %d bytes (%d from the body), closed %d times; want %d, once", len(b), body.read, body.closed, Max)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "https://graph.example/v1.0/users sent an answer of 1 MB or more where a page of one user takes") ||
		!strings.Contains(msg, "not Microsoft Graph's answer") || !strings.HasSuffix(msg, "Check the Graph Endpoint address and the proxy settings") {
		t.Errorf("the error reads %q", msg)
	}
	if _, err := io.ReadAll(NewBody(io.NopCloser(strings.NewReader("short")), func() error { return large })); err != nil {
		t.Errorf("a short answer: %v", err)
	}
}
