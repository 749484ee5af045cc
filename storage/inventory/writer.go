package inventory

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/jackc/pgx/v5"
)

// RunInfo names what a run imports and why.
type RunInfo struct {
	ConnectionID   string
	ConnectionName string
	Trigger        Trigger
	// Note is shown with the run in the import history (e.g. why a
	// scheduled run happened late).
	Note string
	// RecordOnly says the run only records an import that did not happen
	// (skipped, could not start): on PostgreSQL it takes no run lock, so
	// it is recorded also while another beacon imports the connection.
	RecordOnly bool
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
	refresh map[ReportKind]string
	// asOf is the activity reference date derive counted from.
	asOf          string
	concealedRows map[ReportKind]int
	finished      bool
	// umu guards what preparing users changes (PrepareUsers runs on the
	// importer's fetching goroutines, outside mu): lbuf, plans, pbuf,
	// ubuf, assigned, skuBit, licensedOff. When both are
	// needed, mu is taken first.
	umu     sync.Mutex
	lbuf    []string
	plans   *planCodec
	pbuf    []byte
	ubuf    []byte
	nbuf    []byte // a user's license names, then assignments
	stbuf   []byte // a user's license states
	sortbuf []byte // a user's name key (under umu)
	// userBufs are argument buffers of stored UserBatches, for the next.
	userBufs chan []driver.NamedValue
	// assigned counts license assignments per lower-case skuId; a page
	// rolled back makes the run fail, so it needs no undo.
	assigned map[string]int
	// reportsFrom is the run whose report rows this one shares (0: none),
	// activityFrom the run whose users' last activity (derived from the
	// same rows) it shows instead of deriving it again (activity_run).
	reportsFrom, activityFrom int64
	// changing says BeginUserChanges staged a previous snapshot's users.
	changing bool
	// facts are, per user principal name, the SKUs of a staged user and
	// the latest activity date of each report, kept while staging so
	// Finish writes the users' last activity and counts each SKU's active
	// users without reading the rows back. Runs that copy users in SQL
	// (incremental) or tenants with more than 64 SKUs count active users
	// in SQL instead (licensedOff).
	facts       *userFacts
	skuBit      map[string]uint8
	licensedOff bool
	// activityStaged says StageActivity wrote the users' last activity
	// (until DiscardReport undoes it).
	activityStaged bool
	// reportsWritten are the report tables the run wrote rows to (under
	// mu): Finish analyses only those on PostgreSQL. A run sharing the
	// reports writes none, and analysing the five tables it left alone
	// took 2.1 s of an incremental run at 1,000,000 users.
	reportsWritten map[string]bool
	// bulks are the prepared multi-row INSERTs (bulk.go).
	bulks map[bulkKey]*bulk

	// rep is, on PostgreSQL, a second connection the report rows and the
	// users' last activity are copied on, under rmu instead of mu: the
	// server then writes them on another core while the users are
	// fetched and copied (the server's work is most of a PostgreSQL
	// import's). Its transactions commit on their own, as the pinned
	// connection's do: rows of a run not promoted are never shown and
	// are deleted by run, whichever connection wrote them. nil on SQLite
	// (one writer) and when the server had no connection to spare. When
	// both locks are needed, rmu is taken first.
	rmu sync.Mutex
	rep *lane
	// sbuf builds the applications' search texts (under mu, or rmu
	// where they go on the report connection).
	sbuf []byte

	// smu guards what report staging tracks outside the writer's lock:
	// rowNo, refresh, concealedRows, activity, and rsbuf. When both are
	// needed, mu is taken first.
	smu   sync.Mutex
	rsbuf []byte
	kbuf  []byte // a report row's lower-case user principal name
	// argBufs are argument buffers of stored ReportBatches, for the next
	// ones (a chunk's are 37,000 values).
	argBufs chan []driver.NamedValue

	// sizeAtStart is the database's size with its WAL when the run began
	// and expected the users ExpectUsers announced: together they
	// estimate the room an import that filled the disk needs.
	sizeAtStart uint64
	expected    int

	// hist gathers the run's day of the history while staging
	// (historystage.go); PrepareUsers updates it under umu.
	hist *historyStage

	// Sharing users with the previous snapshot (share.go), under umu:
	// lineage is the connection's; seeded says the plan dictionary
	// starts from the previous run's; kills are the rowids of previous
	// rows this run replaced, marked died when the run's users are read
	// (killReplaced, which also marks the users a full listing did not
	// see: unseenKilled); digest hashes a user's columns.
	lineage      int64
	seeded       bool
	kills        []int64
	unseenKilled bool
	digest       *xxhash.Digest
	// lics gathers the licensed users the history's figures need
	// (licensestage.go), under umu.
	lics *licenseStage
}

// BeginRun records a new run as running and returns its writer.
func (s *Store) BeginRun(ctx context.Context, info RunInfo) (*RunWriter, error) {
	if info.ConnectionID == "" {
		return nil, errors.New("inventory: a run needs a connection id")
	}
	if s.full {
		return nil, fmt.Errorf("record the start of the import in %s: %w", s.path, s.diskFull(ctx, info.ConnectionID, syscall.ENOSPC))
	}
	if s.readOnly != "" {
		return nil, &ReadOnlyError{Path: s.path, Why: s.readOnly}
	}
	if err := s.schemaStillOurs(ctx); err != nil {
		return nil, fmt.Errorf("start the import of %s: %w", info.ConnectionName, err)
	}
	// A database of an older build gets its identity (an import writes
	// anyway), before the run is recorded so a failure leaves no run.
	if err := s.setIdentity(ctx, s.db); err != nil {
		if isFull(err) {
			err = s.diskFull(ctx, info.ConnectionID, err)
		}
		return nil, fmt.Errorf("record the start of the import in %s: %w", s.path, err)
	}
	// PostgreSQL: the connection's run lock first (pglock.go).
	locked, err := s.lockForRun(ctx, info)
	if err != nil {
		return nil, fmt.Errorf("start the import of %s: %w", info.ConnectionName, err)
	}
	begun := false
	defer func() {
		if !begun {
			s.releaseRunConn(locked, info.ConnectionID)
		}
	}()
	lineage, err := s.beginLineage(ctx, info)
	if err != nil {
		if isFull(err) {
			err = s.diskFull(ctx, info.ConnectionID, err)
		}
		return nil, fmt.Errorf("record the start of the import in %s: %w", s.path, err)
	}
	started := s.now()
	sizeAtStart := fileSizes(s.path)
	id, err := s.insertID(ctx, `INSERT INTO runs (connection_id, connection_name, trigger, started, status, snapshot, pid, host, note)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		info.ConnectionID, info.ConnectionName, string(info.Trigger), started.UnixNano(), StatusRunning, snapStaging, os.Getpid(), s.host, info.Note)
	if err != nil {
		if isFull(err) {
			err = s.diskFull(ctx, info.ConnectionID, err)
		}
		return nil, fmt.Errorf("record the start of the import in %s: %w", s.path, err)
	}
	// One pinned connection keeps the prepared statements valid across
	// the run's many short transactions.
	conn, err := s.pinConn(ctx, locked)
	if err != nil {
		return nil, err
	}
	begun = true
	var rep *lane
	if s.pg && !info.RecordOnly {
		// Without a second connection (the server's max_connections
		// reached) the run copies everything on its pinned one.
		if rc, err := s.db.Conn(ctx); err == nil {
			rep = &lane{conn: rc, bulks: map[bulkKey]*bulk{}}
		}
	}
	w := &RunWriter{s: s, id: id, info: info, started: started, conn: conn,
		stmts: map[string]*sql.Stmt{}, skuPart: map[string]string{}, rowNo: map[ReportKind]int{},
		plans: newPlanCodec(), assigned: map[string]int{}, refresh: map[ReportKind]string{}, concealedRows: map[ReportKind]int{},
		facts: newUserFacts(), bulks: map[bulkKey]*bulk{}, argBufs: make(chan []driver.NamedValue, 4), userBufs: make(chan []driver.NamedValue, 20),
		skuBit: map[string]uint8{}, reportsWritten: map[string]bool{}, sizeAtStart: sizeAtStart, hist: s.startHistoryStage(ctx, info.ConnectionID),
		lineage: lineage, digest: xxhash.New(), lics: newLicenseStage(), rep: rep}
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
	if err := w.s.keepCheckpointable(ctx, w.conn); err != nil {
		return w.writeErr(ctx, what, err)
	}
	if err := inTx(ctx, w.conn, fn); err != nil {
		rolledBack()
		return w.writeErr(ctx, what, err)
	}
	committed()
	return nil
}

// writeErr is the error of a write of what that failed (mu held).
func (w *RunWriter) writeErr(ctx context.Context, what string, err error) error {
	return fmt.Errorf("write %s to the inventory database: %w", what, w.full(ctx, err))
}

// statement is batch for fn of one statement on PostgreSQL, a COPY: that
// is a transaction of its own, so it is not wrapped in BEGIN and COMMIT,
// two round trips per batch that each wait for the server's turn on a
// busy machine (mu held).
func (w *RunWriter) statement(ctx context.Context, what string, fn func() error) error {
	if w.finished {
		return errors.New("inventory: the run has already finished")
	}
	if err := fn(); err != nil {
		return w.writeErr(ctx, what, err)
	}
	return nil
}

// repBatch is statement on the report connection (rmu held, not mu).
func (w *RunWriter) repBatch(ctx context.Context, what string, fn func() error) error {
	if w.finished { // set by Finish, which holds rmu
		return errors.New("inventory: the run has already finished")
	}
	err := fn()
	if err == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writeErr(ctx, what, err)
}

// inTx runs fn inside one write transaction on conn.
func inTx(ctx context.Context, conn *sql.Conn, fn func() error) error {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	if err := fn(); err != nil {
		// The rollback must run even when ctx is cancelled.
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return err
	}
	return nil
}

// full words err plainly when it is a full disk (a DiskFullError with the
// room this import needs), and returns any other error as it is.
func (w *RunWriter) full(ctx context.Context, err error) error {
	if !isFull(err) {
		return err
	}
	e := w.s.diskFull(ctx, w.info.ConnectionID, err)
	// What the run wrote before the disk filled, plus what was left, is
	// a lower bound; scaled up by the users still to come when the
	// importer said how many there are and a tenth of them were staged
	// (before that, the fixed costs of the run's start, scaled up, made
	// the estimate several times too big).
	if now := fileSizes(w.s.path); now > w.sizeAtStart {
		e.Need, e.NeedAtLeast = now-w.sizeAtStart+e.Free, true
		if staged := w.counts.Users; w.expected > staged && staged >= w.expected/10 && staged > 0 {
			e.Need, e.NeedAtLeast = e.Need*uint64(w.expected)/uint64(staged), false
		}
	}
	return e
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
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

// appendLicenseNames appends the users' Licenses column: the SKUs' part
// numbers, sorted, joined by '+'.
func (w *RunWriter) appendLicenseNames(b []byte, ls []AssignedLicense) []byte {
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
	for i, n := range names {
		if i > 0 {
			b = append(b, '+')
		}
		b = append(b, n...)
	}
	return b
}

// lowerJoin is the search text of a row: its parts joined by newlines,
// lower-cased, built in the reused buffer *buf: one allocation per row
// instead of a builder's and ToLower's (the reports' rows are a third of
// a million per 100,000 users).
func lowerJoin(buf *[]byte, parts ...string) string {
	if b, ascii := joinLower(buf, parts...); ascii {
		return string(b)
	}
	return strings.ToLower(string(*buf)) // Unicode case rules: the rare case
}

// searchText adds the search text of parts to a (see lowerJoin), its
// bytes copied into the batch's memory.
func (a *argList) searchText(buf *[]byte, parts ...string) {
	if b, ascii := joinLower(buf, parts...); ascii {
		a.text(b)
		return
	}
	a.str(strings.ToLower(string(*buf)))
}

// lowerKey is s lower-cased (user principal names are matched that way):
// s itself when it has no upper-case letter, else a copy in the batch's
// memory (strings.ToLower's own for the rare non-ASCII name).
func (a *argList) lowerKey(buf *[]byte, s string) string {
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return strings.ToLower(s)
		}
		upper = upper || 'A' <= c && c <= 'Z'
	}
	if !upper {
		return s
	}
	b := append((*buf)[:0], s...)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	*buf = b
	return a.mem.text(b)
}

// joinLower joins parts with newlines into *buf, lower-casing ASCII
// letters; ascii says whether that was all (else the caller applies
// Unicode's rules to *buf).
func joinLower(buf *[]byte, parts ...string) (_ []byte, ascii bool) {
	b := (*buf)[:0]
	ascii = true
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
	return b, ascii
}

// usersPerInsert is how many users one INSERT statement carries: binding
// a multi-row statement costs far less per row than executing one
// statement per row through database/sql, and each statement still costs
// a crossing into C, a reset and a result set. 32 cost 7.0-7.7 µs a user
// (BenchmarkStageUsers), 128 6.1-7.6, 256 and 512 no less (issue 7,
// fourth round).
const usersPerInsert = 128

const userCols = 20 // len(userColumns), checked by TestUserColumnsCounted

func valuesList(rows, cols int) string {
	one := "(?" + strings.Repeat(", ?", cols-1) + ")"
	return one + strings.Repeat(", "+one, rows-1)
}

// AddUsers stages a page of users with their license assignments: it is
// PrepareUsers then AddUserBatch.
func (w *RunWriter) AddUsers(ctx context.Context, users []User) error {
	return w.AddUserBatch(ctx, w.PrepareUsers(users))
}

// UserBatch is a page of users made into INSERT arguments by PrepareUsers
// and stored by AddUserBatch. Preparing (license names, the plan codec,
// the search text) was a third of a user's staging; done by the
// goroutines that fetch the pages, it leaves the one writer only SQLite's
// work, and a page waiting for the writer holds its values, not the
// decoded users with their plans.
type UserBatch struct {
	// users are the page's users, rows those written (a user the
	// previous snapshot holds as it is is shared, not written).
	users, rows, assignments int
	first, last              string // object ids, for errors
	args                     []driver.NamedValue
	// fresh are the plan dictionary's entries added while preparing this
	// or an earlier batch and not inserted yet: this batch inserts them,
	// so storing never waits for a page being prepared. A later batch
	// stored first may use them meanwhile; the dictionary is only read
	// once the run is complete.
	fresh     []int
	freshKeys []planKey
	mem       *batchMem // what args point into
}

// Users is how many users the batch holds.
func (b *UserBatch) Users() int { return b.users }

// PrepareUsers turns a page of users into a batch. The SKUs must be
// staged. It keeps nothing of users (the caller may reuse the slice) and
// may run on several goroutines at once.
func (w *RunWriter) PrepareUsers(users []User) *UserBatch {
	<-w.hist.done // the previous snapshot to compare with
	a := newArgList(takeArgs(w.userBufs), len(users)*userCols, userCols*usersPerInsert)
	w.umu.Lock()
	defer w.umu.Unlock()
	w.seedPlans()
	w.facts.mu.Lock()
	defer w.facts.mu.Unlock()
	b := &UserBatch{users: len(users)}
	if len(users) > 0 {
		b.first, b.last = users[0].ID, users[len(users)-1].ID
	}
	for i := range users {
		u := &users[i]
		start, ord := len(a.vals), a.ord
		w.pbuf = w.plans.encode(w.pbuf[:0], u.AssignedPlans)
		key := a.lowerKey(&w.ubuf, u.UserPrincipalName)
		if mask := w.skuMask(u.AssignedLicenses); mask != 0 {
			w.facts.masks[w.facts.id(key)] |= mask
		}
		a.int(w.id)
		a.str(u.ID)
		a.str(u.UserPrincipalName)
		a.str(key)
		a.str(u.DisplayName)
		a.str(u.Mail)
		a.add(u.AccountEnabled)
		a.str(u.UsageLocation)
		a.str(u.Department)
		a.str(u.JobTitle)
		if u.CreatedDateTime.IsZero() {
			a.add(nil)
		} else {
			a.int(u.CreatedDateTime.UnixNano())
		}
		w.nbuf = w.appendLicenseNames(w.nbuf[:0], u.AssignedLicenses)
		names := a.text(w.nbuf)
		w.nbuf = appendLicenses(w.nbuf[:0], u.AssignedLicenses)
		a.text(w.nbuf)
		prev := w.hist.note(u, key, w.nbuf)
		a.text(w.pbuf)
		a.searchText(&w.ubuf, u.UserPrincipalName, u.DisplayName, u.Mail, u.Department, u.JobTitle, u.UsageLocation, names)
		w.sortbuf = appendNameKey(w.sortbuf[:0], u.DisplayName)
		a.text(w.sortbuf)
		a.str(u.UserType)
		w.stbuf = appendLicenseStates(w.stbuf[:0], u.LicenseAssignmentStates)
		a.text(w.stbuf)
		if string(w.nbuf) != "[]" || len(w.stbuf) > 0 {
			w.lics.note(u, w.facts.id(key), key, w.nbuf, w.stbuf)
		}
		digest := w.userDigest(a.vals[start+1:])
		if !w.changing && prev >= 0 {
			// (Once the users not listed were marked gone, a late user
			// is written again rather than revived.)
			if w.hist.prev[prev].digest == digest && !w.unseenKilled {
				// Stored as it is: the previous row is this run's too.
				a.vals, a.ord = a.vals[:start], ord
			} else {
				w.kills = append(w.kills, w.hist.prev[prev].row)
			}
		}
		if len(a.vals) > start {
			a.int(w.lineage)
			a.int(digest)
			b.rows++
		}
		b.assignments += len(u.AssignedLicenses)
		for _, l := range u.AssignedLicenses {
			w.assigned[strings.ToLower(l.SkuID)]++
		}
	}
	b.fresh, b.freshKeys = w.takeFreshPlans()
	b.args, b.mem = a.vals, a.mem
	return b
}

// takeFreshPlans hands over the plan entries not inserted yet (umu held).
func (w *RunWriter) takeFreshPlans() ([]int, []planKey) {
	if len(w.plans.fresh) == 0 {
		return nil, nil
	}
	fresh := slices.Clone(w.plans.fresh)
	keys := make([]planKey, len(fresh))
	for i, idx := range fresh {
		keys[i] = w.plans.entries[idx]
	}
	w.plans.fresh = w.plans.fresh[:0]
	return fresh, keys
}

// AddUserBatch stages a prepared batch.
func (w *RunWriter) AddUserBatch(ctx context.Context, b *UserBatch) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var err error
	if w.s.pg && len(b.fresh) == 0 {
		// One COPY, no plan entries to go with it.
		err = w.statement(ctx, "users", func() error { return w.insertUserBatch(ctx, b) })
	} else {
		err = w.batch(ctx, "users", func() error { return w.insertUserBatch(ctx, b) },
			func() {}, func() { w.requeuePlans(b.fresh) })
	}
	giveArgs(w.userBufs, b.args)
	b.mem.giveBack()
	b.args, b.mem = nil, nil
	return err
}

// requeuePlans puts dictionary entries whose insert was rolled back back
// in line for the next batch: prepared batches may already use them.
func (w *RunWriter) requeuePlans(fresh []int) {
	w.umu.Lock()
	w.plans.fresh = append(w.plans.fresh, fresh...)
	w.umu.Unlock()
}

// insertUserBatch inserts b's users and plan entries (mu held, in a
// transaction).
func (w *RunWriter) insertUserBatch(ctx context.Context, b *UserBatch) error {
	per := w.s.rowsPerInsert(usersPerInsert)
	for start := 0; start < b.rows; start += per {
		n := min(per, b.rows-start)
		ins, err := w.bulkInsert(ctx, w.mainLane(), "users", userColumns, n)
		if err != nil {
			return err
		}
		if err := ins.runArgs(ctx, w.mainLane(), b.args[start*userCols:(start+n)*userCols]); err != nil {
			return fmt.Errorf("users %s to %s: %w", b.first, b.last, err)
		}
	}
	if err := w.insertPlans(ctx, b.fresh, b.freshKeys); err != nil {
		return err
	}
	w.counts.Users += b.users
	w.counts.Assignments += b.assignments
	return nil
}

// insertPlans inserts plan dictionary entries (mu held).
func (w *RunWriter) insertPlans(ctx context.Context, fresh []int, keys []planKey) error {
	if len(fresh) == 0 {
		return nil
	}
	dict, err := w.stmt(ctx, `INSERT INTO plan_dict (run_id, idx, service, service_plan_id, capability_status) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for i, idx := range fresh {
		k := keys[i]
		if _, err := dict.ExecContext(ctx, w.id, idx, k.service, k.planID, k.status); err != nil {
			return err
		}
	}
	return nil
}

// skuMask is the bit set of a staged user's SKUs for counting active
// users (umu held); 0 once there are more than 64 SKUs (licensedOff).
func (w *RunWriter) skuMask(ls []AssignedLicense) uint64 {
	if w.licensedOff || len(ls) == 0 {
		return 0
	}
	var mask uint64
	for _, l := range ls {
		sku := strings.ToLower(l.SkuID)
		bit, ok := w.skuBit[sku]
		if !ok {
			if len(w.skuBit) == 64 {
				w.licensedOff = true
				return 0
			}
			bit = uint8(len(w.skuBit))
			w.skuBit[sku] = bit
		}
		mask |= 1 << bit
	}
	return mask
}

// userColumns are the users table's columns, in the order PrepareUsers
// binds them.
var userColumns = []string{"run_id", "id", "upn", "upn_key", "display_name", "mail", "account_enabled", "usage_location",
	"department", "job_title", "created", "licenses", "assigned_licenses", "assigned_plans", "search", "name_key",
	"user_type", "license_states", "lineage", "digest"}

// AddServicePrincipals stages a page of applications: on PostgreSQL in
// one COPY on the report connection (a statement per application was
// 5,000 round trips on the pinned connection the users wait for).
func (w *RunWriter) AddServicePrincipals(ctx context.Context, sps []ServicePrincipal) error {
	if w.rep != nil {
		w.rmu.Lock()
		defer w.rmu.Unlock()
		err := w.repBatch(ctx, "applications", func() error {
			ins, err := w.bulkInsert(ctx, *w.rep, "service_principals", spColumns, len(sps))
			if err != nil {
				return err
			}
			for i := range sps {
				for _, v := range w.spRow(&sps[i]) {
					ins.add(v)
				}
			}
			return ins.run(ctx, *w.rep)
		})
		if err == nil {
			w.mu.Lock()
			w.counts.ServicePrincipals += len(sps)
			w.mu.Unlock()
		}
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.batch(ctx, "applications", func() error {
		ins, err := w.stmt(ctx, "INSERT INTO service_principals ("+strings.Join(spColumns, ", ")+") VALUES "+valuesList(1, len(spColumns)))
		if err != nil {
			return err
		}
		for i := range sps {
			if _, err := ins.ExecContext(ctx, w.spRow(&sps[i])...); err != nil {
				return fmt.Errorf("application %s: %w", sps[i].ID, err)
			}
		}
		w.counts.ServicePrincipals += len(sps)
		return nil
	})
}

// spColumns are the service_principals table's columns as
// AddServicePrincipals gives them.
var spColumns = []string{"run_id", "id", "app_id", "display_name", "app_display_name", "publisher_name",
	"app_owner_organization_id", "service_principal_type", "account_enabled", "tags", "search"}

// spRow is an application's values in spColumns' order, for either
// store's insert (under mu, or rmu on the report connection: w.sbuf).
func (w *RunWriter) spRow(p *ServicePrincipal) []any {
	return []any{w.id, p.ID, p.AppID, p.DisplayName, p.AppDisplayName, p.PublisherName,
		p.AppOwnerOrganizationID, p.ServicePrincipalType, p.AccountEnabled, encodeList(p.Tags),
		lowerJoin(&w.sbuf, p.DisplayName, p.AppDisplayName, p.PublisherName, p.AppID, p.ServicePrincipalType)}
}

// AddLicenseGroups stages the groups that assign licences.
func (w *RunWriter) AddLicenseGroups(ctx context.Context, groups []Group) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.batch(ctx, "licensing groups", func() error {
		ins, err := w.stmt(ctx, `INSERT INTO license_groups (run_id, id, display_name) VALUES (?, ?, ?)`)
		if err != nil {
			return err
		}
		for _, g := range groups {
			if _, err := ins.ExecContext(ctx, w.id, g.ID, g.DisplayName); err != nil {
				return fmt.Errorf("group %s: %w", g.ID, err)
			}
		}
		return nil
	})
}

// AddSignIns stages a page of signInActivity.
func (w *RunWriter) AddSignIns(ctx context.Context, sis []SignIn) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.batch(ctx, "sign-ins", func() error {
		ins, err := w.stmt(ctx, `INSERT INTO sign_ins (run_id, user_id, interactive, non_interactive, successful) VALUES (?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		for _, si := range sis {
			if _, err := ins.ExecContext(ctx, w.id, si.UserID, unixOrNil(si.Interactive), unixOrNil(si.NonInteractive), unixOrNil(si.Successful)); err != nil {
				return fmt.Errorf("sign-ins of %s: %w", si.UserID, err)
			}
		}
		return nil
	})
}

// DiscardSignIns deletes the sign-ins staged so far (the listing failed
// part-way: none rather than some).
func (w *RunWriter) DiscardSignIns(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.batch(ctx, "sign-ins", func() error {
		_, err := w.conn.ExecContext(ctx, "DELETE FROM sign_ins WHERE run_id = ?", w.id)
		return err
	})
}

func unixOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// reportRowsPerInsert is how many report rows one INSERT carries (wide
// rows: SQLite allows 32766 parameters per statement, 47 columns x 64 rows
// is 3,008). 16 cost 4.5-4.7 µs a row (BenchmarkStageReportRows), 64
// 3.3-3.6, 128 and 256 no less.
const reportRowsPerInsert = 64

// AddReportRows stages rows of a usage report, in report order: it is
// PrepareReportRows then AddReportBatch. Calls for one report must not
// overlap (the importer stores each report from one goroutine); calls for
// different reports and for users may.
func (w *RunWriter) AddReportRows(ctx context.Context, kind ReportKind, rows []ReportRow) error {
	return w.AddReportBatch(ctx, w.PrepareReportRows(kind, rows))
}

// ReportBatch is a chunk of report rows made into INSERT arguments by
// PrepareReportRows and stored by AddReportBatch. The two may run on
// different goroutines, so parsing and preparing the next chunk overlaps
// storing this one: the store is one writer, and preparing had been a
// third of its time.
type ReportBatch struct {
	kind ReportKind
	rows int
	args []driver.NamedValue
	mem  *batchMem // what args point into, with the rows' cells
	// done, if set, is called once the batch no longer refers to its
	// rows (after AddReportBatch; see OnStored).
	done func()
}

// OnStored has done called when AddReportBatch is through with the batch,
// stored or not: the batch then refers to nothing of its rows, whose
// memory the caller may reuse (graph.ReportFile.Chunks). A batch never
// given to AddReportBatch never calls it.
func (b *ReportBatch) OnStored(done func()) { b.done = done }

// Rows is how many report rows the batch holds.
func (b *ReportBatch) Rows() int { return b.rows }

// PrepareReportRows turns rows into a batch and notes what Finish needs
// from them. Batches of one report must be stored in the order they were
// prepared. The batch refers to the rows' text cells where they are (a
// copy of each was 16 bytes and a sixth of an import's allocations), so
// the cells must not change until the batch is stored or dropped;
// ParseReport gives every chunk cells of their own.
func (w *RunWriter) PrepareReportRows(kind ReportKind, rows []ReportRow) *ReportBatch {
	spec := Report(kind)
	buf := takeArgs(w.argBufs)
	w.smu.Lock()
	defer w.smu.Unlock()
	args, mem := w.prepareReportRows(kind, spec, rows, len(reportColumns(spec)), buf)
	return &ReportBatch{kind: kind, rows: len(rows), args: args, mem: mem}
}

// AddReportBatch stages a prepared batch: on PostgreSQL on the report
// connection, alongside the users (rep).
func (w *RunWriter) AddReportBatch(ctx context.Context, b *ReportBatch) error {
	spec := Report(b.kind)
	what := spec.Title + " report rows"
	var err error
	if w.rep != nil {
		w.rmu.Lock()
		err = w.repBatch(ctx, what, func() error { return w.insertReportRows(ctx, *w.rep, spec, b) })
		if err == nil {
			w.mu.Lock()
			w.counts.addReportRows(b.kind, b.rows)
			w.reportsWritten[spec.Table] = true
			w.mu.Unlock()
		}
		w.rmu.Unlock()
	} else {
		w.mu.Lock()
		err = w.batch(ctx, what, func() error {
			if err := w.insertReportRows(ctx, w.mainLane(), spec, b); err != nil {
				return err
			}
			w.counts.addReportRows(b.kind, b.rows)
			w.reportsWritten[spec.Table] = true
			return nil
		})
		w.mu.Unlock()
	}
	giveArgs(w.argBufs, b.args)
	b.mem.giveBack()
	b.args, b.mem = nil, nil
	if b.done != nil {
		b.done()
		b.done = nil
	}
	return err
}

// insertReportRows inserts b's rows on l (in a transaction there).
func (w *RunWriter) insertReportRows(ctx context.Context, l lane, spec ReportSpec, b *ReportBatch) error {
	cols := reportColumns(spec)
	per := len(cols)
	chunk := w.s.rowsPerInsert(reportRowsPerInsert)
	for start := 0; start < b.rows; start += chunk {
		n := min(chunk, b.rows-start)
		ins, err := w.bulkInsert(ctx, l, spec.Table, cols, n)
		if err != nil {
			return err
		}
		if err := ins.runArgs(ctx, l, b.args[start*per:(start+n)*per]); err != nil {
			return err
		}
	}
	return nil
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
// statement of reportRowsPerInsert rows, in buf, and tracks what Finish
// needs (smu held).
func (w *RunWriter) prepareReportRows(kind ReportKind, spec ReportSpec, rows []ReportRow, per int, buf []driver.NamedValue) ([]driver.NamedValue, *batchMem) {
	a := newArgList(buf, len(rows)*per, per*reportRowsPerInsert)
	activity := activityColumns(spec)
	slot := slices.Index(ReportKinds, kind)
	w.facts.mu.Lock()
	defer w.facts.mu.Unlock()
	refreshCol := spec.Column("Report Refresh Date")
	upnCol := spec.Column("User Principal Name")
	var workCols [NumWorkloads]int
	workloads := workloadColumns[kind]
	for j, c := range workloads {
		workCols[j] = spec.Column(c.header)
	}
	var search []string
	for _, r := range rows {
		upn := ""
		if upnCol >= 0 && upnCol < len(r.Cells) {
			upn = r.Cells[upnCol]
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
			w.refresh[kind] = strings.Clone(r.Cells[refreshCol]) // not the CSV chunk it is cut from
		}
		concealed := LooksConcealed(upn)
		if concealed {
			w.concealedRows[kind]++
		}
		w.rowNo[kind]++
		key := a.lowerKey(&w.kbuf, upn)
		if last != "" {
			w.facts.noteDate(slot, key, last)
		}
		for j, c := range workloads {
			// As workloadActivity reads them: rows with a concealed
			// name match nobody.
			if col := workCols[j]; !concealed && col >= 0 && col < len(r.Cells) && r.Cells[col] != "" {
				w.facts.noteWorkload(w.facts.id(key), c.wl, r.Cells[col])
			}
		}
		a.int(w.id)
		a.int(int64(w.rowNo[kind]))
		a.str(key)
		a.add(concealed)
		if len(r.Extras) > 0 {
			a.str(jsonText(r.Extras))
		} else {
			a.add(nil)
		}
		a.searchText(&w.rsbuf, search...)
		if last == "" {
			a.add(nil)
		} else {
			a.str(last)
		}
		for i, c := range spec.Columns {
			if i < len(r.Cells) {
				a.cell(c.Type, &r.Cells[i])
			} else {
				a.add(nil)
			}
		}
	}
	return a.vals, a.mem
}

// takeArgs is an argument buffer from the free list, or none.
func takeArgs(free chan []driver.NamedValue) []driver.NamedValue {
	select {
	case buf := <-free:
		return buf
	default:
		return nil
	}
}

// giveArgs returns a stored batch's buffer to the free list, emptied so it
// keeps no values alive until its next use.
func giveArgs(free chan []driver.NamedValue, buf []driver.NamedValue) {
	clear(buf)
	select {
	case free <- buf[:0]:
	default:
	}
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
	w.rmu.Lock() // no report rows being copied meanwhile
	defer w.rmu.Unlock()
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
		w.facts.forgetReport(slices.Index(ReportKinds, kind))
		w.concealedRows[kind] = 0
		if w.activityStaged {
			// Derived from the rows just deleted: derive again at Finish.
			if _, err := w.conn.ExecContext(ctx, "DELETE FROM user_activity WHERE run_id = ?", w.id); err != nil {
				return err
			}
			w.activityStaged = false
		}
		return nil
	})
}

// ExpectUsers says how many users the run is about to stage (the tenant's
// count), so what staging keeps per user is sized once instead of growing.
// It changes nothing else; a wrong figure only costs the growth it meant
// to avoid.
func (w *RunWriter) ExpectUsers(n int) {
	w.facts.expect(min(n, 10_000_000))
	w.umu.Lock()
	w.lics.expect(min(n, 10_000_000))
	w.umu.Unlock()
	w.expected = n
}

// StageActivity writes the users' last activity from the reports staged so
// far, which must be all of them: called when the reports are done while
// the users are still being listed, it takes that work off Finish, which
// waits for the last user.
func (w *RunWriter) StageActivity(ctx context.Context) error {
	// Sorted before taking the writer, which the users being listed
	// still need: the reports are done, so no date changes meanwhile.
	a := w.facts.sortedActivity()
	const what = "the users' last activity"
	if w.rep != nil {
		// On the report connection, beside the users: what decides
		// whether it is due changes under rmu too (ShareReports,
		// DiscardReport, Finish), so it holds still meanwhile.
		w.rmu.Lock()
		defer w.rmu.Unlock()
		w.mu.Lock()
		due := w.activityFrom == 0 && !w.activityStaged
		w.mu.Unlock()
		if !due {
			return nil
		}
		if err := w.repBatch(ctx, what, func() error { return w.insertActivity(ctx, *w.rep, a) }); err != nil {
			return err
		}
		w.mu.Lock()
		w.smu.Lock()
		w.activityStaged = true
		w.smu.Unlock()
		w.mu.Unlock()
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.smu.Lock()
	defer w.smu.Unlock()
	if w.activityFrom != 0 || w.activityStaged {
		return nil
	}
	return w.batch(ctx, what, func() error {
		return w.insertActivity(ctx, w.mainLane(), a)
	}, func() { w.activityStaged = true }, func() {})
}

// DiscardUsers deletes the users staged so far, with their counts (a
// sharded listing found incomplete is redone as one plain listing). The
// plan dictionary stays: unused entries are harmless.
func (w *RunWriter) DiscardUsers(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.batch(ctx, "users", func() error {
		if _, err := w.conn.ExecContext(ctx, "DELETE FROM users WHERE "+usersBornIn("", w.lineage, w.id)); err != nil {
			return err
		}
		if _, err := w.conn.ExecContext(ctx, "UPDATE users SET died = ? WHERE lineage = ? AND died = ?", int64(alive), w.lineage, w.id); err != nil {
			return err
		}
		w.counts.Users, w.counts.Assignments = 0, 0
		w.umu.Lock()
		defer w.umu.Unlock()
		w.kills, w.unseenKilled = w.kills[:0], false
		// What follows is a full listing (an expired delta link), whose
		// users are compared and shared again.
		w.changing = false
		w.assigned = map[string]int{}
		w.facts.forgetSKUs()
		w.hist.discard()
		w.lics.discard()
		return nil
	})
}

// DiscardApplications deletes the applications staged so far (the list
// was refused part-way).
func (w *RunWriter) DiscardApplications(ctx context.Context) error {
	w.rmu.Lock() // no applications being copied meanwhile
	defer w.rmu.Unlock()
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
	w.rmu.Lock() // the report rows being copied are counted too
	defer w.rmu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.smu.Lock()
	concealed := w.concealedRows[kind]
	w.smu.Unlock()
	if concealed == 0 {
		return 0, nil // the usual case: nothing looks concealed, nothing to look up
	}
	// The users the run replaced or did not see are no longer its own.
	if err := w.batch(ctx, "users", func() error {
		w.umu.Lock()
		defer w.umu.Unlock()
		return w.killReplaced(ctx)
	}); err != nil {
		return 0, err
	}
	var n int
	// NOT IN builds one temporary index of the users' names instead of
	// scanning the users per row.
	err := w.conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+spec.Table+` r WHERE r.run_id = ?2 AND r.concealed
		AND r.upn_key NOT IN (SELECT upn_key FROM users WHERE `+usersIn("", w.lineage, w.id)+` AND ?1 > 0)`, w.id, w.reportRun()).Scan(&n)
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
	// SignIns is SignInsRead when the run read signInActivity, else why
	// not in the administrator's words; empty when it did not try.
	SignIns string
	// History says how a good run adds its day to the history.
	History HistoryOptions
}

// SignInsRead is Outcome.SignIns of a run that read signInActivity.
const SignInsRead = "read"

// release closes the writer's statements and hands back its pinned
// connection: until then SQLite keeps the database file open (on Windows
// the file cannot be removed or renamed while it is).
func (w *RunWriter) release() {
	for _, st := range w.stmts {
		st.Close()
	}
	w.closeBulks()
	w.hist.stop()
	w.facts.free()
	w.umu.Lock()
	w.lics.free()
	w.umu.Unlock()
	if w.s.pg && !w.info.RecordOnly {
		w.s.unlockRun(w.conn, w.info.ConnectionID)
	}
	w.conn.Close()
	releaseCMemory()
}

// Finish ends the run. A good status (succeeded, completed with warnings)
// makes its snapshot the connection's current one, in one transaction with
// the run's record, then prunes old snapshots; any other status records
// the error and deletes the staged rows, leaving the current snapshot as
// it was. Finish works even when ctx is already cancelled (a cancelled
// run must still be recorded).
func (w *RunWriter) Finish(ctx context.Context, out Outcome) (Run, error) {
	ctx = context.WithoutCancel(ctx)
	w.rmu.Lock() // the report rows being copied are the run's too
	defer w.rmu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.finished {
		return Run{}, errors.New("inventory: the run has already finished")
	}
	// What report staging tracked is read by derive and writeSync.
	w.smu.Lock()
	defer w.smu.Unlock()
	defer w.release()
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
			mode = ?, activity_as_of = ?, reports_refresh = ?, sign_ins = ? WHERE id = ?`, out.Status, ended.UnixNano(), errText, jsonText(out.Warnings), snapshot,
			c.Users, c.Assignments, c.SKUs, c.ServicePrincipals, c.ActiveUserRows, c.ActivationRows, c.AppUsageRows, out.Mode,
			w.asOf, w.refresh[ReportActiveUsers], out.SignIns, w.id)
		return err
	}
	if !out.Status.Good() {
		uerr := update(w.conn, snapStaging)
		w.finished = true
		// Deleting the staged rows and truncating the WAL is tidying, not
		// correctness: queries never see them, and the next Open retries
		// if this fails. But a failed import must give its room back,
		// most of all one that filled the disk (issue 20).
		w.s.giveSpaceBack(ctx, w.id)
		if uerr != nil {
			// On a full disk the record may only fit once the rows are
			// gone ("staging" again: should they still be there, the
			// next Open deletes them).
			if uerr = update(w.conn, snapStaging); uerr != nil {
				return Run{}, fmt.Errorf("record the end of the import: %w", w.full(ctx, uerr))
			}
		}
		return w.s.Run(ctx, w.id)
	}
	// The derived figures are committed first (still staged, so
	// invisible): the history reads them, with the rest of the snapshot,
	// on the store's other connections.
	err := w.s.analyze(ctx, w.conn, w.writtenTables()...) // PostgreSQL's planner
	if err == nil {
		err = w.batch(ctx, "the finished import", func() error { return w.derive(ctx) })
	}
	var day *historyDay
	if err == nil {
		day, err = w.historyDay(ctx, out)
	}
	if err == nil {
		err = w.batch(ctx, "the finished import", func() error {
			ended = w.s.now() // the run ends when its snapshot is complete
			if err := update(w.conn, snapKept); err != nil {
				return err
			}
			if err := w.writeSync(ctx, out.Sync); err != nil {
				return err
			}
			// The day's history goes with the promotion: both or neither.
			if err := w.s.lockHistory(ctx, w.conn); err != nil {
				return err
			}
			if err := writeHistoryDay(ctx, w.conn, day, true); err != nil {
				return err
			}
			if err := writeRunFigures(ctx, w.conn, w.id, day, out.History.Key); err != nil {
				return err
			}
			_, err := w.conn.ExecContext(ctx, `INSERT INTO current (connection_id, run_id) VALUES (?, ?)
			ON CONFLICT (connection_id) DO UPDATE SET run_id = excluded.run_id`, w.info.ConnectionID, w.id)
			return err
		})
	}
	w.finished = true
	if err != nil {
		// The promotion was rolled back: the previous snapshot is still
		// current. Record the run as failed, with why.
		out = Outcome{Status: StatusFailed, Warnings: out.Warnings,
			Err: fmt.Errorf("the data was read but could not be saved (the previous data was kept): %w", err)}
		errText = out.Err.Error()
		uerr := update(w.conn, snapStaging)
		w.s.giveSpaceBack(ctx, w.id)
		if uerr != nil {
			_ = update(w.conn, snapStaging) // see the failed run's case above
		}
		rec, _ := w.s.Run(ctx, w.id)
		return rec, out.Err
	}
	// Pruning is tidying: a failure leaves an extra old snapshot, which
	// the next Open prunes; the run itself succeeded.
	_ = w.s.prune(ctx, w.info.ConnectionID)
	// So is the history's retention: the next run applies it again.
	if n := out.History.KeepMonths; n > 0 {
		_ = w.s.PruneHistory(ctx, w.info.ConnectionID, dayTime(dayNumber(w.started)).AddDate(0, -n, 0))
	}
	return w.s.Run(ctx, w.id)
}

// writtenTables are the tables of finishedTables the run wrote rows to,
// which Finish analyses before its queries read them by the new run. The
// users always: even a run sharing nearly all of them adds its changed
// users under its id (the 76 s plan analyze's comment tells of). The
// tables it wrote no row to keep statistics no new row changes: none
// carries its id.
func (w *RunWriter) writtenTables() []string {
	t := []string{"users"}
	if w.activityStaged { // else derive writes it, and analyses it then
		t = append(t, "user_activity")
	}
	for _, r := range reportSpecs {
		if w.reportsWritten[r.Table] {
			t = append(t, r.Table)
		}
	}
	return t
}

// historyDay reads what the run adds to the history: its day's figures
// and the events since the current snapshot.
func (w *RunWriter) historyDay(ctx context.Context, out Outcome) (*historyDay, error) {
	var prev int64
	err := w.conn.QueryRowContext(ctx, "SELECT run_id FROM current WHERE connection_id = ?", w.info.ConnectionID).Scan(&prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	// The run's record is completed by the promotion; the figures need
	// now what it will say.
	fix := func(r *Run) {
		r.ActivityAsOf, r.SignIns, r.Counts = w.asOf, out.SignIns, w.counts
	}
	var staged *historyStage
	if w.hist.usable(prev) {
		staged = w.hist
	}
	// The run's own report rows were noted while staged; shared ones
	// (an incremental run's) are read.
	var activity func(string) [NumWorkloads]time.Time
	if w.reportsFrom == 0 {
		activity = w.facts.workloads
	}
	// So were its licensed users, when all went through PrepareUsers.
	var licensed licensedFunc
	if !w.lics.off && out.SignIns != SignInsRead {
		licensed = func(chunk int, each func([]LicenseUser) error) error {
			w.umu.Lock()
			defer w.umu.Unlock()
			return w.lics.each(w.facts, chunk, each)
		}
	}
	delta := func() (HistoryFigures, bool, error) { return w.deltaFigures(ctx, prev, out.History, out.SignIns, fix) }
	return w.s.buildHistoryDay(ctx, w.info.ConnectionID, w.id, prev, w.started, out.History.Figures, fix, staged, activity, licensed, delta)
}

// DateLayout is how the store writes dates (report dates, activity).
const DateLayout = "2006-01-02"

// ActiveDays is the window of the "Active" figures: a user is active when
// their last activity is at most this many days before the snapshot's
// activity reference date.
const ActiveDays = 30

// ActivityReference is the date a snapshot's derived figures are counted
// from: the usage report's refresh date (reports lag about two days behind
// the day they are downloaded), or the day (UTC) the run started when the
// snapshot shows no report. It is a date at midnight UTC; it never depends
// on when the figures are computed, so an incremental run that shares a
// previous download counts exactly as a full import of the same data.
func ActivityReference(reportRefresh string, started time.Time) time.Time {
	if t, err := time.Parse(DateLayout, reportRefresh); err == nil {
		return t
	}
	y, m, d := started.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// derive computes the figures the pages show from the staged rows: each
// user's last activity in the usage reports, and per SKU the assigned,
// active (in the 30 days before the report's refresh date) and whether
// usage is known at all.
func (w *RunWriter) derive(ctx context.Context) error {
	w.umu.Lock()
	defer w.umu.Unlock()
	if err := w.killReplaced(ctx); err != nil {
		return err
	}
	// Entries whose batch rolled back and no batch took again.
	if fresh, keys := w.takeFreshPlans(); len(fresh) > 0 {
		if err := w.insertPlans(ctx, fresh, keys); err != nil {
			return err
		}
	}
	// Each user's latest activity, one row per user principal name. A
	// separate table, joined when reading, instead of an UPDATE of the
	// users: rewriting 100,000 user rows cost two seconds of the import.
	// A run sharing report rows shows the activity rows of their run.
	if w.activityFrom == 0 && !w.activityStaged {
		if err := w.insertActivity(ctx, w.mainLane(), w.facts.sortedActivity()); err != nil {
			return fmt.Errorf("derive last activity: %w", err)
		}
		// Finish analysed the tables before these rows (writtenTables):
		// the planner would take the run for one without activity.
		if err := w.s.analyze(ctx, w.conn, "user_activity"); err != nil {
			return fmt.Errorf("derive last activity: %w", err)
		}
	}
	end := ActivityReference(w.refresh[ReportActiveUsers], w.started)
	w.asOf = end.Format(DateLayout)
	cutoff := end.AddDate(0, 0, -ActiveDays).Format(DateLayout)
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
	if w.activityFrom == 0 && !w.licensedOff {
		// Counted from what staging kept: a full listing's users, the
		// reports' dates (see facts).
		active := w.facts.activeBySKU(len(w.skuBit), cutoff)
		for sku, bit := range w.skuBit {
			if active[bit] == 0 {
				continue
			}
			if _, err := w.conn.ExecContext(ctx, "UPDATE skus SET active = ? WHERE run_id = ? AND lower(sku_id) = ?", active[bit], w.id, sku); err != nil {
				return fmt.Errorf("derive license figures: %w", err)
			}
		}
		return nil
	}
	if ok, err := w.deltaActive(ctx, cutoff); err != nil || ok {
		if err != nil {
			return fmt.Errorf("derive license figures: %w", err)
		}
		return nil
	}
	_, err = w.conn.ExecContext(ctx, `UPDATE skus SET active = a.n
		FROM (SELECT lower(j.value ->> 'skuId') AS sku, COUNT(*) AS n
			FROM users u JOIN user_activity a ON a.run_id = ?3 AND a.upn_key = u.upn_key, json_each(u.assigned_licenses) j
			WHERE `+usersIn("u.", w.lineage, w.id)+` AND a.last_activity >= ?2 GROUP BY 1) AS a
		WHERE skus.run_id = ?1 AND lower(skus.sku_id) = a.sku`, w.id, cutoff, w.activityRun())
	if err != nil {
		return fmt.Errorf("derive license figures: %w", err)
	}
	return nil
}

// activityPerInsert is how many users' last activity one INSERT carries
// (3,000 parameters).
const activityPerInsert = 1000

// insertActivity writes the latest activity dates in key order (the
// table's primary key order, so every insert appends) on l: on
// PostgreSQL in one COPY (one statement, atomic without a transaction
// around it: repBatch), read from a as it goes rather than from values
// for every user, which at 1,000,000 users were 120 MB.
func (w *RunWriter) insertActivity(ctx context.Context, l lane, a activity) error {
	cols := []string{"run_id", "upn_key", "last_activity"}
	if w.s.pg {
		return pgCopy(ctx, l.conn, pgx.Identifier{"user_activity"}, cols, a.len(), func(i int, row []any) {
			row[0], row[1], row[2] = w.id, a.key(i), a.date(i)
		})
	}
	for start := 0; start < a.len(); start += activityPerInsert {
		end := min(start+activityPerInsert, a.len())
		ins, err := w.bulkInsert(ctx, l, "user_activity", cols, end-start)
		if err != nil {
			return err
		}
		for i := start; i < end; i++ {
			ins.add(w.id)
			ins.add(a.key(i))
			ins.add(a.date(i))
		}
		if err := ins.run(ctx, l); err != nil {
			return err
		}
	}
	return nil
}
