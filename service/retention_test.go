package service

import (
	"strings"
	"testing"
	"time"
)

// The retention as typed in the window and the CLI, and in words.
func TestParseHistoryMonths(t *testing.T) {
	for in, want := range map[string]int{"forever": 0, " Forever ": 0, "0": 0, "6": 6, "24 months": 24, "1 month": 1, "1200": 1200} {
		if got, err := ParseHistoryMonths(in); err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "a year", "-1", "1201", "6.5", "months"} {
		if _, err := ParseHistoryMonths(in); err == nil || !strings.Contains(err.Error(), "whole number of months") {
			t.Errorf("%q accepted (%v)", in, err)
		}
	}
	for months, want := range map[int][2]string{0: {"forever", "forever"}, 1: {"1 month", "for 1 month"}, 36: {"36 months", "for 36 months"}} {
		if got := [2]string{RetentionText(months), KeepFor(months)}; got != want {
			t.Errorf("%d: %q", months, got)
		}
	}
}

// The cutoff is the day of now, months back, as an import applies it; the
// plan says what it deletes per connection.
func TestRetentionPlan(t *testing.T) {
	now := time.Date(2027, 8, 31, 23, 30, 0, 0, time.FixedZone("east", 3*3600))
	if got := HistoryCutoff(now, 6); !got.Equal(time.Date(2027, 3, 3, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("cutoff %s", got)
	}
	if !HistoryCutoff(now, 0).IsZero() {
		t.Error("forever has a cutoff")
	}
	p := RetentionPlan{Months: 6, Before: HistoryCutoff(now, 6), Cuts: []RetentionCut{{Name: "Contoso", Days: 30}, {Days: 1}}}
	want := "This deletes 31 days of licence history older than 2027-03-03 (Contoso: 30 days; a removed connection: 1 day)."
	if got := p.Describe(); !strings.HasPrefix(got, want) {
		t.Errorf("%q, want %q", got, want)
	}
	if got := (RetentionPlan{Months: 6}).Describe(); !strings.Contains(got, "nothing is deleted") {
		t.Errorf("%q", got)
	}
}
