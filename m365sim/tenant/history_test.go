package tenant

import (
	"testing"
	"time"
)

// TestAgeDaysJoinersStartWork: AgeDays moves its clock a day at a time to
// its base, runs each day's callback, and the users who joined during the
// days start using mail and Teams within a fortnight, so an aged tenant's
// share of active users does not only fall.
func TestAgeDaysJoinersStartWork(t *testing.T) {
	end := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	const days = 90
	clk := NewDayClock(func() time.Time { return end }, days)
	tn := GenerateAt(5, 300, clk.Now())
	tn.Clock = clk.Now
	start := tn.Reference
	var seen []time.Time
	if err := tn.AgeDays(5, days, HistoryFraction, clk, func(int) error { seen = append(seen, clk.Now()); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != days || !seen[0].Equal(end.AddDate(0, 0, 1-days)) || !seen[days-1].Equal(end) || !clk.Now().Equal(end) {
		t.Fatalf("days seen %d, first %s, last %s, clock %s", len(seen), seen[0], seen[len(seen)-1], clk.Now())
	}
	joiners, working := 0, 0
	for _, u := range tn.Users {
		if !u.AccountEnabled || !u.CreatedDateTime.After(start) || end.Sub(u.CreatedDateTime) < joinerDays*24*time.Hour {
			continue
		}
		joiners++
		if !neverActive(&u.Usage) {
			working++
		}
	}
	if joiners < 10 || working < joiners*9/10 {
		t.Fatalf("%d of %d enabled joiners older than a fortnight use anything", working, joiners)
	}
}
