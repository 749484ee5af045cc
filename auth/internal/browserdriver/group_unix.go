//go:build unix

package main

import (
	"os/exec"
	"syscall"
	"time"
)

// ownGroup starts Chromium in a process group of its own, with its helper
// processes (zygote, renderer, network service), so stop ends them all.
func ownGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// stop ends Chromium and its helpers and waits for it. Asked first, so it
// removes its own files from the temporary folder (killed, it left an
// org.chromium.Chromium.* there every run); killed, with the whole group,
// if it has not ended in 5 s, or has helpers left: killing the main
// process alone left helpers writing into the profile being removed.
func stop(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	pgid := -cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	_ = syscall.Kill(pgid, syscall.SIGKILL)
	<-done
}
