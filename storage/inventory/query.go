package inventory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Query selects rows of a data page.
type Query struct {
	// Search keeps rows containing this text (case-insensitive substring)
	// in any of their text columns.
	Search string
	// Sort is a column key (the JSON name, e.g. "displayName"; for report
	// rows the column header); empty sorts in the natural order.
	Sort string
	Desc bool
	// Limit and Offset page the result; Limit 0 means all rows.
	Limit, Offset int
	// RunID reads that run's kept snapshot instead of the current one.
	RunID int64
	// Apps keeps the applications of one kind (Applications page only).
	Apps AppKind
	// SKU keeps the users holding this SKU (its skuId; Users page only).
	SKU string
	// LicenseLabel, when set, is how the window shows an entry of a
	// user's Licenses (a part number, or the SKU id of a SKU without
	// one): "Office 365 E3 (ENTERPRISEPACK)". A search then also finds
	// the users holding a SKU whose label contains the text, and sorting
	// by Licenses sorts by the labels (issue 17: administrators know
	// the products by name, not by part number). Users page only.
	LicenseLabel func(part string) string
}

// AppKind sorts the applications of a tenant by who publishes them
// (issue 23: 1,500 service principals, most of them Microsoft's own, with
// no way to see the ones that matter).
type AppKind string

const (
	AppsAll        AppKind = ""
	AppsMicrosoft  AppKind = "microsoft"   // published by Microsoft (first-party)
	AppsThirdParty AppKind = "third-party" // published by another organisation
	AppsOwn        AppKind = "own"         // registered in this tenant
	AppsManaged    AppKind = "managed"     // managed identities of Azure resources
)

// AppKinds are the kinds in the order the page offers them.
var AppKinds = []AppKind{AppsAll, AppsMicrosoft, AppsThirdParty, AppsOwn, AppsManaged}

// appKindSQL is an application's kind, with the Microsoft tenant and this
// tenant as its two arguments. Managed identities come first: they are
// owned by nobody's app registration.
const appKindSQL = `(CASE WHEN service_principal_type = 'ManagedIdentity' THEN 'managed'
	WHEN app_owner_organization_id = ? THEN 'microsoft'
	WHEN ? <> '' AND app_owner_organization_id = ? THEN 'own'
	ELSE 'third-party' END)`

// tenantOf is the tenant a snapshot was read from: its subscriptions'
// account (empty when it has none).
func (s *Store) tenantOf(ctx context.Context, run int64) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, "SELECT account_id FROM skus WHERE run_id = ? AND account_id <> '' LIMIT 1", run).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

// skuWhere adds q.SKU to a filter of the users: those whose assigned
// licenses name the SKU (a licence's drill-down to its holders).
func skuWhere(table string, q Query, w string, args []any) (string, []any) {
	if table != "users" || q.SKU == "" {
		return w, args
	}
	return w + " AND instr(lower(assigned_licenses), ?) > 0", append(args, `"skuid":"`+strings.ToLower(q.SKU)+`"`)
}

// licenseTokens are the snapshot's SKUs as the users' Licenses column
// names them (lower case), each with its label (lower case) by
// q.LicenseLabel.
func (s *Store) licenseTokens(ctx context.Context, run int64, q Query) ([][2]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT sku_id, sku_part_number FROM skus WHERE run_id = ? ORDER BY rowid", run)
	if err != nil {
		return nil, fmt.Errorf("read the SKUs' names: %w", err)
	}
	defer rows.Close()
	var out [][2]string
	var id, part string
	for rows.Next() {
		if err := rows.Scan(&id, &part); err != nil {
			return nil, fmt.Errorf("read the SKUs' names: %w", err)
		}
		if part == "" {
			part = id
		}
		out = append(out, [2]string{strings.ToLower(part), strings.ToLower(q.LicenseLabel(part))})
	}
	return out, rows.Err()
}

// usersWhere is where for the users: with q.LicenseLabel, a search also
// keeps the users holding a SKU whose label contains the text.
func (s *Store) usersWhere(ctx context.Context, run int64, q Query, natural bool) (string, []any, error) {
	of := usersOf
	if natural {
		of = usersOfRowidOrder // read in rowid order (pages)
	}
	users, err := of(ctx, s.db, "", run)
	if err != nil {
		return "", nil, err
	}
	text := strings.ToLower(strings.TrimSpace(q.Search))
	if q.LicenseLabel == nil || text == "" {
		w := " WHERE " + users
		var args []any
		if text != "" {
			w += " AND instr(search, ?) > 0"
			args = append(args, text)
		}
		return w, args, nil
	}
	tokens, err := s.licenseTokens(ctx, run, q)
	if err != nil {
		return "", nil, err
	}
	w := " WHERE " + users + " AND (instr(search, ?) > 0"
	args := []any{text}
	for _, t := range tokens {
		if strings.Contains(t[1], text) && !strings.Contains(t[0], text) {
			w += " OR instr('+' || lower(licenses) || '+', ?) > 0"
			args = append(args, "+"+t[0]+"+")
		}
	}
	return w + ")", args, nil
}

// userColumns are UserColumns with Licenses sorted by the labels of
// q.LicenseLabel: by the first licence's label (the one shown first),
// then by the part numbers. The labels come from a catalogue the
// administrator may replace, so they are not stored: the snapshot's few
// dozen SKUs become a CASE, quoted as SQL strings.
func (s *Store) userColumns(ctx context.Context, run int64, q Query) ([]Column, error) {
	cols := slices.Clone(UserColumns)
	act, err := s.activityRun(ctx, run)
	if err != nil {
		return nil, err
	}
	for i := range cols {
		if cols[i].Key == "lastActivity" {
			cols[i].sql = userActivity(act) // a shared row's own run is not the snapshot's
		}
	}
	if q.LicenseLabel == nil || !strings.EqualFold(q.Sort, "licenses") {
		return cols, nil
	}
	tokens, err := s.licenseTokens(ctx, run, q)
	if err != nil {
		return nil, err
	}
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	first := "lower(substr(licenses, 1, instr(licenses || '+', '+') - 1))"
	key := "(CASE " + first
	for _, t := range tokens {
		key += " WHEN " + quote(t[0]) + " THEN " + quote(t[1])
	}
	key += " ELSE " + first + " END || '+' || lower(licenses))"
	for i := range cols {
		if cols[i].Key == "licenses" {
			cols[i].sql = key
		}
	}
	return cols, nil
}

// appsWhere adds q.Apps to a filter of the service principals.
func (s *Store) appsWhere(ctx context.Context, run int64, q Query, w string, args []any) (string, []any, error) {
	if q.Apps == AppsAll {
		return w, args, nil
	}
	tenant, err := s.tenantOf(ctx, run)
	if err != nil {
		return "", nil, err
	}
	return w + " AND " + appKindSQL + " = ?", append(args, MicrosoftTenantID, tenant, tenant, string(q.Apps)), nil
}

// ApplicationKinds counts the snapshot's applications matching q.Search by
// kind; AppsAll holds the total.
func (s *Store) ApplicationKinds(ctx context.Context, connID string, q Query) (map[AppKind]int, error) {
	run, err := s.snapshotRun(ctx, connID, q)
	if err != nil {
		return nil, err
	}
	tenant, err := s.tenantOf(ctx, run)
	if err != nil {
		return nil, err
	}
	w, args := where(run, q.Search)
	rows, err := s.db.QueryContext(ctx, "SELECT "+appKindSQL+", COUNT(*) FROM service_principals"+w+" GROUP BY 1",
		append([]any{MicrosoftTenantID, tenant, tenant}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("count applications by kind: %w", err)
	}
	out, err := scanCounts[AppKind](rows, nil)
	if err != nil {
		return nil, err
	}
	all := 0
	for _, n := range out {
		all += n
	}
	if len(out) > 0 {
		out[AppsAll] = all
	}
	return out, nil
}

// ErrNoSnapshot means the connection has no imported data yet (or the
// requested run's snapshot was pruned or never completed).
var ErrNoSnapshot = errors.New("no imported data: run an import first")

// ErrUnknownColumn means Query.Sort names no column of the page.
var ErrUnknownColumn = errors.New("unknown column")

// Column is a sortable column of a data page.
type Column struct {
	Key   string // for Query.Sort
	Title string // for headers
	sql   string
}

// userActivity is a user's last activity in the snapshot whose
// user_activity rows are those of run (activityRun).
func userActivity(run int64) string {
	return fmt.Sprintf("(SELECT a.last_activity FROM user_activity a WHERE a.run_id = %d AND a.upn_key = users.upn_key)", run)
}

// UserColumns are the Users page's columns (Last Activity's SQL is
// userActivity's for the snapshot).
var UserColumns = []Column{
	{"userPrincipalName", "User Principal Name", "upn COLLATE NOCASE"},
	{"displayName", "Display Name", "name_key"},
	{"mail", "Mail", "mail COLLATE NOCASE"},
	{"accountEnabled", "Enabled", "account_enabled"},
	{"department", "Department", "department COLLATE NOCASE"},
	{"jobTitle", "Job Title", "job_title COLLATE NOCASE"},
	{"usageLocation", "Usage Location", "usage_location"},
	{"licenses", "Licenses", "licenses COLLATE NOCASE"},
	{"lastActivity", "Last Activity", "(SELECT a.last_activity FROM user_activity a WHERE a.run_id = users.run_id AND a.upn_key = users.upn_key)"},
	{"createdDateTime", "Created", "created"},
	{"id", "Object ID", "id"},
}

// ApplicationColumns are the Applications page's columns.
var ApplicationColumns = []Column{
	{"displayName", "Display Name", "display_name COLLATE NOCASE"},
	{"appDisplayName", "Application Name", "app_display_name COLLATE NOCASE"},
	{"publisherName", "Publisher", "publisher_name COLLATE NOCASE"},
	{"servicePrincipalType", "Type", "service_principal_type"},
	{"accountEnabled", "Enabled", "account_enabled"},
	{"appId", "Application ID", "app_id"},
	{"appOwnerOrganizationId", "Owner Tenant", "app_owner_organization_id"},
	{"id", "Object ID", "id"},
}

// LicenseColumns are the Licenses page's columns.
// The subscription's status comes second: a SKU in warning (about to
// expire) is what an administrator must see first.
var LicenseColumns = []Column{
	{"skuPartNumber", "SKU", "sku_part_number COLLATE NOCASE"},
	{"capabilityStatus", "Status", "capability_status"},
	{"purchased", "Purchased", "(prepaid_enabled + prepaid_warning)"},
	{"assigned", "Assigned", "assigned"},
	{"unassigned", "Unassigned", "(prepaid_enabled + prepaid_warning - assigned)"},
	{"active", "Active (30 days)", "active"},
	{"inactive", "Inactive assigned", "(assigned - active)"},
	{"consumedUnits", "Consumed", "consumed_units"},
	{"suspended", "Suspended", "prepaid_suspended"},
	{"lockedOut", "Locked out", "prepaid_locked_out"},
	{"skuId", "SKU ID", "sku_id"},
}

// ReportColumns are a report page's columns: the known ones, keyed by
// header.
func ReportColumns(kind ReportKind) []Column {
	spec := Report(kind)
	cols := make([]Column, len(spec.Columns))
	for i, c := range spec.Columns {
		s := c.Name
		if c.Type == Text {
			s += " COLLATE NOCASE"
		}
		cols[i] = Column{Key: c.Header, Title: c.Header, sql: s}
	}
	return cols
}

func orderBy(cols []Column, q Query, natural string) (string, error) {
	if q.Sort == "" {
		return " ORDER BY " + natural, nil
	}
	for _, c := range cols {
		if strings.EqualFold(c.Key, q.Sort) {
			// SQLite's order of NULLs, spelled out for PostgreSQL, whose
			// NULLs sort last ascending.
			dir := " NULLS FIRST"
			if q.Desc {
				dir = " DESC NULLS LAST"
			}
			// The natural order breaks ties so pages are stable.
			return " ORDER BY " + c.sql + dir + ", " + natural, nil
		}
	}
	return "", fmt.Errorf("sort by %q: %w", q.Sort, ErrUnknownColumn)
}

// snapshotRun resolves which run a query reads.
func (s *Store) snapshotRun(ctx context.Context, connID string, q Query) (int64, error) {
	if q.RunID != 0 {
		var snap string
		err := s.db.QueryRowContext(ctx, "SELECT snapshot FROM runs WHERE id = ? AND connection_id = ?", q.RunID, connID).Scan(&snap)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && snap != snapKept) {
			return 0, ErrNoSnapshot
		}
		return q.RunID, err
	}
	var id int64
	err := s.db.QueryRowContext(ctx, "SELECT run_id FROM current WHERE connection_id = ?", connID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNoSnapshot
	}
	return id, err
}

// activityAsOf is the activity reference date of a run's snapshot.
func (s *Store) activityAsOf(ctx context.Context, run int64) (string, error) {
	var d string
	if err := s.db.QueryRowContext(ctx, "SELECT activity_as_of FROM runs WHERE id = ?", run).Scan(&d); err != nil {
		return "", fmt.Errorf("read the activity date of run %d: %w", run, err)
	}
	return d, nil
}

// where builds the filter shared by the page and its count.
func where(runID int64, search string) (string, []any) {
	w := " WHERE run_id = ?"
	args := []any{runID}
	if s := strings.ToLower(strings.TrimSpace(search)); s != "" {
		w += " AND instr(search, ?) > 0"
		args = append(args, s)
	}
	return w, args
}

// reverseFrom is the offset from which a sorted page without a search
// term may be read from the far end (see Store.pageSQL); a variable so
// tests can exercise that path on small snapshots.
var reverseFrom = 1000

// pageSQL is the statement (and its arguments) reading the columns sel of
// the rows of table in run that q selects, sorted by cols (ties broken by
// natural, which is unique within a run: rowid, or row for report rows).
//
// With a limit, the page's rowids are sorted and paged first, in a
// subquery that reads only the sort key, and the wide rows (and their
// result columns, such as the users' last activity) are then read for
// the page's rows alone; sorting the full rows put every row of the
// snapshot through the sorter for each page. The page's rows are sorted
// again by the same total order, so they come out exactly as the
// subquery ordered them.
//
// The subquery still sorts the rows up to the end of the page, so a page
// in the second half of a sorted list without a search term (whose
// count is a cheap walk of the run index) is taken from the far end of
// the reversed order instead: same rows, as every order here is total
// (NULLs sort first ascending, last descending, and the tie-breaker is
// reversed too). The count is a statement of its own: a snapshot's rows
// do not change once its run is complete. With a search term, counting
// costs a scan as long as the sort, so those pages are read forwards.
func (s *Store) pageSQL(ctx context.Context, table, sel string, cols []Column, natural string, run int64, q Query) (string, []any, error) {
	order, err := orderBy(cols, q, natural)
	if err != nil {
		return "", nil, err
	}
	w, args := where(run, q.Search)
	if table == "service_principals" {
		if w, args, err = s.appsWhere(ctx, run, q, w, args); err != nil {
			return "", nil, err
		}
	}
	if table == "users" {
		if stmt, ok, err := s.indexedPageSQL(ctx, sel, cols, run, q); ok || err != nil {
			return stmt, nil, err
		}
		if w, args, err = s.usersWhere(ctx, run, q, q.Sort == ""); err != nil {
			return "", nil, err
		}
	}
	w, args = skuWhere(table, q, w, args)
	if q.Limit <= 0 {
		// Every row from the offset on is read anyway.
		return "SELECT " + sel + " FROM " + table + w + order + limit(q), args, nil
	}
	inner := order + limit(q)
	if q.Sort != "" && q.Offset >= reverseFrom && strings.TrimSpace(q.Search) == "" && q.Apps == AppsAll && q.SKU == "" {
		var n int
		if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table+w, args...).Scan(&n); err != nil {
			return "", nil, fmt.Errorf("count %s: %w", table, err)
		}
		if end := min(q.Offset+q.Limit, n); n-end < q.Offset {
			rq := q
			rq.Desc = !q.Desc
			rev, err := orderBy(cols, rq, natural+" DESC")
			if err != nil {
				return "", nil, err
			}
			inner = rev + fmt.Sprintf(" LIMIT %d OFFSET %d", max(end-q.Offset, 0), n-end)
		}
	}
	return "SELECT " + sel + " FROM " + table + " WHERE rowid IN (SELECT rowid FROM " + table + w + inner + ")" + order, args, nil
}

func limit(q Query) string {
	if q.Limit <= 0 {
		if q.Offset > 0 {
			return fmt.Sprintf(" LIMIT -1 OFFSET %d", q.Offset)
		}
		return ""
	}
	return fmt.Sprintf(" LIMIT %d OFFSET %d", q.Limit, max(q.Offset, 0))
}

func (s *Store) count(ctx context.Context, table, connID string, q Query) (int, error) {
	run, err := s.snapshotRun(ctx, connID, q)
	if err != nil {
		return 0, err
	}
	w, args := where(run, q.Search)
	if table == "service_principals" {
		if w, args, err = s.appsWhere(ctx, run, q, w, args); err != nil {
			return 0, err
		}
	}
	if table == "users" {
		if n, ok, err := s.indexedCount(ctx, run, q); ok || err != nil {
			return n, err
		}
		if w, args, err = s.usersWhere(ctx, run, q, false); err != nil {
			return 0, err
		}
	}
	w, args = skuWhere(table, q, w, args)
	var n int
	err = s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table+w, args...).Scan(&n)
	return n, err
}

// CountUsers counts the users matching q.Search in the snapshot.
func (s *Store) CountUsers(ctx context.Context, connID string, q Query) (int, error) {
	return s.count(ctx, "users", connID, q)
}

// CountApplications counts the applications matching q.Search.
func (s *Store) CountApplications(ctx context.Context, connID string, q Query) (int, error) {
	return s.count(ctx, "service_principals", connID, q)
}

// CountReportRows counts a report's rows matching q.Search.
func (s *Store) CountReportRows(ctx context.Context, connID string, kind ReportKind, q Query) (int, error) {
	run, err := s.snapshotRun(ctx, connID, q)
	if err != nil {
		return 0, err
	}
	if run, err = s.reportRun(ctx, run); err != nil {
		return 0, err
	}
	w, args := where(run, q.Search)
	var n int
	err = s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+Report(kind).Table+w, args...).Scan(&n)
	return n, err
}

// scanCounts reads rows of (key, count) into a map, closing them; err is
// the query's, passed on.
func scanCounts[K ~string](rows *sql.Rows, err error) (map[K]int, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[K]int{}
	for rows.Next() {
		var k K
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rows.Err()
}

// reportRun is the run whose report rows a snapshot shows: its own, or
// those of an earlier run it shares (an incremental run within
// ReportsMaxAge, see RunWriter.ShareReports).
func (s *Store) reportRun(ctx context.Context, run int64) (int64, error) {
	return sharedRun(ctx, s.db, run, "reports_run")
}

// activityRun is the run whose user_activity rows give run's snapshot
// its users' last activity: its own, or those of the run whose report
// rows it shares (activity_run), which it no longer copies.
func (s *Store) activityRun(ctx context.Context, run int64) (int64, error) {
	return sharedRun(ctx, s.db, run, "activity_run")
}

// sharedRun is the run named by run's column col (reports_run,
// activity_run), or run itself when it names none, read through q.
func sharedRun(ctx context.Context, q querier, run int64, col string) (int64, error) {
	var from int64
	if err := q.QueryRowContext(ctx, "SELECT "+col+" FROM runs WHERE id = ?", run).Scan(&from); err != nil {
		return 0, fmt.Errorf("read run %d: %w", run, err)
	}
	if from != 0 {
		return from, nil
	}
	return run, nil
}

// EachUser calls fn for every user of the page q selects, in order,
// without holding them all in memory (export). The User is reused between
// calls.
func (s *Store) EachUser(ctx context.Context, connID string, q Query, fn func(*User) error) error {
	run, err := s.snapshotRun(ctx, connID, q)
	if err != nil {
		return err
	}
	cols, err := s.userColumns(ctx, run, q)
	if err != nil {
		return err
	}
	act, err := s.activityRun(ctx, run)
	if err != nil {
		return err
	}
	stmt, args, err := s.pageSQL(ctx, "users", `id, upn, display_name, mail, account_enabled, usage_location, department,
		job_title, created, licenses, assigned_licenses, assigned_plans,
		`+userActivity(act), cols, "rowid", run, q)
	if err != nil {
		return err
	}
	dict, err := s.planDict(ctx, run)
	if err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return fmt.Errorf("read users: %w", err)
	}
	defer rows.Close()
	var u User
	for rows.Next() {
		var created sql.NullInt64
		var lic, plans string
		var last sql.NullString
		u = User{}
		if err := rows.Scan(&u.ID, &u.UserPrincipalName, &u.DisplayName, &u.Mail, &u.AccountEnabled, &u.UsageLocation,
			&u.Department, &u.JobTitle, &created, &u.Licenses, &lic, &plans, &last); err != nil {
			return err
		}
		if created.Valid {
			u.CreatedDateTime = time.Unix(0, created.Int64).UTC()
		}
		u.AssignedLicenses = decodeJSON[[]AssignedLicense](lic)
		u.AssignedPlans = decodePlans(plans, dict)
		if last.Valid {
			u.LastActivity, _ = time.Parse("2006-01-02", last.String)
		}
		if err := fn(&u); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s *Store) planDict(ctx context.Context, run int64) ([]planKey, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT idx, service, service_plan_id, capability_status FROM plan_dict WHERE run_id = ? ORDER BY idx", run)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var dict []planKey
	for rows.Next() {
		var idx int
		var k planKey
		if err := rows.Scan(&idx, &k.service, &k.planID, &k.status); err != nil {
			return nil, err
		}
		if idx != len(dict) {
			return nil, fmt.Errorf("the plan dictionary of run %d has a gap at %d", run, len(dict))
		}
		dict = append(dict, k)
	}
	return dict, rows.Err()
}

// Users returns the users q selects.
func (s *Store) Users(ctx context.Context, connID string, q Query) ([]User, error) {
	var out []User
	err := s.EachUser(ctx, connID, q, func(u *User) error { out = append(out, *u); return nil })
	return out, err
}

// EachApplication calls fn for every application q selects.
func (s *Store) EachApplication(ctx context.Context, connID string, q Query, fn func(*ServicePrincipal) error) error {
	run, err := s.snapshotRun(ctx, connID, q)
	if err != nil {
		return err
	}
	stmt, args, err := s.pageSQL(ctx, "service_principals", `id, app_id, display_name, app_display_name, publisher_name,
		app_owner_organization_id, service_principal_type, account_enabled, tags`, ApplicationColumns, "rowid", run, q)
	if err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return fmt.Errorf("read applications: %w", err)
	}
	defer rows.Close()
	var p ServicePrincipal
	for rows.Next() {
		var tags string
		p = ServicePrincipal{}
		if err := rows.Scan(&p.ID, &p.AppID, &p.DisplayName, &p.AppDisplayName, &p.PublisherName,
			&p.AppOwnerOrganizationID, &p.ServicePrincipalType, &p.AccountEnabled, &tags); err != nil {
			return err
		}
		p.Tags = decodeJSON[[]string](tags)
		if err := fn(&p); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Applications returns the applications q selects.
func (s *Store) Applications(ctx context.Context, connID string, q Query) ([]ServicePrincipal, error) {
	var out []ServicePrincipal
	err := s.EachApplication(ctx, connID, q, func(p *ServicePrincipal) error { out = append(out, *p); return nil })
	return out, err
}

// Licenses returns the subscribed SKUs with their figures. Search matches
// the part number, SKU id and service plan names.
func (s *Store) Licenses(ctx context.Context, connID string, q Query) ([]License, error) {
	run, err := s.snapshotRun(ctx, connID, q)
	if err != nil {
		return nil, err
	}
	return s.licensesOf(ctx, run, q)
}

// licensesOf is Licenses of a run already checked (or being finished).
func (s *Store) licensesOf(ctx context.Context, run int64, q Query) ([]License, error) {
	order, err := orderBy(LicenseColumns, q, "rowid")
	if err != nil {
		return nil, err
	}
	args := []any{run}
	w := " WHERE run_id = ?"
	if t := strings.ToLower(strings.TrimSpace(q.Search)); t != "" {
		w += ` AND (instr(lower(sku_part_number), ?2) > 0 OR instr(lower(sku_id), ?2) > 0 OR instr(lower(account_name), ?2) > 0
			OR EXISTS (SELECT 1 FROM sku_plans p WHERE p.run_id = skus.run_id AND p.sku_id = skus.sku_id AND instr(lower(p.service_plan_name), ?2) > 0))`
		args = append(args, t)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT sku_id, id, sku_part_number, account_name, account_id, applies_to, capability_status,
		consumed_units, prepaid_enabled, prepaid_suspended, prepaid_warning, prepaid_locked_out, subscription_ids,
		assigned, active, usage_known FROM skus`+w+order+limit(q), args...)
	if err != nil {
		return nil, fmt.Errorf("read licenses: %w", err)
	}
	var out []License
	for rows.Next() {
		var l License
		var subs string
		if err := rows.Scan(&l.SkuID, &l.ID, &l.SkuPartNumber, &l.AccountName, &l.AccountID, &l.AppliesTo, &l.CapabilityStatus,
			&l.ConsumedUnits, &l.PrepaidUnits.Enabled, &l.PrepaidUnits.Suspended, &l.PrepaidUnits.Warning, &l.PrepaidUnits.LockedOut,
			&subs, &l.Assigned, &l.Active, &l.UsageKnown); err != nil {
			rows.Close()
			return nil, err
		}
		l.SubscriptionIDs = decodeJSON[[]string](subs)
		l.Purchased = l.PrepaidUnits.Purchased()
		l.Unassigned = l.Purchased - l.Assigned
		l.Inactive = l.Assigned - l.Active
		out = append(out, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	asOf, err := s.activityAsOf(ctx, run)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].ActivityAsOf = asOf
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		prow, err := s.db.QueryContext(ctx, `SELECT service_plan_id, service_plan_name, provisioning_status, applies_to
			FROM sku_plans WHERE run_id = ? AND sku_id = ? ORDER BY position`, run, out[i].SkuID)
		if err != nil {
			return nil, err
		}
		for prow.Next() {
			var p ServicePlan
			if err := prow.Scan(&p.ServicePlanID, &p.ServicePlanName, &p.ProvisioningStatus, &p.AppliesTo); err != nil {
				prow.Close()
				return nil, err
			}
			out[i].ServicePlans = append(out[i].ServicePlans, p)
		}
		prow.Close()
	}
	return out, nil
}

// EachReportRow calls fn for every row of a report q selects. The row is
// reused between calls.
func (s *Store) EachReportRow(ctx context.Context, connID string, kind ReportKind, q Query, fn func(*ReportRow) error) error {
	spec := Report(kind)
	run, err := s.snapshotRun(ctx, connID, q)
	if err != nil {
		return err
	}
	if run, err = s.reportRun(ctx, run); err != nil {
		return err
	}
	names := make([]string, len(spec.Columns))
	for i, c := range spec.Columns {
		names[i] = c.Name
	}
	stmt, args, err := s.pageSQL(ctx, spec.Table, "extras, "+strings.Join(names, ", "), ReportColumns(kind), "row", run, q)
	if err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return fmt.Errorf("read %s rows: %w", spec.Title, err)
	}
	defer rows.Close()
	vals := make([]any, len(spec.Columns)+1)
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	r := ReportRow{Cells: make([]string, len(spec.Columns))}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		r.Extras = nil
		if e := cellText(Text, vals[0]); e != "" {
			r.Extras = decodeJSON[map[string]string](e)
		}
		for i, c := range spec.Columns {
			r.Cells[i] = cellText(c.Type, vals[i+1])
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ReportRows returns the rows of a report q selects.
func (s *Store) ReportRows(ctx context.Context, connID string, kind ReportKind, q Query) ([]ReportRow, error) {
	var out []ReportRow
	err := s.EachReportRow(ctx, connID, kind, q, func(r *ReportRow) error {
		c := *r
		c.Cells = append([]string(nil), r.Cells...)
		out = append(out, c)
		return nil
	})
	return out, err
}

const runCols = `r.id, r.connection_id, r.connection_name, r.trigger, r.started, r.ended, r.status, r.users, r.assignments, r.skus,
	r.service_principals, r.active_user_rows, r.activation_rows, r.app_usage_rows, r.warnings, r.error, r.note,
	EXISTS (SELECT 1 FROM current c WHERE c.run_id = r.id), r.mode, r.activity_as_of, r.sign_ins`

func scanRun(sc interface{ Scan(...any) error }) (Run, error) {
	var r Run
	var started int64
	var ended sql.NullInt64
	var warnings, trig, status string
	err := sc.Scan(&r.ID, &r.ConnectionID, &r.ConnectionName, &trig, &started, &ended, &status,
		&r.Counts.Users, &r.Counts.Assignments, &r.Counts.SKUs, &r.Counts.ServicePrincipals,
		&r.Counts.ActiveUserRows, &r.Counts.ActivationRows, &r.Counts.AppUsageRows, &warnings, &r.Error, &r.Note, &r.Current, &r.Mode, &r.ActivityAsOf, &r.SignIns)
	if err != nil {
		return r, err
	}
	r.Trigger, r.Status = Trigger(trig), Status(status)
	r.Started = time.Unix(0, started)
	if ended.Valid {
		r.Ended = time.Unix(0, ended.Int64)
	}
	r.Warnings = decodeJSON[[]string](warnings)
	return r, nil
}

// Run returns one run.
func (s *Store) Run(ctx context.Context, id int64) (Run, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, "SELECT "+runCols+" FROM runs r WHERE r.id = ?", id))
	if err != nil {
		return r, fmt.Errorf("read run %d: %w", id, err)
	}
	return r, nil
}

// History returns runs, newest first: of one connection, or of all when
// connID is empty. limit 0 means all.
func (s *Store) History(ctx context.Context, connID string, limit int) ([]Run, error) {
	q := "SELECT " + runCols + " FROM runs r"
	var args []any
	if connID != "" {
		q += " WHERE r.connection_id = ?"
		args = append(args, connID)
	}
	q += " ORDER BY r.id DESC"
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read import history: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// LastRuns returns each connection's latest run, by connection id.
func (s *Store) LastRuns(ctx context.Context) (map[string]Run, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+runCols+` FROM runs r
		WHERE r.id = (SELECT MAX(id) FROM runs x WHERE x.connection_id = r.connection_id)`)
	if err != nil {
		return nil, fmt.Errorf("read last runs: %w", err)
	}
	defer rows.Close()
	out := map[string]Run{}
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out[r.ConnectionID] = r
	}
	return out, rows.Err()
}

// Failing is a connection whose latest imports failed one after another.
type Failing struct {
	Since time.Time // when the first of them started
	Runs  int       // how many failed
}

// FailingConnections returns, by connection id, the connections whose
// imports failed since their last import that ended otherwise (succeeded,
// with warnings, or cancelled; skipped and running runs say nothing of the
// connection). A schedule on a connection that cannot sign in fails every
// few minutes: the window shows for how long, and notifies only the first
// time (issue 23 item 8).
func (s *Store) FailingConnections(ctx context.Context) (map[string]Failing, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT r.connection_id, MIN(r.started), COUNT(*) FROM runs r
		WHERE r.status = ? AND r.id > COALESCE((SELECT MAX(x.id) FROM runs x
			WHERE x.connection_id = r.connection_id AND x.status IN (?, ?, ?)), 0)
		GROUP BY r.connection_id`,
		string(StatusFailed), string(StatusSucceeded), string(StatusWarnings), string(StatusCancelled))
	if err != nil {
		return nil, fmt.Errorf("read failing connections: %w", err)
	}
	defer rows.Close()
	out := map[string]Failing{}
	var id string
	var since int64
	var runs int
	for rows.Next() {
		if err := rows.Scan(&id, &since, &runs); err != nil {
			return nil, fmt.Errorf("read failing connections: %w", err)
		}
		out[id] = Failing{Since: time.Unix(0, since), Runs: runs}
	}
	return out, rows.Err()
}

// LatestRun returns the connection's newest run started by trigger (any
// trigger when empty) whose status is not among skip; ok is false when
// there is none.
func (s *Store) LatestRun(ctx context.Context, connID string, trigger Trigger, skip ...Status) (Run, bool, error) {
	q := "SELECT " + runCols + " FROM runs r WHERE r.connection_id = ?"
	args := []any{connID}
	if trigger != "" {
		q += " AND r.trigger = ?"
		args = append(args, string(trigger))
	}
	for _, st := range skip {
		q += " AND r.status <> ?"
		args = append(args, string(st))
	}
	r, err := scanRun(s.db.QueryRowContext(ctx, q+" ORDER BY r.id DESC LIMIT 1", args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, false, nil
	}
	if err != nil {
		return Run{}, false, fmt.Errorf("read the latest run: %w", err)
	}
	return r, true, nil
}

// CurrentRun returns the run whose snapshot the data pages show.
func (s *Store) CurrentRun(ctx context.Context, connID string) (Run, error) {
	id, err := s.snapshotRun(ctx, connID, Query{})
	if err != nil {
		return Run{}, err
	}
	return s.Run(ctx, id)
}
