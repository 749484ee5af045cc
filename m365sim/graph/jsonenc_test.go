package graph

import (
	"testing"
	"time"
)

// TestAppendUTC: the hand-written formatter equals AppendFormat, in and
// out of UTC, at the edges of the year range it handles itself.
func TestAppendUTC(t *testing.T) {
	est := time.FixedZone("EST", -5*3600)
	for _, tm := range []time.Time{
		time.Date(2026, 11, 25, 22, 5, 9, 123, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 0, est), // the next day in UTC
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		got := string(appendUTC([]byte("x"), tm))
		want := "x" + tm.UTC().Format("2006-01-02T15:04:05Z")
		if got != want {
			t.Errorf("appendUTC(%v) = %q, want %q", tm, got, want)
		}
	}
}
