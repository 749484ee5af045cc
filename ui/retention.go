package ui

import (
	"context"
	"fmt"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/storage"
)

// The licence history's retention in File → Preferences (issue 18): how
// long every connection's daily licence history is kept, forever by
// default. It is the installation's setting (the configuration's, which
// `beacon settings` sets too), not one user's preference, so it is saved
// by Apply rather than by Save, and shortening it, which deletes days,
// is confirmed first with what it deletes.

const (
	retentionForever = "Forever"
	retentionMonths  = "Months:"
)

// retentionSection is the Preferences dialog's Licence history section.
type retentionSection struct {
	m      *MainWindow
	choice *dialogRadio
	months *dialogEntry
	apply  *dialogButton
	// status says what Apply did, or why it did not.
	status *widget.Label
	// confirm is the last confirmation of a deletion shown.
	confirm *prompt
	// pending counts the reads and writes under way (tests wait for 0).
	pending int
	// fit gives the dialog the height the status now needs (nil: none).
	fit func()
}

// newRetentionSection builds the section, showing the retention in force.
// Its widgets are the dialog's own (keys), so Esc and Enter reach the
// dialog whichever of them has the focus.
func (m *MainWindow) newRetentionSection(keys *dialogKeys) (*retentionSection, fyne.CanvasObject) {
	r := &retentionSection{m: m, months: newDialogEntry(keys), status: widget.NewLabel("")}
	r.status.Wrapping = fyne.TextWrapWord
	r.status.Hide()
	r.months.SetPlaceHolder("24")
	r.choice = newDialogRadio(keys, []string{retentionForever, retentionMonths}, true, func(choice string) {
		if choice == retentionMonths {
			r.months.Enable()
		} else {
			r.months.Disable()
		}
	})
	r.apply = newDialogButton(keys, "Apply", r.onApply)
	// Enter after typing the months applies them, rather than the
	// dialog's Close dropping what was typed.
	r.months.OnSubmitted = func(string) {
		if !r.apply.Disabled() {
			r.onApply()
		}
	}
	r.show(m.historyMonths())
	help := widget.NewLabel("Inventory Beacon keeps each connection's licence figures of every day it imports (the Licenses page's Trend, " +
		"`beacon history`), from the first import on, beyond Microsoft's 180 days. Kept for a number of months, the older days are " +
		"deleted at once and after each import; deleted days cannot be brought back.")
	help.Wrapping = fyne.TextWrapWord
	help.Importance = widget.LowImportance
	if m.draft.repo == nil || m.draft.repo.Config == nil || m.draft.cfg == nil {
		r.choice.Disable()
		r.months.Disable()
		r.apply.Disable()
	}
	row := container.NewBorder(nil, nil, r.choice, r.apply, r.months)
	return r, container.NewVBox(
		widget.NewLabelWithStyle("Licence history", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		widget.NewLabel("Keep licence history for:"), row, help, r.status)
}

// historyMonths is the retention in force (the window's configuration).
func (m *MainWindow) historyMonths() int {
	if m.draft.cfg == nil {
		return 0
	}
	return m.draft.cfg.HistoryMonths
}

// show sets the widgets to a retention.
func (r *retentionSection) show(months int) {
	if months == 0 {
		r.choice.SetSelected(retentionForever)
		r.months.SetText("")
		return
	}
	r.choice.SetSelected(retentionMonths)
	r.months.SetText(fmt.Sprint(months))
}

func (r *retentionSection) say(text string, importance widget.Importance) {
	r.status.Importance = importance
	setShown(r.status, text)
	if r.fit != nil {
		r.fit()
	}
}

// onApply reads the retention typed, works out what it deletes (off the
// Fyne goroutine: it reads the database), and asks before deleting
// anything.
func (r *retentionSection) onApply() {
	months := 0
	if r.choice.Selected == retentionMonths {
		// "forever" typed in the field means the Forever choice, which
		// is there to be chosen.
		n, err := service.ParseHistoryMonths(r.months.Text)
		if err != nil || n == 0 {
			r.say(fmt.Sprintf("Type a whole number of months from 1 to %d, or choose %s.", service.MaxHistoryMonths, retentionForever),
				widget.DangerImportance)
			return
		}
		months = n
	}
	m := r.m
	// The connections' names, copied for the read.
	cfg := &storage.Config{Connections: slices.Clone(m.draft.cfg.Connections)}
	now := m.now()
	r.busy(true)
	go func() {
		plan, err := service.PlanRetention(context.Background(), m.deps.Inventory, cfg, months, now)
		doUI(func() {
			r.busy(false)
			switch {
			case err != nil:
				r.say("The retention was not changed: "+sentence(err), widget.DangerImportance)
			case plan.Days() == 0:
				r.commit(plan)
			default:
				r.confirm = showPrompt(m.win, "Delete old licence history?", plan.Describe(),
					promptButton{label: "Cancel", action: func() { r.show(m.historyMonths()) }},
					promptButton{label: fmt.Sprintf("Delete %d days", plan.Days()), importance: widget.DangerImportance,
						action: func() { r.commit(plan) }})
			}
		})
	}()
}

// commit saves the retention and deletes what plan says, off the Fyne
// goroutine, then takes the setting into the window's configuration and
// redraws the trends.
func (r *retentionSection) commit(plan service.RetentionPlan) {
	m := r.m
	r.busy(true)
	go func() {
		err := service.SetRetention(context.Background(), m.draft.repo.Config, m.deps.Inventory, plan)
		doUI(func() {
			r.busy(false)
			if aerr := m.data.lic.absorb(); err == nil {
				err = aerr
			}
			if err != nil {
				r.say("The retention was not changed: "+sentence(err), widget.DangerImportance)
				return
			}
			text := "Keeping licence history " + service.KeepFor(plan.Months) + "."
			if plan.Days() > 0 {
				text += fmt.Sprintf(" Deleted %d days older than %s.", plan.Days(), plan.Before.Format(time.DateOnly))
				m.data.refresh()
			}
			r.show(m.historyMonths())
			r.say(text, widget.SuccessImportance)
		})
	}()
}

// busy disables Apply while a read or a write is under way.
func (r *retentionSection) busy(on bool) {
	if on {
		r.pending++
		r.apply.Disable()
		return
	}
	r.pending--
	if r.pending == 0 {
		r.apply.Enable()
	}
}
