package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

func init() {
	Register(Command{
		Name:    "list",
		Summary: "list the connections with their last import and its result",
		Usage:   "[--format text|json]",
		Run:     runList,
	})
}

// listEntry is one connection as `beacon list --format json` prints it.
type listEntry struct {
	Name         string         `json:"name"`
	ID           string         `json:"id"`
	Type         string         `json:"type"`
	Endpoint     string         `json:"endpoint"`
	Schedule     string         `json:"schedule"`
	SignedInAs   string         `json:"signedInAs,omitempty"`
	LastRun      *inventory.Run `json:"lastRun,omitempty"`
	CurrentRunID int64          `json:"currentRunId,omitempty"`
	CurrentUsers int            `json:"currentUsers,omitempty"`
	// ActivityAsOf is the current snapshot's activity reference date.
	ActivityAsOf string `json:"activityAsOf,omitempty"`
	// SignIn is the age of the sign-in (Authorization Code).
	SignIn string `json:"signIn,omitempty"`
	// Expires are the credentials' end dates known to the app (the
	// certificate's, the app registration's as read from Graph).
	Expires []listExpiry `json:"expires,omitempty"`
	// Warnings are the expiry warnings due (within 30 days).
	Warnings []string `json:"warnings,omitempty"`
}

type listExpiry struct {
	What string    `json:"what"`
	Ends time.Time `json:"ends"`
}

func runList(ctx context.Context, env *Env, args []string) int {
	c, _ := Lookup("list")
	fset := NewFlagSet(env, c)
	format := fset.String("format", "text", "text or json")
	if code, ok := ParseFlags(fset, args); !ok {
		return code
	}
	if fset.NArg() != 0 || (*format != "text" && *format != "json") {
		fset.Usage()
		return ExitUsage
	}
	cfg, err := storage.NewConfigStore(env.ConfigDir).Load()
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon list: %v\n", err)
		return ExitFailed
	}
	last := map[string]inventory.Run{}
	current := map[string]inventory.Run{}
	var seats []inventory.License // every current snapshot's SKUs, for the totals line
	// Listing must not create a database where none is: no file, no runs.
	if exists, err := inventoryExists(env); err == nil && exists {
		store, err := openInventory(ctx, env, inventory.Options{})
		if err != nil {
			fmt.Fprintf(env.Stderr, "beacon list: %v\n", err)
			return ExitFailed
		}
		defer store.Close()
		if last, err = store.LastRuns(ctx); err != nil {
			fmt.Fprintf(env.Stderr, "beacon list: %v\n", err)
			return ExitFailed
		}
		for _, conn := range cfg.Connections {
			if r, err := store.CurrentRun(ctx, conn.ID); err == nil {
				current[conn.ID] = r
			}
		}
		if len(cfg.Connections) > 1 {
			if seats, _, err = service.SumLicenses(ctx, store, cfg.Connections); err != nil {
				fmt.Fprintf(env.Stderr, "beacon list: %v\n", err)
				return ExitFailed
			}
		}
	} else if err != nil {
		fmt.Fprintf(env.Stderr, "beacon list: %v\n", err)
		return ExitFailed
	}
	schedules := map[string]string{}
	for _, s := range cfg.Schedules {
		schedules[s.ID] = s.Name
	}
	now := clock.Now()
	// The state only adds the expiry details: a listing goes on without.
	state, err := storage.NewConfigStore(env.ConfigDir).LoadState()
	if err != nil {
		state = &storage.State{}
	}
	var entries []listEntry
	for _, conn := range cfg.Connections {
		e := listEntry{Name: conn.Name, ID: conn.ID, Type: conn.SourceType, Endpoint: conn.GraphEndpoint, Schedule: "Not scheduled"}
		if conn.ScheduleID != "" {
			e.Schedule = schedules[conn.ScheduleID]
			if e.Schedule == "" {
				e.Schedule = "(missing schedule)"
			}
		}
		if conn.Token != nil {
			e.SignedInAs = conn.Token.Account
		}
		if r, ok := last[conn.ID]; ok {
			e.LastRun = &r
		}
		if r, ok := current[conn.ID]; ok {
			e.CurrentRunID, e.CurrentUsers, e.ActivityAsOf = r.ID, r.Counts.Users, r.ActivityAsOf
		}
		st := state.Of(conn.ID)
		e.SignIn = connector.SignInAge(conn, st, now)
		if conn.UsesCertificate() && conn.Certificate != nil && !conn.Certificate.NotAfter.IsZero() {
			e.Expires = append(e.Expires, listExpiry{What: "certificate " + conn.Certificate.Thumbprint, Ends: conn.Certificate.NotAfter})
		}
		for _, a := range st.AppCredentials {
			e.Expires = append(e.Expires, listExpiry{What: "app registration " + a.Kind + " " + a.Name, Ends: a.End})
		}
		for _, w := range connector.ExpiryWarnings(conn, st, now) {
			e.Warnings = append(e.Warnings, w.Text)
		}
		entries = append(entries, e)
	}
	if *format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if entries == nil {
			entries = []listEntry{}
		}
		if err := enc.Encode(entries); err != nil {
			return ExitFailed
		}
		return ExitOK
	}
	if len(entries) == 0 {
		fmt.Fprintln(env.Stdout, "No connections. Create one in the window (Data collection > Inventory Systems > New > PowerShell) or with `beacon connection add NAME`.")
		return ExitOK
	}
	tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tENDPOINT\tSCHEDULE\tLAST RUN\tLAST RESULT\tUSERS\tACTIVITY AS OF")
	for _, e := range entries {
		lastRun, result, users, asOf := "never", "-", "-", "-"
		if e.LastRun != nil {
			lastRun = e.LastRun.Started.Local().Format(time.DateTime)
			result = string(e.LastRun.Status)
		}
		if e.CurrentRunID != 0 {
			users = fmt.Sprint(e.CurrentUsers)
		}
		if e.ActivityAsOf != "" {
			asOf = e.ActivityAsOf
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, e.Type, e.Endpoint, e.Schedule, lastRun, result, users, asOf)
	}
	tw.Flush()
	if len(entries) > 1 {
		writeListTotals(env.Stdout, entries, seats)
	}
	// A listing succeeds even when something is about to expire: the
	// warnings are for the reader, and scripts read --format json.
	for _, e := range entries {
		if e.SignIn != "" {
			fmt.Fprintf(env.Stdout, "%s: %s.\n", e.Name, e.SignIn)
		}
		for _, w := range e.Warnings {
			fmt.Fprintf(env.Stdout, "Warning: %s\n", w)
		}
	}
	return ExitOK
}

// writeListTotals is the line under the table across every connection
// (issue 21: service providers list many tenants): users and licence
// seats of the current imports, summed; `beacon optimize --all` has them
// per SKU with cost and waste.
func writeListTotals(w io.Writer, entries []listEntry, seats []inventory.License) {
	users, imported := 0, 0
	for _, e := range entries {
		if e.CurrentRunID != 0 {
			users += e.CurrentUsers
			imported++
		}
	}
	purchased, assigned := 0, 0
	for _, l := range seats {
		purchased += l.Purchased
		assigned += l.Assigned
	}
	fmt.Fprintf(w, "Total: %s in %d of %d connections; %d licences purchased, %d assigned (per SKU with cost and waste: `beacon optimize --all`)\n",
		plural(users, "user"), imported, len(entries), purchased, assigned)
}
