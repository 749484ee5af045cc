package tenant

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"
)

// UserByID finds a user by object id. The caller holds at least the read
// lock.
func (t *Tenant) UserByID(id string) *User {
	if len(t.byID) == len(t.Users) {
		return t.byID[strings.ToLower(id)]
	}
	for _, u := range t.Users {
		if strings.EqualFold(u.ID, id) {
			return u
		}
	}
	return nil
}

// Reindex builds the lookup indexes, the sorted view and the license
// tables of a tenant assembled by hand (Generate does it itself). Users
// keep their order; those without a creation sequence get one. It takes
// the write lock.
func (t *Tenant) Reindex() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.byID = make(map[string]*User, len(t.Users))
	t.byUPN = make(map[string]*User, len(t.Users))
	if t.removed == nil {
		t.removed = map[string]removal{}
	}
	renumber := false
	for i, u := range t.Users {
		renumber = renumber || u.Seq == 0 || (i > 0 && u.Seq <= t.Users[i-1].Seq)
	}
	for i, u := range t.Users {
		if renumber {
			u.Seq = uint64(i + 1)
		}
		t.userSeq = max(t.userSeq, u.Seq)
		u.upnKey = strings.ToLower(u.UserPrincipalName)
		t.byID[strings.ToLower(u.ID)] = u
		t.byUPN[u.upnKey] = u
	}
	t.skuByID = make(map[string]*SKU, len(t.SKUs))
	for _, s := range t.SKUs {
		t.skuByID[strings.ToLower(s.SkuID)] = s
	}
	t.lic = newLicenser(t)
	t.rebuildSorted()
}

// wellKnown tells the accounts Mutate and DeleteUser leave alone: the fixed
// accounts and anyone holding a role or a password.
func (t *Tenant) wellKnown(u *User) bool {
	if len(u.Roles) > 0 || u.Password != "" {
		return true
	}
	local, dom, _ := strings.Cut(u.upnKey, "@")
	if dom != strings.ToLower(t.Domain) {
		return false
	}
	switch local {
	case AdminLocalPart, CloudAdminLocalPart, ReaderLocalPart, UserLocalPart:
		return true
	}
	return false
}

// UPNKey is the lower-case user principal name users are sorted by.
func UPNKey(u *User) string { return u.upnKey }

// publishNew appends a new user to Users and the maps (not to the sorted
// view: the generator sorts once at the end, mutations insert).
func (t *Tenant) publishNew(u *User) {
	t.userSeq++
	u.Seq = t.userSeq
	u.upnKey = strings.ToLower(u.UserPrincipalName)
	t.Users = append(t.Users, u)
	t.byID[strings.ToLower(u.ID)] = u
	t.byUPN[u.upnKey] = u
}

func (t *Tenant) rebuildSorted() {
	t.sorted = slices.Clone(t.Users)
	slices.SortFunc(t.sorted, func(a, b *User) int { return strings.Compare(a.upnKey, b.upnKey) })
}

func (t *Tenant) seqIndex(seq uint64) int {
	return sort.Search(len(t.Users), func(i int) bool { return t.Users[i].Seq >= seq })
}

func (t *Tenant) keyIndex(key string) int {
	return sort.Search(len(t.sorted), func(i int) bool { return t.sorted[i].upnKey >= key })
}

func (t *Tenant) insertSorted(u *User) {
	i := t.keyIndex(u.upnKey)
	t.sorted = slices.Insert(t.sorted, i, u)
}

func (t *Tenant) removeSorted(u *User) {
	i := t.keyIndex(u.upnKey)
	if i < len(t.sorted) && t.sorted[i].ID == u.ID {
		t.sorted = slices.Delete(t.sorted, i, i+1)
	}
}

// replace publishes nu as the new version of old (same ID and Seq).
func (t *Tenant) replace(old, nu *User) {
	nu.upnKey = strings.ToLower(nu.UserPrincipalName)
	if i := t.seqIndex(old.Seq); i < len(t.Users) && t.Users[i] == old {
		t.Users[i] = nu
	}
	t.byID[strings.ToLower(nu.ID)] = nu
	if nu.upnKey == old.upnKey {
		if i := t.keyIndex(old.upnKey); i < len(t.sorted) && t.sorted[i] == old {
			t.sorted[i] = nu
		}
	} else {
		delete(t.byUPN, old.upnKey)
		t.removeSorted(old)
		t.insertSorted(nu)
	}
	t.byUPN[nu.upnKey] = nu
}

func (t *Tenant) remove(u *User) {
	if i := t.seqIndex(u.Seq); i < len(t.Users) && t.Users[i] == u {
		t.Users = slices.Delete(t.Users, i, i+1)
	}
	t.removeSorted(u)
	delete(t.byID, strings.ToLower(u.ID))
	delete(t.byUPN, u.upnKey)
}

// PageUsers copies into dst (reused) up to n users created after creation
// sequence after, in creation order, and tells whether more follow. It takes
// the read lock itself; the users stay valid after it returns.
func (t *Tenant) PageUsers(after uint64, n int, dst []*User) ([]*User, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	i := t.seqIndex(after + 1)
	j := min(i+n, len(t.Users))
	return append(dst[:0], t.Users[i:j]...), j < len(t.Users)
}

// PageUsersByPrefix is PageUsers over the users whose lower-case UPN starts
// with prefix (lower case), in UPN order, resuming after the UPN key after
// ("" from the start).
func (t *Tenant) PageUsersByPrefix(prefix, after string, n int, dst []*User) ([]*User, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	i := t.keyIndex(prefix)
	if after != "" {
		i = max(i, t.keyIndex(after+"\x00"))
	}
	dst = dst[:0]
	for ; i < len(t.sorted) && len(dst) < n; i++ {
		u := t.sorted[i]
		if !strings.HasPrefix(u.upnKey, prefix) {
			return dst, false
		}
		dst = append(dst, u)
	}
	return dst, i < len(t.sorted) && strings.HasPrefix(t.sorted[i].upnKey, prefix)
}

// CountUsers counts the users whose lower-case UPN starts with prefix ("" for
// all) in O(log n). It takes the read lock itself.
func (t *Tenant) CountUsers(prefix string) int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if prefix == "" {
		return len(t.Users)
	}
	lo := t.keyIndex(prefix)
	hi := lo + sort.Search(len(t.sorted)-lo, func(i int) bool {
		return !strings.HasPrefix(t.sorted[lo+i].upnKey, prefix)
	})
	return hi - lo
}

// DeletedUsers returns the soft-deleted users (they still appear in usage
// reports). The caller holds at least the read lock.
func (t *Tenant) DeletedUsers() []*User { return t.deleted }

// SKUByID finds a subscribed SKU. The caller holds at least the read lock.
func (t *Tenant) SKUByID(skuID string) *SKU { return t.skuByID[strings.ToLower(skuID)] }

func (t *Tenant) now() time.Time {
	if t.Clock != nil {
		return t.Clock()
	}
	return clock.Now()
}

// FixedAccount is one of the well-known accounts of a generated tenant.
type FixedAccount struct {
	UPN      string
	Password string
	Roles    []string
}

// FixedAccounts lists the well-known accounts (admin, cloudadmin, reader,
// user) with their passwords.
func (t *Tenant) FixedAccounts() []FixedAccount {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []FixedAccount
	for _, l := range []string{AdminLocalPart, CloudAdminLocalPart, ReaderLocalPart, UserLocalPart} {
		if u := t.UserByUPN(l + "@" + t.Domain); u != nil {
			out = append(out, FixedAccount{UPN: u.UserPrincipalName, Password: u.Password, Roles: u.Roles})
		}
	}
	return out
}
