package inventory

import (
	"context"
	"database/sql"
	"fmt"
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
	ID, UPN, DisplayName, Department string
	Enabled                          bool
	UserType                         string
	Created                          time.Time
	// SkuIDs are the assigned licences; States the assignment states
	// when some licence came through a group or failed (else nil: all
	// direct).
	SkuIDs   []string
	States   []LicenseAssignmentState
	Activity [NumWorkloads]time.Time
	SignIn   SignIn
}

// LicenseFacts reads the facts of a connection's current snapshot (or of
// q.RunID).
func (s *Store) LicenseFacts(ctx context.Context, connID string, q Query) (*LicenseFacts, error) {
	run, err := s.snapshotRun(ctx, connID, q)
	if err != nil {
		return nil, err
	}
	f := &LicenseFacts{Groups: map[string]string{}}
	if f.Run, err = s.Run(ctx, run); err != nil {
		return nil, err
	}
	if f.Licenses, err = s.Licenses(ctx, connID, Query{RunID: run}); err != nil {
		return nil, err
	}
	for _, l := range f.Licenses {
		f.UsageKnown = f.UsageKnown || l.UsageKnown
	}
	if !f.UsageKnown {
		f.UsageProblem = usageProblem(f.Run)
	}
	reports, err := s.reportRun(ctx, run)
	if err != nil {
		return nil, err
	}
	grows, err := s.db.QueryContext(ctx, "SELECT id, display_name FROM license_groups WHERE run_id = ?", run)
	if err != nil {
		return nil, fmt.Errorf("read licensing groups: %w", err)
	}
	for grows.Next() {
		var id, name string
		if err := grows.Scan(&id, &name); err != nil {
			grows.Close()
			return nil, err
		}
		f.Groups[strings.ToLower(id)] = name
	}
	grows.Close()
	if err := grows.Err(); err != nil {
		return nil, err
	}

	act, app := Report(ReportActiveUsers).Table, Report(ReportAppUsage).Table
	rows, err := s.db.QueryContext(ctx, `SELECT u.id, u.upn, u.display_name, u.department, u.account_enabled, u.user_type, u.created,
		u.assigned_licenses, u.license_states,
		a.exchange_last_activity_date, a.onedrive_last_activity_date, a.sharepoint_last_activity_date,
		a.teams_last_activity_date, a.yammer_last_activity_date, p.last_activity_date,
		si.interactive, si.non_interactive, si.successful
		FROM users u
		LEFT JOIN `+act+` a ON a.run_id = ?2 AND a.upn_key = u.upn_key
		LEFT JOIN `+app+` p ON p.run_id = ?2 AND p.upn_key = u.upn_key
		LEFT JOIN sign_ins si ON si.run_id = u.run_id AND si.user_id = u.id
		WHERE u.run_id = ?1 AND (u.assigned_licenses <> '[]' OR u.license_states <> '')
		ORDER BY u.rowid`, run, reports)
	if err != nil {
		return nil, fmt.Errorf("read licensed users: %w", err)
	}
	defer rows.Close()
	var (
		created                sql.NullInt64
		licenses, states       string
		days                   [NumWorkloads]sql.NullString
		inter, nonInter, succe sql.NullInt64
	)
	for rows.Next() {
		var u LicenseUser
		if err := rows.Scan(&u.ID, &u.UPN, &u.DisplayName, &u.Department, &u.Enabled, &u.UserType, &created,
			&licenses, &states, &days[0], &days[1], &days[2], &days[3], &days[4], &days[5],
			&inter, &nonInter, &succe); err != nil {
			return nil, err
		}
		if created.Valid {
			u.Created = time.Unix(0, created.Int64).UTC()
		}
		for _, l := range decodeJSON[[]AssignedLicense](licenses) {
			u.SkuIDs = append(u.SkuIDs, l.SkuID)
		}
		if states != "" {
			u.States = decodeJSON[[]LicenseAssignmentState](states)
		}
		for i, d := range days {
			if d.Valid && d.String != "" {
				u.Activity[i], _ = time.Parse(DateLayout, d.String)
			}
		}
		u.SignIn = SignIn{UserID: u.ID, Interactive: unixTime(inter), NonInteractive: unixTime(nonInter), Successful: unixTime(succe)}
		f.Users = append(f.Users, u)
	}
	return f, rows.Err()
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
