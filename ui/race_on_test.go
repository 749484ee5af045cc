//go:build race

package ui

// raceEnabled: the test binary runs under the race detector.
const raceEnabled = true
