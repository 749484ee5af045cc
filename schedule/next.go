// Package schedule is Inventory Beacon's scheduler without a window: when a
// named schedule fires (Next, Prev), whether a schedule being edited is
// valid (Validate), how to say it in words (Summary), which connections run
// on which schedule (Plan), and the Runner that runs them — in the window
// while it is open and in `beacon scheduler`.
//
// Schedules are wall-clock times in the machine's local time zone. Across
// daylight-saving changes every wall-clock slot runs exactly once:
//
//   - a time that does not exist (the hour skipped when clocks spring
//     forward) runs at the first instant after the gap, e.g. 02:30 runs at
//     03:00; slots that fall into the same gap run once;
//   - a time that exists twice (the hour repeated when clocks fall back)
//     runs at its first occurrence only.
//
// "Every N minutes" counts from local midnight: every 15 minutes runs at
// 00:00, 00:15, 00:30, ... every day, at the same wall-clock times whatever
// the time zone's offset. (Counting from the Unix epoch would make "every 2
// hours" run at odd hours in some zones and switch between odd and even
// hours with daylight saving.) When N does not divide a day, the last
// interval of the day is shorter: every 25 minutes runs ..., 23:20, 23:45,
// 00:00. On the repeated hour of a fall-back day the slots of the repeated
// hour run only once, so an interval schedule pauses for that hour.
//
// When the computer sleeps or its clock is changed, the Runner notices at
// its next wake-up (it never waits longer than its poll interval): a jump
// ahead makes each schedule run once, for its latest slot, with a history
// note saying the clock moved ahead; a clock set back does not run again
// the slots the runner already fired.
package schedule

import (
	"sort"
	"time"

	"github.com/inventorybeacon/beacon/storage"
)

// minutesPerDay bounds every-N-minutes schedules and slot lists.
const minutesPerDay = 24 * 60

// searchDays bounds how far Next and Prev look: a monthly schedule fires at
// least every 31 days, a weekly one every 7. The margin covers a day skipped
// by a time-zone change (Samoa skipped 30 December 2011).
const searchDays = 40

// Next returns the first time the schedule fires strictly after `after`, in
// loc (the machine's local zone, time.Local, in the app). It returns the zero
// time for a schedule that never fires (an invalid one: see Validate).
func Next(s storage.Schedule, after time.Time, loc *time.Location) time.Time {
	if !fires(s) {
		return time.Time{}
	}
	a := after.In(loc)
	// Start a day early: a slot of the previous day that falls into a
	// daylight-saving gap across midnight runs on this day.
	day := civil(a).addDays(-1)
	for i := 0; i < searchDays+2; i, day = i+1, day.addDays(1) {
		n, slot := daySlots(s, day)
		k := sort.Search(n, func(k int) bool { return resolve(day, slot(k), loc).After(after) })
		if k < n {
			return resolve(day, slot(k), loc)
		}
	}
	return time.Time{}
}

// Prev returns the last time the schedule fired at or before `at`, or the
// zero time if it did not fire in the last 40 days (or never fires). The
// runner uses it to name the slot a catch-up run makes up for.
func Prev(s storage.Schedule, at time.Time, loc *time.Location) time.Time {
	if !fires(s) {
		return time.Time{}
	}
	day := civil(at.In(loc)).addDays(1)
	for i := 0; i < searchDays+2; i, day = i+1, day.addDays(-1) {
		n, slot := daySlots(s, day)
		// The first slot after `at`; the one before it is the answer.
		k := sort.Search(n, func(k int) bool { return resolve(day, slot(k), loc).After(at) })
		if k > 0 {
			return resolve(day, slot(k-1), loc)
		}
	}
	return time.Time{}
}

// NextN returns the next n fire times after `after`, for previews ("next
// runs: ...").
func NextN(s storage.Schedule, after time.Time, loc *time.Location, n int) []time.Time {
	var out []time.Time
	for len(out) < n {
		t := Next(s, after, loc)
		if t.IsZero() {
			break
		}
		out = append(out, t)
		after = t
	}
	return out
}

// fires reports whether the schedule's fields describe at least one slot;
// Next of anything else would search in vain.
func fires(s storage.Schedule) bool {
	okTime := s.Hour >= 0 && s.Hour < 24 && s.Minute >= 0 && s.Minute < 60
	switch s.Kind {
	case EveryNMinutes:
		return s.EveryMinutes >= 1 && s.EveryMinutes <= minutesPerDay
	case Hourly:
		return s.Minute >= 0 && s.Minute < 60
	case Daily:
		return okTime
	case Weekly:
		if !okTime {
			return false
		}
		for _, d := range s.Weekdays {
			if d >= time.Sunday && d <= time.Saturday {
				return true
			}
		}
		return false
	case Monthly:
		return okTime && s.DayOfMonth >= 1 && s.DayOfMonth <= 31
	}
	return false
}

// Kinds, re-exported so callers of this package need not import storage
// just to name them.
const (
	EveryNMinutes = storage.EveryNMinutes
	Hourly        = storage.Hourly
	Daily         = storage.Daily
	Weekly        = storage.Weekly
	Monthly       = storage.Monthly
)

// date is a calendar day, free of any time zone.
type date struct {
	y int
	m time.Month
	d int
}

func civil(t time.Time) date {
	y, m, d := t.Date()
	return date{y, m, d}
}

func (d date) addDays(n int) date {
	return civil(time.Date(d.y, d.m, d.d+n, 12, 0, 0, 0, time.UTC))
}

func (d date) weekday() time.Weekday {
	return time.Date(d.y, d.m, d.d, 12, 0, 0, 0, time.UTC).Weekday()
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 12, 0, 0, 0, time.UTC).Day()
}

// daySlots returns how many wall-clock times the schedule has on day d and
// the k-th of them, as minutes after midnight, in increasing order. A
// function rather than a slice, so every-minute schedules allocate nothing.
func daySlots(s storage.Schedule, d date) (int, func(k int) int) {
	at := s.Hour*60 + s.Minute
	once := func(int) int { return at }
	switch s.Kind {
	case EveryNMinutes:
		n := (minutesPerDay + s.EveryMinutes - 1) / s.EveryMinutes
		return n, func(k int) int { return k * s.EveryMinutes }
	case Hourly:
		return 24, func(h int) int { return h*60 + s.Minute }
	case Daily:
		return 1, once
	case Weekly:
		wd := d.weekday()
		for _, w := range s.Weekdays {
			if w == wd {
				return 1, once
			}
		}
	case Monthly:
		// Day 29, 30 or 31 runs on the last day of months that are
		// shorter, so a month is never left out.
		if d.d == min(s.DayOfMonth, daysIn(d.y, d.m)) {
			return 1, once
		}
	}
	return 0, once
}

// maxShift exceeds any change of a zone's offset (the largest on record is
// a day, when Samoa crossed the date line), so a wall time farther than this
// from a change is neither skipped nor repeated.
const maxShift = 26 * time.Hour

// resolve turns a wall-clock time (minutes after midnight of day d) into an
// instant in loc, with the daylight-saving rules of the package comment.
// Within a day, later wall times never resolve to earlier instants, which
// Next and Prev rely on for their binary search.
func resolve(d date, minute int, loc *time.Location) time.Time {
	h, m := minute/60, minute%60
	// The wall time read as UTC; subtracting an offset gives the instant
	// that shows this wall time under that offset.
	guess := time.Date(d.y, d.m, d.d, h, m, 0, 0, loc)
	start, end := guess.ZoneBounds()
	// Fast path: far from any offset change the wall time exists once.
	if (start.IsZero() || guess.Sub(start) > maxShift) && (end.IsZero() || end.Sub(guess) > maxShift) {
		return guess
	}
	naive := time.Date(d.y, d.m, d.d, h, m, 0, 0, time.UTC)

	// Candidate offsets: the one Go chose and those of the neighbouring
	// zone periods. Every instant showing this wall time uses one of them.
	offsets := []int{offsetAt(guess)}
	if !start.IsZero() {
		offsets = append(offsets, offsetAt(start.Add(-time.Nanosecond)))
	}
	if !end.IsZero() {
		offsets = append(offsets, offsetAt(end))
	}
	var best time.Time
	for _, off := range offsets {
		t := naive.Add(-time.Duration(off) * time.Second).In(loc)
		if showsWall(t, d, h, m) && (best.IsZero() || t.Before(best)) {
			best = t // the earliest: the first occurrence of a repeated time
		}
	}
	if !best.IsZero() {
		return best
	}
	// The wall time does not exist: it falls into a gap. The first instant
	// after the gap is where the zone period containing Go's guess starts
	// (if Go placed the guess after the gap) or ends (if before it).
	if wallAfter(guess, naive) {
		return start.In(loc)
	}
	return end.In(loc)
}

func offsetAt(t time.Time) int {
	_, off := t.Zone()
	return off
}

func showsWall(t time.Time, d date, h, m int) bool {
	y, mo, dd := t.Date()
	return y == d.y && mo == d.m && dd == d.d && t.Hour() == h && t.Minute() == m && t.Second() == 0
}

// wallAfter reports whether t's wall clock reads later than naive's.
func wallAfter(t, naive time.Time) bool {
	y, mo, d := t.Date()
	w := time.Date(y, mo, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	return w.After(naive)
}
