package graph

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/inventorybeacon/beacon/m365sim/accesstoken"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

var userReadPerms = []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All", "User.ReadBasic.All"}

// parseQuery decodes the query and refuses system query options the
// endpoint does not support (allowed lists the supported ones, lower case
// with the $). Non-$ parameters are ignored, as Graph does.
func parseQuery(r *http.Request, allowed ...string) (url.Values, *apiError) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, &apiError{400, "BadRequest", "The query specified in the URI is not valid."}
	}
	out := url.Values{}
	for k, vals := range v {
		lk := strings.ToLower(k)
		if !strings.HasPrefix(lk, "$") {
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || a == lk
		}
		if !ok {
			switch lk {
			case "$skip":
				return nil, &apiError{400, "Request_BadRequest", "'$skip' is not supported by the service."}
			case "$orderby":
				return nil, &apiError{400, "Request_UnsupportedQuery", "Sorting not supported for current query."}
			}
			return nil, &apiError{400, "Request_UnsupportedQuery", "Query option '" + k + "' is not supported."}
		}
		if len(vals) > 1 {
			return nil, &apiError{400, "BadRequest", "Query option '" + k + "' was specified more than once, but it must be specified at most once."}
		}
		out[lk] = vals
	}
	return out, nil
}

// parseTop applies Graph's 1–999 page size rule.
func parseTop(v url.Values, def int) (int, *apiError) {
	s, ok := v["$top"]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s[0]))
	if err != nil || n < 1 || n > 999 {
		return 0, &apiError{400, "Request_UnsupportedQuery", "Invalid page size specified: '" + s[0] + "'. Must be between 1 and 999 inclusive."}
	}
	return n, nil
}

var startsWithRE = regexp.MustCompile(`(?i)^\s*startswith\(\s*userPrincipalName\s*,\s*'((?:[^']|'')*)'\s*\)\s*$`)

// parseFilter accepts only startswith(userPrincipalName,'...') and returns
// the lower-case prefix (quotes unescaped: ” is ').
func parseFilter(v url.Values) (prefix string, has bool, e *apiError) {
	s, ok := v["$filter"]
	if !ok {
		return "", false, nil
	}
	m := startsWithRE.FindStringSubmatch(s[0])
	if m == nil {
		return "", false, &apiError{400, "Request_UnsupportedQuery", "Unsupported Query."}
	}
	return strings.ToLower(strings.ReplaceAll(m[1], "''", "'")), true, nil
}

func eventual(r *http.Request) bool {
	return strings.EqualFold(strings.TrimSpace(r.Header.Get("ConsistencyLevel")), "eventual")
}

var errCountUnsupported = &apiError{400, "Request_BadRequest", "$count is not currently supported."}

// nextLink rebuilds the request URL with a new $skiptoken, keeping the
// client's other parameters verbatim.
func nextLink(r *http.Request, path, tokenParam, tok string) string {
	var b strings.Builder
	b.WriteString(baseURL(r))
	b.WriteString(path)
	b.WriteByte('?')
	n := 0
	for _, part := range strings.Split(r.URL.RawQuery, "&") {
		if part == "" {
			continue
		}
		k, _, _ := strings.Cut(part, "=")
		if dk, err := url.QueryUnescape(k); err == nil && (strings.EqualFold(dk, "$skiptoken") || strings.EqualFold(dk, "$deltatoken")) {
			continue
		}
		if n > 0 {
			b.WriteByte('&')
		}
		b.WriteString(part)
		n++
	}
	if n > 0 {
		b.WriteByte('&')
	}
	b.WriteString(tokenParam)
	b.WriteByte('=')
	b.WriteString(tok)
	return b.String()
}

var pagePool = sync.Pool{New: func() any { s := make([]*tenant.User, 0, 999); return &s }}

func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request, c accesstoken.Claims) {
	if !permitted(c, userReadPerms...) {
		h.fail(w, r, errForbidden)
		return
	}
	v, e := parseQuery(r, "$select", "$top", "$filter", "$skiptoken", "$count")
	if e != nil {
		h.fail(w, r, e)
		return
	}
	selStr, hasSel := v["$select"]
	var sel []int
	if hasSel {
		sel, e = userProps.parseSelect(selStr[0])
	} else {
		sel = userProps.defaults
	}
	if e != nil {
		h.fail(w, r, e)
		return
	}
	top, e := parseTop(v, 100)
	if e != nil {
		h.fail(w, r, e)
		return
	}
	env, e := h.signInCheck(c, sel, top)
	if e != nil {
		h.fail(w, r, e)
		return
	}
	prefix, filtered, e := parseFilter(v)
	if e != nil {
		h.fail(w, r, e)
		return
	}
	withCount := false
	if cs, ok := v["$count"]; ok {
		if !strings.EqualFold(cs[0], "true") && !strings.EqualFold(cs[0], "false") {
			h.fail(w, r, &apiError{400, "BadRequest", "Invalid value for $count: '" + cs[0] + "'."})
			return
		}
		withCount = strings.EqualFold(cs[0], "true")
		if withCount && !eventual(r) {
			h.fail(w, r, errCountUnsupported)
			return
		}
	}
	var tok token
	if st, ok := v["$skiptoken"]; ok {
		var err error
		tok, err = h.decodeToken(st[0])
		want := kindUsers
		if filtered {
			want = kindUsersPrefix
		}
		if err != nil || tok.kind != want {
			h.fail(w, r, errBadSkipToken)
			return
		}
	}
	cost := 2.0
	if hasSel {
		cost = 1
	}
	if !h.throttle(w, r, c, cost) {
		return
	}

	pp := pagePool.Get().(*[]*tenant.User)
	defer pagePool.Put(pp)
	var page []*tenant.User
	var more bool
	if filtered {
		page, more = h.t.PageUsersByPrefix(prefix, tok.key, top, *pp)
	} else {
		page, more = h.t.PageUsers(tok.n1, top, *pp)
	}
	*pp = page[:0]

	s := getStream(w)
	defer s.release()
	b := s.buf[:0]
	b = append(b, `{"@odata.context":`...)
	ctx := baseURL(r) + "/v1.0/$metadata#users"
	if hasSel {
		ctx += "(" + userProps.names(sel) + ")"
	}
	b = appendString(b, ctx)
	if withCount {
		b = append(b, `,"@odata.count":`...)
		b = strconv.AppendInt(b, int64(h.t.CountUsers(prefix)), 10)
	}
	if more && len(page) > 0 {
		last := page[len(page)-1]
		nt := token{kind: kindUsers, n1: last.Seq}
		if filtered {
			nt = token{kind: kindUsersPrefix, key: tenant.UPNKey(last)}
		}
		b = append(b, `,"@odata.nextLink":`...)
		b = appendString(b, nextLink(r, "/v1.0/users", "$skiptoken", h.encodeToken(nt)))
	}
	b = append(b, `,"value":[`...)
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(http.StatusOK)
	for i, u := range page {
		if i > 0 {
			b = append(b, ',')
		}
		b = userProps.encode(b, u, sel, env)
		if len(b) > 8<<10 {
			if _, err := s.bw.Write(b); err != nil {
				return // client gone
			}
			b = b[:0]
		}
	}
	b = append(b, "]}"...)
	_, _ = s.bw.Write(b)
	_ = s.bw.Flush()
	s.buf = b[:0]
}

var errBadSkipToken = &apiError{400, "Directory_ExpiredPageToken", "The specified page token value has expired and can no longer be included in your request."}

func (h *Handler) countUsers(w http.ResponseWriter, r *http.Request, c accesstoken.Claims) {
	if !permitted(c, userReadPerms...) {
		h.fail(w, r, errForbidden)
		return
	}
	v, e := parseQuery(r, "$filter")
	if e != nil {
		h.fail(w, r, e)
		return
	}
	if !eventual(r) {
		h.fail(w, r, errCountUnsupported)
		return
	}
	prefix, _, e := parseFilter(v)
	if e != nil {
		h.fail(w, r, e)
		return
	}
	if !h.throttle(w, r, c, 1) {
		return
	}
	body := strconv.Itoa(h.t.CountUsers(prefix))
	w.Header().Set("Content-Type", "text/plain;charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(body))
}

// getUser serves /users/{id | userPrincipalName} and /me (key "").
func (h *Handler) getUser(w http.ResponseWriter, r *http.Request, c accesstoken.Claims, key string) {
	me := key == ""
	if !permitted(c, userReadPerms...) && !(me && permitted(c, "User.Read")) {
		h.fail(w, r, errForbidden)
		return
	}
	v, e := parseQuery(r, "$select")
	if e != nil {
		h.fail(w, r, e)
		return
	}
	sel := userProps.defaults
	selStr, hasSel := v["$select"]
	if hasSel {
		if sel, e = userProps.parseSelect(selStr[0]); e != nil {
			h.fail(w, r, e)
			return
		}
	}
	env, e := h.signInCheck(c, sel, 1)
	if e != nil {
		h.fail(w, r, e)
		return
	}
	if !h.throttle(w, r, c, 1) {
		return
	}
	h.t.RLock()
	var u *tenant.User
	switch {
	case me && delegated(c):
		u = h.t.UserByID(c.ObjectID)
	case me:
		h.t.RUnlock()
		h.fail(w, r, &apiError{400, "BadRequest", "/me request is only valid with delegated authentication flow."})
		return
	default:
		if u = h.t.UserByID(key); u == nil {
			u = h.t.UserByUPN(key)
		}
	}
	h.t.RUnlock()
	if u == nil {
		h.fail(w, r, &apiError{404, "Request_ResourceNotFound", "Resource '" + key + "' does not exist or one of its queried reference-property objects are not present."})
		return
	}
	b := []byte(`{"@odata.context":`)
	ctx := baseURL(r) + "/v1.0/$metadata#users"
	if hasSel {
		ctx += "(" + userProps.names(sel) + ")"
	}
	b = appendString(b, ctx+"/$entity")
	b = append(b, ',')
	obj := userProps.encode(nil, u, sel, env)
	b = append(b, obj[1:]...)
	if len(obj) == 2 { // {} : drop the dangling comma
		b = append(b[:len(b)-2], '}')
	}
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

var signInProp = userProps.byName["signinactivity"]

// signInCheck applies Graph's rules for $select=signInActivity: the
// tenant needs Microsoft Entra ID P1 (403
// Authentication_RequestFromNonPremiumTenantOrB2CTenant without it), the
// caller AuditLog.Read.All, and a page holds at most 120 users.
func (h *Handler) signInCheck(c accesstoken.Claims, sel []int, top int) (*encEnv, *apiError) {
	if !slices.Contains(sel, signInProp) {
		return nil, nil
	}
	if !h.t.Premium() {
		return nil, &apiError{403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant", "Neither tenant is B2C or tenant doesn't have premium license"}
	}
	if !permitted(c, "AuditLog.Read.All") {
		return nil, errForbidden
	}
	if top > 120 {
		return nil, &apiError{400, "Request_UnsupportedQuery", "Cannot query data for more than 120 users at a time."}
	}
	return &encEnv{today: h.o.Now().UTC().Truncate(24 * time.Hour)}, nil
}
