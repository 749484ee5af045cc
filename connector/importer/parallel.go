package importer

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// DefaultConcurrency is how many user shards are listed at once by default.
// At 150 ms per request a 100,000-user tenant is about 130 pages: 8 at once
// needed 17 rounds of round trips, more than the longest shard; 16 brings
// that under the sub-sharded longest chain (BENCHMARKS.md, issue 7). What
// the pages hold in memory is bounded by graph.Options.PagesInMemory, not
// by this, so more requests waiting on the network cost little.
const DefaultConcurrency = 16

// ShardPrefixes are the user shards: user principal names by first
// character. startswith is case-insensitive, so one letter covers both
// cases. A user starting with anything else (an accented letter, a dot, a
// quote) is in no shard: the per-shard counts then fall short of the
// total, and the users are listed plainly instead.
var ShardPrefixes = func() []string {
	var p []string
	for c := 'a'; c <= 'z'; c++ {
		p = append(p, string(c))
	}
	for c := '0'; c <= '9'; c++ {
		p = append(p, string(c))
	}
	return append(p, "_", "'", "-", ".")
}()

// parallelStages runs the stages side by side: licenses, users (sharded),
// applications and the reports at once. Each stage is one chain of requests at a time
// except the users, so the budgets Microsoft documents (directory units
// per 10 s, 14 report calls per 10 min) are far away; a 429 is honoured by
// the client wherever it comes.
func (r *run) parallelStages(ctx context.Context) error {
	r.o.Progress(StageLicenses, 0, 0)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	goStage := func(fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx); err != nil {
				// The first failure ends the run; the others only echo
				// the cancellation it caused.
				once.Do(func() { first = err; cancel(err) })
			}
		}()
	}
	// Licenses beside the rest: only staging users waits for them
	// (waitSKUs), so counting shards, copying the previous users and
	// everything else starts at once.
	goStage(r.licenses)
	fullStarted := r.started
	users := r.usersParallel
	if r.prev != nil {
		fullStarted = r.prev.FullStarted
		users = r.usersDelta
	}
	goStage(func(ctx context.Context) error {
		// The client's users page buffers and plan cache are of no use
		// once the users are listed: the reports and Finish run without
		// them (RSS at 1,000,000 users, issue 21).
		defer r.o.Client.ReleaseUsersMemory()
		return users(ctx)
	})
	goStage(r.applications)
	goStage(r.licenseGroups)
	goStage(r.signInActivity)
	reportsStarted := r.started
	if p := r.prev; p != nil && !p.ReportsStarted.IsZero() && r.o.ReportsMaxAge > 0 && r.o.Now().Sub(p.ReportsStarted) < r.o.ReportsMaxAge {
		reportsStarted = p.ReportsStarted
		goStage(r.copyReports)
	} else {
		// The reports are downloaded all at once, then parsed and
		// stored one after another, beside the users: the store is one
		// writer, so storing three at once finished no sooner but held
		// three reports' chunks in memory (+100 MB at 100,000 users).
		goStage(func(ctx context.Context) error {
			pre := r.prefetchReports(ctx)
			defer closePrefetched(pre)
			for _, k := range inventory.ReportKinds {
				if err := r.report(ctx, k, pre[k]); err != nil {
					return err
				}
			}
			// The users' last activity now, while the users are still
			// being listed, rather than at the end (Finish waits for
			// the last user).
			return r.w.StageActivity(ctx)
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	for _, k := range inventory.ReportKinds {
		if err := r.concealedRows(ctx, k); err != nil {
			return err
		}
	}
	if r.fullAgain {
		// The delta link had expired: this run became a full import.
		fullStarted = r.started
	}
	if r.reportsForbidden != nil || len(r.concealed) > 0 {
		// Never reuse rows that made a warning: the administrator may
		// have fixed the cause and run again to see it gone.
		reportsStarted = time.Time{}
	}
	if r.deltaLink != "" {
		r.sync = &inventory.SyncState{UsersDeltaLink: r.deltaLink, FullStarted: fullStarted, ReportsStarted: reportsStarted}
	}
	return r.endWarnings()
}

// shard is one prefix with its user count.
type shard struct {
	prefix string
	count  int
}

// usersParallel lists users by shard, ShardPrefixes at once up to
// Options.Concurrency. It first counts the tenant and every shard (one
// round of concurrent requests): when the shards do not add up to the
// total (users outside the prefixes, or counts that disagree) or the
// tenant refuses the filter, it lists users plainly instead, so the
// result is always complete. After the listing the number of users read
// is checked again (the tenant may change meanwhile).
func (r *run) usersParallel(ctx context.Context) error {
	r.o.Progress(StageUsers, 0, 0)
	r.mode = ModeSharded
	// The delta link is taken before any user is read, so the next
	// incremental run sees every change made from now on, including
	// during this listing (applying one twice is harmless).
	latest := make(chan string, 1)
	go func() {
		link, err := r.o.Client.UsersDeltaLatest(ctx)
		if err != nil && ctx.Err() == nil {
			r.o.Logger.Info("no delta link: the next import will be full too", "err", err)
		}
		latest <- link
	}()
	total, shards, err := r.countShards(ctx)
	r.deltaLink = <-latest
	switch {
	case errors.Is(err, graph.ErrFilterRejected):
		r.o.Logger.Info("user shards unavailable; listing users in one pass", "reason", err)
		r.mode = ModePlain
		return r.users(ctx)
	case err != nil:
		if errors.Is(err, graph.ErrForbidden) && ctx.Err() == nil {
			return r.usersRefused(err)
		}
		return fmt.Errorf("count users: %w", err)
	}
	r.w.ExpectUsers(total)
	sum := 0
	for _, s := range shards {
		sum += s.count
	}
	if sum != total {
		r.o.Logger.Info("user shards do not cover the tenant; listing users in one pass", "total", total, "in shards", sum)
		r.mode = ModePlain
		return r.users(ctx)
	}
	// Users left out (graph.Skipped) were counted by Graph but are not
	// read: they must not make the listing look incomplete.
	var left atomic.Int64
	n, err := r.fetchShards(graph.WithSkipped(ctx, func(s graph.Skipped) {
		left.Add(1)
		r.skipped(s)
	}), total, shards)
	if errors.Is(err, graph.ErrFilterRejected) || (err == nil && n+int(left.Load()) != total) {
		r.o.Logger.Info("sharded user listing incomplete; listing users in one pass", "read", n, "counted", total, "err", err)
		if err := r.w.DiscardUsers(ctx); err != nil {
			return err
		}
		r.mode = ModePlain
		return r.users(ctx)
	}
	if errors.Is(err, graph.ErrForbidden) && ctx.Err() == nil {
		return r.usersRefused(err)
	}
	if err != nil {
		return fmt.Errorf("read users: %w", err)
	}
	r.o.Progress(StageUsers, n, n)
	return nil
}

// countShards asks for the total and each shard's count concurrently.
func (r *run) countShards(ctx context.Context) (int, []shard, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	shards := make([]shard, len(ShardPrefixes))
	var total int
	var mu sync.Mutex
	var first error
	fail := func(err error) {
		mu.Lock()
		if first == nil || (errors.Is(first, context.Canceled) && !errors.Is(err, context.Canceled)) {
			first = err
		}
		mu.Unlock()
		cancel()
	}
	// Counts are tiny answers and cost one throttling unit each: all go at
	// once, so counting costs one round trip, not len/Concurrency.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		n, err := r.o.Client.UserCount(ctx)
		if err != nil {
			fail(err)
		}
		total = n
	}()
	for i, p := range ShardPrefixes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := r.o.Client.UserCountPrefix(ctx, p)
			if err != nil {
				fail(err)
			}
			shards[i] = shard{p, n}
		}()
	}
	wg.Wait()
	if first != nil {
		return 0, nil, first
	}
	return total, shards, ctx.Err()
}

// SubShardChars are the characters that can follow the first one of a
// user principal name: what Microsoft allows in its local part (letters,
// digits, ' . - _ ! # ^ ~) and the @ of a one-character local part.
// startswith is case-insensitive, so one letter covers both cases. A name
// with any other second character makes the sub-shards' counts fall short
// of their shard's, and the shard is then listed whole.
const SubShardChars = "abcdefghijklmnopqrstuvwxyz0123456789._-'@!#^~"

// SplitShard says whether a shard of users is listed as sub-shards (its
// prefix and each of SubShardChars) after one more round of counts. A
// shard's pages come one after another, so the largest shard is the
// longest chain of round trips; split when it is longer than the listing
// needs anyway at this concurrency (all pages over the concurrency), and
// longer than two pages (a sub-shard round costs a round trip itself).
func SplitShard(users, totalPages, concurrency, pageSize int) bool {
	pages := (users + pageSize - 1) / pageSize
	return pages > max(2, (totalPages+concurrency-1)/max(1, concurrency))
}

// shardQueue hands out shards largest first, so the longest chains start
// earliest. The shards known from the first count round are in it from the
// start; the sub-shards of split shards join when their counts arrive
// (one producer), and pop waits for them while the queue is empty.
type shardQueue struct {
	mu    sync.Mutex
	items []shard
	more  chan struct{} // closed when the producer has pushed everything
}

func (q *shardQueue) push(ss ...shard) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items = append(q.items, ss...)
	sort.SliceStable(q.items, func(i, j int) bool { return q.items[i].count > q.items[j].count })
}

func (q *shardQueue) pop(ctx context.Context) (shard, bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			s := q.items[0]
			q.items = q.items[1:]
			q.mu.Unlock()
			return s, true
		}
		q.mu.Unlock()
		select {
		case <-q.more:
			q.mu.Lock()
			empty := len(q.items) == 0
			q.mu.Unlock()
			if empty {
				return shard{}, false
			}
		case <-ctx.Done():
			return shard{}, false
		}
	}
}

// subShards counts the sub-shards of each big shard in one round of
// concurrent requests and returns, per big shard, its non-empty
// sub-shards, or the shard itself when their counts do not add up to its
// own (a second character outside SubShardChars, or a tenant that changed
// meanwhile) or a count failed: the shard is then listed whole, which is
// always right.
func (r *run) subShards(ctx context.Context, big []shard) []shard {
	counts := make([][]int, len(big))
	errs := make([]error, len(big))
	var wg sync.WaitGroup
	for i, b := range big {
		counts[i] = make([]int, len(SubShardChars))
		for j := range len(SubShardChars) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := r.o.Client.UserCountPrefix(ctx, b.prefix+SubShardChars[j:j+1])
				if err != nil {
					errs[i] = err // any one: the shard is listed whole
				}
				counts[i][j] = n
			}()
		}
	}
	wg.Wait()
	var out []shard
	for i, b := range big {
		sum := 0
		for _, n := range counts[i] {
			sum += n
		}
		if errs[i] != nil || sum != b.count {
			if ctx.Err() == nil {
				r.o.Logger.Info("user shard listed whole", "prefix", b.prefix, "users", b.count, "in sub-shards", sum, "err", errs[i])
			}
			out = append(out, b)
			continue
		}
		for j, n := range counts[i] {
			if n > 0 {
				out = append(out, shard{b.prefix + SubShardChars[j:j+1], n})
			}
		}
	}
	return out
}

// fetchShards lists the users by shard (fetchSharded): the fetchers
// prepare their pages (inventory.PrepareUsers: the users' Licenses column
// needs the SKUs) and one goroutine stores them.
func (r *run) fetchShards(ctx context.Context, total int, shards []shard) (int, error) {
	list := func() shardLister[*inventory.UserBatch] {
		var rows userRows // this fetcher's
		return func(ctx context.Context, prefix string, put func(*inventory.UserBatch) error) error {
			return r.o.Client.UsersWithPrefix(ctx, prefix, func(page []graph.User) error {
				if err := r.waitSKUs(ctx); err != nil {
					return err
				}
				return put(r.w.PrepareUsers(rows.page(page)))
			})
		}
	}
	store := func(ctx context.Context, b *inventory.UserBatch) (int, error) {
		return b.Users(), r.w.AddUserBatch(ctx, b)
	}
	return fetchSharded(ctx, r, total, shards, r.o.Client.PageSize(), list, store, func(done int) {
		r.o.Progress(StageUsers, done, max(total, done))
	})
}

// shardLister lists one shard (a user principal name prefix), handing
// each page, prepared for storing, to put. fetchSharded makes one per
// fetcher goroutine, so what it keeps between pages is its own.
type shardLister[B any] func(ctx context.Context, prefix string, put func(B) error) error

// fetchSharded lists shards of pageSize-user pages (users, sign-in
// activity), largest first (the longest chains of pages start earliest),
// on Options.Concurrency goroutines. Shards longer than SplitShard allows
// are counted again by their first two characters while the others are
// already being listed, and listed as those sub-shards. One goroutine
// stores the pages (store returns how many users a page held), told to
// progress: pages queue two deep behind it, so memory is bounded by the
// pages in flight, not by the tenant. It returns the users stored.
func fetchSharded[B any](ctx context.Context, r *run, total int, shards []shard, pageSize int,
	newLister func() shardLister[B], store func(context.Context, B) (int, error), progress func(done int)) (int, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	size := max(1, pageSize)
	totalPages := 0
	for _, s := range shards {
		totalPages += (s.count + size - 1) / size
	}
	q := &shardQueue{more: make(chan struct{})}
	var big []shard
	for _, s := range shards {
		switch {
		case s.count == 0:
			// An empty shard costs a round trip for nothing.
		case SplitShard(s.count, totalPages, r.o.Concurrency, size):
			big = append(big, s)
		default:
			q.push(s)
		}
	}
	go func() {
		defer close(q.more)
		if len(big) > 0 {
			q.push(r.subShards(ctx, big)...)
		}
	}()
	pages := make(chan B, 2)
	stored := make(chan error, 1)
	done := 0
	go func() {
		var err error
		for page := range pages {
			if err != nil {
				continue // drain, so no fetcher blocks
			}
			var n int
			if n, err = store(ctx, page); err != nil {
				cancel(err)
				continue
			}
			done += n
			progress(done)
		}
		stored <- err
	}()
	var wg sync.WaitGroup
	var once sync.Once
	var ferr error
	for range r.o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			list := newLister()
			put := func(b B) error {
				select {
				case pages <- b:
					return nil
				case <-ctx.Done():
					return context.Cause(ctx)
				}
			}
			for {
				s, ok := q.pop(ctx)
				if !ok {
					return
				}
				if err := list(ctx, s.prefix, put); err != nil {
					once.Do(func() { ferr = err; cancel(err) })
				}
			}
		}()
	}
	wg.Wait()
	<-q.more // the producer has given up too (ctx) or pushed what no one took
	close(pages)
	if serr := <-stored; serr != nil {
		return done, serr
	}
	if ferr == nil && ctx.Err() != nil {
		ferr = context.Cause(ctx)
	}
	return done, ferr
}

// deltaBatch is how many changes an incremental run applies at once:
// each batch reads the staged users once (~0.05 s at 100,000 users), and
// the batch is held in memory meanwhile (~3 KB a user).
var deltaBatch = 5000 // a variable so a test can make batches small

// usersDelta is the users stage of an incremental run: the previous
// snapshot's users are copied (database work) while the delta round's
// pages arrive (network waits), then the changes are applied in batches.
// An expired delta link (410 syncStateNotFound) turns the stage into a
// full listing.
func (r *run) usersDelta(ctx context.Context) error {
	r.o.Progress(StageUsers, 0, 0)
	r.mode = ModeDelta
	copied := make(chan error, 1)
	go func() { copied <- r.w.BeginUserChanges(ctx, r.prev.RunID) }()
	copyDone := false
	waitCopy := func() error {
		if copyDone {
			return nil
		}
		copyDone = true
		return <-copied
	}
	// Changes by user id: the last change of a user wins.
	pending := map[string]graph.DeltaUser{}
	changes := 0
	var rows userRows
	flush := func() error {
		if err := waitCopy(); err != nil {
			return err
		}
		if err := r.waitSKUs(ctx); err != nil {
			return err
		}
		var upserts []graph.User
		var removed []string
		for id, d := range pending {
			if d.Removed != nil {
				removed = append(removed, id)
			} else {
				upserts = append(upserts, d.User)
			}
		}
		clear(pending)
		return r.w.ApplyUserChanges(ctx, rows.page(upserts), removed)
	}
	link, err := r.o.Client.UsersDelta(ctx, r.prev.UsersDeltaLink, func(page []graph.DeltaUser) error {
		for _, d := range page {
			pending[d.ID] = d
		}
		changes += len(page)
		r.o.Progress(StageUsers, changes, 0)
		if len(pending) >= deltaBatch {
			return flush()
		}
		return nil
	})
	if errors.Is(err, graph.ErrSyncStateNotFound) {
		r.o.Logger.Info("the delta link expired; reading all users", "err", err)
		if err := waitCopy(); err != nil {
			return err
		}
		if err := r.w.DiscardUsers(ctx); err != nil {
			return err
		}
		r.fullAgain = true
		return r.usersParallel(ctx)
	}
	if err != nil {
		if !copyDone {
			<-copied // the run fails: let the copy end before the writer does
		}
		return fmt.Errorf("read user changes (delta): %w", err)
	}
	if err := flush(); err != nil {
		return err
	}
	if err := r.w.EndUserChanges(ctx); err != nil {
		return err
	}
	r.deltaLink = link
	n := r.w.Counts().Users
	r.o.Progress(StageUsers, n, n)
	return nil
}

// copyReports is the reports stage of an incremental run whose previous
// download is recent enough: the snapshot shows those rows.
func (r *run) copyReports(ctx context.Context) error {
	if err := r.w.ShareReports(ctx, r.prev.RunID); err != nil {
		return err
	}
	c := r.w.Counts()
	for _, k := range inventory.ReportKinds {
		r.o.Progress(reportStage[k], c.ReportRows(k), c.ReportRows(k))
	}
	return nil
}
