package cputime

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

func TestSelfGrowsWithWork(t *testing.T) {
	before := Self()
	x := 0
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
		x++
	}
	if after := Self(); after <= before {
		t.Fatalf("CPU time did not grow: %v then %v (%d loops)", before, after, x)
	}
}

func TestChild(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if Child(cmd.ProcessState) < 0 || ChildPeakMB(cmd.ProcessState) < 0 {
		t.Fatal("negative figures")
	}
	if Child(nil) != 0 {
		t.Fatal("no process, no time")
	}
}
