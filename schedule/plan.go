package schedule

import (
	"sort"
	"strings"
	"time"

	"github.com/inventorybeacon/beacon/storage"
)

// Entry is one schedule as the Scheduling page lists it.
type Entry struct {
	Schedule    storage.Schedule
	Summary     string               // Summary(Schedule)
	Connections []storage.Connection // attached connections, by name
	// Next is the schedule's next run after the time given to Plan; zero
	// for a schedule that never fires (invalid).
	Next time.Time
}

// Overview is the Scheduling page's content: every schedule with its
// connections, and the connections on no schedule.
type Overview struct {
	Schedules []Entry // by name, case-insensitive
	// NotScheduled lists connections with no schedule, and those naming a
	// schedule that no longer exists (a hand-edited file): they do not run.
	NotScheduled []storage.Connection
}

// Plan groups cfg's connections by schedule and computes next runs after
// now in loc. It does not change cfg.
func Plan(cfg *storage.Config, now time.Time, loc *time.Location) Overview {
	var o Overview
	if cfg == nil {
		return o
	}
	index := map[string]int{}
	for _, s := range cfg.Schedules {
		index[s.ID] = len(o.Schedules)
		o.Schedules = append(o.Schedules, Entry{Schedule: s, Summary: Summary(s), Next: Next(s, now, loc)})
	}
	for _, c := range cfg.Connections {
		if i, ok := index[c.ScheduleID]; ok && c.ScheduleID != "" {
			o.Schedules[i].Connections = append(o.Schedules[i].Connections, c)
		} else {
			o.NotScheduled = append(o.NotScheduled, c)
		}
	}
	sort.SliceStable(o.Schedules, func(i, j int) bool {
		return lessFold(o.Schedules[i].Schedule.Name, o.Schedules[j].Schedule.Name)
	})
	for i := range o.Schedules {
		sortConnections(o.Schedules[i].Connections)
	}
	sortConnections(o.NotScheduled)
	return o
}

// NextRun returns when connection connID runs next by its schedule, for the
// Inventory Systems page's Next run column; ok is false when it is not
// scheduled (or its schedule never fires).
func NextRun(cfg *storage.Config, connID string, now time.Time, loc *time.Location) (next time.Time, ok bool) {
	if cfg == nil {
		return time.Time{}, false
	}
	for _, c := range cfg.Connections {
		if c.ID != connID {
			continue
		}
		s, found := Find(cfg, c.ScheduleID)
		if !found {
			return time.Time{}, false
		}
		next = Next(s, now, loc)
		return next, !next.IsZero()
	}
	return time.Time{}, false
}

// Find returns the schedule with the given ID.
func Find(cfg *storage.Config, id string) (storage.Schedule, bool) {
	if cfg == nil || id == "" {
		return storage.Schedule{}, false
	}
	for _, s := range cfg.Schedules {
		if s.ID == id {
			return s, true
		}
	}
	return storage.Schedule{}, false
}

// ConnectionsOf returns the connections attached to schedule id, by name:
// the order in which the runner runs them.
func ConnectionsOf(cfg *storage.Config, id string) []storage.Connection {
	var out []storage.Connection
	if cfg == nil || id == "" {
		return out
	}
	for _, c := range cfg.Connections {
		if c.ScheduleID == id {
			out = append(out, c)
		}
	}
	sortConnections(out)
	return out
}

// Delete removes schedule id from cfg and makes its connections Not
// scheduled; it returns how many connections that were, for the
// confirmation message. Use it inside storage.ConfigStore.Update.
func Delete(cfg *storage.Config, id string) (detached int) {
	kept := cfg.Schedules[:0]
	for _, s := range cfg.Schedules {
		if s.ID != id {
			kept = append(kept, s)
		}
	}
	cfg.Schedules = kept
	for i := range cfg.Connections {
		if cfg.Connections[i].ScheduleID == id {
			cfg.Connections[i].ScheduleID = ""
			detached++
		}
	}
	return detached
}

// New returns a schedule to start editing from: a fresh ID, daily at
// 06:00 — outside office hours, and the usage reports of the previous day
// are complete by then.
func New() storage.Schedule {
	return storage.Schedule{ID: storage.NewID(), Kind: Daily, Hour: 6, Minute: 0}
}

func sortConnections(cs []storage.Connection) {
	sort.SliceStable(cs, func(i, j int) bool { return lessFold(cs[i].Name, cs[j].Name) })
}

func lessFold(a, b string) bool {
	la, lb := strings.ToLower(a), strings.ToLower(b)
	if la != lb {
		return la < lb
	}
	return a < b
}
