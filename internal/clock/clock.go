// Package clock is the program's one source of "now" (issue 15): the real
// clock (Now, System), a scaled one for end-to-end tests, and a fake one
// that only moves when a test says so. Every date the program computes a
// figure or a decision from comes from here, never from time.Now, so a
// test can pin it and the whole suite can run as if today were another
// date: BEACON_CLOCK_SHIFT=400d moves this clock (and so every process the
// tests start, which inherit the variable) 400 days ahead. The schedule
// runner never calls time.Now or time.Sleep itself, so a simulated day of
// schedules runs in milliseconds.
//
// Time-outs and elapsed times (keyring deadlines, retry waits, TLS
// certificate validity, which Go and browsers check against the real
// clock) measure durations, not dates, and stay on the real clock.
package clock

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ShiftEnv names the environment variable that moves the program's clock:
// a duration such as "45d", "+400d", "-36h" or "1d12h" (d is 24 hours).
// For tests; an administrator has no reason to set it.
const ShiftEnv = "BEACON_CLOCK_SHIFT"

// shift is read once, at the first reading of the clock: the program's
// clock never jumps because the environment changed under it. Reading it
// then rather than at start-up also lets go test see the variable, so a
// cached result of an unshifted run is never reused for a shifted one.
var shift = sync.OnceValue(func() time.Duration { return mustShift(os.Getenv(ShiftEnv)) })

func mustShift(v string) time.Duration {
	d, err := ParseShift(v)
	if err != nil {
		// A test run with a mistyped shift must not pass as an unshifted one.
		panic(err)
	}
	return d
}

// ParseShift reads a clock shift: a Go duration whose units may include d
// (24 hours), with an optional sign; "" is no shift.
func ParseShift(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	text, neg := v, false
	switch text[0] {
	case '+':
		text = text[1:]
	case '-':
		text, neg = text[1:], true
	}
	var total time.Duration
	if days, rest, ok := strings.Cut(text, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%s=%q: the days must be a whole number such as 45d", ShiftEnv, v)
		}
		total, text = time.Duration(n)*24*time.Hour, rest
	}
	if text != "" {
		d, err := time.ParseDuration(text)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("%s=%q: want a duration such as 45d, -36h or 1d12h", ShiftEnv, v)
		}
		total += d
	}
	if neg {
		total = -total
	}
	return total, nil
}

// Shift is how far the program's clock runs from the real one.
func Shift() time.Duration { return shift() }

// Now is the program's current time: the real time, moved by
// BEACON_CLOCK_SHIFT when a test run sets it. It keeps the monotonic
// reading, so durations between two readings stay exact.
func Now() time.Time { return time.Now().Add(shift()) }

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

func (System) Now() time.Time { return Now() }

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
