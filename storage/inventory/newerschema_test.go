package inventory

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestNewerSchemaWhileRunning: a beacon left running while a newer build
// upgrades the shared database imports and prunes no more (it would by
// rules the newer schema no longer follows), says in plain words to
// update and restart, and still reads what was saved.
func TestNewerSchemaWhileRunning(t *testing.T) {
	forEachStoreOpenSame(t, func(t *testing.T, open func() *Store) {
		ctx := context.Background()
		running := open()
		run := importUsers(t, running, "conn-1", []User{{ID: "u1", UserPrincipalName: "a@contoso.example", AccountEnabled: true}}, Outcome{})
		setSchemaVersion(t, open(), schemaVersion+1) // the newer build's upgrade

		_, err := running.BeginRun(ctx, RunInfo{ConnectionID: "conn-1", ConnectionName: "Contoso"})
		var newer *NewerSchemaError
		if !errors.As(err, &newer) || newer.Version != schemaVersion+1 {
			t.Fatalf("BeginRun after the upgrade: %v, want a NewerSchemaError", err)
		}
		for _, say := range []string{"Contoso", "newer Inventory Beacon", "update Inventory Beacon", "start it again"} {
			if !strings.Contains(err.Error(), say) {
				t.Errorf("the error %q does not say %q", err, say)
			}
		}
		if err := running.prune(ctx, "conn-1"); !errors.As(err, &newer) {
			t.Fatalf("prune after the upgrade: %v, want a NewerSchemaError", err)
		}
		cur, err := running.CurrentRun(ctx, "conn-1")
		if err != nil || cur.ID != run.ID {
			t.Fatalf("the saved import after the upgrade: %+v, %v; want run %d", cur, err, run.ID)
		}
		runs, err := running.History(ctx, "conn-1", 10)
		if err != nil || len(runs) != 1 {
			t.Fatalf("runs after the refused import: %d, %v; want only the first (no run recorded)", len(runs), err)
		}
	})
}
