package schedule

import (
	"fmt"
	"strings"
	"time"

	"github.com/inventorybeacon/beacon/storage"
)

// Summary says in words when a schedule runs, e.g. "Every Monday and
// Thursday at 06:30". Times are 24-hour local times; the words are English,
// like the rest of the app.
func Summary(s storage.Schedule) string {
	if !fires(s) {
		return "Not a valid schedule"
	}
	at := fmt.Sprintf("%02d:%02d", s.Hour, s.Minute)
	switch s.Kind {
	case EveryNMinutes:
		n := s.EveryMinutes
		switch {
		case n == minutesPerDay:
			return "Every day at 00:00"
		case n == 1:
			return "Every minute"
		case n == 60:
			return "Every hour on the hour"
		case n%60 == 0 && minutesPerDay%n == 0:
			return fmt.Sprintf("Every %d hours from 00:00", n/60)
		case minutesPerDay%n == 0:
			return fmt.Sprintf("Every %d minutes", n)
		}
		// Say it, or the short interval before midnight surprises.
		return fmt.Sprintf("Every %d minutes, counted from 00:00 each day", n)
	case Hourly:
		if s.Minute == 0 {
			return "Every hour on the hour"
		}
		if s.Minute == 1 {
			return "Every hour at 1 minute past"
		}
		return fmt.Sprintf("Every hour at %d minutes past", s.Minute)
	case Daily:
		return "Every day at " + at
	case Weekly:
		return "Every " + weekdays(s.Weekdays) + " at " + at
	case Monthly:
		switch s.DayOfMonth {
		case 31:
			return "On the last day of every month at " + at
		case 29, 30:
			return fmt.Sprintf("On the %s of every month (the last day of shorter months) at %s", ordinal(s.DayOfMonth), at)
		}
		return fmt.Sprintf("On the %s of every month at %s", ordinal(s.DayOfMonth), at)
	}
	return "Not a valid schedule"
}

// weekdays lists days Monday first, as an administrator's week reads, and
// names the common sets.
func weekdays(days []time.Weekday) string {
	set := map[time.Weekday]bool{}
	for _, d := range days {
		set[d] = true
	}
	switch {
	case len(set) == 7:
		return "day"
	case len(set) == 5 && !set[time.Saturday] && !set[time.Sunday]:
		return "weekday (Monday to Friday)"
	}
	var names []string
	for _, d := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
		if set[d] {
			names = append(names, d.String())
		}
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

// DescribeNext says when a next run is, relative to now, for the Next run
// column and the Select Schedule dialog: "today at 06:30", "tomorrow at
// 06:30", "Mon 30 Nov at 06:30", "Mon 4 Jan 2027 at 06:30". The zero time
// (a connection not scheduled, or an invalid schedule) is "Not scheduled".
// Both times are shown in now's location.
func DescribeNext(next, now time.Time) string {
	if next.IsZero() {
		return "Not scheduled"
	}
	next = next.In(now.Location())
	at := next.Format("15:04")
	ny, nm, nd := next.Date()
	ty, tm, td := now.Date()
	tomorrow := time.Date(ty, tm, td+1, 12, 0, 0, 0, now.Location())
	switch {
	case ny == ty && nm == tm && nd == td:
		return "today at " + at
	case ny == tomorrow.Year() && nm == tomorrow.Month() && nd == tomorrow.Day():
		return "tomorrow at " + at
	case ny == ty:
		return next.Format("Mon 2 Jan") + " at " + at
	}
	return next.Format("Mon 2 Jan 2006") + " at " + at
}
