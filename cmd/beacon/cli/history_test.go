package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// TestHistoryCommand: the daily figures and the events of the small
// snapshot, then of a second import in which only ana is left, in each
// format, and the usage errors.
func TestHistoryCommand(t *testing.T) {
	dir := smallSnapshot(t)
	code, out, errs := runIn(dir, "history", "Fabrikam", "--format", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rows []historyRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	byID := map[string]historyRow{}
	for _, r := range rows {
		byID[r.SkuID] = r
	}
	if e3 := byID[skuE3]; len(rows) != 4 || e3.Purchased != 7 || e3.Assigned != 6 || e3.Name != "Office 365 E3" || e3.Price != nil {
		t.Fatalf("rows %+v", rows)
	}

	// A second import of the day, in which only ana is left.
	importOn(t, dir, "conn-fabrikam", clock.Now())

	code, out, errs = runIn(dir, "history", "Fabrikam", "--events", "--user", "DEE@fabrikam.example")
	if code != ExitOK || !strings.Contains(out, "user deleted") || strings.Count(out, "removed") != 2 || !strings.Contains(out, "Office 365 E3") {
		t.Fatalf("exit %d, events:\n%s%s", code, out, errs)
	}
	file := filepath.Join(t.TempDir(), "history.csv")
	if code, _, errs := runIn(dir, "history", "fabrikam", "--sku", "ENTERPRISEPACK", "--format", "csv", "--output", file); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// The day's second import replaced its figures: one E3 row, 1 assigned.
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if !strings.HasPrefix(lines[0], "\ufeffDate,SKU,SKU ID,Purchased,Assigned") || len(lines) != 2 || !strings.Contains(lines[1], skuE3+",7,1,") {
		t.Fatalf("CSV:\n%s", data)
	}
	code, out, _ = runIn(dir, "history", "Fabrikam", "--since", "2999-01-01")
	if code != ExitOK || !strings.Contains(out, "no history in this range") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, bad := range [][]string{{"history", "Fabrikam", "--format", "xml"}, {"history", "Fabrikam", "--user", "a@b"},
		{"history", "Fabrikam", "--since", "yesterday"}, {"history"}, {"history", "Fabrikam", "--sku", "NOSUCHSKU"}} {
		if code, _, errs := runIn(dir, bad...); code != ExitUsage || errs == "" {
			t.Errorf("%v: exit %d, %q", bad, code, errs)
		}
	}
	if code, _, errs := runIn(dir, "history", "Nobody"); code != ExitFailed || !strings.Contains(errs, "no connection named") {
		t.Errorf("unknown connection: exit %d, %q", code, errs)
	}
}

// TestRemoveConnectionKeepsOrDeletesHistory: removing a connection keeps
// its history unless --delete-history says otherwise.
func TestRemoveConnectionKeepsOrDeletesHistory(t *testing.T) {
	ctx := context.Background()
	days := func(dir string) int {
		s, err := inventory.OpenDir(ctx, dir, inventory.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ts, err := s.HistoryTenants(ctx, "conn-fabrikam", inventory.HistoryQuery{})
		if err != nil {
			t.Fatal(err)
		}
		return len(ts)
	}
	for _, del := range []bool{false, true} {
		dir := smallSnapshot(t)
		args := []string{"connection", "remove", "Fabrikam", "--yes"}
		if del {
			args = append(args, "--delete-history")
		}
		code, out, errs := runIn(dir, args...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		if want := map[bool]int{false: 1, true: 0}[del]; days(dir) != want || strings.Contains(out, "kept") == del {
			t.Errorf("%v: %d days of history left, want %d; %s", args, days(dir), want, out)
		}
	}
}
