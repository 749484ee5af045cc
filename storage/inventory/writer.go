package inventory

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// RunInfo names what a run imports and why.
type RunInfo struct {
	ConnectionID   string
	ConnectionName string
	Trigger        Trigger
	// Note is shown with the run in the import history (e.g. why a
	// scheduled run happened late).
	Note string
}

// RunWriter stages one run's snapshot. Its Add methods take a page of
// objects and write it in one short transaction; they are safe for
// concurrent use (calls are serialised), so a pipelined importer may feed
// it from several goroutines. Finish ends the run.
type RunWriter struct {
	s       *Store
	id      int64
	info    RunInfo
	started time.Time

	mu      sync.Mutex
	conn    *sql.Conn
	stmts   map[string]*sql.Stmt
	counts  Counts
	skuPart map[string]string // skuId -> skuPartNumber, for users' Licenses column
	rowNo   map[ReportKind]int
	// refresh is each report's latest Report Refresh Date and
	// concealedRows its rows with a concealed-looking name, tracked while
	// staging so finishing needs no scan of the rows.
	refresh       map[ReportKind]string
	concealedRows map[ReportKind]int
	finished      bool
	lbuf          []string
	plans         *planCodec
	pbuf          []byte
	// assigned counts license assignments per lower-case skuId; a page
	// rolled back makes the run fail, so it needs no undo.
	assigned map[string]int
	// reportsFrom is the run whose report rows this one shares (0: none),
	// activityFrom the run whose users' last activity (derived from the
	// same rows) is copied instead of derived again.
	reportsFrom, activityFrom int64
	// changing says BeginUserChanges staged a previous snapshot's users.
	changing bool
	// activity is, per report with activity dates, each lower-case user
	// principal name's latest date, tracked while staging so Finish
	// writes the users' last activity without reading the rows again.
	activity map[ReportKind]map[string]string
	// staged is the latest activity over all reports once StageActivity
	// wrote it (nil before, and again after DiscardReport undoes it).
	staged map[string]string
	// licensed is, per lower-case user principal name, the bit set of the
	// user's SKUs (bits from skuBit), kept while staging a full listing
	// so Finish counts each SKU's active users without reading the
	// users back. Runs that copy users in SQL (incremental) or tenants
	// with more than 64 SKUs use the SQL count instead (licensedOff).
	licensed    map[string]uint64
	skuBit      map[string]uint8
	licensedOff bool
	// bulks are the prepared multi-row INSERTs (bulk.go).
	bulks map[bulkKey]*bulk
	// sbuf builds the users' search texts.
	sbuf []byte

	// smu guards what report staging tracks outside the writer's lock:
	// rowNo, refresh, concealedRows, activity, and the argument buffers
	// rargs and rsbuf. When both are needed, mu is taken first.
	smu   sync.Mutex
	rargs map[ReportKind][]driver.NamedValue
	rsbuf []byte
}

// BeginRun records a new run as running and returns its writer.
func (s *Store) BeginRun(ctx context.Context, info RunInfo) (*RunWriter, error) {
	if info.ConnectionID == "" {
		return nil, errors.New("inventory: a run needs a connection id")
	}
	started := s.now()
	res, err := s.db.ExecContext(ctx, `INSERT INTO runs (connection_id, connection_name, trigger, started, status, snapshot, pid, host, note)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		info.ConnectionID, info.ConnectionName, string(info.Trigger), started.UnixNano(), StatusRunning, snapStaging, os.Getpid(), s.host, info.Note)
	if err != nil {
		return nil, fmt.Errorf("record the start of the import in %s: %w", s.path, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, err
	}
	// One pinned connection keeps the prepared statements valid across
	// the run's many short transactions.
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	w := &RunWriter{s: s, id: id, info: info, started: started, conn: conn,
		stmts: map[string]*sql.Stmt{}, skuPart: map[string]string{}, rowNo: map[ReportKind]int{},
		plans: newPlanCodec(), assigned: map[string]int{}, refresh: map[ReportKind]string{}, concealedRows: map[ReportKind]int{},
		activity: map[ReportKind]map[string]string{}, bulks: map[bulkKey]*bulk{}, rargs: map[ReportKind][]driver.NamedValue{},
		licensed: map[string]uint64{}, skuBit: map[string]uint8{}}
	return w, nil
}

// ID is the run's id.
func (w *RunWriter) ID() int64 { return w.id }

// Started is when the run began.
func (w *RunWriter) Started() time.Time { return w.started }

// Counts returns what has been staged so far.
func (w *RunWriter) Counts() Counts {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.counts
}

func (w *RunWriter) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := w.stmts[query]; ok {
		return st, nil
	}
	st, err := w.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	w.stmts[query] = st
	return st, nil
}

// batch runs fn inside one write transaction on the pinned connection.
//
// committed and rolledBack, if given, let in-memory state follow the
// transaction's fate (the plan dictionary's new entries).
func (w *RunWriter) batch(ctx context.Context, what string, fn func() error, hooks ...func()) error {
	committed, rolledBack := func() {}, func() {}
	if len(hooks) == 2 {
		committed, rolledBack = hooks[0], hooks[1]
	}
	if w.finished {
		return errors.New("inventory: the run has already finished")
	}
	if _, err := w.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("write %s to the inventory database: %w", what, err)
	}
	if err := fn(); err != nil {
		// The rollback must run even when ctx is cancelled.
		_, _ = w.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		rolledBack()
		return fmt.Errorf("write %s to the inventory database: %w", what, err)
	}
	if _, err := w.conn.ExecContext(ctx, "COMMIT"); err != nil {
		_, _ = w.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		rolledBack()
		return fmt.Errorf("write %s to the inventory database: %w", what, err)
	}
	committed()
	return nil
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

func nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// AddSKUs stages subscribed SKUs with their service plans. Stage SKUs
// before users so the users' Licenses column can name them.
func (w *RunWriter) AddSKUs(ctx context.Context, skus []SKU) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.batch(ctx, "licenses", func() error {
		ins, err := w.stmt(ctx, `INSERT INTO skus (run_id, sku_id, id, sku_part_number, account_name, account_id, applies_to,
			capability_status, consumed_units, prepaid_enabled, prepaid_suspended, prepaid_warning, prepaid_locked_out, subscription_ids)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		plan, err := w.stmt(ctx, `INSERT INTO sku_plans (run_id, sku_id, position, service_plan_id, service_plan_name, provisioning_status, applies_to)
			VALUES (?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		for i := range skus {
			k := &skus[i]
			if _, err := ins.ExecContext(ctx, w.id, k.SkuID, k.ID, k.SkuPartNumber, k.AccountName, k.AccountID, k.AppliesTo,
				k.CapabilityStatus, k.ConsumedUnits, k.PrepaidUnits.Enabled, k.PrepaidUnits.Suspended, k.PrepaidUnits.Warning,
				k.PrepaidUnits.LockedOut, jsonText(nonNil(k.SubscriptionIDs))); err != nil {
				return fmt.Errorf("SKU %s: %w", k.SkuPartNumber, err)
			}
			for j, p := range k.ServicePlans {
				if _, err := plan.ExecContext(ctx, w.id, k.SkuID, j, p.ServicePlanID, p.ServicePlanName, p.ProvisioningStatus, p.AppliesTo); err != nil {
					return err
				}
			}
			w.skuPart[strings.ToLower(k.SkuID)] = k.SkuPartNumber
		}
		w.counts.SKUs += len(skus)
		return nil
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// licenseNames is the users' Licenses column: part numbers, sorted.
func (w *RunWriter) licenseNames(ls []AssignedLicense) string {
	if len(ls) == 0 {
		return ""
	}
	names := w.lbuf[:0]
	for _, l := range ls {
		n, ok := w.skuPart[strings.ToLower(l.SkuID)]
		if !ok {
			n = l.SkuID
		}
		names = append(names, n)
	}
	sort.Strings(names)
	w.lbuf = names
	return strings.Join(names, "+")
}

// lowerJoin is the search text of a row: its parts joined by newlines,
// lower-cased, built in the reused buffer *buf: one allocation per row
// instead of a builder's and ToLower's (the reports' rows are a third of
// a million per 100,000 users).
func lowerJoin(buf *[]byte, parts ...string) string {
	b := (*buf)[:0]
	ascii := true
	for i, p := range parts {
		if i > 0 {
			b = append(b, '\n')
		}
		for j := 0; j < len(p); j++ {
			c := p[j]
			if c >= 0x80 {
				ascii = false
			} else if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
		}
	}
	*buf = b
	if !ascii {
		return strings.ToLower(string(b)) // Unicode case rules: the rare case
	}
	return string(b)
}

// usersPerInsert is how many users one INSERT statement carries: binding
// a multi-row statement costs far less per row than executing one
// statement per row through database/sql.
const usersPerInsert = 32

const userCols = 15

func valuesList(rows, cols int) string {
	one := "(?" + strings.Repeat(", ?", cols-1) + ")"
	return one + strings.Repeat(", "+one, rows-1)
}

// AddUsers stages a page of users with their license assignments.
func (w *RunWriter) AddUsers(ctx context.Context, users []User) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.batch(ctx, "users", func() error { return w.insertUsers(ctx, users) },
		func() { w.plans.fresh = w.plans.fresh[:0] }, func() { w.plans.rollback() })
}

// noteLicensed records a staged user's SKUs for counting active users.
func (w *RunWriter) noteLicensed(key string, ls []AssignedLicense) {
	if w.licensedOff || len(ls) == 0 {
		return
	}
	var mask uint64
	for _, l := range ls {
		sku := strings.ToLower(l.SkuID)
		bit, ok := w.skuBit[sku]
		if !ok {
			if len(w.skuBit) == 64 {
				w.licensedOff, w.licensed = true, nil
				return
			}
			bit = uint8(len(w.skuBit))
			w.skuBit[sku] = bit
		}
		mask |= 1 << bit
	}
	if old, ok := w.licensed[key]; ok {
		w.licensed[key] = old | mask
		return
	}
	// A copy: an already lower-case name shares the decoded user's block
	// of strings, which the key would keep alive until Finish.
	w.licensed[strings.Clone(key)] = mask
}

// userColumns are the users table's columns, in the order insertUsers
// binds them.
var userColumns = []string{"run_id", "id", "upn", "upn_key", "display_name", "mail", "account_enabled", "usage_location",
	"department", "job_title", "created", "licenses", "assigned_licenses", "assigned_plans", "search"}

// insertUsers writes users inside the caller's transaction (w.mu held).
func (w *RunWriter) insertUsers(ctx context.Context, users []User) error {
	assignments := 0
	for start := 0; start < len(users); start += usersPerInsert {
		chunk := users[start:min(start+usersPerInsert, len(users))]
		ins, err := w.bulkInsert(ctx, "users", userColumns, len(chunk))
		if err != nil {
			return err
		}
		for i := range chunk {
			u := &chunk[i]
			names := w.licenseNames(u.AssignedLicenses)
			w.pbuf = w.plans.encode(w.pbuf[:0], u.AssignedPlans)
			key := strings.ToLower(u.UserPrincipalName)
			w.noteLicensed(key, u.AssignedLicenses)
			ins.add(w.id)
			ins.add(u.ID)
			ins.add(u.UserPrincipalName)
			ins.add(key)
			ins.add(u.DisplayName)
			ins.add(u.Mail)
			ins.add(u.AccountEnabled)
			ins.add(u.UsageLocation)
			ins.add(u.Department)
			ins.add(u.JobTitle)
			ins.add(nanos(u.CreatedDateTime))
			ins.add(names)
			ins.add(encodeLicenses(u.AssignedLicenses))
			ins.add(string(w.pbuf))
			ins.add(lowerJoin(&w.sbuf, u.UserPrincipalName, u.DisplayName, u.Mail, u.Department, u.JobTitle, u.UsageLocation, names))
			assignments += len(u.AssignedLicenses)
			for _, l := range u.AssignedLicenses {
				w.assigned[strings.ToLower(l.SkuID)]++
			}
		}
		if err := ins.run(ctx, w); err != nil {
			return fmt.Errorf("users %s to %s: %w", chunk[0].ID, chunk[len(chunk)-1].ID, err)
		}
	}
	if len(w.plans.fresh) > 0 {
		dict, err := w.stmt(ctx, `INSERT INTO plan_dict (run_id, idx, service, service_plan_id, capability_status) VALUES (?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		for _, idx := range w.plans.fresh {
			k := w.plans.entries[idx]
			if _, err := dict.ExecContext(ctx, w.id, idx, k.service, k.planID, k.status); err != nil {
				return err
			}
		}
	}
	w.counts.Users += len(users)
	w.counts.Assignments += assignments
	return nil
}

// AddServicePrincipals stages a page of applications.
func (w *RunWriter) AddServicePrincipals(ctx context.Context, sps []ServicePrincipal) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.batch(ctx, "applications", func() error {
		ins, err := w.stmt(ctx, `INSERT INTO service_principals (run_id, id, app_id, display_name, app_display_name, publisher_name,
			app_owner_organization_id, service_principal_type, account_enabled, tags, search)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		for i := range sps {
			p := &sps[i]
			if _, err := ins.ExecContext(ctx, w.id, p.ID, p.AppID, p.DisplayName, p.AppDisplayName, p.PublisherName,
				p.AppOwnerOrganizationID, p.ServicePrincipalType, p.AccountEnabled, encodeList(p.Tags),
				lowerJoin(&w.sbuf, p.DisplayName, p.AppDisplayName, p.PublisherName, p.AppID, p.ServicePrincipalType)); err != nil {
				return fmt.Errorf("application %s: %w", p.ID, err)
			}
		}
		w.counts.ServicePrincipals += len(sps)
		return nil
	})
}

// reportRowsPerInsert is how many report rows one INSERT carries (wide
// rows: SQLite allows 32766 parameters per statement).
const reportRowsPerInsert = 16

// AddReportRows stages rows of a usage report, in report order. Calls for
// one report must not overlap (the importer stores each report from one
// goroutine); calls for different reports and for users may.
//
// The rows' values are prepared before the writer's lock is taken (the
// users' pages are stored meanwhile): that Go work was a third of the
// reports' time under the lock.
func (w *RunWriter) AddReportRows(ctx context.Context, kind ReportKind, rows []ReportRow) error {
	spec := Report(kind)
	cols := reportColumns(spec)
	w.smu.Lock()
	args := w.prepareReportRows(kind, spec, rows, len(cols))
	w.smu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.batch(ctx, spec.Title+" report rows", func() error {
		per := len(cols)
		for start := 0; start < len(rows); start += reportRowsPerInsert {
			n := min(reportRowsPerInsert, len(rows)-start)
			ins, err := w.bulkInsert(ctx, spec.Table, cols, n)
			if err != nil {
				return err
			}
			if err := ins.runArgs(ctx, w, args[start*per:(start+n)*per]); err != nil {
				return err
			}
		}
		w.counts.addReportRows(kind, len(rows))
		return nil
	})
}

// reportColumns are a report table's columns, in the order
// prepareReportRows gives their values.
func reportColumns(spec ReportSpec) []string {
	cols := []string{"run_id", "row", "upn_key", "concealed", "extras", "search", "last_activity"}
	for _, c := range spec.Columns {
		cols = append(cols, c.Name)
	}
	return cols
}

// prepareReportRows turns rows into INSERT arguments, numbered per
// statement of reportRowsPerInsert rows, in a buffer kept per report, and
// tracks what Finish needs (smu held).
func (w *RunWriter) prepareReportRows(kind ReportKind, spec ReportSpec, rows []ReportRow, per int) []driver.NamedValue {
	args := slices.Grow(w.rargs[kind][:0], len(rows)*per)
	// Ordinals restart with each statement of reportRowsPerInsert rows;
	// counted, not computed with a division per value (9 million values
	// at 100,000 users).
	ord, perStmt := 0, per*reportRowsPerInsert
	add := func(v driver.Value) {
		if ord == perStmt {
			ord = 0
		}
		ord++
		args = append(args, driver.NamedValue{Ordinal: ord, Value: v})
	}
	activity := activityColumns(spec)
	refreshCol := spec.Column("Report Refresh Date")
	upnCol := spec.Column("User Principal Name")
	var search []string
	for _, r := range rows {
		upn := ""
		if upnCol >= 0 && upnCol < len(r.Cells) {
			upn = r.Cells[upnCol]
		}
		var extras driver.Value
		if len(r.Extras) > 0 {
			extras = jsonText(r.Extras)
		}
		search = search[:0]
		for i, c := range spec.Columns {
			if i < len(r.Cells) && c.Type == Text && r.Cells[i] != "" {
				search = append(search, r.Cells[i])
			}
		}
		last := ""
		for _, i := range activity {
			if i < len(r.Cells) && r.Cells[i] > last {
				last = r.Cells[i]
			}
		}
		if refreshCol >= 0 && refreshCol < len(r.Cells) && r.Cells[refreshCol] > w.refresh[kind] {
			w.refresh[kind] = r.Cells[refreshCol]
		}
		concealed := LooksConcealed(upn)
		if concealed {
			w.concealedRows[kind]++
		}
		w.rowNo[kind]++
		key := strings.ToLower(upn)
		if last != "" {
			seen := w.activity[kind]
			if seen == nil {
				seen = map[string]string{}
				w.activity[kind] = seen
			}
			if old, ok := seen[key]; !ok {
				// A copy: an already lower-case name is a piece of the
				// CSV line it came from, and as a key it would keep the
				// whole line alive until Finish (23 MB at 100,000 users).
				seen[strings.Clone(key)] = last
			} else if last > old {
				seen[key] = last
			}
		}
		add(w.id)
		add(int64(w.rowNo[kind]))
		add(key)
		add(concealed)
		add(extras)
		add(lowerJoin(&w.rsbuf, search...))
		if last == "" {
			add(nil)
		} else {
			add(last)
		}
		for i, c := range spec.Columns {
			cell := ""
			if i < len(r.Cells) {
				cell = r.Cells[i]
			}
			add(sqlValue(c.Type, cell))
		}
	}
	w.rargs[kind] = args
	return args
}

// activityColumns are the columns whose dates say a user was active: the
// workloads' "Last Activity Date"s and the apps' "Last Activity Date".
func activityColumns(spec ReportSpec) []int {
	var out []int
	for i, c := range spec.Columns {
		if c.Type == Date && strings.HasSuffix(c.Header, "Last Activity Date") {
			out = append(out, i)
		}
	}
	return out
}

// DiscardReport deletes the rows of a report staged so far (a download
// that failed half-way is fetched again from the start).
func (w *RunWriter) DiscardReport(ctx context.Context, kind ReportKind) error {
	spec := Report(kind)
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.batch(ctx, spec.Title+" report rows", func() error {
		if _, err := w.conn.ExecContext(ctx, "DELETE FROM "+spec.Table+" WHERE run_id = ?", w.id); err != nil {
			return err
		}
		w.counts.addReportRows(kind, -w.counts.ReportRows(kind))
		w.smu.Lock()
		defer w.smu.Unlock()
		w.rowNo[kind] = 0
		w.refresh[kind] = ""
		delete(w.activity, kind)
		w.concealedRows[kind] = 0
		if w.staged != nil {
			// Derived from the rows just deleted: derive again at Finish.
			if _, err := w.conn.ExecContext(ctx, "DELETE FROM user_activity WHERE run_id = ?", w.id); err != nil {
				return err
			}
			w.staged = nil
		}
		return nil
	})
}

// StageActivity writes the users' last activity from the reports staged so
// far, which must be all of them: called when the reports are done while
// the users are still being listed, it takes that work off Finish, which
// waits for the last user.
func (w *RunWriter) StageActivity(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.smu.Lock()
	defer w.smu.Unlock()
	if w.activityFrom != 0 || w.staged != nil {
		return nil
	}
	latest := w.latestActivity()
	return w.batch(ctx, "the users' last activity", func() error {
		return w.insertActivity(ctx, latest)
	}, func() { w.staged = latest }, func() {})
}

// DiscardUsers deletes the users staged so far, with their counts (a
// sharded listing found incomplete is redone as one plain listing). The
// plan dictionary stays: unused entries are harmless.
func (w *RunWriter) DiscardUsers(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.batch(ctx, "users", func() error {
		if _, err := w.conn.ExecContext(ctx, "DELETE FROM users WHERE run_id = ?", w.id); err != nil {
			return err
		}
		w.counts.Users, w.counts.Assignments = 0, 0
		w.assigned = map[string]int{}
		if !w.licensedOff {
			w.licensed = map[string]uint64{}
		}
		return nil
	})
}

// DiscardApplications deletes the applications staged so far (the list
// was refused part-way).
func (w *RunWriter) DiscardApplications(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.batch(ctx, "applications", func() error {
		if _, err := w.conn.ExecContext(ctx, "DELETE FROM service_principals WHERE run_id = ?", w.id); err != nil {
			return err
		}
		w.counts.ServicePrincipals = 0
		return nil
	})
}

// UnmatchedConcealed counts the staged rows of a report whose user
// principal name looks concealed (32 upper-case hex characters) and matches
// no staged user. Call it after the users are staged.
func (w *RunWriter) UnmatchedConcealed(ctx context.Context, kind ReportKind) (int, error) {
	spec := Report(kind)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.smu.Lock()
	concealed := w.concealedRows[kind]
	w.smu.Unlock()
	if concealed == 0 {
		return 0, nil // the usual case: nothing looks concealed, nothing to look up
	}
	var n int
	// NOT IN builds one temporary index of the users' names instead of
	// scanning the users per row.
	err := w.conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+spec.Table+` r WHERE r.run_id = ?2 AND r.concealed
		AND r.upn_key NOT IN (SELECT upn_key FROM users WHERE run_id = ?1)`, w.id, w.reportRun()).Scan(&n)
	return n, err
}

// Outcome is how a run ended.
type Outcome struct {
	Status   Status
	Warnings []string
	Err      error // the failure, for failed and cancelled runs
	// Mode says how the users were read, for the history.
	Mode string
	// Sync, when set, is kept with a good snapshot for the next
	// incremental run.
	Sync *SyncState
}

// Finish ends the run. A good status (succeeded, completed with warnings)
// makes its snapshot the connection's current one, in one transaction with
// the run's record, then prunes old snapshots; any other status records
// the error and deletes the staged rows, leaving the current snapshot as
// it was. Finish works even when ctx is already cancelled (a cancelled
// run must still be recorded).
func (w *RunWriter) Finish(ctx context.Context, out Outcome) (Run, error) {
	ctx = context.WithoutCancel(ctx)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.finished {
		return Run{}, errors.New("inventory: the run has already finished")
	}
	// What report staging tracked is read by derive and writeSync.
	w.smu.Lock()
	defer w.smu.Unlock()
	defer func() {
		for _, st := range w.stmts {
			st.Close()
		}
		w.closeBulks()
		w.conn.Close()
		releaseCMemory()
	}()
	errText := ""
	if out.Err != nil {
		errText = out.Err.Error()
	}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	ended := w.s.now()
	c := w.counts
	update := func(conn interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	}, snapshot string) error {
		_, err := conn.ExecContext(ctx, `UPDATE runs SET status = ?, ended = ?, error = ?, warnings = ?, snapshot = ?,
			users = ?, assignments = ?, skus = ?, service_principals = ?, active_user_rows = ?, activation_rows = ?, app_usage_rows = ?,
			mode = ? WHERE id = ?`, out.Status, ended.UnixNano(), errText, jsonText(out.Warnings), snapshot,
			c.Users, c.Assignments, c.SKUs, c.ServicePrincipals, c.ActiveUserRows, c.ActivationRows, c.AppUsageRows, out.Mode, w.id)
		return err
	}
	if !out.Status.Good() {
		if err := update(w.conn, snapStaging); err != nil {
			return Run{}, fmt.Errorf("record the end of the import: %w", err)
		}
		w.finished = true
		// Deleting the staged rows is tidying, not correctness: queries
		// never see them, and the next Open retries if this fails.
		_ = w.s.dropSnapshot(ctx, w.id)
		return w.s.Run(ctx, w.id)
	}
	err := w.batch(ctx, "the finished import", func() error {
		if err := w.derive(ctx); err != nil {
			return err
		}
		ended = w.s.now() // the run ends when its snapshot is complete
		if err := update(w.conn, snapKept); err != nil {
			return err
		}
		if err := w.writeSync(ctx, out.Sync); err != nil {
			return err
		}
		_, err := w.conn.ExecContext(ctx, `INSERT INTO current (connection_id, run_id) VALUES (?, ?)
			ON CONFLICT (connection_id) DO UPDATE SET run_id = excluded.run_id`, w.info.ConnectionID, w.id)
		return err
	})
	w.finished = true
	if err != nil {
		// The promotion was rolled back: the previous snapshot is still
		// current. Record the run as failed, with why.
		out = Outcome{Status: StatusFailed, Warnings: out.Warnings,
			Err: fmt.Errorf("the data was read but could not be saved (the previous data was kept): %w", err)}
		errText = out.Err.Error()
		_ = update(w.conn, snapStaging)
		_ = w.s.dropSnapshot(ctx, w.id)
		rec, _ := w.s.Run(ctx, w.id)
		return rec, out.Err
	}
	// Pruning is tidying: a failure leaves an extra old snapshot, which
	// the next Open prunes; the run itself succeeded.
	_ = w.s.prune(ctx, w.info.ConnectionID)
	return w.s.Run(ctx, w.id)
}

// derive computes the figures the pages show from the staged rows: each
// user's last activity in the usage reports, and per SKU the assigned,
// active (in the 30 days before the report's refresh date) and whether
// usage is known at all.
func (w *RunWriter) derive(ctx context.Context) error {
	// Each user's latest activity, one row per user principal name. A
	// separate table, joined when reading, instead of an UPDATE of the
	// users: rewriting 100,000 user rows cost two seconds of the import.
	if w.activityFrom != 0 {
		if _, err := w.conn.ExecContext(ctx, `INSERT INTO user_activity (run_id, upn_key, last_activity)
			SELECT ?1, upn_key, last_activity FROM user_activity WHERE run_id = ?2`, w.id, w.activityFrom); err != nil {
			return fmt.Errorf("derive last activity: %w", err)
		}
	}
	latest := w.staged
	if w.activityFrom == 0 && latest == nil {
		latest = w.latestActivity()
		if err := w.insertActivity(ctx, latest); err != nil {
			return fmt.Errorf("derive last activity: %w", err)
		}
	}
	// The window ends at the report's refresh date (reports lag about two
	// days), or at the run's start when no report says.
	end := w.started.UTC()
	if t, err := time.Parse("2006-01-02", w.refresh[ReportActiveUsers]); err == nil {
		end = t
	}
	cutoff := end.AddDate(0, 0, -30).Format("2006-01-02")
	concealed := w.concealedRows[ReportActiveUsers]
	known := w.counts.ActiveUserRows > 0 && concealed == 0
	// Assigned was counted while staging; active unnests the licenses of
	// the active users only.
	set, err := w.conn.PrepareContext(ctx, "UPDATE skus SET assigned = ?, usage_known = ? WHERE run_id = ? AND lower(sku_id) = ?")
	if err != nil {
		return err
	}
	defer set.Close()
	for sku, n := range w.assigned {
		if _, err := set.ExecContext(ctx, n, known, w.id, sku); err != nil {
			return err
		}
	}
	if _, err := w.conn.ExecContext(ctx, "UPDATE skus SET usage_known = ? WHERE run_id = ?", known, w.id); err != nil {
		return err
	}
	if latest != nil && !w.licensedOff {
		// Counted from what staging kept: a full listing's users, the
		// reports' dates (see licensed).
		active := make([]int, len(w.skuBit))
		for key, mask := range w.licensed {
			if latest[key] < cutoff {
				continue
			}
			for ; mask != 0; mask &= mask - 1 {
				active[bits.TrailingZeros64(mask)]++
			}
		}
		for sku, bit := range w.skuBit {
			if active[bit] == 0 {
				continue
			}
			if _, err := w.conn.ExecContext(ctx, "UPDATE skus SET active = ? WHERE run_id = ? AND lower(sku_id) = ?", active[bit], w.id, sku); err != nil {
				return fmt.Errorf("derive license figures: %w", err)
			}
		}
		w.licensed = nil
		return nil
	}
	_, err = w.conn.ExecContext(ctx, `UPDATE skus SET active = a.n
		FROM (SELECT lower(j.value ->> 'skuId') AS sku, COUNT(*) AS n
			FROM users u JOIN user_activity a ON a.run_id = u.run_id AND a.upn_key = u.upn_key, json_each(u.assigned_licenses) j
			WHERE u.run_id = ?1 AND a.last_activity >= ?2 GROUP BY 1) AS a
		WHERE skus.run_id = ?1 AND lower(skus.sku_id) = a.sku`, w.id, cutoff)
	if err != nil {
		return fmt.Errorf("derive license figures: %w", err)
	}
	return nil
}

// activityPerInsert is how many users' last activity one INSERT carries.
const activityPerInsert = 200

// latestActivity is each user's latest activity over all reports, as
// tracked while staging.
func (w *RunWriter) latestActivity() map[string]string {
	latest := map[string]string{}
	for _, seen := range w.activity {
		for k, d := range seen {
			if d > latest[k] {
				latest[k] = d
			}
		}
	}
	return latest
}

// insertActivity writes the latest activity dates in key order (the
// table's primary key order, so every insert appends).
func (w *RunWriter) insertActivity(ctx context.Context, latest map[string]string) error {
	keys := make([]string, 0, len(latest))
	for k := range latest {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for start := 0; start < len(keys); start += activityPerInsert {
		chunk := keys[start:min(start+activityPerInsert, len(keys))]
		ins, err := w.bulkInsert(ctx, "user_activity", []string{"run_id", "upn_key", "last_activity"}, len(chunk))
		if err != nil {
			return err
		}
		for _, k := range chunk {
			ins.add(w.id)
			ins.add(k)
			ins.add(latest[k])
		}
		if err := ins.run(ctx, w); err != nil {
			return err
		}
	}
	return nil
}
