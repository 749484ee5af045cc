package identity

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"sort"
)

type account struct {
	UPN, Name string
	SignedIn  bool
}

type field struct{ Name, Value string }

// pageData feeds every page; each uses the fields it needs.
type pageData struct {
	Title          string
	Flow           string
	Seg            string
	AppName        string
	TenantName     string
	Accounts       []account
	UPN, Name      string
	Error          string
	Message        string
	Perms          []permission
	ShowOrg        bool
	AdminConsent   bool
	Device         bool
	AdminSignInURL string
	ReturnURL      string
	Code           int
	TraceID        string
	CorrelationID  string
	Timestamp      string
	FormAction     string
	Fields         []field
}

func sortedKeys(v url.Values) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// The pages imitate Microsoft's sign-in pages closely enough to be
// recognised, and are self-contained: no external fonts, images or scripts.
const layout = `{{define "top"}}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{margin:0;background:#f2f2f2;font-family:"Segoe UI",-apple-system,"Helvetica Neue",Arial,sans-serif;color:#1b1b1b}
.card{max-width:440px;margin:60px auto;background:#fff;box-shadow:0 2px 6px rgba(0,0,0,.2);padding:44px;box-sizing:border-box}
.logo{display:grid;grid-template-columns:10px 10px;gap:1px;margin-bottom:16px}
.logo span{width:10px;height:10px;display:block}
h1{font-size:24px;font-weight:600;margin:16px 0 12px}
.tile{display:block;width:100%;text-align:left;background:none;border:0;border-bottom:1px solid #ddd;padding:12px 4px;cursor:pointer;font:inherit}
.tile:hover{background:#f2f2f2}
.tile small{display:block;color:#666}
input[type=text],input[type=email],input[type=password]{width:100%;border:0;border-bottom:1px solid #666;padding:6px 0;font:inherit;margin:8px 0 16px}
.btn{min-width:108px;padding:6px 12px;font:inherit;border:1px solid #8c8c8c;background:#ccc;cursor:pointer}
.primary{background:#0067b8;color:#fff;border-color:#0067b8}
.buttons{text-align:right;margin-top:24px}
.error{color:#e81123;margin:8px 0}
.perm{margin:6px 0}
.small{font-size:13px;color:#444}
pre{white-space:pre-wrap;font-size:12px;color:#444}
</style></head><body><div class="card">
<div class="logo" aria-label="Microsoft"><span style="background:#f25022"></span><span style="background:#7fba00"></span><span style="background:#00a4ef"></span><span style="background:#ffb900"></span></div>
{{end}}
{{define "bottom"}}</div></body></html>{{end}}

{{define "picker"}}{{template "top" .}}
<h1>Pick an account</h1>
<div class="small">to continue to {{.AppName}}</div>
{{if .Error}}<div class="error" id="errorText">{{.Error}}</div>{{end}}
<form method="post" action="/{{.Seg}}/login">
<input type="hidden" name="flow" value="{{.Flow}}">
{{range .Accounts}}<button type="submit" class="tile" name="upn" value="{{.UPN}}" data-upn="{{.UPN}}">{{.Name}}<small>{{.UPN}}{{if .SignedIn}} · Signed in{{end}}</small></button>
{{end}}<button type="submit" class="tile" id="otherTile" name="upn" value="">Use another account</button>
</form>
{{template "bottom" .}}{{end}}

{{define "signin"}}{{template "top" .}}
<h1>Sign in</h1>
<div class="small">to continue to {{.AppName}}</div>
{{if .Error}}<div class="error" id="errorText">{{.Error}}</div>{{end}}
<form method="post" action="/{{.Seg}}/login">
<input type="hidden" name="flow" value="{{.Flow}}">
<input type="email" id="username" name="upn" value="{{.UPN}}" placeholder="Email, phone, or Skype" autocomplete="username" required>
<input type="password" id="password" name="password" placeholder="Password" autocomplete="current-password">
<div class="buttons"><button type="submit" class="btn primary" id="signin">Sign in</button></div>
</form>
{{template "bottom" .}}{{end}}

{{define "password"}}{{template "top" .}}
<div class="small" id="displayName">{{.UPN}}</div>
<h1>Enter password</h1>
{{if .Error}}<div class="error" id="errorText">{{.Error}}</div>{{end}}
<form method="post" action="/{{.Seg}}/login">
<input type="hidden" name="flow" value="{{.Flow}}">
<input type="hidden" name="upn" value="{{.UPN}}">
<input type="password" id="password" name="password" placeholder="Password" autocomplete="current-password" autofocus>
<div class="buttons"><button type="submit" class="btn primary" id="signin">Sign in</button></div>
</form>
{{template "bottom" .}}{{end}}

{{define "consent"}}{{template "top" .}}
<div class="small">{{.UPN}}</div>
<h1>{{if .Device}}Are you trying to sign in to {{.AppName}}?{{else}}Permissions requested{{end}}</h1>
{{if .AdminConsent}}<div class="small">Accept for your organization</div>{{end}}
<div><b>{{.AppName}}</b></div>
<p>This app would like to:</p>
<ul id="permissions">{{range .Perms}}<li class="perm" data-scope="{{.Name}}">{{.Description}}{{if .AdminOnly}} <small>(admin only)</small>{{end}}</li>
{{end}}</ul>
<form method="post" action="/{{.Seg}}/Consent/Set">
<input type="hidden" name="flow" value="{{.Flow}}">
{{if .ShowOrg}}<p><label><input type="checkbox" id="consent_org" name="consent_org" value="on"> Consent on behalf of your organization</label></p>{{end}}
<p class="small">{{if .AdminConsent}}If you accept, this app will get access to the specified resources for all users in {{.TenantName}}. No one else will be prompted to review these permissions.{{else}}Accepting these permissions means that you allow this app to use your data as specified in their terms of service and privacy statement.{{end}}</p>
<div class="buttons"><button type="submit" class="btn" id="cancel" name="action" value="cancel">Cancel</button>
<button type="submit" class="btn primary" id="accept" name="action" value="accept">Accept</button></div>
</form>
{{template "bottom" .}}{{end}}

{{define "adminapproval"}}{{template "top" .}}
<h1>Need admin approval</h1>
<div><b>{{.AppName}}</b></div>
<p>{{.AppName}} needs permission to access resources in your organization that only an admin can grant. Please ask an admin to grant permission to this app before you can use it.</p>
<p><a id="adminSignIn" href="{{.AdminSignInURL}}">Have an admin account? Sign in with that account</a></p>
<p><a id="returnToApp" href="{{.ReturnURL}}">Return to the application without granting consent</a></p>
{{template "bottom" .}}{{end}}

{{define "error"}}{{template "top" .}}
<h1>Sign in</h1>
<p>Sorry, but we’re having trouble signing you in.</p>
<p id="errorCode" data-code="{{.Code}}">{{.Message}}</p>
<pre>Request Id: {{.TraceID}}
Correlation Id: {{.CorrelationID}}
Timestamp: {{.Timestamp}}</pre>
{{template "bottom" .}}{{end}}

{{define "errorinfo"}}{{template "top" .}}
<h1>AADSTS{{.Code}}</h1>
<p>Look up this code in the Microsoft identity platform's error reference.</p>
{{template "bottom" .}}{{end}}

{{define "formpost"}}<!DOCTYPE html>
<html><head><title>{{.Title}}</title></head><body onload="document.forms[0].submit()">
<form method="post" action="{{.FormAction}}">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit"></noscript>
</form></body></html>{{end}}

{{define "nativeclient"}}<!DOCTYPE html>
<html><head><title></title></head><body></body></html>{{end}}

{{define "devicecode"}}{{template "top" .}}
<h1>Enter code</h1>
<p>Enter the code displayed on your app or device.</p>
{{if .Error}}<div class="error" id="errorText">{{.Error}}</div>{{end}}
<form method="post" action="/common/oauth2/deviceauth">
<input type="text" id="otc" name="otc" placeholder="Code" autocomplete="off" autofocus>
<div class="buttons"><button type="submit" class="btn primary" id="next">Next</button></div>
</form>
{{template "bottom" .}}{{end}}

{{define "devicedone"}}{{template "top" .}}
<h1>{{.AppName}}</h1>
<p id="message">{{.Message}}</p>
{{if .Error}}<p class="small" id="errorCode">{{.Error}}</p>{{end}}
{{template "bottom" .}}{{end}}
`

var pages = template.Must(template.New("pages").Parse(layout))

func renderPage(w http.ResponseWriter, status int, name string, d pageData) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, d); err != nil {
		http.Error(w, "page template: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store, no-cache")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	// Self-contained pages: nothing may load from elsewhere. Inline style
	// and the form_post auto-submit are the only active content.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; base-uri 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
