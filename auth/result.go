package auth

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/inventorybeacon/beacon/internal/graphperm"
	"github.com/inventorybeacon/beacon/internal/msendpoint"
	"github.com/inventorybeacon/beacon/storage"
)

// Result is a finished sign-in: the tokens (unexported, so they are never
// printed by accident) and the metadata shown in the dialog.
type Result struct {
	Info  storage.TokenInfo
	token *oauth2.Token
}

// String and GoString keep tokens out of %v, %+v and %#v.
func (r *Result) String() string {
	if r == nil {
		return "<nil>"
	}
	return fmt.Sprintf("auth.Result{account=%q tenant=%q obtained=%s token=[redacted]}", r.Info.Account, r.Info.TenantID, r.Info.ObtainedAt.Format(time.RFC3339))
}

func (r *Result) GoString() string { return r.String() }

// LogValue keeps tokens out of slog.
func (r *Result) LogValue() slog.Value {
	return slog.GroupValue(slog.String("account", r.Info.Account), slog.String("tenant", r.Info.TenantID))
}

// RefreshToken returns the refresh token, for the caller to store
// (service.StoreSignIn, or the connection dialog's commit on Save). Never
// log or display it.
func (r *Result) RefreshToken() string { return r.token.RefreshToken }

// AccessToken returns the access token of the sign-in, for a Test
// Connection right after Generate. Never log it.
func (r *Result) AccessToken() string { return r.token.AccessToken }

func newResult(ctx context.Context, tok *oauth2.Token, conn storage.Connection, now time.Time, p *Provider) (*Result, error) {
	who := ProviderName(conn)
	if tok.RefreshToken == "" {
		return nil, fmt.Errorf("%s returned no refresh token, so later imports could not sign in: make sure offline_access is allowed for the app registration "+
			"(a provider that follows OpenID Connect grants it only with Prompt set to consent), then click Generate... again", capital(who))
	}
	info := storage.TokenInfo{ObtainedAt: now.UTC().Truncate(time.Second)}
	if s, ok := tok.Extra("scope").(string); ok {
		info.Scopes = s
	}
	idt, _ := tok.Extra("id_token").(string)
	if p != nil {
		// A provider known by its issuer: its id_token is the proof of
		// who signed in, so it is checked before anything is stored.
		if idt == "" {
			return nil, fmt.Errorf("%s returned no id_token, so the sign-in cannot be checked: make sure the app may use the openid scope, then click Generate... again", capital(who))
		}
		if err := p.verifyIDToken(ctx, idt, strings.TrimSpace(conn.ClientID), now); err != nil {
			return nil, fmt.Errorf("the sign-in was refused and nothing was stored: %w", err)
		}
	}
	if idt != "" {
		if c, err := DecodeIDClaims(idt); err == nil {
			info.Account = c.Account()
			info.DisplayName = c.Name
			info.TenantID = c.TenantID
		}
	}
	if info.Account == "" {
		// An id_token with only its subject: the account's name is the
		// userinfo endpoint's to tell.
		acct, name := p.userinfo(ctx, tok.AccessToken)
		info.Account = acct
		if info.DisplayName == "" {
			info.DisplayName = name
		}
	}
	if info.TenantID == "" && microsoftLayout(conn.TokenEndpoint) {
		// Only Microsoft's endpoint path names a tenant; another
		// provider's path says nothing about one.
		if t := msendpoint.TenantFromEndpoint(conn.TokenEndpoint); !msendpoint.IsTenantIndependent(t) {
			info.TenantID = t
		}
	}
	if err := checkGranted(conn, info.Scopes, who); err != nil {
		return nil, err
	}
	return &Result{Info: info, token: tok}, nil
}

// checkGranted refuses a sign-in whose granted scopes (the token
// response's scope; none means all that were asked, RFC 6749 §5.1) do not
// let the import read the users: stored, it would fail every import.
func checkGranted(conn storage.Connection, scopes, who string) error {
	if strings.TrimSpace(scopes) == "" {
		return nil
	}
	var granted []string
	for _, f := range strings.Fields(scopes) {
		granted = append(granted, graphperm.ShortName(f))
	}
	users, _ := graphperm.LookupStage(graphperm.StageUsers)
	if users.Allows(granted) {
		return nil
	}
	return fmt.Errorf("%s signed you in but granted only %q, without %s, which every import needs to read the users; nothing was stored. "+
		"Ask the provider's administrator to allow that scope for the app, then click Generate... again",
		capital(who), scopes, users.Asked(conn.Permissions, conn.CustomScopes, conn.SignInActivity))
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
