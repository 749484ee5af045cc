// Package connect turns a saved connection into a Graph client: the HTTP
// client through the connection's proxy (password from the keyring), the
// token source over the keyring's refresh token or client secret, and the
// retry policy. The window, `beacon execute` and the scheduler all use it,
// so an import behaves the same wherever it starts.
package connect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/inventorybeacon/beacon/auth"
	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/storage"
)

// Options configure Graph. The zero value uses the OS keyring and
// slog.Default.
type Options struct {
	Secrets   storage.Secrets // default: the OS keyring
	ConfigDir string          // where the token lock files live (required for auth's token source)
	Logger    *slog.Logger
	Now       func() time.Time
	OnRetry   func(graph.Retry)
	// Tokens replaces auth's token source; tests mint tokens from the
	// simulator with it.
	Tokens func(conn storage.Connection, secrets storage.Secrets, hc *http.Client) (graph.TokenSource, error)
}

// Graph builds the Graph client of conn. Its HTTP connections stay open
// until they idle out (90 s); a long-lived process that builds a client
// per import uses Open and calls its release function instead.
func Graph(conn storage.Connection, o Options) (*graph.Client, error) {
	c, _, err := Open(conn, o)
	return c, err
}

// Open is Graph with a release function that closes the client's idle
// connections; call it when the import is over. Without it a scheduler
// running 20 connections every minute kept every import's keep-alive
// connections open for 90 s: hundreds of sockets, growing with the number
// of connections and the frequency (issue 8's load soak).
func Open(conn storage.Connection, o Options) (*graph.Client, func(), error) {
	client, hc, err := open(conn, o)
	if err != nil {
		return nil, func() {}, err
	}
	return client, hc.CloseIdleConnections, nil
}

func open(conn storage.Connection, o Options) (*graph.Client, *http.Client, error) {
	if o.Secrets == nil {
		o.Secrets = storage.NewKeyring(storage.KeyringService, storage.DefaultKeyringTimeout)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	proxyPassword := ""
	if conn.Proxy.Enabled && conn.Proxy.HasPassword {
		var err error
		if proxyPassword, err = o.Secrets.Get(conn.ID, storage.SecretProxyPassword); err != nil {
			return nil, nil, fmt.Errorf("the proxy password is not readable from the keyring: %w", err)
		}
	}
	hc, err := auth.HTTPClient(conn, proxyPassword)
	if err != nil {
		return nil, nil, err
	}
	tokens := o.Tokens
	if tokens == nil {
		tokens = func(conn storage.Connection, secrets storage.Secrets, hc *http.Client) (graph.TokenSource, error) {
			ts, err := auth.NewTokenSource(auth.TokenSourceOptions{Conn: conn, Secrets: secrets, LockDir: o.ConfigDir,
				HTTPClient: hc, Logger: o.Logger, Now: o.Now})
			if err != nil {
				return nil, err
			}
			return AuthTokens(ts), nil
		}
	}
	ts, err := tokens(conn, o.Secrets, hc)
	if err != nil {
		return nil, nil, err
	}
	client, err := graph.New(hc, conn.GraphEndpoint, ts, graph.Options{Logger: o.Logger, OnRetry: o.OnRetry,
		// A proxy that refuses the password refuses every retry too:
		// fail at once with the guidance instead of backing off.
		Permanent: func(err error) bool { return errors.Is(err, auth.ErrProxyAuth) }})
	if err != nil {
		return nil, nil, err
	}
	return client, hc, nil
}

// AuthTokens adapts auth's token source to the Graph client's interface.
func AuthTokens(ts *auth.TokenSource) graph.TokenSource { return authTokens{ts} }

type authTokens struct{ ts *auth.TokenSource }

func (a authTokens) Token(ctx context.Context) (string, error) {
	t, err := a.ts.TokenContext(ctx)
	if err != nil {
		return "", err
	}
	return t.AccessToken, nil
}

func (a authTokens) Invalidate() { a.ts.Invalidate() }
