package auth

import (
	"net/http"
	"sync/atomic"

	"github.com/inventorybeacon/beacon/internal/answer"
)

// AnswerTooLargeError is an identity endpoint's answer (a token answer, a
// discovery document, a key set or userinfo) that reached answer.Max.
// Without it a cut answer was parsed as it was and failed as "no access
// token" or "not JSON", which sent the administrator the wrong way.
type AnswerTooLargeError = answer.TooLargeError

// tooLarge is the error for an identity endpoint's answer to r.
func tooLarge(r *http.Request) *AnswerTooLargeError {
	return &AnswerTooLargeError{URL: answer.Endpoint(r), Expected: "a sign-in answer",
		Service: "the identity platform", Check: "Token Endpoint (and Issuer)"}
}

// readAnswer reads an answer's body, failing with *AnswerTooLargeError
// at answer.Max bytes.
func readAnswer(resp *http.Response) ([]byte, error) {
	return answer.Read(resp, tooLarge(resp.Request))
}

// answerClient is a copy of a connection's client whose answers are read
// at most answer.Max bytes, for the requests golang.org/x/oauth2 makes: it
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
	resp.Body = answer.NewBody(resp.Body, func() error {
		e := tooLarge(r)
		t.over.CompareAndSwap(nil, e)
		return e
	})
	return resp, nil
}
