// Package graph is the simulator's Microsoft Graph v1.0: users (paging,
// $select, startswith filters, $count, delta), subscribedSkus,
// servicePrincipals and the usage reports with their pre-authenticated
// CSV downloads (served under another host name than Graph's, see
// downloadHost), with Graph's errors, permissions and throttling, as
// /work/shared/spec/microsoft-wire.md describes them.
//
// Responses are streamed: a page is a slice of user pointers copied under
// the tenant's read lock, encoded one user at a time into a buffered
// writer, so memory does not grow with the page or the tenant.
package graph

import (
	"bufio"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"

	"github.com/inventorybeacon/beacon/m365sim/accesstoken"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

// DownloadPrefix is the path of report downloads. The root package applies
// its faults here as on /v1.0/.
const DownloadPrefix = "/_reportdata/"

// GraphResource is Microsoft Graph's resource; tokens for it are accepted
// besides Options.Resources.
const GraphResource = "https://graph.microsoft.com"

// GraphAppID is Microsoft Graph's application id, also a valid audience.
const GraphAppID = "00000003-0000-0000-c000-000000000000"

// Options configure the handler. Zero values give Microsoft's behaviour.
type Options struct {
	Tenant     *tenant.Tenant
	SigningKey []byte // the accesstoken key shared with the identity platform
	// Resources are extra accepted token audiences (the simulator's own
	// origin, when clients use it as their Graph endpoint).
	Resources []string
	Now       func() time.Time

	// Throttle enables the directory token bucket and the report limit.
	Throttle bool
	// ThrottleUnits overrides the bucket size (resource units per 10 s);
	// 0 sizes it by tenant like Microsoft: 3,500 / 5,000 / 8,000.
	ThrottleUnits int
	// ReportLimit requests per ReportWindow per app per report (14 / 10 min).
	ReportLimit  int
	ReportWindow time.Duration

	ConcealedNames bool
	// DeltaTokenLifetime is how long delta and skip tokens stay valid
	// (7 days, as for directory objects).
	DeltaTokenLifetime time.Duration
	// DeltaPageSize is how many items a delta page holds (200).
	DeltaPageSize int
	// DownloadLifetime is how long a report download link works (5 min).
	DownloadLifetime time.Duration
}

// Handler serves Graph. Create it with New.
type Handler struct {
	o         Options
	t         *tenant.Tenant
	tokenKey  []byte // signs skip, delta and download tokens
	concealed atomic.Bool
	dir       *limiter
	reports   *windowLimiter
	ridBase   [16]byte
	ridSeq    atomic.Uint64
	// deltaRounds numbers the deltaLinks handed out, so that each differs
	// from the last even when nothing changed in between (see deltaLink).
	deltaRounds atomic.Uint64
	throttled   atomic.Int64
}

// Throttled counts the 429 answers given so far.
func (h *Handler) Throttled() int64 { return h.throttled.Load() }

// New returns a Graph handler over o.Tenant.
func New(o Options) *Handler {
	if o.Now == nil {
		o.Now = clock.Now
	}
	if o.ReportLimit == 0 {
		o.ReportLimit = 14
	}
	if o.ReportWindow == 0 {
		o.ReportWindow = 10 * time.Minute
	}
	if o.DeltaTokenLifetime == 0 {
		o.DeltaTokenLifetime = 7 * 24 * time.Hour
	}
	if o.DeltaPageSize == 0 {
		o.DeltaPageSize = 200
	}
	if o.DownloadLifetime == 0 {
		o.DownloadLifetime = 5 * time.Minute
	}
	m := hmac.New(sha256.New, o.SigningKey)
	m.Write([]byte("graph page tokens"))
	h := &Handler{o: o, t: o.Tenant, tokenKey: m.Sum(nil)}
	h.concealed.Store(o.ConcealedNames)
	h.dir = &limiter{now: o.Now, buckets: map[string]*bucket{}}
	h.reports = &windowLimiter{now: o.Now, limit: o.ReportLimit, window: o.ReportWindow, hits: map[string][]time.Time{}}
	_, _ = rand.Read(h.ridBase[:])
	return h
}

// SetConcealedNames switches the tenant's "display concealed names" report
// setting.
func (h *Handler) SetConcealedNames(on bool) { h.concealed.Store(on) }

func (h *Handler) newRequestID() string {
	b := h.ridBase
	binary.BigEndian.PutUint64(b[8:], binary.BigEndian.Uint64(b[8:])+h.ridSeq.Add(1))
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return guidString(b[:])
}

func guidString(b []byte) string {
	const hx = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hx[c>>4], hx[c&0xf])
	}
	return string(out)
}

// StampIDs sets the request-id and client-request-id response headers
// (echoing the client's) unless already set, and returns them. The fault
// middleware uses it so injected errors look like Graph's.
func (h *Handler) StampIDs(w http.ResponseWriter, r *http.Request) (rid, crid string) {
	hd := w.Header()
	if rid = hd.Get("request-id"); rid == "" {
		rid = h.newRequestID()
		hd.Set("request-id", rid)
	}
	if crid = hd.Get("client-request-id"); crid == "" {
		crid = r.Header.Get("client-request-id")
		if crid == "" {
			crid = rid
		}
		hd.Set("client-request-id", crid)
	}
	return rid, crid
}

type apiError struct {
	status  int
	code    string
	message string
}

// WriteError writes Graph's JSON error with its innerError.
func (h *Handler) WriteError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	rid, crid := h.StampIDs(w, r)
	b := make([]byte, 0, 256)
	b = append(b, `{"error":{"code":`...)
	b = appendString(b, code)
	b = append(b, `,"message":`...)
	b = appendString(b, message)
	b = append(b, `,"innerError":{"date":"`...)
	b = h.o.Now().UTC().AppendFormat(b, "2006-01-02T15:04:05")
	b = append(b, `","request-id":`...)
	b = appendString(b, rid)
	b = append(b, `,"client-request-id":`...)
	b = appendString(b, crid)
	b = append(b, "}}}"...)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, e *apiError) {
	h.WriteError(w, r, e.status, e.code, e.message)
}

var errForbidden = &apiError{403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."}

// ServeHTTP routes Graph requests.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.StampIDs(w, r)
	path := r.URL.Path
	if strings.HasPrefix(path, DownloadPrefix) {
		h.download(w, r)
		return
	}
	lp := strings.ToLower(path)
	if !strings.HasPrefix(lp, "/v1.0/") {
		h.WriteError(w, r, 404, "Request_ResourceNotFound", "Resource not found for the segment '"+strings.Trim(path, "/")+"'.")
		return
	}
	if r.Method != http.MethodGet {
		h.WriteError(w, r, 405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
		return
	}
	claims, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	rest := path[len("/v1.0/"):]
	lrest := lp[len("/v1.0/"):]
	switch {
	case lrest == "users":
		h.listUsers(w, r, claims)
	case lrest == "users/$count":
		h.countUsers(w, r, claims)
	case lrest == "users/delta" || lrest == "users/delta()" || lrest == "users/microsoft.graph.delta()":
		h.delta(w, r, claims)
	case strings.HasPrefix(lrest, "users/") && !strings.Contains(rest[len("users/"):], "/"):
		h.getUser(w, r, claims, rest[len("users/"):])
	case lrest == "me":
		h.getUser(w, r, claims, "")
	case lrest == "subscribedskus":
		h.subscribedSkus(w, r, claims)
	case lrest == "serviceprincipals":
		h.servicePrincipals(w, r, claims)
	case lrest == "groups":
		h.groups(w, r, claims)
	case strings.HasPrefix(lrest, "reports/"):
		h.report(w, r, claims, rest[len("reports/"):])
	case strings.HasPrefix(lrest, "applications"):
		if key, byAppID, ok := applicationKey(rest); ok {
			h.getApplication(w, r, claims, key, byAppID)
			return
		}
		h.WriteError(w, r, 400, "BadRequest", "Resource not found for the segment 'applications'.")
	default:
		seg := rest
		if i := strings.IndexByte(seg, '/'); i >= 0 {
			seg = seg[:i]
		}
		h.WriteError(w, r, 400, "BadRequest", "Resource not found for the segment '"+seg+"'.")
	}
}

// authenticate checks the bearer token: signature, validity window,
// audience and tenant.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) (accesstoken.Claims, bool) {
	deny := func(msg string) (accesstoken.Claims, bool) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="`+GraphAppID+`"`)
		h.WriteError(w, r, 401, "InvalidAuthenticationToken", msg)
		return accesstoken.Claims{}, false
	}
	auth := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(auth, " ")
	tok = strings.TrimSpace(tok)
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return deny("Access token is empty.")
	}
	c, err := accesstoken.Verify(h.o.SigningKey, tok, h.o.Now())
	switch err {
	case nil:
	case accesstoken.ErrExpired:
		return deny("Access token has expired or is not yet valid.")
	case accesstoken.ErrMalformed:
		return deny("IDX14100: JWT is not well formed, there are no dots (.).")
	default:
		return deny("Access token validation failure.")
	}
	if !h.audienceOK(c.Audience) {
		return deny("Access token validation failure. Invalid audience.")
	}
	if c.TenantID != "" && !strings.EqualFold(c.TenantID, h.t.ID) {
		return deny("Access token validation failure. Invalid issuer.")
	}
	return c, true
}

func (h *Handler) audienceOK(aud string) bool {
	aud = strings.TrimSuffix(aud, "/")
	if strings.EqualFold(aud, GraphResource) || strings.EqualFold(aud, GraphAppID) {
		return true
	}
	for _, r := range h.o.Resources {
		if strings.EqualFold(aud, strings.TrimSuffix(r, "/")) {
			return true
		}
	}
	return false
}

func permitted(c accesstoken.Claims, any ...string) bool {
	for _, p := range any {
		if c.HasPermission(p) {
			return true
		}
	}
	return false
}

func delegated(c accesstoken.Claims) bool { return c.Scopes != "" || c.UPN != "" }

// baseURL is the origin the client used, so links work on 127.0.0.1 and
// localhost, over HTTP and HTTPS.
func baseURL(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

const jsonContentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// stream is a pooled buffered writer plus scratch buffer.
type stream struct {
	bw  *bufio.Writer
	buf []byte
}

var streamPool = sync.Pool{New: func() any {
	return &stream{bw: bufio.NewWriterSize(io.Discard, 64<<10), buf: make([]byte, 0, 16<<10)}
}}

func getStream(w io.Writer) *stream {
	s := streamPool.Get().(*stream)
	s.bw.Reset(w)
	return s
}

func (s *stream) release() {
	s.bw.Reset(io.Discard)
	if cap(s.buf) <= 1<<20 {
		streamPool.Put(s)
	}
}

// throttle takes cost units from the app's directory bucket, answering 429
// when it is empty.
func (h *Handler) throttle(w http.ResponseWriter, r *http.Request, c accesstoken.Claims, cost float64) bool {
	if !h.o.Throttle {
		return true
	}
	units := h.o.ThrottleUnits
	if units == 0 {
		switch n := h.t.CountUsers(""); {
		case n < 50:
			units = 3500
		case n <= 500:
			units = 5000
		default:
			units = 8000
		}
	}
	ok, wait := h.dir.take(c.AppID+"|"+c.TenantID, cost, float64(units))
	if ok {
		return true
	}
	h.tooMany(w, r, wait)
	return false
}

func (h *Handler) tooMany(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	h.throttled.Add(1)
	secs := int((wait + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	h.WriteError(w, r, 429, "TooManyRequests", "Too many requests. Retry after "+strconv.Itoa(secs)+" seconds.")
}
