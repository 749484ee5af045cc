package service

// A saved connection made into a Graph client: the HTTP client through the
// connection's proxy (password from the keyring), the token source over
// the keyring's refresh token or client secret, and the retry policy. The
// window, `beacon execute` and the scheduler all import through it, so an
// import behaves the same wherever it starts.

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/inventorybeacon/beacon/auth"
	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/storage"
)

// GraphOptions configure Graph. The zero value uses the OS keyring and
// slog.Default.
type GraphOptions struct {
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
// per import uses OpenGraph and calls its release function instead.
func Graph(conn storage.Connection, o GraphOptions) (*graph.Client, error) {
	c, _, err := OpenGraph(conn, o)
	return c, err
}

// OpenGraph is Graph with a release function that closes the client's idle
// connections; call it when the import is over. Without it a scheduler
// running 20 connections every minute kept every import's keep-alive
// connections open for 90 s: hundreds of sockets, growing with the number
// of connections and the frequency (issue 8's load soak).
func OpenGraph(conn storage.Connection, o GraphOptions) (*graph.Client, func(), error) {
	client, hc, err := open(conn, o)
	if err != nil {
		return nil, func() {}, err
	}
	return client, hc.CloseIdleConnections, nil
}

func open(conn storage.Connection, o GraphOptions) (*graph.Client, *http.Client, error) {
	if o.Secrets == nil {
		o.Secrets = storage.NewKeyring(storage.KeyringService, storage.DefaultKeyringTimeout)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	hc, err := HTTPClient(conn, o.Secrets, "")
	if err != nil {
		return nil, nil, err
	}
	tokens := o.Tokens
	if tokens == nil {
		tokens = func(conn storage.Connection, secrets storage.Secrets, hc *http.Client) (graph.TokenSource, error) {
			ts, err := auth.NewTokenSource(auth.TokenSourceOptions{Conn: conn, Secrets: secrets, LockDir: o.ConfigDir,
				HTTPClient: hc, Logger: o.Logger, Now: o.Now, OnToken: TokenUseRecorder(o.ConfigDir, conn, o.Logger)})
			if err != nil {
				return nil, err
			}
			return AuthTokens(ts), nil
		}
	}
	ts, err := tokens(conn, o.Secrets, hc)
	if err != nil {
		return nil, nil, ExplainImportError(conn, err)
	}
	// A refused token request fails the import with the advice of
	// ExplainImportError, so the import history (written by the importer
	// with the error's text), the scheduler's notification and `beacon
	// execute` all say how to sign in again.
	ts = explainedTokens{ts: ts, conn: conn}
	client, err := newGraphClient(hc, conn, ts, graph.Options{Logger: o.Logger, OnRetry: o.OnRetry})
	if err != nil {
		return nil, nil, err
	}
	return client, hc, nil
}

// newGraphClient is the Graph client of conn over hc, for an import and
// for Test Connection alike.
func newGraphClient(hc *http.Client, conn storage.Connection, ts graph.TokenSource, o graph.Options) (*graph.Client, error) {
	// A proxy that refuses the password refuses every retry too: fail at
	// once with the guidance instead of backing off.
	o.Permanent = func(err error) bool { return errors.Is(err, auth.ErrProxyAuth) }
	return graph.New(hc, conn.GraphEndpoint, ts, o)
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

// explainedTokens explains the sign-in failures of a token source
// (ExplainImportError).
type explainedTokens struct {
	ts   graph.TokenSource
	conn storage.Connection
}

func (e explainedTokens) Token(ctx context.Context) (string, error) {
	t, err := e.ts.Token(ctx)
	if err != nil {
		return "", ExplainImportError(e.conn, err)
	}
	return t, nil
}

func (e explainedTokens) Invalidate() { e.ts.Invalidate() }
