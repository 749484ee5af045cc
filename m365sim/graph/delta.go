package graph

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/inventorybeacon/beacon/m365sim/accesstoken"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

// delta serves /users/delta.
//
// A round without a token lists every user (in creation order) and ends
// with a deltaLink remembering the change-log sequence at the round's
// start: changes made while the client pages are reported again next time,
// never lost. A deltaLink round lists, once per user, the latest change
// since that sequence, as the user's current state or an @removed entry.
// $select is carried inside the tokens, like Graph's.
func (h *Handler) delta(w http.ResponseWriter, r *http.Request, c accesstoken.Claims) {
	if !permitted(c, userReadPerms...) {
		h.fail(w, r, errForbidden)
		return
	}
	if _, ok := queryHas(r, "$top"); ok {
		h.fail(w, r, &apiError{400, "Request_UnsupportedQuery", "The $top query option is not supported for delta queries."})
		return
	}
	v, e := parseQuery(r, "$select", "$skiptoken", "$deltatoken")
	if e != nil {
		h.fail(w, r, e)
		return
	}
	now := h.o.Now()
	var tok token
	var sel []int
	switch {
	case len(v["$deltatoken"]) > 0 && strings.EqualFold(v["$deltatoken"][0], "latest"):
		sel, e = h.deltaSelect(v)
		if e != nil {
			h.fail(w, r, e)
			return
		}
		if !h.throttle(w, r, c, 1) {
			return
		}
		h.writeDelta(w, r, sel, nil, "", h.deltaLink(r, h.t.Seq(), now, selBytes(sel)))
		return
	case len(v["$deltatoken"]) > 0 || len(v["$skiptoken"]) > 0:
		raw := append(v["$deltatoken"], v["$skiptoken"]...)[0]
		var err error
		tok, err = h.decodeToken(raw)
		if err != nil || tok.kind < kindDeltaFull || tok.kind > kindDeltaLink {
			h.gone(w, r)
			return
		}
		if now.Sub(time.Unix(tok.issued, 0)) >= h.o.DeltaTokenLifetime || tok.n1 > h.t.Seq() {
			h.gone(w, r)
			return
		}
		var ok bool
		if sel, ok = selInts(tok.sel, len(userProps.props)); !ok {
			h.gone(w, r)
			return
		}
	default:
		if sel, e = h.deltaSelect(v); e != nil {
			h.fail(w, r, e)
			return
		}
		tok = token{kind: kindDeltaFull, n1: h.t.Seq(), issued: now.Unix(), sel: selBytes(sel)}
	}
	if !h.throttle(w, r, c, 2) {
		return
	}
	n := h.o.DeltaPageSize
	switch tok.kind {
	case kindDeltaFull:
		pp := pagePool.Get().(*[]*tenant.User)
		defer pagePool.Put(pp)
		page, more := h.t.PageUsers(tok.cursor, n, *pp)
		*pp = page[:0]
		items := make([]tenant.DeltaItem, len(page))
		for i, u := range page {
			items[i] = tenant.DeltaItem{ID: u.ID, User: u}
		}
		if more {
			next := tok
			next.cursor = page[len(page)-1].Seq
			h.writeDelta(w, r, sel, items, h.deltaURL(r, "$skiptoken", next), "")
			return
		}
		h.writeDelta(w, r, sel, items, "", h.deltaLink(r, tok.n1, now, tok.sel))
	default:
		since, until, cursor := tok.n1, tok.n2, tok.cursor
		if tok.kind == kindDeltaLink {
			until, cursor = h.t.Seq(), since
		}
		items, next, more := h.t.DeltaChanges(since, until, cursor, n)
		if more {
			nt := token{kind: kindDeltaChange, n1: since, n2: until, cursor: next, issued: tok.issued, sel: tok.sel}
			h.writeDelta(w, r, sel, items, h.deltaURL(r, "$skiptoken", nt), "")
			return
		}
		h.writeDelta(w, r, sel, items, "", h.deltaLink(r, until, now, tok.sel))
	}
}

// deltaLink is the link that ends a round, resuming after change-log
// sequence since. Graph's delta tokens change every round, even one
// without changes, so a client must store each new link; the link's n2
// (unused by a deltaLink otherwise) carries a round number so that ours
// change too, even within the same second.
func (h *Handler) deltaLink(r *http.Request, since uint64, now time.Time, sel []byte) string {
	t := token{kind: kindDeltaLink, n1: since, n2: h.deltaRounds.Add(1), issued: now.Unix(), sel: sel}
	return h.deltaURL(r, "$deltatoken", t)
}

func queryHas(r *http.Request, key string) (string, bool) {
	for k, v := range r.URL.Query() {
		if strings.EqualFold(k, key) {
			return v[0], true
		}
	}
	return "", false
}

// deltaSelect is the selection of a delta round; id always comes back.
func (h *Handler) deltaSelect(v map[string][]string) ([]int, *apiError) {
	s, ok := v["$select"]
	if !ok {
		return userProps.defaults, nil
	}
	sel, e := userProps.parseSelect(s[0])
	if e != nil {
		return nil, e
	}
	if slices.Contains(sel, signInProp) {
		// Sign-in activity is not tracked as a change of the user.
		return nil, &apiError{400, "Request_UnsupportedQuery", "Property 'signInActivity' is not supported in delta queries."}
	}
	id := userProps.byName["id"]
	for _, i := range sel {
		if i == id {
			return sel, nil
		}
	}
	return append([]int{id}, sel...), nil
}

func (h *Handler) deltaURL(r *http.Request, param string, t token) string {
	return baseURL(r) + "/v1.0/users/delta?" + param + "=" + h.encodeToken(t)
}

func (h *Handler) gone(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Location", baseURL(r)+"/v1.0/users/delta")
	h.WriteError(w, r, http.StatusGone, "syncStateNotFound", "The sync state generation is not found or has expired. Please do a full synchronization.")
}

func (h *Handler) writeDelta(w http.ResponseWriter, r *http.Request, sel []int, items []tenant.DeltaItem, next, deltaLink string) {
	s := getStream(w)
	defer s.release()
	b := s.buf[:0]
	b = append(b, `{"@odata.context":`...)
	b = appendString(b, baseURL(r)+"/v1.0/$metadata#users("+userProps.names(sel)+")")
	if next != "" {
		b = append(b, `,"@odata.nextLink":`...)
		b = appendString(b, next)
	}
	if deltaLink != "" {
		b = append(b, `,"@odata.deltaLink":`...)
		b = appendString(b, deltaLink)
	}
	b = append(b, `,"value":[`...)
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(http.StatusOK)
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		if it.User != nil {
			b = userProps.encode(b, it.User, sel, nil)
		} else {
			b = append(b, `{"id":`...)
			b = appendString(b, it.ID)
			b = append(b, `,"@removed":{"reason":`...)
			b = appendString(b, it.Removed)
			b = append(b, "}}"...)
		}
		if len(b) > 8<<10 {
			if _, err := s.bw.Write(b); err != nil {
				return
			}
			b = b[:0]
		}
	}
	b = append(b, "]}"...)
	_, _ = s.bw.Write(b)
	_ = s.bw.Flush()
	s.buf = b[:0]
}
