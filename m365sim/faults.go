package m365sim

import (
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
)

// FaultKind is a way a request can fail.
type FaultKind string

const (
	Fault503       FaultKind = "503"       // 503 serviceNotAvailable (Retry-After if FaultRetryAfter)
	Fault504       FaultKind = "504"       // 504 GatewayTimeout
	FaultReset     FaultKind = "reset"     // TCP reset before any response
	FaultTruncated FaultKind = "truncated" // headers, part of the body, then the connection closes
	FaultSlowBody  FaultKind = "slow"      // part of the body, then a stall of SlowBodyDelay
)

// AllFaults lists every kind, in counter order.
var AllFaults = []FaultKind{Fault503, Fault504, FaultReset, FaultTruncated, FaultSlowBody}

const numFaultKinds = 5

func faultIndex(k FaultKind) int {
	for i, a := range AllFaults {
		if a == k {
			return i
		}
	}
	return -1
}

func checkFaults(ks []FaultKind) error {
	for _, k := range ks {
		if faultIndex(k) < 0 {
			return fmt.Errorf("m365sim: unknown fault kind %q (known: 503, 504, reset, truncated, slow)", k)
		}
	}
	return nil
}

// ParseFaults parses a comma-separated list of fault kinds ("" is all).
func ParseFaults(s string) ([]FaultKind, error) {
	var out []FaultKind
	for _, f := range splitComma(s) {
		out = append(out, FaultKind(f))
	}
	return out, checkFaults(out)
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if f := trimSpace(s[start:i]); f != "" {
				out = append(out, f)
			}
			start = i + 1
		}
	}
	return out
}

func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// faulter decides which requests fail. The n-th eligible request's fate is
// a hash of the seed and n, so a sequential client meets the same faults on
// every run.
type faulter struct {
	seed  uint64
	rate  atomic.Uint64 // math.Float64bits
	kinds []FaultKind
	n     atomic.Uint64
	stats *counters
}

func newFaulter(o Options, st *counters) *faulter {
	f := &faulter{seed: uint64(o.Seed), kinds: o.Faults, stats: st}
	if len(f.kinds) == 0 {
		f.kinds = AllFaults
	}
	f.setRate(o.FaultRate)
	return f
}

func (f *faulter) setRate(r float64) { f.rate.Store(math.Float64bits(r)) }

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func (f *faulter) draw() (FaultKind, bool) {
	rate := math.Float64frombits(f.rate.Load())
	if rate <= 0 {
		return "", false
	}
	n := f.n.Add(1)
	h := splitmix(f.seed ^ splitmix(n))
	if float64(h>>11)/(1<<53) >= rate {
		return "", false
	}
	k := f.kinds[splitmix(h)%uint64(len(f.kinds))]
	f.stats.faults[faultIndex(k)].Add(1)
	return k, true
}

func (s *Server) inject(kind FaultKind, h http.Handler, w http.ResponseWriter, r *http.Request) {
	switch kind {
	case Fault503:
		if s.o.FaultRetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(s.o.FaultRetryAfter.Seconds()))))
		}
		s.graph.WriteError(w, r, http.StatusServiceUnavailable, "serviceNotAvailable", "The service is temporarily unavailable. Please retry later.")
	case Fault504:
		s.graph.WriteError(w, r, http.StatusGatewayTimeout, "GatewayTimeout", "The gateway did not receive a response from the backend in time.")
	case FaultReset:
		reset(w)
	case FaultTruncated:
		tw := &truncWriter{ResponseWriter: w, budget: 64 + int(splitmix(uint64(s.o.Seed)^s.faults.n.Load())%1024)}
		h.ServeHTTP(tw, r)
		tw.finish()
	case FaultSlowBody:
		sw := &slowWriter{ResponseWriter: w, s: s, r: r}
		h.ServeHTTP(sw, r)
		if !sw.stalled {
			sw.stall()
		}
	}
}

// reset closes the connection with SO_LINGER 0: the client sees a TCP RST
// ("connection reset by peer") instead of a response.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	raw := conn
	if tc, ok := conn.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	if tcp, ok := raw.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = raw.Close()
}

var errTruncated = errors.New("m365sim: body truncated by fault injection")

// truncWriter sends the status, headers and the first budget bytes of the
// body (or half of a shorter body), then drops the connection. The body is
// sent chunked (Content-Length removed) so the client can tell it was cut.
type truncWriter struct {
	http.ResponseWriter
	budget  int
	status  int
	buf     []byte
	cut     bool
	started bool
}

func (t *truncWriter) WriteHeader(code int) {
	if t.status == 0 {
		t.status = code
	}
}

func (t *truncWriter) Write(p []byte) (int, error) {
	if t.cut {
		return 0, errTruncated
	}
	if t.status == 0 {
		t.status = http.StatusOK
	}
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.budget {
		t.send(t.budget)
		return 0, errTruncated
	}
	return len(p), nil
}

func (t *truncWriter) Flush() {}

func (t *truncWriter) finish() {
	if !t.cut {
		t.send(len(t.buf) / 2)
	}
}

func (t *truncWriter) send(n int) {
	t.cut = true
	if t.status == 0 {
		t.status = http.StatusOK
	}
	t.Header().Del("Content-Length")
	t.ResponseWriter.WriteHeader(t.status)
	if n > 0 {
		_, _ = t.ResponseWriter.Write(t.buf[:n])
	}
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
	if hj, ok := t.ResponseWriter.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
		}
	}
}

// slowWriter passes the response through but stalls for SlowBodyDelay
// after the first bytes of the body.
type slowWriter struct {
	http.ResponseWriter
	s       *Server
	r       *http.Request
	stalled bool
	dead    bool
}

func (sw *slowWriter) Write(p []byte) (int, error) {
	if sw.dead {
		return 0, errTruncated
	}
	if sw.stalled {
		return sw.ResponseWriter.Write(p)
	}
	head := p
	if len(head) > 256 {
		head = head[:256]
	}
	n, err := sw.ResponseWriter.Write(head)
	if err != nil {
		return n, err
	}
	sw.stall()
	if sw.dead {
		return n, errTruncated
	}
	m, err := sw.ResponseWriter.Write(p[len(head):])
	return n + m, err
}

func (sw *slowWriter) stall() {
	sw.stalled = true
	if f, ok := sw.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
	if !sw.s.wait(sw.r.Context(), sw.s.o.SlowBodyDelay) {
		sw.dead = true
	}
}
