package auth

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
)

// Sentinel errors callers branch on with errors.Is.
var (
	// ErrReauthRequired means the stored refresh token can no longer be used
	// (expired, revoked, missing or its chain broken): only a new sign-in
	// helps.
	ErrReauthRequired = errors.New("the stored sign-in is no longer valid: open the connection and click Generate... (or run `beacon generate NAME`) to sign in again")
	// ErrNotSignedIn means the connection has never been signed in: no
	// refresh token is stored and none was ever recorded. It is also
	// ErrReauthRequired (only a sign-in helps), but says the truth: there
	// never was a sign-in to become invalid (issue 23).
	ErrNotSignedIn error = notSignedIn{}
	// ErrStateMismatch means a redirect carried a state other than the one
	// this app sent: it was not the answer to our request (a stale tab, or a
	// forged request), so nothing was exchanged.
	ErrStateMismatch = errors.New("the sign-in answer does not belong to this sign-in (its state value differs), so it was refused and nothing was exchanged; start Generate... again and use only the newest browser tab")
	// ErrCancelled means the user cancelled (in the app or on the consent page).
	ErrCancelled = errors.New("sign-in cancelled")
	// ErrTimedOut means no answer came from the browser in time.
	ErrTimedOut = errors.New("no answer from the browser in time")
	// ErrPortInUse means the redirect URI's port is taken by another program.
	ErrPortInUse = errors.New("the redirect port is in use by another program")
	// ErrProxyAuth means the proxy refused the proxy user name or password.
	ErrProxyAuth = errors.New("the proxy refused the user name or password (HTTP 407 Proxy Authentication Required): check Username and Password under Proxy Settings")
	// ErrNoBrowser means no browser could be started; show the URL instead.
	ErrNoBrowser = errors.New("no browser could be opened: copy the address and open it in a browser yourself")
)

// Kind is what an *Error means for the person who has to act on it.
type Kind int

const (
	KindUnknown          Kind = iota
	KindCancelled             // the user cancelled on Microsoft's page
	KindAdminApproval         // 90094, 65001, consent_required: an admin must consent
	KindRedirectMismatch      // 50011
	KindWrongClientType       // 7000218 (registered as Web), 9002327 (registered as SPA)
	KindMFA                   // 50076, 53003, interaction_required
	KindExpired               // 70008, 700082
	KindPKCE                  // 501481
	KindSingleTenant          // 50194
	KindInvalidClient         // wrong client ID, wrong or expired secret
	KindReauth                // invalid_grant on a refresh token
	KindUnavailable           // temporarily_unavailable, server_error
	KindInvalidScope          // invalid_scope, invalid_resource
	KindAppNotFound           // 700016
	KindCertificate           // 700027, 700024: the certificate or its assertion was refused
	KindDeclined              // access_denied without Microsoft's admin-approval codes: the person declined
)

// Error is an error answered by Microsoft's identity platform, from the token
// endpoint's JSON body or from the error parameters of an authorize
// redirect. It keeps the IDs support asks for.
type Error struct {
	Op            string // what we were doing: "sign-in", "code exchange", "refresh", ...
	Code          string // the OAuth `error` value, e.g. invalid_grant
	SubCode       string // error_subcode (authorize) or suberror (token)
	Description   string // error_description as sent
	Codes         []int  // AADSTS numbers, from error_codes or the description
	TraceID       string
	CorrelationID string
	Timestamp     string
	ErrorURI      string
	Status        int // HTTP status of the token endpoint's answer, 0 for a redirect
	// AdminConsentURL is filled in for KindAdminApproval by the flow, which
	// knows the tenant and client.
	AdminConsentURL string
	// Provider names who answered ("the identity provider idp.example"),
	// filled in by the flow for Cloud Custom; "" means Microsoft.
	Provider string
}

// Kind classifies the error. Microsoft asks clients to branch on `error`
// and treat AADSTS numbers as detail, so the error value decides first and
// a number only refines it (or decides when the value says nothing).
func (e *Error) Kind() Kind {
	has := func(codes ...int) bool {
		for _, c := range codes {
			for _, got := range e.Codes {
				if c == got {
					return true
				}
			}
		}
		return false
	}
	byCode := func() Kind {
		switch {
		case has(90094, 90095, 65001):
			return KindAdminApproval
		case has(50011):
			return KindRedirectMismatch
		case has(7000218, 9002327):
			return KindWrongClientType
		case has(50076, 50079, 53003, 50158):
			return KindMFA
		case has(70008, 700082, 700084):
			return KindExpired
		case has(501481):
			return KindPKCE
		case has(50194):
			return KindSingleTenant
		case has(700016):
			return KindAppNotFound
		case has(7000215, 7000222):
			return KindInvalidClient
		case has(700027, 700024, 700023):
			return KindCertificate
		}
		return KindUnknown
	}
	switch e.Code {
	case "access_denied":
		if strings.EqualFold(e.SubCode, "cancel") {
			return KindCancelled
		}
		if k := byCode(); k != KindUnknown {
			return k
		}
		// Only Microsoft's AADSTS65001/90094 mean an administrator must
		// approve; a plain access_denied (RFC 6749 §4.1.2.1) is the person
		// declining the consent.
		return KindDeclined
	case "consent_required":
		return KindAdminApproval
	case "interaction_required", "login_required":
		if k := byCode(); k == KindAdminApproval || k == KindMFA {
			return k
		}
		return KindMFA
	case "invalid_grant":
		if k := byCode(); k != KindUnknown {
			return k
		}
		return KindReauth
	case "invalid_client":
		if k := byCode(); k == KindWrongClientType || k == KindAppNotFound || k == KindCertificate {
			return k
		}
		return KindInvalidClient
	case "unauthorized_client":
		if k := byCode(); k != KindUnknown {
			return k
		}
		return KindAppNotFound
	case "temporarily_unavailable", "server_error":
		return KindUnavailable
	case "invalid_scope", "invalid_resource":
		if k := byCode(); k != KindUnknown {
			return k
		}
		return KindInvalidScope
	}
	return byCode()
}

// Is lets errors.Is(err, ErrReauthRequired) and errors.Is(err, ErrCancelled)
// work on Microsoft's answers.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrReauthRequired:
		// Only a refresh can make the stored token unusable; a failed code
		// exchange just needs another try of the same sign-in.
		if e.Op != opRefresh {
			return false
		}
		k := e.Kind()
		return k == KindReauth || k == KindExpired || k == KindMFA || k == KindAdminApproval
	case ErrCancelled:
		return e.Kind() == KindCancelled
	}
	return false
}

// Error is one line: what failed, Microsoft's error value and AADSTS number,
// and the first line of the description (the rest repeats the IDs).
func (e *Error) Error() string {
	var b strings.Builder
	if e.Provider != "" && e.Provider != "Microsoft" {
		b.WriteString(strings.ToUpper(e.Provider[:1]) + e.Provider[1:])
		b.WriteString(" refused the ")
	} else {
		b.WriteString("Microsoft refused the ")
	}
	b.WriteString(e.Op)
	b.WriteString(" (")
	b.WriteString(e.Code)
	if len(e.Codes) > 0 {
		fmt.Fprintf(&b, ", AADSTS%d", e.Codes[0])
	}
	b.WriteString(")")
	if d := e.Summary(); d != "" {
		b.WriteString(": ")
		b.WriteString(d)
	}
	return b.String()
}

// providerName is who answered, for messages.
func (e *Error) providerName() string {
	if e.Provider == "" {
		return "Microsoft"
	}
	return e.Provider
}

// Summary is the description without the trailing Trace ID, Correlation
// ID and Timestamp lines and without the "AADSTS12345: " prefix.
func (e *Error) Summary() string {
	d := e.Description
	if i := strings.IndexAny(d, "\r\n"); i >= 0 {
		d = d[:i]
	}
	d = strings.TrimSpace(aadstsPrefix.ReplaceAllString(d, ""))
	return d
}

var aadstsPrefix = regexp.MustCompile(`^AADSTS\d+:\s*`)

// Guidance says in plain words what to do about the error. It ends with the
// support IDs when Microsoft gave them.
func (e *Error) Guidance() string {
	var g string
	switch e.Kind() {
	case KindCancelled:
		g = "The sign-in was cancelled on Microsoft's page. Click Generate... again when you are ready."
	case KindDeclined:
		g = "You declined the permissions " + e.providerName() + " asked you to grant, so nothing was stored. " +
			"Click Generate... again and accept them when you are ready; the import cannot read the tenant without them."
	case KindAdminApproval:
		g = "An administrator must approve this app for the organisation (the Graph permissions the connection asks for need admin consent). " +
			"Sign in with a Global Administrator or Cloud Application Administrator account and accept \"Consent on behalf of your organization\", " +
			"or send the admin-consent link below to your administrator."
		if e.AdminConsentURL != "" {
			g += "\nAdmin-consent link: " + e.AdminConsentURL
		}
	case KindRedirectMismatch:
		g = "The Redirect URI of this connection is not registered on the app. In the Azure portal open the app registration → Authentication and add exactly this Redirect URI under \"Mobile and desktop applications\" (or change the connection's Redirect URI to one that is listed)."
	case KindWrongClientType:
		g = "The app registration is of the wrong type for signing in from a desktop app. In the Azure portal open the app registration → Authentication, add the Redirect URI under \"Mobile and desktop applications\" (not Web or Single-page application) and set \"Allow public client flows\" to Yes; or use Client Credentials with a client secret instead."
	case KindMFA:
		g = "Your organisation requires multi-factor authentication or a Conditional Access policy blocked this sign-in. Click Generate... again and complete the extra sign-in step in the browser; if it is blocked, ask your administrator to allow this app (trusted location or compliant device)."
	case KindExpired:
		g = "The sign-in expired (codes live about 10 minutes; refresh tokens expire after 90 days unused). Click Generate... to sign in again."
	case KindPKCE:
		g = "Microsoft could not verify this sign-in's proof key (PKCE): the answer was probably completed in another window or reused. Click Generate... again and finish in the newest browser tab."
	case KindSingleTenant:
		g = "The app is registered for a single organisation, so the common endpoint cannot be used. Put your tenant ID or domain in the Token Endpoint and Authorization Endpoint instead of \"common\" (for example https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token), or make the app multi-tenant."
	case KindInvalidClient:
		g = "Microsoft did not accept the application's credentials: check the Application (client) ID, and for Client Credentials that the client secret is the secret's Value (not its ID) and has not expired."
	case KindCertificate:
		g = "Microsoft did not accept the connection's certificate: the app registration does not have this certificate, or it has expired there, or this computer's clock is wrong. " +
			"In the Azure portal open the app registration → Certificates & secrets → Certificates, check that the thumbprint of the connection's certificate is listed and not expired (upload its .cer if not), and check the date and time of this computer."
	case KindAppNotFound:
		g = "No app with this Application (client) ID exists in the tenant: check the ID on the app registration's Overview page and that the endpoints name the right tenant."
	case KindReauth:
		g = "The stored sign-in is no longer valid (revoked, expired or replaced). Click Generate... (or run `beacon generate NAME`) to sign in again."
	case KindUnavailable:
		g = "Microsoft's sign-in service is temporarily unavailable. Try again in a few minutes."
	case KindInvalidScope:
		g = "Microsoft did not accept the requested permissions: check that the Graph Endpoint matches the chosen cloud."
	default:
		g = strings.ToUpper(e.providerName()[:1]) + e.providerName()[1:] + " refused the request. The message and IDs below help your administrator or its support find the cause."
	}
	if s := e.Summary(); s != "" {
		g += "\n" + strings.ToUpper(e.providerName()[:1]) + e.providerName()[1:] + " says: " + s
	}
	return g + e.supportIDs()
}

func (e *Error) supportIDs() string {
	var s string
	if len(e.Codes) > 0 {
		s += "\nError code: AADSTS" + strconv.Itoa(e.Codes[0])
	}
	if e.TraceID != "" {
		s += "\nTrace ID: " + e.TraceID
	}
	if e.CorrelationID != "" {
		s += "\nCorrelation ID: " + e.CorrelationID
	}
	if e.Timestamp != "" {
		s += "\nTimestamp: " + e.Timestamp
	}
	return s
}

// Guidance returns plain-words guidance for any error the package returns:
// Microsoft's errors explain themselves, the sentinels are already phrased
// for people, and anything else is shown as it is.
func Guidance(err error) string {
	if err == nil {
		return ""
	}
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Guidance()
	}
	return err.Error()
}

const (
	opSignIn   = "sign-in"
	opExchange = "code exchange"
	opRefresh  = "refresh"
	opClient   = "client credentials sign-in"
	opDevice   = "device code sign-in"
)

var (
	aadstsNumber  = regexp.MustCompile(`AADSTS(\d{4,9})`)
	traceLine     = regexp.MustCompile(`Trace ID:\s*([0-9A-Fa-f-]{8,64})`)
	correlateLine = regexp.MustCompile(`Correlation ID:\s*([0-9A-Fa-f-]{8,64})`)
	timestampLine = regexp.MustCompile(`Timestamp:\s*([0-9T:. Z+-]{10,40})`)
)

// fillFromDescription completes codes and IDs the body did not carry
// separately: authorize redirects only have them inside error_description.
func (e *Error) fillFromDescription() {
	if len(e.Codes) == 0 {
		for _, m := range aadstsNumber.FindAllStringSubmatch(e.Description, 3) {
			if n, err := strconv.Atoi(m[1]); err == nil {
				e.Codes = append(e.Codes, n)
			}
		}
	}
	if e.TraceID == "" {
		if m := traceLine.FindStringSubmatch(e.Description); m != nil {
			e.TraceID = m[1]
		}
	}
	if e.CorrelationID == "" {
		if m := correlateLine.FindStringSubmatch(e.Description); m != nil {
			e.CorrelationID = m[1]
		}
	}
	if e.Timestamp == "" {
		if m := timestampLine.FindStringSubmatch(e.Description); m != nil {
			e.Timestamp = strings.TrimSpace(m[1])
		}
	}
}

// ParseErrorBody reads a token endpoint's error answer. It returns nil when
// the body is not Microsoft's JSON error shape.
func ParseErrorBody(op string, status int, body []byte) *Error {
	var j struct {
		Error         string          `json:"error"`
		Description   string          `json:"error_description"`
		Codes         []int           `json:"error_codes"`
		Timestamp     string          `json:"timestamp"`
		TraceID       string          `json:"trace_id"`
		CorrelationID string          `json:"correlation_id"`
		ErrorURI      string          `json:"error_uri"`
		SubError      string          `json:"suberror"`
		Claims        json.RawMessage `json:"claims"`
	}
	if json.Unmarshal(body, &j) != nil || j.Error == "" {
		return nil
	}
	e := &Error{
		Op: op, Code: j.Error, SubCode: j.SubError, Description: j.Description,
		Codes: j.Codes, TraceID: j.TraceID, CorrelationID: j.CorrelationID,
		Timestamp: j.Timestamp, ErrorURI: j.ErrorURI, Status: status,
	}
	e.fillFromDescription()
	return e
}

// ParseAuthorizeError reads the error parameters of an authorize redirect.
// It returns nil when there is no `error` parameter.
func ParseAuthorizeError(q url.Values) *Error {
	if q.Get("error") == "" {
		return nil
	}
	e := &Error{
		Op: opSignIn, Code: q.Get("error"), SubCode: q.Get("error_subcode"),
		Description: q.Get("error_description"), ErrorURI: q.Get("error_uri"),
		TraceID: q.Get("trace_id"), CorrelationID: q.Get("correlation_id"),
	}
	e.fillFromDescription()
	return e
}

// fromRetrieve turns an oauth2 error into an *Error where Microsoft sent
// its JSON shape, and into a plain wrapped error otherwise (a proxy's HTML
// page, a network failure).
func fromRetrieve(op, endpoint string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		if e := ParseErrorBody(op, status, re.Body); e != nil {
			return e
		}
		if re.ErrorCode != "" {
			e := &Error{Op: op, Code: re.ErrorCode, Description: re.ErrorDescription, ErrorURI: re.ErrorURI, Status: status}
			e.fillFromDescription()
			return e
		}
		if status == 407 {
			return ErrProxyAuth
		}
		return fmt.Errorf("the token endpoint %s answered HTTP %d, not a token: check the Token Endpoint address and the proxy settings", endpoint, status)
	}
	return TransportError(endpoint, err)
}

// TransportError explains a failure to reach an endpoint (the token endpoint
// here, Graph for service's Test Connection): an untrusted certificate
// points at the Proxy CA Certificate setting, a refusing proxy is
// ErrProxyAuth.
func TransportError(endpoint string, err error) error {
	if errors.Is(err, ErrProxyAuth) {
		return ErrProxyAuth
	}
	var tooLarge *AnswerTooLargeError
	if errors.As(err, &tooLarge) {
		return tooLarge // the endpoint was reached: "could not reach" would mislead
	}
	var unknownCA x509.UnknownAuthorityError
	if errors.As(err, &unknownCA) {
		// Almost always a proxy or firewall that inspects HTTPS and signs
		// with the organisation's own certificate authority.
		return fmt.Errorf("could not reach %s: %w. The connection is being re-signed by a certificate this computer does not trust, "+
			"usually a proxy or firewall that inspects HTTPS: ask its administrator for the organisation's CA certificate (a PEM file) "+
			"and choose it under Proxy CA Certificate in the connection's settings", endpoint, err)
	}
	return fmt.Errorf("could not reach %s: %w. Check the address, the network and the proxy settings", endpoint, err)
}

type notSignedIn struct{}

func (notSignedIn) Error() string {
	return "no sign-in yet: open the connection and click Generate... (or run `beacon generate NAME`) to sign in"
}

// Is makes a connection never signed in one that needs a sign-in.
func (notSignedIn) Is(target error) bool { return target == ErrReauthRequired }
