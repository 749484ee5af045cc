package inventory

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"time"
)

// Incremental runs (issue 7) start from the last good snapshot and apply
// only what changed: users from a Graph delta round (the unchanged ones
// shared with that snapshot, share.go), report rows shared while still
// fresh. The result is a complete snapshot of its own, so pages, history
// and pruning treat it like any other.

// SyncState is what an incremental run needs from a snapshot.
type SyncState struct {
	// RunID is the snapshot's run (set when read; ignored when written).
	RunID int64
	// UsersDeltaLink continues the users delta from this snapshot.
	UsersDeltaLink string
	// FullStarted is when the full import this snapshot descends from
	// began (a chain of incremental runs keeps it).
	FullStarted time.Time
	// ReportsStarted is when the run that downloaded this snapshot's
	// report rows began.
	ReportsStarted time.Time
}

// SyncState returns the sync state of the connection's current snapshot;
// ok is false when it has none (no import yet, or made without one).
func (s *Store) SyncState(ctx context.Context, connID string) (st SyncState, ok bool, err error) {
	var full, reports int64
	err = s.db.QueryRowContext(ctx, `SELECT s.run_id, s.users_delta_link, s.full_started, s.reports_started
		FROM current c JOIN sync_state s ON s.run_id = c.run_id WHERE c.connection_id = ?`, connID).
		Scan(&st.RunID, &st.UsersDeltaLink, &full, &reports)
	if errors.Is(err, sql.ErrNoRows) {
		return SyncState{}, false, nil
	}
	if err != nil {
		return SyncState{}, false, fmt.Errorf("read the sync state: %w", err)
	}
	st.FullStarted, st.ReportsStarted = time.Unix(0, full), time.Unix(0, reports)
	return st, true, nil
}

// writeSync records the run's sync state (inside Finish's transaction).
func (w *RunWriter) writeSync(ctx context.Context, st *SyncState) error {
	if st == nil {
		return nil
	}
	// A zero time (no reports downloaded) reads back as 1970: too old.
	ns := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return t.UnixNano()
	}
	_, err := w.conn.ExecContext(ctx, `INSERT INTO sync_state (run_id, users_delta_link, full_started, reports_started, reports_refresh)
		VALUES (?, ?, ?, ?, ?)`, w.id, st.UsersDeltaLink, ns(st.FullStarted), ns(st.ReportsStarted), w.refresh[ReportActiveUsers])
	return err
}

// An incremental run's users are the previous snapshot's with a delta
// round's changes applied: BeginUserChanges takes the previous users (the
// importer runs it while the delta pages are still coming), then
// ApplyUserChanges replaces and removes users, a batch of changes at a
// time, and EndUserChanges recounts.

// BeginUserChanges stages the users of run from, with its plan
// dictionary: they are shared, not copied (share.go), when from is the
// current snapshot, as it is for the importer. Call it before any user
// is staged; it needs no SKUs (the users keep their Licenses column).
func (w *RunWriter) BeginUserChanges(ctx context.Context, from int64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.umu.Lock()
	defer w.umu.Unlock()
	if w.counts.Users > 0 || len(w.plans.entries) > 0 {
		return errors.New("inventory: BeginUserChanges must come before any user is staged")
	}
	<-w.hist.done
	share := w.hist.err == nil && w.hist.prevRun == from
	w.seeded = true
	return w.batch(ctx, "users", func() error {
		if _, err := w.conn.ExecContext(ctx, `INSERT INTO plan_dict (run_id, idx, service, service_plan_id, capability_status)
			SELECT ?, idx, service, service_plan_id, capability_status FROM plan_dict WHERE run_id = ? ORDER BY idx`, w.id, from); err != nil {
			return err
		}
		rows, err := w.conn.QueryContext(ctx, "SELECT idx, service, service_plan_id, capability_status FROM plan_dict WHERE run_id = ? ORDER BY idx", from)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var idx int
			var k planKey
			if err := rows.Scan(&idx, &k.service, &k.planID, &k.status); err != nil {
				return err
			}
			if idx != len(w.plans.entries) {
				return fmt.Errorf("the plan dictionary of run %d has a gap at %d", from, idx)
			}
			w.plans.index[k] = idx
			w.plans.entries = append(w.plans.entries, k)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if share {
			// The current snapshot's users are this run's until changed.
			if err := w.conn.QueryRowContext(ctx, "SELECT users FROM runs WHERE id = ?", from).Scan(&w.counts.Users); err != nil {
				return err
			}
		} else if err := w.copyUsers(ctx, from); err != nil {
			return err
		}
		// The license counts start from the previous run's (derived when
		// it finished) and follow the changes: recounting 100,000 users'
		// licenses took 0.4 s. An assignment of a SKU the previous run did
		// not list is not carried over; a tenant cannot assign an
		// unsubscribed SKU.
		if err := w.conn.QueryRowContext(ctx, "SELECT assignments FROM runs WHERE id = ?", from).Scan(&w.counts.Assignments); err != nil {
			return err
		}
		skus, err := w.conn.QueryContext(ctx, "SELECT lower(sku_id), assigned FROM skus WHERE run_id = ?", from)
		if err != nil {
			return err
		}
		defer skus.Close()
		for skus.Next() {
			var sku string
			var c int
			if err := skus.Scan(&sku, &c); err != nil {
				return err
			}
			w.assigned[sku] += c
		}
		w.changing = true
		w.hist.beginDelta(from)
		// The users copied here are not in licensed: count active
		// users in SQL at Finish.
		w.licensedOff = true
		w.lics.off = true // nor in the licence stage: read them back
		return skus.Err()
	})
}

// ApplyUserChanges applies a batch of a users delta: upserts replace (or
// add) users by object id, removed ids go. An id must appear at most once
// per call. Each call reads the run's users once, so the caller batches
// (thousands of changes per call, not a delta page of 200).
func (w *RunWriter) ApplyUserChanges(ctx context.Context, upserts []User, removed []string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.changing {
		return errors.New("inventory: ApplyUserChanges without BeginUserChanges")
	}
	ids := make([]string, 0, len(upserts)+len(removed))
	for i := range upserts {
		ids = append(ids, upserts[i].ID)
	}
	ids = append(ids, removed...)
	idList, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	<-w.hist.done
	// The changed users' rows in the run's snapshot: those an earlier
	// batch staged, which go, and the previous snapshot's, which die in
	// this run, found by the rowids the history stage read (on
	// PostgreSQL through users_rowid: by the alive rows' range, marking
	// 509 of 1,000,000 users took 1.8 s and counting their licences 2.2 s).
	ofIDs := " AND users.id IN (SELECT value FROM json_each(?))"
	mine := usersBornIn("users.", w.lineage, w.id) + ofIDs
	prev := fmt.Sprintf("users.lineage = %d AND users.died = %d AND users.run_id < %d", w.lineage, int64(alive), w.id) + ofIDs
	prevArgs := []any{string(idList)}
	if w.hist.err == nil {
		rowids := []int64{} // "[]", not "null", when none was seen
		for _, id := range ids {
			if i, ok := w.hist.lookup(maphash.String(w.hist.seed, id)); ok {
				rowids = append(rowids, w.hist.prev[i].row)
			}
		}
		list, err := json.Marshal(rowids)
		if err != nil {
			return err
		}
		prev = fmt.Sprintf("users.rowid IN (SELECT CAST(value AS BIGINT) FROM json_each(?)) AND users.died = %d AND users.run_id < %d", int64(alive), w.id) + ofIDs
		prevArgs = []any{string(list), string(idList)}
	}
	var b *UserBatch
	return w.batch(ctx, "user changes", func() error {
		// What the replaced users held comes off the license counts.
		for _, q := range []struct {
			where string
			args  []any
		}{{mine, []any{string(idList)}}, {prev, prevArgs}} {
			rows, err := w.conn.QueryContext(ctx, `SELECT lower(j.value ->> 'skuId') FROM users, json_each(users.assigned_licenses) j
				WHERE `+q.where, q.args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var sku string
				if err := rows.Scan(&sku); err != nil {
					rows.Close()
					return err
				}
				w.umu.Lock()
				w.assigned[sku]--
				w.umu.Unlock()
				w.counts.Assignments--
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		res, err := w.conn.ExecContext(ctx, `DELETE FROM users WHERE `+mine, string(idList))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		w.counts.Users -= int(n)
		res, err = w.conn.ExecContext(ctx, `UPDATE users SET died = ? WHERE `+prev, append([]any{w.id}, prevArgs...)...)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		w.counts.Users -= int(n)
		w.umu.Lock()
		w.hist.remove(removed)
		w.umu.Unlock()
		b = w.PrepareUsers(upserts)
		return w.insertUserBatch(ctx, b)
	}, func() {}, func() {
		if b != nil {
			w.requeuePlans(b.fresh)
		}
	})
}

// EndUserChanges ends staging changes.
func (w *RunWriter) EndUserChanges(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.changing {
		return errors.New("inventory: EndUserChanges without BeginUserChanges")
	}
	w.changing = false
	return nil
}

// ShareReports makes this run's snapshot show the report rows of run from
// (or of the run whose rows from shows) instead of staging its own:
// incremental runs reuse a recent download, since Microsoft refreshes the
// reports' data once a day and allows 14 calls per report per 10 minutes.
// Sharing, not copying: copying ~225,000 wide rows of a 100,000-user
// tenant took 2.7 s. The rows stay until no kept snapshot shows them.
func (w *RunWriter) ShareReports(ctx context.Context, from int64) error {
	w.rmu.Lock() // what StageActivity checks changes here
	defer w.rmu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	origin, err := w.s.reportRun(ctx, from)
	if err != nil {
		return err
	}
	return w.batch(ctx, "report rows", func() error {
		if w.counts.ActiveUserRows+w.counts.ActivationRows+w.counts.AppUsageRows > 0 {
			return errors.New("inventory: ShareReports after report rows were staged")
		}
		// What staging tracked is read from the run's record and sync
		// state: scanning ~225,000 wide rows again cost 0.4 s.
		var snap, refresh string
		var c Counts
		err := w.conn.QueryRowContext(ctx, `SELECT r.snapshot, r.active_user_rows, r.activation_rows, r.app_usage_rows,
			r.reports_refresh FROM runs r WHERE r.id = ?`, from).
			Scan(&snap, &c.ActiveUserRows, &c.ActivationRows, &c.AppUsageRows, &refresh)
		if err != nil {
			return err
		}
		if snap != snapKept {
			return fmt.Errorf("inventory: run %d has no snapshot to share reports from", from)
		}
		w.smu.Lock()
		defer w.smu.Unlock()
		for _, kind := range ReportKinds {
			w.counts.addReportRows(kind, c.ReportRows(kind))
			// Rows with concealed names are never shared (the importer
			// downloads again after such a warning), so none is counted.
			w.concealedRows[kind] = 0
		}
		w.refresh[ReportActiveUsers] = refresh
		// The users' last activity, derived from those rows, is shared
		// too: copying it cost 1,000,000 rows (and 60 MB) per run.
		act, err := sharedRun(ctx, w.conn, from, "activity_run")
		if err != nil {
			return err
		}
		// Recorded now, not at Finish: from the moment this run is
		// staging, pruning keeps the shared rows.
		_, err = w.conn.ExecContext(ctx, "UPDATE runs SET reports_run = ?, activity_run = ? WHERE id = ?", origin, act, w.id)
		if err == nil {
			w.reportsFrom, w.activityFrom = origin, act
		}
		return err
	})
}

// reportRun is the run whose report rows this run stages or shares.
func (w *RunWriter) reportRun() int64 {
	if w.reportsFrom != 0 {
		return w.reportsFrom
	}
	return w.id
}

// copyUsers stages copies of the users of run from, which is not the
// current snapshot (BeginUserChanges): the current snapshot's users die
// in this run instead of being shared.
func (w *RunWriter) copyUsers(ctx context.Context, from int64) error {
	if _, err := w.conn.ExecContext(ctx, "UPDATE users SET died = ? WHERE lineage = ? AND died = ? AND run_id < ?",
		w.id, w.lineage, int64(alive), w.id); err != nil {
		return err
	}
	users, err := usersOf(ctx, w.conn, "", from)
	if err != nil {
		return err
	}
	res, err := w.conn.ExecContext(ctx, `INSERT INTO users (run_id, id, upn, upn_key, display_name, mail, account_enabled, usage_location,
		department, job_title, created, licenses, assigned_licenses, assigned_plans, search, name_key, user_type, license_states, lineage, digest)
		SELECT ?, id, upn, upn_key, display_name, mail, account_enabled, usage_location,
		department, job_title, created, licenses, assigned_licenses, assigned_plans, search, name_key, user_type, license_states, ?, digest FROM users
		WHERE `+users+` ORDER BY rowid`, w.id, w.lineage)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if err := w.s.analyze(ctx, w.conn, "users"); err != nil {
		return err
	}
	w.counts.Users += int(n)
	return nil
}

// activityRun is the run whose user_activity rows this run shows.
func (w *RunWriter) activityRun() int64 {
	if w.activityFrom != 0 {
		return w.activityFrom
	}
	return w.id
}
