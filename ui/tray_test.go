package ui

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/inventorybeacon/beacon/schedule"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// fakeTrayApp records what a desktop app's system tray is given.
type fakeTrayApp struct {
	menu *fyne.Menu
	icon fyne.Resource
}

func (f *fakeTrayApp) SetSystemTrayMenu(menu *fyne.Menu)    { f.menu = menu }
func (f *fakeTrayApp) SetSystemTrayIcon(icon fyne.Resource) { f.icon = icon }

func TestTrayMenuCloseAndQuit(t *testing.T) {
	m, _, quit := schedWindow(t)
	if SetupTray(m.app, m, nil) != nil {
		t.Fatal("the test driver has no system tray: SetupTray must say so")
	}
	if !m.sched.page.keep.Disabled() || !strings.Contains(m.sched.page.keep.Text, "no system tray") {
		t.Errorf("without a tray the preference is disabled and says why: %q", m.sched.page.keep.Text)
	}
	var sent []*fyne.Notification
	m.notify = func(n *fyne.Notification) { sent = append(sent, n) }

	// Without the preference, closing the window is Exit, tray or not.
	fake := &fakeTrayApp{}
	tray := newTray(fake, m, fyne.NewStaticResource("icon.png", []byte("png")))
	var labels []string
	for _, it := range fake.menu.Items {
		labels = append(labels, it.Label)
	}
	if !reflect.DeepEqual(labels, []string{"Open", "Execute all now", "", "Quit"}) || fake.icon == nil {
		t.Fatalf("tray menu %v, icon %v", labels, fake.icon)
	}
	if p := m.sched.page; p.keep.Text != keepInTrayLabel || p.keep.Checked {
		t.Fatalf("the preference %q starts %v", p.keep.Text, p.keep.Checked)
	}
	m.closeWindow()
	if !*quit {
		t.Fatal("with the preference off, closing the window exits")
	}
	*quit = false

	// With it, closing hides the window and says once where it went.
	test.Tap(m.sched.page.keep)
	if !keepInTray(m.app) {
		t.Fatal("the check box did not set the preference")
	}
	m.closeWindow()
	m.closeWindow()
	if *quit || len(sent) != 1 || !strings.Contains(sent[0].Content, "still running in the system tray") {
		t.Fatalf("quit %v, notifications %v", *quit, sent)
	}
	tray.open.Action()

	// Quit, like Exit, says that a running scheduled import is cancelled.
	ev := schedule.Event{Kind: schedule.EventStarted, ScheduleName: "Nightly", Connection: m.cfg.Connections[0]}
	m.OnScheduleEvent(ev)
	tray.quit.Action()
	if *quit || m.prompt == nil || m.prompt.title != "Scheduled import running" {
		t.Fatal("Quit during a scheduled import must ask")
	}
	test.Tap(m.prompt.buttons["Keep running"])
	if *quit {
		t.Fatal("Keep running quit")
	}
	ev.Kind, ev.Outcome = schedule.EventFinished, schedule.Outcome{Status: schedule.StatusSucceeded}
	m.OnScheduleEvent(ev)

	// Quit asks about unsaved changes, like Exit.
	m.putSchedule(storage.Schedule{ID: "s1", Name: "Nightly", Kind: storage.Daily, Hour: 2})
	tray.quit.Action()
	if *quit || m.prompt == nil || m.prompt.title != "Unsaved changes" {
		t.Fatal("Quit with unsaved changes must ask")
	}
	test.Tap(m.prompt.buttons["Exit without saving"])
	if !*quit {
		t.Fatal("Exit without saving did not quit")
	}
}

func TestTrayExecuteAllNow(t *testing.T) {
	m, _, _ := schedWindow(t)
	var sent []*fyne.Notification
	m.notify = func(n *fyne.Notification) { sent = append(sent, n) }
	tray := newTray(&fakeTrayApp{}, m, nil)

	// No runner: say so.
	tray.runAll.Action()
	if m.prompt == nil || !strings.Contains(m.prompt.message.Text, "Execute all now is not available") {
		t.Fatal("Execute all now without a runner must say it is not available")
	}

	sched := &fakeScheduler{}
	m.SetScheduler(sched)
	// No schedule: the connections start as background Execute Now
	// (TestTrayExecuteAllNowIncludesUnscheduled imports them), on the
	// UI lock: their ends come back through it.
	onUI(tray.runAll.Action)
	if text := waitRanAll(t, tray, 1); text != "Started the imports of 2 connections; they run in the background." {
		t.Errorf("nothing scheduled: %q", text)
	}
	waitUI(t, "end of the background imports", func() bool { return len(m.exec.running) == 0 })
	// No connection at all: nothing to run.
	empty, _ := testMainWindow(t, testRepo(t), Deps{})
	empty.SetScheduler(&fakeScheduler{})
	emptyTray := newTray(&fakeTrayApp{}, empty, nil)
	emptyTray.runAll.Action()
	if text := waitRanAll(t, emptyTray, 1); !strings.Contains(text, "No connection is on a schedule") {
		t.Errorf("no connection: %q", text)
	}

	m.putSchedule(storage.Schedule{ID: "s1", Name: "Nightly", Kind: storage.Daily, Hour: 2})
	m.putSchedule(storage.Schedule{ID: "s2", Name: "Hourly", Kind: storage.Hourly})
	m.putSchedule(storage.Schedule{ID: "s3", Name: "Unused", Kind: storage.Hourly})
	m.cfg.Connections[0].ScheduleID = "s1"
	m.cfg.Connections[1].ScheduleID = "s2"
	tray.runAll.Action()
	if m.prompt == nil || m.prompt.title != "Save changes first" {
		t.Fatal("Execute all now with unsaved changes must offer to save")
	}
	test.Tap(m.prompt.buttons["Save and continue"])
	text := waitRanAll(t, tray, 2)
	if text != "Started the imports of 2 scheduled connections on 2 schedules; they run in the background." {
		t.Errorf("notification %q", text)
	}
	if got := sched.runs(); !reflect.DeepEqual(got, []string{"s2", "s1"}) {
		t.Errorf("ran %v: each schedule with connections, by name", got)
	}
	if len(sent) != 2 || sent[1].Content != text {
		t.Errorf("notifications %v", sent)
	}
}

// Execute all now also imports the connections that are on no schedule,
// through the window's Execute Now in the background.
func TestTrayExecuteAllNowIncludesUnscheduled(t *testing.T) {
	loc := berlin(t)
	now := time.Date(2026, 11, 25, 20, 0, 0, 0, loc)
	repo := testRepo(t)
	var mu sync.Mutex
	var imported []string
	finished := make(chan struct{}, 4)
	m, _ := testMainWindow(t, repo, Deps{Now: func() time.Time { return now }, Location: loc,
		Importer: importFunc(func(ctx context.Context, c storage.Connection, req ImportRequest, progress func(string, int, int)) (inventory.Run, error) {
			if req.Full {
				t.Errorf("Execute all now asked a full import of %s", c.Name)
			}
			mu.Lock()
			imported = append(imported, c.Name)
			mu.Unlock()
			finished <- struct{}{}
			return inventory.Run{ID: 1, Status: inventory.StatusSucceeded, Started: now, Ended: now}, nil
		})})
	m.putConnection(newNamedConnection("Contoso"), nil)
	m.putConnection(newNamedConnection("Fabrikam"), nil)
	m.putSchedule(storage.Schedule{ID: "s1", Name: "Nightly", Kind: storage.Daily, Hour: 2})
	m.cfg.Connections[0].ScheduleID = "s1"
	if !m.save() {
		t.Fatal("save failed")
	}
	sched := &fakeScheduler{}
	m.SetScheduler(sched)
	tray := newTray(&fakeTrayApp{}, m, nil)
	tray.runAll.Action()
	text := waitRanAll(t, tray, 1)
	<-finished
	// Wait for the background run to end completely (its dialog's
	// outcome and the window's refresh), not only for the import call:
	// otherwise it would still touch widgets while the test app is torn
	// down.
	waitUI(t, "end of the background import", func() bool { return len(m.exec.running) == 0 })
	if want := "Started the imports of 1 scheduled connection on 1 schedule; they run in the background. Also started 1 connection on no schedule."; text != want {
		t.Errorf("notification %q, want %q", text, want)
	}
	if got := sched.runs(); !reflect.DeepEqual(got, []string{"s1"}) {
		t.Errorf("schedules run: %v", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if !reflect.DeepEqual(imported, []string{"Fabrikam"}) {
		t.Errorf("Execute Now ran for %v, want the unscheduled Fabrikam only", imported)
	}
}
