package inventory

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The history (issue 18) is what outlives the snapshots: per connection
// and day, one row per SKU and one for the tenant, and the licence events
// seen between successive snapshots. Snapshots are pruned to the last few;
// the history is kept until its retention says otherwise.
//
// It is written by Finish in the transaction that makes a run current, so
// a killed import never leaves half a day: either the day's rows and the
// new snapshot are there, or neither. The last good import of a day
// replaces that day's rows; events accumulate (an event is first seen
// once).
//
// Every column is an integer and every table is WITHOUT ROWID, keyed by
// small integers: connection, SKU, user and currency names are kept once
// in history_names. A day is the number of days since 1970-01-01 (UTC).

// EventKind is what changed for a user between two snapshots.
type EventKind int

const (
	EventAssigned EventKind = iota + 1
	EventRemoved
	EventUserCreated
	EventUserDeleted
	EventDisabled
	EventEnabled
)

var eventNames = map[EventKind]string{EventAssigned: "assigned", EventRemoved: "removed", EventUserCreated: "user created",
	EventUserDeleted: "user deleted", EventDisabled: "disabled", EventEnabled: "enabled"}

func (k EventKind) String() string { return eventNames[k] }

// name kinds of history_names.
const (
	nameConnection = 1
	nameSKU        = 2
	nameUser       = 3
	nameCurrency   = 4
)

// HistorySKU is one SKU's figures on one day. The figures the store
// cannot work out itself (inactive, overlapping, price) come from the
// HistoryFunc of the run's Outcome.
type HistorySKU struct {
	Day       time.Time
	SkuID     string // lower case
	Purchased int
	Assigned  int
	// Active is the snapshot's own figure (activity in the ActiveDays
	// before its reference date).
	Active int
	// InactiveAssigned and Overlapping are the seats the Optimization
	// page lists as wasted and as overlapping, on that day's snapshot.
	InactiveAssigned int
	Overlapping      int
	// Priced says a price was in force; Price is it as configured (per
	// seat, hundredths, per month or year), CostCents what all purchased
	// seats cost a month at it.
	Priced     bool
	PriceCents int64
	Yearly     bool
	Currency   string
	CostCents  int64
}

// HistoryTenant is the tenant's figures on one day.
type HistoryTenant struct {
	Day                              time.Time
	Users, Enabled, Guests, Licensed int
}

// HistoryEvent is one change first seen on Day.
type HistoryEvent struct {
	Day   time.Time
	UPN   string // lower case
	SkuID string // lower case; "" for user events
	Kind  EventKind
}

// HistoryFigures are the figures a HistoryFunc adds per SKU (by lower-case
// skuId); SKUs it leaves out count zero and have no price.
type HistoryFigures map[string]HistorySKU

// HistoryFunc works out the figures that need more than the store knows
// (the licensing catalogue, the prices, the Optimization page's rules)
// from the facts of the snapshot being finished. A large snapshot's
// licensed users come in parts, one call each with the rest of the facts
// whole: InactiveAssigned and Overlapping must add up over users (they
// are summed), the other figures must not depend on the users.
//
// The users of an import's own facts have no DisplayName and Department:
// staging keeps only what counting needs (licensestage.go).
type HistoryFunc func(ctx context.Context, f *LicenseFacts) (HistoryFigures, error)

// licensedFunc hands the licensed users of a snapshot to each, chunk (> 0)
// at a time: licensedUsers, or what staging kept of them.
type licensedFunc func(chunk int, each func([]LicenseUser) error) error

// HistoryOptions say how a good run writes its history.
type HistoryOptions struct {
	// Figures, when set, adds inactive, overlapping and cost figures.
	Figures HistoryFunc
	// KeepMonths drops the connection's history older than that many
	// months after the run (0: keep it forever).
	KeepMonths int
	// Key stands for everything Figures depends on besides the snapshot
	// (prices, catalogue, rules): a run's figures are stored under it,
	// and the next run's worked out from them and its changed users when
	// its key is the same (historydelta.go). Empty: always computed whole.
	Key string
}

// dayNumber is t's UTC date as days since the epoch.
func dayNumber(t time.Time) int64 {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

func dayTime(n int64) time.Time { return time.Unix(n*86400, 0).UTC() }

// historyUser is what the events compare of a user.
type historyUser struct {
	key     string // upn_key
	enabled bool
	skus    []string // lower case, sorted
}

// historySKUs decodes a users row's assigned_licenses as the events
// compare them: lower case, sorted, each once.
func historySKUs(licenses string) []string {
	var out []string
	for _, s := range licenseSkuIDs(licenses) {
		out = append(out, strings.ToLower(s))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

type querier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// readHistoryCounts reads a run's tenant figures and SKUs. A full
// listing's users were counted while staged; else SQLite counts them: a
// 100,000-user snapshot read into Go for this (and again for the one
// before it, for the events) doubled the CPU of an import.
func readHistoryCounts(ctx context.Context, q querier, run int64, staged *historyStage) (HistoryTenant, []HistorySKU, error) {
	if staged != nil && !staged.delta {
		skus, err := readHistorySKUs(ctx, q, run)
		return staged.tenant, skus, err
	}
	t, ok := HistoryTenant{}, false
	var err error
	if staged != nil {
		// A delta run's: the previous run's and its changed users'.
		if t, ok, err = deltaTenant(ctx, q, run, staged.prevRun); err != nil {
			return t, nil, err
		}
	}
	if !ok {
		users, err := usersOf(ctx, q, "", run)
		if err != nil {
			return t, nil, err
		}
		if t, err = countTenant(ctx, q, users); err != nil {
			return t, nil, err
		}
	}
	skus, err := readHistorySKUs(ctx, q, run)
	return t, skus, err
}

// countTenant counts the tenant figures of the users rows the condition
// users selects.
func countTenant(ctx context.Context, q querier, users string) (HistoryTenant, error) {
	var t HistoryTenant
	err := q.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(account_enabled <> 0), 0),
		coalesce(sum(user_type = 'Guest' OR user_type = '' AND instr(upper(upn), '#EXT#') > 0), 0),
		coalesce(sum(assigned_licenses <> '[]' AND assigned_licenses <> ''), 0)
		FROM users WHERE `+users).Scan(&t.Users, &t.Enabled, &t.Guests, &t.Licensed)
	if err != nil {
		return t, fmt.Errorf("count the users for the history: %w", err)
	}
	return t, nil
}

// readHistorySKUs reads a run's SKUs' own figures for the history.
func readHistorySKUs(ctx context.Context, q querier, run int64) ([]HistorySKU, error) {
	rows, err := q.QueryContext(ctx, `SELECT lower(sku_id), prepaid_enabled + prepaid_warning, assigned, active FROM skus WHERE run_id = ?`, run)
	if err != nil {
		return nil, fmt.Errorf("read the licences for the history: %w", err)
	}
	defer rows.Close()
	var skus []HistorySKU
	for rows.Next() {
		var s HistorySKU
		if err := rows.Scan(&s.SkuID, &s.Purchased, &s.Assigned, &s.Active); err != nil {
			return nil, err
		}
		skus = append(skus, s)
	}
	return skus, rows.Err()
}

// historyChangedUsers are the users a run's events come from: those whose
// row differs from the run before in enabled or licences, those new in it,
// and those gone from it. SQLite finds them (the previous snapshot is
// materialised and indexed by object id for the join), so only the few
// changed rows of a day reach Go, not two whole snapshots.
func historyChangedUsers(prev, next string) string {
	return `WITH p AS MATERIALIZED (
		SELECT id, upn_key, account_enabled, assigned_licenses FROM users WHERE ` + prev + `),
	n AS MATERIALIZED (
		SELECT id, upn_key, account_enabled, assigned_licenses FROM users WHERE ` + next + `)
	SELECT n.upn_key, n.account_enabled, n.assigned_licenses, CASE WHEN p.id IS NULL THEN 1 ELSE 0 END, coalesce(p.account_enabled, 0), coalesce(p.assigned_licenses, '[]'), 0
		FROM n LEFT JOIN p ON p.id = n.id
		WHERE p.id IS NULL OR p.account_enabled <> n.account_enabled OR p.assigned_licenses <> n.assigned_licenses
	UNION ALL
	SELECT p.upn_key, 0, '[]', 0, p.account_enabled, p.assigned_licenses, 1
		FROM p WHERE NOT EXISTS (SELECT 1 FROM n WHERE n.id = p.id)`
}

// historyEvents lists what changed from run prev to run next, in a
// stable order.
func historyEvents(ctx context.Context, q querier, prev, next int64) ([]HistoryEvent, error) {
	l, err := lineageOf(ctx, q, next)
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, historyChangedUsers(usersIn("", l, prev), usersIn("", l, next)))
	if err != nil {
		return nil, fmt.Errorf("compare the users with the previous import for the history: %w", err)
	}
	defer rows.Close()
	var out []HistoryEvent
	for rows.Next() {
		var key, nLic, pLic string
		var nEnabled, created, pEnabled, deleted bool
		if err := rows.Scan(&key, &nEnabled, &nLic, &created, &pEnabled, &pLic, &deleted); err != nil {
			return nil, err
		}
		out = appendEvents(out, key, historyUser{enabled: pEnabled, skus: historySKUs(pLic)},
			historyUser{enabled: nEnabled, skus: historySKUs(nLic)}, created, deleted)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sortEvents(out)
	return out, nil
}

// appendEvents adds what changed for one user (key) from p to n: created
// (no p), deleted (no n), or enabled, disabled, SKUs assigned and removed.
func appendEvents(out []HistoryEvent, key string, p, n historyUser, created, deleted bool) []HistoryEvent {
	add := func(sku string, k EventKind) {
		out = append(out, HistoryEvent{UPN: key, SkuID: sku, Kind: k})
	}
	switch {
	case created:
		add("", EventUserCreated)
		for _, s := range n.skus {
			add(s, EventAssigned)
		}
		return out
	case deleted:
		add("", EventUserDeleted)
		for _, s := range p.skus {
			add(s, EventRemoved)
		}
		return out
	case p.enabled && !n.enabled:
		add("", EventDisabled)
	case !p.enabled && n.enabled:
		add("", EventEnabled)
	}
	for _, s := range n.skus {
		if _, found := slices.BinarySearch(p.skus, s); !found {
			add(s, EventAssigned)
		}
	}
	for _, s := range p.skus {
		if _, found := slices.BinarySearch(n.skus, s); !found {
			add(s, EventRemoved)
		}
	}
	return out
}

// historyDay is everything one good run writes into the history.
type historyDay struct {
	conn   string
	day    int64
	tenant HistoryTenant
	skus   []HistorySKU
	events []HistoryEvent
	// figured says the skus carry a HistoryFunc's figures.
	figured bool
}

// buildHistoryDay reads the run's snapshot (and the one it follows, for
// the events) and adds fn's figures. Staged rows are committed, so they
// are read on the store's own connections. staged, when set, is what
// staging the run compared and counted (Finish); else the snapshots are
// compared in SQL (the back-fill, or a run whose comparison could not
// hold). activity, when set, is the users' activity per workload as
// staging noted it (licenseFactsOf); licensed, when set, hands out the
// licensed users staging kept (licensestage.go) instead of reading them.
func (s *Store) buildHistoryDay(ctx context.Context, connID string, run, prevRun int64, day time.Time, fn HistoryFunc, fix func(*Run),
	staged *historyStage, activity func(string) [NumWorkloads]time.Time, licensed licensedFunc,
	delta func() (HistoryFigures, bool, error)) (*historyDay, error) {
	tenant, skus, err := readHistoryCounts(ctx, s.db, run, staged)
	if err != nil {
		return nil, err
	}
	hd := &historyDay{conn: connID, day: dayNumber(day), tenant: tenant, skus: skus}
	switch {
	case prevRun == 0:
	case staged != nil:
		hd.events, err = staged.events(ctx, s.db)
	default:
		hd.events, err = historyEvents(ctx, s.db, prevRun, run)
	}
	if err != nil {
		return nil, err
	}
	if fn != nil {
		var figs HistoryFigures
		ok := false
		if delta != nil {
			if figs, ok, err = delta(); err != nil {
				return nil, err
			}
		}
		if !ok {
			if figs, err = s.historyFigures(ctx, run, fix, activity, licensed, fn); err != nil {
				return nil, err
			}
		}
		hd.figured = true
		for i := range hd.skus {
			f, ok := figs[hd.skus[i].SkuID]
			if !ok {
				continue
			}
			sk := &hd.skus[i]
			sk.InactiveAssigned, sk.Overlapping = f.InactiveAssigned, f.Overlapping
			sk.Priced, sk.PriceCents, sk.Yearly, sk.Currency, sk.CostCents = f.Priced, f.PriceCents, f.Yearly, f.Currency, f.CostCents
		}
	}
	return hd, nil
}

// historyChunk is how many licensed users one call of a HistoryFunc is
// given. The whole snapshot's facts at once, copied again into the
// Optimization page's, held some 1.1 GB at 1,000,000 users (peak RSS
// 1.38 GB); a part at a time keeps that bounded. Two parts are held at
// once (overlapChunks), so a part is half what one alone was (50,000).
var historyChunk = 25_000

// historyFigures works out fn's figures from the run's licence facts,
// historyChunk licensed users at a time (every part with the rest of the
// facts whole): InactiveAssigned and Overlapping add up over the parts,
// the price figures are the same in each. activity, when set, is the
// users' activity per workload as staging noted it; else the report rows
// are read. licensed, when set, gives the licensed users instead of
// licensedUsers.
func (s *Store) historyFigures(ctx context.Context, run int64, fix func(*Run), activity func(string) [NumWorkloads]time.Time,
	licensed licensedFunc, fn HistoryFunc) (HistoryFigures, error) {
	head, reports, err := s.licenseFactsHead(ctx, run, fix)
	if err != nil {
		return nil, fmt.Errorf("read the snapshot's licence facts for the history: %w", err)
	}
	if activity == nil {
		m, err := s.workloadActivity(ctx, reports)
		if err != nil {
			return nil, fmt.Errorf("read the snapshot's licence facts for the history: %w", err)
		}
		activity = func(key string) [NumWorkloads]time.Time { return m[key] }
	}
	if licensed == nil {
		users, err := usersOfRowidOrder(ctx, s.db, "u.", run)
		if err != nil {
			return nil, err
		}
		// Without the names: a million display and department names were
		// allocated, and collected, for counts.
		licensed = func(chunk int, each func([]LicenseUser) error) error {
			return s.licensedUsersOf(ctx, run, head.Run, users, false, chunk, each)
		}
	}
	var sum HistoryFigures
	parts := 0
	err = overlapChunks(licensed, func(users []LicenseUser) error {
		parts++
		for i := range users {
			users[i].Activity = activity(users[i].key)
			users[i].key = ""
		}
		part := *head
		part.Users = users
		figs, err := fn(ctx, &part)
		if err != nil || sum == nil {
			sum = figs
			return err
		}
		for sku, f := range figs {
			if was, ok := sum[sku]; ok {
				f.InactiveAssigned += was.InactiveAssigned
				f.Overlapping += was.Overlapping
			}
			sum[sku] = f
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if parts == 0 {
		// No licensed user: the figures of none (prices, costs).
		return fn(ctx, head)
	}
	return sum, nil
}

// overlapChunks hands each the licensed users historyChunk at a time
// while the next part is read: reading a part (the database's work,
// on another thread) and working out its figures took about as long each
// (some 2 s apiece at 1,000,000 users), one after the other. Parts are
// handed on in order, each a fresh slice (licensedFunc's); one is worked
// on while the next waits (a buffered part more cost 45 MB of peak RSS at
// 1,000,000). An error of each stops the reading; one of licensed is
// returned after the parts read before it.
func overlapChunks(licensed licensedFunc, each func([]LicenseUser) error) error {
	parts := make(chan []LicenseUser)
	stop := make(chan struct{})
	read := make(chan error, 1)
	go func() {
		defer close(parts)
		read <- licensed(historyChunk, func(users []LicenseUser) error {
			select {
			case parts <- users:
				return nil
			case <-stop:
				return errStopped
			}
		})
	}()
	var err error
	for users := range parts {
		if err = each(users); err != nil {
			// No more is taken: the reading's next send sees stop.
			close(stop)
			break
		}
	}
	if rerr := <-read; err == nil && rerr != nil {
		err = rerr
	}
	return err
}

// errStopped ends overlapChunks' reading once its consumer failed.
var errStopped = errors.New("stopped")

type execer interface {
	querier
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}

// historyName returns the id of a name, adding it.
func historyName(ctx context.Context, tx execer, kind int, name string) (int64, error) {
	if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO history_names (kind, name) VALUES (?, ?)", kind, name); err != nil {
		return 0, err
	}
	var id int64
	err := tx.QueryRowContext(ctx, "SELECT id FROM history_names WHERE kind = ? AND name = ?", kind, name).Scan(&id)
	return id, err
}

// writeHistoryDay writes hd inside tx. replace says the day's figures
// replace those already there (a later import of the same day); else
// they are kept (the back-fill never overwrites a day an import wrote).
func writeHistoryDay(ctx context.Context, tx execer, hd *historyDay, replace bool) error {
	conn, err := historyName(ctx, tx, nameConnection, hd.conn)
	if err != nil {
		return fmt.Errorf("write the history: %w", err)
	}
	verb := "INSERT OR IGNORE"
	if replace {
		verb = "INSERT OR REPLACE"
		for _, t := range []string{"history_skus", "history_tenant"} {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t+" WHERE conn = ? AND day = ?", conn, hd.day); err != nil {
				return fmt.Errorf("write the history: %w", err)
			}
		}
	}
	t := hd.tenant
	if _, err := tx.ExecContext(ctx, verb+` INTO history_tenant (conn, day, users, enabled, guests, licensed) VALUES (?, ?, ?, ?, ?, ?)`,
		conn, hd.day, t.Users, t.Enabled, t.Guests, t.Licensed); err != nil {
		return fmt.Errorf("write the history: %w", err)
	}
	ids := map[[2]any]int64{}
	name := func(kind int, n string) (int64, error) {
		if id, ok := ids[[2]any{kind, n}]; ok {
			return id, nil
		}
		id, err := historyName(ctx, tx, kind, n)
		ids[[2]any{kind, n}] = id
		return id, err
	}
	for _, s := range hd.skus {
		sku, err := name(nameSKU, s.SkuID)
		if err != nil {
			return err
		}
		var price, per, cur, cost any
		if s.Priced {
			c, err := name(nameCurrency, s.Currency)
			if err != nil {
				return err
			}
			price, per, cur, cost = s.PriceCents, s.Yearly, c, s.CostCents
		}
		if _, err := tx.ExecContext(ctx, verb+` INTO history_skus (conn, day, sku, purchased, assigned, active, inactive, overlapping, price, yearly, currency, cost)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, conn, hd.day, sku, s.Purchased, s.Assigned, s.Active, s.InactiveAssigned, s.Overlapping,
			price, per, cur, cost); err != nil {
			return fmt.Errorf("write the history: %w", err)
		}
	}
	// The events and their users' names a chunk at a time, a few
	// statements each instead of three per event: an incremental run's
	// 1,400 events at 1,000,000 users were 4,000 round trips to
	// PostgreSQL (0.5 s of its end).
	for start := 0; start < len(hd.events); start += historyEventsPerInsert {
		events := hd.events[start:min(start+historyEventsPerInsert, len(hd.events))]
		var upns []string
		for _, e := range events {
			if _, ok := ids[[2]any{nameUser, e.UPN}]; !ok {
				ids[[2]any{nameUser, e.UPN}] = 0 // once in upns
				upns = append(upns, e.UPN)
			}
		}
		if err := historyNames(ctx, tx, nameUser, upns, ids); err != nil {
			return fmt.Errorf("write the history: %w", err)
		}
		type row struct {
			User int64 `json:"u"`
			SKU  int64 `json:"s"`
			Kind int   `json:"k"`
		}
		rows := make([]row, 0, len(events))
		for _, e := range events {
			r := row{User: ids[[2]any{nameUser, e.UPN}], Kind: int(e.Kind)}
			if e.SkuID != "" {
				if r.SKU, err = name(nameSKU, e.SkuID); err != nil {
					return err
				}
			}
			rows = append(rows, r)
		}
		list, err := json.Marshal(rows)
		if err != nil {
			return err
		}
		// An event is first seen once: a second import of the day that
		// sees it again changes nothing.
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO history_events (conn, user, day, sku, kind)
			SELECT CAST(? AS BIGINT), CAST(value ->> 'u' AS BIGINT), CAST(? AS BIGINT), CAST(value ->> 's' AS BIGINT), CAST(value ->> 'k' AS BIGINT) FROM json_each(?)`,
			conn, hd.day, string(list)); err != nil {
			return fmt.Errorf("write the history: %w", err)
		}
	}
	return nil
}

// historyEventsPerInsert is how many events writeHistoryDay writes per
// statement.
var historyEventsPerInsert = 2000 // a variable so a test can make chunks small

// historyNames adds the names of kind not in the history yet, in the
// order given (the ids historyName would give them one by one), and sets
// every name's id in ids.
func historyNames(ctx context.Context, tx execer, kind int, names []string, ids map[[2]any]int64) error {
	if len(names) == 0 {
		return nil
	}
	list, err := json.Marshal(names)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO history_names (kind, name) SELECT CAST(? AS BIGINT), value FROM json_each(?)", kind, string(list)); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, "SELECT id, name FROM history_names WHERE kind = ? AND name IN (SELECT value FROM json_each(?))", kind, string(list))
	if err != nil {
		return err
	}
	defer rows.Close()
	found := 0
	for rows.Next() {
		var id int64
		var n string
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		ids[[2]any{kind, n}] = id
		found++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if found != len(names) {
		return fmt.Errorf("%d of %d history names read back", found, len(names))
	}
	return nil
}

// historyConn is a connection's id in the history (false: none yet).
func (s *Store) historyConn(ctx context.Context, connID string) (int64, bool, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, "SELECT id FROM history_names WHERE kind = ? AND name = ?", nameConnection, connID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return id, err == nil, err
}

// PruneHistory drops the connection's history before the day of before.
func (s *Store) PruneHistory(ctx context.Context, connID string, before time.Time) error {
	conn, ok, err := s.historyConn(ctx, connID)
	if err != nil || !ok {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, t := range []string{"history_skus", "history_tenant", "history_events"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t+" WHERE conn = ? AND day < ?", conn, dayNumber(before)); err != nil {
			return fmt.Errorf("apply the history's retention: %w", err)
		}
	}
	return tx.Commit()
}

// DeleteHistory forgets a connection's history.
func (s *Store) DeleteHistory(ctx context.Context, connID string) error {
	return s.PruneHistory(ctx, connID, time.Unix(1<<40, 0))
}

// HistoryQuery selects part of a connection's history.
type HistoryQuery struct {
	// SkuID limits SKU rows and events to one SKU (lower or any case).
	SkuID string
	// UPN limits events to one user.
	UPN string
	// Since and Until bound the days (zero: open).
	Since, Until time.Time
}

func (q HistoryQuery) days() (int64, int64) {
	lo, hi := int64(-1<<40), int64(1<<40)
	if !q.Since.IsZero() {
		lo = dayNumber(q.Since)
	}
	if !q.Until.IsZero() {
		hi = dayNumber(q.Until)
	}
	return lo, hi
}

// HistorySKUs returns the connection's SKU rows, by day then SKU.
func (s *Store) HistorySKUs(ctx context.Context, connID string, q HistoryQuery) ([]HistorySKU, error) {
	conn, ok, err := s.historyConn(ctx, connID)
	if err != nil || !ok {
		return nil, err
	}
	lo, hi := q.days()
	rows, err := s.db.QueryContext(ctx, `SELECT h.day, n.name, h.purchased, h.assigned, h.active, h.inactive, h.overlapping,
		h.price, h.yearly, COALESCE(c.name, ''), h.cost
		FROM history_skus h JOIN history_names n ON n.id = h.sku LEFT JOIN history_names c ON c.id = h.currency
		WHERE h.conn = ? AND h.day BETWEEN ? AND ? AND (? = '' OR n.name = lower(?))
		ORDER BY h.day, n.name`, conn, lo, hi, q.SkuID, q.SkuID)
	return scanAll(rows, err, func(rows *sql.Rows, h *HistorySKU) error {
		var day int64
		var price, yearly, cost sql.NullInt64
		if err := rows.Scan(&day, &h.SkuID, &h.Purchased, &h.Assigned, &h.Active, &h.InactiveAssigned, &h.Overlapping,
			&price, &yearly, &h.Currency, &cost); err != nil {
			return err
		}
		h.Day = dayTime(day)
		if price.Valid {
			h.Priced, h.PriceCents, h.Yearly, h.CostCents = true, price.Int64, yearly.Int64 != 0, cost.Int64
		}
		return nil
	})
}

// scanAll reads every row of a query (its result rows, err) into a
// slice, scan filling one element.
func scanAll[T any](rows *sql.Rows, err error, scan func(*sql.Rows, *T) error) ([]T, error) {
	if err != nil {
		return nil, fmt.Errorf("read the history: %w", err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := scan(rows, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// HistoryTenants returns the connection's tenant rows, by day.
func (s *Store) HistoryTenants(ctx context.Context, connID string, q HistoryQuery) ([]HistoryTenant, error) {
	conn, ok, err := s.historyConn(ctx, connID)
	if err != nil || !ok {
		return nil, err
	}
	lo, hi := q.days()
	rows, err := s.db.QueryContext(ctx, `SELECT day, users, enabled, guests, licensed FROM history_tenant
		WHERE conn = ? AND day BETWEEN ? AND ? ORDER BY day`, conn, lo, hi)
	return scanAll(rows, err, func(rows *sql.Rows, h *HistoryTenant) error {
		var day int64
		err := rows.Scan(&day, &h.Users, &h.Enabled, &h.Guests, &h.Licensed)
		h.Day = dayTime(day)
		return err
	})
}

// HistoryEvents returns the connection's licence events, by day, user,
// SKU and kind.
func (s *Store) HistoryEvents(ctx context.Context, connID string, q HistoryQuery) ([]HistoryEvent, error) {
	conn, ok, err := s.historyConn(ctx, connID)
	if err != nil || !ok {
		return nil, err
	}
	lo, hi := q.days()
	where := "e.conn = ?1 AND e.day BETWEEN ?2 AND ?3"
	args := []any{conn, lo, hi}
	// The keys' order serves each filter: (conn, user, ...) the user's
	// timeline, the (conn, sku, day) index the SKU's.
	if q.UPN != "" {
		where += " AND e.user = (SELECT id FROM history_names WHERE kind = ?4 AND name = lower(?5))"
		args = append(args, nameUser, q.UPN)
	}
	if q.SkuID != "" {
		// Numbered after those in use: PostgreSQL refuses unused ones.
		where += fmt.Sprintf(" AND e.sku = (SELECT id FROM history_names WHERE kind = ?%d AND name = lower(?%d))", len(args)+1, len(args)+2)
		args = append(args, nameSKU, q.SkuID)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT e.day, u.name, COALESCE(k.name, ''), e.kind FROM history_events e
		JOIN history_names u ON u.id = e.user LEFT JOIN history_names k ON k.id = e.sku
		WHERE `+where+` ORDER BY e.day, u.name, 3, e.kind`, args...)
	return scanAll(rows, err, func(rows *sql.Rows, e *HistoryEvent) error {
		var day int64
		err := rows.Scan(&day, &e.UPN, &e.SkuID, &e.Kind)
		e.Day = dayTime(day)
		return err
	})
}

// HistoryBackfillPending says the database's kept snapshots have not yet
// seeded the history (a database of a build before issue 18).
func (s *Store) HistoryBackfillPending(ctx context.Context) (bool, error) {
	var v string
	err := s.db.QueryRowContext(ctx, "SELECT value FROM history_meta WHERE key = 'backfill'").Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return v == "pending", err
}

// BackfillHistory seeds the history from the kept snapshots of every
// connection, once: each snapshot gives its day (the day its run started),
// successive ones the events between them. Days an import already wrote
// are left as they are. The rows and the record that the back-fill ran
// are written in one transaction, so it never runs twice, nor half.
func (s *Store) BackfillHistory(ctx context.Context, fn HistoryFunc) error {
	if pending, err := s.HistoryBackfillPending(ctx); err != nil || !pending {
		return err
	}
	type kept struct {
		id      int64
		conn    string
		started int64
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, connection_id, started FROM runs WHERE snapshot = ? ORDER BY connection_id, id`,
		snapKept)
	runs, err := scanAll(rows, err, func(rows *sql.Rows, k *kept) error { return rows.Scan(&k.id, &k.conn, &k.started) })
	if err != nil {
		return err
	}
	var days []*historyDay
	for i, r := range runs {
		var prev int64
		if i > 0 && runs[i-1].conn == r.conn {
			prev = runs[i-1].id
		}
		hd, err := s.buildHistoryDay(ctx, r.conn, r.id, prev, time.Unix(0, r.started), fn, nil, nil, nil, nil, nil)
		if errors.Is(err, ErrNoSnapshot) {
			continue // pruned meanwhile
		}
		if err != nil {
			return fmt.Errorf("seed the history from snapshot %d: %w", r.id, err)
		}
		days = append(days, hd)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Beacons opening the database at once take turns, with each other and
	// with promotions (lockHistory): the later one reads "done" below
	// instead of writing the back-fill again, and none waits for another's
	// names in history_names while holding its own.
	if err := s.lockHistory(ctx, tx); err != nil {
		return err
	}
	var v string
	if err := tx.QueryRowContext(ctx, "SELECT value FROM history_meta WHERE key = 'backfill'").Scan(&v); err != nil || v != "pending" {
		return err // another process did it meanwhile
	}
	// Later snapshots of a day come later in days: replacing within the
	// back-fill keeps the day's last, but never a day an import wrote.
	written := map[[2]any]bool{}
	for _, hd := range days {
		k := [2]any{hd.conn, hd.day}
		if !written[k] {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM history_tenant t JOIN history_names c ON c.id = t.conn
				WHERE c.kind = ? AND c.name = ? AND t.day = ?`, nameConnection, hd.conn, hd.day).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				// An import wrote the day: keep its figures, add the events.
				hd = &historyDay{conn: hd.conn, day: hd.day, tenant: hd.tenant, events: hd.events}
				if err := writeHistoryDay(ctx, tx, hd, false); err != nil {
					return err
				}
				continue
			}
		}
		written[k] = true
		if err := writeHistoryDay(ctx, tx, hd, true); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE history_meta SET value = 'done' WHERE key = 'backfill'"); err != nil {
		return err
	}
	return tx.Commit()
}
