package tenant

import (
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// What licence reclamation needs of a tenant (issue 17): who got a licence
// from a group and which group, failed group assignments, licensed guests,
// and the last sign-in of each user.

// LicenseState is one element of a user's licenseAssignmentStates: a SKU
// the user holds directly (AssignedByGroup empty) or through a group, or a
// group assignment that failed (State "Error", the SKU then missing from
// assignedLicenses).
type LicenseState struct {
	SkuID           string
	AssignedByGroup string // group ID; empty for a direct assignment
	State           string // Active, ActiveWithError, Disabled, Error
	Error           string // None, CountViolation, MutuallyExclusiveViolation, ...
	LastUpdated     time.Time
}

// Group is a security group that assigns licences (group-based licensing).
type Group struct {
	ID          string
	DisplayName string
	Description string
	// SkuIDs are the licences the group assigns to its members.
	SkuIDs []string
}

// SignIn is a user's signInActivity, in days before the day it is served
// (like Usage, so a tenant generated on a fixed date still looks current).
// A user who never signed in has none (User.SignIn nil).
type SignIn struct {
	Interactive, NonInteractive int16
}

// Premium reports whether the tenant has Microsoft Entra ID P1 (a SKU
// carrying AAD_PREMIUM that is not suspended), which Graph requires to
// serve signInActivity, and NoPremium does not switch it off.
func (t *Tenant) Premium() bool {
	if t.NoPremium {
		return false
	}
	for _, s := range t.SKUs {
		if s.CapabilityStatus == "Suspended" || s.CapabilityStatus == "LockedOut" {
			continue
		}
		for _, p := range s.ServicePlans {
			if p.ServicePlanName == "AAD_PREMIUM" || p.ServicePlanName == "AAD_PREMIUM_P2" {
				return true
			}
		}
	}
	return false
}

// LicenseStates is the user's licenseAssignmentStates: the generated ones,
// or every assigned licence as a direct, active assignment.
func (u *User) LicenseStates() []LicenseState {
	if u.Licensing != nil {
		return u.Licensing
	}
	out := make([]LicenseState, 0, len(u.AssignedLicenses))
	for _, l := range u.AssignedLicenses {
		out = append(out, LicenseState{SkuID: l.SkuID, State: "Active", Error: "None", LastUpdated: u.licensedAt()})
	}
	return out
}

// licensedAt is when the user's licences were last changed: the latest
// assignedPlans date, or the account's creation.
func (u *User) licensedAt() time.Time {
	t := u.CreatedDateTime
	for _, p := range u.AssignedPlans {
		if p.AssignedDateTime.After(t) {
			t = p.AssignedDateTime
		}
	}
	return t
}

// restate keeps a user's group assignments across a licence change: the
// group and error entries of SKUs the user still holds (or still fails
// to get) stay, the rest become direct assignments.
func restate(old *User, nu *User) {
	if old.Licensing == nil {
		nu.Licensing = nil
		return
	}
	held := map[string]bool{}
	for _, l := range nu.AssignedLicenses {
		held[strings.ToLower(l.SkuID)] = true
	}
	var out []LicenseState
	covered := map[string]bool{}
	for _, s := range old.Licensing {
		k := strings.ToLower(s.SkuID)
		if s.State == "Error" || held[k] {
			out = append(out, s)
			if s.State != "Error" {
				covered[k] = true
			}
		}
	}
	for _, l := range nu.AssignedLicenses {
		if !covered[strings.ToLower(l.SkuID)] {
			out = append(out, LicenseState{SkuID: l.SkuID, State: "Active", Error: "None", LastUpdated: nu.licensedAt()})
		}
	}
	nu.Licensing = out
}

// licensing adds, from its own random stream (so every other generated
// value stays what it was before it existed):
//   - a licensing group for each of the two most used base SKUs and for
//     Power BI Pro when subscribed; most holders of those SKUs got them
//     through the group, a few both directly and through it;
//   - a handful of Power BI group members whose assignment failed for
//     want of seats (CountViolation);
//   - one guest in eight licensed by mistake with the cheapest paid SKU;
//   - each user's last sign-in, following their usage.
func (g *gen) licensing(seed int64) {
	r := rand.New(rand.NewPCG(uint64(seed), 0x5851f42d4c957f2d))
	t := g.t
	guid := func() string { return newGUID(r.Uint64) }

	// Licensed guests, before the SKUs' units are settled.
	var guestSKU *SKU
	for _, part := range []string{"EXCHANGESTANDARD", "POWER_BI_PRO", "STANDARDPACK", "ENTERPRISEPACK"} {
		if i, ok := t.lic.partIdx[part]; ok && t.SKUs[i].CapabilityStatus == "Enabled" {
			guestSKU = t.SKUs[i]
			break
		}
	}
	if guestSKU != nil {
		k := profileKey{mask: 1 << t.lic.partIdx[guestSKU.SkuPartNumber]}
		for _, u := range t.Users {
			if u.Guest && r.IntN(8) == 0 {
				at := g.licensedAt(u.CreatedDateTime)
				u.AssignedLicenses = t.lic.profile(k).licenses
				u.AssignedPlans = t.lic.assignedPlans(k, at)
				guestSKU.ConsumedUnits++
			}
		}
	}

	// Licensing groups.
	counts := map[int]int{}
	for _, u := range t.Users {
		for _, l := range u.AssignedLicenses {
			counts[t.lic.partIdx[t.SKUByID(l.SkuID).SkuPartNumber]]++
		}
	}
	var bases []int
	for _, w := range g.baseTable {
		if w.idx >= 0 {
			bases = append(bases, w.idx)
		}
	}
	slices.SortStableFunc(bases, func(a, b int) int { return counts[b] - counts[a] })
	groupOf := map[string]*Group{} // lower-case skuId
	for i, idx := range bases {
		if i == 2 {
			break
		}
		s := t.SKUs[idx]
		grp := &Group{ID: guid(), DisplayName: "Licensing - " + title(skuDefByID(s.SkuID).ProductName), SkuIDs: []string{s.SkuID},
			Description: "Members get " + s.SkuPartNumber + " through group-based licensing"}
		t.Groups = append(t.Groups, grp)
		groupOf[strings.ToLower(s.SkuID)] = grp
	}
	var bi *SKU
	if i, ok := t.lic.partIdx["POWER_BI_PRO"]; ok && t.SKUs[i].CapabilityStatus == "Enabled" {
		bi = t.SKUs[i]
		grp := &Group{ID: guid(), DisplayName: "Licensing - Power BI Pro", SkuIDs: []string{bi.SkuID},
			Description: "Analysts get POWER_BI_PRO through group-based licensing"}
		t.Groups = append(t.Groups, grp)
		groupOf[strings.ToLower(bi.SkuID)] = grp
	}
	for _, u := range t.Users {
		var states []LicenseState
		grouped := false
		for _, l := range u.AssignedLicenses {
			at := u.licensedAt()
			grp := groupOf[strings.ToLower(l.SkuID)]
			switch {
			case grp != nil && !u.Guest && r.IntN(10) < 7:
				states = append(states, LicenseState{SkuID: l.SkuID, AssignedByGroup: grp.ID, State: "Active", Error: "None", LastUpdated: at})
				grouped = true
				if r.IntN(25) == 0 { // also assigned directly, before the group existed
					states = append(states, LicenseState{SkuID: l.SkuID, State: "Active", Error: "None", LastUpdated: at})
				}
			default:
				states = append(states, LicenseState{SkuID: l.SkuID, State: "Active", Error: "None", LastUpdated: at})
			}
		}
		if bi != nil && !u.Guest && u.AccountEnabled && len(u.AssignedLicenses) > 0 && !holds(u, bi.SkuID) && r.IntN(150) == 0 {
			// Added to the Power BI group when no seat was left.
			states = append(states, LicenseState{SkuID: bi.SkuID, AssignedByGroup: groupOf[strings.ToLower(bi.SkuID)].ID,
				State: "Error", Error: "CountViolation", LastUpdated: g.now.AddDate(0, 0, -1-r.IntN(60))})
			grouped = true
		}
		if grouped {
			u.Licensing = states
		}
		u.SignIn = g.signIn(r, u)
	}
}

func holds(u *User, skuID string) bool {
	for _, l := range u.AssignedLicenses {
		if strings.EqualFold(l.SkuID, skuID) {
			return true
		}
	}
	return false
}

// signIn follows the user's usage: a user active in some workload signed
// in interactively within a few days of it and non-interactively (a
// client refreshing tokens) more recently still; one with no activity in
// the reports either never signed in or did so long ago.
func (g *gen) signIn(r *rand.Rand, u *User) *SignIn {
	last := int16(-1)
	for _, d := range u.Usage.LastActivity[WorkloadExchange:] {
		if d >= 0 && (last < 0 || d < last) {
			last = d
		}
	}
	if d := u.Usage.LastAppActivity; d >= 0 && (last < 0 || d < last) {
		last = d
	}
	if last < 0 {
		if r.IntN(3) == 0 {
			return nil
		}
		d := int16(60 + r.IntN(500))
		return &SignIn{Interactive: d, NonInteractive: max(0, d-int16(r.IntN(30)))}
	}
	in := last + int16(r.IntN(4))
	return &SignIn{Interactive: in, NonInteractive: max(0, in-int16(r.IntN(int(in)+1)))}
}

// title turns a report product name (MICROSOFT 365 E3) into the way
// administrators name groups (Microsoft 365 E3): words with a digit and
// short ones (E3, +) stay as they are.
func title(upper string) string {
	words := strings.Fields(upper)
	for i, w := range words {
		if len(w) <= 2 || strings.ContainsAny(w, "0123456789") {
			continue
		}
		words[i] = w[:1] + strings.ToLower(w[1:])
	}
	return strings.Join(words, " ")
}
