package tenant

import (
	"sync"
	"time"
)

// HistoryFraction is the share of the users Mutate changes on each day of
// an aged history (AgeDays): about one user in 125 a day joins, leaves,
// gains or loses a licence, or is disabled, so a 250-user tenant sees a
// few changes a day and some 700 in a year, growing by a tenth (Mutate
// adds more users than it deletes), as a tenant in business does.
const HistoryFraction = 0.008

// DayClock is the clock of a tenant being aged (issue 18): it stands some
// days behind base and catches up a day at a time, so when the history is
// made it tells base's time and the simulator serves on as of today.
type DayClock struct {
	base   func() time.Time
	mu     sync.Mutex
	behind time.Duration
}

// NewDayClock returns a clock days days behind base.
func NewDayClock(base func() time.Time, days int) *DayClock {
	return &DayClock{base: base, behind: time.Duration(days) * 24 * time.Hour}
}

// Now is base's time, as many days ago as are left to age.
func (c *DayClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base().Add(-c.behind)
}

// Advance moves the clock a day closer to base.
func (c *DayClock) Advance() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.behind = max(0, c.behind-24*time.Hour)
}

// AgeDays ages the tenant through days days on clk (which should start
// days behind its base, with the tenant generated as of clk.Now): each day
// the clock moves a day on, AgeDay changes the tenant as of that day, then
// each, when set, runs (an import of the day, for a history made the way a
// real one is). It stops at the first error of each.
func (t *Tenant) AgeDays(seed int64, days int, fraction float64, clk *DayClock, each func(day int) error) error {
	for day := 1; day <= days; day++ {
		clk.Advance()
		t.AgeDay(seed, day, fraction)
		if each != nil {
			if err := each(day); err != nil {
				return err
			}
		}
	}
	return nil
}
