package memtrace

import (
	"bytes"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestStart: a header naming every column, then samples with a figure
// per column: the resident set and the heap's goal as the process has
// them, the caller's own figures last, and a final sample at stop.
func TestStart(t *testing.T) {
	var out bytes.Buffer
	calls := 0
	stop := Start(&out, time.Millisecond, Extra{
		Names:  []string{"a", "b"},
		Sample: func() []int64 { calls++; return []int64{7, int64(calls)} },
	})
	time.Sleep(20 * time.Millisecond)
	stop()
	stop() // once only
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 2 {
		t.Fatalf("no samples:\n%s", out.String())
	}
	head := strings.Split(lines[0], "\t")
	want := []string{"t_ms", "rss", "rss_peak", "heap_live", "heap_goal", "go_total", "go_released", "gc_cycles", "mem_limit", "a", "b"}
	if strings.Join(head, ",") != strings.Join(want, ",") {
		t.Fatalf("header %q, want %q", head, want)
	}
	if len(lines)-1 != calls {
		t.Errorf("%d samples, the extra figures sampled %d times", len(lines)-1, calls)
	}
	col := func(fields []string, name string) int64 {
		for i, h := range head {
			if h == name {
				n, err := strconv.ParseInt(fields[i], 10, 64)
				if err != nil {
					t.Fatalf("column %s: %v", name, err)
				}
				return n
			}
		}
		t.Fatalf("no column %s", name)
		return 0
	}
	for _, l := range lines[1:] {
		f := strings.Split(l, "\t")
		if len(f) != len(head) {
			t.Fatalf("sample %q has %d figures for %d columns", l, len(f), len(head))
		}
		if col(f, "heap_goal") <= 0 || col(f, "go_total") <= 0 || col(f, "a") != 7 {
			t.Errorf("sample %q lacks the runtime's or the caller's figures", l)
		}
		if runtime.GOOS == "linux" && (col(f, "rss") <= 0 || col(f, "rss_peak") < col(f, "rss")) {
			t.Errorf("sample %q lacks the resident set", l)
		}
	}
	if last := strings.Split(lines[len(lines)-1], "\t"); col(last, "b") != int64(calls) {
		t.Errorf("the last sample is not the one stop took: %q", last)
	}
}
