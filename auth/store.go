package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/inventorybeacon/beacon/connector"
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

// RefreshToken returns the refresh token, for a caller that stores it
// itself (the connection dialog commits it with the configuration on Save).
// Never log or display it.
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
		if t := connector.TenantFromEndpoint(conn.TokenEndpoint); !connector.IsTenantIndependent(t) {
			info.TenantID = t
		}
	}
	return &Result{Info: info, token: tok}, nil
}

// ConfigUpdater is the part of storage.ConfigStore the sign-in needs: a
// read-modify-write of the configuration under its lock.
type ConfigUpdater interface {
	Update(fn func(*storage.Config) error) error
}

// Store saves the sign-in: the refresh token into the keyring first, then
// the TokenInfo into the connection in the configuration (when cfg is
// non-nil and the connection is already saved there; a new connection gets
// it when the dialog is saved).
//
// The order is the point: the configuration never claims a token the
// keyring lacks, and the old token is replaced only by a successful Set. If
// the keyring fails, Store returns the error and the Result still holds the
// token, so the caller can let the user retry (unlock the keyring) or
// cancel: the sign-in is not lost on a transient keyring failure.
//
// inConfig reports whether the configuration was updated.
func (r *Result) Store(connID string, secrets storage.Secrets, cfg ConfigUpdater) (inConfig bool, err error) {
	if !storage.ValidID(connID) {
		return false, fmt.Errorf("connection ID %q is not valid; save the connection first", connID)
	}
	if err := secrets.Set(connID, storage.SecretRefreshToken, r.token.RefreshToken); err != nil {
		return false, fmt.Errorf("the sign-in worked, but the refresh token could not be stored in the system keyring: %w. Unlock the keyring (or start it) and click Retry; Cancel discards this sign-in", err)
	}
	if cfg == nil {
		return false, nil
	}
	info := r.Info
	err = cfg.Update(func(c *storage.Config) error {
		for i := range c.Connections {
			if strings.EqualFold(c.Connections[i].ID, connID) {
				c.Connections[i].Token = &info
				inConfig = true
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("the refresh token is in the keyring, but the configuration could not record it: %w", err)
	}
	return inConfig, nil
}
