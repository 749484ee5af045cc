package identity

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"
)

type deviceState int

const (
	devicePending deviceState = iota
	deviceApproved
	deviceDeclined
	deviceRedeemed
)

// deviceAuth is one device authorization (RFC 8628) in progress.
type deviceAuth struct {
	deviceCode string
	userCode   string
	appID      string
	scopes     scopeReq
	issued     time.Time
	expires    time.Time
	interval   time.Duration
	lastPoll   time.Time
	state      deviceState
	g          *grant
}

// deviceCodeBody is the devicecode endpoint's JSON, in Microsoft's order.
type deviceCodeBody struct {
	UserCode        string `json:"user_code"`
	DeviceCode      string `json:"device_code"`
	VerificationURI string `json:"verification_uri"`
	ExpiresIn       int    `json:"expires_in"`
	Interval        int    `json:"interval"`
	Message         string `json:"message"`
}

func (s *Server) serveDeviceCode(w http.ResponseWriter, r *http.Request, seg string) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	_ = r.ParseForm()
	kind := s.resolve(seg)
	if kind == segUnknown {
		s.writeTokenError(w, r, errTenantNotFound(seg))
		return
	}
	app, e := s.tokenClient(kind, r.PostFormValue("client_id"))
	if e != nil {
		s.writeTokenError(w, r, e)
		return
	}
	sc := r.PostFormValue("scope")
	if sc == "" {
		s.writeTokenError(w, r, errMissingParam("scope"))
		return
	}
	q, e := s.parseScopes(sc)
	if e != nil {
		s.writeTokenError(w, r, e)
		return
	}
	now := s.now()
	d := &deviceAuth{
		deviceCode: "DAQABAAEAAA" + randomString(96), appID: app.AppID, scopes: q,
		issued: now, expires: now.Add(s.o.DeviceCodeLifetime), interval: s.o.DeviceCodeInterval,
	}
	s.mu.Lock()
	for k, old := range s.devices {
		if now.Sub(old.expires) > time.Hour {
			delete(s.devices, k)
			delete(s.userCodes, old.userCode)
		}
	}
	for d.userCode == "" || s.userCodes[d.userCode] != nil {
		d.userCode = userCode()
	}
	s.devices[d.deviceCode] = d
	s.userCodes[d.userCode] = d
	s.stats.DeviceCodesIssued++
	s.mu.Unlock()
	uri := baseURL(r) + "/common/oauth2/deviceauth"
	writeJSON(w, r, http.StatusOK, s.ids(r), deviceCodeBody{
		UserCode: d.userCode, DeviceCode: d.deviceCode, VerificationURI: uri,
		ExpiresIn: int(s.o.DeviceCodeLifetime / time.Second), Interval: int((d.interval + time.Second - 1) / time.Second),
		Message: fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.", uri, d.userCode),
	})
}

// userCode is nine upper-case letters and digits, like Microsoft's.
func userCode() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 9)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic(err)
		}
		b[i] = alphabet[n.Int64()]
	}
	return string(b)
}

func (s *Server) redeemDeviceCode(w http.ResponseWriter, r *http.Request, app appInfo) *aadError {
	code := r.PostFormValue("device_code")
	if code == "" {
		return errMissingParam("device_code")
	}
	s.mu.Lock()
	d := s.devices[code]
	if d == nil || !strings.EqualFold(d.appID, app.AppID) {
		s.mu.Unlock()
		return newErr(400, "bad_verification_code", 70000, "The provided value for the input parameter 'device_code' is not valid. (?)")
	}
	now := s.now()
	if !now.Before(d.expires) && d.state != deviceRedeemed {
		s.mu.Unlock()
		return newErr(400, "expired_token", 70020, "The provided value for the input parameter 'device_code' is not valid. This device code has expired.")
	}
	switch d.state {
	case deviceRedeemed:
		s.mu.Unlock()
		return newErr(400, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
	case deviceDeclined:
		s.mu.Unlock()
		// Microsoft's documentation names this error authorization_declined
		// (RFC 8628 says access_denied) (?).
		return newErr(400, "authorization_declined", 70000, "The end user denied the authorization request. (?)")
	case devicePending:
		tooFast := !d.lastPoll.IsZero() && now.Sub(d.lastPoll) < d.interval
		d.lastPoll = now
		if tooFast {
			// RFC 8628: the interval grows by 5 seconds from now on.
			d.interval += 5 * time.Second
			s.mu.Unlock()
			return newErr(400, "slow_down", 70000, "The client is polling too frequently; wait the interval between requests. (?)")
		}
		s.mu.Unlock()
		return newErr(400, "authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
	}
	d.state = deviceRedeemed
	g := d.g
	rt := ""
	if g.scopes.has("offline_access") {
		rt = s.newRefreshTokenLocked(g)
	}
	s.stats.DeviceCodesRedeemed++
	s.mu.Unlock()
	s.respondTokens(w, r, app, g, g.scopes, rt, "")
	return nil
}

// serveDeviceAuth is the page where the user types the device's code.
func (s *Server) serveDeviceAuth(w http.ResponseWriter, r *http.Request, seg string) {
	if r.Method != http.MethodPost {
		renderPage(w, http.StatusOK, "devicecode", pageData{Title: "Enter code"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	_ = r.ParseForm()
	code := strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(r.PostFormValue("otc")))
	s.mu.Lock()
	d := s.userCodes[code]
	var msg string
	switch {
	case d == nil:
		msg = "That code didn't work. Check the code and try again."
	case !s.now().Before(d.expires):
		msg = "That code has expired. Go back to the device or application and get a new one."
	case d.state != devicePending:
		msg = "That code has already been used. Go back to the device or application and get a new one."
	}
	s.mu.Unlock()
	if msg != "" {
		renderPage(w, http.StatusOK, "devicecode", pageData{Title: "Enter code", Error: msg})
		return
	}
	f := &flow{kind: flowDevice, seg: "common", appID: d.appID, scopes: d.scopes, prompt: "select_account", device: d}
	s.addFlow(f)
	s.renderPicker(w, r, f, "")
}

func (s *Server) approveDevice(w http.ResponseWriter, r *http.Request, f *flow, u userInfo) {
	app, _ := s.app(f.appID)
	s.mu.Lock()
	d := f.device
	if d.state == devicePending {
		d.state = deviceApproved
		d.g = &grant{serial: s.nextSerial(), userID: u.ID, upn: u.UPN, name: u.Name, clientID: f.appID, scopes: f.scopes, issued: s.now()}
	}
	s.mu.Unlock()
	s.finish(f)
	renderPage(w, http.StatusOK, "devicedone", pageData{Title: app.DisplayName, AppName: app.DisplayName, Message: "You have signed in to the " + app.DisplayName + " application on your device. You may now close this window."})
}

func (s *Server) declineDevice(w http.ResponseWriter, r *http.Request, f *flow, e *aadError) {
	s.count(func(st *Stats) { st.Errors[e.code]++ })
	s.mu.Lock()
	if f.device.state == devicePending {
		f.device.state = deviceDeclined
	}
	s.mu.Unlock()
	s.finish(f)
	app, _ := s.app(f.appID)
	renderPage(w, http.StatusOK, "devicedone", pageData{Title: app.DisplayName, AppName: app.DisplayName, Message: "You didn't sign in to the " + app.DisplayName + " application. You may now close this window.", Error: e.Error()})
}
