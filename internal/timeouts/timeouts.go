// Package timeouts lets a test shrink the program's network time-outs and
// back-off delays (the dial, TLS handshake and response-header time-outs
// of the HTTP client, a Graph attempt's and a token request's time-out,
// the retry back-off): BEACON_TIMEOUT_SCALE=0.05 makes each one twentieth
// as long, so a test can drive a real `beacon execute` through a network
// that stalls for longer than every time-out in seconds instead of half an
// hour (issue 20). Without the variable every duration is the production
// one. An administrator has no reason to set it.
package timeouts

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// ScaleEnv names the environment variable: a factor in (0, 1].
const ScaleEnv = "BEACON_TIMEOUT_SCALE"

var factor = sync.OnceValue(func() float64 {
	f, err := ParseScale(os.Getenv(ScaleEnv))
	if err != nil {
		// A test run with a mistyped scale must not pass as a run with
		// the production time-outs.
		panic(err)
	}
	return f
})

// ParseScale reads a scale; "" is 1.
func ParseScale(v string) (float64, error) {
	if v == "" {
		return 1, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 || f > 1 {
		return 0, fmt.Errorf("%s=%q: want a factor above 0 and at most 1, such as 0.05", ScaleEnv, v)
	}
	return f, nil
}

// Scale returns d as this process's time-outs are scaled.
func Scale(d time.Duration) time.Duration { return time.Duration(float64(d) * factor()) }
