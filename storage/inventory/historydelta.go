package inventory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// An incremental run changes a few thousand users of a million; working
// out its history figures from every licensed user again (reading them
// back, with a map of everyone's activity) took 16.7 s of the 24.7 s such
// a run took (issue 21). The inactive and overlapping seats add up over
// users (HistoryFunc), so when nothing but users changed:
//
//	figures(run) = figures(previous run) - fn(the previous versions of the changed users) + fn(their new versions)
//
// "Nothing but users" is checked, else the figures are computed whole:
// the previous run's figures were stored under the same key
// (HistoryOptions.Key: the prices, the catalogue, the rules), both
// snapshots show the same report rows (hence the same activity per user)
// counted from the same reference date, neither read sign-ins (they are
// per run), usage is known in both or in neither, and both list the same
// SKUs (a user's seats count for the SKUs listed only). The users a run
// changed are the rows it bore and the previous snapshot's rows it marked
// died (share.go): replaced, removed or not listed again.

// deltaTenant counts run's tenant figures from those stored with prev
// (the current snapshot, which run changed): prev's minus the rows run
// marked died plus those it bore. ok is false when prev has none stored.
// Counting all users was 0.6 s of an incremental run at 1,000,000.
func deltaTenant(ctx context.Context, q querier, run, prev int64) (HistoryTenant, bool, error) {
	var t HistoryTenant
	err := q.QueryRowContext(ctx, "SELECT users, enabled, guests, licensed FROM run_tenant WHERE run_id = ?", prev).
		Scan(&t.Users, &t.Enabled, &t.Guests, &t.Licensed)
	if errors.Is(err, sql.ErrNoRows) {
		return t, false, nil
	}
	if err != nil {
		return t, false, fmt.Errorf("read the figures of the previous import: %w", err)
	}
	l, err := lineageOf(ctx, q, run)
	if err != nil {
		return t, false, err
	}
	gone, err := countTenant(ctx, q, usersDiedIn("", l, run))
	if err != nil {
		return t, false, err
	}
	born, err := countTenant(ctx, q, usersBornIn("", l, run))
	if err != nil {
		return t, false, err
	}
	t.Users += born.Users - gone.Users
	t.Enabled += born.Enabled - gone.Enabled
	t.Guests += born.Guests - gone.Guests
	t.Licensed += born.Licensed - gone.Licensed
	return t, true, nil
}

// storedFigures reads the inactive and overlapping seats stored with run
// under key; ok is false when there are none under it.
func storedFigures(ctx context.Context, q querier, run int64, key string) (map[string][2]int, bool, error) {
	rows, err := q.QueryContext(ctx, "SELECT sku_id, figures_key, inactive, overlapping FROM run_figures WHERE run_id = ?", run)
	if err != nil {
		return nil, false, fmt.Errorf("read the figures of the previous import: %w", err)
	}
	defer rows.Close()
	out := map[string][2]int{}
	for rows.Next() {
		var sku, k string
		var f [2]int
		if err := rows.Scan(&sku, &k, &f[0], &f[1]); err != nil {
			return nil, false, err
		}
		if k != key {
			return nil, false, nil
		}
		out[sku] = f
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	return out, len(out) > 0, nil
}

// writeRunFigures stores the run's tenant figures, and its inactive and
// overlapping seats under key when it has them (inside Finish's
// promotion).
func writeRunFigures(ctx context.Context, tx execer, run int64, day *historyDay, key string) error {
	t := day.tenant
	if _, err := tx.ExecContext(ctx, `INSERT INTO run_tenant (run_id, users, enabled, guests, licensed) VALUES (?, ?, ?, ?, ?)`,
		run, t.Users, t.Enabled, t.Guests, t.Licensed); err != nil {
		return fmt.Errorf("write the history: %w", err)
	}
	if !day.figured || key == "" {
		return nil
	}
	for _, s := range day.skus {
		if _, err := tx.ExecContext(ctx, `INSERT INTO run_figures (run_id, sku_id, figures_key, inactive, overlapping) VALUES (?, ?, ?, ?, ?)`,
			run, s.SkuID, key, s.InactiveAssigned, s.Overlapping); err != nil {
			return fmt.Errorf("write the history: %w", err)
		}
	}
	return nil
}

// sameSKUs says whether two snapshots list the same SKUs.
func sameSKUs(a, b []License) bool {
	ids := func(ls []License) []string {
		out := make([]string, len(ls))
		for i, l := range ls {
			out[i] = strings.ToLower(l.SkuID)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(ids(a), ids(b))
}

// deltaFigures works out the figures of the run being finished from those
// of prev (the current snapshot) and the users it changed; ok is false
// when the conditions above do not hold (the caller computes them
// whole). fix completes the run's record as historyFigures' does.
func (w *RunWriter) deltaFigures(ctx context.Context, prev int64, opts HistoryOptions, signIns string, fix func(*Run)) (HistoryFigures, bool, error) {
	fn := opts.Figures
	if fn == nil || opts.Key == "" || prev == 0 || w.reportsFrom == 0 || signIns == SignInsRead {
		return nil, false, nil
	}
	s := w.s
	prevReports, err := s.reportRun(ctx, prev)
	if err != nil || prevReports != w.reportsFrom {
		return nil, false, err
	}
	stored, ok, err := storedFigures(ctx, s.db, prev, opts.Key)
	if err != nil || !ok {
		return nil, false, err
	}
	prevHead, _, err := s.licenseFactsHead(ctx, prev, nil)
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, ErrNoSnapshot) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	head, _, err := s.licenseFactsHead(ctx, w.id, fix)
	if err != nil {
		return nil, false, err
	}
	if prevHead.Run.SignIns == SignInsRead || prevHead.Run.ActivityAsOf != head.Run.ActivityAsOf ||
		prevHead.UsageKnown != head.UsageKnown || !sameSKUs(prevHead.Licenses, head.Licenses) {
		return nil, false, nil
	}
	// The changed users, both versions, and their activity: held whole,
	// so a run that changed many (copied a snapshot other than the
	// current one) computes its figures whole instead, a part at a time.
	gone := usersDiedIn("u.", w.lineage, w.id)
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM users u WHERE "+gone+") + (SELECT COUNT(*) FROM users u WHERE "+
		usersBornIn("u.", w.lineage, w.id)+")").Scan(&n); err != nil {
		return nil, false, err
	}
	if n > historyChunk {
		return nil, false, nil
	}
	var old, changed []LicenseUser
	// In parts: a whole read sizes its slice for the snapshot's users.
	collect := func(into *[]LicenseUser) func([]LicenseUser) error {
		return func(us []LicenseUser) error { *into = append(*into, us...); return nil }
	}
	if err := s.licensedUsersOf(ctx, prev, prevHead.Run, gone, false, 1000, collect(&old)); err != nil {
		return nil, false, err
	}
	if err := s.licensedUsersOf(ctx, w.id, head.Run, usersBornIn("u.", w.lineage, w.id), false, 1000, collect(&changed)); err != nil {
		return nil, false, err
	}
	keys := make([]string, 0, len(old)+len(changed))
	for _, us := range [][]LicenseUser{old, changed} {
		for i := range us {
			keys = append(keys, us[i].key)
		}
	}
	activity, err := s.workloadActivityOf(ctx, w.reportsFrom, keys)
	if err != nil {
		return nil, false, err
	}
	figures := func(h *LicenseFacts, us []LicenseUser) (HistoryFigures, error) {
		for i := range us {
			us[i].Activity = activity[us[i].key]
			us[i].key = ""
		}
		part := *h
		part.Users = us
		return fn(ctx, &part)
	}
	// The price figures are the new run's (with no user: as when a
	// snapshot has no licensed user).
	out, err := figures(head, nil)
	if err != nil {
		return nil, false, err
	}
	minus, err := figures(prevHead, old)
	if err != nil {
		return nil, false, err
	}
	plus, err := figures(head, changed)
	if err != nil {
		return nil, false, err
	}
	for sku, f := range out {
		was := stored[sku]
		f.InactiveAssigned = was[0] - minus[sku].InactiveAssigned + plus[sku].InactiveAssigned
		f.Overlapping = was[1] - minus[sku].Overlapping + plus[sku].Overlapping
		out[sku] = f
	}
	return out, true, nil
}

// deltaActive sets the run's active users per SKU from the current
// snapshot's, as deltaFigures does the history's figures: when both show
// the same users' last activity (activity_run) counted from the same date
// and list the same SKUs, active(run) = active(current) - the changed
// users' previous versions active and holding the SKU + their new
// versions. ok is false when that does not hold (derive counts all users).
// Counting all users joined 1,000,000 rows with their activity (umu held,
// in derive's batch).
func (w *RunWriter) deltaActive(ctx context.Context, cutoff string) (bool, error) {
	if w.activityFrom == 0 {
		return false, nil
	}
	var prev, prevAct int64
	var prevAsOf string
	err := w.conn.QueryRowContext(ctx, `SELECT r.id, `+activityOf("r.id")+`, r.activity_as_of
		FROM current c JOIN runs r ON r.id = c.run_id WHERE c.connection_id = ?`, w.info.ConnectionID).Scan(&prev, &prevAct, &prevAsOf)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil || prevAct != w.activityFrom || prevAsOf != w.asOf {
		return false, err
	}
	counts := func(query string, args ...any) (map[string]int, error) {
		rows, err := w.conn.QueryContext(ctx, query, args...)
		return scanCounts[string](rows, err)
	}
	skus := "SELECT lower(sku_id), active FROM skus WHERE run_id = ?"
	was, err := counts(skus, prev)
	if err != nil {
		return false, err
	}
	mine, err := counts(skus, w.id)
	if err != nil {
		return false, err
	}
	if len(was) != len(mine) {
		return false, nil
	}
	for sku := range mine {
		if _, ok := was[sku]; !ok {
			return false, nil
		}
	}
	active := func(users string) (map[string]int, error) {
		return counts(`SELECT lower(j.value ->> 'skuId'), COUNT(*)
			FROM users u JOIN user_activity a ON a.run_id = ?1 AND a.upn_key = u.upn_key, json_each(u.assigned_licenses) j
			WHERE `+users+` AND a.last_activity >= ?2 GROUP BY 1`, w.activityFrom, cutoff)
	}
	minus, err := active(usersDiedIn("u.", w.lineage, w.id))
	if err != nil {
		return false, err
	}
	plus, err := active(usersBornIn("u.", w.lineage, w.id))
	if err != nil {
		return false, err
	}
	for sku := range mine {
		n := was[sku] - minus[sku] + plus[sku]
		if _, err := w.conn.ExecContext(ctx, "UPDATE skus SET active = ? WHERE run_id = ? AND lower(sku_id) = ?", n, w.id, sku); err != nil {
			return false, err
		}
	}
	return true, nil
}
