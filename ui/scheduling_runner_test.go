package ui

import (
	"context"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/schedule"
	"github.com/inventorybeacon/beacon/storage"
)

// scriptedExecutor "imports" with the outcome it is given and records the
// runs.
type scriptedExecutor struct {
	mu      sync.Mutex
	outcome schedule.Outcome
	runs    []schedule.Trigger
}

func (e *scriptedExecutor) Execute(_ context.Context, _ storage.Connection, tr schedule.Trigger, _ string) (schedule.Outcome, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.runs = append(e.runs, tr)
	return e.outcome, nil
}

type noHistory struct{}

func (noHistory) RecordSkipped(storage.Connection, schedule.Trigger, string, time.Time) error {
	return nil
}
func (noHistory) LastScheduledRun(string) (time.Time, bool, error) { return time.Time{}, false, nil }

type noLocks struct{}

func (noLocks) TryLock(string) (func(), error) { return func() {}, nil }

// The real runner inside the window, on a fake clock: a schedule saved on
// the Scheduling page fires, the window follows its events and notifies of
// the warnings, and Run now goes through the same runner.
func TestSchedulingWithRealRunner(t *testing.T) {
	loc := berlin(t)
	clk := clock.NewFake(time.Date(2026, 11, 25, 20, 0, 0, 0, loc))
	repo := testRepo(t)
	m, _ := testMainWindow(t, repo, Deps{Now: clk.Now, Location: loc})
	var sent []*fyne.Notification
	m.notify = func(n *fyne.Notification) { sent = append(sent, n) }
	m.putConnection(newNamedConnection("Contoso"), nil)
	m.putSchedule(storage.Schedule{ID: "s1", Name: "Half past", Kind: storage.Hourly, Minute: 30})
	m.cfg.Connections[0].ScheduleID = "s1"
	if !m.save() {
		t.Fatal("save failed")
	}

	exec := &scriptedExecutor{outcome: schedule.Outcome{Status: schedule.StatusWarnings, Warnings: []string{"usage reports are concealed"}}}
	idle := make(chan time.Time, 100)
	finished := make(chan schedule.Event, 10)
	r, err := schedule.NewRunner(schedule.Options{
		Config: repo.Config, Executor: exec, History: noHistory{}, Locks: noLocks{},
		Clock: clk, Location: loc, PollInterval: time.Hour,
		OnIdle: func(now time.Time) { idle <- now },
		OnEvent: func(ev schedule.Event) {
			m.OnScheduleEvent(ev)
			if ev.Kind == schedule.EventFinished {
				finished <- ev
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var _ Scheduler = r // the runner is what the window drives
	m.SetScheduler(r)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-stopped; err != nil {
			t.Error(err)
		}
	})
	<-idle

	m.nav.Select(PageScheduling)
	p := m.sched.page
	if got := p.rowTexts("s:s1"); got[2] != "today at 20:30" {
		t.Fatalf("next run %q", got[2])
	}
	clk.Advance(30 * time.Minute)
	ev := <-finished
	if ev.Trigger != schedule.TriggerSchedule || ev.Outcome.Status != schedule.StatusWarnings {
		t.Fatalf("event %+v", ev)
	}
	<-idle
	if len(sent) != 1 || sent[0].Content != `Scheduled import of "Contoso" completed with 1 warning. See Import history for the details.` {
		t.Errorf("notifications %v", sent)
	}
	m.RefreshStatus()
	if got := p.rowTexts("s:s1")[2]; got != "today at 21:30" {
		t.Errorf("next run after the run %q", got)
	}
	if got := m.systems.cellText(widget.TableCellID{Row: 0, Col: colNextRun}); got != "2026-11-25 21:30" {
		t.Errorf("Next run column %q", got)
	}

	// Run now, through the page.
	exec.mu.Lock()
	exec.outcome = schedule.Outcome{Status: schedule.StatusSucceeded}
	exec.mu.Unlock()
	p.selectSchedule("s1")
	test.Tap(p.runButton)
	if err := waitRanNow(t, p, 1); err != nil {
		t.Fatalf("Run now: %v", err)
	}
	if ev := <-finished; ev.Trigger != schedule.TriggerManual {
		t.Errorf("Run now ran with trigger %q", ev.Trigger)
	}
	<-idle
	if len(sent) != 1 {
		t.Errorf("a successful run notified: %v", sent[len(sent)-1].Content)
	}
	if p.status.Text != `"Contoso": succeeded.` {
		t.Errorf("status %q", p.status.Text)
	}
}
