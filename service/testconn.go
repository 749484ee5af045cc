package service

// Test Connection: get a token the way an import would and read one user
// from Graph through the same Graph client the import uses, then say in
// plain words what works and what is missing. The window's Test Connection
// calls it; the OAuth side (the token, which permissions it lacks) is
// auth's, the Graph read is connector/graph's.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/inventorybeacon/beacon/auth"
	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/internal/graphperm"
	"github.com/inventorybeacon/beacon/storage"
)

// TestReport is the outcome of Test Connection.
type TestReport struct {
	TokenOK bool
	// GraphChecked says Graph answered at all; GraphOK that it returned
	// users.
	GraphChecked, GraphOK bool
	GraphStatus           int
	// Missing lists permissions the token lacks, short names
	// ("Reports.Read.All").
	Missing []string
	// Problem is the first thing that failed, in plain words; "" on
	// success.
	Problem string
	Err     error
	// RequestID is Graph's request-id of the failed call, for support.
	RequestID string
}

// Summary is the report as the dialog and the CLI show it.
func (r *TestReport) Summary() string {
	var b strings.Builder
	switch {
	case r.TokenOK && r.GraphOK && len(r.Missing) == 0:
		b.WriteString("Connection works: signed in and read users from Microsoft Graph.")
	case r.TokenOK && r.GraphOK:
		b.WriteString("Signed in and read users, but the token lacks " + strings.Join(r.Missing, " and ") + ": what needs it will not import until an administrator grants it (admin consent).")
	case r.TokenOK && !r.GraphChecked:
		b.WriteString("Signed in, but Microsoft Graph could not be reached: ")
		b.WriteString(r.Problem)
	case r.TokenOK:
		b.WriteString("Signed in, but reading users failed: ")
		b.WriteString(r.Problem)
	default:
		b.WriteString("Sign-in failed: ")
		b.WriteString(r.Problem)
	}
	if r.RequestID != "" {
		b.WriteString("\nGraph request ID: " + r.RequestID)
	}
	return b.String()
}

// TestOptions configure TestConnection.
type TestOptions struct {
	// Secrets holds the connection's refresh token, client secret and
	// proxy password.
	Secrets storage.Secrets
	// ConfigDir is where the token lock file lives (next to the
	// configuration), shared with imports and the scheduler.
	ConfigDir string
	Logger    *slog.Logger
	// ProxyPassword and ClientSecret, when set, are typed in the dialog
	// and not saved yet; they win over the keyring's.
	ProxyPassword, ClientSecret string
}

// TestConnection gets a token the way an import would (for Authorization
// Code this redeems and rotates the stored refresh token, storing the new
// one) and reads one page of one user from Graph. A connection that never
// signed in is answered at once, without the keyring or the network.
func TestConnection(ctx context.Context, conn storage.Connection, o TestOptions) *TestReport {
	r := &TestReport{}
	fail := func(err error, problem string) *TestReport {
		r.Err, r.Problem = err, problem
		return r
	}
	if conn.AuthFlow != storage.FlowClientCredentials && conn.Token == nil {
		err := fmt.Errorf("connection %q: %w", conn.Name, auth.ErrNotSignedIn)
		return fail(err, auth.Guidance(err))
	}
	hc, err := HTTPClient(conn, o.Secrets, o.ProxyPassword)
	if err != nil {
		return fail(err, err.Error())
	}
	ts, err := auth.NewTokenSource(auth.TokenSourceOptions{Conn: conn, Secrets: o.Secrets, LockDir: o.ConfigDir,
		HTTPClient: hc, Logger: o.Logger, ClientSecret: o.ClientSecret})
	if err != nil {
		return fail(err, err.Error())
	}
	tok, err := ts.TokenContext(ctx)
	if err != nil {
		return fail(err, auth.Guidance(err))
	}
	r.TokenOK = true
	r.Missing = auth.MissingPermissions(conn, tok)

	// One attempt: the administrator is waiting for an answer, and the
	// report says what failed rather than retrying it for minutes.
	client, err := newGraphClient(hc, conn, AuthTokens(ts), graph.Options{Logger: o.Logger, MaxAttempts: 1})
	if err != nil {
		return fail(err, fmt.Sprintf("the Graph Endpoint %q is not a valid address", conn.GraphEndpoint))
	}
	_, err = client.FirstUsers(ctx, 1)
	var ge *graph.GraphError
	switch {
	case err == nil:
		r.GraphChecked, r.GraphOK, r.GraphStatus = true, true, http.StatusOK
		return r
	case !errors.As(err, &ge):
		err = auth.TransportError(strings.TrimRight(strings.TrimSpace(conn.GraphEndpoint), "/"), err)
		return fail(err, err.Error())
	}
	r.GraphChecked, r.GraphStatus, r.RequestID = true, ge.Status, ge.RequestID
	switch ge.Status {
	case http.StatusForbidden:
		users, _ := graphperm.LookupStage(graphperm.StageUsers)
		need := users.Asked(conn.Permissions, conn.CustomScopes, conn.SignInActivity)
		perm := need + " (delegated, with admin consent)"
		if conn.AuthFlow == storage.FlowClientCredentials {
			perm = need + " (application permission, with admin consent)"
		}
		r.Problem = fmt.Sprintf("Graph refused to list users (%s: %s). The app needs %s.", ge.Code, ge.Message, perm)
		if !slices.Contains(r.Missing, need) {
			r.Missing = append([]string{need}, r.Missing...)
		}
	case http.StatusUnauthorized:
		r.Problem = fmt.Sprintf("Graph did not accept the token (%s: %s): check that the Graph Endpoint belongs to the same cloud as the Token Endpoint.", ge.Code, ge.Message)
	default:
		if ge.Code != "" {
			r.Problem = fmt.Sprintf("Graph answered HTTP %d (%s: %s).", ge.Status, ge.Code, ge.Message)
		} else {
			r.Problem = fmt.Sprintf("Graph answered HTTP %d: check the Graph Endpoint address.", ge.Status)
		}
	}
	r.Err = errors.New(r.Problem)
	return r
}
