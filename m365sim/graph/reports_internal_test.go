package graph

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

// oddStrings are names and UPNs that exercise CSV quoting and JSON
// escaping: commas, quotes, line ends, leading Unicode spaces, \., invalid
// UTF-8, control characters.
var oddStrings = []string{"Smith, John", `Quote "Q" Name`, " leading space", "\tleading tab", "line\nbreak", "cr\rret",
	"ctl\x01\x1f\x7f", "bad\xffutf8\xc3", "é ü 日本 \u2028", `back\slash`, "<a&b>", "", `\.`, `\.x`, `"`, "trailing ",
	"\u00a0nbsp first", "\u3000ideographic", "\u0085nel", "\xa0not utf8 space", "a,b\"c\nd"}

// TestReportRendererMatchesReference renders every report, period and
// concealment setting with the direct writer and with the encoding/csv
// reference it replaced, over a tenant with odd names and UPNs, changed
// licenses (plans with mixed dates), soft-deleted users and activity far in
// the past, and requires identical bytes.
func TestReportRendererMatchesReference(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	ten := tenant.GenerateAt(3, 2500, now)
	ten.Clock = func() time.Time { return now }
	ten.Mutate(4, 0.05)
	for i, s := range oddStrings {
		u := ten.Users[50+i*11]
		if err := ten.UpdateUser(u.ID, func(nu *tenant.User) {
			nu.DisplayName = s
			nu.Usage.LastActivity[tenant.WorkloadExchange] = []int16{4095, 4096, 5000, 32767, 0, -1}[i%6]
			nu.Usage.LastActivation = []int16{4096, 32767, 400}[i%3]
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := ten.AddUser(tenant.User{UserPrincipalName: fmt.Sprintf("%s%d@%s", s, i, ten.Domain), DisplayName: s,
			AccountEnabled: true}); err != nil {
			t.Fatal(err)
		}
	}
	// One row longer than the stream's buffer: the writes to the
	// connection must still come in the same 64 KiB pieces.
	if _, err := ten.AddUser(tenant.User{UserPrincipalName: "huge@" + ten.Domain, DisplayName: strings.Repeat("Huge, \"name\" ", 15000),
		AccountEnabled: true}); err != nil {
		t.Fatal(err)
	}
	ten.Mutate(5, 0.02)
	h := New(Options{Tenant: ten, SigningKey: []byte("0123456789abcdef0123456789abcdef"), Now: func() time.Time { return now }})
	refresh := h.refreshDate()
	for _, fn := range []string{ReportActiveUsers, ReportActivations, ReportAppUsage} {
		for _, pd := range [][2]string{{"D7", ""}, {"D30", ""}, {"D90", ""}, {"D180", ""}, {"", "2026-03-01"}, {"", ""}} {
			for _, conceal := range []bool{false, true} {
				var got, want writeRecorder
				bw := bufio.NewWriterSize(&got, 64<<10)
				newReportWriter(h, bw, refresh, conceal, pd[0], pd[1]).write(fn)
				if err := bw.Flush(); err != nil {
					t.Fatal(err)
				}
				bw = bufio.NewWriterSize(&want, 64<<10)
				cw := csv.NewWriter(bw)
				ref := refReportWriter{h: h, cw: cw, refresh: refresh, conceal: conceal, period: pd[0], date: pd[1]}
				ref.write(fn)
				cw.Flush()
				if err := bw.Flush(); err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(got.writes) != fmt.Sprint(want.writes) {
					t.Errorf("%s %v concealed=%v: writes of %v bytes, want %v", fn, pd, conceal, got.writes, want.writes)
				}
				if got.Len() < 1000 || !bytes.Equal(got.Bytes(), want.Bytes()) {
					g, w := strings.Split(got.String(), "\n"), strings.Split(want.String(), "\n")
					for i := range min(len(g), len(w)) {
						if g[i] != w[i] {
							t.Fatalf("%s %v concealed=%v: line %d\n got %q\nwant %q", fn, pd, conceal, i, g[i], w[i])
						}
					}
					t.Fatalf("%s %v concealed=%v: %d bytes, want %d", fn, pd, conceal, got.Len(), want.Len())
				}
			}
		}
	}
}

// writeRecorder keeps what is written and the size of each Write.
type writeRecorder struct {
	bytes.Buffer
	writes []int
}

func (w *writeRecorder) Write(p []byte) (int, error) {
	w.writes = append(w.writes, len(p))
	return w.Buffer.Write(p)
}

// csvRef writes a record with encoding/csv.
func csvRef(rec ...string) string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(rec)
	w.Flush()
	return b.String()
}

func csvDirect(rec ...string) string {
	var b []byte
	for i, f := range rec {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCSVField(b, f)
	}
	return string(append(b, '\n'))
}

func TestAppendCSVFieldMatchesEncodingCSV(t *testing.T) {
	for _, s := range oddStrings {
		if got, want := csvDirect(s, s), csvRef(s, s); got != want {
			t.Errorf("field %q: %q, want %q", s, got, want)
		}
	}
	for c := 0; c < 256; c++ {
		for _, s := range []string{string(rune(c)), string([]byte{byte(c)}), string([]byte{byte(c)}) + "x", "x" + string([]byte{byte(c)})} {
			if got, want := csvDirect(s), csvRef(s); got != want {
				t.Errorf("field %q: %q, want %q", s, got, want)
			}
		}
	}
}

func FuzzAppendCSVField(f *testing.F) {
	for _, s := range oddStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := csvDirect(s, "x", s), csvRef(s, "x", s); got != want {
			t.Fatalf("field %q: %q, want %q", s, got, want)
		}
	})
}

func TestAppendDateMatchesFormat(t *testing.T) {
	est := time.FixedZone("EST", -5*3600)
	for _, tm := range []time.Time{{}, time.Date(2026, 11, 25, 22, 5, 9, 123, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 0, est), time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if got, want := string(appendDate([]byte("x"), tm)), "x"+dateOf(tm); got != want {
			t.Errorf("appendDate(%v) = %q, want %q", tm, got, want)
		}
	}
}

// TestAppColumnsMatchLoops checks the table-driven app columns against the
// column definitions, written out as loops.
func TestAppColumnsMatchLoops(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 5000; n++ {
		apps := r.Uint32() & (1<<(len(tenant.AppPlatforms)*len(tenant.AppNames)) - 1)
		if n < 64 {
			apps = uint32(n) << (6 * (n % 4))
		}
		want := refAppColumns(nil, apps)
		if got := string(appendAppColumns(nil, apps)); got != strings.Join(want, ",") {
			t.Fatalf("apps %#x: %s\nwant %s", apps, got, strings.Join(want, ","))
		}
	}
}

// TestPlanTailCache feeds the shared assignedPlans tail cache far more
// distinct (status, service, id) triples than it has slots, in random
// order and from several goroutines, including triples that differ only in
// status or service, and requires every answer to equal a fresh encoding.
func TestPlanTailCache(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var plans []tenant.AssignedPlan
	for i := 0; i < 3000; i++ {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", r.Uint32(), r.Uint64()&0xffffffffffff)
		if i%7 == 0 && len(plans) > 0 {
			id = plans[r.IntN(len(plans))].ServicePlanID
		}
		status := []string{"Enabled", "Suspended", "Deleted", `odd"status`}[r.IntN(4)]
		service := []string{"exchange", "SharePoint", "TeamspaceAPI", oddStrings[r.IntN(len(oddStrings))]}[r.IntN(4)]
		plans = append(plans, tenant.AssignedPlan{CapabilityStatus: status, Service: service, ServicePlanID: id})
	}
	plans = append(plans, tenant.AssignedPlan{}, tenant.AssignedPlan{ServicePlanID: "short"})
	want := func(p *tenant.AssignedPlan) string {
		b := appendString([]byte(`,"capabilityStatus":`), p.CapabilityStatus)
		b = appendString(append(b, `,"service":`...), p.Service)
		b = appendString(append(b, `,"servicePlanId":`...), p.ServicePlanID)
		return string(append(b, '}'))
	}
	done := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func(seed uint64) {
			r := rand.New(rand.NewPCG(seed, 7))
			for n := 0; n < 40000; n++ {
				p := &plans[r.IntN(len(plans))]
				if n%3 == 0 {
					p = &plans[r.IntN(40)] // a hot set, as in a real tenant
				}
				if got := string(planTailOf(p).enc); got != want(p) {
					done <- fmt.Errorf("plan %+v: %s, want %s", *p, got, want(p))
					return
				}
			}
			done <- nil
		}(uint64(g))
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
