//go:build linux

package soak

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// full reports whether this is `make soak` rather than `make test`.
func full() bool { return os.Getenv("BEACON_SOAK") == "1" }

// scaled returns short in `make test`, long×BEACON_SOAK_SCALE in `make soak`.
func scaled(short, long int) int {
	if !full() {
		return short
	}
	f, err := strconv.ParseFloat(os.Getenv("BEACON_SOAK_SCALE"), 64)
	if err != nil || f <= 0 {
		f = 1
	}
	n := int(float64(long) * f)
	if n < 1 {
		n = 1
	}
	return n
}

// figure prints one measured figure on stdout, where scripts/soak.sh and a
// reader of `go test -v` find it.
func figure(t *testing.T, check, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf("FIGURE %s: %s", check, fmt.Sprintf(format, args...))
	fmt.Println(line)
	t.Log(line)
}

// fakeClock is the simulated time of the simulator and of the Graph
// client's back-off: Sleep advances it instantly, so Retry-After costs
// nothing but is still honoured in order.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	return nil
}
