package tenant

import (
	"math/bits"
	"sync"
	"time"
)

// licenser turns a set of the tenant's SKUs into assignedLicenses and
// assignedPlans. Users with the same SKUs share the resulting slices, and
// users licensed on the same day share assignedPlans: 200,000 users hold a
// few thousand distinct slices instead of 200,000 × 20 plan records. Shared
// slices are never modified (users are immutable once published).
type licenser struct {
	// mu guards the caches: readers (reports) may fill them under the
	// tenant's read lock.
	mu       sync.Mutex
	t        *Tenant
	defs     []*skuDef      // parallel to t.SKUs
	partIdx  map[string]int // part number -> index in t.SKUs
	profiles map[profileKey]*profile
	plans    map[planKey][]AssignedPlan
}

// skuMask is a set of indexes into Tenant.SKUs (at most 64 SKUs).
type skuMask uint64

type profileKey struct {
	mask skuMask
	// noYammer disables YAMMER_ENTERPRISE, as many organisations do.
	noYammer bool
}

type planKey struct {
	profileKey
	day int64 // assignment day (Unix days)
}

// profile is what a set of SKUs gives a user.
type profile struct {
	licenses  []AssignedLicense
	planDefs  []*planDef
	workloads [NumWorkloads]bool
	products  []string // Assigned Products (report names), in SKU order
	officeApp []string // activation product types
}

func newLicenser(t *Tenant) *licenser {
	l := &licenser{t: t, partIdx: map[string]int{}, profiles: map[profileKey]*profile{}, plans: map[planKey][]AssignedPlan{}}
	for i, s := range t.SKUs {
		def := skuDefByID(s.SkuID)
		if def == nil {
			// A SKU of a hand-built tenant: described by its own plans.
			def = &skuDef{PartNumber: s.SkuPartNumber, ID: s.SkuID, ProductName: s.SkuPartNumber}
			for _, p := range s.ServicePlans {
				if planByName[p.ServicePlanName] != nil {
					def.Plans = append(def.Plans, p.ServicePlanName)
				}
			}
		}
		l.defs = append(l.defs, def)
		l.partIdx[s.SkuPartNumber] = i
	}
	return l
}

var noDisabledPlans = []string{}

func (l *licenser) profile(k profileKey) *profile {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.profileLocked(k)
}

func (l *licenser) profileLocked(k profileKey) *profile {
	if p := l.profiles[k]; p != nil {
		return p
	}
	p := &profile{}
	seen := map[string]bool{}
	yammer := planByName["YAMMER_ENTERPRISE"]
	for m := k.mask; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(uint64(m))
		def := l.defs[i]
		lic := AssignedLicense{DisabledPlans: noDisabledPlans, SkuID: def.ID}
		hasYammer := false
		for _, name := range def.Plans {
			pd := planByName[name]
			if pd == yammer {
				hasYammer = true
				if k.noYammer {
					continue
				}
			}
			if seen[name] {
				continue
			}
			seen[name] = true
			p.planDefs = append(p.planDefs, pd)
			p.workloads[pd.Workload] = true
			if pd.Workload == WorkloadSharePoint {
				p.workloads[WorkloadOneDrive] = true
			}
		}
		if k.noYammer && hasYammer {
			lic.DisabledPlans = []string{yammer.ID}
		}
		p.licenses = append(p.licenses, lic)
		p.products = append(p.products, def.ProductName)
		if def.OfficeApps != "" {
			dup := false
			for _, o := range p.officeApp {
				dup = dup || o == def.OfficeApps
			}
			if !dup {
				p.officeApp = append(p.officeApp, def.OfficeApps)
			}
		}
	}
	p.workloads[WorkloadNone] = false
	if p.licenses == nil {
		p.licenses = []AssignedLicense{}
	}
	l.profiles[k] = p
	return p
}

func (l *licenser) assignedPlans(k profileKey, at time.Time) []AssignedPlan {
	at = at.UTC().Truncate(24 * time.Hour)
	pk := planKey{k, at.Unix() / 86400}
	l.mu.Lock()
	defer l.mu.Unlock()
	if ps, ok := l.plans[pk]; ok {
		return ps
	}
	p := l.profileLocked(k)
	ps := make([]AssignedPlan, 0, len(p.planDefs))
	for _, pd := range p.planDefs {
		ps = append(ps, AssignedPlan{AssignedDateTime: at, CapabilityStatus: l.planStatus(k.mask, pd), Service: pd.Service, ServicePlanID: pd.ID})
	}
	l.plans[pk] = ps
	return ps
}

// planStatus is Suspended when every SKU of the mask that carries the plan
// is suspended.
func (l *licenser) planStatus(mask skuMask, pd *planDef) string {
	for m := mask; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(uint64(m))
		for _, n := range l.defs[i].Plans {
			if n == pd.Name && l.t.SKUs[i].CapabilityStatus != "Suspended" {
				return "Enabled"
			}
		}
	}
	return "Suspended"
}

// maskOf maps a user's assignedLicenses back to a SKU set.
func (l *licenser) maskOf(ls []AssignedLicense) (skuMask, bool) {
	var m skuMask
	noYammer := false
	for _, a := range ls {
		s := l.t.SKUByID(a.SkuID)
		if s == nil {
			continue
		}
		m |= 1 << l.partIdx[s.SkuPartNumber]
		noYammer = noYammer || len(a.DisabledPlans) > 0
	}
	return m, noYammer
}

// LicenseProfile is what the usage reports need from a user's licenses.
type LicenseProfile struct {
	// HasWorkload tells which workloads the licenses include.
	HasWorkload [NumWorkloads]bool
	// Products are the products' names as reports print them.
	Products []string
	// OfficeProducts are the activation product types.
	OfficeProducts []string
}

// LicenseProfile describes u's licenses. The caller holds the read lock.
func (t *Tenant) LicenseProfile(u *User) LicenseProfile {
	m, ny := t.lic.maskOf(u.AssignedLicenses)
	p := t.lic.profile(profileKey{m, ny})
	return LicenseProfile{HasWorkload: p.workloads, Products: p.products, OfficeProducts: p.officeApp}
}

// WorkloadAssigned returns when u was given a plan of workload w (zero if
// never).
func WorkloadAssigned(u *User, w Workload) time.Time {
	return WorkloadsAssigned(u)[w]
}

// WorkloadsAssigned is WorkloadAssigned for every workload, in one pass
// over the user's plans.
func WorkloadsAssigned(u *User) [NumWorkloads]time.Time {
	var first [NumWorkloads]time.Time
	set := func(w Workload, t time.Time) {
		if first[w].IsZero() || t.Before(first[w]) {
			first[w] = t
		}
	}
	for _, ap := range u.AssignedPlans {
		pd := planByID[ap.ServicePlanID]
		if pd == nil {
			continue
		}
		if pd.Workload < NumWorkloads {
			set(pd.Workload, ap.AssignedDateTime)
		}
		if pd.Workload == WorkloadSharePoint {
			set(WorkloadOneDrive, ap.AssignedDateTime)
		}
	}
	return first
}

// workloadAssignedScan is the plain definition, the reference of the tests.
func workloadAssignedScan(u *User, w Workload) time.Time {
	var first time.Time
	for _, ap := range u.AssignedPlans {
		pd := planByID[ap.ServicePlanID]
		if pd == nil {
			continue
		}
		if pd.Workload == w || (w == WorkloadOneDrive && pd.Workload == WorkloadSharePoint) {
			if first.IsZero() || ap.AssignedDateTime.Before(first) {
				first = ap.AssignedDateTime
			}
		}
	}
	return first
}

var planByID = func() map[string]*planDef {
	m := map[string]*planDef{}
	for _, p := range planByName {
		m[p.ID] = p
	}
	return m
}()
