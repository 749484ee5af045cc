// Package clock is the schedule runner's source of time: the real clock,
// a scaled one for end-to-end tests, and a fake one that only moves when a
// test says so. The runner never calls time.Now or time.Sleep itself, so a
// simulated day of schedules runs in milliseconds.
package clock

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Clock tells the time and makes timers.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that fires once, d from now.
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer of a Clock.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it did.
	Stop() bool
}

// System is the real clock.
type System struct{}

func (System) Now() time.Time { return time.Now() }

func (System) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

type systemTimer struct{ t *time.Timer }

func (t systemTimer) C() <-chan time.Time { return t.t.C }
func (t systemTimer) Stop() bool          { return t.t.Stop() }

// Scaled is a real clock that starts at start and runs speed times
// faster: with speed 60 a simulated hour passes in a real minute. It lets an
// end-to-end test run a real `beacon scheduler` process through an hour of
// schedules (see ParseScaled).
type Scaled struct {
	start time.Time // simulated time at origin
	real  time.Time // real time at origin (with its monotonic reading)
	speed float64
}

// NewScaled returns a clock reading start now and running speed times
// faster than real time.
func NewScaled(start time.Time, speed float64) *Scaled {
	if speed <= 0 {
		speed = 1
	}
	return &Scaled{start: start, real: time.Now(), speed: speed}
}

func (c *Scaled) Now() time.Time {
	return c.start.Add(time.Duration(float64(time.Since(c.real)) * c.speed))
}

func (c *Scaled) NewTimer(d time.Duration) Timer {
	return systemTimer{time.NewTimer(time.Duration(float64(d) / c.speed))}
}

// ParseScaled reads "2026-11-25T05:59:00Z" or "2026-11-25T05:59:00Z*60"
// (RFC 3339 time, optional speed) into a Scaled. The scheduler command
// reads it from BEACON_SCHEDULER_CLOCK, for tests only.
func ParseScaled(spec string) (*Scaled, error) {
	startText, speedText, hasSpeed := strings.Cut(strings.TrimSpace(spec), "*")
	start, err := time.Parse(time.RFC3339, startText)
	if err != nil {
		return nil, fmt.Errorf("the test clock %q must start with an RFC 3339 time such as 2026-11-25T05:59:00Z: %w", spec, err)
	}
	speed := 1.0
	if hasSpeed {
		speed, err = strconv.ParseFloat(speedText, 64)
		if err != nil || speed <= 0 {
			return nil, fmt.Errorf("the test clock %q must end with a positive speed such as *60", spec)
		}
	}
	return NewScaled(start, speed), nil
}
