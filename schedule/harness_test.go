package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/storage"
)

// guard bounds how long a test waits for the runner in real time. It is a
// safety net against a hang, never a way to let time pass: the runner
// reaches every state the tests wait for without any real time passing.
const guard = 20 * time.Second

// record is one entry of the fake import history.
type record struct {
	conn    string // connection name
	trigger Trigger
	status  Status
	note    string // the executor's note, or the skip reason
	started time.Time
	// startSeq and endSeq order starts and ends across goroutines, so
	// tests can prove runs did or did not overlap.
	startSeq, endSeq int
}

// fakeHistory is the import history in memory.
type fakeHistory struct {
	mu      sync.Mutex
	seq     int
	records []*record
	ids     map[string]string // connection id -> name
}

func (h *fakeHistory) nextSeq() int { h.seq++; return h.seq }

func (h *fakeHistory) add(r *record) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r)
}

func (h *fakeHistory) RecordSkipped(conn storage.Connection, trigger Trigger, reason string, at time.Time) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.nextSeq()
	h.records = append(h.records, &record{conn: conn.Name, trigger: trigger, status: StatusSkipped, note: reason, started: at, startSeq: s, endSeq: s})
	return nil
}

func (h *fakeHistory) LastScheduledRun(connID string) (time.Time, bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	name := h.ids[connID]
	for i := len(h.records) - 1; i >= 0; i-- {
		r := h.records[i]
		if r.conn == name && r.trigger == TriggerSchedule && r.status != StatusCancelled {
			return r.started, true, nil
		}
	}
	return time.Time{}, false, nil
}

func (h *fakeHistory) snapshot() []record {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]record, len(h.records))
	for i, r := range h.records {
		out[i] = *r
	}
	return out
}

// lines renders the history as "15:04 name trigger status note" lines, the
// form the tables of the tests are written in.
func (h *fakeHistory) lines(loc *time.Location) []string {
	var out []string
	for _, r := range h.snapshot() {
		out = append(out, strings.TrimSpace(fmt.Sprintf("%s %s %s %s %s", r.started.In(loc).Format("01-02 15:04"), r.conn, r.trigger, r.status, r.note)))
	}
	return out
}

// fakeExecutor records a run per call. By default a run is instant and
// succeeds; block, when set, decides how a run goes (and may wait).
type fakeExecutor struct {
	clock *clock.Fake
	hist  *fakeHistory
	block func(ctx context.Context, conn storage.Connection) Outcome
}

func (e *fakeExecutor) Execute(ctx context.Context, conn storage.Connection, trigger Trigger, note string) (Outcome, error) {
	e.hist.mu.Lock()
	r := &record{conn: conn.Name, trigger: trigger, status: "running", note: note, started: e.clock.Now(), startSeq: e.hist.nextSeq()}
	e.hist.records = append(e.hist.records, r)
	e.hist.mu.Unlock()
	out := Outcome{Status: StatusSucceeded}
	if e.block != nil {
		out = e.block(ctx, conn)
	}
	e.hist.mu.Lock()
	r.status, r.endSeq = out.Status, e.hist.nextSeq()
	e.hist.mu.Unlock()
	return out, nil
}

// fakeConfig is a configuration file in memory; Load returns a copy, as
// reading a file would.
type fakeConfig struct {
	mu  sync.Mutex
	cfg storage.Config
	err error
}

func (f *fakeConfig) Load() (*storage.Config, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	c := f.cfg
	c.Connections = slices.Clone(c.Connections)
	c.Schedules = slices.Clone(c.Schedules)
	return &c, nil
}

func (f *fakeConfig) update(fn func(c *storage.Config)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(&f.cfg)
	f.cfg.Revision++
}

// memLocks are in-process run locks, for tests that are not about the
// cross-process lock.
type memLocks struct {
	mu   sync.Mutex
	held map[string]bool
}

func (l *memLocks) TryLock(id string) (func(), error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held == nil {
		l.held = map[string]bool{}
	}
	if l.held[id] {
		return nil, ErrAlreadyRunning
	}
	l.held[id] = true
	return func() { l.mu.Lock(); delete(l.held, id); l.mu.Unlock() }, nil
}

// harness runs a Runner on a fake clock, fake configuration, history and
// executor.
type harness struct {
	t      *testing.T
	loc    *time.Location
	clock  *clock.Fake
	config *fakeConfig
	hist   *fakeHistory
	exec   *fakeExecutor
	locks  Locker
	runner *Runner
	logs   *logSink

	onEvent func(Event) // set before start

	idle   chan time.Time
	parked bool // the runner is waiting on its timer and the test knows it
	cancel context.CancelFunc
	errc   chan error
}

func newHarness(t *testing.T, start time.Time, cfg storage.Config) *harness {
	t.Helper()
	h := &harness{t: t, loc: start.Location(), clock: clock.NewFake(start), config: &fakeConfig{cfg: cfg},
		hist: &fakeHistory{ids: map[string]string{}}, idle: make(chan time.Time), locks: &memLocks{}}
	for _, c := range cfg.Connections {
		h.hist.ids[c.ID] = c.Name
	}
	h.exec = &fakeExecutor{clock: h.clock, hist: h.hist}
	h.logs = &logSink{t: t}
	return h
}

// start creates and starts the runner.
func (h *harness) start() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	r, err := NewRunner(Options{
		Config: h.config, Executor: h.exec, History: h.hist, Locks: h.locks,
		Clock: h.clock, Location: h.loc, Logger: slog.New(h.logs), OnEvent: h.onEvent,
		OnIdle: func(now time.Time) {
			select {
			case h.idle <- now:
			case <-ctx.Done():
			}
		},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	h.runner = r
	h.errc = make(chan error, 1)
	go func() { h.errc <- r.Run(ctx) }()
	h.t.Cleanup(func() { h.stop() })
}

// waitIdle waits until the runner has nothing to do but wait for its timer.
func (h *harness) waitIdle() time.Time {
	h.t.Helper()
	if h.parked {
		return h.clock.Now()
	}
	select {
	case now := <-h.idle:
		h.parked = true
		return now
	case err := <-h.errc:
		h.t.Fatalf("the runner stopped: %v", err)
	case <-time.After(guard):
		h.t.Fatalf("the runner did not become idle within %s of real time", guard)
	}
	return time.Time{}
}

// advanceTo moves the clock to end, one runner wake-up at a time, letting
// the runner finish everything due before moving on.
func (h *harness) advanceTo(end time.Time) {
	h.t.Helper()
	for {
		h.waitIdle()
		d, ok := h.clock.NextDeadline()
		if !ok || d.After(end) {
			h.clock.Set(end) // fires nothing: the runner stays parked
			return
		}
		h.parked = false
		h.clock.Set(d)
	}
}

// jump moves the clock to t at once, as a machine waking from sleep does:
// the runner's timer fires late, with everything in between missed.
func (h *harness) jump(t time.Time) {
	h.t.Helper()
	h.waitIdle()
	h.parked = false
	h.clock.Set(t)
	h.waitIdle()
}

// poke wakes the runner by other means than its timer (Reload, RunNow) and
// waits until it is idle again.
func (h *harness) poke(fn func()) {
	h.t.Helper()
	h.waitIdle()
	h.parked = false
	fn()
	h.waitIdle()
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.errc:
		if err != nil {
			h.t.Errorf("Run returned %v", err)
		}
	case <-time.After(guard):
		h.t.Errorf("Run did not return within %s of cancelling", guard)
	}
}

func (h *harness) wantHistory(want ...string) {
	h.t.Helper()
	// Sorted, because schedules due at the same time run side by side in
	// no fixed order; the order within a schedule has its own test.
	got := h.hist.lines(h.loc)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		h.t.Errorf("history:\n  %s\nwant:\n  %s\nlog:\n%s", strings.Join(got, "\n  "), strings.Join(want, "\n  "), h.logs.text())
	}
}

// logSink is a slog handler that passes records to t.Log and lets a test
// wait for a message.
type logSink struct {
	t     *testing.T
	mu    sync.Mutex
	lines []string
	wait  map[string]chan struct{}
	attrs []slog.Attr
}

func (l *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (l *logSink) WithGroup(string) slog.Handler            { return l }
func (l *logSink) WithAttrs(as []slog.Attr) slog.Handler {
	return &logView{l, as}
}
func (l *logSink) Handle(_ context.Context, r slog.Record) error { return l.handle(nil, r) }

func (l *logSink) handle(extra []slog.Attr, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	for _, a := range extra {
		b.WriteString(" " + a.String())
	}
	r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, b.String())
	for msg, ch := range l.wait {
		if strings.Contains(r.Message, msg) {
			close(ch)
			delete(l.wait, msg)
		}
	}
	return nil
}

// waitFor returns a channel closed when a message containing msg is logged.
func (l *logSink) waitFor(msg string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.wait == nil {
		l.wait = map[string]chan struct{}{}
	}
	ch := make(chan struct{})
	l.wait[msg] = ch
	return ch
}

func (l *logSink) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

type logView struct {
	l     *logSink
	attrs []slog.Attr
}

func (v *logView) Enabled(context.Context, slog.Level) bool { return true }
func (v *logView) WithGroup(string) slog.Handler            { return v }
func (v *logView) WithAttrs(as []slog.Attr) slog.Handler {
	return &logView{v.l, append(slices.Clone(v.attrs), as...)}
}
func (v *logView) Handle(_ context.Context, r slog.Record) error { return v.l.handle(v.attrs, r) }

func conn(id, name, scheduleID string) storage.Connection {
	return storage.Connection{ID: id, Name: name, ScheduleID: scheduleID}
}

func named(id, name string, s storage.Schedule) storage.Schedule {
	s.ID, s.Name = id, name
	return s
}

func within(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(guard):
		t.Fatalf("%s did not happen within %s of real time", what, guard)
	}
}

var errTest = errors.New("test")

func newTestLogger(h *harness) *slog.Logger { return slog.New(h.logs) }
