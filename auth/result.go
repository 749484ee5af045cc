package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/oauth2"

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

func newResult(tok *oauth2.Token, conn storage.Connection, now time.Time) (*Result, error) {
	if tok.RefreshToken == "" {
		return nil, errors.New("Microsoft returned no refresh token, so later imports could not sign in: make sure offline_access is allowed for the app registration, then click Generate... again")
	}
	info := storage.TokenInfo{ObtainedAt: now.UTC().Truncate(time.Second)}
	if s, ok := tok.Extra("scope").(string); ok {
		info.Scopes = s
	}
	if idt, ok := tok.Extra("id_token").(string); ok && idt != "" {
		if c, err := DecodeIDClaims(idt); err == nil {
			info.Account = c.Account()
			info.DisplayName = c.Name
			info.TenantID = c.TenantID
		}
	}
	if info.TenantID == "" {
		if t := msendpoint.TenantFromEndpoint(conn.TokenEndpoint); !msendpoint.IsTenantIndependent(t) {
			info.TenantID = t
		}
	}
	return &Result{Info: info, token: tok}, nil
}
