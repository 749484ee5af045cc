package graph

// GET /applications(appId='{appId}') and GET /applications/{id}: an app
// registration with its credentials' dates, as Graph returns them. The
// app reads its own registration here to warn before a client secret or
// certificate expires. Graph documents Application.Read.All as the least
// privileged permission, Directory.Read.All and the ReadWrite ones as
// higher; without any of them the answer is 403 Authorization_RequestDenied.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/inventorybeacon/beacon/m365sim/accesstoken"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

var applicationReadPerms = []string{"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}

type keyCredentialJSON struct {
	CustomKeyIdentifier string  `json:"customKeyIdentifier"`
	DisplayName         string  `json:"displayName"`
	EndDateTime         string  `json:"endDateTime"`
	Key                 *string `json:"key"`
	KeyID               string  `json:"keyId"`
	StartDateTime       string  `json:"startDateTime"`
	Type                string  `json:"type"`
	Usage               string  `json:"usage"`
}

type passwordCredentialJSON struct {
	CustomKeyIdentifier *string `json:"customKeyIdentifier"`
	DisplayName         string  `json:"displayName"`
	EndDateTime         string  `json:"endDateTime"`
	Hint                string  `json:"hint"`
	KeyID               string  `json:"keyId"`
	SecretText          *string `json:"secretText"`
	StartDateTime       string  `json:"startDateTime"`
}

type applicationJSON struct {
	Context             string                   `json:"@odata.context"`
	ID                  string                   `json:"id"`
	AppID               string                   `json:"appId"`
	DisplayName         string                   `json:"displayName"`
	SignInAudience      string                   `json:"signInAudience"`
	KeyCredentials      []keyCredentialJSON      `json:"keyCredentials"`
	PasswordCredentials []passwordCredentialJSON `json:"passwordCredentials"`
}

// applicationKey returns the appId of /applications(appId='…') or the
// object id of /applications/{id}, or "" when rest is neither.
func applicationKey(rest string) (key string, byAppID, ok bool) {
	l := strings.ToLower(rest)
	if strings.HasPrefix(l, "applications(appid=") && strings.HasSuffix(l, ")") {
		v := rest[len("applications(appId=") : len(rest)-1]
		if u, err := url.PathUnescape(v); err == nil {
			v = u
		}
		return strings.Trim(v, "'"), true, true
	}
	if strings.HasPrefix(l, "applications/") && !strings.Contains(rest[len("applications/"):], "/") {
		return rest[len("applications/"):], false, true
	}
	return "", false, false
}

func graphTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func (h *Handler) getApplication(w http.ResponseWriter, r *http.Request, c accesstoken.Claims, key string, byAppID bool) {
	if !permitted(c, applicationReadPerms...) {
		h.fail(w, r, errForbidden)
		return
	}
	h.t.RLock()
	var app *tenant.AppRegistration
	for _, a := range h.t.Apps {
		if (byAppID && strings.EqualFold(a.AppID, key)) || (!byAppID && a.ObjectID != "" && strings.EqualFold(a.ObjectID, key)) {
			app = a
		}
	}
	if app == nil {
		h.t.RUnlock()
		h.fail(w, r, &apiError{404, "Request_ResourceNotFound", "Resource '" + key + "' does not exist or one of its queried reference-property objects are not present."})
		return
	}
	out := applicationJSON{
		Context: "https://graph.microsoft.com/v1.0/$metadata#applications/$entity",
		ID:      app.ObjectID, AppID: app.AppID, DisplayName: app.DisplayName, SignInAudience: "AzureADMyOrg",
		KeyCredentials: []keyCredentialJSON{}, PasswordCredentials: []passwordCredentialJSON{},
	}
	if app.MultiTenant {
		out.SignInAudience = "AzureADMultipleOrgs"
	}
	for _, k := range app.Certificates {
		out.KeyCredentials = append(out.KeyCredentials, keyCredentialJSON{
			CustomKeyIdentifier: k.Thumbprint(), DisplayName: k.Cert.Subject.String(),
			EndDateTime: graphTime(k.Cert.NotAfter), KeyID: k.KeyID, StartDateTime: graphTime(k.Cert.NotBefore),
			Type: "AsymmetricX509Cert", Usage: "Verify",
		})
	}
	for i, s := range app.Secrets {
		end := app.SecretsEnd
		if end.IsZero() {
			continue // a secret without a date is not shown as one
		}
		hint := s
		if len(hint) > 3 {
			hint = hint[:3]
		}
		out.PasswordCredentials = append(out.PasswordCredentials, passwordCredentialJSON{
			DisplayName: "Inventory Beacon", EndDateTime: graphTime(end), Hint: hint,
			KeyID: stableKeyID(app.AppID, i), StartDateTime: graphTime(end.AddDate(0, -24, 0)),
		})
	}
	h.t.RUnlock()
	b, _ := json.Marshal(out)
	w.Header().Set("Content-Type", jsonContentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// stableKeyID is a GUID-shaped key id for the n-th secret of an app.
func stableKeyID(appID string, n int) string {
	g := []byte(strings.ReplaceAll(strings.ToLower(appID), "-", ""))
	if len(g) < 32 {
		return appID
	}
	g[31] = "0123456789abcdef"[n%16]
	s := string(g)
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}
