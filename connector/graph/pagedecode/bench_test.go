package pagedecode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/connector/graph/wire"
)

// graphPage builds a users page as Graph writes it: n users with two
// licenses and a dozen assigned plans each.
func graphPage(n int) []byte {
	us := make([]wire.User, n)
	for i := range us {
		u := &us[i]
		u.ID = fmt.Sprintf("%08d-1111-2222-3333-444444444444", i)
		u.UserPrincipalName = fmt.Sprintf("first.last%d@contoso.onmicrosoft.com", i)
		u.DisplayName, u.Mail, u.AccountEnabled = "First Last", u.UserPrincipalName, true
		u.UsageLocation, u.Department, u.JobTitle = "US", "Sales", "Account Manager"
		u.CreatedDateTime = time.Date(2023, 4, 5, 6, 7, 8, 0, time.UTC)
		u.AssignedLicenses = []wire.AssignedLicense{{SkuID: "6fd2c87f-b296-42f0-b197-1e91e994b900", DisabledPlans: []string{}},
			{SkuID: "c7df2760-2c81-4ef7-b578-5b5392b571df", DisabledPlans: []string{"efb87545-963c-4e0d-99df-69c6916d9eb0"}}}
		u.UserType = "Member"
		u.LicenseAssignmentStates = []wire.LicenseAssignmentState{
			{SkuID: "6fd2c87f-b296-42f0-b197-1e91e994b900", State: "Active", Error: "None"},
			{SkuID: "c7df2760-2c81-4ef7-b578-5b5392b571df", AssignedByGroup: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", State: "Active", Error: "None"}}
		for j := 0; j < 12; j++ {
			u.AssignedPlans = append(u.AssignedPlans, wire.AssignedPlan{AssignedDateTime: u.CreatedDateTime,
				CapabilityStatus: "Enabled", Service: "exchange", ServicePlanID: fmt.Sprintf("efb87545-963c-4e0d-99df-69c6916d9e%02d", j)})
		}
	}
	b, _ := json.Marshal(map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users", "value": us,
		"@odata.nextLink": "https://graph.microsoft.com/v1.0/users?$skiptoken=RFNwdAIAAQAAAA"})
	return b
}

// BenchmarkDecodeUsersPage measures the decode of a users page as the
// client does it (DecodeUsers: the users scanner); ns/op
// and allocs/op are per user.
//
// On the 2-core Xeon of the build machine (shared with other work, so the
// figures move with its load):
//
//	before (JSON v2 stream, BenchmarkDecodeUsersPageReference): 8,700-9,300 ns, 10 allocs, 2,700 B per user
//	after  (users scanner):                                     2,000-2,850 ns,  1 alloc,  1,210 B per user
//	with the plan cache:                                        1,170-1,240 ns,  1 alloc,    325 B per user
//
// graphPage's users all have the same assignedPlans, so the plan cache
// serves all but the first two: BenchmarkDecodeSimulatorPages measures
// it on pages as repetitive as a tenant's.
func BenchmarkDecodeUsersPage(b *testing.B) {
	benchDecode(b, func(r io.Reader, buf []wire.User) ([]wire.User, string, error) {
		buf, next, _, _, err := decodeUsers(r, buf)
		return buf, next, err
	})
}

// BenchmarkDecodeUsersPageReference measures the generic JSON v2 decoder
// the scanner replaced for users (still used for other types).
func BenchmarkDecodeUsersPageReference(b *testing.B) {
	benchDecode(b, func(r io.Reader, buf []wire.User) ([]wire.User, string, error) {
		buf, next, _, _, err := Stream(r, buf)
		return buf, next, err
	})
}

func benchDecode(b *testing.B, decode func(io.Reader, []wire.User) ([]wire.User, string, error)) {
	page := graphPage(999)
	var buf []wire.User
	b.ReportAllocs()
	b.SetBytes(int64(len(page) / 999))
	b.ResetTimer()
	for n := 0; n < b.N; n += 999 {
		var err error
		buf, _, err = decode(bytes.NewReader(page), buf)
		if err != nil || len(buf) != 999 {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeDeltaPage measures a users/delta page (wire.DeltaUser).
func BenchmarkDecodeDeltaPage(b *testing.B) {
	page := graphPage(999)
	var buf []wire.DeltaUser
	b.ReportAllocs()
	b.SetBytes(int64(len(page) / 999))
	b.ResetTimer()
	for n := 0; n < b.N; n += 999 {
		var err error
		buf, _, _, _, err = decodeUsers(bytes.NewReader(page), buf)
		if err != nil || len(buf) != 999 {
			b.Fatal(err)
		}
	}
}

// simPages returns the pages of a full users listing of a simulated
// tenant of users users, as the client asks for them ($select, $top=999).
func simPages(b testing.TB, users int) [][]byte {
	sim := newSimGraph(b, users)
	var pages [][]byte
	for u := sim.srv.URL + "/v1.0/users?$select=" + wire.UserSelect + "&$top=999"; u != ""; {
		p := sim.get(u)
		var links struct {
			Next string `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(p, &links); err != nil {
			b.Fatal(err)
		}
		pages = append(pages, p)
		u = links.Next
	}
	return pages
}

// BenchmarkDecodeSimulatorPages decodes the 20 pages of a 20,000-user
// simulated tenant in a row, as an import does (each round with an empty
// plan cache, as each import's client starts with; the page buffers are
// carried over, so what is measured is the decoding); ns/op,
// B/op and allocs/op are per user. shared/user is the share of users
// whose assignedPlans came from the plan cache in a round. Graph's
// repetition is the simulator's: users with the same licenses assigned
// the same day have byte-identical assignedPlans (graphPage's users all
// do, which flatters the cache).
//
// On the 2-core Xeon of the build machine (shared with other work, -count
// 5; per user):
//
//	cache=off: 4,900-5,200 ns, 1,700 B, 1.21 allocs, 17-21 GCs per million users
//	cache=on:  3,330-3,710 ns, 1,050 B, 1.49 allocs,  9-12 GCs per million users (62% shared)
func BenchmarkDecodeSimulatorPages(b *testing.B) {
	pages := simPages(b, 20000)
	users, size := 0, 0
	for _, p := range pages {
		users += bytes.Count(p, []byte(`"assignedPlans"`))
		size += len(p)
	}
	for _, off := range []bool{true, false} {
		b.Run(fmt.Sprintf("cache=%s", map[bool]string{true: "off", false: "on"}[off]), func(b *testing.B) {
			cacheBytes := 0
			if off {
				cacheBytes = -1
			}
			s := NewUsersScanner(8, cacheBytes)
			var buf []wire.User
			shared := func() float64 { // one round, counting reused arrays
				s = nextRound(s, cacheBytes)
				seen := map[*wire.AssignedPlan]bool{}
				n := 0
				for _, p := range pages {
					var err error
					if buf, _, _, _, err = DecodeUsers(s, bytes.NewReader(p), buf); err != nil {
						b.Fatal(err)
					}
					for _, u := range buf {
						if len(u.AssignedPlans) > 0 {
							if k := &u.AssignedPlans[0]; seen[k] {
								n++
							} else {
								seen[k] = true
							}
						}
					}
				}
				return float64(n) / float64(users)
			}()
			b.ReportAllocs()
			b.SetBytes(int64(size / users))
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			b.ResetTimer()
			n := 0
			for i := 0; n < b.N; i = (i + 1) % len(pages) {
				if i == 0 {
					s = nextRound(s, cacheBytes) // a new import
				}
				var err error
				buf, _, _, _, err = DecodeUsers(s, bytes.NewReader(pages[i]), buf)
				if err != nil {
					b.Fatal(err)
				}
				n += len(buf)
			}
			b.StopTimer()
			runtime.ReadMemStats(&m1)
			b.ReportMetric(shared, "shared/user")
			b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(n), "allocs/user")
			b.ReportMetric(float64(m1.NumGC-m0.NumGC)*1e6/float64(n), "GCs/Muser")
		})
	}
}

// nextRound is a scanner with an empty plan cache that keeps old's page
// buffers.
func nextRound(old *UsersScanner, cacheBytes int) *UsersScanner {
	s := NewUsersScanner(cap(old.bodies), cacheBytes)
	s.bodies = old.bodies
	s.pageBytes.Store(old.pageBytes.Load())
	return s
}
