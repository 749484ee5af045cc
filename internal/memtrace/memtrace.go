// Package memtrace samples a process's memory through a run: the Go
// runtime's heap (live, goal, mapped, returned to the system), its soft
// limit and collections, the resident set as the kernel sees it, and
// whatever else the caller counts (SQLite's own memory), one line of
// tab-separated figures per sample. It tells where a peak RSS comes from:
// the heap running past its goal, memory the runtime has not returned
// yet, or the C side.
package memtrace

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Extra is figures the runtime does not know, sampled with the others.
type Extra struct {
	Names  []string
	Sample func() []int64
}

// goMetrics are the runtime's figures, in the columns' order.
var goMetrics = []struct{ name, metric string }{
	{"heap_live", "/gc/heap/live:bytes"},
	{"heap_goal", "/gc/heap/goal:bytes"},
	{"go_total", "/memory/classes/total:bytes"},
	{"go_released", "/memory/classes/heap/released:bytes"},
	{"gc_cycles", "/gc/cycles/total:gc-cycles"},
}

// Header is the first line Start writes: the columns' names (sizes in
// bytes, t in milliseconds since Start, rss and rss_peak from
// /proc/self/status).
func Header(extra Extra) string {
	cols := []string{"t_ms", "rss", "rss_peak"}
	for _, m := range goMetrics {
		cols = append(cols, m.name)
	}
	cols = append(cols, "mem_limit")
	cols = append(cols, extra.Names...)
	return strings.Join(cols, "\t")
}

// Start writes Header then a sample every interval to w until the
// returned stop is called, which writes a last sample and flushes.
func Start(w io.Writer, every time.Duration, extra Extra) (stop func()) {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, Header(extra))
	samples := make([]metrics.Sample, len(goMetrics))
	for i, m := range goMetrics {
		samples[i].Name = m.metric
	}
	start := time.Now()
	sample := func() {
		rss, peak := procStatus()
		line := []string{strconv.FormatInt(time.Since(start).Milliseconds(), 10), strconv.FormatInt(rss, 10), strconv.FormatInt(peak, 10)}
		metrics.Read(samples)
		for _, s := range samples {
			var v uint64
			if s.Value.Kind() == metrics.KindUint64 {
				v = s.Value.Uint64()
			}
			line = append(line, strconv.FormatUint(v, 10))
		}
		line = append(line, strconv.FormatInt(debug.SetMemoryLimit(-1), 10))
		if extra.Sample != nil {
			for _, v := range extra.Sample() {
				line = append(line, strconv.FormatInt(v, 10))
			}
		}
		fmt.Fprintln(bw, strings.Join(line, "\t"))
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
			sample()
			bw.Flush()
		})
	}
}

// procStatus is VmRSS and VmHWM in bytes (0 where there is no /proc).
func procStatus() (rss, peak int64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, l := range bytes.Split(b, []byte("\n")) {
		k, v, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			continue
		}
		var dst *int64
		switch string(k) {
		case "VmRSS":
			dst = &rss
		case "VmHWM":
			dst = &peak
		default:
			continue
		}
		f := strings.Fields(string(v))
		if len(f) > 0 {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			*dst = n << 10
		}
	}
	return rss, peak
}
