package graph_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/m365sim/accesstoken"
	"github.com/inventorybeacon/beacon/m365sim/graph"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
)

// discard is a ResponseWriter that keeps only the nextLink, so the
// handler's own cost is measured.
type discard struct {
	h    http.Header
	n    int64
	head []byte
}

func (d *discard) Header() http.Header { return d.h }
func (d *discard) WriteHeader(int)     {}
func (d *discard) Write(p []byte) (int, error) {
	if len(d.head) < 2048 {
		d.head = append(d.head, p[:min(len(p), 2048-len(d.head))]...)
	}
	d.n += int64(len(p))
	return len(p), nil
}

func (d *discard) reset() { clear(d.h); d.n = 0; d.head = d.head[:0] }

// nextOf extracts @odata.nextLink from the start of a page.
func nextOf(head []byte) string {
	const key = `"@odata.nextLink":"`
	i := bytes.Index(head, []byte(key))
	if i < 0 {
		return ""
	}
	rest := head[i+len(key):]
	return string(rest[:bytes.IndexByte(rest, '"')])
}

func benchSetup(b testing.TB, users int) (*graph.Handler, string) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	ten := tenant.GenerateAt(1, users, now)
	h := graph.New(graph.Options{Tenant: ten, SigningKey: testKey, Now: func() time.Time { return now }})
	u := ten.UserByUPN("admin@" + ten.Domain)
	tok := accesstoken.Mint(testKey, accesstoken.Claims{Audience: graph.GraphResource, TenantID: ten.ID, AppID: "x",
		NotBefore: now.Unix(), Expiry: now.Add(time.Hour).Unix(), ObjectID: u.ID, UPN: u.UserPrincipalName, Scopes: "Directory.Read.All Reports.Read.All"})
	return h, tok
}

// sweep pages through every user with the importer's $select and
// $top=999, calling each after every page.
func sweep(b testing.TB, h http.Handler, tok string, w *discard, each func()) (users int, bytes int64) {
	next := "http://graph.test/v1.0/users?$select=" + fullSelect + "&$top=999"
	for next != "" {
		req := httptest.NewRequest("GET", next, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w.reset()
		h.ServeHTTP(w, req)
		bytes += w.n
		users += 999
		next = nextOf(w.head)
		if each != nil {
			each()
		}
	}
	return users, bytes
}

// BenchmarkServeUsers serves 100,000 users in pages of 999 with the full
// importer $select, handler only (one goroutine: one core).
func BenchmarkServeUsers(b *testing.B) {
	h, tok := benchSetup(b, 100000)
	w := &discard{h: http.Header{}}
	runtime.GC()
	var before, peak runtime.MemStats
	runtime.ReadMemStats(&before)
	var peakHeap uint64
	sweep(b, h, tok, w, func() {
		runtime.ReadMemStats(&peak)
		peakHeap = max(peakHeap, peak.HeapInuse)
	})
	growth := float64(int64(peakHeap)-int64(before.HeapInuse)) / (1 << 20)
	b.ReportAllocs()
	b.ResetTimer()
	var total int64
	var bytes int64
	for i := 0; i < b.N; i++ {
		n, by := sweep(b, h, tok, w, nil)
		total += int64(n)
		bytes += by
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "users/s")
	b.ReportMetric(float64(bytes)/float64(b.N)/(1<<20), "MB/sweep")
	// Heap growth while paging the whole tenant once (ResetTimer drops
	// metrics reported before it).
	b.ReportMetric(growth, "heap-growth-MB")
}

// BenchmarkServeUsersHTTP is the same over loopback HTTP with a client
// reading (not decoding) the bodies.
func BenchmarkServeUsersHTTP(b *testing.B) {
	h, tok := benchSetup(b, 100000)
	srv := httptest.NewServer(h)
	defer srv.Close()
	b.ReportAllocs()
	b.ResetTimer()
	total := 0
	for i := 0; i < b.N; i++ {
		next := srv.URL + "/v1.0/users?$select=" + fullSelect + "&$top=999"
		for next != "" {
			req, _ := http.NewRequest("GET", next, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			next = nextOf(body[:min(len(body), 2048)])
			total += 999
		}
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "users/s")
}

// Memory stays flat while paging: a page of 999 users allocates about as
// much as a page of 10 (the page is streamed, never built).
func TestPageAllocationsDoNotGrowWithPageSize(t *testing.T) {
	h, tok := benchSetup(t, 3000)
	w := &discard{h: http.Header{}}
	allocs := func(top string) float64 {
		return testing.AllocsPerRun(20, func() {
			req := httptest.NewRequest("GET", "http://graph.test/v1.0/users?$select="+fullSelect+"&$top="+top, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			w.reset()
			h.ServeHTTP(w, req)
		})
	}
	small, big := allocs("10"), allocs("999")
	if big > small+10 {
		t.Errorf("a page of 999 allocates %.0f times, a page of 10 %.0f: pages must be streamed", big, small)
	}
	// And the streamed page is valid JSON with every user.
	req := httptest.NewRequest("GET", "http://graph.test/v1.0/users?$select="+fullSelect+"&$top=999", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var p page
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || len(p.Value) != 999 {
		t.Fatalf("page: %v, %d users", err, len(p.Value))
	}
}

// BenchmarkReportDownload generates getOffice365ActiveUserDetail for
// 100,000 users (the 302, then the CSV), handler only.
func BenchmarkReportDownload(b *testing.B) {
	h, tok := benchSetup(b, 100000)
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	var n int64
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("GET", "http://graph.test/v1.0/reports/getOffice365ActiveUserDetail(period='D30')", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w.reset()
		h.ServeHTTP(w, req)
		loc := w.h.Get("Location")
		if loc == "" {
			b.Fatal("no Location")
		}
		w.reset()
		h.ServeHTTP(w, httptest.NewRequest("GET", loc, nil))
		n += w.n
	}
	b.ReportMetric(float64(100000*b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(n)/float64(b.N)/(1<<20), "MB/report")
}
