package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"golang.org/x/oauth2"

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
		b.WriteString("Signed in and read users, but the token lacks " + strings.Join(r.Missing, " and ") + ": usage reports will not import until an administrator grants it (admin consent).")
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

// TestConnection gets a token the way an import would (for Authorization
// Code this redeems and rotates the stored refresh token, storing the new
// one) and reads one page of one user from Graph.
func TestConnection(ctx context.Context, opts TokenSourceOptions) *TestReport {
	r := &TestReport{}
	ts, err := NewTokenSource(opts)
	if err != nil {
		r.Err, r.Problem = err, err.Error()
		return r
	}
	tok, err := ts.TokenContext(ctx)
	if err != nil {
		r.Err, r.Problem = err, Guidance(err)
		return r
	}
	r.TokenOK = true
	r.Missing = missingPermissions(opts.Conn.AuthFlow, tok)

	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	u := graphResource(opts.Conn.GraphEndpoint) + "/v1.0/users?$top=1&$select=id"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		r.Err, r.Problem = err, fmt.Sprintf("the Graph Endpoint %q is not a valid address", opts.Conn.GraphEndpoint)
		return r
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("client-request-id", newGUID())
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		r.Err = transportError(graphResource(opts.Conn.GraphEndpoint), err)
		r.Problem = r.Err.Error()
		return r
	}
	defer resp.Body.Close()
	r.GraphChecked, r.GraphStatus = true, resp.StatusCode
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode == http.StatusOK {
		r.GraphOK = true
		return r
	}
	var ge struct {
		Error struct {
			Code       string `json:"code"`
			Message    string `json:"message"`
			InnerError struct {
				RequestID string `json:"request-id"`
			} `json:"innerError"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &ge)
	r.RequestID = ge.Error.InnerError.RequestID
	if r.RequestID == "" {
		r.RequestID = resp.Header.Get("request-id")
	}
	switch resp.StatusCode {
	case http.StatusForbidden:
		perm := "Directory.Read.All (delegated, with admin consent)"
		if opts.Conn.AuthFlow == storage.FlowClientCredentials {
			perm = "Directory.Read.All (application permission, with admin consent)"
		}
		r.Problem = fmt.Sprintf("Graph refused to list users (%s: %s). The app needs %s.", ge.Error.Code, ge.Error.Message, perm)
		if !contains(r.Missing, "Directory.Read.All") {
			r.Missing = append([]string{"Directory.Read.All"}, r.Missing...)
		}
	case http.StatusUnauthorized:
		r.Problem = fmt.Sprintf("Graph did not accept the token (%s: %s): check that the Graph Endpoint belongs to the same cloud as the Token Endpoint.", ge.Error.Code, ge.Error.Message)
	default:
		if ge.Error.Code != "" {
			r.Problem = fmt.Sprintf("Graph answered HTTP %d (%s: %s).", resp.StatusCode, ge.Error.Code, ge.Error.Message)
		} else {
			r.Problem = fmt.Sprintf("Graph answered HTTP %d: check the Graph Endpoint address.", resp.StatusCode)
		}
	}
	r.Err = fmt.Errorf("%s", r.Problem)
	return r
}

// missingPermissions compares what was granted with what the import
// needs. Delegated grants are in the token response's scope; application
// roles only in the access token, read without trust as a hint (Graph's
// answer is the real test).
func missingPermissions(flow storage.AuthFlow, tok *oauth2.Token) []string {
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
	parts := strings.Split(at, ".")
	if len(parts) != 3 {
		return nil
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil
	}
	var c struct {
		Roles []string `json:"roles"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return nil
	}
	if c.Roles == nil {
		return []string{}
	}
	return c.Roles
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
