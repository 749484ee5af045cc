package auth

import (
	"strings"

	"golang.org/x/oauth2"

	"github.com/inventorybeacon/beacon/internal/jwtclaims"
	"github.com/inventorybeacon/beacon/storage"
)

// MissingPermissions compares what a token was granted with what an import
// needs (Directory.Read.All, Reports.Read.All) and returns the short names
// of those missing. Delegated grants are in the token response's scope;
// application roles only in the access token, read without trust as a
// hint (Graph's answer is the real test). nil means nothing to report,
// also when the token says nothing readable about its grants.
func MissingPermissions(flow storage.AuthFlow, tok *oauth2.Token) []string {
	var granted []string
	if flow == storage.FlowClientCredentials {
		granted = accessTokenRoles(tok.AccessToken)
		if granted == nil {
			return nil // not a readable JWT: no hint
		}
	} else {
		s, _ := tok.Extra("scope").(string)
		if s == "" {
			return nil
		}
		for _, f := range strings.Fields(s) {
			granted = append(granted, f[strings.LastIndex(f, "/")+1:])
		}
	}
	var missing []string
	for _, need := range []string{"Directory.Read.All", "Reports.Read.All"} {
		if !containsFold(granted, need) {
			missing = append(missing, need)
		}
	}
	return missing
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

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
