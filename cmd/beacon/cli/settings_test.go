package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// importOn records a small import of connID on day (one E3 seat, held by
// ana), so the licence history has that day.
func importOn(t *testing.T, dir, connID string, day time.Time) {
	t.Helper()
	ctx := context.Background()
	s, err := inventory.OpenDir(ctx, dir, inventory.Options{Now: func() time.Time { return day }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w, err := s.BeginRun(ctx, inventory.RunInfo{ConnectionID: connID, ConnectionName: connID, Trigger: inventory.TriggerCLI})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddSKUs(ctx, []inventory.SKU{{SkuID: skuE3, SkuPartNumber: "ENTERPRISEPACK", PrepaidUnits: inventory.PrepaidUnits{Enabled: 7}, SubscriptionIDs: []string{}}}); err != nil {
		t.Fatal(err)
	}
	if err := w.AddUsers(ctx, []inventory.User{{ID: "id-ana", UserPrincipalName: "ana@fabrikam.example", AccountEnabled: true,
		AssignedLicenses: []inventory.AssignedLicense{{SkuID: skuE3, DisabledPlans: []string{}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(ctx, inventory.Outcome{Status: inventory.StatusSucceeded}); err != nil {
		t.Fatal(err)
	}
}

// historyDays counts the days of a connection's history.
func historyDays(t *testing.T, dir, connID string) int {
	t.Helper()
	ctx := context.Background()
	s, err := inventory.OpenDir(ctx, dir, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts, err := s.HistoryTenants(ctx, connID, inventory.HistoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return len(ts)
}

// TestSettingsHistoryMonths: the retention is forever by default; setting
// a shorter one says what it would delete and changes nothing without
// --yes, and with it saves the retention and deletes the older days at
// once, of every connection's history and of a removed connection's kept
// one; bad values are refused.
func TestSettingsHistoryMonths(t *testing.T) {
	dir := t.TempDir()
	cfg := &storage.Config{Version: storage.ConfigVersion, Connections: []storage.Connection{{
		ID: "conn-fabrikam", Name: "Fabrikam", SourceType: storage.SourceMicrosoft365, Cloud: "Global", ClientID: "c", AuthFlow: storage.FlowAuthorizationCode,
	}}}
	cs := storage.NewConfigStore(dir)
	if err := cs.Save(cfg); err != nil {
		t.Fatal(err)
	}
	// Without a database, any retention is set at once: there is no
	// history to delete.
	if code, out, errs := runIn(dir, "settings", "set", "history-months", "120"); code != ExitOK || !strings.Contains(out, "120 months") {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	if code, out, errs := runIn(dir, "settings", "set", "history-months", "forever"); code != ExitOK || out != "Keeping the licence history forever.\n" {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	now := clock.Now().UTC()
	for _, ago := range []int{400, 200, 10, 0} {
		importOn(t, dir, "conn-fabrikam", now.AddDate(0, 0, -ago))
	}
	importOn(t, dir, "conn-gone", now.AddDate(0, 0, -300))

	code, out, errs := runIn(dir, "settings", "show")
	if code != ExitOK || out != "history-months\tforever\t(the licence history is kept forever)\n" {
		t.Fatalf("show: exit %d: %q %s", code, out, errs)
	}
	cutoff := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, -6, 0).Format(time.DateOnly)
	code, out, errs = runIn(dir, "settings", "set", "history-months", "6")
	if code != ExitFailed || !strings.Contains(out, "This deletes 3 days of licence history older than "+cutoff) ||
		!strings.Contains(out, "Fabrikam: 2 days; a removed connection: 1 day") || !strings.Contains(errs, "--yes") {
		t.Fatalf("without --yes: exit %d:\n%s%s", code, out, errs)
	}
	if n := historyDays(t, dir, "conn-fabrikam"); n != 4 {
		t.Fatalf("without --yes, %d days are left of 4", n)
	}
	if got, _ := cs.Load(); got.HistoryMonths != 0 {
		t.Fatalf("without --yes, the retention was saved: %d months", got.HistoryMonths)
	}

	code, out, errs = runIn(dir, "settings", "set", "history-months", "6", "--yes")
	if code != ExitOK || !strings.Contains(out, "Keeping the licence history for 6 months; deleted 3 days older than "+cutoff) {
		t.Fatalf("--yes: exit %d:\n%s%s", code, out, errs)
	}
	if f, g := historyDays(t, dir, "conn-fabrikam"), historyDays(t, dir, "conn-gone"); f != 2 || g != 0 {
		t.Fatalf("after --yes: Fabrikam keeps %d days (want 2), the removed connection %d (want 0)", f, g)
	}
	if code, out, _ := runIn(dir, "settings", "show"); code != ExitOK || !strings.HasPrefix(out, "history-months\t6\t(the licence history is kept for 6 months)") {
		t.Fatalf("show: exit %d: %q", code, out)
	}
	// Longer again: nothing to delete, no --yes needed.
	if code, out, errs := runIn(dir, "settings", "set", "history-months", "24 months"); code != ExitOK || strings.Contains(out, "deleted") {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	for _, bad := range [][]string{{"settings", "set", "history-months", "-3"}, {"settings", "set", "history-months", "a year"},
		{"settings", "set", "history-months", "1201"}, {"settings", "set", "colour", "blue"}, {"settings", "set", "history-months"},
		{"settings", "frob"}} {
		if code, _, errs := runIn(dir, bad...); code != ExitUsage || errs == "" {
			t.Errorf("%v: exit %d, %q", bad, code, errs)
		}
	}
	if code, out, _ := runIn(dir, "help"); code != ExitOK || !strings.Contains(out, "settings show | set history-months MONTHS|forever") {
		t.Errorf("beacon help does not list the settings:\n%s", out)
	}
}
