package tenant

import (
	"math/rand/v2"
	"slices"
	"time"
)

// joinerDays is how long after joining a user who has used nothing yet
// may start (AgeDay).
const joinerDays = 14

// neverActive says a user has no recorded activity in any workload.
func neverActive(us *Usage) bool {
	for _, d := range us.LastActivity {
		if d >= 0 {
			return false
		}
	}
	return true
}

// AgeSummary says what one AgeDay did.
type AgeSummary struct {
	MutationSummary
	// Active counts the users active on the day.
	Active int
}

// AgeDay moves the tenant one day on, as a day of a real tenant would
// (issue 18: a year of history in seconds): every recorded activity,
// activation and sign-in gets a day older, about three in four enabled
// users who were active in the last 30 days are active again, and Mutate
// changes fraction of the users (joiners, leavers, licence changes,
// disabled and enabled accounts). The caller moves the tenant's clock by a
// day around it, so the mutations are stamped with the new day.
//
// Its random numbers come from their own stream, from seed and day: a
// tenant generated from a seed is the same with or without ageing, and
// the same seed ages it the same way.
func (t *Tenant) AgeDay(seed int64, day int, fraction float64) AgeSummary {
	sum := AgeSummary{MutationSummary: t.Mutate(seed^int64(day)*0x9e3779b9, fraction)}
	t.mu.Lock()
	defer t.mu.Unlock()
	r := rand.New(rand.NewPCG(uint64(seed), 0x2545f4914f6cdd1d^uint64(day)))
	now := t.now()
	older := func(d *int16) {
		if *d >= 0 && *d < 32767 {
			*d++
		}
	}
	// Users are copied, never changed in place: a request being served
	// may still hold the old version (as with Mutate).
	for _, old := range slices.Clone(t.Users) {
		nu := *old
		u := &nu
		if u.SignIn != nil {
			si := *u.SignIn
			u.SignIn = &si
		}
		t.replace(old, u)
		us := &u.Usage
		recent := false
		for w := range us.LastActivity {
			recent = recent || us.LastActivity[w] >= 0 && us.LastActivity[w] <= InactiveDays
			older(&us.LastActivity[w])
		}
		older(&us.LastAppActivity)
		older(&us.LastActivation)
		for i := range us.Activations {
			if us.Activations[i].Product != 0 {
				older(&us.Activations[i].LastActivated)
			}
		}
		if u.SignIn != nil {
			older(&u.SignIn.Interactive)
			older(&u.SignIn.NonInteractive)
		}
		// A joiner starts work: generated as of the day they joined,
		// they have used nothing yet; within a fortnight nearly all start
		// on mail and Teams, a quarter of them each day (without this the
		// share of active users would only fall as a tenant ages).
		if u.AccountEnabled && !recent && neverActive(us) && !u.CreatedDateTime.IsZero() &&
			now.Sub(u.CreatedDateTime) <= joinerDays*24*time.Hour && r.IntN(4) == 0 {
			us.LastActivity[WorkloadExchange], us.LastActivity[WorkloadTeams] = 0, 0
			if u.SignIn != nil {
				u.SignIn.Interactive = 0
			}
			sum.Active++
			continue
		}
		// Activity: the workloads the user already uses, today. Someone
		// inactive for a while comes back now and then.
		comeBack := !recent && r.IntN(200) == 0
		if !u.AccountEnabled || !(recent && r.IntN(4) != 0 || comeBack) {
			continue
		}
		sum.Active++
		for w := range us.LastActivity {
			if us.LastActivity[w] >= 0 {
				us.LastActivity[w] = 0
			}
		}
		if us.LastAppActivity >= 0 {
			us.LastAppActivity = 0
		}
		if u.SignIn != nil {
			u.SignIn.Interactive = 0
		}
	}
	return sum
}
