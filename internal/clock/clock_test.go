package clock

import (
	"os"
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

func TestParseShift(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"45d", 45 * day}, {"+400d", 400 * day}, {"-36h", -36 * time.Hour},
		{"1d12h", day + 12*time.Hour}, {" 2h30m ", 150 * time.Minute}, {"-1d", -day},
	} {
		if got, err := ParseShift(tc.in); err != nil || got != tc.want {
			t.Errorf("ParseShift(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"45", "d", "xd", "1.5d", "+-3d", "3d-2h", "tomorrow"} {
		if _, err := ParseShift(bad); err == nil {
			t.Errorf("ParseShift(%q) accepted", bad)
		}
	}
}

// TestNowFollowsShift: the program's clock is the real one moved by the
// shift the test run asked for (BEACON_CLOCK_SHIFT), so a shifted make test
// really moves every default clock.
func TestNowFollowsShift(t *testing.T) {
	want, err := ParseShift(os.Getenv(ShiftEnv))
	if err != nil {
		t.Fatal(err)
	}
	if Shift() != want {
		t.Fatalf("Shift() = %v, the environment asks %v", Shift(), want)
	}
	before := time.Now()
	got := Now()
	after := time.Now()
	if got.Before(before.Add(want)) || got.After(after.Add(want)) {
		t.Fatalf("Now() = %v, want between %v and %v", got, before.Add(want), after.Add(want))
	}
	if s := (System{}).Now(); s.Sub(got) < 0 || s.Sub(got) > time.Minute {
		t.Fatalf("System.Now() = %v, Now() = %v", s, got)
	}
}
