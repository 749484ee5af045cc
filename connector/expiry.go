package connector

// Expiry warnings (issue 22, item 4): what of a connection's sign-in
// expires and when, from what the configuration records (never a secret):
// the refresh token 90 days after its last use, the connection's
// certificate at its NotAfter, and the app registration's secrets and
// certificates at the end dates last read from Graph. A warning is due 30,
// 7 and 1 days ahead; the window, `beacon list` and the scheduler's
// notifications all word it the same way.

import (
	"fmt"
	"math"
	"time"

	"github.com/inventorybeacon/beacon/storage"
)

// RefreshTokenIdleLifetime is how long Microsoft keeps a refresh token
// that is not used (AADSTS700082 after it).
const RefreshTokenIdleLifetime = 90 * 24 * time.Hour

// ExpiryThresholds are the days ahead a warning is raised, widest first.
var ExpiryThresholds = []int{30, 7, 1}

// ExpiryWarning is one thing about to expire.
type ExpiryWarning struct {
	// Key names what expires and its date, so a renewed credential or a
	// refreshed sign-in is warned about afresh.
	Key  string
	Ends time.Time
	// DaysLeft is the whole days left, rounded up; 0 or less: expired.
	DaysLeft int
	// Threshold is the narrowest of ExpiryThresholds that DaysLeft is
	// within (1 when expired).
	Threshold int
	Text      string
}

// LastSignInUse is when the connection's refresh token was last obtained
// or redeemed: the later of the sign-in and the last recorded refresh.
func LastSignInUse(c storage.Connection, st storage.ConnectionState) time.Time {
	var t time.Time
	if c.Token != nil {
		t = c.Token.ObtainedAt
	}
	if st.LastRefresh.After(t) {
		t = st.LastRefresh
	}
	return t
}

// SignInAge says how old the connection's sign-in is and when it was last
// used, or "" when it has none (Client Credentials signs in at every run).
func SignInAge(c storage.Connection, st storage.ConnectionState, now time.Time) string {
	if c.AuthFlow == storage.FlowClientCredentials || c.Token == nil {
		return ""
	}
	s := "signed in " + ago(now.Sub(c.Token.ObtainedAt))
	if st.LastRefresh.After(c.Token.ObtainedAt) {
		s += ", last used " + ago(now.Sub(st.LastRefresh))
	}
	return s
}

func ago(d time.Duration) string {
	switch {
	case d < time.Hour:
		return "less than an hour ago"
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}

// ExpiryWarnings lists what of c expires within the widest threshold
// (30 days) of now, or has expired, soonest first.
func ExpiryWarnings(c storage.Connection, st storage.ConnectionState, now time.Time) []ExpiryWarning {
	var out []ExpiryWarning
	add := func(key string, ends time.Time, what, fix string) {
		left := int(math.Ceil(ends.Sub(now).Hours() / 24))
		if left > ExpiryThresholds[0] {
			return
		}
		th := 1
		for _, t := range ExpiryThresholds {
			if left <= t {
				th = t
			}
		}
		date := ends.Local().Format("2 January 2006")
		var when string
		switch {
		case left <= 0:
			when = "expired on " + date
		case left == 1:
			when = "expires on " + date + " (within a day)"
		default:
			when = fmt.Sprintf("expires on %s (in %d days)", date, left)
		}
		out = append(out, ExpiryWarning{Key: key + "@" + ends.UTC().Format("2006-01-02"), Ends: ends, DaysLeft: left, Threshold: th,
			Text: fmt.Sprintf("%q: %s %s: %s", c.Name, what, when, fix)})
	}
	if c.AuthFlow != storage.FlowClientCredentials && c.Token != nil {
		add("signin", LastSignInUse(c, st).Add(RefreshTokenIdleLifetime), "the sign-in (unused refresh tokens end after 90 days)",
			fmt.Sprintf("run an import or Test Connection to renew it, or `beacon execute %q`; if it has expired, click Generate... (or `beacon generate %q`).", c.Name, c.Name))
	}
	if c.UsesCertificate() && c.Certificate != nil && !c.Certificate.NotAfter.IsZero() {
		add("certificate:"+c.Certificate.Thumbprint, c.Certificate.NotAfter, "the certificate (thumbprint "+c.Certificate.Thumbprint+")",
			fmt.Sprintf("create a new certificate, upload its .cer to the app registration (Certificates & secrets) and choose it in the connection (`beacon connection set %q --certificate-file FILE`).", c.Name))
	}
	// The registration's certificates are the connection's own (warned
	// about above, from the file); its secrets are read from Graph.
	for _, a := range st.AppCredentials {
		switch a.Kind {
		case "secret":
			if c.UsesCertificate() || c.AuthFlow != storage.FlowClientCredentials {
				continue
			}
			add("app-secret:"+a.Name, a.End, "a client secret of the app registration (hint "+a.Name+")",
				"add a new client secret in the Azure portal (Certificates & secrets) and enter it in the connection's Client Secret.")
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Ends.Before(out[j-1].Ends); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
