package inventory

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The Users page searches as the administrator types (issue 21). In SQL
// every keystroke is a scan of the snapshot's users, and the count cannot
// stop early: up to 140 ms at 100,000 users and 0.8 s at 1,000,000 (several
// seconds on a busy machine). So the window keeps the searched text of one snapshot's
// users in memory (PrepareUserSearch), where a substring scan of all of
// them takes tens of milliseconds, and reads from the database only the
// rows of the page shown. Results are exactly the SQL path's: the same
// rows (usersWhere's search: the search column, or a licence whose label
// matches), in the same natural order, hence the same counts.

// userIndex is one snapshot's users as a search sees them.
type userIndex struct {
	run    int64
	connID string
	rowids []int64 // in the natural order (rowid)
	// text holds each user's search column followed by a NUL; starts[i]
	// is where user i's begins (starts[len(rowids)] is len(text)).
	text   []byte
	starts []uint32
	// freq counts the bytes of text: a scan looks for the needle's
	// rarest byte.
	freq [256]int
	// lic is each user's licences as usersWhere matches them,
	// "+"+lower(licenses)+"+"; skus their assigned SKU ids as skuWhere
	// matches them, "+"+id+"+"+id+"+" (lower case). Users share a few
	// combinations of licences, so each is held once.
	lic, skus combos
	// byName and byNameDesc are the users (indices) in the page's
	// default order, by display name (name_key, ties by rowid), up and
	// down (ORDER BY name_key DESC, rowid: ties still by rowid up).
	byName, byNameDesc []int32

	mu   sync.Mutex
	last *searchHit // the last search, which the count and the page share
}

// searchHit is a search's matching users: indices into rowids, and the
// same as a bit set (unchanged once made).
type searchHit struct {
	key    string
	hits   []int32
	marked []uint64
}

// userSearch is the Store's index: the one ready and the one being built.
type userSearch struct {
	mu       sync.Mutex
	ready    *userIndex
	building int64 // the run being built; 0 when none
}

// maxSortedIDs bounds the matches of a sorted search that the database
// sorts by their rowids; a broader sorted search is read in SQL as
// without the index (it sorts most of the snapshot either way).
const maxSortedIDs = 20000

// PrepareUserSearch builds, in the background, the in-memory index of the
// users of connID's current snapshot that CountUsers and EachUser then
// search (the Users page calls it when shown). Until it is ready, and for
// other snapshots, they search in SQL. One snapshot is indexed at a time
// (141 MB at 1,000,000 users): building another drops the one before.
func (s *Store) PrepareUserSearch(connID string) {
	run, err := s.snapshotRun(context.Background(), connID, Query{})
	if err != nil {
		return
	}
	s.search.mu.Lock()
	if (s.search.ready != nil && s.search.ready.run == run) || s.search.building == run {
		s.search.mu.Unlock()
		return
	}
	s.search.building = run
	s.search.ready = nil
	s.search.mu.Unlock()
	go func() {
		x, err := s.buildUserIndex(context.Background(), run)
		s.search.mu.Lock()
		defer s.search.mu.Unlock()
		if s.search.building == run {
			s.search.building = 0
		}
		if err == nil {
			x.connID = connID
			s.search.ready = x
		}
	}()
}

// UserSearchReady says whether searches of connID's current snapshot are
// answered from memory.
func (s *Store) UserSearchReady(ctx context.Context, connID string) bool {
	run, err := s.snapshotRun(ctx, connID, Query{})
	return err == nil && s.userIndexOf(run) != nil
}

// UserSearchIndexed says, without reading the database, whether a
// snapshot of connID is indexed: the current one unless an import ended
// since (the window then searches without pausing for typing).
func (s *Store) UserSearchIndexed(connID string) bool {
	s.search.mu.Lock()
	defer s.search.mu.Unlock()
	return s.search.ready != nil && s.search.ready.connID == connID
}

func (s *Store) userIndexOf(run int64) *userIndex {
	s.search.mu.Lock()
	defer s.search.mu.Unlock()
	if x := s.search.ready; x != nil && x.run == run {
		return x
	}
	return nil
}

// buildUserIndex reads a snapshot's users' search text.
func (s *Store) buildUserIndex(ctx context.Context, run int64) (*userIndex, error) {
	w, args, err := s.usersWhere(ctx, run, Query{}, true)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, "SELECT rowid, search, licenses, name_key, assigned_licenses FROM users"+w+" ORDER BY rowid", args...)
	if err != nil {
		return nil, fmt.Errorf("read the users' search text: %w", err)
	}
	defer rows.Close()
	x := &userIndex{run: run}
	var id int64
	var text, lic, assigned, buf []byte
	var names []string
	var name string
	for rows.Next() {
		if err := rows.Scan(&id, &text, &lic, &name, &assigned); err != nil {
			return nil, fmt.Errorf("read the users' search text: %w", err)
		}
		if len(x.text)+len(text)+1 > math.MaxUint32 {
			return nil, fmt.Errorf("the users' search text of run %d is too large to hold in memory", run)
		}
		x.rowids = append(x.rowids, id)
		names = append(names, name)
		x.starts = append(x.starts, uint32(len(x.text)))
		x.text = append(appendSegments(x.text, text), 0)
		buf = append(append(append(buf[:0], '+'), bytes.ToLower(lic)...), '+')
		x.lic.add(buf)
		x.skus.add(appendSkuIDs(append(buf[:0], '+'), assigned))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the users' search text: %w", err)
	}
	x.starts = append(x.starts, uint32(len(x.text)))
	for _, c := range x.text {
		x.freq[c]++
	}
	x.lic.index, x.skus.index = nil, nil
	x.byName, x.byNameDesc = nameOrders(names)
	return x, nil
}

// appendSegments appends text's lines to dst without those repeating an
// earlier one (the mail is most often the UPN): a search without a line
// break matches within one line, so the same users match, in a fifth less
// memory.
func appendSegments(dst, text []byte) []byte {
	start := len(dst)
	for line := range bytes.SplitSeq(text, []byte{'\n'}) {
		if len(line) == 0 || hasLine(dst[start:], line) {
			continue
		}
		if len(dst) > start {
			dst = append(dst, '\n')
		}
		dst = append(dst, line...)
	}
	return dst
}

// hasLine says whether one of the lines of text is line.
func hasLine(text, line []byte) bool {
	for l := range bytes.SplitSeq(text, []byte{'\n'}) {
		if bytes.Equal(l, line) {
			return true
		}
	}
	return false
}

// bytes is about the memory x holds.
func (x *userIndex) bytes() int {
	n := len(x.text) + 8*len(x.rowids) + 4*(len(x.starts)+len(x.lic.of)+len(x.skus.of)+len(x.byName)+len(x.byNameDesc))
	for _, c := range []*combos{&x.lic, &x.skus} {
		for _, t := range c.texts {
			n += len(t)
		}
	}
	return n
}

// appendSkuIDs appends, each followed by "+", the values skuWhere's
// instr can find in a user's assigned_licenses JSON: each skuId
// (eachSkuID) lower-cased as SQLite's lower does, ASCII only.
func appendSkuIDs(dst, assigned []byte) []byte {
	for id := range eachSkuID(assigned) {
		start := len(dst)
		dst = append(dst, id...)
		for i, c := range dst[start:] {
			if 'A' <= c && c <= 'Z' {
				dst[start+i] = c + 'a' - 'A'
			}
		}
		dst = append(dst, '+')
	}
	return dst
}

// nameOrders sorts users by name_key as both stores compare it (bytes:
// SQLite's BINARY, PostgreSQL's "C"), ties in natural order, and gives
// that order and the descending one.
func nameOrders(names []string) (up, down []int32) {
	up = make([]int32, len(names))
	for i := range up {
		up[i] = int32(i)
	}
	slices.SortStableFunc(up, func(a, b int32) int { return strings.Compare(names[a], names[b]) })
	// Down: the groups of equal names in reverse, each still in natural
	// order.
	down = make([]int32, 0, len(names))
	for end := len(up); end > 0; {
		start := end - 1
		for start > 0 && names[up[start-1]] == names[up[end-1]] {
			start--
		}
		down = append(down, up[start:end]...)
		end = start
	}
	return up, down
}

// searchUsers is the users q selects in run, from the index (h nil: all
// of them); ok is false when the index cannot answer (not ready for run,
// a text with a line break or a SKU id it cannot match as SQL does).
func (s *Store) searchUsers(ctx context.Context, run int64, q Query) (x *userIndex, h *searchHit, ok bool, err error) {
	x = s.userIndexOf(run)
	text := strings.ToLower(strings.TrimSpace(q.Search))
	sku := strings.ToLower(q.SKU)
	if x == nil || strings.ContainsAny(text, "\x00\n") || strings.ContainsAny(sku, "+\"\x00") || !isASCII(sku) {
		return nil, nil, false, nil
	}
	if text == "" && sku == "" {
		return x, nil, true, nil
	}
	// The licences whose label contains the text, as usersWhere finds
	// them.
	var needles []string
	if q.LicenseLabel != nil {
		tokens, err := s.licenseTokens(ctx, run, q)
		if err != nil {
			return nil, nil, false, err
		}
		for _, t := range tokens {
			if strings.Contains(t[1], text) && !strings.Contains(t[0], text) {
				needles = append(needles, "+"+t[0]+"+")
			}
		}
	}
	key := sku + "\x00" + text + "\x00" + strings.Join(needles, "\x00")
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.last != nil && x.last.key == key {
		return x, x.last, true, nil
	}
	h = &searchHit{key: key, marked: make([]uint64, (len(x.rowids)+63)/64)}
	if text != "" {
		x.scanText([]byte(text), h.marked)
		for _, n := range needles {
			x.lic.mark([]byte(n), h.marked)
		}
	}
	if sku != "" {
		holders := make([]uint64, len(h.marked))
		x.skus.mark([]byte("+"+sku+"+"), holders)
		for i := range holders {
			if text != "" {
				holders[i] &= h.marked[i]
			}
		}
		h.marked = holders
	}
	h.hits = make([]int32, 0, 64)
	for w, word := range h.marked {
		for ; word != 0; word &= word - 1 {
			h.hits = append(h.hits, int32(w*64+bits.TrailingZeros64(word)))
		}
	}
	x.last = h
	return x, h, true, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// scanText marks the users whose text contains needle, which holds no
// NUL or line break: one pass over the text, looking for the needle's
// rarest byte (a vectorised byte search) and comparing the needle around
// it, and skipping to the next user after a match.
func (x *userIndex) scanText(needle []byte, marked []uint64) {
	r := 0 // the needle's rarest byte
	for j, c := range needle {
		if x.freq[c] < x.freq[needle[r]] {
			r = j
		}
	}
	c := needle[r]
	i, p := 0, r // the next occurrence of c from p may end a match
	for p < len(x.text) {
		k := bytes.IndexByte(x.text[p:], c)
		if k < 0 {
			return
		}
		at := p + k - r // where the match would start
		if at+len(needle) > len(x.text) || !bytes.Equal(x.text[at:at+len(needle)], needle) {
			p += k + 1
			continue
		}
		for int(x.starts[i+1]) <= at {
			i++
		}
		marked[i/64] |= 1 << (i % 64)
		p = int(x.starts[i+1]) + r
	}
}

// combos holds one text per user, each distinct text once.
type combos struct {
	of    []uint32 // each user's text, an index into texts
	texts []string
	index map[string]uint32 // while building
}

func (c *combos) add(text []byte) {
	if c.index == nil {
		c.index = map[string]uint32{}
	}
	k, ok := c.index[string(text)]
	if !ok {
		k = uint32(len(c.texts))
		c.texts = append(c.texts, string(text))
		c.index[string(text)] = k
	}
	c.of = append(c.of, k)
}

// mark marks the users whose text contains needle.
func (c *combos) mark(needle []byte, marked []uint64) {
	hit := make([]bool, len(c.texts))
	some := false
	for k, t := range c.texts {
		hit[k] = strings.Contains(t, string(needle))
		some = some || hit[k]
	}
	if !some {
		return
	}
	for i, k := range c.of {
		if hit[k] {
			marked[i/64] |= 1 << (i % 64)
		}
	}
}

// indexedCount is CountUsers from the index; ok is false when it cannot
// answer.
func (s *Store) indexedCount(ctx context.Context, run int64, q Query) (int, bool, error) {
	x, h, ok, err := s.searchUsers(ctx, run, q)
	if !ok || err != nil {
		return 0, ok, err
	}
	if h == nil {
		return len(x.rowids), true, nil
	}
	return len(h.hits), true, nil
}

// indexedPageSQL is pageSQL for the users from the index: the page's
// rows by their rowids. ok is false when the index cannot answer (or
// the SQL path is as cheap: every row from an offset, for an export).
func (s *Store) indexedPageSQL(ctx context.Context, sel string, cols []Column, run int64, q Query) (string, bool, error) {
	if q.Limit <= 0 {
		return "", false, nil
	}
	x, h, ok, err := s.searchUsers(ctx, run, q)
	if !ok || err != nil {
		return "", false, err
	}
	order, err := orderBy(cols, q, "rowid")
	if err != nil {
		return "", false, err
	}
	// match says whether user i is selected; n is how many are.
	match := func(i int32) bool { return h == nil || h.marked[i/64]&(1<<(i%64)) != 0 }
	n := len(x.rowids)
	if h != nil {
		n = len(h.hits)
	}
	var ids []int64
	tail := ""
	switch {
	case q.Sort == "" || strings.EqualFold(q.Sort, "displayName"):
		// An order the index holds: walk it up to the page's end.
		from, to := min(max(q.Offset, 0), n), min(max(q.Offset, 0)+q.Limit, n)
		switch {
		case q.Sort != "":
			perm := x.byName
			if q.Desc {
				perm = x.byNameDesc
			}
			for k, j := 0, 0; k < to; j++ {
				if i := perm[j]; match(i) {
					if k >= from {
						ids = append(ids, x.rowids[i])
					}
					k++
				}
			}
		case h == nil:
			ids = x.rowids[from:to]
		default:
			for _, i := range h.hits[from:to] {
				ids = append(ids, x.rowids[i])
			}
		}
	case h == nil || n > maxSortedIDs:
		// Another order of many rows: the database sorts them, as
		// without the index.
		return "", false, nil
	default:
		// A few matches in another order: the database sorts them.
		for _, i := range h.hits {
			ids = append(ids, x.rowids[i])
		}
		tail = limit(q)
	}
	var b strings.Builder
	b.WriteString("SELECT " + sel + " FROM users WHERE rowid IN (")
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	if len(ids) == 0 {
		b.WriteString("NULL")
	}
	b.WriteString(")" + order + tail)
	return b.String(), true, nil
}
