package graph

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/inventorybeacon/beacon/m365sim/accesstoken"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

// The three usage reports, by lower-case function name.
const (
	ReportActiveUsers = "getOffice365ActiveUserDetail"
	ReportActivations = "getOffice365ActivationsUserDetail"
	ReportAppUsage    = "getM365AppUserDetail"
)

var reportNames = map[string]string{
	strings.ToLower(ReportActiveUsers): ReportActiveUsers,
	strings.ToLower(ReportActivations): ReportActivations,
	strings.ToLower(ReportAppUsage):    ReportAppUsage,
}

// Column lists, exactly as microsoft-wire.md gives them.
var (
	ActiveUserColumns = []string{"Report Refresh Date", "User Principal Name", "Display Name", "Is Deleted", "Deleted Date",
		"Has Exchange License", "Has OneDrive License", "Has SharePoint License", "Has Skype For Business License",
		"Has Yammer License", "Has Teams License", "Exchange Last Activity Date", "OneDrive Last Activity Date",
		"SharePoint Last Activity Date", "Skype For Business Last Activity Date", "Yammer Last Activity Date",
		"Teams Last Activity Date", "Exchange License Assign Date", "OneDrive License Assign Date",
		"SharePoint License Assign Date", "Skype For Business License Assign Date", "Yammer License Assign Date",
		"Teams License Assign Date", "Assigned Products"}
	ActivationColumns = []string{"Report Refresh Date", "User Principal Name", "Display Name", "Product Type",
		"Last Activated Date", "Windows", "Mac", "Windows 10 Mobile", "iOS", "Android", "Activated On Shared Computer"}
	AppUsageColumns = func() []string {
		c := []string{"Report Refresh Date", "User Principal Name", "Last Activation Date", "Last Activity Date",
			"Report Period", "Windows", "Mac", "Mobile", "Web", "Outlook", "Word", "Excel", "PowerPoint", "OneNote", "Teams"}
		for _, p := range tenant.AppPlatforms {
			for _, a := range tenant.AppNames {
				c = append(c, a+" ("+p+")")
			}
		}
		return c
	}()
)

var reportArgRE = regexp.MustCompile(`^(?i:(period|date))\s*=\s*'?([^']*)'?$`)

// report answers a report function with 302 to a signed download link.
func (h *Handler) report(w http.ResponseWriter, r *http.Request, c accesstoken.Claims, seg string) {
	name, args, _ := strings.Cut(seg, "(")
	fn, ok := reportNames[strings.ToLower(name)]
	if !ok || strings.Contains(seg, "/") {
		h.fail(w, r, &apiError{400, "BadRequest", "Resource not found for the segment '" + name + "'."})
		return
	}
	if !permitted(c, "Reports.Read.All") {
		h.fail(w, r, errForbidden)
		return
	}
	if delegated(c) {
		h.t.RLock()
		u := h.t.UserByID(c.ObjectID)
		if u == nil && c.UPN != "" {
			u = h.t.UserByUPN(c.UPN)
		}
		allowed := u != nil && u.CanReadReports()
		h.t.RUnlock()
		if !allowed {
			h.fail(w, r, &apiError{403, "UnknownError", `{"error":{"code":"S2SUnauthorized","message":"Invalid permission."}}`})
			return
		}
	}
	args = strings.TrimSuffix(args, ")")
	period, date := "", ""
	refresh := h.refreshDate()
	if fn != ReportActivations || args != "" {
		m := reportArgRE.FindStringSubmatch(strings.TrimSpace(args))
		switch {
		case m == nil:
			h.fail(w, r, &apiError{400, "BadRequest", "Invalid value for parameter 'period'."})
			return
		case strings.EqualFold(m[1], "period"):
			switch strings.ToUpper(m[2]) {
			case "D7", "D30", "D90", "D180":
				period = strings.ToUpper(m[2])
			default:
				h.fail(w, r, &apiError{400, "BadRequest", "Invalid value for parameter 'period'. Valid values are D7, D30, D90 and D180."})
				return
			}
		default:
			d, err := time.Parse("2006-01-02", m[2])
			if err != nil || d.After(refresh) || refresh.Sub(d) > 30*24*time.Hour {
				h.fail(w, r, &apiError{400, "BadRequest", "Invalid value for parameter 'date'. It must be a date within the last 30 days (YYYY-MM-DD)."})
				return
			}
			date = m[2]
		}
	}
	if h.o.Throttle {
		if ok, wait := h.reports.take(c.AppID + "|" + c.TenantID + "|" + fn); !ok {
			h.tooMany(w, r, wait)
			return
		}
	}
	conceal := "0"
	if h.concealed.Load() {
		conceal = "1"
	}
	se := strconv.FormatInt(h.o.Now().Add(h.o.DownloadLifetime).Unix(), 10)
	q := url.Values{"period": {period}, "date": {date}, "c": {conceal}, "se": {se}}
	dl := downloadHost(r)
	q.Set("sig", h.signDownload(fn, q, dl))
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	loc := scheme + dl + DownloadPrefix + fn + ".csv?" + q.Encode()
	// Microsoft documents the 302 with Content-Type text/plain; the body
	// is not documented, and a client must not need it (?): it carries the
	// link, so that a client that reads or drains it gets something real.
	w.Header().Set("Location", loc)
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", strconv.Itoa(len(loc)))
	w.WriteHeader(http.StatusFound)
	_, _ = io.WriteString(w, loc)
}

// downloadHost is the host (and port) report downloads are served on:
// this very listener under another name than the one Graph was reached
// by, since Graph's links point to another host (reports.office.com). So a
// client meets what it meets with Microsoft: its HTTP library drops the
// bearer token on the way there (Go's does on a change of host, not of
// port), and one that sent it anyway is refused. An IP address (127.0.0.1,
// ::1) becomes localhost; a name (localhost) becomes the IP address the
// connection came in on, both of which the TLS certificate covers.
func downloadHost(r *http.Request) string {
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		host, port = strings.Trim(r.Host, "[]"), ""
	}
	other := "localhost"
	if net.ParseIP(host) == nil {
		other = "127.0.0.1"
		if la, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr); ok {
			other = la.IP.String()
		}
	}
	if port == "" {
		if strings.Contains(other, ":") {
			return "[" + other + "]"
		}
		return other
	}
	return net.JoinHostPort(other, port)
}

// signDownload signs a download link for the host it points to: like a
// storage account's SAS, it works there only.
func (h *Handler) signDownload(fn string, q url.Values, host string) string {
	m := hmac.New(sha256.New, h.tokenKey)
	m.Write([]byte("download\x00" + strings.ToLower(host) + "\x00" + fn + "\x00" + q.Get("period") + "\x00" + q.Get("date") + "\x00" + q.Get("c") + "\x00" + q.Get("se")))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// refreshDate is the reports' data date: about 48 hours behind.
func (h *Handler) refreshDate() time.Time {
	return h.o.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -2)
}

// storageError answers like Azure Storage does for a SAS URL.
func storageError(w http.ResponseWriter, status int, code, msg string) {
	body := `<?xml version="1.0" encoding="utf-8"?><Error><Code>` + code + `</Code><Message>` + msg + `</Message></Error>`
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// download serves a report's CSV: UTF-8 with a BOM. Like a blob SAS URL it
// needs no token and refuses one.
func (h *Handler) download(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		storageError(w, 405, "UnsupportedHttpVerb", "The resource doesn't support specified Http Verb.")
		return
	}
	if r.Header.Get("Authorization") != "" {
		// Graph's bearer token has no business here: the real download
		// host would never need it, and a client sending it leaks it.
		storageError(w, 403, "AuthenticationFailed", "Server failed to authenticate the request. The URL is pre-authenticated: send it without an Authorization header.")
		return
	}
	fn := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, DownloadPrefix), ".csv")
	q := r.URL.Query()
	if _, ok := reportNames[strings.ToLower(fn)]; !ok || !hmac.Equal([]byte(q.Get("sig")), []byte(h.signDownload(fn, q, r.Host))) {
		storageError(w, 403, "AuthenticationFailed", "Server failed to authenticate the request. Signature did not match.")
		return
	}
	se, _ := strconv.ParseInt(q.Get("se"), 10, 64)
	now := h.o.Now()
	if now.Unix() >= se {
		storageError(w, 403, "AuthenticationFailed", "Server failed to authenticate the request. Signature not valid in the specified time frame: Expiry ["+
			time.Unix(se, 0).UTC().Format(http.TimeFormat)+"] - Current ["+now.UTC().Format(http.TimeFormat)+"]")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+fn+`.csv"`)
	w.WriteHeader(http.StatusOK)
	s := getStream(w)
	defer s.release()
	_, _ = s.bw.WriteString("\ufeff")
	rw := newReportWriter(h, s.bw, h.refreshDate(), q.Get("c") == "1", q.Get("period"), q.Get("date"))
	rw.write(fn)
	_ = s.bw.Flush()
}

// reportWriter renders a report's CSV rows straight into a byte buffer,
// exactly as encoding/csv (comma, "\n" line ends) would write them: a
// 100,000-user report is a quarter of the simulator's CPU in a full import,
// and most of it was csv.Writer's per-field quoting scan, per-user map
// lookups and date formatting. What repeats is rendered once per download:
// users share their assignedLicenses and assignedPlans slices (see
// package tenant), so the license columns are cached by slice.
type reportWriter struct {
	h       *Handler
	out     *bufio.Writer
	b       []byte
	err     error
	refresh string // Report Refresh Date, YYYY-MM-DD
	base    time.Time
	conceal bool
	mac     hash.Hash // concealed names, reused through Reset
	sum     []byte
	period  string // Report Period column of getM365AppUserDetail
	// days[n] is the date n days before the refresh date ("" until used).
	days []string
	lic  map[licKey]*licInfo
	plan map[planKey]string
}

// licKey and planKey identify a shared slice by its first element and
// length: slices are never modified in place, so equal keys mean equal
// contents for the duration of a download.
type licKey struct {
	p *tenant.AssignedLicense
	n int
}

type planKey struct {
	p *tenant.AssignedPlan
	n int
}

// licInfo is the license-derived part of a user's rows.
type licInfo struct {
	has      string // the six Has ... License values, comma separated
	products string // Assigned Products, as a CSV field
	office   bool   // has an activation product (getM365AppUserDetail rows)
}

func newReportWriter(h *Handler, out *bufio.Writer, refresh time.Time, conceal bool, period, date string) *reportWriter {
	rw := &reportWriter{h: h, out: out, b: make([]byte, 0, 40<<10), refresh: refresh.Format("2006-01-02"), base: refresh,
		conceal: conceal, lic: map[licKey]*licInfo{}, plan: map[planKey]string{}}
	switch period {
	case "D7":
		rw.period = "7"
	case "D30":
		rw.period = "30"
	case "D90":
		rw.period = "90"
	case "D180":
		rw.period = "180"
	}
	if date != "" {
		rw.period = "1"
	}
	if conceal {
		rw.mac = hmac.New(sha256.New, h.tokenKey)
	}
	return rw
}

// flush hands the rendered rows to the stream in pieces smaller than its
// 64 KiB buffer (as csv.Writer's 4 KiB buffer did), so that the stream
// always passes exactly 64 KiB writes to the connection, as before, even
// when a huge name made one row larger: the chunked framing on the wire
// stays the same.
func (rw *reportWriter) flush() {
	for p := rw.b; rw.err == nil && len(p) > 0; {
		n := min(len(p), 32<<10)
		_, rw.err = rw.out.Write(p[:n])
		p = p[n:]
	}
	rw.b = rw.b[:0]
}

// day is the date days before the refresh date ("" for -1: never).
func (rw *reportWriter) day(days int16) string {
	if days < 0 {
		return ""
	}
	n := int(days)
	if n < len(rw.days) && rw.days[n] != "" {
		return rw.days[n]
	}
	d := rw.base.AddDate(0, 0, -n).Format("2006-01-02")
	if n < 4096 {
		if n >= len(rw.days) {
			rw.days = append(rw.days, make([]string, n+1-len(rw.days))...)
		}
		rw.days[n] = d
	}
	return d
}

func dateOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

// appendDate appends dateOf(t) without formatting through a layout.
func appendDate(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	y, m, d := t.UTC().Date()
	if y < 0 || y > 9999 {
		return append(b, dateOf(t)...)
	}
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
}

func tf(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// csvQuote[c] marks the bytes that make encoding/csv quote a field.
var csvQuote = [256]bool{'"': true, '\r': true, '\n': true, ',': true}

// appendCSVField appends s as encoding/csv's Writer (Comma ',', UseCRLF
// false) writes a field: quoted, with quotes doubled, when it contains a
// comma, quote, CR or LF, starts with a Unicode space, or is \. .
func appendCSVField(b []byte, s string) []byte {
	if !csvNeedsQuotes(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		b = append(b, s[:i+1]...)
		b = append(b, '"')
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, '"')
}

func csvNeedsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` {
		return true
	}
	for i := 0; i < len(s); i++ {
		if csvQuote[s[i]] {
			return true
		}
	}
	if c := s[0]; c > ' ' && c < utf8.RuneSelf {
		return false
	}
	r1, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r1)
}

// name returns the UPN and display name, or their concealed form: 32
// upper-case hex characters, stable per user.
func (rw *reportWriter) name(u *tenant.User) (string, string) {
	if !rw.conceal {
		return u.UserPrincipalName, u.DisplayName
	}
	// ConcealedName without a new HMAC (and its key schedule) per user.
	rw.mac.Reset()
	rw.mac.Write([]byte("conceal\x00"))
	rw.mac.Write([]byte(u.ID))
	rw.sum = rw.mac.Sum(rw.sum[:0])
	const hx = "0123456789ABCDEF"
	var c [32]byte
	for i, x := range rw.sum[:16] {
		c[2*i], c[2*i+1] = hx[x>>4], hx[x&0xf]
	}
	s := string(c[:])
	return s, s
}

// ConcealedName is the stand-in the reports print for a user when names
// are concealed.
func ConcealedName(key []byte, userID string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("conceal\x00" + userID))
	return strings.ToUpper(hex.EncodeToString(m.Sum(nil)[:16]))
}

// ConcealedName is the concealed stand-in of a user in this handler's
// reports (for tests that check the mapping).
func (h *Handler) ConcealedName(userID string) string { return ConcealedName(h.tokenKey, userID) }

func (rw *reportWriter) write(fn string) {
	cols := AppUsageColumns
	switch fn {
	case ReportActiveUsers:
		cols = ActiveUserColumns
	case ReportActivations:
		cols = ActivationColumns
	}
	for i, c := range cols {
		if i > 0 {
			rw.b = append(rw.b, ',')
		}
		rw.b = appendCSVField(rw.b, c)
	}
	rw.b = append(rw.b, '\n')
	t := rw.h.t
	var after uint64
	pp := pagePool.Get().(*[]*tenant.User)
	defer pagePool.Put(pp)
	for {
		page, more := t.PageUsers(after, 999, *pp)
		*pp = page[:0]
		for _, u := range page {
			rw.user(fn, u)
			if len(rw.b) > 32<<10 {
				if rw.flush(); rw.err != nil {
					return
				}
			}
		}
		if !more || len(page) == 0 {
			break
		}
		after = page[len(page)-1].Seq
	}
	if fn == ReportActiveUsers {
		t.RLock()
		deleted := append([]*tenant.User(nil), t.DeletedUsers()...)
		t.RUnlock()
		for _, u := range deleted {
			rw.user(fn, u)
			if len(rw.b) > 32<<10 {
				if rw.flush(); rw.err != nil {
					return
				}
			}
		}
	}
	rw.flush()
}

// license returns the license-derived columns of u, computed once per
// distinct assignedLicenses slice.
func (rw *reportWriter) license(u *tenant.User) *licInfo {
	var k licKey // {nil, 0} for every unlicensed user: same (empty) contents
	if len(u.AssignedLicenses) > 0 {
		k = licKey{&u.AssignedLicenses[0], len(u.AssignedLicenses)}
	}
	if li := rw.lic[k]; li != nil {
		return li
	}
	t := rw.h.t
	t.RLock()
	lp := t.LicenseProfile(u)
	t.RUnlock()
	var b []byte
	for w := tenant.WorkloadExchange; w < tenant.NumWorkloads; w++ {
		if w > tenant.WorkloadExchange {
			b = append(b, ',')
		}
		b = append(b, tf(lp.HasWorkload[w])...)
	}
	li := &licInfo{has: string(b), products: string(appendCSVField(nil, strings.Join(lp.Products, "+"))), office: len(lp.OfficeProducts) > 0}
	rw.lic[k] = li
	return li
}

// assigned returns the six License Assign Date columns of u, computed
// once per distinct assignedPlans slice.
func (rw *reportWriter) assigned(u *tenant.User) string {
	var k planKey
	if len(u.AssignedPlans) > 0 {
		k = planKey{&u.AssignedPlans[0], len(u.AssignedPlans)}
	}
	if s, ok := rw.plan[k]; ok {
		return s
	}
	as := tenant.WorkloadsAssigned(u)
	b := make([]byte, 0, 6*11)
	for w := tenant.WorkloadExchange; w < tenant.NumWorkloads; w++ {
		if w > tenant.WorkloadExchange {
			b = append(b, ',')
		}
		b = appendDate(b, as[w])
	}
	s := string(b)
	rw.plan[k] = s
	return s
}

// appsRow[m] is the True/False columns of one platform's (or of the any-
// platform) apps, for the app bit mask m (bit a: tenant.AppNames[a]).
var appsRow = func() []string {
	out := make([]string, 1<<len(tenant.AppNames))
	for m := range out {
		var b []byte
		for a := range tenant.AppNames {
			if a > 0 {
				b = append(b, ',')
			}
			b = append(b, tf(m&(1<<a) != 0)...)
		}
		out[m] = string(b)
	}
	return out
}()

// appendAppColumns appends the 4 + 6 + 24 True/False columns of
// getM365AppUserDetail for a Usage.Apps bit set: used anywhere per
// platform, used anywhere per app, then each app on each platform
// (tenant.AppBit numbers the bits platform by platform).
func appendAppColumns(b []byte, apps uint32) []byte {
	n := len(tenant.AppNames)
	mask := uint32(1)<<n - 1
	anyApp := uint32(0)
	for p := range tenant.AppPlatforms {
		g := apps >> (p * n) & mask
		anyApp |= g
		if p > 0 {
			b = append(b, ',')
		}
		b = append(b, tf(g != 0)...)
	}
	b = append(b, ',')
	b = append(b, appsRow[anyApp]...)
	for p := range tenant.AppPlatforms {
		b = append(b, ',')
		b = append(b, appsRow[apps>>(p*n)&mask]...)
	}
	return b
}

// appendNames appends the columns the user reports begin with: Report
// Refresh Date, User Principal Name, Display Name (and the comma after).
func (rw *reportWriter) appendNames(b []byte, upn, display string) []byte {
	b = append(b, rw.refresh...)
	b = append(b, ',')
	b = appendCSVField(b, upn)
	b = append(b, ',')
	b = appendCSVField(b, display)
	return append(b, ',')
}

// user appends u's rows.
func (rw *reportWriter) user(fn string, u *tenant.User) {
	b := rw.b
	switch fn {
	case ReportActiveUsers:
		li := rw.license(u)
		upn, display := rw.name(u)
		b = rw.appendNames(b, upn, display)
		b = append(b, tf(!u.DeletedDateTime.IsZero())...)
		b = append(b, ',')
		b = appendDate(b, u.DeletedDateTime)
		b = append(b, ',')
		b = append(b, li.has...)
		for w := tenant.WorkloadExchange; w < tenant.NumWorkloads; w++ {
			b = append(b, ',')
			b = append(b, rw.day(u.Usage.LastActivity[w])...)
		}
		b = append(b, ',')
		b = append(b, rw.assigned(u)...)
		b = append(b, ',')
		b = append(b, li.products...)
		b = append(b, '\n')
	case ReportActivations:
		if u.Usage.Activations[0].Product == 0 {
			return
		}
		upn, display := rw.name(u)
		for _, a := range u.Usage.Activations {
			if a.Product == 0 {
				break
			}
			b = rw.appendNames(b, upn, display)
			b = appendCSVField(b, a.Product.String())
			b = append(b, ',')
			b = append(b, rw.day(a.LastActivated)...)
			for _, n := range [...]uint8{a.Windows, a.Mac, a.Windows10Mob, a.IOS, a.Android} {
				b = append(b, ',')
				b = strconv.AppendUint(b, uint64(n), 10)
			}
			b = append(b, ',')
			b = append(b, tf(a.SharedComputer)...)
			b = append(b, '\n')
		}
	default:
		if !rw.license(u).office {
			return
		}
		upn, _ := rw.name(u)
		b = append(b, rw.refresh...)
		b = append(b, ',')
		b = appendCSVField(b, upn)
		b = append(b, ',')
		b = append(b, rw.day(u.Usage.LastActivation)...)
		b = append(b, ',')
		b = append(b, rw.day(u.Usage.LastAppActivity)...)
		b = append(b, ',')
		b = append(b, rw.period...)
		b = append(b, ',')
		b = appendAppColumns(b, u.Usage.Apps)
		b = append(b, '\n')
	}
	rw.b = b
}
