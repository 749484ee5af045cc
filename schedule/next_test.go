package schedule

import (
	"testing"
	"time"
	_ "time/tzdata" // the DST tables below must not depend on the machine's zoneinfo

	"github.com/inventorybeacon/beacon/storage"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// at parses "2026-03-08 03:00 -0400": an instant with an explicit offset, so
// the tables say which of two equal wall times they mean.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse("2006-01-02 15:04 -0700", s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func everyN(n int) storage.Schedule { return storage.Schedule{Kind: EveryNMinutes, EveryMinutes: n} }
func hourly(m int) storage.Schedule { return storage.Schedule{Kind: Hourly, Minute: m} }
func daily(h, m int) storage.Schedule {
	return storage.Schedule{Kind: Daily, Hour: h, Minute: m}
}
func weekly(h, m int, days ...time.Weekday) storage.Schedule {
	return storage.Schedule{Kind: Weekly, Hour: h, Minute: m, Weekdays: days}
}
func monthly(day, h, m int) storage.Schedule {
	return storage.Schedule{Kind: Monthly, DayOfMonth: day, Hour: h, Minute: m}
}

func TestNext(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	berlin := mustLoad(t, "Europe/Berlin")
	sydney := mustLoad(t, "Australia/Sydney")
	lordHowe := mustLoad(t, "Australia/Lord_Howe") // a 30-minute daylight-saving shift
	kolkata := mustLoad(t, "Asia/Kolkata")         // a half-hour offset from UTC
	utc := time.UTC

	tests := []struct {
		name  string
		s     storage.Schedule
		loc   *time.Location
		after string
		want  string
	}{
		// Every N minutes, counted from local midnight.
		{"every 15: next quarter", everyN(15), ny, "2026-06-10 10:07 -0400", "2026-06-10 10:15 -0400"},
		{"every 15: a slot itself is not after itself", everyN(15), ny, "2026-06-10 10:15 -0400", "2026-06-10 10:30 -0400"},
		{"every 1 minute", everyN(1), utc, "2026-06-10 10:07 +0000", "2026-06-10 10:08 +0000"},
		{"every 25: last slot of the day", everyN(25), utc, "2026-06-10 23:44 +0000", "2026-06-10 23:45 +0000"},
		{"every 25: short last interval, then midnight", everyN(25), utc, "2026-06-10 23:46 +0000", "2026-06-11 00:00 +0000"},
		{"every 1440: once a day at midnight", everyN(1440), utc, "2026-06-10 00:00 +0000", "2026-06-11 00:00 +0000"},
		{"every 120: even local hours with a half-hour offset", everyN(120), kolkata, "2026-06-10 09:00 +0530", "2026-06-10 10:00 +0530"},
		{"every 15: NY slots in the spring gap run once at 03:00", everyN(15), ny, "2026-03-08 01:50 -0500", "2026-03-08 03:00 -0400"},
		{"every 15: NY after the gap run, the next real slot", everyN(15), ny, "2026-03-08 03:00 -0400", "2026-03-08 03:15 -0400"},
		{"every 30: NY repeated hour runs its first occurrence", everyN(30), ny, "2026-11-01 00:45 -0400", "2026-11-01 01:00 -0400"},
		{"every 30: NY repeated hour is not run twice", everyN(30), ny, "2026-11-01 01:40 -0400", "2026-11-01 02:00 -0500"},

		// Hourly at a minute.
		{"hourly :30", hourly(30), utc, "2026-06-10 10:30 +0000", "2026-06-10 11:30 +0000"},
		{"hourly :00 across midnight", hourly(0), utc, "2026-06-10 23:00 +0000", "2026-06-11 00:00 +0000"},
		{"hourly :30: NY 02:30 does not exist, runs at 03:00", hourly(30), ny, "2026-03-08 01:30 -0500", "2026-03-08 03:00 -0400"},
		{"hourly :30: NY then 03:30 as usual", hourly(30), ny, "2026-03-08 03:00 -0400", "2026-03-08 03:30 -0400"},
		{"hourly :30: NY 01:30 runs once", hourly(30), ny, "2026-11-01 01:30 -0400", "2026-11-01 02:30 -0500"},
		{"hourly :30: Berlin 02:30 runs once", hourly(30), berlin, "2026-10-25 02:30 +0200", "2026-10-25 03:30 +0100"},

		// Daily at a time.
		{"daily: later today", daily(6, 30), ny, "2026-06-10 06:29 -0400", "2026-06-10 06:30 -0400"},
		{"daily: tomorrow", daily(6, 30), ny, "2026-06-10 06:30 -0400", "2026-06-11 06:30 -0400"},
		{"daily: midnight", daily(0, 0), ny, "2026-06-10 23:59 -0400", "2026-06-11 00:00 -0400"},
		{"daily: across the year end", daily(23, 59), utc, "2026-12-31 23:59 +0000", "2027-01-01 23:59 +0000"},
		{"daily 02:30: NY spring-forward day runs at 03:00", daily(2, 30), ny, "2026-03-07 02:30 -0500", "2026-03-08 03:00 -0400"},
		{"daily 02:30: NY day after spring-forward", daily(2, 30), ny, "2026-03-08 03:00 -0400", "2026-03-09 02:30 -0400"},
		{"daily 01:30: NY fall-back day, first occurrence", daily(1, 30), ny, "2026-10-31 01:30 -0400", "2026-11-01 01:30 -0400"},
		{"daily 01:30: NY fall-back day, not again an hour later", daily(1, 30), ny, "2026-11-01 01:30 -0400", "2026-11-02 01:30 -0500"},
		{"daily 02:15: Berlin spring-forward day runs at 03:00", daily(2, 15), berlin, "2026-03-28 12:00 +0100", "2026-03-29 03:00 +0200"},
		{"daily 02:30: Berlin fall-back day, first occurrence", daily(2, 30), berlin, "2026-10-24 12:00 +0200", "2026-10-25 02:30 +0200"},
		{"daily 02:30: Berlin fall-back day, once", daily(2, 30), berlin, "2026-10-25 02:30 +0200", "2026-10-26 02:30 +0100"},
		{"daily 03:00: Berlin right after the gap is a normal time", daily(3, 0), berlin, "2026-03-28 12:00 +0100", "2026-03-29 03:00 +0200"},
		{"daily 02:30: Sydney DST ends in April, first occurrence", daily(2, 30), sydney, "2026-04-04 12:00 +1100", "2026-04-05 02:30 +1100"},
		{"daily 02:30: Sydney April, once", daily(2, 30), sydney, "2026-04-05 02:30 +1100", "2026-04-06 02:30 +1000"},
		{"daily 02:30: Sydney DST starts in October, runs at 03:00", daily(2, 30), sydney, "2026-10-03 12:00 +1000", "2026-10-04 03:00 +1100"},
		{"daily 02:15: Lord Howe 30-minute gap", daily(2, 15), lordHowe, "2026-10-03 12:00 +1030", "2026-10-04 02:30 +1100"},
		{"daily 01:45: Lord Howe 30-minute overlap, first occurrence", daily(1, 45), lordHowe, "2026-04-04 12:00 +1100", "2026-04-05 01:45 +1100"},
		{"daily 01:45: Lord Howe overlap, once", daily(1, 45), lordHowe, "2026-04-05 01:45 +1100", "2026-04-06 01:45 +1030"},

		// Weekly on days at a time. 25 November 2026 is a Wednesday.
		{"weekly Mon+Thu from Wednesday", weekly(6, 30, time.Monday, time.Thursday), ny, "2026-11-25 12:00 -0500", "2026-11-26 06:30 -0500"},
		{"weekly Mon+Thu from Thursday's run", weekly(6, 30, time.Monday, time.Thursday), ny, "2026-11-26 06:30 -0500", "2026-11-30 06:30 -0500"},
		{"weekly Sunday only, a week on", weekly(9, 0, time.Sunday), ny, "2026-11-29 09:00 -0500", "2026-12-06 09:00 -0500"},
		{"weekly days given twice run once", weekly(9, 0, time.Friday, time.Friday), ny, "2026-11-25 12:00 -0500", "2026-11-27 09:00 -0500"},
		{"weekly Sunday 02:30 on NY spring-forward Sunday", weekly(2, 30, time.Sunday), ny, "2026-03-07 00:00 -0500", "2026-03-08 03:00 -0400"},
		{"weekly Sunday 02:30 on Berlin fall-back Sunday", weekly(2, 30, time.Sunday), berlin, "2026-10-24 00:00 +0200", "2026-10-25 02:30 +0200"},

		// Monthly on a day, with month ends.
		{"monthly 15th", monthly(15, 6, 30), utc, "2026-06-15 06:30 +0000", "2026-07-15 06:30 +0000"},
		{"monthly 31st in a 30-day month: the 30th", monthly(31, 6, 30), utc, "2026-04-01 00:00 +0000", "2026-04-30 06:30 +0000"},
		{"monthly 31st after the 30th: May 31st", monthly(31, 6, 30), utc, "2026-04-30 06:30 +0000", "2026-05-31 06:30 +0000"},
		{"monthly 31st in February: the 28th", monthly(31, 6, 30), utc, "2026-02-01 00:00 +0000", "2026-02-28 06:30 +0000"},
		{"monthly 31st in leap February: the 29th", monthly(31, 6, 30), utc, "2028-02-01 00:00 +0000", "2028-02-29 06:30 +0000"},
		{"monthly 30th in leap February: the 29th", monthly(30, 6, 30), utc, "2028-02-01 00:00 +0000", "2028-02-29 06:30 +0000"},
		{"monthly 29th in leap February: the 29th", monthly(29, 6, 30), utc, "2028-02-28 23:00 +0000", "2028-02-29 06:30 +0000"},
		{"monthly 29th after leap day: March 29th", monthly(29, 6, 30), utc, "2028-02-29 06:30 +0000", "2028-03-29 06:30 +0000"},
		{"monthly 29th in a common February: the 28th", monthly(29, 6, 30), utc, "2027-02-01 00:00 +0000", "2027-02-28 06:30 +0000"},
		{"monthly 30th in a common February: the 28th, then March 30th", monthly(30, 6, 30), utc, "2027-02-28 06:30 +0000", "2027-03-30 06:30 +0000"},
		{"monthly 1st across the year end", monthly(1, 0, 0), utc, "2026-12-31 23:59 +0000", "2027-01-01 00:00 +0000"},
		{"monthly 8th 02:30 on NY spring-forward day", monthly(8, 2, 30), ny, "2026-03-01 00:00 -0500", "2026-03-08 03:00 -0400"},
		{"monthly 1st 02:30 on NY fall-back day", monthly(1, 1, 30), ny, "2026-10-15 00:00 -0400", "2026-11-01 01:30 -0400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Next(tt.s, at(t, tt.after), tt.loc)
			if want := at(t, tt.want); !got.Equal(want) {
				t.Errorf("Next(after %s) = %s, want %s", tt.after, got.Format(time.RFC3339), want.Format(time.RFC3339))
			}
			if got.Location() != tt.loc {
				t.Errorf("Next returned a time in %v, want %v", got.Location(), tt.loc)
			}
		})
	}
}

func TestNextInvalidScheduleNeverFires(t *testing.T) {
	for _, s := range []storage.Schedule{
		{},
		{Kind: "yearly"},
		everyN(0), everyN(1441),
		hourly(60),
		daily(24, 0), daily(-1, 0),
		weekly(6, 30),
		weekly(6, 30, time.Weekday(7)),
		monthly(0, 6, 30), monthly(32, 6, 30),
	} {
		now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		if got := Next(s, now, time.UTC); !got.IsZero() {
			t.Errorf("Next(%+v) = %v, want the zero time", s, got)
		}
		if got := Prev(s, now, time.UTC); !got.IsZero() {
			t.Errorf("Prev(%+v) = %v, want the zero time", s, got)
		}
	}
}

func TestPrev(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	tests := []struct {
		name string
		s    storage.Schedule
		at   string
		want string
	}{
		{"a slot itself counts", daily(6, 30), "2026-06-10 06:30 -0400", "2026-06-10 06:30 -0400"},
		{"just before: yesterday", daily(6, 30), "2026-06-10 06:29 -0400", "2026-06-09 06:30 -0400"},
		{"every 15", everyN(15), "2026-06-10 10:14 -0400", "2026-06-10 10:00 -0400"},
		{"monthly 31st from mid-March: February's last day", monthly(31, 6, 30), "2026-03-15 00:00 -0400", "2026-02-28 06:30 -0500"},
		{"weekly from Wednesday: Monday", weekly(6, 30, time.Monday, time.Thursday), "2026-11-25 12:00 -0500", "2026-11-23 06:30 -0500"},
		{"gap slot resolved to 03:00", daily(2, 30), "2026-03-08 03:10 -0400", "2026-03-08 03:00 -0400"},
		{"repeated hour: the first occurrence", daily(1, 30), "2026-11-01 01:45 -0500", "2026-11-01 01:30 -0400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Prev(tt.s, at(t, tt.at), ny)
			if want := at(t, tt.want); !got.Equal(want) {
				t.Errorf("Prev(%s) = %s, want %s", tt.at, got.Format(time.RFC3339), want.Format(time.RFC3339))
			}
		})
	}
}

// TestYearOfRuns walks a year of every kind in several zones and checks
// what no single case can: runs strictly increase (nothing doubled), the
// number of runs is one per slot of the calendar (nothing skipped), and
// Next and Prev agree. Daily, weekly and monthly kinds walk the whole of
// 2026; the many-a-day kinds walk the three days around each
// daylight-saving change, which is where they can go wrong, so the test
// stays fast under -race.
func TestYearOfRuns(t *testing.T) {
	zones := []string{"UTC", "America/New_York", "Europe/Berlin", "Australia/Sydney", "Australia/Lord_Howe"}
	// gapMerges is how many runs a spring-forward day loses because slots
	// in the gap run at its end, which is a slot itself (see below).
	tests := []struct {
		name      string
		s         storage.Schedule
		perDay    int // slots per day; 0 for the whole-year kinds
		want      int // runs in 2026, for the whole-year kinds
		gapMerges func(zone string) int
	}{
		{name: "daily 02:30", s: daily(2, 30), want: 365},
		{name: "daily 01:30", s: daily(1, 30), want: 365},
		{name: "weekly Sun+Wed 02:30", s: weekly(2, 30, time.Sunday, time.Wednesday), want: 52 + 52},
		{name: "monthly 31st 02:30", s: monthly(31, 2, 30), want: 12},
		{name: "hourly :30", s: hourly(30), perDay: 24},
		{name: "every 60", s: everyN(60), perDay: 24, gapMerges: func(zone string) int {
			// 02:00 falls into a one-hour gap and runs at 03:00, a slot
			// itself; Lord Howe's half-hour gap ends at 02:30, no slot.
			if zone == "Australia/Lord_Howe" {
				return 0
			}
			return 1
		}},
		{name: "every 30", s: everyN(30), perDay: 48, gapMerges: func(zone string) int {
			// In a one-hour gap 02:00 and 02:30 both run at 03:00, a
			// slot itself. Lord Howe's half-hour gap moves 02:00 onto
			// the 02:30 slot.
			if zone == "Australia/Lord_Howe" {
				return 1
			}
			return 2
		}},
	}
	for _, zone := range zones {
		loc := mustLoad(t, zone)
		for _, tt := range tests {
			t.Run(zone+"/"+tt.name, func(t *testing.T) {
				if tt.perDay == 0 {
					from := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
					if n := walk(t, tt.s, loc, from, from.AddDate(1, 0, 0)); n != tt.want {
						t.Errorf("%d runs in 2026, want %d", n, tt.want)
					}
					return
				}
				changes := offsetChanges(loc, 2026)
				if zone != "UTC" && len(changes) != 2 {
					t.Fatalf("%d offset changes in 2026, want 2", len(changes))
				}
				for _, ch := range changes {
					y, m, d := ch.In(loc).Date()
					from := time.Date(y, m, d-1, 0, 0, 0, 0, loc)
					want := 3 * tt.perDay
					_, before := ch.Add(-time.Second).Zone()
					_, after := ch.Zone()
					if after > before && tt.gapMerges != nil { // spring forward
						want -= tt.gapMerges(zone)
					}
					if n := walk(t, tt.s, loc, from, time.Date(y, m, d+2, 0, 0, 0, 0, loc)); n != want {
						t.Errorf("%d runs in the three days around %v, want %d", n, ch, want)
					}
				}
			})
		}
	}
}

// walk counts the runs in [from, end), checking each step.
func walk(t *testing.T, s storage.Schedule, loc *time.Location, from, end time.Time) int {
	t.Helper()
	n := 0
	prev := from.Add(-time.Nanosecond)
	for {
		next := Next(s, prev, loc)
		if !next.After(prev) {
			t.Fatalf("Next(%v) = %v: not later", prev, next)
		}
		if !next.Before(end) {
			return n
		}
		if p := Prev(s, next, loc); !p.Equal(next) {
			t.Fatalf("Prev(%v) = %v, want the run itself", next, p)
		}
		if p := Prev(s, next.Add(-time.Nanosecond), loc); n > 0 && !p.Equal(prev) {
			t.Fatalf("Prev just before %v = %v, want the previous run %v", next, p, prev)
		}
		n++
		prev = next
	}
}

// offsetChanges lists the instants in year at which loc's offset changes.
// offsetChanges are the moments in year when loc's UTC offset changes. A
// zone bound is not always a change: the slim zone files Go embeds
// (time/tzdata, zoneinfo.zip, the only database on Windows) end their
// explicit transitions at some year and continue with a rule, and the seam
// is a bound with the same offset on both sides (issue 24: Lord Howe
// counted 3 changes in 2026 with them).
func offsetChanges(loc *time.Location, year int) []time.Time {
	var out []time.Time
	t := time.Date(year, 1, 1, 0, 0, 0, 0, loc)
	end := t.AddDate(1, 0, 0)
	for {
		_, next := t.ZoneBounds()
		if next.IsZero() || !next.Before(end) {
			return out
		}
		_, before := next.Add(-time.Second).Zone()
		if _, after := next.Zone(); after != before {
			out = append(out, next)
		}
		t = next
	}
}

func TestNextN(t *testing.T) {
	got := NextN(weekly(6, 30, time.Monday, time.Thursday), at(t, "2026-11-25 12:00 +0000"), time.UTC, 3)
	want := []string{"2026-11-26 06:30 +0000", "2026-11-30 06:30 +0000", "2026-12-03 06:30 +0000"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if !got[i].Equal(at(t, want[i])) {
			t.Errorf("run %d = %v, want %s", i, got[i], want[i])
		}
	}
	if got := NextN(everyN(0), time.Now(), time.UTC, 3); len(got) != 0 {
		t.Errorf("NextN of an invalid schedule = %v, want none", got)
	}
}

func BenchmarkNextEveryMinute(b *testing.B) {
	loc := mustLoad(b, "Europe/Berlin")
	s := everyN(1)
	now := time.Date(2026, 3, 29, 1, 59, 30, 0, loc)
	for b.Loop() {
		Next(s, now, loc)
	}
}
