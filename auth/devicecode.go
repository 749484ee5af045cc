package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"

	"golang.org/x/oauth2"

	"github.com/inventorybeacon/beacon/internal/msendpoint"
	"github.com/inventorybeacon/beacon/storage"
)

// DeviceCode is a started device authorization grant: the person opens
// VerificationURI on any device and enters UserCode.
type DeviceCode struct {
	UserCode        string
	VerificationURI string
	// Message is Microsoft's own instruction sentence, when it sent one.
	Message string
	Expiry  time.Time

	conn storage.Connection
	cfg  oauth2.Config
	resp *oauth2.DeviceAuthResponse
	opts FlowOptions
	// provider is the connection's discovered issuer, or nil.
	provider *Provider
}

// StartDeviceCode asks the /devicecode endpoint (derived from the Token
// Endpoint) for a user code. For servers without a browser.
func StartDeviceCode(ctx context.Context, conn storage.Connection, opts FlowOptions) (*DeviceCode, error) {
	provider, err := discoverFor(&conn, opts.HTTPClient)
	if err != nil {
		return nil, err
	}
	if err := msendpoint.ValidateEndpoint(conn.TokenEndpoint); err != nil {
		return nil, fmt.Errorf("Token Endpoint: %w", err)
	}
	if err := validateClientID(conn); err != nil {
		return nil, fmt.Errorf("Application (client) ID: %w", err)
	}
	da := deviceAuthURL(conn, provider)
	if da == "" && provider != nil {
		return nil, fmt.Errorf("the Issuer's discovery document names no device_authorization_endpoint: %s does not offer sign-in with a device code", ProviderName(conn))
	}
	if da == "" {
		return nil, errors.New("the Token Endpoint does not end in /token, so the device code endpoint cannot be derived from it")
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	cfg := oauth2.Config{
		ClientID: strings.TrimSpace(conn.ClientID),
		Endpoint: oauth2.Endpoint{TokenURL: strings.TrimSpace(conn.TokenEndpoint), DeviceAuthURL: da, AuthStyle: oauth2.AuthStyleInParams},
		Scopes:   Scopes(conn),
	}
	hc := boundAnswers(opts.HTTPClient)
	resp, err := cfg.DeviceAuth(context.WithValue(ctx, oauth2.HTTPClient, hc.Client))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctxError(ctx)
		}
		return nil, fromRetrieve(opDevice, da, hc.check(err))
	}
	d := &DeviceCode{UserCode: resp.UserCode, VerificationURI: resp.VerificationURI, Expiry: resp.Expiry, conn: conn, cfg: cfg, resp: resp, opts: opts, provider: provider}
	if d.VerificationURI == "" {
		d.VerificationURI = resp.VerificationURIComplete
	}
	return d, nil
}

// Wait polls the token endpoint until the person has signed in, the code
// expires or ctx ends.
func (d *DeviceCode) Wait(ctx context.Context) (*Result, error) {
	hc := boundAnswers(d.opts.HTTPClient)
	tok, err := d.cfg.DeviceAccessToken(context.WithValue(ctx, oauth2.HTTPClient, hc.Client), d.resp)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctxError(ctx)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w: the device code expired before the sign-in was finished; run the command again", ErrTimedOut)
		}
		return nil, decorate(d.conn, fromRetrieve(opDevice, d.cfg.Endpoint.TokenURL, hc.check(err)), "")
	}
	return newResult(ctx, tok, d.conn, d.opts.Now(), d.provider)
}
