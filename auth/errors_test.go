package auth

import (
	"crypto/x509"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/inventorybeacon/beacon/storage"
)

// The refresh-token-expired body of microsoft-wire.md, verbatim in shape.
const expiredBody = `{"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired due to inactivity. The token was issued on 2026-01-01T00:00:00Z and was inactive for 90.00:00:00.\r\nTrace ID: 0b4f1c7e-1d2a-4a55-9b3c-2f6a7e1c0100\r\nCorrelation ID: 7a1e2c3d-4b5f-4e6a-8c7d-9e0f1a2b3c4d\r\nTimestamp: 2026-04-01 10:00:00Z","error_codes":[700082],"timestamp":"2026-04-01 10:00:00Z","trace_id":"0b4f1c7e-1d2a-4a55-9b3c-2f6a7e1c0100","correlation_id":"7a1e2c3d-4b5f-4e6a-8c7d-9e0f1a2b3c4d","error_uri":"https://login.microsoftonline.com/error?code=700082"}`

func TestParseErrorBodyWireShape(t *testing.T) {
	e := ParseErrorBody(opRefresh, 400, []byte(expiredBody))
	if e == nil {
		t.Fatal("no error parsed")
	}
	if e.Code != "invalid_grant" || len(e.Codes) != 1 || e.Codes[0] != 700082 {
		t.Fatalf("code %q codes %v", e.Code, e.Codes)
	}
	if e.TraceID != "0b4f1c7e-1d2a-4a55-9b3c-2f6a7e1c0100" || e.CorrelationID != "7a1e2c3d-4b5f-4e6a-8c7d-9e0f1a2b3c4d" {
		t.Fatalf("ids %q %q", e.TraceID, e.CorrelationID)
	}
	if e.Kind() != KindExpired {
		t.Fatalf("kind %v", e.Kind())
	}
	if !errors.Is(e, ErrReauthRequired) {
		t.Fatal("an expired refresh token must mean re-run Generate")
	}
	g := e.Guidance()
	for _, want := range []string{"Generate...", "Trace ID: 0b4f1c7e", "Correlation ID: 7a1e2c3d", "AADSTS700082", "expired due to inactivity"} {
		if !strings.Contains(g, want) {
			t.Errorf("guidance lacks %q:\n%s", want, g)
		}
	}
	if strings.Contains(e.Error(), "\n") {
		t.Errorf("Error() must be one line: %q", e.Error())
	}
	if ParseErrorBody(opRefresh, 502, []byte("<html>bad gateway</html>")) != nil {
		t.Error("an HTML page is not Microsoft's error")
	}
}

// Microsoft says: branch on error first, codes second.
func TestKindBranchesOnErrorFirst(t *testing.T) {
	cases := []struct {
		code    string
		sub     string
		codes   []int
		op      string
		want    Kind
		reauth  bool
		cancels bool
	}{
		{code: "access_denied", sub: "cancel", want: KindCancelled, cancels: true},
		{code: "access_denied", codes: []int{90094}, want: KindAdminApproval},
		{code: "consent_required", codes: []int{65001}, want: KindAdminApproval},
		{code: "invalid_request", codes: []int{50011}, want: KindRedirectMismatch},
		{code: "invalid_client", codes: []int{7000218}, want: KindWrongClientType},
		{code: "invalid_request", codes: []int{9002327}, want: KindWrongClientType},
		{code: "interaction_required", codes: []int{50076}, want: KindMFA},
		{code: "interaction_required", codes: []int{53003}, want: KindMFA},
		{code: "invalid_grant", codes: []int{70008}, want: KindExpired},
		{code: "invalid_grant", codes: []int{501481}, want: KindPKCE},
		{code: "invalid_request", codes: []int{50194}, want: KindSingleTenant},
		{code: "invalid_grant", codes: []int{70000}, op: opRefresh, want: KindReauth, reauth: true},
		{code: "invalid_grant", codes: []int{70000}, op: opExchange, want: KindReauth},
		// The error value wins over a misleading number.
		{code: "temporarily_unavailable", codes: []int{90094}, want: KindUnavailable},
		{code: "invalid_client", codes: []int{50011}, want: KindInvalidClient},
	}
	for _, c := range cases {
		op := c.op
		if op == "" {
			op = opSignIn
		}
		e := &Error{Op: op, Code: c.code, SubCode: c.sub, Codes: c.codes}
		if got := e.Kind(); got != c.want {
			t.Errorf("%s %v: kind %v, want %v", c.code, c.codes, got, c.want)
		}
		if errors.Is(e, ErrReauthRequired) != c.reauth {
			t.Errorf("%s %v: reauth %v", c.code, c.codes, !c.reauth)
		}
		if errors.Is(e, ErrCancelled) != c.cancels {
			t.Errorf("%s %v: cancelled %v", c.code, c.codes, !c.cancels)
		}
	}
}

func TestAuthorizeErrorFromRedirect(t *testing.T) {
	q, _ := url.ParseQuery("error=access_denied&error_description=AADSTS90094%3a+The+grant+requires+admin+permission.%0d%0aTrace+ID%3a+11111111-2222-3333-4444-555555555555%0d%0aCorrelation+ID%3a+66666666-7777-8888-9999-000000000000&state=x")
	e := ParseAuthorizeError(q)
	if e == nil || e.Kind() != KindAdminApproval || e.TraceID != "11111111-2222-3333-4444-555555555555" || e.CorrelationID != "66666666-7777-8888-9999-000000000000" {
		t.Fatalf("%+v", e)
	}
	conn := storage.Connection{
		AuthorizationEndpoint: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
		ClientID:              "5bb1a5a2-0d97-4335-9448-119f7b27aff9",
		RedirectURI:           "http://localhost",
		GraphEndpoint:         "https://graph.microsoft.com",
	}
	e.AdminConsentURL = AdminConsentURL(conn, "")
	u, err := url.Parse(e.AdminConsentURL)
	if err != nil || u.Path != "/organizations/v2.0/adminconsent" || u.Query().Get("client_id") != conn.ClientID ||
		u.Query().Get("scope") != "https://graph.microsoft.com/Directory.Read.All https://graph.microsoft.com/Reports.Read.All" {
		t.Fatalf("admin consent URL %q", e.AdminConsentURL)
	}
	if !strings.Contains(e.Guidance(), e.AdminConsentURL) {
		t.Fatal("the guidance must carry the admin-consent link")
	}
	// A known tenant is used instead of organizations; common never.
	if got := AdminConsentURL(conn, "contoso.onmicrosoft.com"); !strings.Contains(got, "/contoso.onmicrosoft.com/v2.0/adminconsent") {
		t.Fatal(got)
	}
}

func FuzzParseErrorBody(f *testing.F) {
	f.Add([]byte(expiredBody))
	f.Add([]byte(`{"error":"access_denied","error_codes":"x"}`))
	f.Add([]byte(`{"error":"a","error_description":"AADSTS1234567890123: Trace ID: zz"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if e := ParseErrorBody(opRefresh, 400, b); e != nil {
			_ = e.Guidance()
			_ = e.Error()
		}
	})
}

// TestTransportErrorNamesTheCACertificateSetting: a certificate signed by
// an unknown authority (an HTTPS-inspecting proxy) points the admin at the
// Proxy CA Certificate setting; other failures keep the general advice.
func TestTransportErrorNamesTheCACertificateSetting(t *testing.T) {
	unknown := &url.Error{Op: "Post", URL: "https://login.example/token", Err: x509.UnknownAuthorityError{}}
	err := TransportError("https://login.example/token", unknown)
	if !strings.Contains(err.Error(), "Proxy CA Certificate") || !errors.As(err, new(x509.UnknownAuthorityError)) {
		t.Errorf("unknown authority: %v", err)
	}
	err = TransportError("https://login.example/token", errors.New("connection refused"))
	if strings.Contains(err.Error(), "Proxy CA Certificate") || !strings.Contains(err.Error(), "proxy settings") {
		t.Errorf("refused: %v", err)
	}
}

// The consent link asks for the profile's permissions (.default for
// Client Credentials), and a Custom provider laid out otherwise than
// Microsoft's identity platform gets none.
func TestAdminConsentURLProfiles(t *testing.T) {
	conn := storage.Connection{Cloud: "Global", ClientID: "5bb1a5a2-0d97-4335-9448-119f7b27aff9", RedirectURI: "http://localhost",
		AuthorizationEndpoint: "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize",
		GraphEndpoint:         "https://graph.microsoft.com", Permissions: "least-privilege", SignInActivity: true}
	u, err := url.Parse(AdminConsentURL(conn, ""))
	if err != nil || u.Query().Get("scope") != "https://graph.microsoft.com/User.Read.All https://graph.microsoft.com/LicenseAssignment.Read.All "+
		"https://graph.microsoft.com/Reports.Read.All https://graph.microsoft.com/Application.Read.All https://graph.microsoft.com/AuditLog.Read.All" {
		t.Fatalf("least privilege: %v %v", u, err)
	}
	conn.AuthFlow = storage.FlowClientCredentials
	if u, _ := url.Parse(AdminConsentURL(conn, "")); u.Query().Get("scope") != "https://graph.microsoft.com/.default" {
		t.Fatalf("client credentials: %v", u)
	}
	conn.Cloud = "Custom"
	conn.AuthorizationEndpoint = "https://sim.example/contoso/oauth2/v2.0/authorize"
	if AdminConsentURL(conn, "") == "" {
		t.Fatal("a Custom cloud laid out as Microsoft's has the page")
	}
	conn.AuthorizationEndpoint = "https://idp.example/oauth/v2/authorize"
	if got := AdminConsentURL(conn, ""); got != "" {
		t.Fatalf("another provider: %q", got)
	}
}

// A plain access_denied is the person declining, not an administrator's
// approval (only Microsoft's AADSTS65001/90094 mean that), and a Custom
// provider's refusal names it, not Microsoft.
func TestDeclinedAndProviderName(t *testing.T) {
	e := &Error{Op: "sign-in", Code: "access_denied", Description: "The resource owner denied the request."}
	if e.Kind() != KindDeclined || !strings.Contains(e.Guidance(), "You declined") || e.AdminConsentURL != "" {
		t.Fatalf("declined: %v %q", e.Kind(), e.Guidance())
	}
	conn := storage.Connection{Cloud: "Custom", Issuer: "https://idp.example/", ClientID: "beacon", AuthorizationEndpoint: "https://idp.example/oauth/v2/authorize"}
	err := decorate(conn, &Error{Op: "code exchange", Code: "access_denied", Codes: []int{65001}}, "")
	var ae *Error
	if !errors.As(err, &ae) || ae.Kind() != KindAdminApproval || ae.AdminConsentURL != "" || !strings.HasPrefix(err.Error(), "The identity provider idp.example refused") {
		t.Fatalf("custom: %v, link %q", err, ae.AdminConsentURL)
	}
	if got := ProviderName(storage.Connection{Cloud: "Global"}); got != "Microsoft" {
		t.Fatalf("global: %q", got)
	}
}
