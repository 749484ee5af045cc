package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// pgStatements makes --store postgres log every statement of the
// PostgreSQL runs and print, for the full import and for the incremental
// run, the statements that took the server longest in all (summed by
// statement text), instead of only the incremental run's slow ones.
// Logging each statement costs the runs a little time.
var pgStatements bool

// serverCPU is the CPU time, in seconds, the PostgreSQL server whose
// database url names has spent in its ended processes: the backends of
// a beacon that has exited (the postmaster's cutime and cstime; its own
// work is small). 0 when /proc cannot tell.
func serverCPU(url string) float64 {
	pid, err := os.ReadFile(filepath.Join(filepath.Dir(serverLog(url)), "data", "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(pid), "\n")
	stat, err := os.ReadFile(filepath.Join("/proc", strings.TrimSpace(first), "stat"))
	if err != nil {
		return 0
	}
	// The fields after the command, which is in parentheses and may hold
	// spaces: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
	_, rest, ok := strings.Cut(string(stat), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 15 {
		return 0
	}
	var ticks float64
	for _, i := range []int{11, 12, 13, 14} { // utime, stime, cutime, cstime
		n, _ := strconv.ParseFloat(f[i], 64)
		ticks += n
	}
	return ticks / 100 // USER_HZ
}

// logSize is the length of the server's log so far.
func logSize(url string) (int64, error) {
	fi, err := os.Stat(serverLog(url))
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// reDuration is a statement's logged duration and its text, on the first
// line: "duration: 1.234 ms  statement: BEGIN", or for the extended
// protocol's steps "… ms  parse|bind|execute <name>: SELECT …".
var reDuration = regexp.MustCompile(`duration: ([0-9.]+) ms  (?:statement|parse|bind|execute)(?: [^:]*)?: (.*)$`)

// reNumbers are the literals a statement's text may differ in.
var reNumbers = regexp.MustCompile(`\b[0-9]+\b`)

// printTopStatements prints the statements the server logged after from
// (bytes into its log) by their summed duration, the longest first.
func printTopStatements(url string, from int64, what string) {
	b, err := os.ReadFile(serverLog(url))
	if err != nil || int64(len(b)) < from {
		fmt.Fprintf(os.Stderr, "bench: the PostgreSQL log: %v\n", err)
		return
	}
	type sum struct {
		text        string
		ms          float64
		count       int
		first, last time.Duration // since the first statement logged
	}
	by := map[string]*sum{}
	var total float64
	var start time.Time
	for _, l := range strings.Split(string(b[from:]), "\n") {
		m := reDuration.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		ms, _ := strconv.ParseFloat(m[1], 64)
		// The default log_line_prefix starts with the time a statement
		// was logged (its end).
		at, err := time.Parse("2006-01-02 15:04:05.000", l[:min(len(l), 23)])
		if err != nil {
			continue
		}
		if start.IsZero() {
			start = at
		}
		text := reNumbers.ReplaceAllString(strings.Join(strings.Fields(m[2]), " "), "N")
		if len(text) > 110 {
			text = text[:110] + "…"
		}
		s := by[text]
		if s == nil {
			s = &sum{text: text, first: at.Sub(start)}
			by[text] = s
		}
		s.last = at.Sub(start)
		s.ms += ms
		s.count++
		total += ms
	}
	all := make([]*sum, 0, len(by))
	for _, s := range by {
		all = append(all, s)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ms > all[j].ms })
	fmt.Fprintf(os.Stderr, "bench: PostgreSQL statements of the %s by summed duration (%.2f s in all), with when the first and the last ended:\n", what, total/1000)
	for _, s := range all[:min(len(all), 12)] {
		fmt.Fprintf(os.Stderr, "   %7.2f s %6d× %5.2f–%5.2f s  %s\n", s.ms/1000, s.count, s.first.Seconds(), s.last.Seconds(), s.text)
	}
}
