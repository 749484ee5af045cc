package inventory

import (
	"context"
	"database/sql"
	"slices"
)

// The BI views on PostgreSQL are dropped and created again when a build
// with other definitions opens the database (migratePG): PostgreSQL
// cannot replace a view whose columns changed. A dropped view takes its
// grants with it, so the GRANT SELECT ON beacon_users TO grafana a DBA
// gave would be lost at every update, and the dashboards with it. The
// grants are read before the drop and given again after the create, in
// the same transaction: a BI role never sees the views without them.

// pgViewGrants are the GRANT statements that give again what the beacon_
// views of the current schema grant to roles other than their owner
// (PUBLIC included), table privileges with their grant option. Column
// privileges are not kept: the views' columns are theirs to read whole.
// The schema is found by its name: current_schema()::regnamespace would
// parse the name again as an identifier, folding "Beacon" to beacon and
// refusing "Beacon Data".
func pgViewGrants(ctx context.Context, tx *sql.Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT 'GRANT ' || a.privilege_type || ' ON ' || quote_ident(c.relname) || ' TO '
			|| CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END
			|| CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END, c.relname
		FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
		WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) AND c.relkind = 'v' AND c.relname LIKE 'beacon\_%'
			AND a.grantee <> c.relowner
		ORDER BY c.relname, a.grantee, a.privilege_type`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ours := map[string]bool{}
	for _, v := range biViews() {
		ours[v.name] = true
	}
	var out []string
	for rows.Next() {
		var st, view string
		if err := rows.Scan(&st, &view); err != nil {
			return nil, err
		}
		// A view this build no longer has is not made again.
		if ours[view] && !slices.Contains(out, st) {
			out = append(out, st)
		}
	}
	return out, rows.Err()
}
