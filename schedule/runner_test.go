package schedule

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/storage"
)

// 10 June 2026 is a Wednesday.
func june10(h, m int) time.Time { return time.Date(2026, 6, 10, h, m, 0, 0, time.UTC) }

func TestTwoSchedulesOverAnHour(t *testing.T) {
	h := newHarness(t, june10(9, 59), storage.Config{
		Schedules: []storage.Schedule{
			named("s1", "Quarterly", everyN(15)),
			named("s2", "Half past", hourly(30)),
			named("s3", "Unused", everyN(1)), // no connections: runs nothing
		},
		Connections: []storage.Connection{
			conn("c2", "Beta", "s1"), // out of order: runs go by name
			conn("c1", "Alpha", "s1"),
			conn("c3", "Gamma", "s2"),
			conn("c4", "Delta", ""),
		},
	})
	h.start()
	h.advanceTo(june10(11, 0).Add(time.Second))
	h.wantHistory(
		"06-10 10:00 Alpha schedule succeeded",
		"06-10 10:00 Beta schedule succeeded",
		"06-10 10:15 Alpha schedule succeeded",
		"06-10 10:15 Beta schedule succeeded",
		"06-10 10:30 Alpha schedule succeeded",
		"06-10 10:30 Beta schedule succeeded",
		"06-10 10:30 Gamma schedule succeeded",
		"06-10 10:45 Alpha schedule succeeded",
		"06-10 10:45 Beta schedule succeeded",
		"06-10 11:00 Alpha schedule succeeded",
		"06-10 11:00 Beta schedule succeeded",
	)
	if got := h.runner.Tally(); got != (Tally{Succeeded: 11}) {
		t.Errorf("Tally = %+v", got)
	}
}

func TestSequentialWithinScheduleParallelAcrossSchedules(t *testing.T) {
	h := newHarness(t, june10(5, 0), storage.Config{
		Schedules: []storage.Schedule{named("a", "A", daily(6, 0)), named("b", "B", daily(6, 0))},
		Connections: []storage.Connection{
			conn("a1", "A1", "a"), conn("a2", "A2", "a"), conn("b1", "B1", "b"),
		},
	})
	started := make(chan string, 3)
	release := map[string]chan struct{}{"A1": make(chan struct{}), "A2": make(chan struct{}), "B1": make(chan struct{})}
	h.exec.block = func(ctx context.Context, c storage.Connection) Outcome {
		started <- c.Name
		<-release[c.Name]
		return Outcome{Status: StatusSucceeded}
	}
	h.start()
	h.waitIdle()
	h.parked = false
	h.clock.Set(june10(6, 0))

	// A1 and B1 start side by side; A2 waits for A1.
	got := map[string]bool{}
	for range 2 {
		got[recv(t, started)] = true
	}
	if !got["A1"] || !got["B1"] {
		t.Fatalf("first two imports started: %v, want A1 and B1", got)
	}
	// A second go of the same schedule while it runs is refused, not run
	// alongside.
	if err := h.runner.RunNow("a"); !errors.Is(err, ErrScheduleBusy) {
		t.Errorf("RunNow of a running schedule: %v, want ErrScheduleBusy", err)
	}
	if !h.runner.IsRunning("a") {
		t.Error("IsRunning(a) = false while A1 runs")
	}
	close(release["A1"])
	if name := recv(t, started); name != "A2" {
		t.Fatalf("after A1 ended, %s started; want A2", name)
	}
	close(release["A2"])
	close(release["B1"])
	h.waitIdle()

	recs := map[string]record{}
	for _, r := range h.hist.snapshot() {
		recs[r.conn] = r
	}
	if a1, a2 := recs["A1"], recs["A2"]; a2.startSeq < a1.endSeq {
		t.Errorf("A2 started (%d) before A1 ended (%d): connections of one schedule overlapped", a2.startSeq, a1.endSeq)
	}
	if a1, b1 := recs["A1"], recs["B1"]; b1.startSeq > a1.endSeq {
		t.Errorf("B1 started after A1 ended: schedules did not run side by side")
	}
}

func recv(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(guard):
		t.Fatalf("nothing arrived within %s of real time", guard)
	}
	return ""
}

func TestCatchUpRunsOnceAtStart(t *testing.T) {
	h := newHarness(t, june10(9, 7), storage.Config{
		Schedules: []storage.Schedule{named("d", "Daily", daily(6, 0)), named("h", "Hourly", hourly(0))},
		Connections: []storage.Connection{
			conn("c1", "Alpha", "d"),
			conn("c2", "Beta", "d"), // never ran by schedule: nothing known to be missed
			conn("c3", "Gamma", "d"),
			conn("c4", "Delta", "h"),
		},
	})
	// Alpha last ran three days ago: three slots missed, one catch-up.
	h.hist.add(&record{conn: "Alpha", trigger: TriggerSchedule, status: StatusSucceeded, started: time.Date(2026, 6, 7, 6, 0, 0, 0, time.UTC)})
	// Gamma ran today's slot already.
	h.hist.add(&record{conn: "Gamma", trigger: TriggerSchedule, status: StatusSucceeded, started: june10(6, 0)})
	// Delta's 09:00 run was cancelled by a shutdown: it does not count.
	h.hist.add(&record{conn: "Delta", trigger: TriggerSchedule, status: StatusSucceeded, started: june10(8, 0)})
	h.hist.add(&record{conn: "Delta", trigger: TriggerSchedule, status: StatusCancelled, started: june10(9, 0)})
	h.start()
	h.advanceTo(june10(10, 1))
	h.hist.mu.Lock()
	h.hist.records = h.hist.records[4:]
	h.hist.mu.Unlock()
	h.wantHistory(
		"06-10 09:07 Alpha schedule succeeded catch-up of the run due at Wed 10 Jun 2026 06:00 UTC",
		"06-10 09:07 Delta schedule succeeded catch-up of the run due at Wed 10 Jun 2026 09:00 UTC",
		"06-10 10:00 Delta schedule succeeded",
	)
}

func TestWakeFromSleepRunsOnce(t *testing.T) {
	h := newHarness(t, june10(5, 0), storage.Config{
		Schedules:   []storage.Schedule{named("d", "Daily", daily(6, 0)), named("q", "Quarterly", everyN(15))},
		Connections: []storage.Connection{conn("c1", "Alpha", "d"), conn("c2", "Beta", "q")},
	})
	h.start()
	h.advanceTo(june10(5, 16))
	// The machine sleeps from 05:16 on the 10th to 12:01 on the 13th.
	h.jump(time.Date(2026, 6, 13, 12, 1, 0, 0, time.UTC))
	h.advanceTo(time.Date(2026, 6, 13, 12, 15, 0, 0, time.UTC))
	h.wantHistory(
		"06-10 05:15 Beta schedule succeeded",
		"06-13 12:01 Alpha schedule succeeded catch-up of the run due at Sat 13 Jun 2026 06:00 UTC (the clock moved 3 days ahead at once: the computer was asleep or its clock was changed)",
		// Within two minutes of the 12:00 slot: on time, no note.
		"06-13 12:01 Beta schedule succeeded",
		"06-13 12:15 Beta schedule succeeded",
	)
}

func TestAnotherProcessRanTheSlotAlready(t *testing.T) {
	h := newHarness(t, june10(5, 0), storage.Config{
		Schedules:   []storage.Schedule{named("d", "Daily", daily(6, 0))},
		Connections: []storage.Connection{conn("c1", "Alpha", "d")},
	})
	h.exec.block = func(context.Context, storage.Connection) Outcome { return Outcome{Status: StatusSucceeded} }
	h.start()
	h.waitIdle()
	// The other process ran (and finished) the 06:00 slot before this
	// one took the lock.
	h.hist.add(&record{conn: "Alpha", trigger: TriggerSchedule, status: StatusSucceeded, started: june10(6, 0)})
	h.advanceTo(june10(6, 1))
	h.wantHistory("06-10 06:00 Alpha schedule succeeded")
	if !strings.Contains(h.logs.text(), "already ran this scheduled import") {
		t.Errorf("the log does not say why nothing ran:\n%s", h.logs.text())
	}
}

func TestConfigChangesArePickedUp(t *testing.T) {
	h := newHarness(t, june10(5, 0), storage.Config{
		Schedules:   []storage.Schedule{named("d", "Daily", daily(6, 0))},
		Connections: []storage.Connection{conn("c1", "Alpha", "d"), conn("c2", "Beta", "")},
	})
	h.hist.ids["c3"] = "Gamma"
	h.start()
	h.advanceTo(june10(5, 10))

	// Another process saves: the schedule moves to 05:30, Beta joins it.
	// The runner's poll notices without being told.
	h.config.update(func(c *storage.Config) {
		c.Schedules[0].Hour, c.Schedules[0].Minute = 5, 30
		c.Connections[1].ScheduleID = "d"
	})
	h.advanceTo(june10(5, 31))

	// The window saves and says so: a new schedule, and Alpha moves to it.
	h.config.update(func(c *storage.Config) {
		c.Schedules = append(c.Schedules, named("h", "Hourly", hourly(45)))
		c.Connections[0].ScheduleID = "h"
		c.Connections = append(c.Connections, conn("c3", "Gamma", "h"))
	})
	h.poke(h.runner.Reload)
	h.advanceTo(june10(5, 46))

	// The hourly schedule is deleted: nothing runs at 06:45 any more.
	h.config.update(func(c *storage.Config) { Delete(c, "h") })
	h.poke(h.runner.Reload)
	h.advanceTo(june10(7, 0))

	// A damaged file keeps the last good schedules running.
	h.config.mu.Lock()
	h.config.err = errors.New("damaged")
	h.config.mu.Unlock()
	h.advanceTo(time.Date(2026, 6, 11, 5, 31, 0, 0, time.UTC))

	h.wantHistory(
		"06-10 05:30 Alpha schedule succeeded",
		"06-10 05:30 Beta schedule succeeded",
		"06-10 05:45 Alpha schedule succeeded",
		"06-10 05:45 Gamma schedule succeeded",
		"06-11 05:30 Beta schedule succeeded",
	)
	if n := strings.Count(h.logs.text(), "cannot re-read the configuration"); n != 1 {
		t.Errorf("the load error was logged %d times, want once", n)
	}
}

func TestCancelStopsImportInProgress(t *testing.T) {
	h := newHarness(t, june10(5, 0), storage.Config{
		Schedules:   []storage.Schedule{named("d", "Daily", daily(6, 0))},
		Connections: []storage.Connection{conn("c1", "Alpha", "d"), conn("c2", "Beta", "d")},
	})
	started := make(chan string, 2)
	h.exec.block = func(ctx context.Context, c storage.Connection) Outcome {
		started <- c.Name
		<-ctx.Done()
		return Outcome{Status: StatusCancelled, Err: ctx.Err()}
	}
	h.start()
	h.waitIdle()
	h.parked = false
	h.clock.Set(june10(6, 0))
	recv(t, started)
	h.stop() // returns only once the import has ended and been recorded
	h.wantHistory("06-10 06:00 Alpha schedule cancelled")
	if got := h.runner.Tally(); got != (Tally{Cancelled: 1}) {
		t.Errorf("Tally = %+v", got)
	}
}

func TestDueWhileStillRunningRunsOnceAfter(t *testing.T) {
	h := newHarness(t, june10(5, 59), storage.Config{
		Schedules:   []storage.Schedule{named("q", "Quarterly", everyN(15))},
		Connections: []storage.Connection{conn("c1", "Alpha", "q")},
	})
	started := make(chan string, 4)
	slow := make(chan struct{})
	first := true
	h.exec.block = func(ctx context.Context, c storage.Connection) Outcome {
		if first {
			first = false
			started <- c.Name
			<-slow
		}
		return Outcome{Status: StatusSucceeded}
	}
	h.start()
	h.waitIdle()
	h.parked = false
	h.clock.Set(june10(6, 0))
	recv(t, started)
	// The 06:15 and 06:30 slots come while the 06:00 import still runs.
	logged := h.logs.waitFor("previous run is still going")
	h.clock.Set(june10(6, 33))
	within(t, logged, "noticing the 06:30 slot")
	close(slow)
	h.advanceTo(june10(6, 45))
	h.wantHistory(
		"06-10 06:00 Alpha schedule succeeded",
		"06-10 06:33 Alpha schedule succeeded catch-up of the run due at Wed 10 Jun 2026 06:30 UTC (the schedule's previous run was still running)",
		"06-10 06:45 Alpha schedule succeeded",
	)
}

func TestRunNow(t *testing.T) {
	h := newHarness(t, june10(5, 0), storage.Config{
		Schedules: []storage.Schedule{named("d", "Daily", daily(6, 0)), named("e", "Empty", daily(7, 0))},
		Connections: []storage.Connection{
			conn("c1", "Alpha", "d"), conn("c2", "Beta", "d"),
		},
	})
	r, err := NewRunner(Options{Config: h.config, Executor: h.exec, History: h.hist, Locks: h.locks, Clock: h.clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RunNow("d"); !errors.Is(err, ErrNotRunning) {
		t.Errorf("RunNow before Run: %v, want ErrNotRunning", err)
	}
	h.start()
	h.poke(func() {
		if err := h.runner.RunNow("nope"); err == nil || !strings.Contains(err.Error(), "no longer exists") {
			t.Errorf("RunNow of a deleted schedule: %v", err)
		}
	})
	h.poke(func() {
		if err := h.runner.RunNow("e"); err == nil || !strings.Contains(err.Error(), "attach one with Schedule...") {
			t.Errorf("RunNow of a schedule without connections: %v", err)
		}
	})
	h.poke(func() {
		if err := h.runner.RunNow("d"); err != nil {
			t.Errorf("RunNow: %v", err)
		}
	})
	// The slot still runs at its time: Run now does not replace it.
	h.advanceTo(june10(6, 1))
	h.wantHistory(
		"06-10 05:00 Alpha manual succeeded run now of the schedule \"Daily\"",
		"06-10 05:00 Beta manual succeeded run now of the schedule \"Daily\"",
		"06-10 06:00 Alpha schedule succeeded",
		"06-10 06:00 Beta schedule succeeded",
	)
}

func TestSkippedWhenConnectionAlreadyRunning(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, june10(5, 0), storage.Config{
		Schedules:   []storage.Schedule{named("d", "Daily", daily(6, 0))},
		Connections: []storage.Connection{conn("c1", "Alpha", "d"), conn("c2", "Beta", "d")},
	})
	h.locks = ConnectionLocks{Dir: dir}
	// Execute Now (or `beacon execute`) holds Alpha's lock in this process.
	release, err := LockConnection(dir, "c1")
	if err != nil {
		t.Fatal(err)
	}
	var events []Event
	h.onEvent = func(e Event) { events = append(events, e) }
	h.start()
	h.advanceTo(june10(6, 1))
	release()
	h.advanceTo(time.Date(2026, 6, 11, 6, 1, 0, 0, time.UTC))
	h.wantHistory(
		"06-10 06:00 Alpha schedule skipped already running",
		"06-10 06:00 Beta schedule succeeded",
		"06-11 06:00 Alpha schedule succeeded",
		"06-11 06:00 Beta schedule succeeded",
	)
	if len(events) != 7 || events[0].Kind != EventSkipped || events[0].Reason != SkipAlreadyRunning ||
		events[1].Kind != EventStarted || events[2].Kind != EventFinished || events[2].Outcome.Status != StatusSucceeded {
		t.Errorf("events: %+v", events)
	}
}

func TestRunOnce(t *testing.T) {
	h := newHarness(t, june10(9, 0), storage.Config{
		Schedules: []storage.Schedule{named("d", "Daily", daily(6, 0)), named("l", "Later", daily(10, 0))},
		Connections: []storage.Connection{
			conn("c1", "Alpha", "d"), // ran yesterday: today's 06:00 is due
			conn("c2", "Beta", "d"),  // never ran: due
			conn("c3", "Gamma", "d"), // ran today: not due
			conn("c4", "Delta", "l"), // ran yesterday at 10:00; today's 10:00 has not come
		},
	})
	h.hist.add(&record{conn: "Alpha", trigger: TriggerSchedule, status: StatusSucceeded, started: june10(6, 0).AddDate(0, 0, -1)})
	h.hist.add(&record{conn: "Gamma", trigger: TriggerSchedule, status: StatusSucceeded, started: june10(6, 0)})
	h.hist.add(&record{conn: "Delta", trigger: TriggerSchedule, status: StatusSucceeded, started: june10(10, 0).AddDate(0, 0, -1)})
	h.exec.block = func(context.Context, storage.Connection) Outcome { return Outcome{Status: StatusWarnings} }
	r, err := NewRunner(Options{Config: h.config, Executor: h.exec, History: h.hist, Locks: h.locks, Clock: h.clock, Location: time.UTC, Logger: newTestLogger(h)})
	if err != nil {
		t.Fatal(err)
	}
	tally, err := r.RunOnce(context.Background())
	if err != nil || tally != (Tally{Warnings: 2}) {
		t.Errorf("RunOnce = %+v, %v", tally, err)
	}
	got := h.hist.lines(time.UTC)[3:]
	want := []string{
		"06-10 09:00 Alpha schedule completed with warnings catch-up of the run due at Wed 10 Jun 2026 06:00 UTC",
		"06-10 09:00 Beta schedule completed with warnings catch-up of the run due at Wed 10 Jun 2026 06:00 UTC",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := r.RunOnce(context.Background()); err == nil {
		t.Error("a second RunOnce of the same runner should be refused")
	}
}

func TestRunFailsClearlyWithoutConfiguration(t *testing.T) {
	h := newHarness(t, june10(9, 0), storage.Config{})
	h.config.err = errors.New("the configuration file is damaged")
	r, err := NewRunner(Options{Config: h.config, Executor: h.exec, History: h.hist, Locks: h.locks, Clock: h.clock})
	if err != nil {
		t.Fatal(err)
	}
	err = r.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("Run = %v", err)
	}
	if _, err := NewRunner(Options{}); err == nil {
		t.Error("NewRunner without its parts should fail")
	}
}

func TestClockSetBack(t *testing.T) {
	h := newHarness(t, june10(5, 0), storage.Config{
		Schedules:   []storage.Schedule{named("d", "Daily", daily(6, 0))},
		Connections: []storage.Connection{conn("c1", "Alpha", "d")},
	})
	h.start()
	h.advanceTo(june10(6, 1))
	// Someone sets the clock back a day (or NTP corrects a wrong date):
	// the next run is at 06:00 of that day, not two days on.
	h.waitIdle()
	h.clock.Set(june10(5, 0).AddDate(0, 0, -1))
	h.advanceTo(june10(6, 1).AddDate(0, 0, -1))
	h.wantHistory(
		"06-09 06:00 Alpha schedule succeeded",
		"06-10 06:00 Alpha schedule succeeded",
	)
}

// Upkeep runs when the runner starts and again every UpkeepEvery, even
// when no schedule is due for a month: the product refreshes there the
// sign-ins that a monthly schedule would let age out.
func TestUpkeepRunsEvenWithoutDueSchedules(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	h := newHarness(t, start, storage.Config{})
	var mu sync.Mutex
	var ran []time.Time
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err := NewRunner(Options{Config: h.config, Executor: h.exec, History: h.hist, Locks: h.locks, Clock: h.clock,
		Location: h.loc, Logger: slog.New(h.logs), UpkeepEvery: 24 * time.Hour,
		OnIdle: func(now time.Time) {
			select {
			case h.idle <- now:
			case <-ctx.Done():
			}
		},
		Upkeep: func(_ context.Context, now time.Time) { mu.Lock(); ran = append(ran, now); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	h.runner, h.cancel, h.errc = r, cancel, make(chan error, 1)
	go func() { h.errc <- r.Run(ctx) }()
	h.advanceTo(start.Add(72*time.Hour + time.Minute))
	h.stop()
	mu.Lock()
	defer mu.Unlock()
	if len(ran) < 3 || !ran[0].Equal(start) {
		t.Fatalf("upkeep ran at %v over three days, want at the start and once a day", ran)
	}
}
