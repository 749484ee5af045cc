package identity

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// BenchmarkRefreshRotation measures one refresh_token redemption (a
// rotation) through the handler, without the network.
func BenchmarkRefreshRotation(b *testing.B) {
	srv := New(Options{Tenant: newTenant(), SigningKey: signingKey, IDTokenKey: idKey(b)})
	rt, err := srv.IssueRefreshToken(publicApp, adminUPN, "offline_access User.Read")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		form := url.Values{"client_id": {publicApp}, "grant_type": {"refresh_token"}, "refresh_token": {rt}}
		req := httptest.NewRequest(http.MethodPost, "/common/oauth2/v2.0/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		var body struct {
			RefreshToken string `json:"refresh_token"`
		}
		if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &body) != nil {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
		rt = body.RefreshToken
	}
}

// BenchmarkClientCredentials measures one application token.
func BenchmarkClientCredentials(b *testing.B) {
	srv := New(Options{Tenant: newTenant(), SigningKey: signingKey, IDTokenKey: idKey(b)})
	form := url.Values{"client_id": {webApp}, "client_secret": {webSecret}, "grant_type": {"client_credentials"}, "scope": {graph + "/.default"}}.Encode()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/"+tenantID+"/oauth2/v2.0/token", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}
