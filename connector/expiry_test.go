package connector

import (
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/storage"
)

// A sign-in unused for 60 days warns at the 30-day threshold, for 83 days
// at 7, for 89.5 at 1; a certificate and an app secret near their ends
// warn too; nothing warns further out.
func TestExpiryWarnings(t *testing.T) {
	now := clock.Now()
	day := 24 * time.Hour
	conn := storage.Connection{Name: "Contoso", AuthFlow: storage.FlowAuthorizationCode, Token: &storage.TokenInfo{ObtainedAt: now.Add(-200 * day)}}
	used := func(unused time.Duration) storage.ConnectionState {
		return storage.ConnectionState{LastRefresh: now.Add(-unused)}
	}
	for _, c := range []struct {
		unused time.Duration
		want   int
	}{{10 * day, 0}, {61 * day, 30}, {84 * day, 7}, {89*day + 12*time.Hour, 1}, {95 * day, 1}} {
		ws := ExpiryWarnings(conn, used(c.unused), now)
		switch {
		case c.want == 0 && len(ws) != 0:
			t.Errorf("unused %v: %+v, want none", c.unused, ws)
		case c.want != 0 && (len(ws) != 1 || ws[0].Threshold != c.want || !strings.Contains(ws[0].Text, "sign-in")):
			t.Errorf("unused %v: %+v, want the %d-day threshold", c.unused, ws, c.want)
		}
	}
	if w := ExpiryWarnings(conn, used(95*day), now); !strings.Contains(w[0].Text, "expired on") {
		t.Errorf("expired sign-in: %s", w[0].Text)
	}
	if age := SignInAge(conn, used(3*day), now); age != "signed in 200 days ago, last used 3 days ago" {
		t.Errorf("age %q", age)
	}

	cert := storage.Connection{Name: "Daemon", AuthFlow: storage.FlowClientCredentials, Credential: storage.CredentialCertificate,
		Certificate: &storage.CertificateInfo{Thumbprint: "ABCD", NotAfter: now.Add(6 * day)}}
	ws := ExpiryWarnings(cert, storage.ConnectionState{AppCredentials: []storage.AppCredential{{Kind: "secret", Name: "xyz", End: now.Add(2 * day)}}}, now)
	if len(ws) != 1 || ws[0].Threshold != 7 || !strings.Contains(ws[0].Text, "certificate (thumbprint ABCD)") || !strings.Contains(ws[0].Text, "in 6 days") {
		t.Errorf("certificate: %+v (a secret the connection does not use is not its warning)", ws)
	}
	secret := storage.Connection{Name: "Daemon", AuthFlow: storage.FlowClientCredentials}
	ws = ExpiryWarnings(secret, storage.ConnectionState{AppCredentials: []storage.AppCredential{
		{Kind: "secret", Name: "xyz", End: now.Add(20 * day)}, {Kind: "secret", Name: "old", End: now.Add(400 * day)}}}, now)
	if len(ws) != 1 || ws[0].Threshold != 30 || !strings.Contains(ws[0].Text, "hint xyz") {
		t.Errorf("app secret: %+v", ws)
	}
}
