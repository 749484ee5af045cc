package pagedecode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/maphash"
	"io"
	"math/bits"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/inventorybeacon/beacon/connector/graph/wire"
)

// Users pages are most of an import's decoding work: the generic JSON v2
// path (Stream) still spent about 9 µs and 10 allocations per
// user. DecodeUsers reads the page body into a pooled buffer and scans
// it by hand into []wire.User or []wire.DeltaUser, with the same results as
// Stream, which stays the reference:
//
//   - Anything the scanner does not handle itself (bytes that are not
//     UTF-8, an object with more than maxUnknownNames unknown members,
//     values nested deeper than maxSkipDepth, a link that is an object or
//     an array) makes it hand the page to Stream.
//   - Any error makes it hand the page to Stream too, so errors
//     (and their wording) are the reference's, a user that does not fit
//     wire.User is left out (Skipped) by the reference alone, and a
//     scanner that is too strict costs time, never a page.
//   - A body that fails to read, or is larger than maxFastBody, is decoded
//     by Stream as a stream, as before.
//
// The scanner checks what jsontext checks (grammar, escapes, duplicate
// member names in every object, including skipped ones) and decodes the
// members as JSON v2 does (exact, case-sensitive names, escaped or not;
// null leaves a member zero; [] is an empty, non-nil slice; a lone
// surrogate escape is U+FFFD, as the reference reads it with
// AllowInvalidUTF8). Like the reference, it reads nothing after the page's closing
// brace.
//
// Allocation: a user's own strings (id, userPrincipalName, displayName,
// mail) share one allocation; repeated strings (plans' services, ids and
// statuses, SKU ids, departments, user types, assignment states' groups
// and states...) are shared within the page; plans, licenses, disabled
// plans and licence assignment states are cut from per-page slabs, with their
// capacity capped so an append by a consumer never writes into a
// neighbour. Users whose assignedPlans arrays are byte for byte the same
// (the same licenses assigned the same day) share one slice, kept across
// pages in a bounded cache (planCache, assignedPlans); consumers must not
// write into a user's AssignedPlans in place.
//
// The pools, page buffers and plan cache belong to one UsersScanner (the
// Graph client holds one), never to the package: two imports running at
// once share nothing, and what a scanner kept goes with it.

const (
	maxFastBody      = 64 << 20 // larger bodies are streamed by the reference
	maxPooledBody    = 16 << 20 // larger buffers are not kept in the pool
	maxUnknownNames  = 64       // per object, for the duplicate check
	maxSkipDepth     = 512      // jsontext's own limit is 10,000
	maxPlanCacheSlot = 256
	maxInterned      = 4096 // as interner: a hostile page cannot grow it without limit
)

// UserItem is what DecodeUsers decodes: a users page or a users delta
// page.
type UserItem interface {
	wire.User | wire.DeltaUser
}

// errFallback: the scanner leaves the page to the reference decoder.
var errFallback = errors.New("pagedecode: the page needs the reference decoder")

// fastError is a syntax or type error the scanner met (callers see the
// reference decoder's error instead).
type fastError struct {
	off int
	msg string
}

func (e *fastError) Error() string { return "offset " + strconv.Itoa(e.off) + ": " + e.msg }

var (
	emptyPlans    = []wire.AssignedPlan{}
	emptyLicenses = []wire.AssignedLicense{}
	emptyStrings  = []string{}
	emptyStates   = []wire.LicenseAssignmentState{}
)

// planSlot remembers the strings of the n-th plan of the last user: users
// with the same licenses list the same plans in the same order.
type planSlot struct{ status, service, planID string }

// stateSlot remembers the strings of the n-th licence assignment state of
// the last user: users with the same licences from the same groups list
// the same states.
type stateSlot struct{ sku, group, state, err string }

// packRef is a user string waiting for the user's shared allocation.
type packRef struct {
	dst        *string
	start, end int
}

type usersDecoder struct {
	s    *UsersScanner
	body []byte // the page (pooled)
	data []byte // what is scanned (body, or a test's input)
	pos  int

	in       map[string]string // interned strings of the page
	str      []byte            // unescaped string scratch
	nameBuf  []byte            // unescaped member name scratch (name)
	pack     []byte            // the current user's own strings
	refs     [8]packRef
	nrefs    int
	names    []byte  // names of unknown members of the open objects
	nameEnd  []int32 // end offsets in names
	slots    []planSlot
	skuSlots []string
	stSlots  []stateSlot
	last     [4]string // usageLocation, department, jobTitle, userType
	lastDate [20]byte
	lastTime time.Time

	planTmp []wire.AssignedPlan
	licTmp  []wire.AssignedLicense
	strTmp  []string
	stTmp   []wire.LicenseAssignmentState
	plans   []wire.AssignedPlan // slabs of the page
	lics    []wire.AssignedLicense
	strs    []string
	states  []wire.LicenseAssignmentState
}

// UsersScanner decodes users pages (DecodeUsers). It is safe for
// concurrent use: the Graph client's shards decode their pages through
// one scanner, whose plan cache they share. Its memory (tens of megabytes
// at most: page buffers and the plan cache) is released with it.
type UsersScanner struct {
	decoders sync.Pool // *usersDecoder
	// bodies keeps page buffers across garbage collections, which empty
	// a sync.Pool: an import collects garbage every few pages, and
	// regrowing a 2.5 MB page buffer from 64 kB allocated 237 MB per
	// 100,000 users.
	bodies chan []byte
	// pageBytes is the largest users page read so far (up to
	// maxPooledBody): a new buffer starts at that size instead of growing
	// to it by doubling.
	pageBytes atomic.Int64
	plans     planCache
}

// DefaultPlanCacheBytes bounds a scanner's plan cache unless told
// otherwise. Measured on the 20 pages of a 20,000-user simulated tenant
// (BenchmarkDecodeSimulatorPages), the share of users whose plans came
// from the cache was 44% at 4 MB, 55% at 8 MB, 62% at 16 MB and 63% at 32
// MB, about all there is to take: 9% of the users have no plans, 19% have
// an array seen for the first time, and an array is cached at its second
// sighting (8%).
const DefaultPlanCacheBytes = 16 << 20

// NewUsersScanner returns a scanner that keeps up to pages page buffers
// (as many as its client holds pages at once: graph.Options.PagesInMemory)
// and a plan cache of up to planCacheBytes (0: DefaultPlanCacheBytes;
// negative: no plan cache, every array is decoded).
func NewUsersScanner(pages, planCacheBytes int) *UsersScanner {
	s := &UsersScanner{bodies: make(chan []byte, max(1, pages))}
	switch {
	case planCacheBytes == 0:
		s.plans.maxBytes = DefaultPlanCacheBytes
	case planCacheBytes < 0:
		s.plans.off = true
	default:
		s.plans.maxBytes = planCacheBytes
	}
	s.plans.seed = maphash.MakeSeed()
	s.decoders.New = func() any { return &usersDecoder{s: s, in: make(map[string]string)} }
	return s
}

// Release gives back what the scanner keeps for pages to come: its page
// buffers and its plan cache. An import calls it once the users are
// listed: at 1,000,000 users they were some 40 MB held through the rest
// of the run (the reports, Finish), where the live heap stood within a
// few megabytes of the soft memory limit and the collector ran back to
// back. The scanner stays usable; a later page starts them again.
func (s *UsersScanner) Release() {
	for {
		select {
		case <-s.bodies:
			continue
		default:
		}
		break
	}
	s.plans.clear()
}

// Kept is what the scanner holds for pages to come: page buffers and
// cached assignedPlans arrays (Release gives both back). Tests of an
// import read it to see that the import released them.
func (s *UsersScanner) Kept() (pageBuffers, cachedArrays int) {
	for i := range s.plans.shards {
		sh := &s.plans.shards[i]
		sh.mu.Lock()
		cachedArrays += len(sh.cur) + len(sh.old) + len(sh.seen)
		sh.mu.Unlock()
	}
	return len(s.bodies), cachedArrays
}

func (s *UsersScanner) decoder() *usersDecoder { return s.decoders.Get().(*usersDecoder) }

// release forgets the page (nothing of it stays reachable from the pool)
// and returns d to the pool.
func (d *usersDecoder) release() {
	clear(d.in)
	clear(d.slots)
	clear(d.skuSlots)
	clear(d.stSlots)
	d.slots, d.skuSlots, d.stSlots = d.slots[:0], d.skuSlots[:0], d.stSlots[:0]
	d.last = [4]string{}
	d.lastDate = [20]byte{}
	clear(d.planTmp[:cap(d.planTmp)])
	clear(d.licTmp[:cap(d.licTmp)])
	clear(d.strTmp[:cap(d.strTmp)])
	clear(d.stTmp[:cap(d.stTmp)])
	d.plans, d.lics, d.strs, d.states = nil, nil, nil, nil
	d.data = nil
	d.refs = [8]packRef{}
	if cap(d.body) <= maxPooledBody {
		select {
		case d.s.bodies <- d.body[:0]:
		default:
		}
	}
	d.body = nil
	d.s.decoders.Put(d)
}

// errReader replays a read error after the bytes read before it.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// DecodeUsers decodes one users or users/delta page from r into buf
// (reset to length 0) with s, and returns the page's nextLink and
// deltaLink: what Stream returns for the same bytes, errors included. The
// page is only complete when err is nil. buf's elements are overwritten;
// their strings and slices are fresh for every page, except AssignedPlans,
// which users with identical arrays share (read-only). Users that do not
// fit wire.User are left out and returned as Skipped.
func DecodeUsers[T UserItem](s *UsersScanner, r io.Reader, buf []T) ([]T, string, string, []Skipped, error) {
	d := s.decoder()
	defer d.release()
	if d.body == nil {
		select {
		case d.body = <-s.bodies:
		default:
		}
		// A buffer smaller than a full page would grow by doubling (the
		// copies are garbage), and a small one from a shard's last page
		// would keep circulating: start at a full page's size instead.
		if n := s.pageBytes.Load(); int64(cap(d.body)) < n {
			d.body = make([]byte, 0, n+n/8)
		}
	}
	body, more, rerr := readBody(r, d.body[:0], maxFastBody)
	d.body = body
	if n := int64(len(body)); n <= maxPooledBody && n > s.pageBytes.Load() {
		s.pageBytes.Store(n) // racing stores may keep a smaller size: only a hint
	}
	switch {
	case rerr != nil:
		// Decode what arrived as the stream would have: a page complete
		// before the failure still counts, as before.
		return Stream(io.MultiReader(bytes.NewReader(body), errReader{rerr}), buf)
	case more:
		return Stream(io.MultiReader(bytes.NewReader(body), r), buf)
	}
	out, next, delta, err := scanUsersPage(d, body, buf)
	if err != nil {
		return Stream(bytes.NewReader(body), buf)
	}
	return out, next, delta, nil, nil
}

// readBody appends r's bytes to b until EOF, a read error or limit bytes
// (more: the body goes on).
func readBody(r io.Reader, b []byte, limit int) (_ []byte, more bool, _ error) {
	if cap(b) == 0 {
		b = make([]byte, 0, 64<<10)
	}
	for {
		if len(b) == cap(b) {
			if len(b) >= limit {
				return b, true, nil
			}
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, false, nil
		}
		if err != nil {
			return b, false, err
		}
	}
}

// scanUsersPage decodes a page held in memory. Errors (errFallback
// included) leave the page to the reference decoder.
func scanUsersPage[T UserItem](d *usersDecoder, data []byte, buf []T) ([]T, string, string, error) {
	buf = buf[:0]
	d.data, d.pos = data, 0
	d.names, d.nameEnd = d.names[:0], d.nameEnd[:0]
	d.plans, d.lics, d.strs, d.states = nil, nil, nil, nil
	var next, delta string
	if d.next() != '{' {
		return buf, "", "", d.fail("want a page object")
	}
	d.pos++
	const (
		seenValue = 1 << iota
		seenNext
		seenDelta
	)
	seen := 0
	c := d.next()
	if c == '}' {
		d.pos++
		return buf, "", "", nil
	}
	for {
		if c != '"' {
			return buf, "", "", d.fail("want a member name")
		}
		name, err := d.name()
		if err != nil {
			return buf, "", "", err
		}
		switch string(name) {
		case "value":
			if seen&seenValue != 0 {
				return buf, "", "", d.fail("duplicate value")
			}
			seen |= seenValue
			if d.next() != '[' {
				return buf, "", "", d.fail("value is not an array")
			}
			d.pos++
			c = d.next()
			if c == ']' {
				d.pos++
				break
			}
			for {
				var zero T
				buf = append(buf, zero)
				if err := decodeUserItem(d, &buf[len(buf)-1]); err != nil {
					return buf, "", "", err
				}
				c = d.next()
				if c == ',' {
					d.pos++
					continue
				}
				if c == ']' {
					d.pos++
					break
				}
				return buf, "", "", d.fail("want , or ] after a user")
			}
		case "@odata.nextLink", "@odata.deltaLink":
			bit, dst := seenNext, &next
			if string(name) == "@odata.deltaLink" {
				bit, dst = seenDelta, &delta
			}
			if seen&bit != 0 {
				return buf, "", "", d.fail("duplicate link")
			}
			seen |= bit
			switch d.next() {
			case '"':
				s, err := d.str1()
				if err != nil {
					return buf, "", "", err
				}
				*dst = string(s)
			case '{', '[':
				// The reference reads the link as one token and goes on
				// inside the object or array: leave that to it.
				return buf, "", "", errFallback
			default:
				if err := d.skip(0); err != nil { // a scalar: ignored
					return buf, "", "", err
				}
			}
		default:
			if err := d.addName(0, name); err != nil {
				return buf, "", "", err
			}
			if err := d.skip(0); err != nil {
				return buf, "", "", err
			}
		}
		c = d.next()
		if c == ',' {
			d.pos++
			c = d.next()
			continue
		}
		if c == '}' {
			d.pos++ // nothing after the page is read, as by the reference
			return buf, next, delta, nil
		}
		return buf, "", "", d.fail("want , or } in the page object")
	}
}

func decodeUserItem[T UserItem](d *usersDecoder, e *T) error {
	switch p := any(e).(type) {
	case *wire.User:
		return d.user(p, nil)
	case *wire.DeltaUser:
		return d.user(&p.User, &p.Removed)
	}
	panic("unreachable")
}

func (d *usersDecoder) fail(msg string) error { return &fastError{d.pos, msg} }

// next skips whitespace and returns the next byte (0 at the end).
func (d *usersDecoder) next() byte {
	if d.pos < len(d.data) {
		if c := d.data[d.pos]; c > ' ' {
			return c
		}
	}
	return d.nextSlow()
}

func (d *usersDecoder) nextSlow() byte {
	for d.pos < len(d.data) {
		switch c := d.data[d.pos]; c {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return c
		}
	}
	return 0
}

// strPlain marks bytes that need no attention inside a string.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainRun returns the index of the first byte from i on that needs
// attention in a string ('"', '\\', a control character or non-ASCII), or
// len(data), testing eight bytes at a time.
func plainRun(data []byte, i int) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for i+8 <= len(data) {
		x := binary.LittleEndian.Uint64(data[i:])
		m := (x - 0x20*lo) &^ x // a byte < 0x20
		q := x ^ '"'*lo
		m |= (q - lo) &^ q
		b := x ^ '\\'*lo
		m |= (b - lo) &^ b
		// A borrow can only mark bytes above the first true one.
		if m = (m | x) & hi; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i < len(data) && strPlain[data[i]] {
		i++
	}
	return i
}

// str1 reads the string at d.pos ('"'): its unescaped bytes, either part of
// the page or d.str (valid until the next call).
func (d *usersDecoder) str1() ([]byte, error) {
	data := d.data
	i := d.pos + 1
	start := i
	for {
		i = plainRun(data, i)
		if i >= len(data) {
			d.pos = i
			return nil, d.fail("unterminated string")
		}
		switch c := data[i]; {
		case c == '"':
			d.pos = i + 1
			return data[start:i], nil
		case c == '\\':
			d.str = append(d.str[:0], data[start:i]...)
			d.pos = i
			return d.strEscaped()
		case c < 0x20:
			d.pos = i
			return nil, d.fail("control character in a string")
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				// The reference reads it as U+FFFD.
				return nil, errFallback
			}
			i += size
		}
	}
}

// strEscaped goes on with str1 from an escape at d.pos, unescaping into
// d.str.
func (d *usersDecoder) strEscaped() ([]byte, error) {
	var err error
	d.str, err = d.unescape(d.str)
	if err != nil {
		return nil, err
	}
	return d.str, nil
}

// unescape appends the rest of the string from an escape at d.pos to dst,
// unescaped, and leaves d.pos after the closing quote. A lone surrogate
// escape becomes U+FFFD and the escape after it is read on its own, as
// jsontext does with AllowInvalidUTF8 (and encoding/json always).
func (d *usersDecoder) unescape(dst []byte) ([]byte, error) {
	data := d.data
	i := d.pos
	for {
		start := i
		for i < len(data) && strPlain[data[i]] {
			i++
		}
		dst = append(dst, data[start:i]...)
		if i >= len(data) {
			d.pos = i
			return dst, d.fail("unterminated string")
		}
		c := data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return dst, nil
		case c < 0x20:
			d.pos = i
			return dst, d.fail("control character in a string")
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				return dst, errFallback // the reference reads it as U+FFFD
			}
			dst = append(dst, data[i:i+size]...)
			i += size
			continue
		}
		// c == '\\'
		if i+1 >= len(data) {
			d.pos = i
			return dst, d.fail("unterminated escape")
		}
		switch data[i+1] {
		case '"', '\\', '/':
			dst = append(dst, data[i+1])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(data, i+2)
			if !ok {
				d.pos = i
				return dst, d.fail("invalid \\u escape")
			}
			i += 6
			if utf16IsSurrogate(r) {
				// A pair only if a low half follows at once; otherwise
				// U+FFFD, and what follows is read as itself.
				lo, ok := rune(0), false
				if r < 0xdc00 && i+1 < len(data) && data[i] == '\\' && data[i+1] == 'u' {
					lo, ok = hex4(data, i+2)
				}
				if ok && 0xdc00 <= lo && lo <= 0xdfff {
					r = 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00)
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default:
			d.pos = i
			return dst, d.fail("invalid escape")
		}
		i += 2
	}
}

func utf16IsSurrogate(r rune) bool { return 0xd800 <= r && r < 0xe000 }

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// name reads a member name and its colon. A name with an escape
// ("sku\u0049d") is unescaped into d.nameBuf, valid until the next name:
// callers compare it or record it (addName) before reading another.
func (d *usersDecoder) name() ([]byte, error) {
	data := d.data
	i := d.pos + 1
	start := i
	for {
		i = plainRun(data, i)
		if i >= len(data) {
			d.pos = i
			return nil, d.fail("unterminated name")
		}
		c := data[i]
		if c == '"' {
			break
		}
		if c == '\\' {
			return d.nameEscaped(start, i)
		}
		if c < 0x20 {
			d.pos = i
			return nil, d.fail("control character in a name")
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return nil, errFallback // the reference reads it as U+FFFD
		}
		i += size
	}
	name := data[start:i]
	d.pos = i + 1
	if d.next() != ':' { // not d.colon(): this is the hot path
		return nil, d.fail("want : after a name")
	}
	d.pos++
	return name, nil
}

// nameEscaped goes on with name from the escape at i (the name's bytes
// start at start).
func (d *usersDecoder) nameEscaped(start, i int) ([]byte, error) {
	d.pos = i
	var err error
	d.nameBuf, err = d.unescape(append(d.nameBuf[:0], d.data[start:i]...))
	if err != nil {
		return nil, err
	}
	return d.nameBuf, d.colon()
}

// colon reads the ':' after a member name.
func (d *usersDecoder) colon() error {
	if d.next() != ':' {
		return d.fail("want : after a name")
	}
	d.pos++
	return nil
}

// addName records the name of an unknown member of the object whose
// names start at index frame, failing on a duplicate (jsontext rejects
// them in every object).
func (d *usersDecoder) addName(frame int, name []byte) error {
	if len(d.nameEnd)-frame >= maxUnknownNames {
		return errFallback
	}
	start := 0
	if frame > 0 {
		start = int(d.nameEnd[frame-1])
	}
	for _, end := range d.nameEnd[frame:] {
		if string(d.names[start:end]) == string(name) {
			return d.fail("duplicate member name")
		}
		start = int(end)
	}
	d.names = append(d.names, name...)
	d.nameEnd = append(d.nameEnd, int32(len(d.names)))
	return nil
}

// dropNames forgets the names of a finished object.
func (d *usersDecoder) dropNames(frame int) {
	if frame == 0 {
		d.names = d.names[:0]
	} else {
		d.names = d.names[:d.nameEnd[frame-1]]
	}
	d.nameEnd = d.nameEnd[:frame]
}

// literal reads true, false or null at d.pos.
func (d *usersDecoder) literal(lit string) error {
	if !bytes.HasPrefix(d.data[d.pos:], []byte(lit)) {
		return d.fail("invalid literal")
	}
	d.pos += len(lit)
	return nil
}

// number checks a JSON number at d.pos.
func (d *usersDecoder) number() error {
	data, i := d.data, d.pos
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
	default:
		d.pos = i
		return d.fail("invalid number")
	}
	if i < len(data) && data[i] == '.' {
		i++
		n := i
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
		if i == n {
			d.pos = i
			return d.fail("invalid number")
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		n := i
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
		if i == n {
			d.pos = i
			return d.fail("invalid number")
		}
	}
	d.pos = i
	return nil
}

// skip checks and skips one value.
func (d *usersDecoder) skip(depth int) error {
	switch c := d.next(); c {
	case '"':
		_, err := d.str1()
		return err
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	case '{':
		if depth >= maxSkipDepth {
			return errFallback
		}
		return d.object("want an object", "want , or }", func(name []byte, frame int) error {
			if err := d.addName(frame, name); err != nil {
				return err
			}
			return d.skip(depth + 1)
		})
	case '[':
		if depth >= maxSkipDepth {
			return errFallback
		}
		d.pos++
		if d.next() == ']' {
			d.pos++
			return nil
		}
		for {
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			c = d.next()
			if c == ',' {
				d.pos++
				continue
			}
			if c == ']' {
				d.pos++
				return nil
			}
			return d.fail("want , or ]")
		}
	default:
		if c == '-' || '0' <= c && c <= '9' {
			return d.number()
		}
		return d.fail("want a value")
	}
}

// null reads a null if one is next.
func (d *usersDecoder) null() (bool, error) {
	if d.next() != 'n' {
		return false, nil
	}
	return true, d.literal("null")
}

// strOrNull reads a string or null (nil, ok) value, as JSON v2 and
// interner.str accept them for a string.
func (d *usersDecoder) strOrNull() ([]byte, error) {
	switch d.next() {
	case '"':
		return d.str1()
	case 'n':
		return nil, d.literal("null")
	}
	return nil, d.fail("want a string")
}

// intern shares b's string within the page.
func (d *usersDecoder) intern(b []byte) string {
	if s, ok := d.in[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(d.in) < maxInterned {
		d.in[s] = s
	}
	return s
}

// internAt is intern with a one-string cache in front.
func (d *usersDecoder) internAt(b []byte, slot *string) string {
	if string(b) == *slot {
		return *slot
	}
	s := d.intern(b)
	*slot = s
	return s
}

// own queues b as one of the user's own strings (see flush).
func (d *usersDecoder) own(b []byte, dst *string) {
	if len(b) == 0 {
		*dst = ""
		return
	}
	if d.nrefs == len(d.refs) {
		*dst = string(b)
		return
	}
	start := len(d.pack)
	d.pack = append(d.pack, b...)
	d.refs[d.nrefs] = packRef{dst, start, len(d.pack)}
	d.nrefs++
}

// flush gives the user's own strings one allocation.
func (d *usersDecoder) flush() {
	if d.nrefs == 0 {
		return
	}
	s := string(d.pack)
	for _, r := range d.refs[:d.nrefs] {
		*r.dst = s[r.start:r.end]
	}
	d.refs = [8]packRef{}
	d.nrefs = 0
	d.pack = d.pack[:0]
}

// User members, for the duplicate check.
const (
	fID = 1 << iota
	fUPN
	fDisplayName
	fMail
	fAccountEnabled
	fUsageLocation
	fDepartment
	fJobTitle
	fCreated
	fLicenses
	fPlans
	fRemoved
	fUserType
	fStates
)

// user decodes one element of value (an object or null) into u (zero);
// rm is wire.DeltaUser.Removed, nil for a plain user.
func (d *usersDecoder) user(u *wire.User, rm **wire.Removed) error {
	if ok, err := d.null(); ok || err != nil {
		return err
	}
	d.nrefs, d.pack = 0, d.pack[:0]
	seen := 0
	err := d.object("a user is not an object", "want , or } after a user member", func(name []byte, frame int) error {
		var err error
		bit := 0
		var own *string // a string member of the user's own
		var shared *string
		var slot int
		switch string(name) {
		case "id":
			bit, own = fID, &u.ID
		case "userPrincipalName":
			bit, own = fUPN, &u.UserPrincipalName
		case "displayName":
			bit, own = fDisplayName, &u.DisplayName
		case "mail":
			bit, own = fMail, &u.Mail
		case "usageLocation":
			bit, shared, slot = fUsageLocation, &u.UsageLocation, 0
		case "department":
			bit, shared, slot = fDepartment, &u.Department, 1
		case "jobTitle":
			bit, shared, slot = fJobTitle, &u.JobTitle, 2
		case "userType":
			bit, shared, slot = fUserType, &u.UserType, 3
		case "accountEnabled":
			if seen&fAccountEnabled != 0 {
				return d.fail("duplicate member")
			}
			seen |= fAccountEnabled
			switch d.next() {
			case 't':
				u.AccountEnabled = true
				err = d.literal("true")
			case 'f':
				err = d.literal("false")
			case 'n':
				err = d.literal("null")
			default:
				err = d.fail("accountEnabled is not a boolean")
			}
		case "createdDateTime":
			if seen&fCreated != 0 {
				return d.fail("duplicate member")
			}
			seen |= fCreated
			err = d.v2Time(&u.CreatedDateTime)
		case "assignedLicenses":
			if seen&fLicenses != 0 {
				return d.fail("duplicate member")
			}
			seen |= fLicenses
			err = d.licenses(u)
		case "assignedPlans":
			if seen&fPlans != 0 {
				return d.fail("duplicate member")
			}
			seen |= fPlans
			err = d.assignedPlans(u)
		case "licenseAssignmentStates":
			if seen&fStates != 0 {
				return d.fail("duplicate member")
			}
			seen |= fStates
			u.LicenseAssignmentStates, err = decodeArray(d, "licenseAssignmentStates", &d.stTmp, &d.states, 128, 2048, emptyStates, d.licenseState)
		case "@removed":
			if rm == nil {
				err = d.unknown(frame, name)
				break
			}
			if seen&fRemoved != 0 {
				return d.fail("duplicate member")
			}
			seen |= fRemoved
			err = d.removed(rm)
		default:
			err = d.unknown(frame, name)
		}
		if err != nil {
			return err
		}
		if bit != 0 && (own != nil || shared != nil) {
			if seen&bit != 0 {
				return d.fail("duplicate member")
			}
			seen |= bit
			b, err := d.strOrNull()
			if err != nil {
				return err
			}
			if own != nil {
				d.own(b, own)
			} else if b == nil {
				*shared = ""
			} else {
				*shared = d.internAt(b, &d.last[slot])
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	d.flush()
	return nil
}

// unknown skips the value of an unknown member.
func (d *usersDecoder) unknown(frame int, name []byte) error {
	if err := d.addName(frame, name); err != nil {
		return err
	}
	return d.skip(1)
}

// removed decodes wire.DeltaUser's "@removed" as JSON v2 does.
func (d *usersDecoder) removed(rm **wire.Removed) error {
	if ok, err := d.null(); ok || err != nil {
		*rm = nil
		return err
	}
	r := new(wire.Removed)
	*rm = r
	seenReason := false
	return d.object("@removed is not an object", "want , or }", func(name []byte, frame int) error {
		if string(name) == "reason" {
			if seenReason {
				return d.fail("duplicate member")
			}
			seenReason = true
			b, err := d.strOrNull()
			if err != nil {
				return err
			}
			r.Reason = ""
			if b != nil {
				r.Reason = d.intern(b)
			}
		} else if err := d.unknown(frame, name); err != nil {
			return err
		}
		return nil
	})
}

// v2Time decodes a time.Time member as JSON v2 does (RFC 3339, null is
// the zero time).
func (d *usersDecoder) v2Time(dst *time.Time) error {
	switch d.next() {
	case 'n':
		*dst = time.Time{}
		return d.literal("null")
	case '"':
	default:
		return d.fail("a time is not a string")
	}
	start := d.pos
	b, err := d.str1()
	if err != nil {
		return err
	}
	if t, ok := d.canonicalTime(b); ok {
		*dst = t
		return nil
	}
	// Anything but 2006-01-02T15:04:05Z: JSON v2 itself decides.
	return jsonv2.Unmarshal(d.data[start:d.pos], dst)
}

// canonicalTime parses the form Graph sends, 2006-01-02T15:04:05Z, when
// valid; ok false leaves the string to the exact parser.
func (d *usersDecoder) canonicalTime(b []byte) (time.Time, bool) {
	if len(b) != 20 {
		return time.Time{}, false
	}
	if string(b) == string(d.lastDate[:]) {
		return d.lastTime, true
	}
	if b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[19] != 'Z' {
		return time.Time{}, false
	}
	for _, k := range [...]int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
		if b[k]-'0' > 9 {
			return time.Time{}, false
		}
	}
	num := func(i int) int { return int(b[i]-'0')*10 + int(b[i+1]-'0') }
	year := num(0)*100 + num(2)
	month, day, hour, min, sec := num(5), num(8), num(11), num(14), num(17)
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || min > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, min, sec, 0, time.UTC)
	copy(d.lastDate[:], b)
	d.lastTime = t
	return t, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// assignedPlans decodes u.AssignedPlans as the plan unmarshaler of
// pageOptions does, reusing the result for an array whose bytes were
// decoded before (planCache).
//
// Why a cache hit gives what decodeArray would: decodeArray's result, its
// error and where it stops depend only on the bytes it reads from the '['
// on (the decoder's other state — plan and date slots, the page's
// interning, the name stack above the plans' own frames — only decides
// which of several equal strings or times is used), and it reads nothing
// after the ']' that ends the array. A cached key is exactly the bytes
// decodeArray read, '[' to ']', when it decoded them without error, and a
// hit needs the bytes at d.pos to equal the key, compared in full (the
// hash only picks the candidate). So decodeArray, run at d.pos, would read
// those same bytes, stop at the same place and return an equal result.
//
// Where a candidate key ends is only proposed, by the first ']' after the
// '[' (bytes.IndexByte: a structural skip over the strings with plainRun
// cost about 40% of the decode it saved): plans hold no arrays, and
// Graph's strings no ']'. Nothing rests on that guess: a wrong one (a ']'
// in a string or a nested array, malformed input) makes the lookup miss,
// decodeArray then runs as it always did, errors included, and a result
// is kept only if decodeArray stopped exactly after the proposed ']' (an
// array with an inner ']' is never cached).
func (d *usersDecoder) assignedPlans(u *wire.User) error {
	var err error
	c := &d.s.plans
	if c.off || d.next() != '[' {
		u.AssignedPlans, err = decodeArray(d, "assignedPlans", &d.planTmp, &d.plans, 256, 4096, emptyPlans, d.plan)
		return err
	}
	start := d.pos
	end := bytes.IndexByte(d.data[start:min(len(d.data), start+maxPlanKey)], ']') + start + 1
	if end-start < minPlanKey {
		// No ']' close enough, or a short array ([] and the like:
		// decoding costs less than a lookup).
		u.AssignedPlans, err = decodeArray(d, "assignedPlans", &d.planTmp, &d.plans, 256, 4096, emptyPlans, d.plan)
		return err
	}
	raw := d.data[start:end]
	h := maphash.Bytes(c.seed, raw)
	ps, ok, admit := c.get(h, raw)
	if ok {
		u.AssignedPlans = ps
		d.pos = end
		return nil
	}
	if !admit {
		// Seen for the first time: most such arrays are never seen
		// again, and copying them into the cache would cost more.
		u.AssignedPlans, err = decodeArray(d, "assignedPlans", &d.planTmp, &d.plans, 256, 4096, emptyPlans, d.plan)
		return err
	}
	// A miss, seen before: decode in full, into an allocation of its own
	// (a cached slice must not keep a page's slab alive), and keep the
	// result if decodeArray read exactly raw.
	var own []wire.AssignedPlan
	ps, err = decodeArray(d, "assignedPlans", &d.planTmp, &own, 0, 0, emptyPlans, d.plan)
	if err != nil {
		return err
	}
	u.AssignedPlans = ps
	if d.pos == end && len(ps) > 0 {
		c.put(h, raw, ps[:len(ps):len(ps)])
	}
	return nil
}

const (
	// maxPlanKey: longer assignedPlans arrays are not looked up (Graph's
	// run to about 3 kB for 40 plans).
	maxPlanKey = 16 << 10
	// minPlanKey: shorter arrays are decoded, not looked up.
	minPlanKey = 16
	planShards = 16
	// planSeen bounds the hashes of arrays seen once (8 bytes and the
	// map's overhead each): a shard forgets its share when full.
	planSeen = 32 << 10
)

// planCache maps the bytes of assignedPlans arrays decoded before to their
// result, across the pages and decoders of one UsersScanner: users with the same licenses
// assigned the same day have the same array (a 999-user simulator page
// has ~550 distinct ones, 20 pages ~3,800, 2,100 of them seen only once).
//
// Admission: an array is cached the second time its hash is seen (the
// first time it is decoded into the page's slab, as without the cache):
// copying arrays seen once cost more than the cache saved. Each shard
// remembers up to planSeen/planShards hashes, and forgets them all when
// full (well under 1 MB in all). A hash that collides with a cached
// entry's is never admitted.
//
// Bound: each of planShards shards keeps two generations of entries; a
// new entry goes into the current one, which first becomes the old one
// (and the old one is dropped) if the entry would take its cost past
// maxBytes/planShards/2; a hit in the old generation moves the
// entry to the current one. An entry costs twice its key (the key, and the
// plans' strings, never longer unescaped than in the key) plus its plans
// plus 64 bytes; entries costing more than an eighth of a generation are
// not kept. So the cache holds at most maxBytes (a 40-plan Graph
// array costs about 9 kB: some 1,800 arrays at 16 MB), and in fact less
// (strings are shared). It goes with its scanner.
//
// Entries are immutable once stored: the key is a copy of the page's
// bytes, the plans' strings are copies (intern), and the slice is an
// allocation of its own with its capacity capped at its length, so an
// append by a consumer never writes into it (consumers treat
// AssignedPlans as read-only). A shard's mutex is held only for its map
// operations; hashing and comparing happen outside it.
type planCache struct {
	maxBytes int  // NewUsersScanner's planCacheBytes
	off      bool // no cache: every array is decoded
	seed     maphash.Seed
	shards   [planShards]planShard
}

type planShard struct {
	mu       sync.Mutex
	cur, old map[uint64]*planEntry
	cost     int                 // of cur
	seen     map[uint64]struct{} // hashes of arrays not cached (yet)
	_        [64]byte
}

type planEntry struct {
	key   string
	plans []wire.AssignedPlan
}

func (e *planEntry) cost() int { return planCost(len(e.key), len(e.plans)) }

func planCost(key, plans int) int {
	return 2*key + plans*int(unsafe.Sizeof(wire.AssignedPlan{})) + 64
}

// get returns the plans cached for raw (hash h); on a miss, admit tells
// whether raw's hash was seen before (the caller then decodes and puts
// raw), and records it if not.
func (c *planCache) get(h uint64, raw []byte) (_ []wire.AssignedPlan, ok, admit bool) {
	s := &c.shards[h>>60]
	s.mu.Lock()
	e := s.cur[h]
	if e == nil {
		if e = s.old[h]; e != nil {
			delete(s.old, h)
			s.add(h, e, c.maxBytes/planShards/2)
		}
	}
	if e == nil {
		if _, admit = s.seen[h]; !admit {
			if s.seen == nil || len(s.seen) >= planSeen/planShards {
				s.seen = make(map[uint64]struct{})
			}
			s.seen[h] = struct{}{}
		}
	}
	s.mu.Unlock()
	if e == nil || e.key != string(raw) {
		return nil, false, admit
	}
	return e.plans, true, false
}

func (c *planCache) put(h uint64, raw []byte, ps []wire.AssignedPlan) {
	if planCost(len(raw), len(ps)) > c.maxBytes/planShards/2/8 {
		return
	}
	e := &planEntry{key: string(raw), plans: ps}
	s := &c.shards[h>>60]
	s.mu.Lock()
	delete(s.old, h) // a colliding entry, or one a racing decoder stored
	delete(s.seen, h)
	s.add(h, e, c.maxBytes/planShards/2)
	s.mu.Unlock()
}

// clear empties the cache.
func (c *planCache) clear() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.cur, s.old, s.seen, s.cost = nil, nil, nil, 0
		s.mu.Unlock()
	}
}

// add puts e in the current generation, of up to limit bytes (s.mu
// held).
func (s *planShard) add(h uint64, e *planEntry, limit int) {
	if s.cur == nil {
		s.cur = make(map[uint64]*planEntry)
	}
	if old := s.cur[h]; old != nil {
		s.cost -= old.cost()
		delete(s.cur, h)
	}
	c := e.cost()
	if s.cost+c > limit {
		s.old, s.cur, s.cost = s.cur, make(map[uint64]*planEntry), 0
	}
	s.cur[h] = e
	s.cost += c
}

// Plan members, for the duplicate check.
const (
	pDate = 1 << iota
	pStatus
	pService
	pID
)

// slotAt returns the idx-th of slots, which grow to hold it, or a fresh
// one past maxPlanCacheSlot (a hostile array cannot grow them without
// limit).
func slotAt[S any](slots *[]S, idx int) *S {
	if idx >= maxPlanCacheSlot {
		return new(S)
	}
	for len(*slots) <= idx {
		var zero S
		*slots = append(*slots, zero)
	}
	return &(*slots)[idx]
}

func (d *usersDecoder) plan(p *wire.AssignedPlan, idx int) error {
	if ok, err := d.null(); ok || err != nil {
		return err
	}
	slot := slotAt(&d.slots, idx)
	seen := 0
	return d.object("a plan is not an object", "want , or } in a plan", func(name []byte, frame int) error {
		bit := 0
		var dst, cache *string
		switch string(name) {
		case "assignedDateTime":
			bit = pDate
		case "capabilityStatus":
			bit, dst, cache = pStatus, &p.CapabilityStatus, &slot.status
		case "service":
			bit, dst, cache = pService, &p.Service, &slot.service
		case "servicePlanId":
			bit, dst, cache = pID, &p.ServicePlanID, &slot.planID
		default:
			// The plan unmarshaler reads and ignores any value.
			if err := d.unknown(frame, name); err != nil {
				return err
			}
		}
		if bit != 0 {
			if seen&bit != 0 {
				return d.fail("duplicate member")
			}
			seen |= bit
			b, err := d.strOrNull()
			if err != nil {
				return err
			}
			switch {
			case dst != nil:
				*dst = d.internAt(b, cache)
			case len(b) > 0:
				if t, ok := d.canonicalTime(b); ok {
					p.AssignedDateTime = t
				} else if p.AssignedDateTime, err = time.Parse(time.RFC3339Nano, string(b)); err != nil {
					return err
				}
			default:
				p.AssignedDateTime = time.Time{}
			}
		}
		return nil
	})
}

// licenses decodes u.AssignedLicenses as the license unmarshaler of
// pageOptions does.
func (d *usersDecoder) licenses(u *wire.User) error {
	var err error
	u.AssignedLicenses, err = decodeArray(d, "assignedLicenses", &d.licTmp, &d.lics, 128, 2048, emptyLicenses, d.license)
	return err
}

func (d *usersDecoder) license(l *wire.AssignedLicense, idx int) error {
	if ok, err := d.null(); ok || err != nil {
		return err
	}
	for len(d.skuSlots) <= idx && idx < maxPlanCacheSlot {
		d.skuSlots = append(d.skuSlots, "")
	}
	seenSku, seenPlans := false, false
	return d.object("a license is not an object", "want , or } in a license", func(name []byte, frame int) error {
		switch string(name) {
		case "skuId":
			if seenSku {
				return d.fail("duplicate member")
			}
			seenSku = true
			b, err := d.strOrNull()
			if err != nil {
				return err
			}
			if idx < len(d.skuSlots) {
				l.SkuID = d.internAt(b, &d.skuSlots[idx])
			} else {
				l.SkuID = d.intern(b)
			}
		case "disabledPlans":
			if seenPlans {
				return d.fail("duplicate member")
			}
			seenPlans = true
			if err := d.disabledPlans(l); err != nil {
				return err
			}
		default:
			if err := d.unknown(frame, name); err != nil {
				return err
			}
		}
		return nil
	})
}

// License assignment state members, for the duplicate check.
const (
	sSku = 1 << iota
	sGroup
	sState
	sError
)

// licenseState decodes one element of licenseAssignmentStates as JSON v2
// decodes wire.LicenseAssignmentState: null leaves it (or a member) zero,
// and Graph's other members (disabledPlans, lastUpdatedDateTime) are
// checked and skipped.
func (d *usersDecoder) licenseState(st *wire.LicenseAssignmentState, idx int) error {
	if ok, err := d.null(); ok || err != nil {
		return err
	}
	slot := slotAt(&d.stSlots, idx)
	seen := 0
	return d.object("a licence assignment state is not an object", "want , or } in a licence assignment state", func(name []byte, frame int) error {
		switch string(name) {
		case "skuId":
			return d.sharedString(&seen, sSku, &st.SkuID, &slot.sku)
		case "assignedByGroup":
			return d.sharedString(&seen, sGroup, &st.AssignedByGroup, &slot.group)
		case "state":
			return d.sharedString(&seen, sState, &st.State, &slot.state)
		case "error":
			return d.sharedString(&seen, sError, &st.Error, &slot.err)
		}
		return d.unknown(frame, name)
	})
}

// sharedString decodes a string member (null: "") shared within the page,
// through the one-string cache last; bit marks it in seen, so a second
// one fails as a duplicate.
func (d *usersDecoder) sharedString(seen *int, bit int, dst, last *string) error {
	if *seen&bit != 0 {
		return d.fail("duplicate member")
	}
	*seen |= bit
	b, err := d.strOrNull()
	if err != nil {
		return err
	}
	*dst = d.internAt(b, last)
	return nil
}

// object walks the members of the JSON object at d.pos: member gets each
// name with d.pos at its value, which it must read; frame is the object's
// mark in the decoder's name stack (unknown, dropNames). notObject and
// badEnd are the errors' texts. (A failure sends the whole page to the
// reference decoder, so a caller's set-up before a non-object is moot.)
func (d *usersDecoder) object(notObject, badEnd string, member func(name []byte, frame int) error) error {
	if d.next() != '{' {
		return d.fail(notObject)
	}
	d.pos++
	frame := len(d.nameEnd)
	c := d.next()
	if c == '}' {
		d.pos++
		return nil
	}
	for {
		if c != '"' {
			return d.fail("want a member name")
		}
		name, err := d.name()
		if err != nil {
			return err
		}
		if err := member(name, frame); err != nil {
			return err
		}
		c = d.next()
		if c == ',' {
			d.pos++
			c = d.next()
			continue
		}
		if c == '}' {
			d.pos++
			d.dropNames(frame)
			return nil
		}
		return d.fail(badEnd)
	}
}

func (d *usersDecoder) disabledPlans(l *wire.AssignedLicense) error {
	var err error
	l.DisabledPlans, err = decodeArray(d, "disabledPlans", &d.strTmp, &d.strs, 128, 2048, emptyStrings, d.internedStr)
	return err
}

// internedStr decodes one string element of an array (null reads as "").
func (d *usersDecoder) internedStr(s *string, _ int) error {
	b, err := d.strOrNull()
	if err != nil {
		return err
	}
	*s = d.intern(b)
	return nil
}

// decodeArray reads the JSON array at d.pos (nil for null, empty for [])
// as the generic unmarshalers of pageOptions do: elem decodes element i
// into a zero T in *tmp, the decoder's reused scratch; the result is cut
// from the page's slab (cutSlab).
func decodeArray[T any](d *usersDecoder, name string, tmp, slab *[]T, minCap, maxCap int, empty []T, elem func(*T, int) error) ([]T, error) {
	if ok, err := d.null(); ok || err != nil {
		return nil, err
	}
	if d.next() != '[' {
		return nil, d.fail(name + " is not an array")
	}
	d.pos++
	if d.next() == ']' {
		d.pos++
		return empty, nil
	}
	items := (*tmp)[:0]
	defer func() { *tmp = items[:0] }()
	for {
		var zero T
		items = append(items, zero)
		if err := elem(&items[len(items)-1], len(items)-1); err != nil {
			return nil, err
		}
		c := d.next()
		if c == ',' {
			d.pos++
			continue
		}
		if c == ']' {
			d.pos++
			break
		}
		return nil, d.fail("want , or ] in " + name)
	}
	out := cutSlab(slab, items, minCap, maxCap)
	clear(items)
	return out, nil
}

// cutSlab copies items into the page's slab *slab and returns them as a
// slice of it whose capacity ends at its length, so an append by a
// consumer never writes into a neighbour. A full slab is replaced by one
// twice its size (between minCap and maxCap, and at least len(items));
// slices cut before keep the old one.
func cutSlab[T any](slab *[]T, items []T, minCap, maxCap int) []T {
	n := len(items)
	if cap(*slab)-len(*slab) < n {
		*slab = make([]T, 0, max(n, min(2*cap(*slab), maxCap), minCap))
	}
	i := len(*slab)
	*slab = append(*slab, items...)
	return (*slab)[i : i+n : i+n]
}
