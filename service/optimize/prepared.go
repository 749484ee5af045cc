package optimize

import (
	"slices"
	"strings"
	"time"

	"github.com/inventorybeacon/beacon/connector/catalog"
)

// Prepared is a snapshot's facts with what does not depend on N worked
// out once for a catalogue: each user's licences, last activity and
// detail, the guests, the overlaps and the failed assignments. The
// Optimization page recomputes for every N typed, and at 1,000,000 users
// Compute takes about a second, most of it on that work (issue 21).
type Prepared struct {
	f   *Facts
	cat *catalog.Catalog
	// users are the licensed users.
	users []prepUser
	// held holds the users' SKU ids, idx their indices in f.SKUs (-1:
	// not subscribed), users[i].from to users[i].to.
	held []string
	idx  []int32
	// fixed are the lists that do not depend on N, Overlapping with its
	// Recoverable flags to set; ovIdx is each overlap's SKU (in f.SKUs).
	fixed [numReasons][]Finding
	ovIdx []int32
	// byReason counts the fixed lists' seats per SKU (in f.SKUs).
	byReason      [][numReasons]int
	groupAssigned int
}

type prepUser struct {
	u            *User
	from, to     int32 // its SKUs in held and idx
	ovFrom, ovTo int32 // its overlaps in fixed[Overlapping]
	// created, enabled and last are what classify reads, here to spare
	// a million users' cache misses for each N.
	created, last time.Time
	enabled       bool
	detail        string
}

// Prepare works out what Compute does not need N for, with catalogue c.
func Prepare(f *Facts, c *catalog.Catalog) *Prepared {
	p := &Prepared{f: f, cat: c, byReason: make([][numReasons]int, len(f.SKUs))}
	_, skuIdx, _ := newResult(f, Options{Catalog: c})
	count := func(fd Finding) {
		for _, id := range fd.SKUs {
			if i := indexOf(skuIdx, id); i >= 0 {
				p.byReason[i][fd.Reason]++
			}
		}
	}
	add := func(fd Finding) {
		p.fixed[fd.Reason] = append(p.fixed[fd.Reason], fd)
		count(fd)
	}
	ov := overlapMemo{c: c, seen: map[[2]string][]catalog.Overlap{}}
	var scratch []string
	// Sized up front, and the texts and one-SKU lists that users share
	// held once: at 1,000,000 users growing and copying per user doubled
	// what is kept.
	licences := 0
	for ui := range f.Users {
		licences += len(f.Users[ui].Licenses)
	}
	p.users = make([]prepUser, 0, len(f.Users))
	p.held, p.idx = make([]string, 0, licences), make([]int32, 0, licences)
	texts := map[string]string{}
	intern := func(s string) string {
		if t, ok := texts[s]; ok {
			return t
		}
		texts[s] = s
		return s
	}
	one := map[string][]string{}
	for ui := range f.Users {
		u := &f.Users[ui]
		scratch = heldSKUs(u, f, c, skuIdx, scratch[:0], add, &p.groupAssigned)
		if len(scratch) == 0 {
			continue
		}
		from := len(p.held)
		p.held = append(p.held, scratch...)
		held := p.held[from:len(p.held):len(p.held)] // a finding's SKUs: never appended to
		for _, id := range held {
			p.idx = append(p.idx, int32(indexOf(skuIdx, id)))
		}
		pu := prepUser{u: u, from: int32(from), to: int32(len(p.held)), last: lastActivity(u, f), created: u.Created, enabled: u.Enabled,
			detail: intern(sourceDetail(u, c, f, skuIdx)), ovFrom: int32(len(p.fixed[Overlapping]))}
		if u.Guest {
			add(Finding{Reason: LicensedGuest, User: u, SKUs: held, LastActivity: pu.last, Detail: pu.detail})
		}
		for _, ov := range ov.of(held) {
			id := ov.Smaller.SkuID
			if one[id] == nil {
				one[id] = []string{id}
			}
			add(Finding{Reason: Overlapping, User: u, SKUs: one[id], LastActivity: pu.last, Detail: intern(ov.Describe())})
			p.ovIdx = append(p.ovIdx, int32(indexOf(skuIdx, ov.Smaller.SkuID)))
		}
		pu.ovTo = int32(len(p.fixed[Overlapping]))
		p.users = append(p.users, pu)
	}
	return p
}

// Catalog is the catalogue p was prepared with.
func (p *Prepared) Catalog() *catalog.Catalog { return p.cat }

func indexOf(skuIdx map[string]int, id string) int {
	if i, ok := skuIdx[strings.ToLower(id)]; ok {
		return i
	}
	return -1
}

// Compute is Compute(f, o) for the facts p was prepared from, o.Catalog
// being p's catalogue: the same result, in a pass over the licensed users
// that only sorts them into the lists for N.
func (p *Prepared) Compute(o Options) *Result {
	o.Catalog = p.cat
	res, _, cutoff := newResult(p.f, o)
	res.GroupAssigned = p.groupAssigned
	for i := range res.SKUs {
		res.SKUs[i].ByReason = p.byReason[i]
	}
	for _, r := range []Reason{LicensedGuest, AssignmentError, Overlapping} {
		res.Lists[r] = slices.Clone(p.fixed[r])
	}
	ovs := res.Lists[Overlapping]
	// The lists' lengths first: growing them by appending copied and
	// collected several times their size at 1,000,000 users.
	var sizes [numReasons]int
	for k := range p.users {
		if reason, listed := classify(p.users[k].created, p.users[k].enabled, p.users[k].last, cutoff, res.ActivityKnown); listed {
			sizes[reason]++
		}
	}
	for _, r := range []Reason{NewStarter, Disabled, NeverActive, Inactive} {
		if sizes[r] > 0 {
			res.Lists[r] = make([]Finding, 0, sizes[r])
		}
	}
	for k := range p.users {
		pu := &p.users[k]
		reason, listed := classify(pu.created, pu.enabled, pu.last, cutoff, res.ActivityKnown)
		idx := p.idx[pu.from:pu.to]
		if listed {
			fd := Finding{Reason: reason, User: pu.u, SKUs: p.held[pu.from:pu.to:pu.to], LastActivity: pu.last, Detail: pu.detail,
				Recoverable: reason != NewStarter}
			res.Lists[reason] = append(res.Lists[reason], fd)
			for _, i := range idx {
				if i >= 0 {
					res.SKUs[i].ByReason[reason]++
					if fd.Recoverable {
						res.SKUs[i].Recoverable++
					}
				}
			}
		}
		if listed && reason != NewStarter {
			continue // wasted already: its overlaps are not recoverable
		}
		for j := pu.ovFrom; j < pu.ovTo; j++ {
			ovs[j].Recoverable = true
			if i := p.ovIdx[j]; i >= 0 {
				res.SKUs[i].Recoverable++
			}
		}
	}
	finish(res)
	return res
}
