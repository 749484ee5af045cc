package identity

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

// aadError is one failure as the identity platform reports it: an OAuth
// error value, an AADSTS code and its message.
type aadError struct {
	status   int    // HTTP status on the token endpoint
	err      string // OAuth error value
	code     int    // AADSTS number
	msg      string // text after "AADSTSnnnn: "
	suberror string // token endpoint "suberror" (consent_required, bad_token)
	subcode  string // authorize redirect "error_subcode" (cancel)
}

func (e *aadError) Error() string { return fmt.Sprintf("AADSTS%d: %s", e.code, e.msg) }

func newErr(status int, errValue string, code int, format string, args ...any) *aadError {
	return &aadError{status: status, err: errValue, code: code, msg: fmt.Sprintf(format, args...)}
}

// Errors the token endpoint and the pages share. Messages are Microsoft's
// where public bug reports quote them.
func errMissingParam(name string) *aadError {
	return newErr(400, "invalid_request", 900144, "The request body must contain the following parameter: '%s'.", name)
}

func errUnknownClient(appID, tenantName string) *aadError {
	return newErr(400, "unauthorized_client", 700016,
		"Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
		appID, tenantName)
}

func errTenantNotFound(seg string) *aadError {
	return newErr(400, "invalid_request", 90002,
		"Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", seg)
}

func errNotMultiTenant(a appInfo) *aadError {
	return newErr(400, "invalid_request", 50194,
		"Application '%s'(%s) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant.",
		a.AppID, a.DisplayName)
}

func errNoTenantInfo() *aadError {
	return newErr(400, "invalid_request", 50059,
		"No tenant-identifying information found in either the request or implied by any provided credentials.")
}

func errConsentRequired(a appInfo) *aadError {
	e := newErr(400, "invalid_grant", 65001,
		"The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.",
		a.AppID, a.DisplayName)
	e.suberror = "consent_required"
	return e
}

// Correlation IDs echo the client's client-request-id when it is a GUID, as
// Microsoft does, so a client can match its logs with the error.
var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

type errorIDs struct {
	trace, correlation, timestamp string
}

func (s *Server) ids(r *http.Request) errorIDs {
	corr := r.Header.Get("client-request-id")
	if !guidRE.MatchString(corr) {
		corr = newGUID()
	}
	return errorIDs{trace: newGUID(), correlation: corr, timestamp: s.now().UTC().Format("2006-01-02 15:04:05Z")}
}

func (e *aadError) description(ids errorIDs) string {
	return fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
		e.code, e.msg, ids.trace, ids.correlation, ids.timestamp)
}

// tokenErrorBody is the token endpoint's error JSON, fields in Microsoft's
// order.
type tokenErrorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
	ErrorURI         string `json:"error_uri"`
	Suberror         string `json:"suberror,omitempty"`
}

func (s *Server) writeTokenError(w http.ResponseWriter, r *http.Request, e *aadError) {
	s.count(func(st *Stats) { st.Errors[e.code]++ })
	ids := s.ids(r)
	body := tokenErrorBody{
		Error: e.err, ErrorDescription: e.description(ids), ErrorCodes: []int{e.code},
		Timestamp: ids.timestamp, TraceID: ids.trace, CorrelationID: ids.correlation,
		ErrorURI: baseURL(r) + "/error?code=" + strconv.Itoa(e.code), Suberror: e.suberror,
	}
	status := e.status
	if status == 0 {
		status = http.StatusBadRequest
	}
	writeJSON(w, r, status, ids, body)
}

func writeJSON(w http.ResponseWriter, r *http.Request, status int, ids errorIDs, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store, no-cache")
	h.Set("Pragma", "no-cache")
	h.Set("x-ms-request-id", ids.trace)
	if c := r.Header.Get("client-request-id"); c != "" && guidRE.MatchString(c) {
		h.Set("client-request-id", c)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// serveErrorInfo is the page error_uri links to.
func (s *Server) serveErrorInfo(w http.ResponseWriter, r *http.Request) {
	code, _ := strconv.Atoi(r.URL.Query().Get("code"))
	renderPage(w, http.StatusOK, "errorinfo", pageData{Title: "Error lookup", Code: code})
}

// stableGUID derives a GUID-shaped id from a name, for objects the tenant
// does not hold (a service principal stand-in, pairwise subjects).
func stableGUID(name string) string {
	b := sha256.Sum256([]byte(name))
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// msTime formats a time as Microsoft's messages do (7 fractional digits).
func msTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }
