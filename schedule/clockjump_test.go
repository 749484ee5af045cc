package schedule

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/storage"
)

// Issue 20, item 5: the program's clock jumps forward 3 hours, back 1
// hour, and a suspend of 2 days, while the scheduler runs. No slot runs
// twice, each jump ahead makes up the latest missed run once, and the
// history's note says why the run is late.
func TestClockJumps(t *testing.T) {
	h := newHarness(t, june10(9, 59), storage.Config{
		Schedules: []storage.Schedule{
			named("h", "Hourly", hourly(0)), named("d", "Daily", daily(6, 0)), named("q", "Quarterly", everyN(15)),
		},
		Connections: []storage.Connection{conn("c1", "Alpha", "h"), conn("c2", "Beta", "d"), conn("c3", "Gamma", "q")},
	})
	h.start()
	h.advanceTo(june10(10, 5))
	// Forward 3 hours at once.
	h.jump(june10(13, 5))
	h.advanceTo(june10(14, 5))
	// Back 1 hour: 13:15 to 14:00 ran already and must not run again.
	h.waitIdle()
	h.clock.Set(june10(13, 5))
	h.advanceTo(june10(14, 20))
	// A suspend of 2 days.
	h.jump(june10(14, 20).Add(48 * time.Hour))
	h.advanceTo(june10(14, 31).Add(48 * time.Hour))
	const asleep = "the computer was asleep or its clock was changed"
	h.wantHistory(
		"06-10 10:00 Alpha schedule succeeded",
		"06-10 10:00 Gamma schedule succeeded",
		"06-10 13:05 Alpha schedule succeeded catch-up of the run due at Wed 10 Jun 2026 13:00 UTC (the clock moved 3 hours ahead at once: "+asleep+")",
		"06-10 13:05 Gamma schedule succeeded catch-up of the run due at Wed 10 Jun 2026 13:00 UTC (the clock moved 3 hours ahead at once: "+asleep+")",
		"06-10 13:15 Gamma schedule succeeded",
		"06-10 13:30 Gamma schedule succeeded",
		"06-10 13:45 Gamma schedule succeeded",
		"06-10 14:00 Alpha schedule succeeded",
		"06-10 14:00 Gamma schedule succeeded",
		"06-10 14:15 Gamma schedule succeeded",
		"06-12 14:20 Alpha schedule succeeded catch-up of the run due at Fri 12 Jun 2026 14:00 UTC (the clock moved 2 days ahead at once: "+asleep+")",
		"06-12 14:20 Beta schedule succeeded catch-up of the run due at Fri 12 Jun 2026 06:00 UTC (the clock moved 2 days ahead at once: "+asleep+")",
		"06-12 14:20 Gamma schedule succeeded catch-up of the run due at Fri 12 Jun 2026 14:15 UTC (the clock moved 2 days ahead at once: "+asleep+")",
		"06-12 14:30 Gamma schedule succeeded",
	)
	for _, want := range []string{"the clock jumped ahead", "the clock was set back", "already ran before the clock was set back"} {
		if !strings.Contains(h.logs.text(), want) {
			t.Errorf("the log does not say %q:\n%s", want, h.logs.text())
		}
	}
}

// TestClockJumpsRandom repeats the three jumps at random moments over
// every kind of schedule and counts what must never happen: a slot run
// twice, a jump ahead past a slot without exactly one catch-up per
// connection (noted with the reason), a run for a slot that did not come.
// `make soak` runs it at full size (BEACON_SOAK=1) and reads its FIGURE
// line.
func TestClockJumpsRandom(t *testing.T) {
	rounds := 12
	if os.Getenv("BEACON_SOAK") == "1" {
		rounds = 400
		if f, err := strconv.ParseFloat(os.Getenv("BEACON_SOAK_SCALE"), 64); err == nil && f > 0 {
			rounds = max(1, int(float64(rounds)*f))
		}
	}
	kinds := []storage.Schedule{
		everyN(1), everyN(15), hourly(0), hourly(30), daily(6, 0), daily(23, 45),
		weekly(9, 0, time.Monday, time.Thursday), monthly(1, 3, 0),
	}
	rng := rand.New(rand.NewPCG(20, 5))
	var jumps, caughtUp, doubles, missing, wrongNote, runs int
	for round := range rounds {
		s := named("s", "S", kinds[round%len(kinds)])
		start := time.Date(2026, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), 0, 0, time.UTC)
		h := newHarness(t, start, storage.Config{
			Schedules:   []storage.Schedule{s},
			Connections: []storage.Connection{conn("c1", "Alpha", "s"), conn("c2", "Beta", "s")},
		})
		h.start()
		type ahead struct{ from, to time.Time }
		var aheads []ahead
		now := start.Add(time.Duration(1+rng.IntN(120)) * time.Minute)
		h.advanceTo(now)
		for _, j := range rng.Perm(3) {
			switch j {
			case 0, 2: // forward 3 hours, suspend 2 days
				d := 3 * time.Hour
				if j == 2 {
					d = 48 * time.Hour
				}
				aheads = append(aheads, ahead{now, now.Add(d)})
				now = now.Add(d)
				h.jump(now)
			case 1: // back 1 hour
				h.waitIdle()
				now = now.Add(-time.Hour)
				h.clock.Set(now)
			}
			jumps++
			now = now.Add(time.Duration(1+rng.IntN(90)) * time.Minute)
			h.advanceTo(now)
		}
		h.stop()
		recs := h.hist.snapshot()
		runs += len(recs)
		for _, name := range []string{"Alpha", "Beta"} {
			seen := map[int64]bool{}
			for _, r := range recs {
				if r.conn != name {
					continue
				}
				slot := Prev(s, r.started.Add(time.Second), time.UTC)
				if slot.IsZero() || r.started.Sub(slot) > 3*time.Hour && !strings.Contains(r.note, "catch-up") {
					missing++ // a run for a slot that did not come
					t.Errorf("round %d %s: a run at %s for no slot", round, name, r.started)
				}
				if seen[slot.Unix()] {
					doubles++
					t.Errorf("round %d %s (%s): the slot %s ran twice:\n%s", round, name, Summary(s), slot, strings.Join(h.hist.lines(time.UTC), "\n"))
				}
				seen[slot.Unix()] = true
			}
			for _, a := range aheads {
				// The slots the jump passed over (more than LateAfter late).
				missed := Prev(s, a.to, time.UTC)
				if missed.IsZero() || !missed.After(a.from) || a.to.Sub(missed) <= 2*time.Minute {
					continue
				}
				n := 0
				for _, r := range recs {
					if r.conn == name && r.started.Equal(a.to) {
						n++
						if !strings.Contains(r.note, "the computer was asleep or its clock was changed") {
							wrongNote++
							t.Errorf("round %d %s: the catch-up's note does not say why: %q", round, name, r.note)
						}
					}
				}
				if n == 1 {
					caughtUp++
				} else {
					missing++
					t.Errorf("round %d %s (%s): %d catch-up runs after the jump %s → %s, want 1:\n%s", round, name, Summary(s), n, a.from, a.to, strings.Join(h.hist.lines(time.UTC), "\n"))
				}
			}
		}
	}
	fmt.Printf("FIGURE clock-jumps: rounds=%d (8 schedule kinds, 2 connections each) jumps=%d (forward 3 h, back 1 h, suspend 2 days, in random order at random times) runs=%d catch-ups=%d double-runs=%d missing-or-extra-catch-ups=%d notes-without-reason=%d\n",
		rounds, jumps, runs, caughtUp, doubles, missing, wrongNote)
}
