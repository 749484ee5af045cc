package importer

import (
	"context"
	"fmt"
	"strings"

	"github.com/inventorybeacon/beacon/internal/graphperm"
	"github.com/inventorybeacon/beacon/storage"
)

// A stage Graph refuses (403) for want of a permission is skipped, never
// the run's end, except the users (graphperm.Stages says which stage needs
// what). Whether that is worth a warning depends on the connection's
// permission profile: a stage the profile asks a permission for was meant
// to run, so the administrator is told which permission is missing and
// where to grant it; a stage the profile leaves out on purpose (licensing
// group names under Least privilege) is skipped quietly, as the dialog
// said it would be.

// expected reports whether the connection's profile means stage to run.
func (r *run) expected(stage string) bool {
	c := r.o.Conn
	return graphperm.Expected(stage, c.Permissions, c.CustomScopes, c.SignInActivity)
}

// refusedWarning is the warning of a stage Graph refused: what is missing
// from the data, then why and what to do (refusal).
func (r *run) refusedWarning(stage string, cause error) string {
	s, _ := graphperm.LookupStage(stage)
	verb := "were"
	if !strings.HasSuffix(s.Name, "s") {
		verb = "was"
	}
	return fmt.Sprintf("%s %s not imported, so %s: %s (%v)", s.Name, verb, s.Without, r.refusal(stage), cause)
}

// refusal says which permission the profile asks for the stage and is
// missing, and where to grant it (no link when the provider has no such
// page).
func (r *run) refusal(stage string) string {
	s, _ := graphperm.LookupStage(stage)
	c := r.o.Conn
	perm := s.Asked(c.Permissions, c.CustomScopes, c.SignInActivity)
	kind := "delegated"
	again := ", then sign in again with Generate..."
	if c.AuthFlow == storage.FlowClientCredentials {
		kind, again = "application", ""
	}
	grant := "Ask an administrator to grant it (admin consent)" + again + "."
	if r.o.ConsentURL != "" {
		grant = "An administrator grants it at " + r.o.ConsentURL + again + "."
	}
	return fmt.Sprintf("the connection lacks the %s permission %s. %s", kind, perm, grant)
}

// skipRefused records a stage Graph refused: a warning when the profile
// expected it, a log line when it did not.
func (r *run) skipRefused(ctx context.Context, stage string, cause error) {
	if r.expected(stage) {
		r.warn(r.refusedWarning(stage, cause))
		return
	}
	r.o.Logger.InfoContext(ctx, "stage skipped: the permission profile does not ask for it", "stage", stage, "err", cause)
}

// usersRefused explains a refused users stage, which fails the run.
func (r *run) usersRefused(cause error) error {
	return fmt.Errorf("read users: %s (%w)", r.refusal(graphperm.StageUsers), cause)
}
