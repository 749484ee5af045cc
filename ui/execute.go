package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// ImportRequest says how Execute Now imports.
type ImportRequest struct {
	// Full reads every user again (the importer's Options.Full): "Execute Now
	// (full import)". Without it an import reads only the users' changes
	// since the last one when it can (incremental), as schedules do.
	Full bool
}

// Importer runs one import of a saved connection, as req says: Execute
// Now's. It reports how far each stage is through progress (done of total
// items, total 0 when not known yet), from any goroutine, and stops when
// ctx is cancelled. It returns the run as recorded in the import history;
// a run that never started (no token, database not writable) has ID 0 and
// err says why. cmd/beacon implements it with service.Imports under the
// connection's run lock.
type Importer interface {
	Import(ctx context.Context, c storage.Connection, req ImportRequest,
		progress func(stage string, done, total int)) (inventory.Run, error)
}

// ImportStages are the importer's stages, in the order they run: one
// progress bar each.
func ImportStages() []string { return service.ImportStages() }

// importController is Execute Now: the imports running in this window,
// each with its progress dialog (Fyne goroutine only). A connection
// already importing is not started twice; its dialog is shown again
// instead (whichever mode was asked for: its title says which one runs).
type importController struct {
	svc Importer
	// stages are the progress bars, in order.
	stages []string
	// changed is called when a run starts or ends, so the window redraws
	// Last run / Last result and the data pages.
	changed func(connID string)
	// hasData reports whether the connection has the data of an earlier
	// import, which a failed or cancelled run keeps.
	hasData func(connID string) bool

	running map[string]*ExecuteDialog
	// exitAfterImports continues Exit when the last import has stopped.
	exitAfterImports bool
}

func newImportController(svc Importer, changed func(string), hasData func(string) bool) *importController {
	return &importController{svc: svc, stages: ImportStages(), changed: changed, hasData: hasData,
		running: map[string]*ExecuteDialog{}}
}

// cancelAll cancels every import running in this window.
func (ex *importController) cancelAll() {
	for _, d := range ex.running {
		d.Cancel()
	}
}

// isRunning reports whether connID is importing in this window.
func (ex *importController) isRunning(connID string) bool { return ex.running[connID] != nil }

func (ex *importController) execute(parent fyne.Window, c storage.Connection, req ImportRequest) {
	if d := ex.running[c.ID]; d != nil {
		d.background = false
		d.keys.show(d.dlg, parent)
		return
	}
	d := newExecuteDialog(ex, parent, c, req)
	ex.running[c.ID] = d
	ex.changed(c.ID)
	d.keys.show(d.dlg, parent)
	d.dlg.Resize(fyne.NewSize(560, d.dlg.MinSize().Height))
	d.start()
}

// executeBackground starts an import of c with its dialog hidden, as after
// "Run in background": a notification tells the outcome, and Execute Now on
// the connection shows the dialog. A connection already importing here is
// left alone.
func (ex *importController) executeBackground(parent fyne.Window, c storage.Connection) {
	if ex.running[c.ID] != nil {
		return
	}
	d := newExecuteDialog(ex, parent, c, ImportRequest{})
	d.background = true
	ex.running[c.ID] = d
	ex.changed(c.ID)
	d.start()
}

// stageState is what one bar shows.
type stageState int

const (
	stageWaiting stageState = iota
	stageRunning
	stageDone
	stageStopped // the run ended while this stage was running
	stageNotRun  // the run ended before this stage
)

type stageRow struct {
	name  string
	state stageState
	done  int
	total int
	bar   *widget.ProgressBar
	text  string // what the bar says
}

// ExecuteDialog is the progress of one Execute Now: a bar per stage, the
// outcome, and Cancel while it runs (Close afterwards).
type ExecuteDialog struct {
	keys   *dialogKeys // Esc: Run in background, or Close once ended; Enter: Close
	ex     *importController
	conn   storage.Connection
	req    ImportRequest
	ctx    context.Context
	cancel context.CancelFunc

	title   string
	stages  []*stageRow
	summary *widget.Label
	details *widget.Label
	cancelB *dialogButton
	hideB   *dialogButton
	closeB  *dialogButton
	dlg     *dialog.CustomDialog

	// finished is set on the Fyne goroutine when the run has ended.
	finished bool
	// background: the administrator hid the dialog; the outcome is told
	// by a desktop notification.
	background bool
	run        inventory.Run
	err        error

	// mu guards the progress reported by the importing goroutine until
	// the Fyne goroutine takes it: updates are coalesced, so a fast import
	// costs one redraw per frame, not one per page of users.
	mu        sync.Mutex
	latest    map[string][2]int
	order     []string // stages in the order they were first reported
	scheduled bool
}

func newExecuteDialog(ex *importController, parent fyne.Window, c storage.Connection, req ImportRequest) *ExecuteDialog {
	d := &ExecuteDialog{ex: ex, conn: c, req: req, latest: map[string][2]int{}, keys: &dialogKeys{}}
	form := container.New(layout.NewFormLayout())
	for _, name := range ex.stages {
		r := &stageRow{name: name, text: "Waiting"}
		r.bar = widget.NewProgressBar()
		r.bar.TextFormatter = func() string { return r.text }
		d.stages = append(d.stages, r)
		form.Add(widget.NewLabel(name))
		form.Add(r.bar)
	}
	importing := "Importing…"
	if req.Full {
		importing = "Importing every user again (full import)…"
	}
	d.summary = widget.NewLabelWithStyle(importing, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	d.summary.Wrapping = fyne.TextWrapWord
	d.details = widget.NewLabel("")
	d.details.Wrapping = fyne.TextWrapWord
	d.details.Hide()
	d.cancelB = newDialogButtonWithIcon(d.keys, "Cancel", theme.CancelIcon(), d.Cancel)
	d.cancelB.Importance = widget.DangerImportance
	// Hide leaves the import running; Execute Now on the same connection
	// shows this dialog again.
	d.hideB = newDialogButton(d.keys, "Run in background", func() {
		d.background = true
		d.dlg.Hide()
	})
	d.closeB = newDialogButton(d.keys, "Close", func() { d.dlg.Hide() })
	d.closeB.Importance = widget.HighImportance
	d.closeB.Hide()
	content := container.NewVBox(form, widget.NewSeparator(), d.summary, d.details)
	d.title = executeTitle(req) + ": " + c.Name
	d.dlg = dialog.NewCustomWithoutButtons(d.title, content, parent)
	d.dlg.SetButtons([]fyne.CanvasObject{d.hideB, d.cancelB, d.closeB})
	// Esc leaves a running import running (Run in background) rather
	// than stopping it; once it ended, Esc and Enter close.
	d.keys.esc, d.keys.enter = []*dialogButton{d.closeB, d.hideB}, []*dialogButton{d.closeB}
	return d
}

func (d *ExecuteDialog) start() {
	d.ctx, d.cancel = context.WithCancel(context.Background())
	ctx, conn, req, svc := d.ctx, d.conn, d.req, d.ex.svc
	go func() {
		r, err := svc.Import(ctx, conn, req, d.progress)
		doUI(func() { d.end(r, err) })
	}()
}

// progress is the Importer's callback; any goroutine.
func (d *ExecuteDialog) progress(stage string, done, total int) {
	d.mu.Lock()
	if _, seen := d.latest[stage]; !seen {
		d.order = append(d.order, stage)
	}
	d.latest[stage] = [2]int{done, total}
	schedule := !d.scheduled
	d.scheduled = true
	d.mu.Unlock()
	if schedule {
		doUI(d.applyProgress)
	}
}

// applyProgress moves the reported progress into the bars (Fyne
// goroutine).
func (d *ExecuteDialog) applyProgress() {
	d.mu.Lock()
	latest := make(map[string][2]int, len(d.latest))
	for k, v := range d.latest {
		latest[k] = v
	}
	d.scheduled = false
	d.mu.Unlock()
	if d.finished {
		return
	}
	// A stage is done when its own report says so (the parallel import
	// runs stages side by side, so a later stage reporting says nothing
	// of an earlier one), or when the whole run ends well (end). Marking
	// the stages before the furthest one done showed full bars reading
	// "Done: 0" on a run that failed before reading anything (issue 23).
	for _, r := range d.stages {
		v, ok := latest[r.name]
		switch {
		case !ok:
			continue
		case v[1] > 0 && v[0] >= v[1]:
			r.state = stageDone
		default:
			r.state = stageRunning
		}
		r.done, r.total = v[0], v[1]
		r.show()
	}
}

func (r *stageRow) show() {
	switch r.state {
	case stageWaiting:
		r.text = "Waiting"
		r.bar.Value = 0
	case stageRunning:
		if r.total > 0 {
			r.text = fmt.Sprintf("%s of %s", count(r.done), count(r.total))
			r.bar.Value = float64(r.done) / float64(r.total)
		} else if r.done > 0 {
			r.text = count(r.done) + " read"
			r.bar.Value = 0
		} else {
			r.text = "Starting…"
			r.bar.Value = 0
		}
	case stageDone:
		r.text = "Done: " + count(r.done)
		r.bar.Value = 1
	case stageStopped:
		r.text += " (stopped)"
	case stageNotRun:
		r.text = "Not run"
		r.bar.Value = 0
	}
	r.bar.Refresh()
}

// Cancel stops the import; the previous data stays current.
func (d *ExecuteDialog) Cancel() {
	if d.finished || d.cancel == nil {
		return
	}
	d.cancel()
	d.cancelB.Disable()
	d.cancelB.SetText("Cancelling…")
	d.summary.SetText("Cancelling: the import stops after the current request; the previous data is kept.")
}

// end shows the outcome (Fyne goroutine).
func (d *ExecuteDialog) end(r inventory.Run, err error) {
	d.applyProgress()
	d.finished = true
	d.run, d.err = r, err
	d.cancel()
	good := r.Status.Good() && err == nil
	for _, s := range d.stages {
		switch {
		case good && s.state == stageWaiting:
			// Never started in a run that went well: skipped on
			// purpose (sign-in activity without Entra ID P1 or
			// AuditLog.Read.All; the details say why), not done.
			s.state = stageNotRun
		case good:
			s.state = stageDone
		case s.state == stageRunning:
			s.state = stageStopped
		case s.state == stageWaiting:
			s.state = stageNotRun
		}
		s.show()
	}
	kept := keptNone
	if d.ex.hasData(d.conn.ID) {
		kept = keptData
	}
	d.summary.SetText(runSummary(d.conn.Name, r, err, kept))
	var det []string
	if good {
		c := r.Counts
		mode := ""
		if m := modeText(r.Mode); m != "" {
			mode = "Mode: " + m + "\n"
		}
		det = append(det, fmt.Sprintf("%sUsers: %s · License assignments: %s · Subscribed SKUs: %s · Applications: %s\n"+
			"Usage rows: %s active users, %s Office activations, %s Microsoft 365 apps", mode,
			count(c.Users), count(c.Assignments), count(c.SKUs), count(c.ServicePrincipals),
			count(c.ActiveUserRows), count(c.ActivationRows), count(c.AppUsageRows)))
	}
	for _, w := range r.Warnings {
		det = append(det, "Warning: "+w)
	}
	if len(det) > 0 {
		d.details.SetText(strings.Join(det, "\n\n"))
		d.details.Show()
	}
	d.cancelB.Hide()
	d.hideB.Hide()
	d.closeB.Show()
	d.dlg.Resize(fyne.NewSize(560, d.dlg.MinSize().Height))
	if d.background {
		if a := fyne.CurrentApp(); a != nil {
			a.SendNotification(fyne.NewNotification("Inventory Beacon", strings.SplitN(d.summary.Text, "\n", 2)[0]))
		}
	}
	delete(d.ex.running, d.conn.ID)
	d.ex.changed(d.conn.ID)
}

// What a run that did not end well left for the data pages.
type keptState int

const (
	keptUnknown keptState = iota // not known: say nothing about it
	keptNone                     // no earlier import: nothing was kept
	keptData                     // the earlier import's data stays current
)

// text is the sentence about the data an unsuccessful run left.
func (k keptState) text() string {
	switch k {
	case keptNone:
		return " Nothing has been imported from this connection yet."
	case keptData:
		return " The data of the previous import is kept."
	}
	return ""
}

// runSummary is the outcome in one sentence, with what to do next.
func runSummary(name string, r inventory.Run, err error, kept keptState) string {
	took := ""
	if r.ID != 0 {
		took = " in " + r.Duration().Round(100*time.Millisecond).String()
	}
	switch {
	case r.ID == 0 && err != nil:
		return fmt.Sprintf("The import from %s could not start: %v", name, err)
	case r.Status == inventory.StatusSucceeded && err == nil:
		return fmt.Sprintf("Import from %s succeeded%s.", name, took)
	case r.Status == inventory.StatusWarnings && err == nil:
		return fmt.Sprintf("Import from %s completed with warnings%s. The data was imported; the warnings below say what is missing and how to fix it.", name, took)
	case r.Status == inventory.StatusCancelled || errors.Is(err, context.Canceled):
		return fmt.Sprintf("Import from %s was cancelled%s.%s", name, took, kept.text())
	}
	msg := r.Error
	if err != nil {
		msg = err.Error()
	}
	return fmt.Sprintf("Import from %s failed%s: %s\n\n%sFix the problem and click Execute Now again.", name, took, msg,
		strings.TrimPrefix(kept.text()+" ", " "))
}

// executeTitle names the action: the dialog's title and the commands.
func executeTitle(req ImportRequest) string {
	if req.Full {
		return "Execute Now (full import)"
	}
	return "Execute Now"
}

// modeText says how a run read the users (inventory.Run.Mode), for the
// Import history and the outcome: full or incremental first, since that
// is what an administrator looks for. Empty for runs that read no users
// (skipped, failed to start) and runs of earlier builds.
func modeText(mode string) string {
	switch mode {
	case "":
		return ""
	case service.ModeDelta:
		return "Incremental (changes only)"
	case service.ModeSharded:
		return "Full (parallel)"
	case service.ModePlain:
		return "Full (one pass)"
	case service.ModeSequential:
		return "Full (sequential)"
	}
	return mode
}

// resultText is the Last result column of a run.
func resultText(r inventory.Run) string {
	switch r.Status {
	case inventory.StatusSucceeded:
		return "Succeeded"
	case inventory.StatusWarnings:
		return "Completed with warnings"
	case inventory.StatusRunning:
		return "Running"
	case inventory.StatusCancelled:
		return "Cancelled"
	case inventory.StatusSkipped:
		return "Skipped: already running"
	case inventory.StatusFailed:
		if r.Error != "" {
			return "Failed: " + r.Error
		}
		return "Failed"
	}
	return string(r.Status)
}

// count formats a number with thousands separators, as admins read them.
func count(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
