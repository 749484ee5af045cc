package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/inventorybeacon/beacon/internal/answer"
)

// ErrForbidden matches (errors.Is) a 403 from Graph: the app or the
// signed-in account lacks a permission (Authorization_RequestDenied), or,
// for usage reports, the account holds no reports role (S2SUnauthorized).
var ErrForbidden = errors.New("Microsoft Graph refused access")

// ErrNoPremium matches Graph's 403
// Authentication_RequestFromNonPremiumTenantOrB2CTenant: the tenant has no
// Microsoft Entra ID P1 licence, which signInActivity needs.
var ErrNoPremium = errors.New("the tenant has no Microsoft Entra ID P1 licence")

// ErrUnauthorized matches a 401 that a fresh token did not cure.
var ErrUnauthorized = errors.New("Microsoft Graph did not accept the access token")

// GraphError is an error answer of Microsoft Graph.
type GraphError struct {
	Status          int
	Code            string
	Message         string
	RequestID       string
	ClientRequestID string
	Date            string
	// Path is the request's path (no query, which may carry a
	// pre-authenticated download signature).
	Path string
}

func (e *GraphError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Microsoft Graph answered %d %s", e.Status, http.StatusText(e.Status))
	if e.Path != "" {
		fmt.Fprintf(&b, " to %s", e.Path)
	}
	if e.Code != "" || e.Message != "" {
		fmt.Fprintf(&b, ": %s: %s", e.Code, e.Message)
	}
	if hint := e.hint(); hint != "" {
		b.WriteString(" — ")
		b.WriteString(hint)
	}
	if e.RequestID != "" || e.ClientRequestID != "" {
		fmt.Fprintf(&b, " (request-id %s, client-request-id %s, date %s)", e.RequestID, e.ClientRequestID, e.Date)
	}
	return b.String()
}

// S2SUnauthorized reports whether this is the usage reports' refusal for an
// account without a reports role.
func (e *GraphError) S2SUnauthorized() bool {
	return e.Status == http.StatusForbidden && strings.Contains(e.Message, "S2SUnauthorized")
}

// noPremium is the refusal of signInActivity to a tenant without P1.
func (e *GraphError) noPremium() bool {
	return e.Status == http.StatusForbidden && e.Code == "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
}

func (e *GraphError) hint() string {
	switch {
	case e.noPremium():
		return "sign-in activity needs a Microsoft Entra ID P1 (or P2) licence in the tenant"
	case e.S2SUnauthorized():
		return "reading usage reports needs the Reports.Read.All permission and, for a signed-in account, an administrator role such as Reports Reader or Global Reader; ask an administrator to assign one"
	case e.Status == http.StatusForbidden:
		return "the app or the signed-in account lacks a permission; ask an administrator to grant admin consent, then sign in again"
	case e.Status == http.StatusUnauthorized:
		return "sign in again with Generate..."
	case e.Status == http.StatusTooManyRequests:
		return "Microsoft kept throttling; try again later"
	}
	return ""
}

// Is makes errors.Is(err, ErrForbidden), ErrNoPremium and ErrUnauthorized
// work (a no-P1 refusal is a 403, so it matches ErrForbidden too).
func (e *GraphError) Is(target error) bool {
	switch target {
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrNoPremium:
		return e.noPremium()
	}
	return false
}

// parseError builds a GraphError from an error response (body already
// read, at most a few KiB).
func parseError(resp *http.Response, body []byte, clientRequestID string) *GraphError {
	e := &GraphError{Status: resp.StatusCode, RequestID: resp.Header.Get("request-id"),
		ClientRequestID: clientRequestID, Date: resp.Header.Get("Date")}
	if resp.Request != nil && resp.Request.URL != nil {
		e.Path = resp.Request.URL.Path
	}
	var env struct {
		Error struct {
			Code       string `json:"code"`
			Message    string `json:"message"`
			InnerError struct {
				Date            string `json:"date"`
				RequestID       string `json:"request-id"`
				ClientRequestID string `json:"client-request-id"`
			} `json:"innerError"`
		} `json:"error"`
	}
	// Some gateways put a UTF-8 byte order mark before the JSON, which
	// encoding/json refuses: the code and message would be lost.
	body = bytes.TrimPrefix(body, []byte("\ufeff"))
	if json.Unmarshal(body, &env) == nil {
		e.Code, e.Message = env.Error.Code, env.Error.Message
		if v := env.Error.InnerError.RequestID; v != "" {
			e.RequestID = v
		}
		if v := env.Error.InnerError.ClientRequestID; v != "" {
			e.ClientRequestID = v
		}
		if v := env.Error.InnerError.Date; v != "" {
			e.Date = v
		}
	}
	return e
}

// tooLarge is the error for a Graph answer to resp's request, holding
// what (a short answer outside imports), that reached answer.Max bytes.
func tooLarge(resp *http.Response, what string) *answer.TooLargeError {
	return &answer.TooLargeError{URL: answer.Endpoint(resp.Request), Expected: what,
		Service: "Microsoft Graph", Check: "Graph Endpoint"}
}
