package ui

import (
	"context"
	"fyne.io/fyne/v2"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// retentionInventory has a history of four days: 400, 200, 10 and 1 days
// ago (by the program's clock).
func retentionInventory(t *testing.T) *inventory.Store {
	t.Helper()
	ctx := context.Background()
	fc := clock.NewFake(clock.Now().UTC().AddDate(0, 0, -400))
	s, err := inventory.OpenDir(ctx, t.TempDir(), inventory.Options{Now: fc.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, step := range []int{0, 200, 190, 9} {
		fc.Advance(time.Duration(step) * 24 * time.Hour)
		w, err := s.BeginRun(ctx, inventory.RunInfo{ConnectionID: trendConn, ConnectionName: "Contoso", Trigger: inventory.TriggerCLI})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.AddSKUs(ctx, []inventory.SKU{{SkuID: trendE3, SkuPartNumber: "ENTERPRISEPACK",
			PrepaidUnits: inventory.PrepaidUnits{Enabled: 10}, SubscriptionIDs: []string{}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Finish(ctx, inventory.Outcome{Status: inventory.StatusSucceeded}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestPreferencesRetention: File → Preferences shows the licence
// history's retention (forever by default); a bad number is refused under
// the field; a shorter retention asks first, saying what it deletes, and
// Cancel changes nothing; confirmed, it is saved in the configuration and
// the older days are gone at once; Forever again needs no confirmation.
func TestPreferencesRetention(t *testing.T) {
	store := retentionInventory(t)
	m := dataWindow(t, store, trendConn, Deps{})
	var r *retentionSection
	onUI(func() {
		m.menu.preferences.Action()
		r = m.prefsDialog.retention
	})
	days := func() int {
		ts, err := store.HistoryTenants(context.Background(), trendConn, inventory.HistoryQuery{})
		if err != nil {
			t.Fatal(err)
		}
		return len(ts)
	}
	saved := func() int {
		cfg, err := m.draft.repo.Config.Load()
		if err != nil {
			t.Fatal(err)
		}
		return cfg.HistoryMonths
	}
	onUI(func() {
		if r.choice.Selected != retentionForever || !r.months.Disabled() {
			t.Errorf("the retention opens on %q (months field disabled: %v), want Forever", r.choice.Selected, r.months.Disabled())
		}
	})
	for _, bad := range []string{"abc", "0", "-2", "5000"} {
		onUI(func() {
			r.choice.SetSelected(retentionMonths)
			r.months.SetText(bad)
			test.Tap(r.apply)
			if !r.status.Visible() || !strings.Contains(r.status.Text, "number of months") || r.pending != 0 {
				t.Errorf("%q: status %q", bad, r.status.Text)
			}
		})
	}
	// Enter in the months field is Apply, not the dialog's Close, which
	// would drop what was typed.
	onUI(func() {
		r.status.SetText("")
		r.choice.SetSelected(retentionMonths)
		r.months.SetText("abc")
		r.months.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
		if !strings.Contains(r.status.Text, "number of months") {
			t.Errorf("Enter in the months field: status %q, want Apply's check of the months", r.status.Text)
		}
	})
	apply := func(months string) *prompt {
		var before *prompt
		onUI(func() {
			before = r.confirm
			r.choice.SetSelected(retentionMonths)
			r.months.SetText(months)
			test.Tap(r.apply)
		})
		waitUI(t, "the confirmation", func() bool { return r.pending == 0 && r.confirm != before && r.confirm.open })
		return r.confirm
	}
	now := clock.Now().UTC()
	cutoff := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, -6, 0).Format(time.DateOnly)
	p := apply("6")
	onUI(func() {
		if want := "This deletes 2 days of licence history older than " + cutoff + " from Contoso."; !strings.HasPrefix(p.message.Text, want) {
			t.Errorf("confirmation %q, want %q", p.message.Text, want)
		}
		test.Tap(p.buttons["Cancel"])
	})
	onUI(func() {
		if r.choice.Selected != retentionForever {
			t.Errorf("after Cancel the section shows %q, want the retention in force", r.choice.Selected)
		}
	})
	if days() != 4 || saved() != 0 {
		t.Fatalf("after Cancel: %d days, retention %d months", days(), saved())
	}

	p = apply("6")
	onUI(func() { test.Tap(p.buttons["Delete 2 days"]) })
	waitUI(t, "the retention applied", func() bool { return r.pending == 0 && strings.Contains(r.status.Text, "Deleted") })
	onUI(func() {
		if want := "Keeping licence history for 6 months. Deleted 2 days older than " + cutoff + "."; r.status.Text != want {
			t.Errorf("status %q, want %q", r.status.Text, want)
		}
		if m.draft.cfg.HistoryMonths != 6 || m.draft.dirty {
			t.Errorf("the window's configuration: %d months, dirty %v", m.draft.cfg.HistoryMonths, m.draft.dirty)
		}
	})
	if days() != 2 || saved() != 6 {
		t.Fatalf("after Delete: %d days (want 2), retention %d months (want 6)", days(), saved())
	}

	onUI(func() {
		r.choice.SetSelected(retentionForever)
		test.Tap(r.apply)
	})
	waitUI(t, "forever applied", func() bool { return r.pending == 0 && strings.Contains(r.status.Text, "forever") })
	if saved() != 0 || days() != 2 {
		t.Fatalf("Forever: retention %d months, %d days", saved(), days())
	}
	// A second Preferences shows what is in force.
	onUI(func() {
		m.prefsDialog.dlg.Hide()
		m.menu.preferences.Action()
		if m.prefsDialog.retention.choice.Selected != retentionForever {
			t.Errorf("reopened on %q", m.prefsDialog.retention.choice.Selected)
		}
	})
}
