package cli

import (
	"math"
	"runtime/debug"
	"testing"
)

// TuneMemory sets the soft memory limit unless the environment chose the
// collector's targets itself.
func TestTuneMemory(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	for _, c := range []struct {
		gogc, limit string
		want        int64
	}{
		{"", "", memoryLimit},
		{"", "500MiB", math.MaxInt64},
		{"80", "", math.MaxInt64},
	} {
		t.Setenv("GOGC", c.gogc)
		t.Setenv("GOMEMLIMIT", c.limit)
		debug.SetMemoryLimit(math.MaxInt64)
		TuneMemory()
		if got := debug.SetMemoryLimit(-1); got != c.want {
			t.Errorf("GOGC=%q GOMEMLIMIT=%q: limit %d, want %d", c.gogc, c.limit, got, c.want)
		}
	}
}
