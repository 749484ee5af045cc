package graph

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

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
	q.Set("sig", h.signDownload(fn, q))
	w.Header().Set("Location", baseURL(r)+DownloadPrefix+fn+".csv?"+q.Encode())
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusFound)
}

func (h *Handler) signDownload(fn string, q url.Values) string {
	m := hmac.New(sha256.New, h.tokenKey)
	m.Write([]byte("download\x00" + fn + "\x00" + q.Get("period") + "\x00" + q.Get("date") + "\x00" + q.Get("c") + "\x00" + q.Get("se")))
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
		storageError(w, 403, "AuthenticationFailed", "Server failed to authenticate the request. The URL is pre-authenticated: send it without an Authorization header.")
		return
	}
	fn := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, DownloadPrefix), ".csv")
	q := r.URL.Query()
	if _, ok := reportNames[strings.ToLower(fn)]; !ok || !hmac.Equal([]byte(q.Get("sig")), []byte(h.signDownload(fn, q))) {
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
	cw := csv.NewWriter(s.bw)
	rw := reportWriter{h: h, cw: cw, refresh: h.refreshDate(), conceal: q.Get("c") == "1", period: q.Get("period"), date: q.Get("date")}
	rw.write(fn)
	cw.Flush()
	_ = s.bw.Flush()
}

type reportWriter struct {
	h       *Handler
	cw      *csv.Writer
	refresh time.Time
	conceal bool
	period  string
	date    string
	row     []string
	// days caches the formatted dates (of activity days before the
	// refresh date, and of license assignments): a 100,000-user report
	// formats a few hundred distinct dates half a million times.
	days  map[int16]string
	dates map[time.Time]string
}

func (rw *reportWriter) day(days int16) string {
	if days < 0 {
		return ""
	}
	if d, ok := rw.days[days]; ok {
		return d
	}
	d := rw.refresh.AddDate(0, 0, -int(days)).Format("2006-01-02")
	if rw.days == nil {
		rw.days = map[int16]string{}
	}
	rw.days[days] = d
	return d
}

// dateOf is dateOf(t), cached.
func (rw *reportWriter) dateOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	if d, ok := rw.dates[t]; ok {
		return d
	}
	d := dateOf(t)
	if rw.dates == nil {
		rw.dates = map[time.Time]string{}
	}
	if len(rw.dates) < 4096 {
		rw.dates[t] = d
	}
	return d
}

func dateOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

func tf(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// name returns the UPN and display name, or their concealed form: 32
// upper-case hex characters, stable per user.
func (rw *reportWriter) name(u *tenant.User) (string, string) {
	if !rw.conceal {
		return u.UserPrincipalName, u.DisplayName
	}
	c := ConcealedName(rw.h.tokenKey, u.ID)
	return c, c
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
	switch fn {
	case ReportActiveUsers:
		_ = rw.cw.Write(ActiveUserColumns)
	case ReportActivations:
		_ = rw.cw.Write(ActivationColumns)
	default:
		_ = rw.cw.Write(AppUsageColumns)
	}
	t := rw.h.t
	var after uint64
	pp := pagePool.Get().(*[]*tenant.User)
	defer pagePool.Put(pp)
	for {
		page, more := t.PageUsers(after, 999, *pp)
		*pp = page[:0]
		for _, u := range page {
			if rw.user(fn, u) != nil {
				return
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
			if rw.user(fn, u) != nil {
				return
			}
		}
	}
}

func (rw *reportWriter) user(fn string, u *tenant.User) error {
	t := rw.h.t
	t.RLock()
	lp := t.LicenseProfile(u)
	t.RUnlock()
	upn, display := rw.name(u)
	refresh := rw.refresh.Format("2006-01-02")
	row := rw.row[:0]
	switch fn {
	case ReportActiveUsers:
		row = append(row, refresh, upn, display, tf(!u.DeletedDateTime.IsZero()), dateOf(u.DeletedDateTime))
		for w := tenant.WorkloadExchange; w < tenant.NumWorkloads; w++ {
			row = append(row, tf(lp.HasWorkload[w]))
		}
		for w := tenant.WorkloadExchange; w < tenant.NumWorkloads; w++ {
			row = append(row, rw.day(u.Usage.LastActivity[w]))
		}
		assigned := tenant.WorkloadsAssigned(u)
		for w := tenant.WorkloadExchange; w < tenant.NumWorkloads; w++ {
			row = append(row, rw.dateOf(assigned[w]))
		}
		row = append(row, strings.Join(lp.Products, "+"))
	case ReportActivations:
		for _, a := range u.Usage.Activations {
			if a.Product == 0 {
				break
			}
			row = append(row[:0], refresh, upn, display, a.Product.String(), rw.day(a.LastActivated),
				strconv.Itoa(int(a.Windows)), strconv.Itoa(int(a.Mac)), strconv.Itoa(int(a.Windows10Mob)),
				strconv.Itoa(int(a.IOS)), strconv.Itoa(int(a.Android)), tf(a.SharedComputer))
			if err := rw.cw.Write(row); err != nil {
				return err
			}
		}
		rw.row = row
		return nil
	default:
		if len(lp.OfficeProducts) == 0 {
			return nil
		}
		days := map[string]string{"D7": "7", "D30": "30", "D90": "90", "D180": "180"}[rw.period]
		if rw.date != "" {
			days = "1"
		}
		apps := u.Usage.Apps
		row = append(row, refresh, upn, rw.day(u.Usage.LastActivation), rw.day(u.Usage.LastAppActivity), days)
		for p := range tenant.AppPlatforms {
			any := false
			for a := range tenant.AppNames {
				any = any || apps&tenant.AppBit(p, a) != 0
			}
			row = append(row, tf(any))
		}
		for a := range tenant.AppNames {
			any := false
			for p := range tenant.AppPlatforms {
				any = any || apps&tenant.AppBit(p, a) != 0
			}
			row = append(row, tf(any))
		}
		for p := range tenant.AppPlatforms {
			for a := range tenant.AppNames {
				row = append(row, tf(apps&tenant.AppBit(p, a) != 0))
			}
		}
	}
	rw.row = row
	return rw.cw.Write(row)
}
