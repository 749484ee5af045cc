package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/storage"
)

// Trigger says what started a run. The values are the import history's.
type Trigger string

const (
	TriggerManual   Trigger = "manual"   // Run now, Execute Now
	TriggerSchedule Trigger = "schedule" // a schedule fired (also a catch-up)
	TriggerCLI      Trigger = "cli"      // beacon execute
)

// Status is how a run ended. The values are the import history's.
type Status string

const (
	StatusSucceeded Status = "succeeded"
	StatusWarnings  Status = "completed with warnings"
	StatusFailed    Status = "failed"
	StatusCancelled Status = "cancelled"
	StatusSkipped   Status = "skipped"
)

// Outcome is what an import run came to.
type Outcome struct {
	Status   Status
	Warnings []string
	Err      error // why it failed or was cancelled
}

// Executor runs one import of one connection and records it in the import
// history (with its trigger and note, e.g. "catch-up of the run due at
// ..."). When ctx is cancelled it stops and records the run as cancelled
// before returning. The error is for a run that could not even be
// recorded (the database is unavailable); a failed import is an Outcome.
type Executor interface {
	Execute(ctx context.Context, conn storage.Connection, trigger Trigger, note string) (Outcome, error)
}

// History is the part of the import history the runner reads and writes
// itself; the Executor records the runs it makes.
type History interface {
	// RecordSkipped adds a run that did not happen, with status skipped
	// and the reason (e.g. "already running").
	RecordSkipped(conn storage.Connection, trigger Trigger, reason string, at time.Time) error
	// LastScheduledRun returns when the latest run of the connection with
	// trigger schedule started, in any process: running, finished or
	// skipped, but not cancelled, so an import cut short by a shutdown is
	// made up at the next start.
	LastScheduledRun(connID string) (started time.Time, ok bool, err error)
}

// ConfigSource gives the saved configuration; *storage.ConfigStore is one.
type ConfigSource interface {
	Load() (*storage.Config, error)
}

// Locker takes the per-connection run lock; ConnectionLocks is the real one.
type Locker interface {
	// TryLock returns an error wrapping ErrAlreadyRunning when the
	// connection is being imported already.
	TryLock(connID string) (release func(), err error)
}

// SkipAlreadyRunning is the reason recorded for a connection whose import
// was due while it was still being imported, here or by another process.
const SkipAlreadyRunning = "already running"

// Errors of RunNow.
var (
	ErrNotRunning   = errors.New("the scheduler is not running; restart Inventory Beacon")
	ErrScheduleBusy = errors.New("this schedule is running already; wait for its imports to finish")
)

// EventKind says what happened to a connection's run.
type EventKind int

const (
	EventStarted  EventKind = iota + 1 // an import began
	EventFinished                      // an import ended: see Outcome and Err
	EventSkipped                       // an import was due but did not run: see Reason
)

// Event reports progress to a window (a status line, a tray notification
// when a scheduled import fails). Events come from the runner's goroutines.
type Event struct {
	Kind         EventKind
	ScheduleID   string
	ScheduleName string
	Connection   storage.Connection
	Trigger      Trigger
	Note         string
	At           time.Time
	Outcome      Outcome // EventFinished
	Err          error   // EventFinished: Execute could not run or record the import
	Reason       string  // EventSkipped
}

// Options configure a Runner. Config, Executor, History and Locks are
// required.
type Options struct {
	Config   ConfigSource
	Executor Executor
	History  History
	Locks    Locker

	Clock    clock.Clock    // default clock.System
	Location *time.Location // default time.Local
	Logger   *slog.Logger   // default slog.Default()

	// PollInterval is how often the configuration is re-read and the wall
	// clock looked at (default 10s). The wall clock matters because a
	// timer does not count time while the machine sleeps: the runner never
	// waits longer than this, so it notices a wake-up within it.
	PollInterval time.Duration
	// LateAfter is how late a run may start and still count as on time
	// (default 2 minutes); a later one is noted as a catch-up.
	LateAfter time.Duration

	// OnEvent, if set, receives every Event. It is called from the
	// runner's goroutines and must not block; a window hands it to its UI
	// thread (fyne.Do).
	OnEvent func(Event)
	// OnIdle, if set, is called whenever the runner has nothing to do but
	// wait for its next timer, with the clock's time. Tests use it to move
	// a fake clock without sleeping; it may block.
	OnIdle func(now time.Time)

	// Upkeep, if set, is the scheduler's housekeeping: called when the
	// runner starts and then every UpkeepEvery (default 6 hours) in a
	// goroutine of its own, never two at once, and once at the end of
	// RunOnce. The product refreshes there the sign-ins that a rare
	// schedule would let expire, and raises expiry warnings; ctx ends with
	// the runner, which waits for it before returning.
	Upkeep      func(ctx context.Context, now time.Time)
	UpkeepEvery time.Duration
}

// Runner runs the schedules of the saved configuration: each due schedule's
// connections one after another, different schedules side by side, never
// one connection twice at once (a per-connection lock shared with other
// processes). A Runner runs once: create a new one to run again.
type Runner struct {
	o   Options
	log *slog.Logger

	reload  chan struct{}
	runNow  chan runNowRequest
	done    chan string
	started chan struct{}
	stopped chan struct{}

	startOnce sync.Once

	mu      sync.Mutex
	cfg     *storage.Config // the last configuration that loaded
	loadErr string          // the last load error logged, to log each once
	busy    map[string]bool // schedules with a firing in progress
	tally   Tally
}

// NewRunner checks the options and returns a runner; start it with Run or
// RunOnce.
func NewRunner(o Options) (*Runner, error) {
	if o.Config == nil || o.Executor == nil || o.History == nil || o.Locks == nil {
		return nil, errors.New("schedule: NewRunner needs Config, Executor, History and Locks (this is a bug in Inventory Beacon)")
	}
	if o.Clock == nil {
		o.Clock = clock.System{}
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 10 * time.Second
	}
	if o.LateAfter <= 0 {
		o.LateAfter = 2 * time.Minute
	}
	if o.UpkeepEvery <= 0 {
		o.UpkeepEvery = 6 * time.Hour
	}
	return &Runner{
		o: o, log: o.Logger.With("component", "scheduler"),
		reload: make(chan struct{}, 1), runNow: make(chan runNowRequest),
		done: make(chan string), started: make(chan struct{}), stopped: make(chan struct{}),
		busy: map[string]bool{},
	}, nil
}

// Tally counts the outcomes of the runs a runner made.
type Tally struct {
	Succeeded, Warnings, Failed, Cancelled, Skipped int
}

// Tally returns the counts so far.
func (r *Runner) Tally() Tally {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tally
}

// Reload asks the runner to re-read the configuration now rather than at
// its next poll; a window calls it after saving.
func (r *Runner) Reload() {
	select {
	case r.reload <- struct{}{}:
	default: // a reload is pending already
	}
}

// IsRunning reports whether schedule id is running now (for disabling Run
// now).
func (r *Runner) IsRunning(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.busy[id]
}

type runNowRequest struct {
	id    string
	reply chan error
}

// RunNow starts the connections of schedule id now, one after another,
// with trigger manual, while Run is running. It returns once they have
// started; progress comes as Events. It re-reads the configuration first,
// so a schedule saved a moment ago runs as saved.
func (r *Runner) RunNow(id string) error {
	select {
	case <-r.started:
	default:
		return ErrNotRunning
	}
	req := runNowRequest{id: id, reply: make(chan error, 1)}
	select {
	case r.runNow <- req:
		return <-req.reply
	case <-r.stopped:
		return ErrNotRunning
	}
}

// state is what the loop knows of one schedule.
type state struct {
	sched   storage.Schedule
	next    time.Time // the next slot to fire; zero if it never fires
	busy    bool
	removed bool    // deleted from the configuration while busy
	pending *firing // a slot that came due while busy
	// ran holds the slots (Unix seconds) this runner fired in the last
	// day or so, so that a clock set back an hour does not run them a
	// second time; a slot never fired (set back a day past a slot the
	// wrong clock skipped) still runs.
	ran map[int64]bool
}

// fired notes that slot was fired, forgetting slots more than a day and
// a half older: a set-back larger than that is a wrong date corrected,
// whose slots are new ones.
func (st *state) fired(slot time.Time) {
	if st.ran == nil {
		st.ran = map[int64]bool{}
	}
	st.ran[slot.Unix()] = true
	for k := range st.ran {
		if k < slot.Unix()-36*3600 {
			delete(st.ran, k)
		}
	}
}

// firing is one go of a schedule: its connections, one after another.
type firing struct {
	sched   storage.Schedule
	conns   []storage.Connection
	slot    time.Time // the slot it runs for; zero for Run now
	trigger Trigger
	note    string
}

// Run runs schedules until ctx is cancelled: first, once, every run missed
// while no scheduler was running (one run per connection however many
// slots were missed), then each schedule as it comes due. On cancel, imports
// in progress are cancelled (the Executor records them so) and Run returns
// nil once they have ended. It returns an error only if the configuration
// cannot be read at the start.
func (r *Runner) Run(ctx context.Context) error {
	return r.run(ctx, false)
}

// RunOnce runs, once, every scheduled connection whose latest due run has
// not happened (including connections never run by a schedule), waits for
// them and returns: `beacon scheduler --once`, for a scheduler such as cron
// that starts the command itself.
func (r *Runner) RunOnce(ctx context.Context) (Tally, error) {
	err := r.run(ctx, true)
	return r.Tally(), err
}

func (r *Runner) run(ctx context.Context, once bool) error {
	first := false
	r.startOnce.Do(func() { first = true })
	if !first {
		return errors.New("schedule: a Runner runs once; create a new one (this is a bug in Inventory Beacon)")
	}
	defer close(r.stopped)
	cfg, err := r.o.Config.Load()
	if err != nil {
		return fmt.Errorf("read the configuration for the scheduler: %w", err)
	}
	r.setConfig(cfg)
	close(r.started)

	now := r.o.Clock.Now()
	states := map[string]*state{}
	inFlight := 0
	start := func(st *state, f firing) {
		st.busy = true
		inFlight++
		r.setBusy(f.sched.ID, true)
		go r.fire(ctx, f)
	}
	r.sync(states, cfg, now, true, once, start)
	if once {
		for ; inFlight > 0; inFlight-- {
			id := <-r.done
			r.setBusy(id, false)
		}
		if r.o.Upkeep != nil && ctx.Err() == nil {
			r.o.Upkeep(ctx, r.o.Clock.Now())
		}
		return nil
	}
	var upkeep sync.WaitGroup
	defer upkeep.Wait()
	upkeepBusy := false
	upkeepDone := make(chan struct{}, 1)
	var nextUpkeep time.Time
	maybeUpkeep := func(now time.Time) {
		select {
		case <-upkeepDone:
			upkeepBusy = false
		default:
		}
		// A clock set back makes nextUpkeep far away: run then too.
		if r.o.Upkeep == nil || upkeepBusy || (now.Before(nextUpkeep) && nextUpkeep.Sub(now) <= r.o.UpkeepEvery) {
			return
		}
		upkeepBusy, nextUpkeep = true, now.Add(r.o.UpkeepEvery)
		upkeep.Add(1)
		go func() {
			defer upkeep.Done()
			r.o.Upkeep(ctx, now)
			upkeepDone <- struct{}{}
		}()
	}
	maybeUpkeep(now)
	scheduled := 0
	for _, e := range Plan(cfg, now, r.o.Location).Schedules {
		scheduled += len(e.Connections)
	}
	r.log.Info("scheduler started", "schedules", len(cfg.Schedules), "connections", scheduled, "poll", r.o.PollInterval)
	if scheduled == 0 {
		r.log.Warn("no connection is on a schedule yet; attach one with Schedule... on the Inventory Systems page (the scheduler picks it up without a restart)")
	}

	pollAt := now.Add(r.o.PollInterval)
	for {
		wait := pollAt.Sub(now)
		for _, st := range states {
			if !st.next.IsZero() && !st.removed {
				wait = min(wait, st.next.Sub(now))
			}
		}
		wait = max(wait, 0)
		timer := r.o.Clock.NewTimer(wait)
		if inFlight == 0 && wait > 0 && r.o.OnIdle != nil {
			r.o.OnIdle(now)
		}
		reload := false
		select {
		case <-ctx.Done():
			timer.Stop()
			if inFlight > 0 {
				r.log.Info("scheduler stopping: cancelling the imports in progress", "running", inFlight)
			}
			for ; inFlight > 0; inFlight-- {
				<-r.done
			}
			r.log.Info("scheduler stopped")
			return nil
		case <-timer.C():
		case <-r.reload:
			timer.Stop()
			reload = true
		case id := <-r.done:
			timer.Stop()
			inFlight--
			r.setBusy(id, false)
			if st := states[id]; st != nil {
				st.busy = false
				if st.removed {
					delete(states, id)
				} else if p := st.pending; p != nil {
					st.pending = nil
					p.conns = ConnectionsOf(r.config(), id)
					p.note = r.lateNote(p.slot, r.o.Clock.Now(), "the schedule's previous run was still running")
					if len(p.conns) > 0 {
						start(st, *p)
					}
				}
			}
		case req := <-r.runNow:
			timer.Stop()
			r.loadConfig()
			req.reply <- r.runNowLocked(states, req.id, start)
			reload = true // bring the other schedules up to date too
		}
		prev := now
		now = r.o.Clock.Now()
		jump := r.clockJump(prev, now, wait)
		if pollAt.Sub(now) > r.o.PollInterval {
			pollAt = now // the clock was set back: poll now, not in a day
		}
		if reload || !now.Before(pollAt) {
			r.loadConfig()
			r.sync(states, r.config(), now, false, false, start)
			pollAt = now.Add(r.o.PollInterval)
			maybeUpkeep(now)
		}
		r.fireDue(states, now, jumpReason(jump), start)
	}
}

// clockJump returns how far the wall clock moved beyond what the runner
// waited for, between two readings around one wait of at most wait:
// positive when the machine slept or the clock was set forward, negative
// when it was set back, zero for anything within LateAfter (a busy machine
// wakes a little late). The wall readings are compared without their
// monotonic parts: the monotonic clock stops while the machine sleeps and
// does not move when the clock is set, which is what is being looked for.
func (r *Runner) clockJump(prev, now time.Time, wait time.Duration) time.Duration {
	moved := now.Round(0).Sub(prev.Round(0))
	switch {
	case moved > wait+r.o.LateAfter:
		r.log.Info("the clock jumped ahead: the computer was asleep or its clock was set forward; each schedule makes up its latest missed run once", "by", (moved - wait).Round(time.Second))
		return moved - wait
	case moved < -r.o.LateAfter:
		r.log.Info("the clock was set back; a scheduled run already made is not made again", "by", (-moved).Round(time.Second))
		return moved
	}
	return 0
}

// jumpReason is what the history says of a run caught up after the clock
// jumped ahead by d, or "" for no jump ahead.
func jumpReason(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return "the clock moved " + roughDuration(d) + " ahead at once: the computer was asleep or its clock was changed"
}

// roughDuration says d in days, hours or minutes, as a person would.
func roughDuration(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.FormatInt(n, 10) + " " + one + "s"
	}
	switch {
	case d >= 36*time.Hour:
		return unit(int64((d+12*time.Hour)/(24*time.Hour)), "day")
	case d >= 90*time.Minute:
		return unit(int64((d+30*time.Minute)/time.Hour), "hour")
	default:
		return unit(int64((d+30*time.Second)/time.Minute), "minute")
	}
}

// runNowLocked handles a RunNow request in the loop.
func (r *Runner) runNowLocked(states map[string]*state, id string, start func(*state, firing)) error {
	cfg := r.config()
	s, ok := Find(cfg, id)
	if !ok {
		return errors.New("this schedule no longer exists; it may have been deleted in another window")
	}
	st := states[id]
	if st == nil {
		st = &state{sched: s, next: Next(s, r.o.Clock.Now(), r.o.Location)}
		states[id] = st
	}
	if st.busy {
		return ErrScheduleBusy
	}
	conns := ConnectionsOf(cfg, id)
	if len(conns) == 0 {
		return fmt.Errorf("no connection uses the schedule %q; attach one with Schedule... on the Inventory Systems page", s.Name)
	}
	r.log.Info("schedule run now", "schedule", s.Name, "connections", len(conns))
	start(st, firing{sched: s, conns: conns, trigger: TriggerManual, note: "run now of the schedule " + strconv.Quote(s.Name)})
	return nil
}

// sync brings the loop's states in line with cfg. At startup it also
// starts the catch-up of runs missed while no scheduler was running.
func (r *Runner) sync(states map[string]*state, cfg *storage.Config, now time.Time, startup, once bool, start func(*state, firing)) {
	seen := map[string]bool{}
	for _, s := range cfg.Schedules {
		seen[s.ID] = true
		st := states[s.ID]
		switch {
		case st == nil:
			st = &state{sched: s, next: Next(s, now, r.o.Location)}
			states[s.ID] = st
			if startup {
				r.catchUp(st, cfg, now, once, start)
			} else {
				r.log.Info("new schedule", "schedule", s.Name, "when", Summary(s), "next", st.next)
			}
		case !sameTiming(st.sched, s):
			// An edited schedule starts afresh: no catch-up of slots
			// that only exist under the new timing.
			st.sched, st.next, st.removed = s, Next(s, now, r.o.Location), false
			r.log.Info("schedule changed", "schedule", s.Name, "when", Summary(s), "next", st.next)
		default:
			st.sched, st.removed = s, false
		}
	}
	for id, st := range states {
		if seen[id] {
			continue
		}
		if st.busy {
			// Its running firing ends on its own; forget it then.
			st.removed, st.pending = true, nil
		} else {
			delete(states, id)
		}
	}
}

// catchUp starts, once, the connections of a schedule whose latest due run
// did not happen while no scheduler was running (the app was closed, the
// machine asleep or off). However many slots were missed, each connection
// runs once, and the history notes which slot it makes up for.
func (r *Runner) catchUp(st *state, cfg *storage.Config, now time.Time, once bool, start func(*state, firing)) {
	slot := Prev(st.sched, now, r.o.Location)
	if slot.IsZero() {
		return
	}
	var due []storage.Connection
	for _, c := range ConnectionsOf(cfg, st.sched.ID) {
		last, ok, err := r.o.History.LastScheduledRun(c.ID)
		if err != nil {
			r.log.Warn("cannot tell whether a scheduled run was missed; it runs at its next time", "connection", c.Name, "err", err)
			continue
		}
		// Without a scheduled run on record there is nothing known to
		// be missed: the connection runs at its next time. --once has no
		// next time, so it runs it now.
		if (ok && !Next(st.sched, last, r.o.Location).After(now)) || (!ok && once) {
			due = append(due, c)
		}
	}
	if len(due) == 0 {
		return
	}
	note := r.lateNote(slot, now, "")
	r.log.Info("running missed scheduled imports", "schedule", st.sched.Name, "due", slot, "connections", len(due))
	st.fired(slot)
	start(st, firing{sched: st.sched, conns: due, slot: slot, trigger: TriggerSchedule, note: note})
}

// fireDue starts every schedule whose next slot has come. why, when not
// empty, says why a late run is late (the clock jumped ahead) and goes into
// its history note.
func (r *Runner) fireDue(states map[string]*state, now time.Time, why string, start func(*state, firing)) {
	ids := make([]string, 0, len(states))
	for id := range states {
		ids = append(ids, id)
	}
	// A stable order makes logs and tests repeatable.
	sort.Slice(ids, func(i, j int) bool { return lessFold(states[ids[i]].sched.Name, states[ids[j]].sched.Name) })
	for _, id := range ids {
		st := states[id]
		if st.removed || st.next.IsZero() {
			continue
		}
		if now.Before(st.next) {
			// The clock was set back: wait for the schedule's next
			// slot from now, not from the old time.
			if n := Next(st.sched, now, r.o.Location); n.Before(st.next) {
				st.next = n
			}
			continue
		}
		// However many slots passed (the machine slept while the runner
		// waited), the schedule runs once, for the latest.
		slot := Prev(st.sched, now, r.o.Location)
		st.next = Next(st.sched, now, r.o.Location)
		if st.ran[slot.Unix()] {
			r.log.Info("not running: this slot already ran before the clock was set back", "schedule", st.sched.Name, "due", slot)
			continue
		}
		conns := ConnectionsOf(r.config(), id)
		if len(conns) == 0 {
			continue
		}
		f := firing{sched: st.sched, conns: conns, slot: slot, trigger: TriggerSchedule, note: r.lateNote(slot, now, why)}
		st.fired(slot)
		if st.busy {
			r.log.Info("schedule due while its previous run is still going; it runs once that ends", "schedule", st.sched.Name, "due", slot)
			st.pending = &f
			continue
		}
		r.log.Info("schedule due", "schedule", st.sched.Name, "due", slot, "connections", len(conns))
		start(st, f)
	}
}

// lateNote is the history note of a run that starts more than LateAfter
// after its slot, or "" for one on time.
func (r *Runner) lateNote(slot, now time.Time, why string) string {
	if slot.IsZero() || now.Sub(slot) <= r.o.LateAfter {
		return ""
	}
	note := "catch-up of the run due at " + slot.In(r.o.Location).Format("Mon 2 Jan 2006 15:04 MST")
	if why != "" {
		note += " (" + why + ")"
	}
	return note
}

// fire runs a firing's connections one after another and tells the loop
// when it is done.
func (r *Runner) fire(ctx context.Context, f firing) {
	defer func() { r.done <- f.sched.ID }()
	for _, c := range f.conns {
		if ctx.Err() != nil {
			return // shutting down: the rest do not start
		}
		r.runConnection(ctx, f, c)
	}
}

func (r *Runner) runConnection(ctx context.Context, f firing, c storage.Connection) {
	log := r.log.With("schedule", f.sched.Name, "connection", c.Name, "trigger", f.trigger)
	// Take the connection as it is now: it may have been edited, moved to
	// another schedule or deleted since the firing began.
	cur, ok := findConnection(r.config(), c.ID)
	if !ok || (f.trigger == TriggerSchedule && cur.ScheduleID != f.sched.ID) {
		log.Info("not running: the connection was deleted or moved to another schedule")
		return
	}
	c = cur
	ev := Event{ScheduleID: f.sched.ID, ScheduleName: f.sched.Name, Connection: c, Trigger: f.trigger, Note: f.note}

	release, err := r.o.Locks.TryLock(c.ID)
	if err != nil {
		reason := SkipAlreadyRunning
		if !errors.Is(err, ErrAlreadyRunning) {
			reason = "the run lock could not be taken: " + err.Error()
		}
		at := r.o.Clock.Now()
		log.Warn("import skipped", "reason", reason)
		if err := r.o.History.RecordSkipped(c, f.trigger, reason, at); err != nil {
			log.Error("could not record the skipped import in the import history", "err", err)
		}
		r.count(Outcome{Status: StatusSkipped})
		ev.Kind, ev.At, ev.Reason = EventSkipped, at, reason
		r.emit(ev)
		return
	}
	defer release()

	if f.trigger == TriggerSchedule && !f.slot.IsZero() {
		// Another process (the window and `beacon scheduler` both
		// running) may have run this slot already and finished before
		// this one took the lock. Running it again would double it.
		// A run on record at or after the next slot is not this slot's:
		// the clock was set back since.
		last, ok, err := r.o.History.LastScheduledRun(c.ID)
		if err == nil && ok && !last.Before(f.slot) && last.Before(Next(f.sched, f.slot, r.o.Location)) {
			log.Info("not running: another Inventory Beacon process, or this one before the clock was set back, already ran this scheduled import", "due", f.slot, "ran", last)
			return
		}
	}

	ev.Kind, ev.At = EventStarted, r.o.Clock.Now()
	if f.note != "" {
		log = log.With("note", f.note)
	}
	log.Info("import started")
	r.emit(ev)
	out, err := r.o.Executor.Execute(ctx, c, f.trigger, f.note)
	ev.Kind, ev.At, ev.Outcome, ev.Err = EventFinished, r.o.Clock.Now(), out, err
	switch {
	case err != nil:
		log.Error("import could not run", "err", err)
		out.Status = StatusFailed
	case out.Status == StatusSucceeded:
		log.Info("import finished", "status", out.Status)
	case out.Status == StatusWarnings:
		log.Warn("import finished", "status", out.Status, "warnings", len(out.Warnings))
	default:
		log.Error("import finished", "status", out.Status, "err", out.Err)
	}
	r.count(out)
	r.emit(ev)
}

func (r *Runner) emit(ev Event) {
	if r.o.OnEvent != nil {
		r.o.OnEvent(ev)
	}
}

func (r *Runner) count(out Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch out.Status {
	case StatusSucceeded:
		r.tally.Succeeded++
	case StatusWarnings:
		r.tally.Warnings++
	case StatusCancelled:
		r.tally.Cancelled++
	case StatusSkipped:
		r.tally.Skipped++
	default:
		r.tally.Failed++
	}
}

func (r *Runner) setBusy(id string, busy bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if busy {
		r.busy[id] = true
	} else {
		delete(r.busy, id)
	}
}

func (r *Runner) config() *storage.Config {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cfg
}

func (r *Runner) setConfig(c *storage.Config) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cfg = c
}

// loadConfig re-reads the configuration. A file that cannot be read (being
// repaired by hand, say) leaves the last good one in force; each distinct
// error is logged once, not every poll.
func (r *Runner) loadConfig() {
	cfg, err := r.o.Config.Load()
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		if msg := err.Error(); msg != r.loadErr {
			r.loadErr = msg
			r.log.Error("cannot re-read the configuration; the schedules as last read stay in force", "err", err)
		}
		return
	}
	if r.loadErr != "" {
		r.log.Info("the configuration can be read again")
		r.loadErr = ""
	}
	r.cfg = cfg
}

func findConnection(cfg *storage.Config, id string) (storage.Connection, bool) {
	for _, c := range cfg.Connections {
		if c.ID == id {
			return c, true
		}
	}
	return storage.Connection{}, false
}

// sameTiming reports whether two versions of a schedule fire at the same
// times (a renamed schedule keeps its place).
func sameTiming(a, b storage.Schedule) bool {
	if a.Kind != b.Kind || a.EveryMinutes != b.EveryMinutes || a.Hour != b.Hour || a.Minute != b.Minute ||
		a.DayOfMonth != b.DayOfMonth || len(a.Weekdays) != len(b.Weekdays) {
		return false
	}
	for i := range a.Weekdays {
		if a.Weekdays[i] != b.Weekdays[i] {
			return false
		}
	}
	return true
}
