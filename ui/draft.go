package ui

import (
	"fmt"
	"reflect"
	"time"

	"github.com/inventorybeacon/beacon/schedule"
	"github.com/inventorybeacon/beacon/storage"
)

// draft is the configuration being edited and the keyring changes that go
// with it until Save: what every controller that edits connections or
// schedules shares. Changes are pending until the window commits them.
type draft struct {
	repo    *storage.Repository
	cfg     *storage.Config
	pending []storage.SecretChange
	dirty   bool
	// now dates the changes (the window's clock).
	now func() time.Time
	// changed redraws what shows the configuration after a change.
	changed func()
	// forget lists the deleted connections whose imported data and
	// licence history go too, on Save (forgetData deletes them).
	forget     []string
	forgetData func(connIDs []string) error
}

// markDirty records that the configuration or the keyring has changes to
// save.
func (d *draft) markDirty() {
	d.dirty = true
	d.changed()
}

// commit writes the pending changes; on success nothing is pending.
func (d *draft) commit() error {
	if err := d.repo.Commit(d.cfg, d.pending); err != nil {
		return err
	}
	d.pending = nil
	d.dirty = false
	forget := d.forget
	d.forget = nil
	if len(forget) > 0 && d.forgetData != nil {
		if err := d.forgetData(forget); err != nil {
			return fmt.Errorf("the changes were saved, but the deleted connection's imported data and history could not be deleted: %w", err)
		}
	}
	return nil
}

// discard drops the pending changes (before a reload).
func (d *draft) discard() {
	d.pending = nil
	d.forget = nil
	d.dirty = false
}

// addSecretChanges queues keyring changes for Save. A later change of the
// same secret replaces an earlier one, so only the final value is written.
func (d *draft) addSecretChanges(changes []storage.SecretChange) {
	for _, ch := range changes {
		kept := d.pending[:0]
		for _, p := range d.pending {
			if p.ConnID != ch.ConnID || p.Kind != ch.Kind {
				kept = append(kept, p)
			}
		}
		d.pending = append(kept, ch)
	}
}

// putConnection adds c or replaces the connection with its ID, with its
// keyring changes. An edit that changes nothing leaves the window clean.
func (d *draft) putConnection(c storage.Connection, changes []storage.SecretChange) {
	for i := range d.cfg.Connections {
		if d.cfg.Connections[i].ID == c.ID {
			old := d.cfg.Connections[i]
			same := old
			same.Modified = c.Modified
			if reflect.DeepEqual(same, c) && len(changes) == 0 {
				return
			}
			d.cfg.Connections[i] = c
			d.addSecretChanges(changes)
			d.markDirty()
			return
		}
	}
	d.cfg.Connections = append(d.cfg.Connections, c)
	d.addSecretChanges(changes)
	d.markDirty()
}

// deleteConnection removes a connection; its keyring secrets go on Save,
// and with withData its imported data and licence history too (else they
// stay, as they always did).
func (d *draft) deleteConnection(id string, withData bool) {
	if withData {
		d.forget = append(d.forget, id)
	}
	conns := d.cfg.Connections[:0]
	for _, c := range d.cfg.Connections {
		if c.ID != id {
			conns = append(conns, c)
		}
	}
	d.cfg.Connections = conns
	var del []storage.SecretChange
	for _, k := range storage.AllSecretKinds {
		del = append(del, storage.SecretChange{ConnID: id, Kind: k, Delete: true})
	}
	d.addSecretChanges(del)
	d.markDirty()
}

// putSchedule adds s or replaces the schedule with its ID, as a pending
// change. An edit that changes nothing leaves the window clean.
func (d *draft) putSchedule(s storage.Schedule) {
	for i := range d.cfg.Schedules {
		if d.cfg.Schedules[i].ID == s.ID {
			if sameSchedule(d.cfg.Schedules[i], s) {
				return
			}
			d.cfg.Schedules[i] = s
			d.markDirty()
			return
		}
	}
	d.cfg.Schedules = append(d.cfg.Schedules, s)
	d.markDirty()
}

// deleteSchedule removes a schedule; its connections become Not scheduled.
// Both are pending changes.
func (d *draft) deleteSchedule(id string) {
	now := d.now()
	for i := range d.cfg.Connections {
		if d.cfg.Connections[i].ScheduleID == id {
			d.cfg.Connections[i].Modified = now
		}
	}
	schedule.Delete(d.cfg, id)
	d.markDirty()
}

func sameSchedule(a, b storage.Schedule) bool {
	if a.ID != b.ID || a.Name != b.Name || a.Kind != b.Kind || a.EveryMinutes != b.EveryMinutes ||
		a.Hour != b.Hour || a.Minute != b.Minute || a.DayOfMonth != b.DayOfMonth || len(a.Weekdays) != len(b.Weekdays) {
		return false
	}
	for i := range a.Weekdays {
		if a.Weekdays[i] != b.Weekdays[i] {
			return false
		}
	}
	return true
}
