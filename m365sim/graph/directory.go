package graph

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/inventorybeacon/beacon/m365sim/accesstoken"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

// subscribedSkus: small, so it is encoded whole under the read lock (SKU
// counters change in place when licenses are assigned). Only $select.
func (h *Handler) subscribedSkus(w http.ResponseWriter, r *http.Request, c accesstoken.Claims) {
	if !permitted(c, "Organization.Read.All", "Directory.Read.All", "Directory.ReadWrite.All", "LicenseAssignment.Read.All", "LicenseAssignment.ReadWrite.All", "Organization.ReadWrite.All") {
		h.fail(w, r, errForbidden)
		return
	}
	v, e := parseQuery(r, "$select")
	if e != nil {
		h.fail(w, r, e)
		return
	}
	sel := skuProps.defaults
	ctx := baseURL(r) + "/v1.0/$metadata#subscribedSkus"
	if s, ok := v["$select"]; ok {
		if sel, e = skuProps.parseSelect(s[0]); e != nil {
			h.fail(w, r, e)
			return
		}
		ctx += "(" + skuProps.names(sel) + ")"
	}
	if !h.throttle(w, r, c, 3) {
		return
	}
	b := []byte(`{"@odata.context":`)
	b = appendString(b, ctx)
	b = append(b, `,"value":[`...)
	h.t.RLock()
	for i, s := range h.t.SKUs {
		if i > 0 {
			b = append(b, ',')
		}
		b = skuProps.encode(b, s, sel, nil)
	}
	h.t.RUnlock()
	b = append(b, "]}"...)
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// servicePrincipals: $select, $top (1–999, default 100) and paging.
func (h *Handler) servicePrincipals(w http.ResponseWriter, r *http.Request, c accesstoken.Claims) {
	serveList(h, w, r, c, listSpec[*tenant.ServicePrincipal]{
		set: "servicePrincipals", props: spProps, kind: kindSPs,
		perms: []string{"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
		items: func() []*tenant.ServicePrincipal { return h.t.ServicePrincipals },
	})
}

// groups: the tenant's licensing groups, with $select, $top, paging and
// the one advanced query licence tools use,
// $filter=assignedLicenses/$count ne 0 with $count=true and
// ConsistencyLevel: eventual.
func (h *Handler) groups(w http.ResponseWriter, r *http.Request, c accesstoken.Claims) {
	serveList(h, w, r, c, listSpec[*tenant.Group]{
		set: "groups", props: groupProps, kind: kindGroups,
		perms: []string{"GroupMember.Read.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
		items: func() []*tenant.Group { return h.t.Groups },
		filter: func(f string, eventual, count bool) (func(*tenant.Group) bool, *apiError) {
			if !licensedGroupsRE.MatchString(f) {
				return nil, &apiError{400, "Request_UnsupportedQuery", "Unsupported Query."}
			}
			if !eventual || !count {
				// An advanced query: Graph wants both.
				return nil, &apiError{400, "Request_UnsupportedQuery", "Unsupported Query."}
			}
			return func(g *tenant.Group) bool { return len(g.SkuIDs) > 0 }, nil
		},
	})
}

var licensedGroupsRE = regexp.MustCompile(`(?i)^\s*assignedLicenses/\$count\s+ne\s+0\s*$`)

// listSpec describes a plain paged collection.
type listSpec[T any] struct {
	set   string // entity set, e.g. servicePrincipals
	props *propSet[T]
	kind  tokenKind
	perms []string
	// items returns the collection; called under the tenant's read lock.
	items func() []T
	// filter, when set, accepts $filter (and $count) and returns the
	// predicate; eventual and count say whether the request is an
	// advanced query.
	filter func(f string, eventual, count bool) (func(T) bool, *apiError)
}

// serveList serves a collection: $select, $top (1–999, default 100),
// $skiptoken paging, and $filter/$count where the spec allows them.
func serveList[T any](h *Handler, w http.ResponseWriter, r *http.Request, c accesstoken.Claims, spec listSpec[T]) {
	if !permitted(c, spec.perms...) {
		h.fail(w, r, errForbidden)
		return
	}
	allowed := []string{"$select", "$top", "$skiptoken"}
	if spec.filter != nil {
		allowed = append(allowed, "$filter", "$count")
	}
	v, e := parseQuery(r, allowed...)
	if e != nil {
		h.fail(w, r, e)
		return
	}
	sel := spec.props.defaults
	ctx := baseURL(r) + "/v1.0/$metadata#" + spec.set
	s, hasSel := v["$select"]
	if hasSel {
		if sel, e = spec.props.parseSelect(s[0]); e != nil {
			h.fail(w, r, e)
			return
		}
		ctx += "(" + spec.props.names(sel) + ")"
	}
	top, e := parseTop(v, 100)
	if e != nil {
		h.fail(w, r, e)
		return
	}
	withCount := false
	if cs, ok := v["$count"]; ok {
		withCount = strings.EqualFold(cs[0], "true")
		if withCount && !eventual(r) {
			h.fail(w, r, errCountUnsupported)
			return
		}
	}
	keep := func(T) bool { return true }
	if f, ok := v["$filter"]; ok {
		if keep, e = spec.filter(f[0], eventual(r), withCount); e != nil {
			h.fail(w, r, e)
			return
		}
	}
	start := 0
	if st, ok := v["$skiptoken"]; ok {
		tok, err := h.decodeToken(st[0])
		if err != nil || tok.kind != spec.kind {
			h.fail(w, r, errBadSkipToken)
			return
		}
		start = int(tok.n1)
	}
	cost := 2.0
	if hasSel {
		cost = 1
	}
	if !h.throttle(w, r, c, cost) {
		return
	}
	h.t.RLock()
	var all []T
	for _, it := range spec.items() {
		if keep(it) {
			all = append(all, it)
		}
	}
	h.t.RUnlock()
	start = min(start, len(all))
	end := min(start+top, len(all))
	page, more := all[start:end], end < len(all)

	st := getStream(w)
	defer st.release()
	b := st.buf[:0]
	b = append(b, `{"@odata.context":`...)
	b = appendString(b, ctx)
	if withCount {
		b = append(b, `,"@odata.count":`...)
		b = strconv.AppendInt(b, int64(len(all)), 10)
	}
	if more {
		b = append(b, `,"@odata.nextLink":`...)
		b = appendString(b, nextLink(r, "/v1.0/"+spec.set, "$skiptoken", h.encodeToken(token{kind: spec.kind, n1: uint64(end)})))
	}
	b = append(b, `,"value":[`...)
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(http.StatusOK)
	for i, it := range page {
		if i > 0 {
			b = append(b, ',')
		}
		b = spec.props.encode(b, it, sel, nil)
		if len(b) > 8<<10 {
			if _, err := st.bw.Write(b); err != nil {
				return
			}
			b = b[:0]
		}
	}
	b = append(b, "]}"...)
	_, _ = st.bw.Write(b)
	_ = st.bw.Flush()
	st.buf = b[:0]
}
