package clock

import (
	"testing"
	"time"
)

func fired(tm Timer) bool {
	select {
	case <-tm.C():
		return true
	default:
		return false
	}
}

func TestFake(t *testing.T) {
	start := time.Date(2026, 6, 10, 6, 0, 0, 0, time.UTC)
	c := NewFake(start)
	a := c.NewTimer(time.Minute)
	b := c.NewTimer(time.Hour)
	s := c.NewTimer(2 * time.Minute)
	if c.Pending() != 3 {
		t.Fatalf("Pending = %d", c.Pending())
	}
	if d, ok := c.NextDeadline(); !ok || !d.Equal(start.Add(time.Minute)) {
		t.Errorf("NextDeadline = %v, %v", d, ok)
	}
	if !s.Stop() || s.Stop() {
		t.Error("Stop should report true once, then false")
	}
	c.Advance(59 * time.Second)
	if fired(a) || fired(b) {
		t.Fatal("a timer fired early")
	}
	c.Advance(time.Second)
	if !fired(a) || fired(b) || fired(s) {
		t.Fatal("only the one-minute timer should have fired")
	}
	if a.Stop() {
		t.Error("Stop of a fired timer reports true")
	}
	// Setting the clock back keeps the hour timer's remaining 59 minutes.
	c.Set(start.Add(-24 * time.Hour))
	if d, _ := c.NextDeadline(); !d.Equal(start.Add(-24*time.Hour + 59*time.Minute)) {
		t.Errorf("after setting back, NextDeadline = %v", d)
	}
	c.Advance(59 * time.Minute)
	if !fired(b) || c.Pending() != 0 {
		t.Error("the hour timer did not fire after its remaining time")
	}
	if !fired(c.NewTimer(0)) {
		t.Error("a zero timer must fire at once")
	}
	if _, ok := c.NextDeadline(); ok {
		t.Error("NextDeadline with no timers")
	}
}

func TestParseScaled(t *testing.T) {
	c, err := ParseScaled("2026-11-25T05:59:00Z*60")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 25, 5, 59, 0, 0, time.UTC)
	// Real time passes while this runs, but at most seconds: a minute of
	// real time would be an hour of scaled time.
	if now := c.Now(); now.Before(start) || now.After(start.Add(time.Hour)) {
		t.Errorf("Now = %v, want just after %v", now, start)
	}
	if c.speed != 60 {
		t.Errorf("speed %v", c.speed)
	}
	if c, err := ParseScaled("2026-11-25T05:59:00+01:00"); err != nil || c.speed != 1 {
		t.Errorf("without speed: %v, %v", c, err)
	}
	for _, bad := range []string{"", "tomorrow", "2026-11-25T05:59:00Z*0", "2026-11-25T05:59:00Z*x"} {
		if _, err := ParseScaled(bad); err == nil {
			t.Errorf("ParseScaled(%q) should fail", bad)
		}
	}
	var _ Clock = System{}
	var _ Clock = c
	var _ Clock = NewFake(start)
	tm := NewScaled(start, 1e9).NewTimer(time.Hour) // 3.6ms of real time
	<-tm.C()
	if !(System{}).NewTimer(time.Hour).Stop() {
		t.Error("stopping a fresh system timer")
	}
}
