package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/storage"
)

func TestValidate(t *testing.T) {
	others := []storage.Schedule{
		{ID: "1", Name: "Nightly", Kind: Daily},
		{ID: "2", Name: " Weekends ", Kind: Weekly, Weekdays: []time.Weekday{time.Saturday}},
	}
	ok := func(s storage.Schedule) storage.Schedule {
		if s.Name == "" {
			s.Name = "Morning"
		}
		if s.ID == "" {
			s.ID = "new"
		}
		return s
	}
	tests := []struct {
		name  string
		s     storage.Schedule
		field Field  // "" means valid
		words string // part of the message
	}{
		{"daily is fine", ok(daily(6, 30)), "", ""},
		{"every minute is fine", ok(everyN(1)), "", ""},
		{"every day in minutes is fine", ok(everyN(1440)), "", ""},
		{"weekly is fine", ok(weekly(6, 30, time.Monday)), "", ""},
		{"monthly 31 is fine", ok(monthly(31, 23, 59)), "", ""},
		{"editing itself keeps its name", storage.Schedule{ID: "1", Name: "nightly", Kind: Daily}, "", ""},
		{"hidden fields are not checked", ok(storage.Schedule{Kind: Hourly, Minute: 5, Hour: 99, DayOfMonth: -4}), "", ""},

		{"name required", storage.Schedule{ID: "x", Name: "   ", Kind: Daily}, FieldName, "Enter a name"},
		{"name unique, case-insensitive and trimmed", storage.Schedule{ID: "x", Name: "WEEKENDS", Kind: Daily}, FieldName, `"Weekends" already exists`},
		{"name length", storage.Schedule{ID: "x", Name: strings.Repeat("é", 65), Kind: Daily}, FieldName, "at most 64"},
		{"name without line breaks", storage.Schedule{ID: "x", Name: "a\nb", Kind: Daily}, FieldName, "line break"},
		{"kind required", ok(storage.Schedule{}), FieldKind, "Choose how often"},
		{"kind known", ok(storage.Schedule{Kind: "yearly"}), FieldKind, `"yearly" is not a frequency`},
		{"minutes at least 1", ok(everyN(0)), FieldEveryMinutes, "from 1 to 1440"},
		{"minutes at most a day", ok(everyN(1441)), FieldEveryMinutes, "from 1 to 1440"},
		{"hourly minute", ok(hourly(60)), FieldMinute, "0 to 59"},
		{"daily hour", ok(daily(24, 0)), FieldHour, "0 to 23"},
		{"daily minute", ok(daily(0, -1)), FieldMinute, "0 to 59"},
		{"weekly needs a day", ok(weekly(6, 0)), FieldWeekdays, "at least one day"},
		{"weekly day in range", ok(weekly(6, 0, 9)), FieldWeekdays, "not a day of the week"},
		{"weekly time", ok(weekly(25, 0, time.Monday)), FieldHour, "0 to 23"},
		{"monthly day 0", ok(monthly(0, 6, 0)), FieldDayOfMonth, "1 to 31"},
		{"monthly day 32", ok(monthly(32, 6, 0)), FieldDayOfMonth, "1 to 31"},
		{"monthly time", ok(monthly(1, 6, 60)), FieldMinute, "0 to 59"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.s, others)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want valid", err)
				}
				if !fires(tt.s) {
					t.Errorf("a valid schedule must fire")
				}
				return
			}
			var v ValidationError
			if !errors.As(err, &v) {
				t.Fatalf("Validate = %v, want a ValidationError", err)
			}
			if msg := v.For(tt.field); !strings.Contains(msg, tt.words) {
				t.Errorf("message for %s = %q, want it to contain %q (all: %v)", tt.field, msg, tt.words, v)
			}
			if tt.field != FieldName && fires(tt.s) {
				t.Errorf("an invalid schedule must not fire")
			}
		})
	}
}

func TestValidateReportsEveryField(t *testing.T) {
	err := Validate(storage.Schedule{Kind: Monthly, Hour: 30, Minute: 70, DayOfMonth: 40}, nil)
	var v ValidationError
	if !errors.As(err, &v) || len(v) != 4 {
		t.Fatalf("Validate = %v, want four field errors", err)
	}
	if v.For(FieldWeekdays) != "" {
		t.Errorf("an unused field has an error: %v", v)
	}
	if !strings.HasPrefix(err.Error(), "the schedule is not valid: Enter a name") {
		t.Errorf("Error() = %q", err.Error())
	}
}

func TestSummary(t *testing.T) {
	tests := []struct {
		s    storage.Schedule
		want string
	}{
		{everyN(1), "Every minute"},
		{everyN(15), "Every 15 minutes"},
		{everyN(25), "Every 25 minutes, counted from 00:00 each day"},
		{everyN(60), "Every hour on the hour"},
		{everyN(120), "Every 2 hours from 00:00"},
		{everyN(420), "Every 420 minutes, counted from 00:00 each day"},
		{everyN(1440), "Every day at 00:00"},
		{hourly(0), "Every hour on the hour"},
		{hourly(1), "Every hour at 1 minute past"},
		{hourly(30), "Every hour at 30 minutes past"},
		{daily(6, 5), "Every day at 06:05"},
		{weekly(6, 30, time.Thursday, time.Monday), "Every Monday and Thursday at 06:30"},
		{weekly(6, 30, time.Sunday), "Every Sunday at 06:30"},
		{weekly(6, 30, time.Sunday, time.Wednesday, time.Monday), "Every Monday, Wednesday and Sunday at 06:30"},
		{weekly(6, 30, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday), "Every weekday (Monday to Friday) at 06:30"},
		{weekly(18, 0, 0, 1, 2, 3, 4, 5, 6), "Every day at 18:00"},
		{monthly(1, 0, 0), "On the 1st of every month at 00:00"},
		{monthly(2, 0, 0), "On the 2nd of every month at 00:00"},
		{monthly(3, 0, 0), "On the 3rd of every month at 00:00"},
		{monthly(11, 0, 0), "On the 11th of every month at 00:00"},
		{monthly(22, 0, 0), "On the 22nd of every month at 00:00"},
		{monthly(29, 6, 30), "On the 29th of every month (the last day of shorter months) at 06:30"},
		{monthly(30, 6, 30), "On the 30th of every month (the last day of shorter months) at 06:30"},
		{monthly(31, 6, 30), "On the last day of every month at 06:30"},
		{weekly(6, 30), "Not a valid schedule"},
		{storage.Schedule{}, "Not a valid schedule"},
	}
	for _, tt := range tests {
		if got := Summary(tt.s); got != tt.want {
			t.Errorf("Summary(%+v) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestDescribeNext(t *testing.T) {
	now := time.Date(2026, 12, 30, 22, 0, 0, 0, time.UTC)
	tests := []struct {
		next time.Time
		want string
	}{
		{time.Time{}, "Not scheduled"},
		{time.Date(2026, 12, 30, 23, 15, 0, 0, time.UTC), "today at 23:15"},
		{time.Date(2026, 12, 31, 6, 30, 0, 0, time.UTC), "tomorrow at 06:30"},
		{time.Date(2026, 12, 31, 6, 30, 0, 0, time.FixedZone("X", 3600)), "tomorrow at 05:30"},
		{time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), "Fri 1 Jan 2027 at 00:00"},
	}
	for _, tt := range tests {
		if got := DescribeNext(tt.next, now); got != tt.want {
			t.Errorf("DescribeNext(%v) = %q, want %q", tt.next, got, tt.want)
		}
	}
	if got := DescribeNext(time.Date(2026, 6, 15, 6, 30, 0, 0, time.UTC), time.Date(2026, 6, 10, 9, 0, 0, 0, time.UTC)); got != "Mon 15 Jun at 06:30" {
		t.Errorf("later this year: %q", got)
	}
	// Across a year end, tomorrow is still tomorrow.
	if got := DescribeNext(time.Date(2027, 1, 1, 6, 0, 0, 0, time.UTC), time.Date(2026, 12, 31, 9, 0, 0, 0, time.UTC)); got != "tomorrow at 06:00" {
		t.Errorf("tomorrow across the year end: %q", got)
	}
}
