package auth

import (
	"strings"

	"golang.org/x/oauth2"

	"github.com/inventorybeacon/beacon/internal/graphperm"
	"github.com/inventorybeacon/beacon/internal/jwtclaims"
	"github.com/inventorybeacon/beacon/storage"
)

// MissingPermissions compares what a token was granted with what conn's
// permission profile means to use (internal/graphperm: one permission per
// stage the profile expects) and returns the short names of those
// missing. Delegated grants are in the token response's scope; application
// roles only in the access token, read without trust as a hint (Graph's
// answer is the real test). nil means nothing to report, also when the
// token says nothing readable about its grants.
func MissingPermissions(conn storage.Connection, tok *oauth2.Token) []string {
	granted := Granted(conn.AuthFlow, tok)
	if granted == nil {
		return nil
	}
	return graphperm.Missing(granted, conn.Permissions, conn.CustomScopes, conn.SignInActivity)
}

// Granted is what tok says was granted, by short name; nil when it says
// nothing readable.
func Granted(flow storage.AuthFlow, tok *oauth2.Token) []string {
	if flow == storage.FlowClientCredentials {
		return accessTokenRoles(tok.AccessToken)
	}
	s, _ := tok.Extra("scope").(string)
	if s == "" {
		return nil
	}
	var granted []string
	for _, f := range strings.Fields(s) {
		granted = append(granted, graphperm.ShortName(f))
	}
	return granted
}

func accessTokenRoles(at string) []string {
	g, ok := jwtclaims.Read(at)
	switch {
	case !ok:
		return nil
	case g.Roles == nil:
		return []string{}
	}
	return g.Roles
}
