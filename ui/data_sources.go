package ui

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/inventorybeacon/beacon/connector/catalog"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// The data pages' sources: what each page's table shows, read from the
// inventory store. Dates are shown (and exported) as YYYY-MM-DD, the form
// that sorts and that spreadsheets read.

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

// snapshotOf is the snapshot of the data pages that show the current
// import.
func snapshotOf(ctx context.Context, store *inventory.Store, connID string) (inventory.Run, error) {
	return store.CurrentRun(ctx, connID)
}

// activitySource is a page whose figures depend on the snapshot's
// activity reference date (Last Activity, Active, Inactive): its status
// line says that date.
type activitySource interface{ showsActivity() }

func (usersSource) showsActivity()    {}
func (licensesSource) showsActivity() {}

// helpedSource is a page whose columns need explaining: help is the text
// of its help button, one paragraph a column.
type helpedSource interface{ help() string }

func (licensesSource) help() string {
	return strings.Join([]string{
		"SKU: the product's part number in Microsoft's licensing catalogue.",
		"Product: the product's name in the licensing catalogue in use (File → Load licensing catalogue...); the part number " +
			"when the catalogue does not know the SKU. Double-click a row for its service plans by name.",
		"Status: the subscription's state. Warning: past its end date, in its grace period, still usable: renew it or plan " +
			"its end. Suspended: no longer usable. LockedOut: cancelled.",
		"Purchased: units you pay for and can assign (enabled + in warning).",
		"Assigned: users holding the licence in this import (each user once, however it was assigned).",
		"Unassigned: Purchased − Assigned, seats paid for and given to nobody; negative when more are assigned than purchased.",
		"Active (30 days): assigned users with any activity in Microsoft 365's usage reports in the 30 days up to the " +
			"activity date shown under the table (the reports' refresh date), not up to today.",
		"Inactive assigned: Assigned − Active, licences held by people who did not use Microsoft 365 in those 30 days: " +
			"candidates to reclaim. \"unknown\" when the usage reports were not imported or hide user names.",
		"Price: what one seat costs, as set with Set price... or Import prices...; empty when no price is set.",
		"Cost / month: what the purchased seats cost a month (a yearly price counts a twelfth).",
		"Unused / month: what the unassigned seats (Purchased − Assigned) cost a month.",
		"Inactive / month: what the inactive assigned seats cost a month; see the Optimization page for whom they are " +
			"assigned to and for any number of days.",
		"Consumed: Microsoft's own count of units in use (consumedUnits); it can differ from Assigned while assignments are " +
			"being processed, and counts licences of deleted users until they are purged.",
		"Suspended: units of a lapsed subscription, no longer usable; not counted as purchased.",
		"Locked out: units of a cancelled subscription; not counted as purchased.",
		"SKU ID: the product's identifier in Microsoft Graph.",
	}, "\n\n")
}

// usersSource is the Users page; cat names its licences.
type usersSource struct{ cat *catalog.Catalog }

var userColumns = []dataColumn{
	{"displayName", "Display Name", 180},
	{"userPrincipalName", "User Principal Name", 240},
	{"accountEnabled", "Enabled", 80},
	{"department", "Department", 130},
	{"jobTitle", "Job Title", 150},
	{"licenses", "Licenses", 220},
	{"lastActivity", "Last Activity", 110},
	{"usageLocation", "Usage Location", 110},
	{"mail", "Mail", 220},
	{"createdDateTime", "Created", 110},
	{"id", "Object ID", 290},
}

func (usersSource) columns() []dataColumn { return userColumns }
func (usersSource) noun() string          { return "users" }
func (usersSource) all(r inventory.Run) int {
	return r.Counts.Users
}
func (usersSource) snapshot(ctx context.Context, s *inventory.Store, connID string) (inventory.Run, error) {
	r, err := snapshotOf(ctx, s, connID)
	if err == nil {
		// Searches as typed are answered from memory once the
		// snapshot's index is built, in the background (issue 21).
		s.PrepareUserSearch(connID)
	}
	return r, err
}

// quickSearch says searches of connID take milliseconds: the page need not
// wait for typing to pause.
func (usersSource) quickSearch(s *inventory.Store, connID string) bool {
	return s != nil && s.UserSearchIndexed(connID)
}
func (src usersSource) count(ctx context.Context, s *inventory.Store, connID string, q inventory.Query) (int, error) {
	return s.CountUsers(ctx, connID, src.named(q))
}
func (src usersSource) each(ctx context.Context, s *inventory.Store, connID string, q inventory.Query, fn func([]string) error) error {
	return s.EachUser(ctx, connID, src.named(q), func(u *inventory.User) error {
		return fn([]string{u.DisplayName, u.UserPrincipalName, yesNo(u.AccountEnabled), u.Department, u.JobTitle,
			skuLabels(src.cat, u.Licenses), day(u.LastActivity), u.UsageLocation, u.Mail, day(u.CreatedDateTime), u.ID})
	})
}

// named searches and sorts the licences by the names shown (issue 17:
// "Office 365 E3" finds the holders of ENTERPRISEPACK).
func (src usersSource) named(q inventory.Query) inventory.Query {
	q.LicenseLabel = func(part string) string { return licenseLabel(src.cat, part) }
	return q
}

// applicationsSource is the Applications page.
type applicationsSource struct{}

var applicationColumns = []dataColumn{
	{"displayName", "Display Name", 220},
	{"publisherName", "Publisher", 180},
	{"appOwnerOrganizationId", "Microsoft", 90},
	{"servicePrincipalType", "Type", 110},
	{"accountEnabled", "Enabled", 80},
	{"appDisplayName", "Application Name", 200},
	{"appId", "Application ID", 290},
	{"", "Tags", 200},
	{"id", "Object ID", 290},
}

func (applicationsSource) columns() []dataColumn { return applicationColumns }
func (applicationsSource) noun() string          { return "applications" }
func (applicationsSource) all(r inventory.Run) int {
	return r.Counts.ServicePrincipals
}
func (applicationsSource) snapshot(ctx context.Context, s *inventory.Store, connID string) (inventory.Run, error) {
	return snapshotOf(ctx, s, connID)
}
func (applicationsSource) count(ctx context.Context, s *inventory.Store, connID string, q inventory.Query) (int, error) {
	return s.CountApplications(ctx, connID, q)
}
func (applicationsSource) each(ctx context.Context, s *inventory.Store, connID string, q inventory.Query, fn func([]string) error) error {
	return s.EachApplication(ctx, connID, q, func(a *inventory.ServicePrincipal) error {
		return fn([]string{a.DisplayName, a.PublisherName, yesNo(a.FirstParty()), a.ServicePrincipalType, yesNo(a.AccountEnabled),
			a.AppDisplayName, a.AppID, strings.Join(a.Tags, "; "), a.ID})
	})
}

// licensesSource is the Licenses page: a few dozen SKUs at most, read
// whole; cat names them, prices (by lower-case skuId) cost them.
type licensesSource struct {
	cat    *catalog.Catalog
	prices map[string]storage.Price
	// conns are the connections All connections adds up.
	conns []storage.Connection
}

// The columns of a row's part number and product name; its skuId is the
// last.
const (
	licenseSKUCol     = 0
	licenseProductCol = 1
)

var licenseColumns = []dataColumn{
	{"skuPartNumber", "SKU", 200},
	{"", "Product", 260},
	{"capabilityStatus", "Status", 85},
	{"purchased", "Purchased", 90},
	{"assigned", "Assigned", 85},
	{"unassigned", "Unassigned", 95},
	{"active", "Active (30 days)", 125},
	{"inactive", "Inactive assigned", 135},
	{"", "Price", 150},
	{"", "Cost / month", 120},
	{"", "Unused / month", 120},
	{"", "Inactive / month", 125},
	{"consumedUnits", "Consumed", 90},
	{"suspended", "Suspended", 90},
	{"lockedOut", "Locked out", 90},
	{"skuId", "SKU ID", 290},
}

func (licensesSource) columns() []dataColumn { return licenseColumns }
func (licensesSource) noun() string          { return "licenses" }
func (licensesSource) all(r inventory.Run) int {
	return r.Counts.SKUs
}
func (licensesSource) snapshot(ctx context.Context, s *inventory.Store, connID string) (inventory.Run, error) {
	if connID == allConnectionsID {
		return allSnapshot(), nil
	}
	return snapshotOf(ctx, s, connID)
}
func (src licensesSource) count(ctx context.Context, s *inventory.Store, connID string, q inventory.Query) (int, error) {
	q.Limit, q.Offset = 0, 0
	ls, err := src.read(ctx, s, connID, q)
	return len(ls), err
}
func (src licensesSource) each(ctx context.Context, s *inventory.Store, connID string, q inventory.Query, fn func([]string) error) error {
	ls, err := src.read(ctx, s, connID, q)
	if err != nil {
		return err
	}
	for _, l := range ls {
		if err := fn(src.row(l)); err != nil {
			return err
		}
	}
	return nil
}

// row is a licence's cells, in licenseColumns' order.
func (src licensesSource) row(l inventory.License) []string {
	active, inactive := strconv.Itoa(l.Active), strconv.Itoa(l.Inactive)
	if !l.UsageKnown {
		// Zero would claim nobody uses the license.
		active, inactive = "unknown", "unknown"
	}
	var price, cost, unused, idle string
	if p, ok := src.prices[strings.ToLower(l.SkuID)]; ok {
		price = priceText(p)
		cost = money(p.Monthly()*float64(l.Purchased), p.Currency)
		unused = money(p.Monthly()*float64(max(0, l.Unassigned)), p.Currency)
		idle = "unknown"
		if l.UsageKnown {
			idle = money(p.Monthly()*float64(l.Inactive), p.Currency)
		}
	}
	return []string{l.SkuPartNumber, src.cat.Name(l.SkuID, l.SkuPartNumber), l.CapabilityStatus,
		strconv.Itoa(l.Purchased), strconv.Itoa(l.Assigned), strconv.Itoa(l.Unassigned), active, inactive,
		price, cost, unused, idle, strconv.Itoa(l.ConsumedUnits),
		strconv.Itoa(l.PrepaidUnits.Suspended), strconv.Itoa(l.PrepaidUnits.LockedOut), l.SkuID}
}

// reportSource is the Usage page showing one usage report.
type reportSource struct {
	kind inventory.ReportKind
	cols []dataColumn
}

func newReportSource(kind inventory.ReportKind) reportSource {
	s := reportSource{kind: kind}
	for _, c := range inventory.ReportColumns(kind) {
		w := float32(len(c.Title))*7.5 + 24
		switch {
		case c.Title == "User Principal Name":
			w = 240
		case c.Title == "Display Name" || c.Title == "Assigned Products":
			w = 200
		case w < 90:
			w = 90
		}
		s.cols = append(s.cols, dataColumn{key: c.Key, title: c.Title, width: w})
	}
	return s
}

func (s reportSource) columns() []dataColumn { return s.cols }
func (s reportSource) noun() string          { return "rows" }
func (s reportSource) all(r inventory.Run) int {
	return r.Counts.ReportRows(s.kind)
}
func (s reportSource) snapshot(ctx context.Context, st *inventory.Store, connID string) (inventory.Run, error) {
	return snapshotOf(ctx, st, connID)
}
func (s reportSource) count(ctx context.Context, st *inventory.Store, connID string, q inventory.Query) (int, error) {
	return st.CountReportRows(ctx, connID, s.kind, q)
}
func (s reportSource) each(ctx context.Context, st *inventory.Store, connID string, q inventory.Query, fn func([]string) error) error {
	return st.EachReportRow(ctx, connID, s.kind, q, func(r *inventory.ReportRow) error {
		// The row is reused by the store; the table keeps its cells.
		return fn(append([]string(nil), r.Cells...))
	})
}

// historySource is the Import history page: the runs of the connection,
// newest first. The history is small (one row per run), so it is read
// whole and searched and sorted here.
type historySource struct{}

// What an administrator looks for first comes first: when, and how it
// ended (issue 23 item 7: at 1024 px the result was off screen and the
// time cut off).
var historyColumns = []dataColumn{
	{"started", "Started", 165},
	{"status", "Result", 180},
	{"duration", "Duration", 90},
	{"trigger", "Trigger", 80},
	{"mode", "Mode", 180},
	{"users", "Users", 80},
	{"assignments", "Assignments", 100},
	{"skus", "SKUs", 60},
	{"applications", "Applications", 100},
	{"usageRows", "Usage rows", 100},
	{"warnings", "Warnings", 300},
	{"error", "Error", 300},
	{"current", "Shown", 70},
}

func (historySource) columns() []dataColumn { return historyColumns }
func (historySource) noun() string          { return "runs" }
func (historySource) all(inventory.Run) int { return -1 }
func (historySource) snapshot(context.Context, *inventory.Store, string) (inventory.Run, error) {
	return inventory.Run{}, nil
}

func historyRow(r inventory.Run) []string {
	dur := ""
	if !r.Ended.IsZero() {
		dur = r.Duration().Round(100 * time.Millisecond).String()
	}
	c := r.Counts
	return []string{r.Started.Local().Format("2006-01-02 15:04:05"), resultText(r), dur, string(r.Trigger), modeText(r.Mode),
		strconv.Itoa(c.Users), strconv.Itoa(c.Assignments), strconv.Itoa(c.SKUs), strconv.Itoa(c.ServicePrincipals),
		strconv.Itoa(c.ActiveUserRows + c.ActivationRows + c.AppUsageRows), strings.Join(r.Warnings, " | "), r.Error,
		yesNo(r.Current)}
}

// rows selects, sorts and pages the runs as q says.
func (historySource) rows(ctx context.Context, s *inventory.Store, connID string, q inventory.Query) ([]inventory.Run, error) {
	runs, err := s.History(ctx, connID, 0)
	if err != nil {
		return nil, err
	}
	if t := strings.ToLower(strings.TrimSpace(q.Search)); t != "" {
		kept := runs[:0]
		for _, r := range runs {
			if strings.Contains(strings.ToLower(strings.Join(historyRow(r), "\x00")), t) {
				kept = append(kept, r)
			}
		}
		runs = kept
	}
	if q.Sort != "" {
		key, ok := historyKeys[q.Sort]
		if !ok {
			return nil, fmt.Errorf("sort by %q: %w", q.Sort, inventory.ErrUnknownColumn)
		}
		sort.SliceStable(runs, func(i, j int) bool {
			a, b := key(runs[i]), key(runs[j])
			if q.Desc {
				return b.less(a)
			}
			return a.less(b)
		})
	}
	if q.Offset > 0 {
		runs = runs[min(q.Offset, len(runs)):]
	}
	if q.Limit > 0 && len(runs) > q.Limit {
		runs = runs[:q.Limit]
	}
	return runs, nil
}

// sortKey orders history rows: by number or by case-folded text.
type sortKey struct {
	n int64
	s string
}

func (a sortKey) less(b sortKey) bool {
	if a.n != b.n {
		return a.n < b.n
	}
	return a.s < b.s
}

var historyKeys = map[string]func(inventory.Run) sortKey{
	"started":      func(r inventory.Run) sortKey { return sortKey{n: r.Started.UnixNano()} },
	"duration":     func(r inventory.Run) sortKey { return sortKey{n: int64(r.Duration())} },
	"trigger":      func(r inventory.Run) sortKey { return sortKey{s: string(r.Trigger)} },
	"mode":         func(r inventory.Run) sortKey { return sortKey{s: strings.ToLower(modeText(r.Mode))} },
	"status":       func(r inventory.Run) sortKey { return sortKey{s: strings.ToLower(resultText(r))} },
	"users":        func(r inventory.Run) sortKey { return sortKey{n: int64(r.Counts.Users)} },
	"assignments":  func(r inventory.Run) sortKey { return sortKey{n: int64(r.Counts.Assignments)} },
	"skus":         func(r inventory.Run) sortKey { return sortKey{n: int64(r.Counts.SKUs)} },
	"applications": func(r inventory.Run) sortKey { return sortKey{n: int64(r.Counts.ServicePrincipals)} },
	"usageRows": func(r inventory.Run) sortKey {
		return sortKey{n: int64(r.Counts.ActiveUserRows + r.Counts.ActivationRows + r.Counts.AppUsageRows)}
	},
	"warnings": func(r inventory.Run) sortKey {
		return sortKey{n: int64(len(r.Warnings)), s: strings.Join(r.Warnings, " ")}
	},
	"error": func(r inventory.Run) sortKey { return sortKey{s: strings.ToLower(r.Error)} },
	"current": func(r inventory.Run) sortKey {
		if r.Current {
			return sortKey{n: 1}
		}
		return sortKey{}
	},
}

func (h historySource) count(ctx context.Context, s *inventory.Store, connID string, q inventory.Query) (int, error) {
	q.Limit, q.Offset = 0, 0
	runs, err := h.rows(ctx, s, connID, q)
	return len(runs), err
}

func (h historySource) each(ctx context.Context, s *inventory.Store, connID string, q inventory.Query, fn func([]string) error) error {
	runs, err := h.rows(ctx, s, connID, q)
	if err != nil {
		return err
	}
	for _, r := range runs {
		if err := fn(historyRow(r)); err != nil {
			return err
		}
	}
	return nil
}
