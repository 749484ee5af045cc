package graph

import (
	"net/http"

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
		b = skuProps.encode(b, s, sel)
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
	if !permitted(c, "Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All") {
		h.fail(w, r, errForbidden)
		return
	}
	v, e := parseQuery(r, "$select", "$top", "$skiptoken")
	if e != nil {
		h.fail(w, r, e)
		return
	}
	sel := spProps.defaults
	ctx := baseURL(r) + "/v1.0/$metadata#servicePrincipals"
	s, hasSel := v["$select"]
	if hasSel {
		if sel, e = spProps.parseSelect(s[0]); e != nil {
			h.fail(w, r, e)
			return
		}
		ctx += "(" + spProps.names(sel) + ")"
	}
	top, e := parseTop(v, 100)
	if e != nil {
		h.fail(w, r, e)
		return
	}
	start := 0
	if st, ok := v["$skiptoken"]; ok {
		tok, err := h.decodeToken(st[0])
		if err != nil || tok.kind != kindSPs {
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
	all := h.t.ServicePrincipals
	start = min(start, len(all))
	end := min(start+top, len(all))
	page := append([]*tenant.ServicePrincipal(nil), all[start:end]...)
	more := end < len(all)
	h.t.RUnlock()

	st := getStream(w)
	defer st.release()
	b := st.buf[:0]
	b = append(b, `{"@odata.context":`...)
	b = appendString(b, ctx)
	if more {
		b = append(b, `,"@odata.nextLink":`...)
		b = appendString(b, nextLink(r, "/v1.0/servicePrincipals", "$skiptoken", h.encodeToken(token{kind: kindSPs, n1: uint64(end)})))
	}
	b = append(b, `,"value":[`...)
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(http.StatusOK)
	for i, sp := range page {
		if i > 0 {
			b = append(b, ',')
		}
		b = spProps.encode(b, sp, sel)
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
