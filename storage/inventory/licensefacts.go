package inventory

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"
)

// Workload indexes LicenseUser.Activity: the per-workload last activity
// dates of the usage reports that licence reclamation reads (issue 17).
type Workload int

const (
	WorkloadExchange Workload = iota
	WorkloadOneDrive
	WorkloadSharePoint
	WorkloadTeams
	WorkloadYammer
	WorkloadOfficeApps // getM365AppUserDetail's Last Activity Date
	NumWorkloads
)

// workloadColumns are, per report, the columns workloadActivity reads.
var workloadColumns = map[ReportKind][]struct {
	header string
	wl     Workload
}{
	ReportActiveUsers: {{"Exchange Last Activity Date", WorkloadExchange}, {"OneDrive Last Activity Date", WorkloadOneDrive},
		{"SharePoint Last Activity Date", WorkloadSharePoint}, {"Teams Last Activity Date", WorkloadTeams},
		{"Yammer Last Activity Date", WorkloadYammer}},
	ReportAppUsage: {{"Last Activity Date", WorkloadOfficeApps}},
}

// LicenseFacts is what reclamation needs of a snapshot, read in one pass.
type LicenseFacts struct {
	Run Run
	// UsageKnown says the snapshot's usage reports name their users;
	// UsageProblem says why not otherwise.
	UsageKnown   bool
	UsageProblem string
	Licenses     []License
	// Groups names the groups that assign licences, by object id.
	Groups map[string]string
	Users  []LicenseUser
}

// LicenseUser is one user of LicenseFacts.
type LicenseUser struct {
	UPN, DisplayName, Department string
	Enabled                      bool
	// Guest: userType Guest, or for snapshots of earlier builds (no user
	// type) a B2B name (#EXT#).
	Guest   bool
	Created time.Time
	// SkuIDs are the assigned licences; States the assignment states
	// when some licence came through a group or failed (else nil: all
	// direct).
	SkuIDs   []string
	States   []LicenseAssignmentState
	Activity [NumWorkloads]time.Time
	SignIn   SignIn

	key string // upn_key, while reading
}

// LicenseFacts reads the facts of a connection's current snapshot (or of
// q.RunID).
func (s *Store) LicenseFacts(ctx context.Context, connID string, q Query) (*LicenseFacts, error) {
	run, err := s.snapshotRun(ctx, connID, q)
	if err != nil {
		return nil, err
	}
	return s.licenseFactsOf(ctx, run)
}

// licenseFactsHead is LicenseFacts of a run without its users, and the
// run whose report rows give their activity. fix sets what the record of
// the run Finish is making current does not say yet (for its history).
func (s *Store) licenseFactsHead(ctx context.Context, run int64, fix func(*Run)) (*LicenseFacts, int64, error) {
	f := &LicenseFacts{Groups: map[string]string{}}
	var err error
	if f.Run, err = s.Run(ctx, run); err != nil {
		return nil, 0, err
	}
	if fix != nil {
		fix(&f.Run)
	}
	if f.Licenses, err = s.licensesOf(ctx, run, Query{}); err != nil {
		return nil, 0, err
	}
	for _, l := range f.Licenses {
		f.UsageKnown = f.UsageKnown || l.UsageKnown
	}
	if !f.UsageKnown {
		f.UsageProblem = usageProblem(f.Run)
	}
	reports, err := s.reportRun(ctx, run)
	if err != nil {
		return nil, 0, err
	}
	grows, err := s.db.QueryContext(ctx, "SELECT id, display_name FROM license_groups WHERE run_id = ?", run)
	if err != nil {
		return nil, 0, fmt.Errorf("read licensing groups: %w", err)
	}
	for grows.Next() {
		var id, name string
		if err := grows.Scan(&id, &name); err != nil {
			grows.Close()
			return nil, 0, err
		}
		f.Groups[strings.ToLower(id)] = name
	}
	grows.Close()
	return f, reports, grows.Err()
}

// licenseFactsOf is LicenseFacts of a run already checked.
func (s *Store) licenseFactsOf(ctx context.Context, run int64) (*LicenseFacts, error) {
	f, reports, err := s.licenseFactsHead(ctx, run, nil)
	if err != nil {
		return nil, err
	}

	// The reports are read apart and matched in memory: their tables are
	// indexed on the run only (an index by name would cost every import),
	// so a join by user principal name would scan them once per user.
	// They are read beside the users, on another connection.
	type result struct {
		m   map[string][NumWorkloads]time.Time
		err error
	}
	got := make(chan result, 1)
	go func() {
		m, err := s.workloadActivity(ctx, reports)
		got <- result{m, err}
	}()
	var users []LicenseUser
	err = s.licensedUsers(ctx, run, f.Run, 0, func(us []LicenseUser) error {
		users = us
		return nil
	})
	act := <-got
	if err != nil {
		return nil, err
	}
	if act.err != nil {
		return nil, act.err
	}
	for i := range users {
		users[i].Activity = act.m[users[i].key]
		users[i].key = ""
	}
	f.Users = users
	return f, nil
}

// licensedUsers reads the users holding or failing to get a licence, with
// their sign-ins when the run read them, and hands them to each: chunk at
// a time (0: all at once). Each TEXT column costs the driver an
// allocation per row, so only what the page shows is read.
func (s *Store) licensedUsers(ctx context.Context, run int64, r Run, chunk int, each func([]LicenseUser) error) error {
	users, err := usersOfRowidOrder(ctx, s.db, "u.", run)
	if err != nil {
		return err
	}
	return s.licensedUsersOf(ctx, run, r, users, true, chunk, each)
}

// licensedUsersOf is licensedUsers of the users rows the condition users
// selects (columns prefixed "u."), without DisplayName and Department
// unless names (the history's figures are counts: HistoryFunc).
func (s *Store) licensedUsersOf(ctx context.Context, run int64, r Run, users string, names bool, chunk int, each func([]LicenseUser) error) error {
	nameCols := "'', ''"
	if names {
		nameCols = "u.display_name, u.department"
	}
	signIns := "NULL, NULL, NULL"
	join := ""
	if r.SignIns == SignInsRead {
		signIns = "si.interactive, si.non_interactive, si.successful"
		join = fmt.Sprintf(" LEFT JOIN sign_ins si ON si.run_id = %d AND si.user_id = u.id", run)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT u.upn, u.upn_key, `+nameCols+`, u.account_enabled,
		u.user_type = 'Guest' OR u.user_type = '' AND instr(upper(u.upn), '#EXT#') > 0, u.created,
		u.assigned_licenses, u.license_states, `+signIns+`
		FROM users u`+join+`
		WHERE `+users+` AND (u.assigned_licenses <> '[]' OR u.license_states <> '')
		ORDER BY u.rowid`)
	if err != nil {
		return fmt.Errorf("read licensed users: %w", err)
	}
	defer rows.Close()
	size := r.Counts.Users
	if chunk > 0 {
		size = min(size, chunk)
	}
	out := make([]LicenseUser, 0, size)
	var (
		licenses, states       string
		created                sql.NullInt64
		inter, nonInter, succe sql.NullInt64
	)
	for rows.Next() {
		var u LicenseUser
		if err := rows.Scan(&u.UPN, &u.key, &u.DisplayName, &u.Department, &u.Enabled, &u.Guest, &created,
			&licenses, &states, &inter, &nonInter, &succe); err != nil {
			return err
		}
		if created.Valid {
			u.Created = time.Unix(0, created.Int64).UTC()
		}
		u.SkuIDs = licenseSkuIDs(licenses)
		u.States = decodeLicenseStates(states)
		u.SignIn = SignIn{Interactive: unixTime(inter), NonInteractive: unixTime(nonInter), Successful: unixTime(succe)}
		out = append(out, u)
		if chunk > 0 && len(out) == chunk {
			if err := each(out); err != nil {
				return err
			}
			out = make([]LicenseUser, 0, size) // each may keep them
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(out) > 0 || chunk == 0 {
		return each(out)
	}
	return nil
}

// workloadActivity reads the last activity date per workload of every
// user in a run's usage reports, by upn_key (the latest when a name
// appears twice).
func (s *Store) workloadActivity(ctx context.Context, run int64) (map[string][NumWorkloads]time.Time, error) {
	return s.workloadActivityOf(ctx, run, nil)
}

// workloadActivityOf is workloadActivity of the users whose upn_key is in
// keys (nil: all).
func (s *Store) workloadActivityOf(ctx context.Context, run int64, keys []string) (map[string][NumWorkloads]time.Time, error) {
	of, args := "", []any{run}
	if keys != nil {
		list, err := json.Marshal(keys)
		if err != nil {
			return nil, err
		}
		// The reports are indexed by run only: the run's rows are scanned,
		// but only the names asked for reach Go.
		of, args = " AND upn_key IN (SELECT value FROM json_each(?))", append(args, string(list))
	}
	read := func(out map[string][NumWorkloads]time.Time, query string, workloads ...Workload) error {
		rows, err := s.db.QueryContext(ctx, query+of, args...)
		if err != nil {
			return fmt.Errorf("read usage for reclamation: %w", err)
		}
		defer rows.Close()
		var key string
		cells := make([]sql.NullString, len(workloads))
		dest := []any{&key}
		for i := range cells {
			dest = append(dest, &cells[i])
		}
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			a := out[key]
			for i, w := range workloads {
				if !cells[i].Valid || cells[i].String == "" {
					continue
				}
				if d, err := time.Parse(DateLayout, cells[i].String); err == nil && d.After(a[w]) {
					a[w] = d
				}
			}
			out[key] = a
		}
		return rows.Err()
	}
	activeUsers := func(out map[string][NumWorkloads]time.Time) error {
		return read(out, `SELECT upn_key, exchange_last_activity_date, onedrive_last_activity_date, sharepoint_last_activity_date,
		teams_last_activity_date, yammer_last_activity_date FROM `+Report(ReportActiveUsers).Table+` WHERE run_id = ? AND concealed = 0`,
			WorkloadExchange, WorkloadOneDrive, WorkloadSharePoint, WorkloadTeams, WorkloadYammer)
	}
	appUsage := func(out map[string][NumWorkloads]time.Time) error {
		return read(out, `SELECT upn_key, last_activity_date FROM `+Report(ReportAppUsage).Table+` WHERE run_id = ? AND concealed = 0`,
			WorkloadOfficeApps)
	}
	out := map[string][NumWorkloads]time.Time{}
	if keys == nil || !s.pg {
		// One map for the whole snapshot (two would hold every user
		// twice), SQLite's reads one after the other anyway.
		if err := activeUsers(out); err != nil {
			return nil, err
		}
		if err := appUsage(out); err != nil {
			return nil, err
		}
		return out, nil
	}
	// A few users (an incremental run's changes): the two scans of the
	// run's report rows, 0.5-1 s each at 1,000,000 users, at once on
	// two connections, the server's work on two cores.
	apps := map[string][NumWorkloads]time.Time{}
	appsErr := make(chan error, 1)
	go func() { appsErr <- appUsage(apps) }()
	err := activeUsers(out)
	if aerr := <-appsErr; err == nil {
		err = aerr
	}
	if err != nil {
		return nil, err
	}
	for key, b := range apps {
		a := out[key]
		for i := range b {
			if b[i].After(a[i]) {
				a[i] = b[i]
			}
		}
		out[key] = a
	}
	return out, nil
}

// licenseSkuIDs is the skuIds of an assigned_licenses column, in order.
func licenseSkuIDs(col string) []string {
	return slices.Collect(eachSkuID(col))
}

// skuIDKey comes before each skuId in an assigned_licenses column.
const skuIDKey = `"skuId":"`

// eachSkuID yields the skuIds of an assigned_licenses column in order,
// each a piece of col (nothing is copied), without encoding/json, which
// cost a third of reading 100,000 users. The column is written by
// appendLicenses, whose strings are escaped: skuIDKey cannot occur inside
// a value, nor can a quote. A column cut short yields the skuIds whose
// closing quote it holds. One scanner for both forms of the column:
// staging holds it as bytes, the licence figures read it as a string.
func eachSkuID[T string | []byte](col T) iter.Seq[T] {
	return func(yield func(T) bool) {
		for {
			i := indexKey(col, skuIDKey)
			if i < 0 {
				return
			}
			col = col[i+len(skuIDKey):]
			j := indexQuote(col)
			if j < 0 || !yield(col[:j]) {
				return
			}
			col = col[j+1:]
		}
	}
}

// indexKey is strings.Index or bytes.Index, as col is.
func indexKey[T string | []byte](col T, key string) int {
	switch c := any(col).(type) {
	case string:
		return strings.Index(c, key)
	case []byte:
		return bytes.Index(c, []byte(key))
	}
	return -1
}

// indexQuote is the first '"' in col, or -1.
func indexQuote[T string | []byte](col T) int {
	switch c := any(col).(type) {
	case string:
		return strings.IndexByte(c, '"')
	case []byte:
		return bytes.IndexByte(c, '"')
	}
	return -1
}

func unixTime(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

// usageProblem says, in the administrator's words, why a snapshot's usage
// cannot tell who is inactive.
func usageProblem(r Run) string {
	if r.Counts.ActiveUserRows == 0 {
		return "This snapshot has no usage reports (the connection may lack Reports.Read.All, or the reports failed), " +
			"so nobody can be called inactive from them."
	}
	// Rows, yet usage unknown: the names in them are concealed (derive).
	return "The usage reports hide user names, so nobody can be matched to their activity. " +
		"In the Microsoft 365 admin center, Settings › Org settings › Reports, clear " +
		"\"Display concealed user, group, and site names in all reports\", then import again."
}
