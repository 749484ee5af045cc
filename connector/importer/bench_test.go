package importer

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/internal/cputime"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// TestSimChild serves a simulator from its own process for the benchmarks,
// so the CPU and memory they measure are the importer's alone. It prints
// the Graph endpoint and an admin token, then serves until stdin closes.
func TestSimChild(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("BEACON_SIM_CHILD_USERS"))
	if n == 0 {
		t.Skip("runs only as the simulator of the import benchmarks")
	}
	sim, err := m365sim.Start(m365sim.Options{Users: n, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	fmt.Printf("graph %s\ntoken %s\n", sim.GraphEndpoint(), sim.MintAccessToken(tenant.AdminLocalPart+"@"+sim.Tenant().Domain))
	_, _ = io.Copy(io.Discard, os.Stdin)
}

func startSimProcess(b *testing.B, users int) (endpoint, token string) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSimChild$")
	cmd.Env = append(os.Environ(), "BEACON_SIM_CHILD_USERS="+strconv.Itoa(users))
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	for (endpoint == "" || token == "") && sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "graph "); ok {
			endpoint = v
		}
		if v, ok := strings.CutPrefix(sc.Text(), "token "); ok {
			token = v
		}
	}
	if endpoint == "" || token == "" {
		b.Fatal("the simulator process did not start")
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return endpoint, token
}

func cpuTime() time.Duration { return cputime.Self() }

// heapPeak samples the live heap while an import runs. Sampling is for
// measurement only; nothing waits on it.
type heapPeak struct {
	stop chan struct{}
	done sync.WaitGroup
	peak uint64
}

func watchHeap() *heapPeak {
	h := &heapPeak{stop: make(chan struct{})}
	h.done.Add(1)
	go func() {
		defer h.done.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			h.peak = max(h.peak, s[0].Value.Uint64())
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapPeak) end() uint64 { close(h.stop); h.done.Wait(); return h.peak }

func benchImport(b *testing.B, users int) {
	endpoint, token := startSimProcess(b, users)
	conn := storage.Connection{ID: "0123456789abcdef0123456789abcdef", Name: "Bench"}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var cpu time.Duration
	var peak uint64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		store, err := inventory.Open(context.Background(), filepath.Join(b.TempDir(), inventory.FileName), inventory.Options{})
		if err != nil {
			b.Fatal(err)
		}
		client, err := graph.New(nil, endpoint, staticTokens(token), graph.Options{Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		h := watchHeap()
		c0 := cpuTime()
		b.StartTimer()
		res, err := Run(context.Background(), Options{Conn: conn, Client: client, Store: store, Trigger: inventory.TriggerCLI, Sequential: os.Getenv("BEACON_BENCH_SEQUENTIAL") == "1", Logger: quiet})
		b.StopTimer()
		cpu += cpuTime() - c0
		peak = max(peak, h.end())
		if err != nil || res.Counts().Users != users {
			b.Fatalf("import: %v, %+v", err, res.Run)
		}
		store.Close()
		b.StartTimer()
	}
	b.StopTimer()
	perUser := float64(cpu.Microseconds()) / float64(b.N*users)
	b.ReportMetric(perUser, "cpu-µs/user")
	b.ReportMetric(perUser*1000/1000, "cpu-ms/1000users")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(cputime.SelfPeakMB(), "maxRSS-MB")
}

// BenchmarkImport is a full import of a simulated tenant at zero latency,
// the simulator in its own process. BEACON_BENCH_USERS sets the size
// (default 100000); BEACON_BENCH_SEQUENTIAL=1 selects the sequential mode.
func BenchmarkImport(b *testing.B) {
	n := 100000
	if v, _ := strconv.Atoi(os.Getenv("BEACON_BENCH_USERS")); v > 0 {
		n = v
	}
	benchImport(b, n)
}

// BenchmarkImportStreaming shows memory does not grow with the tenant:
// peak-heap-MB stays flat from 10,000 to 200,000 users.
func BenchmarkImportStreaming(b *testing.B) {
	for _, n := range []int{10000, 50000, 200000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) { benchImport(b, n) })
	}
}
