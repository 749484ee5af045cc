// Package importer runs one import of a Microsoft 365 connection: it reads
// users, licenses, applications, the usage reports, the groups that assign
// licences and, where the tenant and the connection allow, sign-in
// activity (licensing.go) through the Graph client, maps Graph's objects to the inventory's rows (mapping.go: the
// client knows nothing of storage) and stages them in the inventory store,
// which makes the snapshot current only when the run finishes well, and
// adds the run's day to the licence history in the same transaction
// (Options.History: figures the caller computes). What
// an import keeps while it runs (the client's decoder buffers and plan
// cache, the mapping's buffers) belongs to it alone, so imports of several
// connections run side by side without sharing mutable state.
//
// The stages are independent functions over a shared run writer, so the
// parallel mode of issue 7 can run them concurrently (and shard users)
// without changing what each stage writes; Options.Sequential is the
// reference mode that fetches everything one request after another.
package importer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"

	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/internal/graphperm"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// Stage is a step of the import with its own progress bar.
type Stage string

const (
	StageLicenses Stage = "Licenses"
	StageUsers    Stage = "Users"
	// StageSignIns reads signInActivity, 120 users a page (issue 17:
	// seconds at 100,000 users, which showed as a stalled bar before).
	StageSignIns      Stage = "Sign-in activity"
	StageApplications Stage = "Applications"
	StageActiveUsers  Stage = "Usage: active users"
	StageActivations  Stage = "Usage: Office activations"
	StageAppUsage     Stage = "Usage: Microsoft 365 apps"
)

// Stages lists the stages in the order they run sequentially.
var Stages = []Stage{StageLicenses, StageUsers, StageSignIns, StageApplications, StageActiveUsers, StageActivations, StageAppUsage}

var reportStage = map[inventory.ReportKind]Stage{
	inventory.ReportActiveUsers: StageActiveUsers,
	inventory.ReportActivations: StageActivations,
	inventory.ReportAppUsage:    StageAppUsage,
}

// Options describe one import.
type Options struct {
	Conn    storage.Connection
	Client  *graph.Client
	Store   *inventory.Store
	Trigger inventory.Trigger
	// Progress, when set, is told how far each stage is: done items of
	// total (0 when not known yet). Calls come one at a time (never
	// concurrently) but from the import's goroutines, not the caller's: a
	// UI hands them over to its own thread (fyne.Do).
	Progress func(stage Stage, done, total int)
	// Sequential fetches and stores one page after another (the reference
	// mode, and what page-by-page importers do). By default decoding and
	// writing overlap: each page is stored on another goroutine while the
	// next one is fetched and decoded. Sharded parallel fetching (issue 7)
	// slots in as another fetch function of the same stages.
	Sequential bool
	// Concurrency bounds the user shards listed at once in the default
	// (parallel) mode; 0 means DefaultConcurrency.
	Concurrency int
	Logger      *slog.Logger
	// Note is recorded with the run (e.g. "catch-up of a missed schedule").
	Note string
	// ConsentURL is where an administrator grants the connection's app
	// the permissions of its profile (the caller knows the identity
	// platform's rules); "" when there is no such page. Warnings of
	// stages skipped for want of a permission name it.
	ConsentURL string

	// Incremental runs (the default mode only): when the current snapshot
	// keeps a users delta link, users are read as changes since then and
	// applied to a copy of it. Full forces a full import. FullAfter is the
	// age of the last full import past which a full import runs anyway
	// (0: DefaultFullAfter; a delta link lives 7 days for directory
	// objects). ReportsMaxAge is how old copied report rows may be before
	// an incremental run downloads the reports again (0:
	// DefaultReportsMaxAge; negative: always download).
	Full          bool
	FullAfter     time.Duration
	ReportsMaxAge time.Duration
	// Now is the clock the ages are measured on (default time.Now).
	Now func() time.Time
	// History says what a good run adds to the licence history besides
	// what the store counts itself (service fills it from the prices,
	// the catalogue and the retention setting).
	History inventory.HistoryOptions
}

// DefaultFullAfter is how long incremental runs follow a full import.
const DefaultFullAfter = 7 * 24 * time.Hour

// DefaultReportsMaxAge: Microsoft refreshes the usage reports' data once a
// day (and allows 14 calls per report per 10 minutes), so a download less
// than a day old is what a new one would say, or nearly.
const DefaultReportsMaxAge = 24 * time.Hour

// Result is how the run ended, as recorded in the import history.
type Result struct {
	Run inventory.Run
	// Mode says how users were read: ModeSequential, ModeSharded,
	// ModePlain (the parallel mode's fallback) or ModeDelta.
	Mode string
}

// How users were read (Result.Mode, and the run's note in the history).
const (
	ModeSequential = "sequential"
	ModeSharded    = "parallel (sharded)"
	ModePlain      = "parallel (one pass: shards incomplete)"
	ModeDelta      = "incremental (delta)"
)

// Status, Warnings and Counts are shorthands for the recorded run.
func (r Result) Status() inventory.Status { return r.Run.Status }
func (r Result) Warnings() []string       { return r.Run.Warnings }
func (r Result) Counts() inventory.Counts { return r.Run.Counts }

// ConcealedNamesWarning is the start of the warning given when usage
// reports conceal user names.
const ConcealedNamesWarning = "The usage reports hide user names"

// Run imports the connection once. It takes no lock: the caller holds the
// connection's run lock (schedule.LockConnection), so a connection is
// never imported twice at once, across processes. It returns an error when the run
// failed or was cancelled (the previous snapshot stays current); a run
// that completed with warnings returns no error and says why in
// Result.Run.Warnings.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Client == nil || o.Store == nil {
		return Result{}, errors.New("importer: a Graph client and a store are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Progress == nil {
		o.Progress = func(Stage, int, int) {}
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.FullAfter <= 0 {
		o.FullAfter = DefaultFullAfter
	}
	if o.ReportsMaxAge == 0 {
		o.ReportsMaxAge = DefaultReportsMaxAge
	}
	if o.Now == nil {
		o.Now = clock.Now
	}
	var prev *inventory.SyncState
	if !o.Sequential && !o.Full {
		st, ok, err := o.Store.SyncState(ctx, o.Conn.ID)
		switch {
		case err != nil:
			o.Logger.Warn("no incremental import: the sync state is unreadable", "err", err)
		case ok && o.Now().Sub(st.FullStarted) < o.FullAfter:
			if older, err := predatesLicensing(ctx, o.Store, st); err != nil || older {
				o.Logger.Info("full import: the last snapshot's users were read without their user type and licence assignment states "+
					"(its delta round would not bring them)", "err", err)
				break
			}
			prev = &st
		case ok:
			o.Logger.Info("full import: the last one is older than the limit", "last full", st.FullStarted, "limit", o.FullAfter)
		}
	}
	// Stages run side by side in the parallel mode; the caller is promised
	// one call at a time.
	var pmu sync.Mutex
	progress := o.Progress
	o.Progress = func(s Stage, done, total int) {
		pmu.Lock()
		defer pmu.Unlock()
		progress(s, done, total)
	}
	if o.Trigger == "" {
		o.Trigger = inventory.TriggerManual
	}
	info := inventory.RunInfo{ConnectionID: o.Conn.ID, ConnectionName: o.Conn.Name, Trigger: o.Trigger, Note: o.Note}
	w, err := o.Store.BeginRun(ctx, info)
	if err != nil {
		return Result{}, err
	}
	im := &run{o: o, w: w, mode: ModeSequential, prev: prev, started: o.Now(), skus: make(chan struct{})}
	defer im.closing.Wait() // no report file outlives the run
	o.Logger.Info("import started", "connection", o.Conn.Name, "run", w.ID(), "trigger", o.Trigger)
	// An object Graph sends in a form that does not fit (a user whose
	// accountEnabled is a string) is left out by the client and becomes a
	// warning of the run, never its failure.
	err = im.stages(graph.WithSkipped(ctx, im.skipped))
	out := inventory.Outcome{Status: inventory.StatusSucceeded, Warnings: im.warnings, Mode: im.mode, Sync: im.sync, SignIns: im.signIns,
		History: o.History}
	switch {
	case err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled):
		out = inventory.Outcome{Status: inventory.StatusCancelled, Warnings: im.warnings, Mode: im.mode,
			Err: fmt.Errorf("the import was cancelled; the previous data was kept (%w)", context.Canceled)}
	case err != nil:
		out = inventory.Outcome{Status: inventory.StatusFailed, Warnings: im.warnings, Mode: im.mode, Err: err}
	case len(im.warnings) > 0:
		out.Status = inventory.StatusWarnings
	}
	rec, ferr := w.Finish(ctx, out)
	if ferr != nil {
		if err == nil {
			err = fmt.Errorf("save the imported data: %w", ferr)
		}
		return Result{Run: rec, Mode: im.mode}, err
	}
	o.Logger.Info("import ended", "connection", o.Conn.Name, "run", rec.ID, "status", rec.Status,
		"users", rec.Counts.Users, "duration", rec.Duration().Round(time.Millisecond))
	if out.Err != nil {
		return Result{Run: rec, Mode: im.mode}, out.Err
	}
	return Result{Run: rec, Mode: im.mode}, nil
}

// predatesLicensing says whether the snapshot st continues from was read
// by a build whose users' $select lacked userType and
// licenseAssignmentStates: its delta link keeps that $select (Graph
// encodes it in the opaque token), so its rounds would only bring them for
// the users that changed. Every run of this build records whether it read
// sign-in activity or why not; earlier ones left that empty.
func predatesLicensing(ctx context.Context, st *inventory.Store, sync inventory.SyncState) (bool, error) {
	prev, err := st.Run(ctx, sync.RunID)
	if err != nil {
		return false, err
	}
	return prev.SignIns == "", nil
}

type run struct {
	mu       sync.Mutex // guards warnings, reportsForbidden, concealed, signIns in the parallel mode
	o        Options
	w        *inventory.RunWriter
	warnings []string
	// reportsForbidden holds the first refusal, so one missing role gives
	// one warning, not three.
	reportsForbidden error
	// concealed describes the reports whose user names are hidden.
	concealed []string
	// signIns is inventory.SignInsRead when the run read signInActivity,
	// else the notice saying why not (Outcome.SignIns).
	signIns string
	mode    string
	// prev is the snapshot an incremental run starts from (nil: full).
	prev *inventory.SyncState
	// sync is kept with the snapshot for the next incremental run.
	sync *inventory.SyncState
	// deltaLink continues the users delta after this run ("" if none);
	// fullAgain says an incremental run fell back to a full listing.
	deltaLink string
	fullAgain bool
	// started is when the run began on Options.Now's clock (the ages
	// of the sync state are measured on it).
	started time.Time
	// skus is closed once the licenses are staged.
	skus chan struct{}
	// closing counts the report files being removed (closeLater).
	closing sync.WaitGroup
	// skippedN counts the objects Graph sent that were left out (guarded
	// by mu): the first maxSkippedWarnings are warnings of their own.
	skippedN int
}

// maxSkippedWarnings bounds the warnings naming objects left out, so a
// tenant full of odd objects gives a readable run; the rest are counted
// in one more warning (and each is in the log).
const maxSkippedWarnings = 20

// skipped makes an object the Graph client left out a warning.
func (r *run) skipped(s graph.Skipped) {
	r.mu.Lock()
	r.skippedN++
	n := r.skippedN
	r.mu.Unlock()
	if n <= maxSkippedWarnings {
		r.warn(s.Error())
	}
}

func (r *run) warn(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range r.warnings {
		if w == s {
			return
		}
	}
	r.warnings = append(r.warnings, s)
}

func (r *run) stages(ctx context.Context) error {
	if !r.o.Sequential {
		return r.parallelStages(ctx)
	}
	// Licenses first: users' Licenses column names the SKUs.
	if err := r.licenses(ctx); err != nil {
		return err
	}
	err := r.users(ctx)
	// As in the parallel stages: the users page buffers and plan cache
	// are of no use once the users are listed.
	r.o.Client.ReleaseUsersMemory()
	if err != nil {
		return err
	}
	if err := r.licenseGroups(ctx); err != nil {
		return err
	}
	if err := r.signInActivity(ctx); err != nil {
		return err
	}
	if err := r.applications(ctx); err != nil {
		return err
	}
	for _, k := range inventory.ReportKinds {
		if err := r.report(ctx, k); err != nil {
			return err
		}
		if err := r.concealedRows(ctx, k); err != nil {
			return err
		}
	}
	return r.endWarnings()
}

// endWarnings adds the warnings that summarise several stages.
func (r *run) endWarnings() error {
	r.concealedWarning()
	r.mu.Lock()
	more := r.skippedN - maxSkippedWarnings
	r.mu.Unlock()
	if more > 0 {
		r.warn(fmt.Sprintf("%d more objects Microsoft Graph sent could not be read and were left out (each is in the log).", more))
	}
	switch {
	case r.reportsForbidden == nil:
	case isS2S(r.reportsForbidden) || !r.expected(graphperm.StageUsage):
		// The permission is there but the signed-in account holds no
		// reports role (S2SUnauthorized), or the profile leaves usage
		// out: Graph's own words say what to do.
		r.warn("Usage was not imported, so active and inactive license figures are unknown: " + r.reportsForbidden.Error())
	default:
		r.warn(fmt.Sprintf("Usage was not imported, so active and inactive license figures are unknown: %s (%v)", r.refusal(graphperm.StageUsage), r.reportsForbidden))
	}
	return nil
}

func (r *run) licenses(ctx context.Context) error {
	r.o.Progress(StageLicenses, 0, 0)
	skus, err := r.o.Client.SubscribedSKUs(ctx)
	if errors.Is(err, graph.ErrForbidden) && ctx.Err() == nil {
		// Users stay useful without the SKUs' names and counts: their
		// licences are then shown by SKU ID.
		r.skipRefused(ctx, graphperm.StageLicenses, err)
		close(r.skus)
		return nil
	}
	if err != nil {
		return fmt.Errorf("read licenses (subscribed SKUs): %w", err)
	}
	if err := r.w.AddSKUs(ctx, skuRows(skus)); err != nil {
		return err
	}
	close(r.skus)
	r.o.Progress(StageLicenses, len(skus), len(skus))
	return nil
}

// waitSKUs waits until the licenses are staged: a user's Licenses column
// names its SKUs, so no user is staged before.
func (r *run) waitSKUs(ctx context.Context) error {
	select {
	case <-r.skus:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (r *run) users(ctx context.Context) error {
	total := 0
	r.o.Progress(StageUsers, 0, 0)
	// The count only feeds the progress bar: if the tenant refuses it,
	// the bar is indeterminate and nothing else changes.
	if n, err := r.o.Client.UserCount(ctx); err == nil {
		total = n
		r.w.ExpectUsers(n)
	} else if ctx.Err() != nil {
		return ctx.Err()
	} else {
		r.o.Logger.Debug("user count unavailable", "err", err)
	}
	done := 0
	var rows userRows // the store side's: one page at a time
	err := pipeline(ctx, r.o.Sequential, r.o.Client.Users, func(ctx context.Context, page []graph.User) error {
		if err := r.waitSKUs(ctx); err != nil {
			return err
		}
		if err := r.w.AddUsers(ctx, rows.page(page)); err != nil {
			return err
		}
		done += len(page)
		r.o.Progress(StageUsers, done, max(total, done))
		return nil
	})
	if errors.Is(err, graph.ErrForbidden) && ctx.Err() == nil {
		return r.usersRefused(err)
	}
	if err != nil {
		return fmt.Errorf("read users: %w", err)
	}
	r.o.Progress(StageUsers, done, done)
	return nil
}

func (r *run) applications(ctx context.Context) error {
	r.o.Progress(StageApplications, 0, 0)
	done := 0
	err := pipeline(ctx, r.o.Sequential, r.o.Client.ServicePrincipals, func(ctx context.Context, page []graph.ServicePrincipal) error {
		if err := r.w.AddServicePrincipals(ctx, servicePrincipalRows(page)); err != nil {
			return err
		}
		done += len(page)
		r.o.Progress(StageApplications, done, 0)
		return nil
	})
	if errors.Is(err, graph.ErrForbidden) && ctx.Err() == nil {
		// Users and licenses stay useful without the application list.
		r.skipRefused(ctx, graphperm.StageApplications, err)
		if derr := r.w.DiscardApplications(ctx); derr != nil {
			return derr
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read applications (service principals): %w", err)
	}
	r.o.Progress(StageApplications, done, done)
	return nil
}

// prefetch is a report download started ahead of its parsing.
type prefetch struct {
	done chan struct{}
	rf   *graph.ReportFile
	err  error
}

// prefetchReports starts downloading every report at once. The downloads
// are a few round trips each and go to temporary files, so they cost
// neither the store's time nor memory; fetched one after another, each
// report's two round trips waited behind the previous report's storing.
// The caller must wait for and close them all (closePrefetched).
func (r *run) prefetchReports(ctx context.Context) map[inventory.ReportKind]*prefetch {
	out := map[inventory.ReportKind]*prefetch{}
	for _, k := range inventory.ReportKinds {
		p := &prefetch{done: make(chan struct{})}
		out[k] = p
		go func() {
			defer close(p.done)
			p.rf, p.err = r.o.Client.DownloadReport(ctx, reportSpec(k))
		}()
	}
	return out
}

// closeLater removes a parsed report's file on a goroutine of its own
// (Run waits for it before returning): freeing tens of megabytes of a
// just-written file took ~15 ms a report, which, done at the end, was time
// one core spent alone while the other waited.
func (r *run) closeLater(p *prefetch) {
	rf := p.rf
	p.rf = nil
	r.closing.Add(1)
	go func() {
		defer r.closing.Done()
		rf.Close()
	}()
}

// closePrefetched waits for every download and removes its file.
func closePrefetched(ps map[inventory.ReportKind]*prefetch) {
	for _, p := range ps {
		<-p.done
		if p.rf != nil {
			p.rf.Close()
			p.rf = nil
		}
	}
}

// report reads one usage report, from pre, when given, a download
// started earlier.
func (r *run) report(ctx context.Context, kind inventory.ReportKind, pre ...*prefetch) error {
	stage := reportStage[kind]
	r.o.Progress(stage, 0, 0)
	r.mu.Lock()
	forbidden := r.reportsForbidden
	r.mu.Unlock()
	if forbidden != nil {
		// Same permission, same answer: do not spend the report's
		// throttling budget to hear it again.
		r.o.Progress(stage, 0, 0)
		return nil
	}
	done := 0
	// Chunks are parsed and prepared on the fetching side of the pipeline
	// and only stored on the other: the writer is shared with the users.
	fetch := func(ctx context.Context, fn graph.Sink[*inventory.ReportBatch]) error {
		// done, when given, has the chunk's memory go back to the
		// parser once its batch is stored (ReportFile.Chunks).
		var conv []inventory.ReportRow // the parser's: one chunk at a time
		prepare := func(rows []graph.ReportRow, done func()) error {
			conv = reportRows(conv, rows)
			b := r.w.PrepareReportRows(kind, conv)
			if done != nil {
				b.OnStored(done)
			}
			return fn([]*inventory.ReportBatch{b})
		}
		if len(pre) == 0 {
			return r.o.Client.Report(ctx, reportSpec(kind), func(rows []graph.ReportRow) error { return prepare(rows, nil) })
		}
		p := pre[0]
		select {
		case <-p.done:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		if p.err != nil {
			return p.err
		}
		err := p.rf.Chunks(prepare)
		r.closeLater(p)
		return err
	}
	err := pipeline(ctx, r.o.Sequential, fetch, func(ctx context.Context, bs []*inventory.ReportBatch) error {
		for _, b := range bs {
			if err := r.w.AddReportBatch(ctx, b); err != nil {
				return err
			}
			done += b.Rows()
		}
		r.o.Progress(stage, done, 0)
		return nil
	})
	if errors.Is(err, graph.ErrForbidden) && ctx.Err() == nil {
		r.mu.Lock()
		if r.reportsForbidden == nil {
			r.reportsForbidden = err
		}
		r.mu.Unlock()
		return r.w.DiscardReport(ctx, kind)
	}
	if err != nil {
		return fmt.Errorf("read usage: %w", err)
	}
	r.o.Progress(stage, done, done)
	return nil
}

// concealedRows notes a report whose rows hide user names. It needs the
// users staged (a concealed-looking name may be a real user's).
func (r *run) concealedRows(ctx context.Context, kind inventory.ReportKind) error {
	n, err := r.w.UnmatchedConcealed(ctx, kind)
	if err != nil {
		return err
	}
	if n > 0 {
		r.concealed = append(r.concealed, fmt.Sprintf("%d of %d rows of %s", n, r.w.Counts().ReportRows(kind), inventory.Report(kind).Title))
	}
	return nil
}

// pipeline feeds what fetch hands over to store. Sequentially, store runs
// inside fetch's callback; otherwise store runs on its own goroutine
// behind a channel two batches deep, so decoding the next page (one core)
// overlaps writing this one (the other core) while memory stays bounded.
// A failing store cancels the fetch; its error wins.
//
// fetch reuses its slice after the callback returns, so the pipelined
// mode hands over a shallow copy: the elements' strings and slices are
// fresh for every page, only the slice itself is reused.
func pipeline[T any](ctx context.Context, sequential bool, fetch func(context.Context, graph.Sink[T]) error,
	store func(context.Context, []T) error) error {
	if sequential {
		return fetch(ctx, func(batch []T) error { return store(ctx, batch) })
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ch := make(chan []T, 2)
	stored := make(chan error, 1)
	go func() {
		var err error
		for batch := range ch {
			if err != nil {
				continue // drain, so the fetcher never blocks
			}
			if err = store(ctx, batch); err != nil {
				cancel(err)
			}
		}
		stored <- err
	}()
	ferr := fetch(ctx, func(batch []T) error {
		select {
		case ch <- append([]T(nil), batch...):
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	})
	close(ch)
	if serr := <-stored; serr != nil {
		return serr
	}
	return ferr
}

// concealedWarning is one warning for all reports whose names are hidden.
func (r *run) concealedWarning() {
	if len(r.concealed) == 0 {
		return
	}
	r.warn(fmt.Sprintf("%s (%s show a 32-character code instead of a user name), so usage cannot be matched to users "+
		"and the active and inactive license figures are unknown. To show names, sign in to the Microsoft 365 admin center as a Global "+
		"Administrator, go to Settings > Org settings > Services > Reports, clear \"Display concealed user, group, and site names in all reports\", "+
		"save, and run the import again.", ConcealedNamesWarning, strings.Join(r.concealed, "; ")))
}

// isS2S reports whether err is the usage reports' refusal of an account
// without a reports role (the permission itself is granted).
func isS2S(err error) bool {
	var ge *graph.GraphError
	return errors.As(err, &ge) && ge.S2SUnauthorized()
}
