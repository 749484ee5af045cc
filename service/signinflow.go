package service

import (
	"context"
	"errors"
	"log/slog"

	"github.com/inventorybeacon/beacon/auth"
	"github.com/inventorybeacon/beacon/storage"
)

// Signing in interactively (Generate... in the connection dialog, `beacon
// generate`): the connection's HTTP client (proxy, proxy password, CA
// file) and auth's flow, started the same way for the window and the CLI.
// The flow itself is auth's; the window and the CLI reach it, its errors
// and the explanation of a failure through here, never through auth.

// SignInFlow is a started authorization-code sign-in: show AuthURL (and
// open the browser), then Wait for the redirect or, when NeedsPaste,
// CompleteFromPaste; Close when abandoned.
type SignInFlow = auth.Flow

// DeviceCodeFlow is a started device-code sign-in.
type DeviceCodeFlow = auth.DeviceCode

// SignInResult is a finished sign-in: the refresh token (RefreshToken)
// and its description (Info), for StoreSignIn.
type SignInResult = auth.Result

// What a sign-in can end with, besides Microsoft's own errors.
var (
	ErrSignInCancelled = auth.ErrCancelled
	ErrSignInTimedOut  = auth.ErrTimedOut
	// ErrNoCode: a pasted address carried no authorization code (worth
	// another paste).
	ErrNoCode = auth.ErrNoCode
)

// SignInTimeout is how long a sign-in waits for the administrator.
const SignInTimeout = auth.DefaultTimeout

// SignInOptions are what StartSignIn needs besides the connection.
type SignInOptions struct {
	Secrets storage.Secrets
	// ProxyPassword is typed in the dialog and not saved yet; "" means
	// the keyring's.
	ProxyPassword string
	Logger        *slog.Logger
}

func flowOptions(conn storage.Connection, o SignInOptions) (auth.FlowOptions, error) {
	client, err := HTTPClient(conn, o.Secrets, o.ProxyPassword)
	if err != nil {
		return auth.FlowOptions{}, err
	}
	return auth.FlowOptions{HTTPClient: client, Logger: o.Logger}, nil
}

// StartSignIn prepares the sign-in of conn as typed (not necessarily
// saved): its HTTP client and the loopback listener of the redirect. It
// may block on the keyring (the saved proxy password).
func StartSignIn(conn storage.Connection, o SignInOptions) (*SignInFlow, error) {
	fo, err := flowOptions(conn, o)
	if err != nil {
		return nil, err
	}
	return auth.Start(conn, fo)
}

// StartDeviceCode asks Microsoft for a device code for conn.
func StartDeviceCode(ctx context.Context, conn storage.Connection, o SignInOptions) (*DeviceCodeFlow, error) {
	fo, err := flowOptions(conn, o)
	if err != nil {
		return nil, err
	}
	return auth.StartDeviceCode(ctx, conn, fo)
}

// OpenBrowser shows an address in the administrator's browser.
func OpenBrowser(url string) error { return auth.OpenBrowser(url) }

// Failure explains why a sign-in or a token request failed.
type Failure struct {
	// Guidance is what happened and what the administrator can do, in
	// plain words.
	Guidance string
	// AdminApproval says an administrator must consent to the app;
	// ConsentURL is where (tenant-wide admin consent).
	AdminApproval bool
	ConsentURL    string
}

// ExplainFailure explains err, a failure of conn's sign-in or token
// request. tenant, when known (the connection's last sign-in), scopes the
// consent link.
func ExplainFailure(conn storage.Connection, err error, tenant string) Failure {
	f := Failure{Guidance: nameTheCommand(conn, err, auth.Guidance(err))}
	var ae *auth.Error
	if errors.As(err, &ae) && ae.Kind() == auth.KindAdminApproval {
		f.AdminApproval = true
		f.ConsentURL = ae.AdminConsentURL
	}
	if f.AdminApproval && f.ConsentURL == "" {
		f.ConsentURL = auth.AdminConsentURL(conn, tenant)
	}
	return f
}

// ConsentURL is the tenant-wide admin-consent address of conn's app.
func ConsentURL(conn storage.Connection, tenant string) string {
	return auth.AdminConsentURL(conn, tenant)
}

// IsSignInCancelled reports whether err is the administrator cancelling.
func IsSignInCancelled(err error) bool { return errors.Is(err, auth.ErrCancelled) }

// IsAuthError reports whether err is Microsoft's answer (an error of the
// identity platform) rather than a local or network failure.
func IsAuthError(err error) bool {
	var ae *auth.Error
	return errors.As(err, &ae)
}
