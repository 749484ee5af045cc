package inventory

import (
	"time"
	"unsafe"
)

// licenseStage gathers while staging what the history's figures need of
// each licensed user (historyFigures), so Finish need not read the
// licensed users back: that read was 0.42 s of an import's 3.5 s of CPU
// at 100,000 users and 5.4 s of 36 s at 1,000,000.
//
// Like userFacts it holds no pointer per user, and of the names only the
// user principal name: the figures are counts, and a million users'
// display and department names were some 30 MB more to hold until Finish.
// The users it hands out are licensedUsers' without DisplayName and
// Department (HistoryFunc says so). The principal name is the user's
// entry in userFacts (which also finds the activity) when it is already
// lower case, as it mostly is; else it is kept here.
//
// It stands for the SQL read only when every user of the snapshot went
// through PrepareUsers: a run that copies the previous snapshot's users
// (BeginUserChanges) reads them back; so does a run that read sign-ins,
// which are staged apart by user id.
type licenseStage struct {
	users []licensee
	// skus are the distinct skuIds as the users' assigned_licenses give
	// them; seq is every user's, one after another, as numbers of skus.
	skus []string
	skuN map[string]uint16
	seq  []uint16
	// stateVals are the distinct license_states columns, "" first, and
	// a user's state is its number there: most users hold one of a few
	// (or none), and the columns one after another were 57-71 MB at
	// 1,000,000 users, grown by doubling. Past maxLicenseStates distinct
	// ones (a tenant of many groups, combined) the columns are kept one
	// after another in states instead, and a user's state is where its
	// column ends there (stateBytes).
	stateVals  []string
	stateN     map[string]uint32
	stateLen   int64 // the bytes of stateVals
	stateBytes bool
	states     []byte
	names      []byte // the principal names not in lower case
	// nameEnds is, per user with licNamed, where its name ends in names:
	// kept apart from licensee, which few users need, so that a licensee
	// is 24 bytes instead of 32 (8 MB at 1,000,000 users).
	nameEnds []uint32
	// off says the stage does not hold every user (BeginUserChanges).
	off bool
	// mem is what the stage holds against the soft memory limit
	// (memlimit.go), from expect on.
	mem memoryHold
}

// licensee is one licensed user of licenseStage.
type licensee struct {
	created int64  // UnixNano, when hasCreated
	fact    int32  // entry in userFacts: the name, the activity
	seqEnd  uint32 // where the user's skuIds end in seq
	state   uint32 // its license_states: a number in stateVals, or where they end in states
	flags   uint8
}

const (
	licEnabled = 1 << iota
	licGuest
	licCreated
	licNamed // the principal name is in names, not the entry's
)

func newLicenseStage() *licenseStage {
	return &licenseStage{skuN: map[string]uint16{}, stateVals: []string{""}, stateN: map[string]uint32{"": 0}}
}

// maxLicenseStates is how many distinct license_states columns a stage
// numbers before it keeps them whole (a variable for the tests).
var maxLicenseStates = 1 << 14

// internState is the number in stateVals of a license_states column, or
// with stateBytes where it ends in states.
func (l *licenseStage) internState(col []byte) uint32 {
	if !l.stateBytes {
		if n, ok := l.stateN[string(col)]; ok {
			return n
		}
		if len(l.stateVals) < maxLicenseStates {
			v := string(col) // a copy, not the caller's buffer
			n := uint32(len(l.stateVals))
			l.stateVals = append(l.stateVals, v)
			l.stateN[v] = n
			l.stateLen += int64(len(v))
			return n
		}
		// Too many to number: the users staged so far get their columns
		// back, one after another.
		l.stateBytes = true
		for i := range l.users {
			l.states = append(l.states, l.stateVals[l.users[i].state]...)
			l.users[i].state = uint32(len(l.states))
		}
		l.stateVals, l.stateN, l.stateLen = nil, nil, 0
	}
	l.states = append(l.states, col...)
	return uint32(len(l.states))
}

// note keeps a staged user licensedUsers reads: one holding a licence or
// a licence state. licenses and states are its assigned_licenses and
// license_states columns; fact its entry in userFacts (RunWriter.umu
// held).
func (l *licenseStage) note(u *User, fact int32, key string, licenses, states []byte) {
	if l.off {
		return
	}
	e := licensee{fact: fact}
	if u.UserPrincipalName != key {
		e.flags |= licNamed
		l.names = append(l.names, u.UserPrincipalName...)
	}
	if u.AccountEnabled {
		e.flags |= licEnabled
	}
	if u.UserType == "Guest" || u.UserType == "" && containsFoldASCII(u.UserPrincipalName, "#EXT#") {
		e.flags |= licGuest
	}
	if !u.CreatedDateTime.IsZero() {
		e.flags |= licCreated
		e.created = u.CreatedDateTime.UnixNano()
	}
	// The skuIds as licenseSkuIDs reads them from the column.
	for b := range eachSkuID(licenses) {
		n, ok := l.skuN[string(b)]
		if !ok {
			if len(l.skus) == 1<<16 {
				l.off = true // not a tenant's SKUs: read them back
				return
			}
			id := string(b) // a copy, not the caller's buffer
			n = uint16(len(l.skus))
			l.skus = append(l.skus, id)
			l.skuN[id] = n
		}
		l.seq = append(l.seq, n)
	}
	e.state = l.internState(states)
	if e.flags&licNamed != 0 {
		l.nameEnds = append(l.nameEnds, uint32(len(l.names)))
	}
	e.seqEnd = uint32(len(l.seq))
	l.users = append(l.users, e)
	if l.mem.n > 0 {
		l.mem.set(l.reserved()) // grown past what expect made room for
	}
}

// discard forgets the users staged so far (umu held); the distinct
// license states stay numbered, the listing redone holds the same.
func (l *licenseStage) discard() {
	l.users, l.seq, l.states, l.names, l.nameEnds = l.users[:0], l.seq[:0], l.states[:0], l.names[:0], l.nameEnds[:0]
}

// each hands the staged users to fn, chunk (> 0) at a time, as
// licensedUsers does but for the display and department names and in the
// order they were
// prepared; their key (upn_key) is set for the activity (umu held,
// staging over).
func (l *licenseStage) each(f *userFacts, chunk int, fn func([]LicenseUser) error) error {
	size := min(len(l.users), chunk)
	out := make([]LicenseUser, 0, size)
	var seq, state, name uint32
	named := l.nameEnds
	for _, e := range l.users {
		u := LicenseUser{Enabled: e.flags&licEnabled != 0, Guest: e.flags&licGuest != 0}
		if e.flags&licCreated != 0 {
			u.Created = time.Unix(0, e.created).UTC()
		}
		for _, n := range l.seq[seq:e.seqEnd] {
			u.SkuIDs = append(u.SkuIDs, l.skus[n])
		}
		if l.stateBytes {
			u.States = decodeLicenseStates(string(l.states[state:e.state]))
			state = e.state
		} else {
			u.States = decodeLicenseStates(l.stateVals[e.state])
		}
		f.mu.Lock()
		u.key = f.name(int(e.fact))
		f.mu.Unlock()
		u.UPN = u.key
		if e.flags&licNamed != 0 {
			u.UPN = string(l.names[name:named[0]])
			name, named = named[0], named[1:]
		}
		seq = e.seqEnd
		out = append(out, u)
		if len(out) == chunk {
			if err := fn(out); err != nil {
				return err
			}
			out = make([]LicenseUser, 0, size) // fn may keep them
		}
	}
	if len(out) > 0 {
		return fn(out)
	}
	return nil
}

// expect makes room for n users at once, raising the soft memory limit
// by it (memlimit.go); a stage already in use is left as it is.
func (l *licenseStage) expect(n int) {
	if len(l.users) > 0 || n <= 0 {
		return
	}
	l.users = make([]licensee, 0, n)
	l.seq = make([]uint16, 0, n+n/2)
	l.mem.set(l.reserved())
}

// free gives back the soft memory limit expect raised.
func (l *licenseStage) free() {
	l.mem.set(0)
}

// reserved is the bytes the stage's per-user parts take, and its
// distinct license states (their bytes and some 48 a value for the
// string, the slice and the map's entry).
func (l *licenseStage) reserved() int64 {
	return int64(cap(l.users))*int64(unsafe.Sizeof(licensee{})) + int64(cap(l.seq))*2 + int64(cap(l.states)) + int64(cap(l.names)) +
		int64(cap(l.nameEnds))*4 + l.stateLen + int64(len(l.stateVals))*48
}
