package schedule

import (
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/storage"
)

func TestPlan(t *testing.T) {
	cfg := &storage.Config{
		Schedules: []storage.Schedule{
			named("w", "weekly", weekly(6, 30, time.Monday)),
			named("d", "Daily", daily(6, 0)),
			named("x", "Broken", everyN(0)),
		},
		Connections: []storage.Connection{
			conn("1", "zeta", "d"), conn("2", "Alpha", "d"), conn("3", "Orphan", "deleted"),
			conn("4", "Loose", ""), conn("5", "Mid", "w"),
		},
	}
	now := june10(12, 0) // a Wednesday
	o := Plan(cfg, now, time.UTC)
	if len(o.Schedules) != 3 {
		t.Fatalf("%d schedules", len(o.Schedules))
	}
	names := []string{o.Schedules[0].Schedule.Name, o.Schedules[1].Schedule.Name, o.Schedules[2].Schedule.Name}
	if names[0] != "Broken" || names[1] != "Daily" || names[2] != "weekly" {
		t.Errorf("order %v, want by name ignoring case", names)
	}
	d := o.Schedules[1]
	if d.Summary != "Every day at 06:00" || !d.Next.Equal(time.Date(2026, 6, 11, 6, 0, 0, 0, time.UTC)) {
		t.Errorf("Daily entry: %q next %v", d.Summary, d.Next)
	}
	if len(d.Connections) != 2 || d.Connections[0].Name != "Alpha" || d.Connections[1].Name != "zeta" {
		t.Errorf("Daily connections %+v", d.Connections)
	}
	if !o.Schedules[0].Next.IsZero() {
		t.Errorf("an invalid schedule has a next run")
	}
	if len(o.NotScheduled) != 2 || o.NotScheduled[0].Name != "Loose" || o.NotScheduled[1].Name != "Orphan" {
		t.Errorf("NotScheduled %+v", o.NotScheduled)
	}

	if next, ok := NextRun(cfg, "5", now, time.UTC); !ok || !next.Equal(time.Date(2026, 6, 15, 6, 30, 0, 0, time.UTC)) {
		t.Errorf("NextRun(Mid) = %v, %v", next, ok)
	}
	for _, id := range []string{"3", "4", "nope"} {
		if _, ok := NextRun(cfg, id, now, time.UTC); ok {
			t.Errorf("NextRun(%s) ok, want not scheduled", id)
		}
	}
	if n := Delete(cfg, "d"); n != 2 || len(cfg.Schedules) != 2 || cfg.Connections[0].ScheduleID != "" || cfg.Connections[4].ScheduleID != "w" {
		t.Errorf("Delete detached %d; config %+v", n, cfg)
	}
	if o := Plan(nil, now, time.UTC); len(o.Schedules) != 0 {
		t.Errorf("Plan(nil) = %+v", o)
	}
	if s := New(); !storage.ValidID(s.ID) || Summary(s) != "Every day at 06:00" {
		t.Errorf("New() = %+v", s)
	}
}
