//go:build !unix

package main

import "os/exec"

// ownGroup does nothing here: the end-to-end tests run Chromium on Linux.
func ownGroup(*exec.Cmd) {}

// stop kills Chromium and waits for it.
func stop(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}
