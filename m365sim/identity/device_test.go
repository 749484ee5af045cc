package identity

import (
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func (e *env) deviceCode(t *testing.T, seg string) (map[string]any, []byte) {
	t.Helper()
	s, m, raw := e.post(t, "/"+seg+"/oauth2/v2.0/devicecode", url.Values{"client_id": {publicApp}, "scope": {productSc}})
	if s != 200 {
		t.Fatalf("devicecode: %d %s", s, raw)
	}
	return m, raw
}

func (e *env) poll(t *testing.T, dc string) (int, string, map[string]any) {
	t.Helper()
	s, m, _ := e.post(t, "/common/oauth2/v2.0/token", url.Values{"client_id": {publicApp}, "grant_type": {deviceCodeGrant}, "device_code": {dc}})
	errv, _ := m["error"].(string)
	return s, errv, m
}

// enterCode plays the user at the verification page up to the consent
// page's button.
func (e *env) enterCode(t *testing.T, userCode, upn, password, action string) *browser {
	t.Helper()
	b := e.browser(t)
	if status, _ := b.get(e.url("/common/oauth2/deviceauth")); status != 200 {
		t.Fatalf("deviceauth page: %d", status)
	}
	b.expectPage(`id="otc"`)
	b.submit("otc", userCode)
	b.expectPage("Pick an account")
	b.submit("upn", upn)
	if strings.Contains(b.page, "Enter password") {
		b.submit("upn", upn, "password", password)
	}
	b.expectPage("Are you trying to sign in to Inventory Beacon?")
	b.submit("action", action)
	return b
}

func TestDeviceCodeFlow(t *testing.T) {
	e := newEnv(t)
	m, raw := e.deviceCode(t, "organizations")
	if got, want := orderedKeys(t, raw), []string{"user_code", "device_code", "verification_uri", "expires_in", "interval", "message"}; !reflect.DeepEqual(got, want) {
		t.Errorf("fields %v", got)
	}
	golden(t, "devicecode.json", normalize(raw))
	dc, uc := m["device_code"].(string), m["user_code"].(string)
	if m["verification_uri"] != e.url("/common/oauth2/deviceauth") || !strings.Contains(m["message"].(string), uc) {
		t.Errorf("answer %v", m)
	}

	if _, errv, m := e.poll(t, dc); errv != "authorization_pending" || !strings.HasPrefix(m["error_description"].(string), "AADSTS70016") {
		t.Fatalf("first poll: %v", m)
	}
	// Polling again at once is too fast; the interval then grows by 5 s.
	if _, errv, _ := e.poll(t, dc); errv != "slow_down" {
		t.Fatalf("fast poll: %s", errv)
	}
	e.clock.Advance(5 * time.Second)
	if _, errv, _ := e.poll(t, dc); errv != "slow_down" {
		t.Fatalf("5 s after slow_down: %s", errv)
	}
	// Each slow_down adds 5 s: the interval is 15 s now.
	e.clock.Advance(15 * time.Second)
	if _, errv, _ := e.poll(t, dc); errv != "authorization_pending" {
		t.Fatalf("15 s later: %s", errv)
	}

	// The user types the code in lower case with a dash, as people do.
	typed := strings.ToLower(uc[:4] + "-" + uc[4:])
	b := e.enterCode(t, typed, adminUPN, adminPW, "accept")
	b.expectPage("You have signed in to the Inventory Beacon application on your device.")

	e.clock.Advance(15 * time.Second)
	s, errv, tok := e.poll(t, dc)
	if s != 200 || errv != "" || tok["refresh_token"] == nil || tok["id_token"] == nil || tok["expires_in"] != float64(3599) {
		t.Fatalf("poll after approval: %d %v", s, tok)
	}
	e.clock.Advance(10 * time.Second)
	if _, errv, _ := e.poll(t, dc); errv != "invalid_grant" {
		t.Errorf("second redemption: %s", errv)
	}
	// A used code cannot be entered again.
	b = e.browser(t)
	b.get(e.url("/common/oauth2/deviceauth"))
	b.submit("otc", uc)
	b.expectPage("already been used")
	st := e.srv.Stats()
	if st.DeviceCodesIssued != 1 || st.DeviceCodesRedeemed != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestDeviceCodeExpiredAndDeclined(t *testing.T) {
	e := newEnv(t)
	m, _ := e.deviceCode(t, tenantID)
	e.clock.Advance(15 * time.Minute)
	if _, errv, m := e.poll(t, m["device_code"].(string)); errv != "expired_token" || !strings.HasPrefix(m["error_description"].(string), "AADSTS70020") {
		t.Errorf("expired: %v", m)
	}
	b := e.browser(t)
	b.get(e.url("/common/oauth2/deviceauth"))
	b.submit("otc", m["user_code"].(string))
	b.expectPage("That code has expired")
	b.submit("otc", "NOTACODE1")
	b.expectPage("That code didn")

	m, _ = e.deviceCode(t, tenantID)
	e.enterCode(t, m["user_code"].(string), adminUPN, adminPW, "cancel").expectPage("You didn")
	if _, errv, _ := e.poll(t, m["device_code"].(string)); errv != "authorization_declined" {
		t.Errorf("declined: %s", errv)
	}
	if _, errv, _ := e.poll(t, "DAQABAAEAAAnonsense"); errv != "bad_verification_code" {
		t.Errorf("unknown device code: %s", errv)
	}
}

// x/oauth2's device flow against the simulator, on the real clock with a
// one-second interval.
func TestDeviceCodeWithOAuth2Client(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Now = nil; o.DeviceCodeInterval = time.Second })
	conf := e.oauth(publicApp, "", "common", strings.Fields(productSc)...)
	da, err := conf.DeviceAuth(bg)
	if err != nil {
		t.Fatal(err)
	}
	if da.Interval != 1 || da.VerificationURI == "" || da.Expiry.IsZero() {
		t.Fatalf("device auth %+v", da)
	}
	e.enterCode(t, da.UserCode, adminUPN, adminPW, "accept")
	tok, err := conf.DeviceAccessToken(bg, da)
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || tok.AccessToken == "" {
		t.Errorf("token %+v", tok)
	}
	// Declined: x/oauth2 reports Microsoft's error.
	da, _ = conf.DeviceAuth(bg)
	e.enterCode(t, da.UserCode, adminUPN, adminPW, "cancel")
	_, err = conf.DeviceAccessToken(bg, da)
	if re, ok := err.(*oauth2.RetrieveError); !ok || re.ErrorCode != "authorization_declined" || re.Response.StatusCode != http.StatusBadRequest {
		t.Errorf("declined: %v", err)
	}
}

// pollAs polls with a given spelling of the device code grant, sending a
// client-request-id as MSAL does.
func (e *env) pollAs(t *testing.T, grant, dc, requestID string) (int, map[string]any, []byte) {
	t.Helper()
	return e.post(t, "/common/oauth2/v2.0/token", url.Values{"client_id": {publicApp}, "grant_type": {grant}, "device_code": {dc}},
		"client-request-id", requestID)
}

// checkPollError checks that a polling error carries what Microsoft's
// client libraries read from it: error (they branch on it), the
// description, error_codes, timestamp, trace_id, correlation_id (echoing
// the client-request-id) and error_uri, in Microsoft's order.
func checkPollError(t *testing.T, what string, status int, m map[string]any, raw []byte, wantErr string, wantCode int, requestID string) {
	t.Helper()
	if status != http.StatusBadRequest || m["error"] != wantErr {
		t.Fatalf("%s: %d %s, want 400 %s", what, status, raw, wantErr)
	}
	want := []string{"error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id", "error_uri"}
	if got := orderedKeys(t, raw); !reflect.DeepEqual(got, want) {
		t.Errorf("%s: fields %v, want %v", what, got, want)
	}
	codes, _ := m["error_codes"].([]any)
	if len(codes) != 1 || codes[0] != float64(wantCode) {
		t.Errorf("%s: error_codes %v, want [%d]", what, m["error_codes"], wantCode)
	}
	desc, _ := m["error_description"].(string)
	if !strings.HasPrefix(desc, "AADSTS"+strconv.Itoa(wantCode)+": ") || !strings.Contains(desc, "\r\nTrace ID: "+m["trace_id"].(string)) ||
		!strings.Contains(desc, "\r\nCorrelation ID: "+requestID) || !strings.Contains(desc, "\r\nTimestamp: "+m["timestamp"].(string)) {
		t.Errorf("%s: description %q", what, desc)
	}
	if m["correlation_id"] != requestID || !guidRE.MatchString(m["trace_id"].(string)) {
		t.Errorf("%s: correlation_id %v trace_id %v", what, m["correlation_id"], m["trace_id"])
	}
	if _, err := time.Parse("2006-01-02 15:04:05Z", m["timestamp"].(string)); err != nil {
		t.Errorf("%s: timestamp %v", what, m["timestamp"])
	}
}

// Both spellings of the grant (RFC 8628's URN and MSAL's "device_code")
// go through the whole flow, with every polling error carrying the fields
// MSAL reads. The interval clients wait comes from the devicecode answer
// (MSAL reads it there and adds 5 s itself on slow_down, as RFC 8628 says),
// so the error bodies carry none, as Microsoft's do not.
func TestDeviceCodeGrantSpellings(t *testing.T) {
	for _, grant := range []string{deviceCodeGrant, "device_code"} {
		t.Run(grant, func(t *testing.T) {
			e := newEnv(t)
			const rid = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
			m, _ := e.deviceCode(t, tenantID)
			if m["interval"] != float64(5) {
				t.Errorf("interval %v, want 5", m["interval"])
			}
			dc := m["device_code"].(string)
			s, pm, raw := e.pollAs(t, grant, dc, rid)
			checkPollError(t, "pending", s, pm, raw, "authorization_pending", 70016, rid)
			s, pm, raw = e.pollAs(t, grant, dc, rid)
			checkPollError(t, "too fast", s, pm, raw, "slow_down", 70000, rid)
			e.clock.Advance(10 * time.Second)
			e.enterCode(t, m["user_code"].(string), adminUPN, adminPW, "accept")
			s, tok, raw := e.pollAs(t, grant, dc, rid)
			if s != 200 || tok["access_token"] == nil || tok["refresh_token"] == nil {
				t.Fatalf("approved: %d %s", s, raw)
			}

			m, _ = e.deviceCode(t, tenantID)
			e.enterCode(t, m["user_code"].(string), adminUPN, adminPW, "cancel")
			s, pm, raw = e.pollAs(t, grant, m["device_code"].(string), rid)
			checkPollError(t, "declined", s, pm, raw, "authorization_declined", 70000, rid)

			m, _ = e.deviceCode(t, tenantID)
			e.clock.Advance(15 * time.Minute)
			s, pm, raw = e.pollAs(t, grant, m["device_code"].(string), rid)
			checkPollError(t, "expired", s, pm, raw, "expired_token", 70020, rid)

			s, pm, raw = e.pollAs(t, grant, "DAQABAAEAAAnonsense", rid)
			checkPollError(t, "unknown code", s, pm, raw, "bad_verification_code", 70000, rid)
		})
	}
	// Other grant types are still refused.
	e := newEnv(t)
	s, m, _ := e.post(t, "/common/oauth2/v2.0/token", url.Values{"client_id": {publicApp}, "grant_type": {"device"}, "device_code": {"x"}})
	if s != 400 || m["error"] != "unsupported_grant_type" {
		t.Errorf("grant_type=device: %d %v", s, m)
	}
}
