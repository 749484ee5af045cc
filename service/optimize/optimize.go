// Package optimize answers the asset manager's question for one snapshot
// of a tenant: what do we pay for, what is wasted, by whom, and what would
// we save (issue 17). Every figure of the Optimization page, of
// `beacon optimize` and of their exports is computed here, from Facts
// read once per snapshot, so changing "inactive for N days" recomputes in
// memory without touching the database. The licence history's per-day
// inactive, overlapping and cost figures are these too (history.go), at
// the page's default N.
//
// A licensed user lands in exactly one list, the first that applies:
// new starter (created less than N days before the reference date: not
// waste), disabled account, never active, inactive for N days. Licensed
// guests, overlapping licences and failed group assignments are shown
// beside those lists: guests as information (an idle guest is already in
// an account list), an overlap as recoverable when the user is not already
// counted in a list above.
package optimize

import (
	"cmp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/inventorybeacon/beacon/connector/catalog"
	"github.com/inventorybeacon/beacon/storage"
)

// Workload is a Microsoft 365 service whose last activity the usage
// reports give per user.
type Workload int

const (
	Exchange Workload = iota
	OneDrive
	SharePoint
	Teams
	Yammer // Viva Engage
	OfficeApps
	NumWorkloads
)

// WorkloadNames are the workloads as the page's column headers name them.
var WorkloadNames = [NumWorkloads]string{"Exchange", "OneDrive", "SharePoint", "Teams", "Viva Engage (Yammer)", "Office apps"}

// Source says how a user got a licence.
type Source int

const (
	Direct Source = iota
	Group         // through group-based licensing: remove the user from the group
	Failed        // a group assignment in error: the user does not hold the licence
)

// License is one licence of a user.
type License struct {
	SkuID string
	// Source, and for Group and Failed the group, by name when known.
	Source    Source
	GroupID   string
	GroupName string
	// Error is Graph's licenseAssignmentStates error (CountViolation, ...)
	// of a Failed assignment.
	Error string
	// AlsoDirect says the user holds the SKU through a group and directly:
	// removing the direct assignment alone frees nothing.
	AlsoDirect bool
}

// User is what the lists need of one user of the snapshot.
type User struct {
	UPN, DisplayName, Department string
	Enabled                      bool
	Guest                        bool
	Created                      time.Time // zero when Graph did not say
	Licenses                     []License
	// Activity is the last activity date per workload in the usage reports
	// (zero: none in the report's 180 days, or the user is not in it).
	Activity [NumWorkloads]time.Time
	// LastSignIn is the latest interactive or non-interactive sign-in
	// (signInActivity); zero when unknown or never.
	LastSignIn time.Time
}

// SKU is one subscribed SKU of the snapshot.
type SKU struct {
	SkuID      string
	PartNumber string
	Purchased  int // prepaid enabled + warning
	Assigned   int // users holding it
}

// Facts is everything the computation reads, loaded once per snapshot.
type Facts struct {
	// AsOf is the snapshot's activity reference date (the usage reports'
	// refresh date): "N days" count back from it, never from today.
	AsOf time.Time
	// UsageKnown says the usage reports were read with real user names.
	// Without them (reports forbidden, or names concealed by the tenant's
	// privacy setting) nobody can be called inactive from the reports.
	UsageKnown bool
	// UsageProblem says why usage is unknown, in the admin's words.
	UsageProblem string
	// SignInsKnown says signInActivity was read (Entra ID P1 and
	// AuditLog.Read.All); SignInNotice says why not when it was not.
	SignInsKnown bool
	SignInNotice string
	SKUs         []SKU
	Users        []User
}

// Price is what one seat of a SKU costs (kept in the configuration).
type Price = storage.Price

// Options are the administrator's choices.
type Options struct {
	// InactiveDays is N: no activity for N days makes a user inactive,
	// and an account younger than N days is a new starter.
	InactiveDays int
	// Prices by lower-case skuId; a SKU without one has no cost figures.
	Prices map[string]Price
	// Catalog names SKUs and finds overlaps; nil shows part numbers and
	// finds none.
	Catalog *catalog.Catalog
}

// DefaultInactiveDays is the page's default N.
const DefaultInactiveDays = 90

// InactiveChoices are the page's offered values of N; any other can be
// typed.
var InactiveChoices = []int{7, 14, 30, 45, 60, 90, 180}

// Reason is why a licensed user is listed.
type Reason int

const (
	NewStarter Reason = iota
	Disabled
	NeverActive
	Inactive
	LicensedGuest
	Overlapping
	AssignmentError
	numReasons
)

var reasonNames = [numReasons]string{"New starter", "Disabled account", "Never active", "Inactive", "Licensed guest", "Overlapping licences", "Assignment error"}

func (r Reason) String() string { return reasonNames[r] }

// Finding is one user in one list.
type Finding struct {
	Reason Reason
	User   *User
	// SKUs are the licences concerned: all the user's for the account
	// lists, the redundant one for an overlap, the failed one for an
	// error.
	SKUs []string
	// LastActivity is the latest of the workloads and the sign-in; zero
	// when none.
	LastActivity time.Time
	// Detail explains the finding in a line (the overlap, the error, the
	// group a licence comes from).
	Detail string
	// Recoverable says the seats count in the totals (a guest or an
	// overlap already counted in an account list is not counted twice).
	Recoverable bool
}

// SKUSavings is one SKU's line of the totals.
type SKUSavings struct {
	SKU
	Name string // "Office 365 E3 (ENTERPRISEPACK)"
	// Unused = Purchased - Assigned, when positive: seats paid for and
	// given to nobody.
	Unused int
	// Seats per reason, of assigned licences (Failed ones hold no seat).
	ByReason [numReasons]int
	// Recoverable seats: the seats of recoverable findings, plus Unused
	// when the SKU has a price above 0.
	Recoverable int
	Price       *Price
	// MonthlyCents is what Recoverable seats cost a month (zero without a
	// price); TotalMonthlyCents what all purchased seats cost.
	MonthlyCents      float64
	TotalMonthlyCents float64
}

// Result is the page.
type Result struct {
	AsOf         time.Time
	InactiveDays int
	// ActivityKnown says the inactive and never-active lists could be
	// computed (usage reports with names, or sign-ins); when false they are
	// empty and ActivityProblem says why.
	ActivityKnown   bool
	ActivityProblem string
	SignInNotice    string
	Lists           [numReasons][]Finding
	SKUs            []SKUSavings
	// Totals per currency; seats regardless of price.
	RecoverableSeats int
	MonthlyCents     map[string]float64
	// Unpriced counts recoverable seats of SKUs without a price.
	UnpricedSeats int
	// UncountedUnused counts the unused units of SKUs without a price (or
	// priced at 0): shown per SKU, but not recoverable until the SKU has a
	// price, since free SKUs come with thousands of units.
	UncountedUnused int
	// GroupAssigned counts licences that come from a group.
	GroupAssigned int

	prices map[string]Price
}

// Cost is what a finding's SKUs cost a month, by currency (empty when
// none is priced). It is worked out when a row is shown or exported, not
// for every finding of a 100,000-user tenant.
func (r *Result) Cost(fd *Finding) map[string]float64 {
	if fd.Reason == AssignmentError {
		return nil // a failed assignment holds no seat: it costs nothing
	}
	var m map[string]float64
	for _, id := range fd.SKUs {
		if p, ok := r.prices[strings.ToLower(id)]; ok {
			if m == nil {
				m = map[string]float64{}
			}
			m[p.Currency] += p.Monthly()
		}
	}
	return m
}

// List returns the findings of one reason.
func (r *Result) List(reason Reason) []Finding { return r.Lists[reason] }

// YearlyCents is MonthlyCents × 12 for a currency.
func (r *Result) YearlyCents(currency string) float64 { return r.MonthlyCents[currency] * 12 }

// Compute builds the page for N = o.InactiveDays. It only reads f.
func Compute(f *Facts, o Options) *Result {
	res, skuIdx, cutoff := newResult(f, o)
	add := func(fd Finding) {
		res.Lists[fd.Reason] = append(res.Lists[fd.Reason], fd)
		for _, id := range fd.SKUs {
			i, ok := skuIdx[strings.ToLower(id)]
			if !ok {
				continue
			}
			res.SKUs[i].ByReason[fd.Reason]++
			if fd.Recoverable {
				res.SKUs[i].Recoverable++
			}
		}
	}

	ov := overlapMemo{c: o.Catalog, seen: map[[2]string][]catalog.Overlap{}}
	var held []string // reused: a finding keeps a copy
	for ui := range f.Users {
		u := &f.Users[ui]
		held = heldSKUs(u, f, o.Catalog, skuIdx, held[:0], add, &res.GroupAssigned)
		if len(held) == 0 {
			continue
		}
		last := lastActivity(u, f)
		reason, listed := classify(u.Created, u.Enabled, last, cutoff, res.ActivityKnown)
		detail := ""
		if listed || u.Guest {
			detail = sourceDetail(u, o.Catalog, f, skuIdx)
		}
		if listed {
			add(Finding{Reason: reason, User: u, SKUs: slices.Clone(held), LastActivity: last, Detail: detail, Recoverable: reason != NewStarter})
		}
		wasted := listed && reason != NewStarter
		if u.Guest {
			// Shown apart, like new starters: a licensed guest may be a
			// contractor who needs the licence; an idle one is already in
			// an account list.
			add(Finding{Reason: LicensedGuest, User: u, SKUs: slices.Clone(held), LastActivity: last, Detail: detail})
		}
		for _, ov := range ov.of(held) {
			add(Finding{Reason: Overlapping, User: u, SKUs: []string{ov.Smaller.SkuID}, LastActivity: last,
				Detail: ov.Describe(), Recoverable: !wasted})
		}
	}
	finish(res)
	return res
}

// newResult is a Result's head and SKU lines for o, the SKUs' indices
// by lower-case id, and the date before which activity is N days old.
func newResult(f *Facts, o Options) (*Result, map[string]int, time.Time) {
	n := o.InactiveDays
	if n <= 0 {
		n = DefaultInactiveDays
	}
	res := &Result{AsOf: f.AsOf, InactiveDays: n, MonthlyCents: map[string]float64{}, SignInNotice: f.SignInNotice}
	res.ActivityKnown = f.UsageKnown || f.SignInsKnown
	if !res.ActivityKnown {
		res.ActivityProblem = f.UsageProblem
		if res.ActivityProblem == "" {
			res.ActivityProblem = "No usage reports in this snapshot, so nobody can be called inactive."
		}
	}
	asOf := dateOf(f.AsOf)
	cutoff := asOf.AddDate(0, 0, -n)

	skuIdx := make(map[string]int, len(f.SKUs))
	res.SKUs = make([]SKUSavings, len(f.SKUs))
	for i, s := range f.SKUs {
		key := strings.ToLower(s.SkuID)
		skuIdx[key] = i
		line := SKUSavings{SKU: s, Name: o.Catalog.Label(s.SkuID, s.PartNumber), Unused: max(0, s.Purchased-s.Assigned)}
		if p, ok := o.Prices[key]; ok {
			p := p
			line.Price = &p
			line.TotalMonthlyCents = p.Monthly() * float64(s.Purchased)
		}
		res.SKUs[i] = line
	}
	res.prices = o.Prices
	return res, skuIdx, cutoff
}

// heldSKUs appends to held the SKUs u holds (each once), adds a finding
// for each failed group assignment and counts the group-assigned
// licences.
func heldSKUs(u *User, f *Facts, c *catalog.Catalog, skuIdx map[string]int, held []string, add func(Finding), groupAssigned *int) []string {
	for _, l := range u.Licenses {
		switch l.Source {
		case Failed:
			detail := "Group " + groupLabel(l) + " could not assign " + c.Name(l.SkuID, partOf(f, skuIdx, l.SkuID))
			if l.Error != "" {
				detail += ": " + l.Error
			}
			add(Finding{Reason: AssignmentError, User: u, SKUs: []string{l.SkuID}, Detail: detail})
			continue
		case Group:
			*groupAssigned++
		}
		if !slices.ContainsFunc(held, func(s string) bool { return strings.EqualFold(s, l.SkuID) }) {
			held = append(held, l.SkuID)
		}
	}
	return held
}

// classify is the account list a licensed user (created then, enabled or
// not, last active then) lands in, if any.
func classify(created time.Time, enabled bool, last, cutoff time.Time, activityKnown bool) (Reason, bool) {
	switch {
	case !created.IsZero() && created.After(cutoff):
		return NewStarter, true
	case !enabled:
		return Disabled, true
	case !activityKnown:
		return 0, false
	case last.IsZero():
		return NeverActive, true
	case last.Before(cutoff):
		return Inactive, true
	}
	return 0, false
}

// finish adds the unused seats and the totals, and sorts the SKU lines.
func finish(res *Result) {
	for i := range res.SKUs {
		line := &res.SKUs[i]
		// Unused units count only where they cost something: free and
		// self-service SKUs (Power BI (free), Teams Exploratory, Power
		// Automate Free) come with 10,000 units nobody pays for, and an
		// unpriced SKU may be one of them. A price of 0 marks a free SKU.
		if line.Price != nil && line.Price.Cents > 0 {
			line.Recoverable += line.Unused
		} else {
			res.UncountedUnused += line.Unused
		}
		res.RecoverableSeats += line.Recoverable
		if line.Price == nil {
			res.UnpricedSeats += line.Recoverable
			continue
		}
		line.MonthlyCents = line.Price.Monthly() * float64(line.Recoverable)
		res.MonthlyCents[line.Price.Currency] += line.MonthlyCents
	}
	slices.SortStableFunc(res.SKUs, CompareSavings)
}

// SortLists orders each list by user principal name, case folded. The
// lists otherwise follow the order the store read the users in, the order
// the import wrote them, which its parallel listings make differ between
// two imports of the same tenant: the page's lists changed order from one
// run to the next. Stable, so a user's findings in one list (overlaps of
// several SKUs) keep the order of their licences. Not part of Compute:
// the history's figures, worked out at every import, need no order.
func (r *Result) SortLists() {
	for i := range r.Lists {
		slices.SortStableFunc(r.Lists[i], func(a, b Finding) int { return compareUPN(a.User.UPN, b.User.UPN) })
	}
}

// compareUPN compares two user principal names case folded (Microsoft
// keeps them unique so), then as bytes, without allocating: the lists of
// a million-user tenant hold hundreds of thousands.
func compareUPN(a, b string) int {
	for i, j := 0, 0; i < len(a) && j < len(b); {
		ra, na := utf8.DecodeRuneInString(a[i:])
		rb, nb := utf8.DecodeRuneInString(b[j:])
		if c := cmp.Compare(unicode.ToLower(ra), unicode.ToLower(rb)); c != 0 {
			return c
		}
		i, j = i+na, j+nb
	}
	if c := cmp.Compare(len(a), len(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// CompareSavings orders the SKU lines as the page lists them: the
// largest saving first, then the most recoverable seats, then by name.
// The totals across tenants use the same order.
func CompareSavings(a, b SKUSavings) int {
	if c := cmp.Compare(b.MonthlyCents, a.MonthlyCents); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Recoverable, a.Recoverable); c != 0 {
		return c
	}
	return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
}

// lastActivity is the latest of the usage reports' workloads (when known)
// and the sign-ins (when known).
func lastActivity(u *User, f *Facts) time.Time {
	var last time.Time
	if f.UsageKnown {
		for _, t := range u.Activity {
			if t.After(last) {
				last = t
			}
		}
	}
	if f.SignInsKnown && u.LastSignIn.After(last) {
		last = u.LastSignIn
	}
	return last
}

// overlapMemo lists, for a user's SKUs, each one made redundant by
// another (a SKU covered by two others is listed once). Users share a few
// dozen combinations of SKUs, so each is worked out once per Compute.
type overlapMemo struct {
	c    *catalog.Catalog
	seen map[[2]string][]catalog.Overlap
}

func (m overlapMemo) of(held []string) []catalog.Overlap {
	if len(held) < 2 || m.c == nil {
		return nil
	}
	var out []catalog.Overlap
	for i := range held {
		for j := i + 1; j < len(held); j++ {
			for _, ov := range m.pair(held[i], held[j]) {
				if !slices.ContainsFunc(out, func(o catalog.Overlap) bool { return o.Smaller.SkuID == ov.Smaller.SkuID }) {
					out = append(out, ov)
				}
			}
		}
	}
	return out
}

func (m overlapMemo) pair(a, b string) []catalog.Overlap {
	key := [2]string{a, b}
	if b < a {
		key = [2]string{b, a}
	}
	if r, ok := m.seen[key]; ok {
		return r
	}
	var r []catalog.Overlap
	if ov, ok := m.c.Overlaps(key[0], key[1]); ok {
		r = []catalog.Overlap{ov}
	}
	m.seen[key] = r
	return r
}

// sourceDetail says which licences come from a group: they are removed by
// taking the user out of the group, not from the user.
func sourceDetail(u *User, c *catalog.Catalog, f *Facts, skuIdx map[string]int) string {
	var parts []string
	for _, l := range u.Licenses {
		if l.Source != Group {
			continue
		}
		s := c.Name(l.SkuID, partOf(f, skuIdx, l.SkuID)) + " from group " + groupLabel(l)
		if l.AlsoDirect {
			s += " and assigned directly"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func groupLabel(l License) string {
	if l.GroupName != "" {
		return l.GroupName
	}
	return l.GroupID
}

func partOf(f *Facts, skuIdx map[string]int, skuID string) string {
	if i, ok := skuIdx[strings.ToLower(skuID)]; ok {
		return f.SKUs[i].PartNumber
	}
	return ""
}

func dateOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
