package tenant

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// ChangeKind says what a change did to a user.
type ChangeKind uint8

const (
	ChangeAdded       ChangeKind = iota + 1
	ChangeUpdated                // attributes or licenses
	ChangeSoftDeleted            // moved to deleted items: delta says @removed reason "changed"
	ChangeDeleted                // permanently deleted: @removed reason "deleted"
)

func (k ChangeKind) String() string {
	return [...]string{"", "added", "updated", "softDeleted", "deleted"}[k]
}

// Change is one entry of the tenant's change log. Sequence numbers start at
// 1 and increase by one per change; the generated tenant is sequence 0.
type Change struct {
	Seq    uint64
	UserID string
	Kind   ChangeKind
	At     time.Time
}

type removal struct {
	seq       uint64
	permanent bool
}

var (
	ErrNotFound            = errors.New("tenant: no such user")
	ErrUPNTaken            = errors.New("tenant: user principal name already in use")
	ErrUnknownSKU          = errors.New("tenant: SKU not subscribed")
	ErrNoLicensesAvailable = errors.New("tenant: no licenses available for the SKU")
	ErrFixedAccount        = errors.New("tenant: the well-known accounts (fixed, with a role or a password) cannot be deleted")
)

// Seq is the sequence number of the latest change (0 for a fresh tenant).
func (t *Tenant) Seq() uint64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.seq
}

func (t *Tenant) record(id string, k ChangeKind) uint64 {
	t.seq++
	t.log = append(t.log, Change{Seq: t.seq, UserID: id, Kind: k, At: t.now()})
	return t.seq
}

// Changes returns the log entries after since (a copy).
func (t *Tenant) Changes(since uint64) []Change {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if since >= t.seq {
		return nil
	}
	return append([]Change(nil), t.log[since:]...)
}

// DeltaItem is one entry of a delta page: a user's current state, or its
// removal.
type DeltaItem struct {
	Seq  uint64
	ID   string
	User *User // nil when removed
	// Removed is "changed" (soft-deleted, restorable) or "deleted"
	// (permanently) when User is nil.
	Removed string
}

// DeltaChanges walks the change log over (since, until], after cursor
// (initially since), and returns up to n items, one per user whose latest
// change in that range is the entry: a user changed three times appears
// once, with its current state. A change superseded after until is left to
// the next round, which starts at until. next is the cursor to resume from;
// more tells whether the range has more. It takes the read lock itself.
func (t *Tenant) DeltaChanges(since, until, cursor uint64, n int) (items []DeltaItem, next uint64, more bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if until > t.seq {
		until = t.seq
	}
	s := max(cursor, since)
	for ; s < until && len(items) < n; s++ {
		e := t.log[s] // entry with Seq s+1
		if u := t.byID[strings.ToLower(e.UserID)]; u != nil {
			if u.ChangeSeq == e.Seq {
				items = append(items, DeltaItem{Seq: e.Seq, ID: u.ID, User: u})
			}
			continue
		}
		if r, ok := t.removed[e.UserID]; ok && r.seq == e.Seq {
			reason := "changed"
			if r.permanent {
				reason = "deleted"
			}
			items = append(items, DeltaItem{Seq: e.Seq, ID: e.UserID, Removed: reason})
		}
	}
	return items, s, s < until
}

// AddUser adds a user built from u: a missing ID is generated, Seq and
// ChangeSeq are assigned, CreatedDateTime defaults to the clock, Mail to the
// UPN. Its AssignedLicenses name the SKUs (disabled plans are kept); its
// AssignedPlans are derived from them.
func (t *Tenant) AddUser(u User) (*User, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if u.UserPrincipalName == "" || t.UserByUPN(u.UserPrincipalName) != nil {
		return nil, fmt.Errorf("%w: %q", ErrUPNTaken, u.UserPrincipalName)
	}
	nu := u
	if nu.ID == "" {
		nu.ID = randomGUID()
	}
	if t.byID[strings.ToLower(nu.ID)] != nil {
		return nil, fmt.Errorf("tenant: user id %s already exists", nu.ID)
	}
	now := t.now().UTC()
	if nu.CreatedDateTime.IsZero() {
		nu.CreatedDateTime = now.Truncate(time.Second)
	}
	if nu.Mail == "" {
		nu.Mail = nu.UserPrincipalName
	}
	ids := make([]string, len(u.AssignedLicenses))
	for i, l := range u.AssignedLicenses {
		ids[i] = l.SkuID
	}
	if err := t.checkAvailable(nil, ids); err != nil {
		return nil, err
	}
	nu.AssignedLicenses, nu.AssignedPlans = t.licensesFor(nil, ids, now)
	t.consume(nil, nu.AssignedLicenses)
	t.publishNew(&nu)
	t.insertSorted(&nu)
	nu.ChangeSeq = t.record(nu.ID, ChangeAdded)
	return &nu, nil
}

// DeleteUser soft-deletes (permanent false: the user goes to deleted items,
// delta reports @removed reason "changed") or permanently deletes a user.
// Its licenses are released.
func (t *Tenant) DeleteUser(id string, permanent bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.deleteLocked(id, permanent)
}

func (t *Tenant) deleteLocked(id string, permanent bool) error {
	u := t.UserByID(id)
	if u == nil {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if t.wellKnown(u) {
		return ErrFixedAccount
	}
	t.remove(u)
	t.release(u.AssignedLicenses)
	k := ChangeSoftDeleted
	if permanent {
		k = ChangeDeleted
	}
	seq := t.record(u.ID, k)
	t.removed[u.ID] = removal{seq: seq, permanent: permanent}
	if !permanent {
		d := *u
		d.DeletedDateTime = t.now().UTC().Truncate(time.Second)
		d.ChangeSeq = seq
		t.deleted = append(t.deleted, &d)
	}
	return nil
}

// SetLicenses replaces a user's licenses by the given SKUs. Plans the user
// already had keep their assignment date. It fails when a new SKU has no
// enabled unit left or is not in the Enabled state.
func (t *Tenant) SetLicenses(id string, skuIDs []string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.setLicensesLocked(id, skuIDs, false)
}

func (t *Tenant) setLicensesLocked(id string, skuIDs []string, buy bool) error {
	old := t.UserByID(id)
	if old == nil {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if buy {
		t.buy(old.AssignedLicenses, skuIDs)
	}
	if err := t.checkAvailable(old.AssignedLicenses, skuIDs); err != nil {
		return err
	}
	nu := *old
	nu.AssignedLicenses, nu.AssignedPlans = t.licensesFor(old, skuIDs, t.now().UTC())
	restate(old, &nu)
	t.release(old.AssignedLicenses)
	t.consume(nil, nu.AssignedLicenses)
	nu.ChangeSeq = t.record(nu.ID, ChangeUpdated)
	t.replace(old, &nu)
	return nil
}

// UpdateUser changes a user's attributes: edit receives a copy to modify
// (licenses are changed with SetLicenses; ID and Seq are kept).
func (t *Tenant) UpdateUser(id string, edit func(u *User)) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.UserByID(id)
	if old == nil {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	nu := *old
	edit(&nu)
	nu.ID, nu.Seq = old.ID, old.Seq
	nu.AssignedLicenses, nu.AssignedPlans = old.AssignedLicenses, old.AssignedPlans
	if k := strings.ToLower(nu.UserPrincipalName); k != old.upnKey && t.byUPN[k] != nil {
		return fmt.Errorf("%w: %q", ErrUPNTaken, nu.UserPrincipalName)
	}
	nu.ChangeSeq = t.record(nu.ID, ChangeUpdated)
	t.replace(old, &nu)
	return nil
}

func hasSKU(ls []AssignedLicense, id string) bool {
	for _, l := range ls {
		if strings.EqualFold(l.SkuID, id) {
			return true
		}
	}
	return false
}

func (t *Tenant) checkAvailable(have []AssignedLicense, ids []string) error {
	for _, id := range ids {
		s := t.SKUByID(id)
		if s == nil {
			return fmt.Errorf("%w: %s", ErrUnknownSKU, id)
		}
		if hasSKU(have, id) {
			continue
		}
		if s.CapabilityStatus != "Enabled" || s.ConsumedUnits >= s.PrepaidUnits.Enabled {
			return fmt.Errorf("%w: %s", ErrNoLicensesAvailable, s.SkuPartNumber)
		}
	}
	return nil
}

// buy adds a prepaid unit to full SKUs the user is about to get, as an
// administrator would before assigning.
func (t *Tenant) buy(have []AssignedLicense, ids []string) {
	for _, id := range ids {
		if s := t.SKUByID(id); s != nil && !hasSKU(have, id) && s.ConsumedUnits >= s.PrepaidUnits.Enabled {
			s.PrepaidUnits.Enabled = s.ConsumedUnits + 1
		}
	}
}

func (t *Tenant) consume(_ *User, ls []AssignedLicense) {
	for _, l := range ls {
		if s := t.SKUByID(l.SkuID); s != nil {
			s.ConsumedUnits++
		}
	}
}

func (t *Tenant) release(ls []AssignedLicense) {
	for _, l := range ls {
		if s := t.SKUByID(l.SkuID); s != nil {
			s.ConsumedUnits--
		}
	}
}

// licensesFor builds fresh assignedLicenses/assignedPlans for the SKUs,
// keeping the dates of plans old already had.
func (t *Tenant) licensesFor(old *User, ids []string, now time.Time) ([]AssignedLicense, []AssignedPlan) {
	if len(ids) == 0 {
		return noLicenses, noPlans
	}
	var mask skuMask
	for _, id := range ids {
		s := t.SKUByID(id)
		mask |= 1 << t.lic.partIdx[s.SkuPartNumber]
	}
	k := profileKey{mask: mask}
	p := t.lic.profile(k)
	fresh := t.lic.assignedPlans(k, now)
	if old == nil {
		return p.licenses, fresh
	}
	plans := make([]AssignedPlan, len(fresh))
	copy(plans, fresh)
	for i := range plans {
		for _, op := range old.AssignedPlans {
			if op.ServicePlanID == plans[i].ServicePlanID {
				plans[i].AssignedDateTime = op.AssignedDateTime
			}
		}
	}
	return p.licenses, plans
}

// MutationSummary says what Mutate did; FromSeq/ToSeq bound its changes in
// the change log.
type MutationSummary struct {
	Added            int
	Deleted          int
	LicenseChanges   int
	AttributeChanges int
	FromSeq, ToSeq   uint64
}

// Mutate changes about fraction of the users, deterministically from seed:
// 30% of the changes add users, 20% delete (a quarter of them permanently),
// 30% change licenses (buying units when a SKU is full) and 20% change
// attributes (department, job title, enabled state, display name). The
// well-known accounts are never touched.
func (t *Tenant) Mutate(seed int64, fraction float64) MutationSummary {
	t.mu.Lock()
	defer t.mu.Unlock()
	sum := MutationSummary{FromSeq: t.seq}
	n := int(math.Round(fraction * float64(len(t.Users))))
	if n == 0 && fraction > 0 {
		n = 1
	}
	r := rand.New(rand.NewPCG(uint64(seed), 0xd1b54a32d192ed03))
	g := &gen{r: r, t: t, now: t.now().UTC(), mutating: true}
	g.tenantCreated = g.now.Add(-time.Hour)
	g.reuseTables()
	victim := func() *User {
		for range 20 {
			u := t.Users[r.IntN(len(t.Users))]
			if !t.wellKnown(u) {
				return u
			}
		}
		return nil
	}
	for i := 0; i < n; i++ {
		x := r.IntN(10)
		switch {
		case x < 3:
			g.person()
			sum.Added++
		case x < 5:
			if u := victim(); u != nil && t.deleteLocked(u.ID, r.IntN(4) == 0) == nil {
				sum.Deleted++
			}
		case x < 8:
			u := victim()
			if u == nil {
				continue
			}
			k := g.pickLicenses()
			var ids []string
			for m := k.mask; m != 0; m &= m - 1 {
				s := t.SKUs[trailing(m)]
				if s.CapabilityStatus == "Enabled" {
					ids = append(ids, s.SkuID)
				}
			}
			if t.setLicensesLocked(u.ID, ids, true) == nil {
				sum.LicenseChanges++
			}
		default:
			u := victim()
			if u == nil {
				continue
			}
			nu := *u
			switch r.IntN(4) {
			case 0:
				nu.Department, nu.JobTitle = g.department()
			case 1:
				_, nu.JobTitle = g.department()
			case 2:
				nu.AccountEnabled = !nu.AccountEnabled
			default:
				nu.DisplayName += " (" + strconv.Itoa(1+r.IntN(9)) + ")"
			}
			nu.ChangeSeq = t.record(nu.ID, ChangeUpdated)
			t.replace(u, &nu)
			sum.AttributeChanges++
		}
	}
	sum.ToSeq = t.seq
	return sum
}

// reuseTables prepares the license tables for a mutation-time generator.
func (g *gen) reuseTables() {
	bases := map[string]int{"SPE_E3": 30, "ENTERPRISEPACK": 20, "SPE_E5": 8, "ENTERPRISEPREMIUM": 5, "O365_BUSINESS_PREMIUM": 7}
	g.baseTable = []weighted{{-1, 10}}
	for i, s := range g.t.SKUs {
		if w, ok := bases[s.SkuPartNumber]; ok {
			g.baseTable = append(g.baseTable, weighted{i, w})
		} else if s.CapabilityStatus == "Enabled" {
			g.addons = append(g.addons, addon{i, 0.05, 0.05})
		}
	}
}

func randomGUID() string { return newGUID(rand.Uint64) }
