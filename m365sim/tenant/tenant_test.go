package tenant

import (
	"errors"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := Generate(7, 1500), Generate(7, 1500)
	if a.ID != b.ID || a.Domain != b.Domain || len(a.Users) != len(b.Users) {
		t.Fatalf("same seed, different tenants: %s/%s vs %s/%s", a.ID, a.Domain, b.ID, b.Domain)
	}
	for i := range a.Users {
		ua, ub := a.Users[i], b.Users[i]
		if ua.ID != ub.ID || ua.UserPrincipalName != ub.UserPrincipalName || !reflect.DeepEqual(ua.AssignedPlans, ub.AssignedPlans) || ua.Usage != ub.Usage {
			t.Fatalf("user %d differs: %+v vs %+v", i, ua, ub)
		}
	}
	if !reflect.DeepEqual(a.SKUs, b.SKUs) || !reflect.DeepEqual(a.ServicePrincipals, b.ServicePrincipals) {
		t.Fatal("same seed, different SKUs or service principals")
	}
	if c := Generate(8, 1500); c.ID == a.ID || c.Users[10].UserPrincipalName == a.Users[10].UserPrincipalName && c.Users[11].UserPrincipalName == a.Users[11].UserPrincipalName && c.Users[500].ID == a.Users[500].ID {
		t.Fatal("different seeds gave the same tenant")
	}
}

func TestGeneratedTenantIsConsistent(t *testing.T) {
	tn := Generate(3, 5000)
	if len(tn.Users) != 5000 {
		t.Fatalf("%d users, want 5000", len(tn.Users))
	}
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	upnRE := regexp.MustCompile(`^[a-z0-9_'#.\-]+@[a-z]+\.onmicrosoft\.com$`)
	mixedCase := 0
	ids, upns := map[string]bool{}, map[string]bool{}
	firsts := map[byte]int{}
	disabled, guests, inactive, nonASCIIDisplay := 0, 0, 0, 0
	consumed := map[string]int{}
	for _, u := range tn.Users {
		if !guid.MatchString(u.ID) || ids[u.ID] {
			t.Fatalf("bad or duplicate id %q", u.ID)
		}
		ids[u.ID] = true
		key := strings.ToLower(u.UserPrincipalName)
		if upns[key] || !upnRE.MatchString(key) {
			t.Fatalf("bad or duplicate UPN %q", u.UserPrincipalName)
		}
		upns[key] = true
		firsts[key[0]]++
		if key != u.UserPrincipalName && !u.Guest {
			mixedCase++
		}
		if !u.AccountEnabled {
			disabled++
		}
		if u.Guest {
			guests++
			if !strings.Contains(u.UserPrincipalName, "#EXT#") {
				t.Errorf("guest %s without #EXT#", u.UserPrincipalName)
			}
		}
		if u.DisplayName != "" && strings.IndexFunc(u.DisplayName, func(r rune) bool { return r > 127 }) >= 0 {
			nonASCIIDisplay++
		}
		if u.CreatedDateTime.After(DefaultReference) || u.CreatedDateTime.Before(DefaultReference.AddDate(-11, 0, 0)) {
			t.Errorf("%s created %v", u.UserPrincipalName, u.CreatedDateTime)
		}
		// Plans are exactly the union of the licensed SKUs' plans.
		want := map[string]bool{}
		for _, l := range u.AssignedLicenses {
			s := tn.SKUByID(l.SkuID)
			if s == nil {
				t.Fatalf("%s has unknown SKU %s", u.UserPrincipalName, l.SkuID)
			}
			consumed[l.SkuID]++
			for _, p := range s.ServicePlans {
				if !contains(l.DisabledPlans, p.ServicePlanID) {
					want[p.ServicePlanID] = true
				}
			}
		}
		got := map[string]bool{}
		for _, p := range u.AssignedPlans {
			got[p.ServicePlanID] = true
			if p.AssignedDateTime.Before(u.CreatedDateTime.Truncate(24 * time.Hour)) {
				t.Errorf("%s: plan assigned %v before creation %v", u.UserPrincipalName, p.AssignedDateTime, u.CreatedDateTime)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: plans %v, want %v", u.UserPrincipalName, got, want)
		}
		if a := u.Usage.LastActivityAny(); a > InactiveDays {
			inactive++
		}
	}
	if pct := disabled * 100 / len(tn.Users); pct < 3 || pct > 8 {
		t.Errorf("%d%% disabled, want about 5%%", pct)
	}
	if guests == 0 || inactive < len(tn.Users)/20 || nonASCIIDisplay == 0 || mixedCase == 0 {
		t.Errorf("guests %d, inactive %d, accented display names %d, mixed-case UPNs %d: want some of each", guests, inactive, nonASCIIDisplay, mixedCase)
	}
	for _, c := range "0123456789_abcdefghijklmnopqrstuvwyz" {
		if firsts[byte(c)] == 0 {
			t.Errorf("no UPN starts with %q", c)
		}
	}
	if n := len(tn.SKUs); n < 11 || n > 40 {
		t.Errorf("%d SKUs, want 11..40", n)
	}
	status := map[string]int{}
	for _, s := range tn.SKUs {
		status[s.CapabilityStatus]++
		if s.ConsumedUnits != consumed[s.SkuID] {
			t.Errorf("%s consumed %d, assignments %d", s.SkuPartNumber, s.ConsumedUnits, consumed[s.SkuID])
		}
		p := s.PrepaidUnits
		if p.Enabled+p.Warning+p.Suspended < s.ConsumedUnits {
			t.Errorf("%s prepaid %+v < consumed %d", s.SkuPartNumber, p, s.ConsumedUnits)
		}
		if s.ID != tn.ID+"_"+s.SkuID {
			t.Errorf("SKU id %s", s.ID)
		}
	}
	if status["Suspended"] != 1 || status["Warning"] != 1 {
		t.Errorf("SKU states %v, want one Suspended and one Warning", status)
	}
	if e3 := tn.SKUByID("05e9a617-0261-4cee-bb44-138d3ef5d965"); e3 == nil || e3.SkuPartNumber != "SPE_E3" {
		t.Error("SPE_E3 missing or with the wrong skuId")
	}
	kinds := map[string]int{}
	for _, sp := range tn.ServicePrincipals {
		switch {
		case sp.ServicePrincipalType == "ManagedIdentity":
			kinds["mi"]++
		case sp.AppOwnerOrganizationID == MicrosoftTenantID:
			kinds["microsoft"]++
		case sp.AppOwnerOrganizationID == tn.ID:
			kinds["own"]++
		default:
			kinds["third"]++
		}
	}
	if n := len(tn.ServicePrincipals); n < 1500 || n > 4000 || kinds["mi"] == 0 || kinds["microsoft"] < n/3 || kinds["third"] == 0 || kinds["own"] == 0 {
		t.Errorf("%d service principals: %v", len(tn.ServicePrincipals), kinds)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestFixedAccountsAndApps(t *testing.T) {
	tn := Generate(1, 10)
	want := map[string][]string{
		"admin":      {RoleGlobalAdministrator},
		"cloudadmin": {RoleCloudApplicationAdministrator, RoleReportsReader},
		"reader":     {RoleGlobalReader},
		"user":       nil,
	}
	accts := tn.FixedAccounts()
	if len(accts) != 4 {
		t.Fatalf("fixed accounts %v", accts)
	}
	for _, a := range accts {
		local, _, _ := strings.Cut(a.UPN, "@")
		if !reflect.DeepEqual(a.Roles, want[local]) || a.Password == "" {
			t.Errorf("%s: roles %v password %q", a.UPN, a.Roles, a.Password)
		}
	}
	u := tn.UserByUPN("ADMIN@" + strings.ToUpper(tn.Domain))
	if u == nil || !u.IsAdmin() || !u.CanReadReports() || tn.UserByID(u.ID) != u {
		t.Fatalf("admin lookup: %+v", u)
	}
	if cu := tn.UserByUPN("cloudadmin@" + tn.Domain); !cu.IsAdmin() || !cu.CanReadReports() {
		t.Error("cloudadmin must be able to consent and read reports")
	}
	if pu := tn.UserByUPN("user@" + tn.Domain); pu.IsAdmin() || pu.CanReadReports() {
		t.Error("user must have no admin power")
	}
	pub := tn.App(DefaultClientID)
	if pub == nil || pub.Kind != AppPublic || !pub.MultiTenant || !reflect.DeepEqual(pub.RedirectURIs, []string{NativeClientRedirect, "http://localhost"}) {
		t.Errorf("default client %+v", pub)
	}
	cc := tn.App(ConfidentialClientID)
	if cc == nil || cc.Kind != AppWeb || cc.Secrets[0] != ConfidentialClientSecret || len(cc.AppRoles) != 3 {
		t.Errorf("confidential client %+v", cc)
	}
	if a := tn.App(SPAClientID); a == nil || a.Kind != AppSPA {
		t.Error("SPA app missing")
	}
	if a := tn.App(SingleTenantClientID); a == nil || a.MultiTenant {
		t.Error("single-tenant app missing")
	}
	if a := tn.App(WebClientID); a == nil || a.Kind != AppWeb || len(a.Secrets) == 0 {
		t.Error("web app missing")
	}
}

// Every user is in exactly one first-character shard, pages of any size
// cover a shard exactly, and CountUsers agrees.
func TestPrefixPagingCoversEveryone(t *testing.T) {
	tn := Generate(5, 3000)
	firsts := map[string]bool{}
	for _, u := range tn.Users {
		firsts[UPNKey(u)[:1]] = true
	}
	seen := map[string]int{}
	for p := range firsts {
		var after string
		n := 0
		for {
			page, more := tn.PageUsersByPrefix(p, after, 17, nil)
			for _, u := range page {
				if !strings.HasPrefix(UPNKey(u), p) {
					t.Fatalf("%s in shard %q", u.UserPrincipalName, p)
				}
				seen[u.ID]++
				n++
			}
			if !more {
				break
			}
			after = UPNKey(page[len(page)-1])
		}
		if c := tn.CountUsers(p); c != n {
			t.Errorf("shard %q: count %d, paged %d", p, c, n)
		}
	}
	if len(seen) != len(tn.Users) {
		t.Fatalf("shards cover %d of %d users", len(seen), len(tn.Users))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("user %s seen %d times", id, n)
		}
	}
	var after uint64
	total := 0
	for {
		page, more := tn.PageUsers(after, 999, nil)
		total += len(page)
		if !more {
			break
		}
		after = page[len(page)-1].Seq
	}
	if total != len(tn.Users) || tn.CountUsers("") != total {
		t.Errorf("unfiltered paging %d, count %d, users %d", total, tn.CountUsers(""), len(tn.Users))
	}
}

func TestMutateAndDeltaChanges(t *testing.T) {
	tn := Generate(2, 2000)
	clock := DefaultReference.Add(time.Hour)
	tn.Clock = func() time.Time { return clock }
	before := map[string]*User{}
	for _, u := range tn.Users {
		before[u.ID] = u
	}
	sum := tn.Mutate(11, 0.05)
	if sum.FromSeq != 0 || sum.ToSeq != tn.Seq() || sum.Added+sum.Deleted+sum.LicenseChanges+sum.AttributeChanges < 90 {
		t.Fatalf("summary %+v, seq %d", sum, tn.Seq())
	}
	if sum.Added == 0 || sum.Deleted == 0 || sum.LicenseChanges == 0 || sum.AttributeChanges == 0 {
		t.Fatalf("every kind of change expected: %+v", sum)
	}
	log := tn.Changes(0)
	for i, c := range log {
		if c.Seq != uint64(i+1) {
			t.Fatalf("log entry %d has seq %d", i, c.Seq)
		}
	}
	if len(tn.Users) != 2000+sum.Added-sum.Deleted {
		t.Fatalf("%d users after %+v", len(tn.Users), sum)
	}
	// consumedUnits still equal the assignments.
	consumed := map[string]int{}
	for _, u := range tn.Users {
		for _, l := range u.AssignedLicenses {
			consumed[l.SkuID]++
		}
	}
	for _, s := range tn.SKUs {
		if s.ConsumedUnits != consumed[s.SkuID] || s.PrepaidUnits.Enabled+s.PrepaidUnits.Warning+s.PrepaidUnits.Suspended < s.ConsumedUnits {
			t.Errorf("%s consumed %d (assignments %d), prepaid %+v", s.SkuPartNumber, s.ConsumedUnits, consumed[s.SkuID], s.PrepaidUnits)
		}
	}
	// Applying the delta items to the old state gives the new state, with
	// each user at most once, in pages of any size.
	state := map[string]*User{}
	for k, v := range before {
		state[k] = v
	}
	seen := map[string]bool{}
	cursor := uint64(0)
	for {
		items, next, more := tn.DeltaChanges(0, tn.Seq(), cursor, 7)
		for _, it := range items {
			if seen[it.ID] {
				t.Fatalf("%s twice in one round", it.ID)
			}
			seen[it.ID] = true
			if it.User == nil {
				if it.Removed != "changed" && it.Removed != "deleted" {
					t.Fatalf("removal reason %q", it.Removed)
				}
				delete(state, it.ID)
			} else {
				state[it.ID] = it.User
			}
		}
		cursor = next
		if !more {
			break
		}
	}
	if len(state) != len(tn.Users) {
		t.Fatalf("delta-applied state has %d users, tenant %d", len(state), len(tn.Users))
	}
	for _, u := range tn.Users {
		if state[u.ID] != u {
			t.Fatalf("user %s not at its current version after delta", u.UserPrincipalName)
		}
	}
	if items, _, more := tn.DeltaChanges(tn.Seq(), tn.Seq(), tn.Seq(), 10); len(items) != 0 || more {
		t.Fatal("changes after the latest sequence")
	}
	soft := 0
	for _, d := range tn.DeletedUsers() {
		if d.DeletedDateTime.IsZero() || tn.UserByID(d.ID) != nil {
			t.Errorf("deleted user %s still present or undated", d.UserPrincipalName)
		}
		soft++
	}
	if soft == 0 {
		t.Error("no soft-deleted users")
	}
}

func TestFineMutations(t *testing.T) {
	tn := Generate(4, 100)
	e3 := tn.SKUByID("05e9a617-0261-4cee-bb44-138d3ef5d965")
	u, err := tn.AddUser(User{UserPrincipalName: "new.person@" + tn.Domain, DisplayName: "New Person", AccountEnabled: true,
		AssignedLicenses: []AssignedLicense{{SkuID: e3.SkuID}}})
	if err != nil {
		t.Fatal(err)
	}
	if tn.UserByUPN("NEW.PERSON@"+tn.Domain) != u || u.ChangeSeq != 1 || len(u.AssignedPlans) == 0 || e3.ConsumedUnits != countSKU(tn, e3.SkuID) {
		t.Fatalf("added user %+v", u)
	}
	if _, err := tn.AddUser(User{UserPrincipalName: u.UserPrincipalName}); !errors.Is(err, ErrUPNTaken) {
		t.Errorf("duplicate UPN: %v", err)
	}
	if err := tn.SetLicenses(u.ID, []string{"00000000-0000-0000-0000-000000000000"}); !errors.Is(err, ErrUnknownSKU) {
		t.Errorf("unknown SKU: %v", err)
	}
	e3.PrepaidUnits.Enabled = e3.ConsumedUnits
	v := tn.Users[10]
	if err := tn.SetLicenses(v.ID, []string{e3.SkuID}); !hasSKU(v.AssignedLicenses, e3.SkuID) && !errors.Is(err, ErrNoLicensesAvailable) {
		t.Errorf("full SKU: %v", err)
	}
	if err := tn.SetLicenses(u.ID, nil); err != nil || len(tn.UserByID(u.ID).AssignedLicenses) != 0 || e3.ConsumedUnits != countSKU(tn, e3.SkuID) {
		t.Fatalf("remove licenses: %v", err)
	}
	if err := tn.UpdateUser(u.ID, func(x *User) { x.Department = "Legal" }); err != nil || tn.UserByID(u.ID).Department != "Legal" || u.Department == "Legal" {
		t.Fatalf("update must publish a new version and leave the old one alone: %v", err)
	}
	if err := tn.DeleteUser(tn.UserByUPN("admin@"+tn.Domain).ID, false); !errors.Is(err, ErrFixedAccount) {
		t.Errorf("deleting admin: %v", err)
	}
	if err := tn.DeleteUser(u.ID, true); err != nil || tn.UserByID(u.ID) != nil || tn.CountUsers("new.") != 0 {
		t.Fatalf("delete: %v", err)
	}
	kinds := []ChangeKind{}
	for _, c := range tn.Changes(0) {
		kinds = append(kinds, c.Kind)
	}
	if !reflect.DeepEqual(kinds, []ChangeKind{ChangeAdded, ChangeUpdated, ChangeUpdated, ChangeDeleted}) {
		t.Errorf("change log kinds %v", kinds)
	}
}

func countSKU(tn *Tenant, id string) int {
	n := 0
	for _, u := range tn.Users {
		if hasSKU(u.AssignedLicenses, id) {
			n++
		}
	}
	return n
}

// BenchmarkGenerate200k also reports the heap a 200,000-user tenant keeps.
func BenchmarkGenerate200k(b *testing.B) {
	b.ReportAllocs()
	var heap uint64
	for i := 0; i < b.N; i++ {
		tn := Generate(int64(i), 200000)
		if len(tn.Users) != 200000 {
			b.Fatal(len(tn.Users))
		}
		b.StopTimer()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap = max(heap, ms.HeapInuse)
		runtime.KeepAlive(tn)
		b.StartTimer()
	}
	b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
}

// A tenant assembled by hand (as other packages' tests do) works for
// lookups before Reindex, and for paging and reports after it.
func TestHandBuiltTenant(t *testing.T) {
	tn := &Tenant{ID: "t", Domain: "x.test", Users: []*User{
		{ID: "B", UserPrincipalName: "Bob@x.test"},
		{ID: "a", UserPrincipalName: "alice@x.test"},
	}, SKUs: []*SKU{{SkuID: "S1", SkuPartNumber: "CUSTOM", ServicePlans: []ServicePlan{{ServicePlanName: "TEAMS1"}}}}}
	if tn.UserByUPN("BOB@x.test") == nil || tn.UserByID("a") == nil {
		t.Fatal("lookups must work before Reindex")
	}
	tn.Reindex()
	if u := tn.UserByUPN("bob@X.TEST"); u == nil || u.Seq != 1 || tn.UserByID("b") != u {
		t.Fatalf("after Reindex: %+v", u)
	}
	page, more := tn.PageUsersByPrefix("", "", 10, nil)
	if more || len(page) != 2 || page[0].UserPrincipalName != "alice@x.test" || tn.CountUsers("b") != 1 {
		t.Fatalf("sorted view: %v", page)
	}
	if err := tn.SetLicenses("a", []string{"s1"}); !errors.Is(err, ErrNoLicensesAvailable) {
		t.Errorf("no prepaid units: %v", err)
	}
	tn.SKUs[0].PrepaidUnits.Enabled, tn.SKUs[0].CapabilityStatus = 1, "Enabled"
	if err := tn.SetLicenses("a", []string{"s1"}); err != nil {
		t.Fatal(err)
	}
	if p := tn.LicenseProfile(tn.UserByID("a")); !p.HasWorkload[WorkloadTeams] || p.Products[0] != "CUSTOM" {
		t.Errorf("profile %+v", p)
	}
}

// TestWorkloadsAssignedOnePass: the one-pass WorkloadsAssigned the report
// writer uses equals the plain per-workload scan for every user.
func TestWorkloadsAssignedOnePass(t *testing.T) {
	tn := Generate(7, 3000)
	checked := 0
	for i := range tn.Users {
		u := tn.Users[i]
		got := WorkloadsAssigned(u)
		for w := WorkloadExchange; w < NumWorkloads; w++ {
			if want := workloadAssignedScan(u, w); !got[w].Equal(want) {
				t.Fatalf("user %s workload %d: %v, want %v", u.UserPrincipalName, w, got[w], want)
			}
			if !got[w].IsZero() {
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("no user has an assigned workload: the test checks nothing")
	}
}

// TestAgeDay: ageing is deterministic from its seed, makes recorded
// activity a day older or today's, and changes the directory.
func TestAgeDay(t *testing.T) {
	gen := func() *Tenant {
		tn := Generate(3, 300)
		tn.Clock = func() time.Time { return DefaultReference.Add(24 * time.Hour) }
		return tn
	}
	a, b := gen(), gen()
	before := map[string]Usage{}
	for _, u := range a.Users {
		before[u.ID] = u.Usage
	}
	sa, sb := a.AgeDay(9, 1, 0.02), b.AgeDay(9, 1, 0.02)
	if sa != sb || sa.Active == 0 || sa.Added+sa.Deleted+sa.LicenseChanges+sa.AttributeChanges == 0 {
		t.Fatalf("summaries %+v, %+v", sa, sb)
	}
	aged, today := 0, 0
	for i, u := range a.Users {
		if !reflect.DeepEqual(u.Usage, b.Users[i].Usage) {
			t.Fatalf("user %s aged differently from the same seed", u.UserPrincipalName)
		}
		old, ok := before[u.ID]
		if !ok {
			continue
		}
		for w, d := range u.Usage.LastActivity {
			switch was := old.LastActivity[w]; {
			case was < 0 && d != -1:
				t.Fatalf("%s: never active became %d", u.UserPrincipalName, d)
			case was >= 0 && d == was+1:
				aged++
			case was >= 0 && d == 0:
				today++
			case was >= 0:
				t.Fatalf("%s: %d days became %d", u.UserPrincipalName, was, d)
			}
		}
	}
	if aged == 0 || today == 0 {
		t.Fatalf("aged %d, active today %d", aged, today)
	}
}
