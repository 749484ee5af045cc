package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stream builds test2json events: each step is "Test action [output]".
func stream(t *testing.T, steps ...[3]string) string {
	t.Helper()
	var b strings.Builder
	for _, s := range steps {
		js, err := json.Marshal(event{Test: s[0], Action: s[1], Output: s[2]})
		if err != nil {
			t.Fatal(err)
		}
		b.Write(js)
		b.WriteByte('\n')
	}
	return b.String()
}

const (
	cleanupLine = "    testing.go:1464: TempDir RemoveAll cleanup: unlinkat C:\\users\\me\\Temp\\TestA1\\001\\inventory.db: Invalid function.\n"
	sharingLine = "    testing.go:1464: TempDir RemoveAll cleanup: unlinkat C:\\users\\me\\Temp\\TestA1\\001\\inventory.db: Sharing violation.\n"
)

func out(test, line string) [3]string   { return [3]string{test, "output", line} }
func act(test, action string) [3]string { return [3]string{test, action, ""} }

// source is a package's test file as the messages below name it: a
// t.Logf on line 4 (and one over lines 5-6), a t.Errorf on line 7 and a
// helper's call on line 8.
const source = `package p

func TestA(t *testing.T) {
	t.Logf("%d updates", 80)
	t.Logf("%d sequences, %d pairs",
		200, 685)
	t.Errorf("want %d", 2)
	check(t, 3)
}
`

func TestVerdictTellsWineCleanupFromRealFailures(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a_test.go"), []byte(source), 0o600); err != nil {
		t.Fatal(err)
	}
	passed := []([3]string){out("TestOK", "=== RUN   TestOK\n"), out("TestOK", "--- PASS: TestOK (0.00s)\n"), act("TestOK", "pass")}
	cases := []struct {
		name     string
		steps    [][3]string
		ok       bool
		wineOnly int
		mention  string // in the report
	}{
		{"all passed", append(passed, out("", "PASS\n"), act("", "pass")), true, 0, "ok   p: 1 passed"},
		{"only the Wine cleanup line", append(passed,
			out("TestA", "=== RUN   TestA\n"), out("TestA", cleanupLine), out("TestA", "--- FAIL: TestA (0.01s)\n"), act("TestA", "fail"),
			out("", "FAIL\n"), act("", "fail")), true, 1, "known Wine limitation"},
		{"the cleanup line and a failed check", append(passed,
			out("TestA", "    store_test.go:317: interrupted run = {}\n"), out("TestA", cleanupLine), act("TestA", "fail"),
			act("", "fail")), false, 0, "store_test.go:317: interrupted run"},
		{"a cleanup that fails otherwise", append(passed,
			out("TestA", sharingLine), act("TestA", "fail"), act("", "fail")), false, 0, "Sharing violation"},
		{"the cleanup line after t.Log messages", append(passed,
			out("TestA", "    a_test.go:4: 80 updates\n"), out("TestA", "    a_test.go:6: 200 sequences, 685 pairs\n"),
			out("TestA", "        and a second line\n"), out("TestA", cleanupLine), act("TestA", "fail"), act("", "fail")), true, 1, "known Wine limitation"},
		{"the cleanup line after a t.Error", append(passed,
			out("TestA", "    a_test.go:4: 80 updates\n"), out("TestA", "    a_test.go:7: want 2\n"), out("TestA", cleanupLine),
			act("TestA", "fail"), act("", "fail")), false, 0, "a_test.go:7: want 2"},
		{"the cleanup line after a helper's message", append(passed,
			out("TestA", "    a_test.go:8: 3 is odd\n"), out("TestA", cleanupLine), act("TestA", "fail"), act("", "fail")), false, 0, "3 is odd"},
		{"the cleanup line after a message from another package", append(passed,
			out("TestA", "    testenv.go:40: no keyring\n"), out("TestA", cleanupLine), act("TestA", "fail"), act("", "fail")), false, 0, "no keyring"},
		{"t.Log messages and no cleanup line", append(passed,
			out("TestA", "    a_test.go:4: 80 updates\n"), act("TestA", "fail"), act("", "fail")), false, 0, "TestA failed"},
		{"a failure without a message", append(passed,
			out("TestA", "--- FAIL: TestA (0.00s)\n"), act("TestA", "fail"), act("", "fail")), false, 0, "TestA failed"},
		{"a parent failing through Wine-only subtests", append(passed,
			out("TestP/a", cleanupLine), act("TestP/a", "fail"), out("TestP/b", cleanupLine), act("TestP/b", "fail"),
			out("TestP", "--- FAIL: TestP (0.02s)\n"), act("TestP", "fail"), act("", "fail")), true, 3, "3 passed their checks"},
		{"a parent that printed a FIGURE line, failing through Wine-only subtests", append(passed,
			out("TestP/a", cleanupLine), act("TestP/a", "fail"), out("TestP", "FIGURE damaged: 4 kinds of damage, 4 found\n"),
			out("TestP", "--- FAIL: TestP (0.02s)\n"), act("TestP", "fail"), act("", "fail")), true, 2, "2 passed their checks"},
		{"a FIGURE line does not excuse a real failure", append(passed,
			out("TestA", "FIGURE x: 1\n"), out("TestA", "    a_test.go:7: want 2\n"), out("TestA", cleanupLine), act("TestA", "fail"),
			act("", "fail")), false, 0, "a_test.go:7: want 2"},
		{"a parent with one real subtest failure", append(passed,
			out("TestP/a", cleanupLine), act("TestP/a", "fail"), out("TestP/b", "    x_test.go:9: want 2\n"), act("TestP/b", "fail"),
			act("TestP", "fail"), act("", "fail")), false, 1, "x_test.go:9: want 2"},
		{"a panic after a t.Log, then the cleanup line", append(passed,
			out("TestA", "    a_test.go:4: 80 updates\n"), out("TestA", "panic: boom [recovered]\n"), out("TestA", "\tpanic: boom\n"),
			out("TestA", "goroutine 7 [running]:\n"), out("TestA", cleanupLine), act("TestA", "fail"), act("", "fail")), false, 0, "panic: boom"},
		{"a panic inside a test", append(passed,
			out("TestA", "panic: runtime error: index out of range\n"), act("TestA", "fail"), act("", "fail")), false, 0, "panic: runtime error"},
		{"a crash outside any test", append(passed,
			out("TestA", cleanupLine), act("TestA", "fail"), out("", "panic: test timed out after 10m0s\n"), act("", "fail")), false, 1, "panic: test timed out"},
		{"a binary that never ended", append(passed, out("TestA", "=== RUN   TestA\n")), false, 0, "never finished"},
		{"no test ran", [][3]string{out("", "testing: warning: no tests to run\n"), out("", "PASS\n"), act("", "pass")}, false, 0, "no test ran"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := judge(strings.NewReader(stream(t, c.steps...)), dir)
			if err != nil {
				t.Fatal(err)
			}
			var rep bytes.Buffer
			v.report(&rep, "p")
			if v.ok() != c.ok || len(v.wineOnly) != c.wineOnly || !strings.Contains(rep.String(), c.mention) {
				t.Errorf("ok=%v, %d Wine-only, report:\n%s\nwant ok=%v, %d Wine-only, a report mentioning %q", v.ok(), len(v.wineOnly), rep.String(), c.ok, c.wineOnly, c.mention)
			}
		})
	}
}

func TestVerdictOfNothingIsAnError(t *testing.T) {
	if _, err := judge(strings.NewReader(""), ""); err == nil {
		t.Fatal("an empty stream was judged")
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"verdict", "p"}, strings.NewReader("wine: could not load kernel32.dll\n"), &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d for a binary that never started; stdout %q stderr %q", code, stdout.String(), stderr.String())
	}
}
