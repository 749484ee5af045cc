package inventory

import (
	"context"
	"database/sql"
)

// HistoryConnections lists the connections that have a licence history,
// by id: those of the configuration and those removed with their history
// kept, which a retention applies to as well.
func (s *Store) HistoryConnections(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT name FROM history_names WHERE kind = ? ORDER BY name", nameConnection)
	return scanAll(rows, err, func(rows *sql.Rows, id *string) error { return rows.Scan(id) })
}
