package importer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/internal/graphperm"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// What licence reclamation reads beside the users (issue 17): the names
// of the groups that assign licences, and signInActivity. Neither may fail
// an import: without them the Optimization page names groups by ID and
// counts inactivity from the usage reports, and says so.

// GroupNamesWarning is the warning of a run refused the licensing
// groups; groupNamesFailed that of a run that failed to read them.
const (
	GroupNamesWarning = "Group names were not read: listing the groups that assign licences needs the GroupMember.Read.All permission " +
		"(or Group.Read.All or Directory.Read.All), so licences that come from a group are shown by the group's ID"
	groupNamesFailed = "Group names were not read (%s), so licences that come from a group are shown by the group's ID"
)

// The notices of a run that did not read sign-in activity
// (inventory.Run.SignIns): one line each, shown on the Optimization page.
const (
	SignInsNoPremium  = "Sign-in activity was not read: the tenant has no Microsoft Entra ID P1 licence, so inactivity comes from the usage reports."
	SignInsNoAuditLog = "Sign-in activity was not read: the connection lacks the AuditLog.Read.All permission, so inactivity comes from the usage reports."
	signInsFailed     = "Sign-in activity was not read (%s), so inactivity comes from the usage reports."
)

// auditLogPermission is what signInActivity needs beside Entra ID P1.
const auditLogPermission = "AuditLog.Read.All"

// licenseGroups stores the groups that assign licences. A refusal or a
// failure (a tenant or proxy refusing the advanced query, say) is a
// warning, never the run's end: the groups' IDs are in the users'
// assignment states anyway, only their names are missing.
func (r *run) licenseGroups(ctx context.Context) error {
	groups, err := r.o.Client.LicenseGroups(ctx)
	switch {
	case err != nil && ctx.Err() != nil:
		return context.Cause(ctx)
	case errors.Is(err, graph.ErrForbidden):
		r.o.Logger.Info("licensing groups not read", "err", err)
		if r.expected(graphperm.StageGroups) {
			// The profile asks for a permission that lists them: the
			// administrator has not granted it.
			r.warn(GroupNamesWarning + ". " + capitalise(r.refusal(graphperm.StageGroups)))
		}
		return nil
	case err != nil:
		r.o.Logger.Warn("licensing groups not read", "err", err)
		r.warn(fmt.Sprintf(groupNamesFailed, err))
		return nil
	}
	return r.w.AddLicenseGroups(ctx, groupRows(groups))
}

// signInActivity reads every user's signInActivity when the connection
// may (its token names AuditLog.Read.All, or names no grant), and
// records whether it did or why not (run.signIns). Only a cancellation
// fails the stage: any refusal or failure leaves the snapshot without
// sign-ins, never without users. Incremental runs read it too: sign-ins
// change every day and no delta round carries them.
func (r *run) signInActivity(ctx context.Context) error {
	g, known, err := r.o.Client.Grants(ctx)
	if err != nil {
		// The token is refused: the users stage meets the same error
		// and fails the run with it.
		return r.signInsSkipped(ctx, err)
	}
	// A readable token that names no grant at all says nothing either.
	if known && len(g.Scopes)+len(g.Roles) > 0 && !g.Has(auditLogPermission) {
		r.noAuditLog(errors.New("the access token names no " + auditLogPermission))
		return nil
	}
	// Reported only once reading starts: a stage not read at all stays
	// "Not read" in the window rather than showing a bar done with 0.
	r.o.Progress(StageSignIns, 0, 0)
	n, err := r.listSignIns(ctx)
	if err != nil {
		if derr := r.w.DiscardSignIns(context.WithoutCancel(ctx)); derr != nil && ctx.Err() == nil {
			return derr
		}
		return r.signInsSkipped(ctx, err)
	}
	r.o.Logger.Debug("sign-in activity read", "users", n)
	r.o.Progress(StageSignIns, n, n)
	r.setSignIns(inventory.SignInsRead)
	return nil
}

// signInsSkipped records why sign-ins were not read; a cancelled run
// stays cancelled.
func (r *run) signInsSkipped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	switch {
	case errors.Is(err, graph.ErrNoPremium):
		r.setSignIns(SignInsNoPremium)
	case errors.Is(err, graph.ErrForbidden):
		r.noAuditLog(err)
	default:
		r.o.Logger.Warn("sign-in activity not read", "err", err)
		r.setSignIns(fmt.Sprintf(signInsFailed, err))
	}
	return nil
}

// noAuditLog records sign-ins not read for want of AuditLog.Read.All: a
// notice on the Optimization page, and a warning too when the connection
// asked for it (Sign-in activity ticked) and it was not granted.
func (r *run) noAuditLog(cause error) {
	r.setSignIns(SignInsNoAuditLog)
	if r.expected(graphperm.StageSignIns) {
		r.warn(r.refusedWarning(graphperm.StageSignIns, cause))
	}
}

func (r *run) setSignIns(s string) {
	r.mu.Lock()
	r.signIns = s
	r.mu.Unlock()
}

// listSignIns lists and stores the sign-ins: sharded as the users are
// (834 pages of 120 at 100,000 users, two minutes one after another at
// 150 ms a round trip), or in one pass in the sequential mode, when the
// tenant refuses the shard filter, or when the shards do not add up.
func (r *run) listSignIns(ctx context.Context) (int, error) {
	if r.o.Sequential {
		return r.signInsPlain(ctx)
	}
	total, shards, err := r.countShards(ctx)
	switch {
	case errors.Is(err, graph.ErrFilterRejected):
		return r.signInsPlain(ctx)
	case err != nil:
		return 0, err
	}
	sum := 0
	for _, s := range shards {
		sum += s.count
	}
	if sum != total {
		return r.signInsPlain(ctx)
	}
	list := func() shardLister[[]inventory.SignIn] {
		return func(ctx context.Context, prefix string, put func([]inventory.SignIn) error) error {
			return r.o.Client.SignInsWithPrefix(ctx, prefix, func(page []graph.SignInUser) error {
				return put(signInRows(nil, page)) // a fresh slice: the store takes it on another goroutine
			})
		}
	}
	store := func(ctx context.Context, sis []inventory.SignIn) (int, error) {
		return len(sis), r.w.AddSignIns(ctx, sis)
	}
	n, err := fetchSharded(ctx, r, total, shards, graph.SignInPageSize, list, store, func(done int) {
		r.o.Progress(StageSignIns, done, max(total, done))
	})
	if errors.Is(err, graph.ErrFilterRejected) || (err == nil && n != total) {
		// A user listed twice would be counted twice: none rather than
		// some twice.
		r.o.Logger.Info("sharded sign-in listing incomplete; listing in one pass", "read", n, "counted", total, "err", err)
		if err := r.w.DiscardSignIns(ctx); err != nil {
			return 0, err
		}
		return r.signInsPlain(ctx)
	}
	return n, err
}

// signInsPlain lists the sign-ins in one chain of pages.
func (r *run) signInsPlain(ctx context.Context) (int, error) {
	n := 0
	var buf []inventory.SignIn // the store side's: one page at a time
	err := pipeline(ctx, r.o.Sequential, r.o.Client.SignIns, func(ctx context.Context, page []graph.SignInUser) error {
		buf = signInRows(buf, page)
		n += len(buf)
		if err := r.w.AddSignIns(ctx, buf); err != nil {
			return err
		}
		r.o.Progress(StageSignIns, n, 0) // no count: the bar says how many were read
		return nil
	})
	return n, err
}

// capitalise starts a sentence.
func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
