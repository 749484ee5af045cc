package catalog

import (
	"strconv"
	"strings"
)

// Overlap is what two SKUs held by one user have in common.
type Overlap struct {
	// Smaller is the SKU with fewer service plans (the one to remove),
	// Larger the other.
	Smaller, Larger Product
	// Shared are the service plans both include, the tenant-wide
	// foundation plans aside (see substantive).
	Shared []Plan
	// Included says every plan of Smaller is also in Larger: Smaller adds
	// nothing (a standalone Enterprise Mobility + Security E3 next to
	// Microsoft 365 E3). Otherwise at least half of Smaller's plans are in
	// Larger (Office 365 E3 next to Microsoft 365 E5).
	Included bool
}

// Describe is the one-line reason shown beside the user.
func (o Overlap) Describe() string {
	names := make([]string, 0, 3)
	for i, p := range o.Shared {
		if i == 3 {
			break
		}
		names = append(names, p.FriendlyName)
	}
	more := ""
	if n := len(o.Shared) - len(names); n > 0 {
		more = ", +" + strconv.Itoa(n) + " more"
	}
	if o.Included {
		return o.Smaller.Name + " is included in " + o.Larger.Name + " (" + strings.Join(names, ", ") + more + ")"
	}
	return o.Smaller.Name + " overlaps " + o.Larger.Name + " in " + strconv.Itoa(len(o.Shared)) + " of its " +
		strconv.Itoa(len(o.Smaller.Plans)) + " service plans (" + strings.Join(names, ", ") + more + ")"
}

// substantive reports whether a plan says anything about overlap: a plan
// in more than a quarter of all products ("Exchange Foundation", in 225 of
// 568 in December 2025) is infrastructure every SKU carries.
func (c *Catalog) substantive(p *Plan) bool {
	return p.Products*4 <= len(c.products)
}

// Overlaps tells whether two SKUs overlap: at least half of the service
// plans of the one with fewer plans are in the other. Unknown SKUs never
// overlap: without the catalogue there is nothing to compare.
func (c *Catalog) Overlaps(skuA, skuB string) (Overlap, bool) {
	if c == nil {
		return Overlap{}, false
	}
	a, okA := c.bySkuID[strings.ToLower(skuA)]
	b, okB := c.bySkuID[strings.ToLower(skuB)]
	if !okA || !okB || a == b {
		return Overlap{}, false
	}
	pa, pb := c.substantivePlans(a), c.substantivePlans(b)
	if len(pa) == 0 || len(pb) == 0 {
		return Overlap{}, false
	}
	small, large, ps, pl := a, b, pa, pb
	if len(pb) < len(pa) || len(pb) == len(pa) && b.Name < a.Name {
		small, large, ps, pl = b, a, pb, pa
	}
	in := make(map[string]bool, len(pl))
	for _, id := range pl {
		in[id] = true
	}
	var shared []Plan
	for _, id := range ps {
		if in[id] {
			shared = append(shared, *c.plans[id])
		}
	}
	if len(shared)*2 < len(ps) {
		return Overlap{}, false
	}
	o := Overlap{Smaller: *small, Larger: *large, Shared: shared, Included: len(shared) == len(ps)}
	o.Smaller.Plans, o.Larger.Plans = ps, pl
	return o, true
}

func (c *Catalog) substantivePlans(p *Product) []string {
	out := make([]string, 0, len(p.Plans))
	for _, id := range p.Plans {
		if c.substantive(c.plans[id]) {
			out = append(out, id)
		}
	}
	return out
}
