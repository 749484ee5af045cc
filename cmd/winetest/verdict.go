package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// wineCleanup is the one failure message a Windows test may end with
// under Wine 8.0 and still count as passed (see the package comment).
var wineCleanup = regexp.MustCompile(`^\s*testing\.go:\d+: TempDir RemoveAll cleanup: unlinkat .+: Invalid function\.$`)

// framing is what the testing package prints around a test, not a
// message of the test's own.
var framing = regexp.MustCompile(`^\s*(=== (RUN|PAUSE|CONT|NAME)|--- (PASS|FAIL|SKIP): )`)

// located is the start of a message of t.Log, t.Error, t.Fatal...: its
// indentation, file and line. Lines that do not start so continue the
// message before them (a message with line breaks).
// figureLine is the project's figure convention: "FIGURE name: ...".
var figureLine = regexp.MustCompile(`^FIGURE [a-z0-9-]+: `)

var located = regexp.MustCompile(`^(\s*)([\w.-]+\.go):(\d+): `)

// logCall is a call of Log or Logf: a message printed from such a line is
// information, not a failure.
var logCall = regexp.MustCompile(`\.Logf?\(`)

// packageLines are the lines a test binary prints outside any test when
// nothing went wrong but a test's failure.
var packageLines = regexp.MustCompile(`^(PASS|FAIL|ok\s.*|FAIL\s.*|exit status \d+|testing: warning: no tests to run)$`)

// event is one line of test2json's output.
type event struct {
	Action string
	Test   string
	Output string
}

type testResult struct {
	name     string
	action   string   // pass, fail, skip
	messages []string // its own output, framing aside
}

// verdict is the judgement of one test binary's run.
type verdict struct {
	// dir is the package's folder: a message's file and line are looked up
	// there to tell a t.Log from a failure, which print alike.
	dir             string
	src             map[string][]string
	passed, skipped int
	wineOnly        []string // failed with nothing but the Wine cleanup line
	real            []*testResult
	packageOutput   []string // unexpected lines outside any test
	packageAction   string   // pass or fail, "" when the run never ended
}

func (v *verdict) ok() bool {
	if v.packageAction == "" || len(v.real) > 0 || v.noneRan() {
		return false
	}
	// A package that failed with no failing test to show for it crashed
	// outside one (TestMain, an init, a timeout).
	return v.packageAction == "pass" || len(v.wineOnly) > 0 && len(v.packageOutput) == 0
}

// noneRan: a binary whose tests all skipped, or matched none, proves
// nothing about Windows.
func (v *verdict) noneRan() bool { return v.passed+len(v.wineOnly)+len(v.real) == 0 }

// judge reads a test binary's test2json events; dir is its package's
// folder.
func judge(r io.Reader, dir string) (*verdict, error) {
	tests := map[string]*testResult{}
	var order []string
	v := &verdict{dir: dir, src: map[string][]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// test2json passes on what is not test output as is.
			v.packageOutput = append(v.packageOutput, sc.Text())
			continue
		}
		if e.Test == "" {
			switch e.Action {
			case "pass", "fail":
				v.packageAction = e.Action
			case "output":
				if l := strings.TrimRight(e.Output, "\r\n"); l != "" && !packageLines.MatchString(l) {
					v.packageOutput = append(v.packageOutput, l)
				}
			}
			continue
		}
		t := tests[e.Test]
		if t == nil {
			t = &testResult{name: e.Test}
			tests[e.Test] = t
			order = append(order, e.Test)
		}
		switch e.Action {
		case "pass", "fail", "skip":
			t.action = e.Action
		case "output":
			if l := strings.TrimRight(e.Output, "\r\n"); strings.TrimSpace(l) != "" && !framing.MatchString(l) {
				t.messages = append(t.messages, l)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(order) == 0 && v.packageAction == "" {
		return nil, errors.New("no test2json events (did the binary start?)")
	}
	for _, name := range order {
		t := tests[name]
		switch t.action {
		case "pass":
			v.passed++
		case "skip":
			v.skipped++
		case "fail":
			if v.onlyWine(t, tests) {
				v.wineOnly = append(v.wineOnly, name)
			} else {
				v.real = append(v.real, t)
			}
		default:
			// Started and never ended: the binary died inside it.
			v.real = append(v.real, t)
		}
	}
	return v, nil
}

// onlyWine reports whether a failed test's only complaint is the Wine
// cleanup line (beside its t.Log lines), or, for a test with no complaint
// of its own, whether it failed because subtests did and they all were
// Wine-only. A failure with no message at all (t.Fail) is real.
func (v *verdict) onlyWine(t *testResult, tests map[string]*testResult) bool {
	cleanup := false
	indent := -1 // of the last message that passed
	for _, m := range t.messages {
		loc := located.FindStringSubmatch(m)
		switch {
		case figureLine.MatchString(m):
			// A test's figure for RELIABILITY.md, printed to standard
			// output (scripts/soak.sh collects them): a report, not a
			// complaint.
		case loc == nil:
			// The continuation of the message before, which passed: the
			// testing package indents it further. A line that is not (a
			// panic and its stack) is a failure.
			if indent < 0 || len(m)-len(strings.TrimLeft(m, " \t")) <= indent {
				return false
			}
		case wineCleanup.MatchString(m):
			cleanup = true
			indent = len(loc[1])
		case v.isLog(m):
			indent = len(loc[1])
		default:
			return false
		}
	}
	if cleanup {
		return true
	}
	failedSubtests := 0
	for name, sub := range tests {
		if !strings.HasPrefix(name, t.name+"/") || strings.Contains(name[len(t.name)+1:], "/") || sub.action != "fail" {
			continue
		}
		if !v.onlyWine(sub, tests) {
			return false
		}
		failedSubtests++
	}
	return failedSubtests > 0
}

// isLog reports whether message m was printed by t.Log or t.Logf: the
// line it names in the package's folder calls Log (or, for a call over
// several lines, the lines before it continue such a call). A message
// from a helper of another package, or from a file not found, counts as a
// failure.
func (v *verdict) isLog(m string) bool {
	loc := located.FindStringSubmatch(m)
	if loc == nil || v.dir == "" {
		return false
	}
	lines, ok := v.src[loc[2]]
	if !ok {
		if b, err := os.ReadFile(filepath.Join(v.dir, loc[2])); err == nil {
			lines = strings.Split(string(b), "\n")
		}
		v.src[loc[2]] = lines
	}
	n, _ := strconv.Atoi(loc[3])
	for i := n - 1; i >= 0 && i < len(lines) && i > n-6; i-- {
		if logCall.MatchString(lines[i]) {
			return true
		}
		// Only the lines of one call: stop at the line that ends a
		// statement or a block before it.
		if i < n-1 {
			if l := strings.TrimSpace(lines[i]); l == "" || strings.HasSuffix(l, "}") || strings.HasSuffix(l, ")") && !strings.HasSuffix(l, "),") {
				return false
			}
		}
	}
	return false
}

func (v *verdict) report(w io.Writer, pkg string) {
	status := "ok"
	if !v.ok() {
		status = "FAIL"
	}
	fmt.Fprintf(w, "%-4s %s: %d passed, %d skipped", status, pkg, v.passed, v.skipped)
	if len(v.wineOnly) > 0 {
		fmt.Fprintf(w, ", %d passed their checks but failed Wine 8.0's temporary-folder cleanup (\"Invalid function\", a known Wine limitation)", len(v.wineOnly))
	}
	fmt.Fprintln(w)
	for _, t := range v.real {
		what := "failed"
		if t.action == "" {
			what = "never finished"
		}
		fmt.Fprintf(w, "  --- %s %s:\n", t.name, what)
		for _, m := range t.messages {
			fmt.Fprintf(w, "      %s\n", strings.TrimSpace(m))
		}
	}
	if v.packageAction == "" {
		fmt.Fprintln(w, "  the test binary never reported its end (killed, or it crashed)")
	}
	if v.noneRan() {
		fmt.Fprintln(w, "  no test ran (none matched, or all skipped)")
	}
	if !v.ok() && len(v.packageOutput) > 0 {
		fmt.Fprintln(w, "  output outside any test:")
		for _, l := range v.packageOutput[max(0, len(v.packageOutput)-40):] {
			fmt.Fprintf(w, "      %s\n", l)
		}
	}
}
