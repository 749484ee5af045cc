package auth

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/internal/testenv"
	"github.com/inventorybeacon/beacon/storage"
)

// An identity endpoint (or whatever answers in its place) that sends an
// answer without end is read up to answer.Max and refused in plain words,
// on every path that asks for a token or a sign-in document. Before, the
// answer was cut at 1 MiB without a word and parsed: the administrator
// read "answered without an access token", "not JSON" or "could not
// reach", none of which points at the page that was too large.
func TestEndlessAnswerIsRefusedInPlainWords(t *testing.T) {
	var sent atomic.Int64 // bytes the endless answers sent, all requests
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/poll/") && strings.HasSuffix(r.URL.Path, "/devicecode") {
			// A device code the test's polls then get an endless answer for.
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"device_code":"dc","user_code":"ABCD1234","verification_uri":"https://example.com/devicelogin","expires_in":900,"interval":1}`)
			return
		}
		testenv.WriteEndless(w, r, `{"access_token":"`, &sent)
	}))
	defer srv.Close()
	const tenant = "0c0c0c0c-1111-2222-3333-444444444444"
	conn := storage.Connection{ID: storage.NewID(), Name: "Endless", ClientID: "5bb1a5a2-0d97-4335-9448-119f7b27aff9",
		AuthorizationEndpoint: srv.URL + "/" + tenant + "/oauth2/v2.0/authorize",
		TokenEndpoint:         srv.URL + "/" + tenant + "/oauth2/v2.0/token",
		RedirectURI:           "https://login.microsoftonline.com/common/oauth2/nativeclient",
		GraphEndpoint:         srv.URL}
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cases := []struct {
		name string
		run  func() error
	}{
		{"refresh", func() error {
			_, err := postToken(ctx, srv.Client(), opRefresh, conn.TokenEndpoint, url.Values{"grant_type": {"refresh_token"}}, clock.Now())
			return err
		}},
		{"client secret", func() error {
			ts := &TokenSource{opts: TokenSourceOptions{Conn: conn, ClientSecret: "s3cret", HTTPClient: srv.Client()}, log: quiet, now: clock.Now}
			_, err := ts.clientCredentials(ctx)
			return err
		}},
		{"sign-in code exchange", func() error {
			f, err := Start(conn, FlowOptions{HTTPClient: srv.Client(), Logger: quiet})
			if err != nil {
				return err
			}
			_, err = f.exchange(ctx, "the-code")
			return err
		}},
		{"device code", func() error {
			_, err := StartDeviceCode(ctx, conn, FlowOptions{HTTPClient: srv.Client(), Logger: quiet})
			return err
		}},
		{"device code polls", func() error {
			poll := conn
			poll.TokenEndpoint = srv.URL + "/poll/" + tenant + "/oauth2/v2.0/token"
			d, err := StartDeviceCode(ctx, poll, FlowOptions{HTTPClient: srv.Client(), Logger: quiet})
			if err != nil {
				return err
			}
			_, err = d.Wait(ctx)
			return err
		}},
		{"discovery", func() error {
			_, err := Discover(ctx, srv.Client(), srv.URL+"/"+tenant+"/v2.0")
			return err
		}},
	}
	for _, c := range cases {
		sent.Store(0)
		err := c.run()
		var tooLarge *AnswerTooLargeError
		if !errors.As(err, &tooLarge) {
			t.Errorf("%s: got %v, want the answer refused as too large", c.name, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "1 MB or more") || !strings.Contains(msg, "proxy settings") || !strings.Contains(msg, "/"+tenant+"/") {
			t.Errorf("%s: %q does not name the endpoint, the size and what to check", c.name, msg)
		}
		// What was read is bounded: the server may have sent a little more
		// into the connection's buffers, never the gigabyte it would.
		if n := sent.Load(); n > 64<<20 {
			t.Errorf("%s: the endless answer sent %d bytes before the client stopped reading", c.name, n)
		}
	}
}
