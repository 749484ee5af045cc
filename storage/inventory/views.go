package inventory

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
)

// The read-only views for BI tools (issue 21, docs/bi-views.md). Power
// BI, Grafana or Metabase read the inventory through them without knowing
// the internal tables, which change between builds (delta snapshots,
// report columns): the views' names and columns are a promise, kept
// stable, while their definitions follow the tables.
//
// Every view but beacon_runs shows only each connection's current
// snapshot: the run the current table names, which a run becomes only
// when it finishes well (Finish promotes it in one transaction), so a BI
// tool never sees a half-imported run. Times are UTC text in ISO 8601
// (what the BI tools parse as dates), flags 0 or 1.
//
// The definitions use only SQL that SQLite has had for years plus
// json_each/json_extract (the JSON functions, built in since 3.38 and
// compiled into most older builds), because a BI tool reads the file
// with its own SQLite, which may be older than this program's.

// isoTime renders a column of Unix nanoseconds as ISO 8601 UTC text.
func isoTime(col string) string {
	return "strftime('%Y-%m-%dT%H:%M:%SZ', " + col + " / 1000000000, 'unixepoch')"
}

// biView is one view: its name and its SELECT.
type biView struct {
	name, sel string
}

// biViews are the views in the order they are created. Their columns are
// listed in docs/bi-views.md; a test holds the two together, so that a
// change of a column is a deliberate one.
func biViews() []biView {
	return []biView{
		{"beacon_connections", `SELECT c.connection_id AS connection_id,
			(SELECT r2.connection_name FROM runs r2 WHERE r2.connection_id = c.connection_id ORDER BY r2.id DESC LIMIT 1) AS connection_name,
			COALESCE((SELECT s.account_id FROM skus s WHERE s.run_id = c.run_id AND s.account_id <> '' LIMIT 1), '') AS tenant_id,
			c.run_id AS run_id,
			` + isoTime("r.started") + ` AS import_started,
			` + isoTime("r.ended") + ` AS imported_at,
			r.status AS status,
			r.users AS users,
			r.skus AS skus,
			r.service_principals AS applications,
			r.activity_as_of AS activity_as_of
		FROM current c JOIN runs r ON r.id = c.run_id`},
		{"beacon_runs", `SELECT r.id AS run_id, r.connection_id AS connection_id, r.connection_name AS connection_name,
			r.trigger AS trigger, r.mode AS mode,
			` + isoTime("r.started") + ` AS started_at,
			CASE WHEN r.ended IS NULL THEN NULL ELSE ` + isoTime("r.ended") + ` END AS ended_at,
			r.status AS status,
			r.users AS users, r.assignments AS assignments, r.skus AS skus, r.service_principals AS applications,
			r.error AS error,
			CASE WHEN EXISTS (SELECT 1 FROM current c WHERE c.run_id = r.id) THEN 1 ELSE 0 END AS is_current
		FROM runs r`},
		{"beacon_users", `SELECT c.connection_id AS connection_id, u.id AS user_id,
			u.upn AS user_principal_name, u.display_name AS display_name, u.mail AS mail,
			u.department AS department, u.job_title AS job_title, u.usage_location AS usage_location,
			u.account_enabled AS account_enabled, u.user_type AS user_type,
			CASE WHEN u.created IS NULL THEN NULL ELSE ` + isoTime("u.created") + ` END AS created_at,
			u.licenses AS licenses,
			(SELECT a.last_activity FROM user_activity a WHERE a.run_id = ` + activityOf("c.run_id") + ` AND a.upn_key = u.upn_key) AS last_activity
		FROM current c JOIN lineages l ON l.connection_id = c.connection_id
			JOIN users u ON u.lineage = l.id AND u.died > c.run_id AND u.run_id <= c.run_id`},
		{"beacon_licenses", `SELECT c.connection_id AS connection_id, s.sku_id AS sku_id,
			s.sku_part_number AS sku_part_number, s.capability_status AS capability_status,
			s.prepaid_enabled AS purchased_enabled, s.prepaid_warning AS purchased_warning,
			s.prepaid_suspended AS purchased_suspended, s.prepaid_locked_out AS purchased_locked_out,
			s.prepaid_enabled + s.prepaid_warning AS purchased,
			s.assigned AS assigned,
			s.prepaid_enabled + s.prepaid_warning - s.assigned AS unassigned,
			s.active AS active, s.consumed_units AS consumed_units
		FROM current c JOIN skus s ON s.run_id = c.run_id`},
		{"beacon_user_licenses", `SELECT c.connection_id AS connection_id, u.id AS user_id,
			u.upn AS user_principal_name,
			json_extract(j.value, '$.skuId') AS sku_id,
			COALESCE((SELECT s.sku_part_number FROM skus s WHERE s.run_id = c.run_id AND lower(s.sku_id) = lower(json_extract(j.value, '$.skuId'))),
				json_extract(j.value, '$.skuId')) AS sku_part_number
		FROM current c JOIN lineages l ON l.connection_id = c.connection_id
			JOIN users u ON u.lineage = l.id AND u.died > c.run_id AND u.run_id <= c.run_id, json_each(u.assigned_licenses) j`},
		{"beacon_applications", `SELECT c.connection_id AS connection_id, p.id AS object_id, p.app_id AS app_id,
			p.display_name AS display_name, p.app_display_name AS app_display_name,
			p.publisher_name AS publisher_name, p.app_owner_organization_id AS owner_tenant_id,
			p.service_principal_type AS service_principal_type, p.account_enabled AS account_enabled
		FROM current c JOIN service_principals p ON p.run_id = c.run_id`},
		{"beacon_user_activity", `SELECT c.connection_id AS connection_id, a.upn_key AS user_principal_name,
			a.last_activity AS last_activity
		FROM current c JOIN user_activity a ON a.run_id = ` + activityOf("c.run_id")},
		// The licence history (history.go) is not a snapshot: every day
		// kept, for every connection it holds, deleted ones included.
		{"beacon_license_history", `SELECT cn.name AS connection_id, date(h.day * 86400, 'unixepoch') AS day,
			sk.name AS sku_id, h.purchased AS purchased, h.assigned AS assigned, h.active AS active,
			h.inactive AS inactive_assigned, h.overlapping AS overlapping,
			CASE WHEN h.price IS NULL THEN NULL ELSE round(h.price / 100.0, 2) END AS price,
			CASE WHEN h.price IS NULL THEN NULL WHEN h.yearly <> 0 THEN 'year' ELSE 'month' END AS price_per,
			cu.name AS currency,
			CASE WHEN h.cost IS NULL THEN NULL ELSE round(h.cost / 100.0, 2) END AS monthly_cost
		FROM history_skus h JOIN history_names cn ON cn.id = h.conn JOIN history_names sk ON sk.id = h.sku
			LEFT JOIN history_names cu ON cu.id = h.currency`},
		{"beacon_tenant_history", `SELECT cn.name AS connection_id, date(t.day * 86400, 'unixepoch') AS day,
			t.users AS users, t.enabled AS enabled, t.guests AS guests, t.licensed AS licensed
		FROM history_tenant t JOIN history_names cn ON cn.id = t.conn`},
		{"beacon_license_events", `SELECT cn.name AS connection_id, date(e.day * 86400, 'unixepoch') AS day,
			us.name AS user_principal_name, CASE WHEN e.sku = 0 THEN NULL ELSE sk.name END AS sku_id,
			CASE e.kind WHEN 1 THEN 'assigned' WHEN 2 THEN 'removed' WHEN 3 THEN 'user created'
				WHEN 4 THEN 'user deleted' WHEN 5 THEN 'disabled' WHEN 6 THEN 'enabled' END AS event
		FROM history_events e JOIN history_names cn ON cn.id = e.conn JOIN history_names us ON us.id = e.user
			LEFT JOIN history_names sk ON sk.id = e.sku`},
	}
}

// dropViews drops every beacon_ view, first thing in migrate's
// transaction: the tables may then change under them (SQLite refuses to
// drop or rename a column a view reads), and a view this build no longer
// has is gone.
func dropViews(ctx context.Context, tx *sql.Tx) error {
	old, err := viewsOf(ctx, tx)
	if err != nil {
		return err
	}
	for n := range old {
		if _, err := tx.ExecContext(ctx, `DROP VIEW IF EXISTS "`+n+`"`); err != nil {
			return fmt.Errorf("drop view %s: %w", n, err)
		}
	}
	return nil
}

// createViews creates this build's views, last thing in migrate's
// transaction, over the tables as this build left them.
func createViews(ctx context.Context, tx *sql.Tx) error {
	for _, v := range biViews() {
		if _, err := tx.ExecContext(ctx, "CREATE VIEW "+v.name+" AS "+v.sel); err != nil {
			return fmt.Errorf("create view %s: %w", v.name, err)
		}
	}
	return nil
}

// viewsOf lists the beacon_ views of a database (or of a transaction's
// view of it) with their definitions.
func viewsOf(ctx context.Context, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'view' AND name LIKE 'beacon\_%' ESCAPE '\'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var n, q string
		if err := rows.Scan(&n, &q); err != nil {
			return nil, err
		}
		out[n] = q
	}
	return out, rows.Err()
}

// viewsCurrent says whether the file's beacon_ views are exactly this
// build's, definitions included: a changed definition under the same
// name (the tables moved under it) is recreated too. It is apart from
// schemaCurrent because a read-only open needs the tables alone; a file
// that cannot be written keeps working with the views it has.
func (s *Store) viewsCurrent(ctx context.Context) (bool, error) {
	if _, err := referenceSchema(ctx); err != nil {
		return false, err
	}
	have, err := viewsOf(ctx, s.db)
	if err != nil {
		return false, err
	}
	return maps.Equal(have, reference.views), nil
}

// activityOf is the run whose user_activity rows the snapshot of run (an
// SQL expression) shows (Store.activityRun).
func activityOf(run string) string {
	return "(SELECT CASE WHEN ar.activity_run <> 0 THEN ar.activity_run ELSE ar.id END FROM runs ar WHERE ar.id = " + run + ")"
}
