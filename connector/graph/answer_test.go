package graph

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/answer"
	"github.com/inventorybeacon/beacon/internal/testenv"
)

// Graph's short answers outside imports (Test Connection's first users,
// the app registration's credentials) that never end are read up to
// answer.Max and refused in plain words naming the endpoint and what to
// check. Before, the credentials were cut at 1 MiB without a word and
// parsed ("the application is not JSON"), and the first users were
// streamed until the attempt's timeout.
func TestEndlessShortAnswerIsRefusedInPlainWords(t *testing.T) {
	var sent atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		testenv.WriteEndless(w, r, `{"value":[{"id":"`, &sent)
	}))
	defer srv.Close()
	c, err := New(srv.Client(), srv.URL, &tokens{}, Options{MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path string
		run        func(context.Context) error
	}{
		{"first users", "/v1.0/users", func(ctx context.Context) error { _, err := c.FirstUsers(ctx, 1); return err }},
		{"app credentials", "/v1.0/applications", func(ctx context.Context) error {
			_, err := c.ApplicationCredentials(ctx, "5bb1a5a2-0d97-4335-9448-119f7b27aff9")
			return err
		}},
	}
	for _, tc := range cases {
		sent.Store(0)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := tc.run(ctx)
		cancel()
		var large *answer.TooLargeError
		if !errors.As(err, &large) {
			t.Errorf("%s: got %v, want the answer refused as too large", tc.name, err)
			continue
		}
		msg := err.Error()
		for _, want := range []string{srv.URL + tc.path, "1 MB or more", "Microsoft Graph's answer", "Graph Endpoint address and the proxy settings"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: %q lacks %q", tc.name, msg, want)
			}
		}
		if strings.Contains(msg, "$select") {
			t.Errorf("%s: %q quotes the query", tc.name, msg)
		}
		if n := sent.Load(); n > 64<<20 {
			t.Errorf("%s: the endless answer sent %d bytes before the client stopped reading", tc.name, n)
		}
	}
}
