package schedule

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/inventorybeacon/beacon/storage"
)

// Field names a Schedule field for FieldError, so an editor can show each
// error next to its own widget.
type Field string

const (
	FieldName         Field = "name"
	FieldKind         Field = "kind"
	FieldEveryMinutes Field = "everyMinutes"
	FieldHour         Field = "hour"
	FieldMinute       Field = "minute"
	FieldWeekdays     Field = "weekdays"
	FieldDayOfMonth   Field = "dayOfMonth"
)

// MaxNameLength bounds a schedule's name: it shows in drop-downs and table
// cells.
const MaxNameLength = 64

// FieldError is one problem with one field, in words for the administrator.
type FieldError struct {
	Field   Field
	Message string
}

func (e FieldError) Error() string { return e.Message }

// ValidationError lists every problem of a schedule, not just the first, so
// an editor can mark all fields at once.
type ValidationError []FieldError

func (v ValidationError) Error() string {
	msgs := make([]string, len(v))
	for i, e := range v {
		msgs[i] = e.Message
	}
	return "the schedule is not valid: " + strings.Join(msgs, "; ")
}

// For returns the message for field f, or "" if it is fine.
func (v ValidationError) For(f Field) string {
	for _, e := range v {
		if e.Field == f {
			return e.Message
		}
	}
	return ""
}

// Validate checks a schedule being created or edited against the others
// already defined (the schedule's own earlier version, with the same ID,
// may be among them: it is ignored). It returns nil or a ValidationError.
// Only the fields the kind uses are checked, so an editor may keep stale
// values in hidden fields.
func Validate(s storage.Schedule, others []storage.Schedule) error {
	var v ValidationError
	add := func(f Field, format string, args ...any) {
		v = append(v, FieldError{Field: f, Message: fmt.Sprintf(format, args...)})
	}

	name := strings.TrimSpace(s.Name)
	switch {
	case name == "":
		add(FieldName, "Enter a name for the schedule.")
	case utf8.RuneCountInString(name) > MaxNameLength:
		add(FieldName, "Use a name of at most %d characters.", MaxNameLength)
	case strings.ContainsFunc(name, unicode.IsControl):
		add(FieldName, "Remove the tab or line break from the name.")
	default:
		for _, o := range others {
			if o.ID != s.ID && strings.EqualFold(strings.TrimSpace(o.Name), name) {
				add(FieldName, "A schedule named %q already exists; choose another name.", strings.TrimSpace(o.Name))
				break
			}
		}
	}

	timeOfDay := func() {
		if s.Hour < 0 || s.Hour > 23 {
			add(FieldHour, "Enter an hour from 0 to 23.")
		}
		if s.Minute < 0 || s.Minute > 59 {
			add(FieldMinute, "Enter a minute from 0 to 59.")
		}
	}
	switch s.Kind {
	case EveryNMinutes:
		if s.EveryMinutes < 1 || s.EveryMinutes > minutesPerDay {
			add(FieldEveryMinutes, "Enter a number of minutes from 1 to %d (a day).", minutesPerDay)
		}
	case Hourly:
		if s.Minute < 0 || s.Minute > 59 {
			add(FieldMinute, "Enter a minute past the hour from 0 to 59.")
		}
	case Daily:
		timeOfDay()
	case Weekly:
		timeOfDay()
		some := false
		for _, d := range s.Weekdays {
			if d < time.Sunday || d > time.Saturday {
				add(FieldWeekdays, "Day number %d is not a day of the week; choose days from Monday to Sunday.", int(d))
				some = true // one message is enough
				break
			}
			some = true
		}
		if !some {
			add(FieldWeekdays, "Choose at least one day of the week.")
		}
	case Monthly:
		timeOfDay()
		if s.DayOfMonth < 1 || s.DayOfMonth > 31 {
			add(FieldDayOfMonth, "Enter a day of the month from 1 to 31 (29, 30 and 31 run on the last day of shorter months).")
		}
	case "":
		add(FieldKind, "Choose how often the schedule runs.")
	default:
		add(FieldKind, "%q is not a frequency Inventory Beacon knows; choose every N minutes, hourly, daily, weekly or monthly.", string(s.Kind))
	}
	if len(v) == 0 {
		return nil
	}
	return v
}
