package tenant

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The fixed accounts every generated tenant has, with their passwords.
// They are part of the requested user count.
const (
	AdminLocalPart      = "admin"      // Global Administrator
	CloudAdminLocalPart = "cloudadmin" // Cloud Application Administrator + Reports Reader
	ReaderLocalPart     = "reader"     // Global Reader
	UserLocalPart       = "user"       // no directory role

	AdminPassword      = "Sim-Admin-2024!"
	CloudAdminPassword = "Sim-CloudAdmin-2024!"
	ReaderPassword     = "Sim-Reader-2024!"
	UserPassword       = "Sim-User-2024!"
)

// Registered client applications of every generated tenant.
const (
	// ConfidentialClientID is a single-tenant Web app with a secret and the
	// application permissions User.Read.All, Directory.Read.All and
	// Reports.Read.All granted: the client-credentials flow's client.
	ConfidentialClientID     = "8e2a6c1f-3b4d-4e5f-9a6b-7c8d9e0f1a2b"
	ConfidentialClientSecret = "sim~Cc8Q~confidential.secret-0123456789"
	// WebClientID is a multi-tenant Web app (a secret is required: a
	// public-client flow gets AADSTS7000218).
	WebClientID     = "2f6b9d3e-5a7c-4b8d-8e9f-0a1b2c3d4e5f"
	WebClientSecret = "sim~Wb7R~web.secret-abcdef0123456789"
	// SPAClientID is a single-page app (AADSTS9002327 for this flow).
	SPAClientID = "4a7c0e2f-6b8d-4c9e-af0b-1c2d3e4f5a6b"
	// SingleTenantClientID is a public client that is not multi-tenant
	// (AADSTS50194 through /common).
	SingleTenantClientID = "6c9e2a4b-8d0f-4eaf-b1c2-3d4e5f6a7b8c"
)

// NativeClientRedirect is the default redirect URI of desktop clients.
const NativeClientRedirect = "https://login.microsoftonline.com/common/oauth2/nativeclient"

// DefaultReference is the "now" of Generate: fixed, so a seed always gives
// the same tenant.
var DefaultReference = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Generate builds a tenant of users users (at least the 4 fixed accounts)
// from seed, dated as of DefaultReference.
func Generate(seed int64, users int) *Tenant { return GenerateAt(seed, users, DefaultReference) }

// GenerateAt is Generate dated as of now (truncated to the day, so a seed
// gives the same tenant all day long).
func GenerateAt(seed int64, users int, now time.Time) *Tenant {
	now = now.UTC().Truncate(24 * time.Hour)
	g := &gen{
		r:   rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)),
		now: now,
	}
	t := &Tenant{Reference: now}
	g.t = t
	t.ID = g.guid()
	c := companies[g.r.IntN(len(companies))]
	t.DisplayName = c.Name
	t.Domain = c.Domain + ".onmicrosoft.com"
	g.tenantCreated = now.AddDate(-5-g.r.IntN(5), -g.r.IntN(12), 0)

	g.subscribe()
	if users < 4 {
		users = 4
	}
	g.upnTaken = make(map[string]int, users)
	t.Users = make([]*User, 0, users)
	t.byID = make(map[string]*User, users)
	t.byUPN = make(map[string]*User, users)
	t.removed = map[string]removal{}
	g.fixedAccounts()
	nSvc := min(users/10, len(serviceAccountNames)) + users/200
	for i := 0; len(t.Users) < users; i++ {
		switch {
		case i < nSvc:
			g.serviceAccount(i)
		case g.r.IntN(50) == 0:
			g.guest()
		default:
			g.person()
		}
	}
	g.licensing(seed)
	g.settleSKUs()
	g.servicePrincipals(users)
	g.apps()
	t.rebuildSorted()
	return t
}

type gen struct {
	r             *rand.Rand
	t             *Tenant
	now           time.Time
	tenantCreated time.Time
	upnTaken      map[string]int
	baseTable     []weighted // base license picks (index into t.SKUs, -1 none)
	addons        []addon
	// mutating: adding to a published tenant (Mutate), so new users are
	// logged, inserted in the sorted view and licensed only within what
	// is purchasable.
	mutating bool
}

type weighted struct {
	idx    int
	weight int
}

type addon struct {
	idx  int
	prob float64
	// withoutBase is the probability when the user has no base license.
	withoutBase float64
}

func (g *gen) guid() string { return newGUID(g.r.Uint64) }

// newGUID makes a version-4 GUID from two draws of next.
func newGUID(next func() uint64) string {
	var b [16]byte
	a, c := next(), next()
	for i := 0; i < 8; i++ {
		b[i] = byte(a >> (8 * i))
		b[8+i] = byte(c >> (8 * i))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatGUID(b[:])
}

// subscribe picks the tenant's SKUs: the mandatory ones plus a seeded draw,
// 11 to 40 in all.
func (g *gen) subscribe() {
	t := g.t
	idx := make([]int, 0, len(skuCatalog))
	for i := 0; i < mandatorySKUs; i++ {
		idx = append(idx, i)
	}
	rest := g.r.Perm(len(skuCatalog) - mandatorySKUs)
	extra := g.r.IntN(len(rest) + 1)
	if extra+len(idx) > 64 {
		extra = 64 - len(idx)
	}
	for _, j := range rest[:extra] {
		idx = append(idx, mandatorySKUs+j)
	}
	sort.Ints(idx)
	accountID := t.ID
	t.skuByID = map[string]*SKU{}
	for _, i := range idx {
		d := &skuCatalog[i]
		s := &SKU{
			AccountName:      t.DisplayName,
			AccountID:        accountID,
			AppliesTo:        "User",
			CapabilityStatus: "Enabled",
			ID:               t.ID + "_" + d.ID,
			SkuID:            d.ID,
			SkuPartNumber:    d.PartNumber,
			SubscriptionIDs:  []string{g.guid()},
		}
		for _, n := range d.Plans {
			pd := planByName[n]
			s.ServicePlans = append(s.ServicePlans, ServicePlan{ServicePlanID: pd.ID, ServicePlanName: pd.Name, ProvisioningStatus: "Success", AppliesTo: "User"})
		}
		t.SKUs = append(t.SKUs, s)
		t.skuByID[strings.ToLower(s.SkuID)] = s
	}
	// One paid add-on is suspended (lapsed payment) and one in its warning
	// grace period, like real tenants usually have somewhere.
	var paid []*SKU
	for _, s := range t.SKUs {
		if !skuDefByID(s.SkuID).Viral && s.SkuPartNumber != "SPE_E3" && s.SkuPartNumber != "ENTERPRISEPACK" {
			paid = append(paid, s)
		}
	}
	g.r.Shuffle(len(paid), func(i, j int) { paid[i], paid[j] = paid[j], paid[i] })
	for _, s := range paid {
		if s.SkuPartNumber == "PROJECTPROFESSIONAL" || s.SkuPartNumber == "VISIOCLIENT" {
			s.CapabilityStatus = "Warning"
			break
		}
	}
	for _, s := range paid {
		if s.CapabilityStatus == "Enabled" && s.SkuPartNumber != "SPE_E5" && s.SkuPartNumber != "ENTERPRISEPREMIUM" && s.SkuPartNumber != "O365_BUSINESS_PREMIUM" {
			s.CapabilityStatus = "Suspended"
			break
		}
	}
	t.lic = newLicenser(t)

	bases := map[string]int{"SPE_E3": 30, "ENTERPRISEPACK": 20, "SPE_E5": 8, "ENTERPRISEPREMIUM": 5, "O365_BUSINESS_PREMIUM": 7,
		"STANDARDPACK": 6, "DESKLESSPACK": 5, "SPE_F1": 4, "O365_BUSINESS_ESSENTIALS": 3, "SPB": 2}
	g.baseTable = []weighted{{-1, 10}}
	for i, s := range t.SKUs {
		if w, ok := bases[s.SkuPartNumber]; ok {
			g.baseTable = append(g.baseTable, weighted{i, w})
		}
	}
	probs := map[string][2]float64{"EMS": {0.12, 0}, "POWER_BI_PRO": {0.10, 0}, "VISIOCLIENT": {0.04, 0}, "PROJECTPROFESSIONAL": {0.03, 0},
		"FLOW_FREE": {0.15, 0.05}, "TEAMS_EXPLORATORY": {0, 0.35}, "POWER_BI_STANDARD": {0.08, 0.05}, "MCOEV": {0.03, 0},
		"MCOMEETADV": {0.03, 0}, "Microsoft_365_Copilot": {0.02, 0}, "POWERAPPS_VIRAL": {0.02, 0.01}}
	for i, s := range t.SKUs {
		if _, base := bases[s.SkuPartNumber]; base {
			continue
		}
		p, ok := probs[s.SkuPartNumber]
		if !ok {
			p = [2]float64{0.015, 0}
		}
		g.addons = append(g.addons, addon{i, p[0], p[1]})
	}
}

func skuDefByID(id string) *skuDef {
	for i := range skuCatalog {
		if skuCatalog[i].ID == id {
			return &skuCatalog[i]
		}
	}
	return nil
}

func (g *gen) pickWeighted(n int, weight func(int) int) int {
	total := 0
	for i := 0; i < n; i++ {
		total += weight(i)
	}
	x := g.r.IntN(total)
	for i := 0; i < n; i++ {
		x -= weight(i)
		if x < 0 {
			return i
		}
	}
	return n - 1
}

// pickLicenses draws a user's SKUs.
func (g *gen) pickLicenses() profileKey {
	b := g.baseTable[g.pickWeighted(len(g.baseTable), func(i int) int { return g.baseTable[i].weight })].idx
	var m skuMask
	if b >= 0 {
		m |= 1 << b
	}
	for _, a := range g.addons {
		p := a.prob
		if b < 0 {
			p = a.withoutBase
		}
		if p > 0 && g.r.Float64() < p {
			m |= 1 << a.idx
		}
	}
	noYammer := b >= 0 && g.r.IntN(8) == 0
	return profileKey{m, noYammer}
}

func (g *gen) createdAt() time.Time {
	// Organisations grow: more accounts were created recently.
	span := g.now.Sub(g.tenantCreated)
	f := math.Sqrt(g.r.Float64())
	return g.tenantCreated.Add(time.Duration(f * float64(span))).Truncate(time.Second)
}

// licensedAt is when licenses were given to a user created at c: at the
// next quarterly licensing batch, so that users share assignedPlans slices
// (monthly batches cost 43 MB more at 200,000 users).
func (g *gen) licensedAt(c time.Time) time.Time {
	q := (int(c.Month())-1)/3*3 + 4 // first month of the next quarter
	d := time.Date(c.Year(), time.Month(q), 1, 0, 0, 0, 0, time.UTC)
	if d.After(g.now) {
		d = g.now
	}
	return d
}

func (g *gen) uniqueLocal(local string) string {
	if g.mutating {
		cand := local
		for n := 2; g.t.byUPN[cand+"@"+g.t.Domain] != nil; n++ {
			cand = local + strconv.Itoa(n)
		}
		return cand
	}
	n := g.upnTaken[local]
	g.upnTaken[local] = n + 1
	if n == 0 {
		return local
	}
	for {
		n++
		cand := local + strconv.Itoa(n)
		if g.upnTaken[cand] == 0 {
			g.upnTaken[cand] = 1
			g.upnTaken[local] = n
			return cand
		}
	}
}

func (g *gen) location() string {
	i := g.pickWeighted(len(usageLocations), func(i int) int { return usageLocations[i].Weight })
	return usageLocations[i].Code
}

func (g *gen) department() (string, string) {
	i := g.pickWeighted(len(departments), func(i int) int { return departments[i].Weight })
	d := departments[i]
	return d.Name, d.Titles[g.r.IntN(len(d.Titles))]
}

func (g *gen) add(u *User, k profileKey, licensed time.Time) {
	t := g.t
	if g.mutating {
		var ids []string
		for m := k.mask; m != 0; m &= m - 1 {
			if s := t.SKUs[trailing(m)]; s.CapabilityStatus == "Enabled" {
				ids = append(ids, s.SkuID)
			}
		}
		t.buy(nil, ids)
		u.AssignedLicenses, u.AssignedPlans = t.licensesFor(nil, ids, g.now)
		t.consume(nil, u.AssignedLicenses)
		m, ny := t.lic.maskOf(u.AssignedLicenses)
		u.Usage = genUsage(g.r, t.lic.profile(profileKey{m, ny}), u, g.now)
		t.publishNew(u)
		t.insertSorted(u)
		u.ChangeSeq = t.record(u.ID, ChangeAdded)
		return
	}
	if k.mask != 0 {
		u.AssignedLicenses = t.lic.profile(k).licenses
		u.AssignedPlans = t.lic.assignedPlans(k, licensed)
	} else {
		u.AssignedLicenses = noLicenses
		u.AssignedPlans = noPlans
	}
	for m := k.mask; m != 0; m &= m - 1 {
		t.SKUs[trailing(m)].ConsumedUnits++
	}
	u.Usage = genUsage(g.r, t.lic.profile(k), u, g.now)
	t.publishNew(u)
}

var (
	noLicenses = []AssignedLicense{}
	noPlans    = []AssignedPlan{}
)

func (g *gen) fixedAccounts() {
	t := g.t
	type fixed struct {
		local, given, sur, title, pw, sku string
		roles                             []string
	}
	for _, f := range []fixed{
		{AdminLocalPart, "Adele", "Admin", "Global Administrator", AdminPassword, "SPE_E5", []string{RoleGlobalAdministrator}},
		{CloudAdminLocalPart, "Cloud", "Admin", "Cloud Application Administrator", CloudAdminPassword, "SPE_E3", []string{RoleCloudApplicationAdministrator, RoleReportsReader}},
		{ReaderLocalPart, "Reggie", "Reader", "Auditor", ReaderPassword, "SPE_E3", []string{RoleGlobalReader}},
		{UserLocalPart, "Uma", "User", "Analyst", UserPassword, "ENTERPRISEPACK", nil},
	} {
		g.upnTaken[f.local] = 1
		upn := f.local + "@" + t.Domain
		created := g.tenantCreated.Add(time.Duration(len(t.Users)+1) * time.Hour)
		u := &User{ID: g.guid(), UserPrincipalName: upn, Mail: upn, GivenName: f.given, Surname: f.sur,
			DisplayName: f.given + " " + f.sur, AccountEnabled: true, UsageLocation: "US", Department: "Information Technology",
			JobTitle: f.title, CreatedDateTime: created, Roles: f.roles, Password: f.pw}
		g.add(u, profileKey{mask: 1 << t.lic.partIdx[f.sku]}, g.licensedAt(created))
	}
}

func (g *gen) person() {
	t := g.t
	given := givenNames[g.r.IntN(len(givenNames))]
	sur := surnames[g.r.IntN(len(surnames))]
	fg, fs := asciiFold(given), asciiFold(sur)
	var local string
	if g.r.IntN(12) == 0 {
		local = fg[:1] + fs // jsmith style
	} else {
		local = fg + "." + fs
	}
	local = g.uniqueLocal(local)
	if g.r.IntN(4) == 0 {
		// Many directories keep the case people typed (John.Smith@):
		// lookups and startswith filters must ignore it.
		local = capitalize(local)
	}
	upn := local + "@" + t.Domain
	created := g.createdAt()
	dept, title := g.department()
	u := &User{ID: g.guid(), UserPrincipalName: upn, Mail: upn, GivenName: given, Surname: sur,
		DisplayName: given + " " + sur, AccountEnabled: g.r.IntN(20) != 0, UsageLocation: g.location(),
		Department: dept, JobTitle: title, CreatedDateTime: created}
	k := g.pickLicenses()
	g.add(u, k, g.licensedAt(created))
}

func (g *gen) serviceAccount(i int) {
	t := g.t
	base := serviceAccountNames[i%len(serviceAccountNames)]
	if i >= len(serviceAccountNames) {
		base += strconv.Itoa(i/len(serviceAccountNames) + 1)
	}
	local := g.uniqueLocal(base)
	upn := local + "@" + t.Domain
	created := g.createdAt()
	name := strings.Map(func(r rune) rune {
		if r == '.' || r == '_' || r == '-' {
			return ' '
		}
		return r
	}, local)
	u := &User{ID: g.guid(), UserPrincipalName: upn, Mail: upn, DisplayName: strings.TrimSpace(name),
		AccountEnabled: true, UsageLocation: "US", CreatedDateTime: created}
	var k profileKey
	if i, ok := t.lic.partIdx["EXCHANGESTANDARD"]; ok && g.r.IntN(2) == 0 {
		k.mask = 1 << i
	}
	g.add(u, k, g.licensedAt(created))
}

func (g *gen) guest() {
	t := g.t
	given := givenNames[g.r.IntN(len(givenNames))]
	sur := surnames[g.r.IntN(len(surnames))]
	dom := partnerDomains[g.r.IntN(len(partnerDomains))]
	mail := g.uniqueLocal(asciiFold(given)+"."+asciiFold(sur)+"_"+dom) + "#EXT#"
	email := strings.Replace(strings.TrimSuffix(mail, "#EXT#"), "_"+dom, "@"+dom, 1)
	created := g.createdAt()
	u := &User{ID: g.guid(), UserPrincipalName: mail + "@" + t.Domain, Mail: email, GivenName: given, Surname: sur,
		DisplayName: given + " " + sur + " (Guest)", AccountEnabled: g.r.IntN(10) != 0, CreatedDateTime: created, Guest: true}
	g.add(u, profileKey{}, created)
}

// settleSKUs sets prepaid units from what was consumed: most SKUs a little
// over-purchased, some heavily, viral SKUs at 10,000.
func (g *gen) settleSKUs() {
	for _, s := range g.t.SKUs {
		d := skuDefByID(s.SkuID)
		c := s.ConsumedUnits
		switch {
		case d.Viral:
			s.PrepaidUnits.Enabled = max(10000, c)
		case g.r.IntN(5) == 0:
			s.PrepaidUnits.Enabled = c + c/2 + 10 + g.r.IntN(50) // over-purchased
		default:
			s.PrepaidUnits.Enabled = c + c/20 + g.r.IntN(5)
		}
		switch s.CapabilityStatus {
		case "Suspended":
			s.PrepaidUnits.Suspended = s.PrepaidUnits.Enabled
			s.PrepaidUnits.Enabled = 0
		case "Warning":
			s.PrepaidUnits.Warning = s.PrepaidUnits.Enabled
			s.PrepaidUnits.Enabled = 0
		}
	}
}

func trailing(m skuMask) int {
	n := 0
	for m&1 == 0 {
		m >>= 1
		n++
	}
	return n
}

// capitalize upper-cases the first letter of each dot-separated part.
func capitalize(local string) string {
	b := []byte(local)
	up := true
	for i, c := range b {
		if up && c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		up = c == '.'
	}
	return string(b)
}
